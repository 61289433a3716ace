// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sockfarm: hold many sockets in the current network namespace, so that
 * tests can time the census against a crowded machine.
 *
 *   sockfarm [-p PORT] [-t TW] [-u UDP] N
 *
 * N TCP sockets: a listener on 127.0.0.1:PORT (default 5000) and (N-1)/2
 * loopback connections, both ends held (N-1 rounded down to even). The
 * clients bind 127.1.0.S:P explicitly (P in 20000-39999, S from 1), so no
 * ephemeral-port search slows the set-up down and no sysctl needs
 * changing. -t leaves TW more connections in TIME_WAIT (closed by the
 * client first, from 127.2.0.S), -u holds UDP bound UDP sockets.
 *
 * RLIMIT_NOFILE is raised to its hard limit, which only CAP_SYS_RESOURCE
 * could raise further (containers often lack it), so the connections are
 * held by as many child processes as that limit requires; they exit with
 * the parent. Prints "ready" on stdout when all exist, a summary on
 * stderr, then waits until stdin closes. Run it in a throwaway namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PORTS_PER_SOURCE 20000
#define FIRST_CLIENT_PORT 20000
#define BATCH 1024     /* below the accept backlog (somaxconn, 4096 by default) */
#define SPARE_FDS 64   /* stdio, the listener, pipes */

static void die(const char *what)
{
	fprintf(stderr, "sockfarm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in addr4(uint32_t host, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	a.sin_addr.s_addr = htonl(host);
	a.sin_port = htons(port);
	return a;
}

/* Connection i from base+S:P (S = 1 + i / PORTS_PER_SOURCE); returns the client fd. */
static int connect_one(const struct sockaddr_in *dst, uint32_t base, long i)
{
	struct sockaddr_in src = addr4(base + 1 + (uint32_t)(i / PORTS_PER_SOURCE),
				       (uint16_t)(FIRST_CLIENT_PORT + i % PORTS_PER_SOURCE));
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	/* A rerun in the same namespace may find its old 4-tuples in TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&src, sizeof(src)))
		die("bind client");
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)))
		die("connect");
	return fd;
}

/*
 * Open connections first..first+n-1 in batches the accept queue can hold.
 * Keep both ends, or close them client first (TIME_WAIT on the client's).
 */
static void connect_range(int lfd, const struct sockaddr_in *dst, uint32_t base, long first,
			  long n, bool keep)
{
	int fds[2 * BATCH];
	long i, j, end;

	for (i = first; i < first + n; i = end) {
		end = i + BATCH < first + n ? i + BATCH : first + n;
		for (j = i; j < end; j++)
			fds[2 * (j - i)] = connect_one(dst, base, j);
		for (j = i; j < end; j++) {
			fds[2 * (j - i) + 1] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fds[2 * (j - i) + 1] < 0)
				die("accept");
		}
		for (j = 0; !keep && j < 2 * (end - i); j++)
			close(fds[j]);
	}
}

/* Wait until fd reaches EOF (or fails). */
static void wait_eof(int fd)
{
	ssize_t got;
	char c;

	do
		got = read(fd, &c, 1);
	while (got > 0 || (got < 0 && errno == EINTR));
}

/*
 * Hold connections first..first+n-1 in a child; returns once they exist.
 * The child lives until the pipe hold reaches EOF: when the parent exits.
 */
static pid_t spawn_holder(int lfd, const struct sockaddr_in *dst, long first, long n,
			  const int hold[2])
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		connect_range(lfd, dst, 0x7f010000, first, n, true);
		close(lfd);
		if (write(ready[1], "", 1) != 1)
			die("write");
		wait_eof(hold[0]);
		_exit(0);
	}
	close(ready[1]);
	/* One holder at a time: each must accept its own connections. */
	if (read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "sockfarm: a holder failed\n");
		exit(1);
	}
	close(ready[0]);
	return pid;
}

int main(int argc, char **argv)
{
	long n = 0, tw = 0, udp = 0, conns, per, i, holders = 0;
	int port = 5000, one = 1, opt, lfd, hold[2];
	struct sockaddr_in dst;
	struct rlimit rl;

	while ((opt = getopt(argc, argv, "p:t:u:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 't': tw = atol(optarg); break;
		case 'u': udp = atol(optarg); break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || (n = atol(argv[optind])) < 1 || tw < 0 || udp < 0 ||
	    port < 1 || port > 65535)
		goto usage;
	conns = (n - 1) / 2;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit");
	if (rl.rlim_max < 2 * BATCH + SPARE_FDS || (rlim_t)udp + SPARE_FDS > rl.rlim_max) {
		fprintf(stderr, "sockfarm: RLIMIT_NOFILE hard limit %lu is too low\n",
			(unsigned long)rl.rlim_max);
		return 1;
	}
	per = (long)(rl.rlim_max - SPARE_FDS) / 2;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	dst = addr4(0x7f000001, (uint16_t)port);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&dst, sizeof(dst)) || listen(lfd, 4096))
		die("listener");
	if (pipe(hold))
		die("pipe");

	connect_range(lfd, &dst, 0x7f020000, 0, tw, false);
	for (i = 0; i < conns; i += per, holders++)
		spawn_holder(lfd, &dst, i, conns - i < per ? conns - i : per, hold);
	close(hold[0]);
	for (i = 0; i < udp; i++) {
		struct sockaddr_in a = addr4(0x7f000001, 0);
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
			die("udp");
	}
	printf("ready\n");
	fflush(stdout);
	fprintf(stderr, "sockfarm: %ld TCP sockets (1 listener, %ld connections in %ld processes), "
		"%ld TIME_WAIT, %ld UDP\n", 1 + 2 * conns, conns, holders, tw, udp);
	wait_eof(0);
	close(hold[1]); /* the holders see EOF and exit */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
usage:
	fprintf(stderr, "usage: sockfarm [-p PORT] [-t TIME_WAIT] [-u UDP] N\n");
	return 2;
}
