// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * portload: paced socket load that drains an ephemeral-port pool, for the
 * ephemeral-exhaustion integration tests. Every mode prints JSON lines on
 * stdout, each with "ts" (CLOCK_REALTIME seconds, so a test can compare it
 * with portwatch's own timestamps) and "pid" (the process that owns the
 * sockets, which portwatch must name).
 *
 *   portload serve ADDR PORT [MAX_SECONDS]
 *       TCP listener. Each accepted connection is read until EOF and only
 *       then closed, so the client always closes first and it is the client
 *       that holds TIME_WAIT. {"event":"listening"} once ready; runs until
 *       stdin reaches EOF, a signal, or MAX_SECONDS (default 900).
 *   portload churn ADDR PORT RATE MAX_SECONDS [COUNT]
 *       RATE connect()+close() per second from unbound sockets, the client
 *       closing first. Stops at the first failure, after MAX_SECONDS, or after
 *       COUNT connections. {"event":"start"}, then {"event":"fail","errno":..,
 *       "n":successes before it} or {"event":"done","n":..}.
 *   portload [--exact] hold ADDR PORT RATE COUNT
 *       COUNT connections at RATE per second, kept open; then one more
 *       attempt (unless --exact), which is expected to fail. Prints "start",
 *       "fail" or "done" as churn does, then {"event":"holding","n":open}
 *       and keeps every socket until stdin reaches EOF (or HOLD_MAX_SECONDS),
 *       then closes them all and prints {"event":"released"}.
 *   portload [--exact] bind0 ADDR RATE COUNT
 *       As hold, with TCP sockets bound to ADDR port 0 and nothing else
 *       (the bind pool; exhausted -> EADDRINUSE).
 *   portload [--exact] udp ADDR PORT RATE COUNT
 *       As hold, with unbound UDP sockets that each send one datagram to
 *       ADDR:PORT, so the kernel autobinds them (the UDP pool; exhausted ->
 *       EAGAIN).
 *
 * A failed call is reported with "errno" = its name and "result" = -errno,
 * the way portwatch reports it. The exit status is 0 whether or not the pool
 * ran dry (that is the point); 2 on a usage error, 1 when the program itself
 * cannot run (socket() failing, no memory).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Upper bounds so that no loop can run away if the test harness dies. */
#define MAX_COUNT 60000
#define MAX_RATE 100000
#define HOLD_MAX_SECONDS 900
#define SERVE_DEFAULT_SECONDS 900

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
};

static int parse_addr(const char *host, long port, struct addr *a)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
	int ret = -1;

	memset(a, 0, sizeof(*a));
	if (port < 0 || port > 65535)
		return -1;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		a->len = sizeof(*in4);
		a->family = AF_INET;
		ret = 0;
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*in6);
		a->family = AF_INET6;
		ret = 0;
	}
	return ret;
}

/* A whole decimal number in [min, max], or -1. */
static long parse_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	return v;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Sleep until an absolute CLOCK_MONOTONIC time. Absolute deadlines keep the
 * long-run rate exact: time spent in connect() does not accumulate as drift.
 */
static void sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000ull),
		.tv_nsec = (long)(deadline_ns % 1000000000ull),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static const char *errno_name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "UNKNOWN";
}

static void emit_event(const char *event, const char *mode)
{
	printf("{\"event\":\"%s\",\"mode\":\"%s\",\"ts\":%.6f,\"pid\":%d}\n", event, mode, wall_now(),
	       getpid());
	fflush(stdout);
}

/* "n" counts the sockets that succeeded (or are held) at that point. */
static void emit_count(const char *event, const char *mode, long n)
{
	printf("{\"event\":\"%s\",\"mode\":\"%s\",\"ts\":%.6f,\"pid\":%d,\"n\":%ld}\n", event, mode,
	       wall_now(), getpid(), n);
	fflush(stdout);
}

/* The timestamp is taken by the caller right after the failing call returned. */
static void emit_fail(const char *mode, double ts, int err, long n)
{
	printf("{\"event\":\"fail\",\"mode\":\"%s\",\"ts\":%.6f,\"pid\":%d,\"errno\":\"%s\","
	       "\"result\":%d,\"n\":%ld}\n",
	       mode, ts, getpid(), errno_name(err), -err, n);
	fflush(stdout);
}

/*
 * Holding 200+ sockets (and the server's accepted ones) may pass the usual
 * soft limit of 1024 on a larger run: take the hard limit.
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Block until stdin reaches EOF (the test closed its pipe) or max_s passes.
 * Reading, not just polling, so that stray input cannot spin the loop.
 */
static void wait_stdin_eof(int max_s)
{
	uint64_t end = mono_ns() + (uint64_t)max_s * 1000000000ull;
	char buf[256];

	for (uint64_t now = mono_ns(); now < end; now = mono_ns()) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		int ms = (int)((end - now) / 1000000ull) + 1;

		if (poll(&p, 1, ms) < 0 && errno != EINTR)
			break;
		if (p.revents && read(0, buf, sizeof(buf)) <= 0)
			break;
	}
}

/* ---- serve ---------------------------------------------------------------- */

static int serve(const struct addr *a, int max_s)
{
	uint64_t end = mono_ns() + (uint64_t)max_s * 1000000000ull;
	struct epoll_event ev = { .events = EPOLLIN };
	bool stop = false;
	int lfd, ep, rc = 1;

	lfd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0)
		return 1;
	/* The tests restart servers on the same port in fresh namespaces only,
	 * but a crashed run must not block the next one. */
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (bind(lfd, (const struct sockaddr *)&a->ss, a->len) || listen(lfd, 4096)) {
		emit_fail("serve", wall_now(), errno, 0);
		goto out_close;
	}
	ep = epoll_create1(0);
	if (ep < 0)
		goto out_close;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.fd = 0;
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev); /* stdin: EOF means stop */
	emit_event("listening", "serve");

	while (!stop && mono_ns() < end) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 200);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			char buf[512];

			if (fd == 0) {
				stop = read(0, buf, sizeof(buf)) <= 0;
			} else if (fd == lfd) {
				/* Drain the accept queue; each child is watched for EOF. */
				for (int c; (c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0;) {
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
			} else {
				ssize_t r = read(fd, buf, sizeof(buf));

				/* EOF (or reset): the peer closed first; now we do. */
				if (r == 0 || (r < 0 && errno != EAGAIN))
					close(fd); /* also leaves the epoll set */
			}
		}
	}
	rc = 0;
	close(ep);
out_close:
	close(lfd);
	return rc;
}

/* ---- churn ---------------------------------------------------------------- */

static int churn(const struct addr *a, long rate, double max_s, long count)
{
	uint64_t start = mono_ns(), limit = (uint64_t)(max_s * 1e9);
	long n = 0;

	emit_event("start", "churn");
	for (long i = 0; i < count; i++) {
		uint64_t due = (uint64_t)i * 1000000000ull / (uint64_t)rate;
		int fd, err = 0;

		if (due >= limit)
			break;
		sleep_until(start + due);
		fd = socket(a->family, SOCK_STREAM, 0);
		if (fd < 0)
			return 1;
		if (connect(fd, (const struct sockaddr *)&a->ss, a->len))
			err = errno;
		double ts = wall_now();

		/* The client closes first, so the client side keeps TIME_WAIT. */
		close(fd);
		if (err) {
			emit_fail("churn", ts, err, n);
			return 0;
		}
		n++;
	}
	emit_count("done", "churn", n);
	return 0;
}

/* ---- hold, bind0, udp ----------------------------------------------------- */

enum hold_kind { HOLD_CONNECT, HOLD_BIND0, HOLD_UDP };

/* One socket of the given kind, or -errno of the call that failed. */
static int open_one(enum hold_kind kind, const struct addr *a)
{
	int type = kind == HOLD_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int fd = socket(a->family, type, 0), r = 0;

	if (fd < 0)
		return -errno;
	if (kind == HOLD_CONNECT)
		r = connect(fd, (const struct sockaddr *)&a->ss, a->len);
	else if (kind == HOLD_BIND0)
		r = bind(fd, (const struct sockaddr *)&a->ss, a->len); /* port 0 in a */
	else
		r = sendto(fd, "x", 1, 0, (const struct sockaddr *)&a->ss, a->len) == 1 ? 0 : -1;
	if (r) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/*
 * Open count sockets at rate per second (plus one probe attempt unless
 * exact), stopping at the first failure; hold them until stdin reaches EOF.
 */
static int hold(enum hold_kind kind, const char *mode, const struct addr *a, long rate, long count,
		bool exact)
{
	long attempts = exact ? count : count + 1, n = 0;
	int *fds = calloc((size_t)attempts, sizeof(int));
	uint64_t start = mono_ns();
	bool failed = false;

	if (!fds)
		return 1;
	emit_event("start", mode);
	for (long i = 0; i < attempts; i++) {
		sleep_until(start + (uint64_t)i * 1000000000ull / (uint64_t)rate);
		int fd = open_one(kind, a);
		double ts = wall_now();

		if (fd < 0) {
			emit_fail(mode, ts, -fd, n);
			failed = true;
			break;
		}
		fds[n++] = fd;
	}
	if (!failed)
		emit_count("done", mode, n);
	emit_count("holding", mode, n);
	wait_stdin_eof(HOLD_MAX_SECONDS);
	for (long i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	emit_count("released", mode, n);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: portload serve ADDR PORT [MAX_SECONDS]\n"
			"       portload churn ADDR PORT RATE MAX_SECONDS [COUNT]\n"
			"       portload [--exact] hold ADDR PORT RATE COUNT\n"
			"       portload [--exact] bind0 ADDR RATE COUNT\n"
			"       portload [--exact] udp ADDR PORT RATE COUNT\n");
	return 2;
}

int main(int argc, char **argv)
{
	bool exact = false;
	struct addr a;
	int i = 1;

	if (argc > 1 && strcmp(argv[1], "--exact") == 0) {
		exact = true;
		i++;
	}
	int nargs = argc - i - 1;
	const char *mode = i < argc ? argv[i] : "";
	char **p = argv + i + 1;

	raise_nofile();
	if (strcmp(mode, "serve") == 0 && (nargs == 2 || nargs == 3)) {
		long max_s = nargs == 3 ? parse_num(p[2], 1, INT_MAX / 2) : SERVE_DEFAULT_SECONDS;

		if (max_s < 0 || parse_addr(p[0], parse_num(p[1], 1, 65535), &a))
			return usage();
		return serve(&a, (int)max_s);
	}
	if (strcmp(mode, "churn") == 0 && (nargs == 4 || nargs == 5)) {
		long rate = parse_num(p[2], 1, MAX_RATE);
		long count = nargs == 5 ? parse_num(p[4], 0, MAX_COUNT) : MAX_COUNT;
		char *end;
		double max_s = strtod(p[3], &end);

		if (rate < 0 || count < 0 || *end || end == p[3] || !(max_s > 0 && max_s < 86400) ||
		    parse_addr(p[0], parse_num(p[1], 1, 65535), &a))
			return usage();
		return churn(&a, rate, max_s, count);
	}
	if (strcmp(mode, "hold") == 0 && nargs == 4) {
		long rate = parse_num(p[2], 1, MAX_RATE), count = parse_num(p[3], 0, MAX_COUNT);

		if (rate < 0 || count < 0 || parse_addr(p[0], parse_num(p[1], 1, 65535), &a))
			return usage();
		return hold(HOLD_CONNECT, mode, &a, rate, count, exact);
	}
	if (strcmp(mode, "bind0") == 0 && nargs == 3) {
		long rate = parse_num(p[1], 1, MAX_RATE), count = parse_num(p[2], 0, MAX_COUNT);

		if (rate < 0 || count < 0 || parse_addr(p[0], 0, &a))
			return usage();
		return hold(HOLD_BIND0, mode, &a, rate, count, exact);
	}
	if (strcmp(mode, "udp") == 0 && nargs == 4) {
		long rate = parse_num(p[2], 1, MAX_RATE), count = parse_num(p[3], 0, MAX_COUNT);

		if (rate < 0 || count < 0 || parse_addr(p[0], parse_num(p[1], 1, 65535), &a))
			return usage();
		return hold(HOLD_UDP, mode, &a, rate, count, exact);
	}
	return usage();
}
