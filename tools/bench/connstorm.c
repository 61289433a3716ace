// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * connstorm: loopback load generator for measuring what a hook costs.
 *
 *   cc -O2 -pthread -Wall -Wextra -Werror -o connstorm connstorm.c
 *   connstorm [--workers K] [--seconds S] [--count N] [--mode connect|bind0|udp|getuid]
 *             [--port P] [--pin]
 *
 * Prints one JSON line on stdout:
 *   {"workers":K,"seconds":S,"connections":N,"conn_per_s":R,"mode":"connect","errors":E,
 *    "cpu_util":U,"cpu_s":C}
 * "seconds" is the measured length of the window, "connections" the number of
 * completed operations in it (a connection, a bind or a datagram, depending on
 * --mode), "errors" the failed operations (there should be none), "cpu_util"
 * the CPU time the process got in the window divided by what min(K, nproc)
 * fully busy threads would get (well below 1: another task took the CPUs),
 * "cpu_s" that CPU time in seconds.
 *
 * Modes (every address is 127.0.0.1; nothing leaves the loopback device):
 *   connect  socket, setsockopt(SO_LINGER), connect to the worker's own listener,
 *            accept4, close client, close server: 6 syscalls, 2 sockets, the
 *            handshake and one RST per operation.
 *   bind0    socket, bind(127.0.0.1:0), close: one ephemeral port from the bind
 *            pool per operation.
 *   udp      socket(UDP), sendto(127.0.0.1:port) from the unbound socket (the
 *            kernel autobinds it: the UDP pool), close; the worker drains its
 *            own receiver socket after each datagram so none is dropped.
 *            --port P sends to P instead (nothing is drained then).
 *   getuid   no network at all: one getuid() system call per operation, the
 *            cheapest syscall there is. Measures what a hook costs *every*
 *            syscall of every process (the syscall-tracing slow path, a
 *            generic raw_tp/sys_enter program), not only the traced ones.
 *
 * Design choice, one private listener per worker, accepted by the worker
 * itself: the worker connects, then calls accept4() on its own listener. On
 * loopback a blocking connect() returns once the handshake is done (the SYN,
 * SYN-ACK and ACK are processed in softirq on the connecting CPU), so the
 * child is already in the accept queue and accept4() does not sleep. There is
 * no cross-thread wake-up at all: with 2 cores, a separate listener thread per
 * worker (4 runnable threads) or one shared accept loop would make the rate
 * depend mostly on scheduler wake-up latency and on which CPU the threads
 * land, which is noise for a hook benchmark. A private listener per worker
 * also avoids contention on one accept queue / listener lock. Every
 * connection still takes the full path the hooks see: socket, connect
 * (SYN_SENT -> ESTABLISHED), passive open (SYN_RECV -> ESTABLISHED), accept4,
 * close of both ends.
 *
 * No TIME_WAIT: the side that closes first (the active closer) keeps a
 * timewait socket for 60 s, which would hold the 4-tuple (client side: the
 * ephemeral port) and, at tens of thousands of connections per second,
 * exhaust the ephemeral range (28232 ports by default) or the timewait bucket
 * table within seconds, making the later runs differ from the first. The
 * client sets SO_LINGER {on, 0} and is closed first: an abortive close sends
 * an RST and takes the socket straight to CLOSE without TIME_WAIT; the server
 * socket receives the RST and goes to CLOSE too, so its close() sends nothing
 * and leaves nothing. The ephemeral port is free again at once.
 *
 * Every loop is bounded: by --seconds (a time window, default 3 s), or by
 * --count (then --seconds, default 60 s with --count, is a safety limit).
 * accept4() has a 2 s SO_RCVTIMEO so a lost connection cannot hang a worker.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum mode { MODE_CONNECT, MODE_BIND0, MODE_UDP, MODE_GETUID };

static const char *const mode_names[] = { "connect", "bind0", "udp", "getuid" };

struct worker {
	pthread_t thread;
	int id;
	int lfd; /* connect: listener; udp: receiver; bind0: unused (-1) */
	struct sockaddr_in dst;
	uint64_t quota; /* 0 = unbounded (time window only) */
	_Atomic uint64_t done;
	_Atomic uint64_t errors;
	int first_errno;
	const char *first_err_op;
};

static enum mode g_mode = MODE_CONNECT;
static atomic_bool g_stop;
static atomic_int g_started;
static atomic_bool g_go; /* the window opens: workers start together */
static bool g_pin;
static int g_ncpus = 1;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time (user + system, all threads) used by this process so far. */
static double cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void usage(FILE *f, const char *argv0)
{
	fprintf(f,
		"Usage: %s [--workers K] [--seconds S] [--count N] [--mode connect|bind0|udp|getuid]\n"
		"          [--port P] [--pin]\n"
		"  --workers K   worker threads (default 2)\n"
		"  --seconds S   length of the run (default 3; with --count: time limit, default 60)\n"
		"  --count N     stop after N operations in total (split across workers)\n"
		"  --mode M      connect (default), bind0, udp or getuid (no network)\n"
		"  --port P      udp mode: send to 127.0.0.1:P instead of the worker's own receiver\n"
		"  --pin         pin worker i to CPU i %% nproc\n",
		argv0);
}

static void note_error(struct worker *w, const char *op, int err)
{
	if (atomic_fetch_add_explicit(&w->errors, 1, memory_order_relaxed) == 0) {
		w->first_errno = err;
		w->first_err_op = op;
	}
}

static bool quota_reached(const struct worker *w, uint64_t n)
{
	return w->quota && n >= w->quota;
}

static void run_connect(struct worker *w)
{
	const struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	uint64_t n = 0;

	while (!atomic_load_explicit(&g_stop, memory_order_relaxed) && !quota_reached(w, n)) {
		int c, s;

		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0) {
			note_error(w, "socket", errno);
			continue;
		}
		if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
			note_error(w, "setsockopt", errno);
		if (connect(c, (const struct sockaddr *)&w->dst, sizeof(w->dst)) != 0) {
			note_error(w, "connect", errno);
			close(c);
			continue;
		}
		s = accept4(w->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0) {
			note_error(w, "accept4", errno);
			close(c);
			continue;
		}
		close(c); /* abortive (linger 0): RST, no TIME_WAIT on either side */
		close(s);
		atomic_store_explicit(&w->done, ++n, memory_order_relaxed);
	}
}

static void run_bind0(struct worker *w)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	uint64_t n = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while (!atomic_load_explicit(&g_stop, memory_order_relaxed) && !quota_reached(w, n)) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			note_error(w, "socket", errno);
			continue;
		}
		if (bind(fd, (const struct sockaddr *)&a, sizeof(a)) != 0) {
			note_error(w, "bind", errno);
			close(fd);
			continue;
		}
		close(fd); /* never connected: the port is released at once */
		atomic_store_explicit(&w->done, ++n, memory_order_relaxed);
	}
}

static void run_udp(struct worker *w)
{
	static const char payload[] = "connstorm";
	char buf[64];
	uint64_t n = 0;

	while (!atomic_load_explicit(&g_stop, memory_order_relaxed) && !quota_reached(w, n)) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			note_error(w, "socket", errno);
			continue;
		}
		if (sendto(fd, payload, sizeof(payload), 0, (const struct sockaddr *)&w->dst,
			   sizeof(w->dst)) < 0) {
			note_error(w, "sendto", errno);
			close(fd);
			continue;
		}
		close(fd);
		/* Loopback delivery is synchronous: the datagram is queued already. */
		if (w->lfd >= 0 && recv(w->lfd, buf, sizeof(buf), MSG_DONTWAIT) < 0)
			note_error(w, "recv", errno);
		atomic_store_explicit(&w->done, ++n, memory_order_relaxed);
	}
}

static void run_getuid(struct worker *w)
{
	uint64_t n = 0;

	while (!atomic_load_explicit(&g_stop, memory_order_relaxed) && !quota_reached(w, n)) {
		syscall(SYS_getuid); /* a real system call every time, whatever libc does */
		atomic_store_explicit(&w->done, ++n, memory_order_relaxed);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (g_pin) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->id % g_ncpus, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
			note_error(w, "setaffinity", EINVAL);
	}
	atomic_fetch_add(&g_started, 1);
	while (!atomic_load(&g_go) && !atomic_load(&g_stop))
		sched_yield();
	switch (g_mode) {
	case MODE_CONNECT:
		run_connect(w);
		break;
	case MODE_BIND0:
		run_bind0(w);
		break;
	case MODE_UDP:
		run_udp(w);
		break;
	case MODE_GETUID:
		run_getuid(w);
		break;
	}
	return NULL;
}

/* Creates the worker's own endpoint on 127.0.0.1, port chosen by the kernel. */
static int setup_endpoint(struct worker *w, int udp_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	const struct timeval tmo = { .tv_sec = 2 };
	int type = g_mode == MODE_UDP ? SOCK_DGRAM : SOCK_STREAM;

	w->lfd = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	w->dst = a;
	if (g_mode == MODE_BIND0 || g_mode == MODE_GETUID)
		return 0;
	if (g_mode == MODE_UDP && udp_port) {
		w->dst.sin_port = htons(udp_port);
		return 0;
	}
	w->lfd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (w->lfd < 0)
		return -errno;
	if (setsockopt(w->lfd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) != 0 ||
	    bind(w->lfd, (const struct sockaddr *)&a, sizeof(a)) != 0 ||
	    (type == SOCK_STREAM && listen(w->lfd, 128) != 0) ||
	    getsockname(w->lfd, (struct sockaddr *)&w->dst, &alen) != 0)
		return -errno;
	return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workers", required_argument, NULL, 'w' },
		{ "seconds", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },
		{ "pin", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t workers = 2, count = 0, port = 0, v, total = 0, errors = 0;
	double seconds = 3, t0, t1, deadline, c0, c1 = 0, util;
	bool seconds_set = false;
	struct worker *ws;
	int c, ret = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "w:s:n:m:p:Ph", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (parse_u64(optarg, 1024, &workers) || !workers)
				goto bad;
			break;
		case 's':
			errno = 0;
			seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(seconds > 0) || seconds > 3600)
				goto bad;
			seconds_set = true;
			break;
		case 'n':
			if (parse_u64(optarg, UINT64_MAX / 2, &count) || !count)
				goto bad;
			break;
		case 'm':
			for (v = 0; v < sizeof(mode_names) / sizeof(mode_names[0]); v++)
				if (!strcmp(optarg, mode_names[v]))
					break;
			if (v == sizeof(mode_names) / sizeof(mode_names[0]))
				goto bad;
			g_mode = (enum mode)v;
			break;
		case 'p':
			if (parse_u64(optarg, 65535, &port) || !port)
				goto bad;
			break;
		case 'P':
			g_pin = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	if (count && !seconds_set)
		seconds = 60;
	g_ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (g_ncpus < 1)
		g_ncpus = 1;

	ws = calloc(workers, sizeof(*ws));
	if (!ws) {
		perror("connstorm: calloc");
		return 1;
	}
	for (v = 0; v < workers; v++) {
		ws[v].id = (int)v;
		ws[v].lfd = -1;
		if (count)
			ws[v].quota = count / workers + (v < count % workers);
		ret = setup_endpoint(&ws[v], (int)port);
		if (ret) {
			fprintf(stderr, "connstorm: listener setup: %s\n", strerror(-ret));
			return 1;
		}
	}
	for (v = 0; v < workers; v++) {
		ret = pthread_create(&ws[v].thread, NULL, worker_main, &ws[v]);
		if (ret) {
			fprintf(stderr, "connstorm: pthread_create: %s\n", strerror(ret));
			atomic_store(&g_stop, true);
			workers = v;
			ret = 1;
			break;
		}
	}
	/* The window starts when every worker runs (bounded: 5 s). */
	deadline = now_s() + 5;
	while (!ret && (uint64_t)atomic_load(&g_started) < workers && now_s() < deadline)
		usleep(1000);
	c0 = cpu_s();
	t0 = now_s();
	atomic_store(&g_go, true);
	t1 = t0;
	if (!ret) {
		/* Sleep in short steps so that --count runs end soon after the last worker. */
		const double step = count ? 0.0005 : 0.01;

		deadline = t0 + seconds;
		for (;;) {
			double left = deadline - now_s();
			uint64_t sum = 0;

			if (count) {
				for (v = 0; v < workers; v++)
					sum += atomic_load_explicit(&ws[v].done, memory_order_relaxed);
				if (sum >= count)
					break;
			}
			if (left <= 0)
				break;
			usleep(left > step ? (useconds_t)(step * 1e6) : (useconds_t)(left * 1e6) + 1);
		}
		/* Read the counters at the end of the window, then stop the workers. */
		for (v = 0; v < workers; v++)
			total += atomic_load_explicit(&ws[v].done, memory_order_relaxed);
		t1 = now_s();
		c1 = cpu_s();
	}
	atomic_store(&g_stop, true);
	for (v = 0; v < workers; v++) {
		pthread_join(ws[v].thread, NULL);
		errors += atomic_load(&ws[v].errors);
		if (ws[v].first_err_op && errors)
			fprintf(stderr, "connstorm: worker %d: first error: %s: %s\n", ws[v].id,
				ws[v].first_err_op, strerror(ws[v].first_errno));
		if (ws[v].lfd >= 0)
			close(ws[v].lfd);
	}
	if (ret)
		return 1;
	/*
	 * cpu_util: CPU time the workers got in the window, as a fraction of what
	 * min(workers, CPUs) busy threads could get. Well below 1: something
	 * else (another process, a tracer's consumer thread) took CPU from them.
	 */
	util = (t1 - t0) * (workers < (uint64_t)g_ncpus ? workers : (uint64_t)g_ncpus);
	util = util > 0 ? (c1 - c0) / util : 0;
	printf("{\"workers\":%llu,\"seconds\":%.3f,\"connections\":%llu,\"conn_per_s\":%.1f,"
	       "\"mode\":\"%s\",\"errors\":%llu,\"cpu_util\":%.3f,\"cpu_s\":%.3f}\n",
	       (unsigned long long)workers, t1 - t0, (unsigned long long)total,
	       t1 > t0 ? total / (t1 - t0) : 0.0, mode_names[g_mode], (unsigned long long)errors,
	       util, c1 - c0);
	free(ws);
	return errors ? 1 : 0;
bad:
	usage(stderr, argv[0]);
	return 2;
}
