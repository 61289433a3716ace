// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sockprobe: one socket operation per run, reported as one JSON line on
 * stdout, so that integration tests can compare what a program did with
 * what portwatch saw.
 *
 *   sockprobe [--comm NAME] bind    tcp|udp ADDR PORT [hold]
 *   sockprobe [--comm NAME] listen  ADDR PORT|- [hold]   (- : no bind first)
 *   sockprobe [--comm NAME] connect tcp|udp ADDR PORT [nonblock] [hold]
 *   sockprobe [--comm NAME] accept  ADDR PORT            (one connection)
 *
 * Output: {"pid":..,"op":"..","result":0 or -errno,"port":local port,
 * "peer_port":..}. "hold" keeps the socket open until stdin reaches EOF,
 * after printing. --comm sets the task name (PR_SET_NAME) first; \xNN in
 * NAME stands for a byte, so tests can use hostile names.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
};

static int parse_addr(const char *host, const char *port, struct addr *a)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
	int p = atoi(port);

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((unsigned short)p);
		a->len = sizeof(*in4);
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)p);
		a->len = sizeof(*in6);
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void report(const char *op, int result, int port, int peer_port)
{
	printf("{\"pid\":%d,\"op\":\"%s\",\"result\":%d,\"port\":%d,\"peer_port\":%d}\n", getpid(), op,
	       result, port, peer_port);
	fflush(stdout);
}

static void hold(int argc, char **argv, int from)
{
	char buf[64];

	for (int i = from; i < argc; i++)
		if (strcmp(argv[i], "hold") == 0)
			while (read(0, buf, sizeof(buf)) > 0)
				;
}

static bool has_word(int argc, char **argv, int from, const char *w)
{
	for (int i = from; i < argc; i++)
		if (strcmp(argv[i], w) == 0)
			return true;
	return false;
}

/* "\x1b" in a --comm argument stands for that byte. */
static void set_comm(const char *spec)
{
	char name[32];
	size_t o = 0;

	for (size_t i = 0; spec[i] && o < sizeof(name) - 1; i++) {
		if (spec[i] == '\\' && spec[i + 1] == 'x' && spec[i + 2] && spec[i + 3]) {
			char hex[3] = { spec[i + 2], spec[i + 3], 0 };
			name[o++] = (char)strtol(hex, NULL, 16);
			i += 3;
		} else {
			name[o++] = spec[i];
		}
	}
	name[o] = '\0';
	prctl(PR_SET_NAME, name, 0, 0, 0);
}

static int usage(void)
{
	fprintf(stderr, "usage: sockprobe [--comm NAME] bind|listen|connect|accept ...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct addr a;
	int fd, c, ret, type, argi = 1;

	if (argc > 2 && strcmp(argv[1], "--comm") == 0) {
		set_comm(argv[2]);
		argi = 3;
	}
	if (argc - argi < 3)
		return usage();
	const char *op = argv[argi];

	if (strcmp(op, "bind") == 0 || strcmp(op, "connect") == 0) {
		if (argc - argi < 4 || parse_addr(argv[argi + 2], argv[argi + 3], &a))
			return usage();
		type = strcmp(argv[argi + 1], "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
		fd = socket(a.family, type, 0);
		if (fd < 0)
			return 1;
		if (op[0] == 'b') {
			ret = bind(fd, (struct sockaddr *)&a.ss, a.len) ? -errno : 0;
			report(op, ret, local_port(fd), 0);
		} else {
			if (has_word(argc, argv, argi + 4, "nonblock"))
				fcntl(fd, F_SETFL, O_NONBLOCK);
			ret = connect(fd, (struct sockaddr *)&a.ss, a.len) ? -errno : 0;
			if (ret == -EINPROGRESS) {
				/* Wait for the outcome so the test knows it. */
				struct pollfd p = { .fd = fd, .events = POLLOUT };
				int err = 0;
				socklen_t len = sizeof(err);

				poll(&p, 1, 5000);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
				ret = -err;
			}
			report(op, ret, local_port(fd), atoi(argv[argi + 3]));
		}
		hold(argc, argv, argi + 4);
		close(fd);
		return 0;
	}
	if (strcmp(op, "listen") == 0 || strcmp(op, "accept") == 0) {
		const char *port = argv[argi + 2];

		if (parse_addr(argv[argi + 1], strcmp(port, "-") ? port : "0", &a))
			return usage();
		fd = socket(a.family, SOCK_STREAM, 0);
		if (fd < 0)
			return 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
		ret = 0;
		if (strcmp(port, "-") && bind(fd, (struct sockaddr *)&a.ss, a.len))
			ret = -errno;
		if (!ret && listen(fd, 7))
			ret = -errno;
		report(op, ret, local_port(fd), 0);
		if (!ret && op[0] == 'a') {
			struct sockaddr_storage peer;
			socklen_t len = sizeof(peer);

			c = accept(fd, (struct sockaddr *)&peer, &len);
			if (c < 0) {
				report("accepted", -errno, 0, 0);
			} else {
				int pp = ntohs(peer.ss_family == AF_INET ?
						       ((struct sockaddr_in *)&peer)->sin_port :
						       ((struct sockaddr_in6 *)&peer)->sin6_port);
				report("accepted", 0, local_port(c), pp);
				close(c);
			}
		}
		hold(argc, argv, argi + 3);
		close(fd);
		return 0;
	}
	return usage();
}
