// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * replay: how many ring-buffer records per second portwatch's userspace
 * sustains on one core, without the kernel: synthetic struct pw_event
 * records shaped like a loopback connect storm go through the same pure
 * modules a live session uses (user/decode.c, filter.c, model.c, pools.c,
 * render.c, json.c), linked from the bench build's objects.
 *
 *   built by tools/bench/run-bench.sh against the objects in build-bench/user/
 *   replay [--seconds S] [--cpu N]
 *
 * Paths (one TSV line each on stdout: path, records, cpu_s, records_per_s,
 * ns_per_record):
 *   decode      pw_decode_event only
 *   watch       what `portwatch watch` does per record: decode, the filter,
 *               the port model and the ephemeral pools (pw_pools_tick once a
 *               simulated second, as the session does once a real second);
 *               on the stream watch gets (no closes of accepted sockets: the
 *               kernel drops those for watch, PW_KIND_ACCEPTED_CLOSE)
 *   trace_json  what `portwatch trace -j > file` does: decode, the filter,
 *               the JSON renderer and one fputs per line to /dev/null
 *               (fully buffered, as stdout redirected to a file is)
 *
 * The stream, per connection (100k connections per simulated second, one
 * client and one server process, 4 listener ports, ephemeral ports walking
 * 32768-60999, one connection in 4 over IPv6 loopback):
 *   connect (client), accept (server), close of the client (every other one
 *   leaves TIME_WAIT, the rest are abortive closes), close of the accepted
 *   socket (trace only); every 8th connection also a bind(port 0) and its
 *   close, every 64th an autobind of a UDP socket and its close.
 * Every loop is bounded: each path runs for --seconds of CPU time (default
 * 2) and at most 1e9 records.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/types.h>

#include "decode.h"
#include "filter.h"
#include "json.h"
#include "model.h"
#include "netns.h"
#include "pools.h"
#include "render.h"

#define NETNS 4026531840u /* the initial namespace's usual inode number */
#define CONN_PER_S 100000
#define STREAM_CONNS 65536 /* connections per generated stream; it is replayed in passes */

struct stream {
	struct pw_event *rec;
	size_t n, cap;
};

static void push(struct stream *s, const struct pw_event *e)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->rec = realloc(s->rec, s->cap * sizeof(*s->rec));
		if (!s->rec) {
			perror("replay: realloc");
			exit(1);
		}
	}
	s->rec[s->n++] = *e;
}

static void set_addr(struct pw_event *e, __u8 *dst, int v6)
{
	memset(dst, 0, PW_ADDR_LEN);
	if (v6) {
		dst[15] = 1; /* ::1 */
	} else {
		dst[0] = 127;
		dst[3] = 1;
	}
	e->family = v6 ? PW_AF_INET6 : PW_AF_INET;
}

/* One record with the fields every kind shares. */
static struct pw_event base(int kind, int proto, int v6, __u32 pid, const char *comm, __u64 ts)
{
	struct pw_event e;

	memset(&e, 0, sizeof(e));
	e.rec_type = PW_REC_EVENT;
	e.kind = (__u8)kind;
	e.proto = (__u8)proto;
	e.pid = e.tid = pid;
	e.uid = 0;
	e.netns = NETNS;
	e.ts_ns = ts;
	e.cgroup_id = 1;
	memcpy(e.comm, comm, strnlen(comm, PW_COMM_LEN)); /* not NUL-terminated when 16 long */
	set_addr(&e, e.laddr, v6);
	set_addr(&e, e.raddr, v6);
	return e;
}

/* The stream of STREAM_CONNS connections; with_accepted_close: trace's. */
static void generate(struct stream *s, int with_accepted_close)
{
	__u16 eph = 32768;
	__u64 ts = 1000000000ULL, ino = 1000;
	int i;

	for (i = 0; i < STREAM_CONNS; i++) {
		int v6 = (i % 4) == 3;
		__u16 lport = (__u16)(8080 + i % 4);
		struct pw_event e;

		ts += 1000000000ULL / CONN_PER_S;
		if (++eph > 60999)
			eph = 32768;
		e = base(PW_EV_CONNECT, PW_PROTO_TCP, v6, 4001, "connstorm", ts);
		e.lport = eph;
		e.rport = lport;
		e.sock_ino = ++ino;
		push(s, &e);
		e = base(PW_EV_ACCEPT, PW_PROTO_TCP, v6, 4002, "server", ts + 20000);
		e.lport = lport;
		e.rport = eph;
		e.backlog = 128;
		e.sock_ino = ++ino;
		push(s, &e);
		e = base(PW_EV_CLOSE, PW_PROTO_TCP, v6, 4001, "connstorm", ts + 40000);
		e.lport = eph;
		e.rport = lport;
		e.flags = (i & 1) ? PW_F_TIME_WAIT : 0;
		e.lifetime_ns = 40000;
		e.sock_ino = ino - 1;
		push(s, &e);
		if (with_accepted_close) {
			e = base(PW_EV_CLOSE, PW_PROTO_TCP, v6, 4002, "server", ts + 45000);
			e.lport = lport;
			e.rport = eph;
			e.flags = PW_F_ACCEPTED;
			e.lifetime_ns = 25000;
			e.sock_ino = ino;
			push(s, &e);
		}
		if (i % 8 == 0) {
			if (++eph > 60999)
				eph = 32768;
			e = base(PW_EV_BIND, PW_PROTO_TCP, 0, 4003, "binder", ts + 50000);
			memset(e.raddr, 0, PW_ADDR_LEN);
			memcpy(e.req_addr, e.laddr, PW_ADDR_LEN);
			e.lport = eph;
			e.sock_ino = ++ino;
			push(s, &e);
			e = base(PW_EV_CLOSE, PW_PROTO_TCP, 0, 4003, "binder", ts + 60000);
			memset(e.raddr, 0, PW_ADDR_LEN);
			e.lport = eph;
			e.lifetime_ns = 10000;
			e.sock_ino = ino;
			push(s, &e);
		}
		if (i % 64 == 0) {
			if (++eph > 60999)
				eph = 32768;
			e = base(PW_EV_BIND, PW_PROTO_UDP, 0, 4004, "resolver", ts + 70000);
			memset(e.raddr, 0, PW_ADDR_LEN);
			memset(e.laddr, 0, PW_ADDR_LEN);
			e.flags = PW_F_AUTOBIND;
			e.lport = eph;
			e.sock_ino = ++ino;
			push(s, &e);
			e = base(PW_EV_CLOSE, PW_PROTO_UDP, 0, 4004, "resolver", ts + 80000);
			memset(e.raddr, 0, PW_ADDR_LEN);
			memset(e.laddr, 0, PW_ADDR_LEN);
			e.lport = eph;
			e.sock_ino = ino;
			push(s, &e);
		}
	}
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum path { P_DECODE, P_WATCH, P_TRACE_JSON };
static const char *const path_names[] = { "decode", "watch", "trace_json" };

static volatile unsigned long sink; /* keeps decode-only work from being optimised away */

/* Replays s through path for about seconds of CPU; prints the TSV line. */
static int run(enum path path, struct stream *s, double seconds)
{
	const __u64 span = (__u64)STREAM_CONNS * (1000000000ULL / CONN_PER_S) + 1000000ULL;
	struct pw_filter filter = { 0 };
	struct pw_port_range range = { .lo = 32768, .hi = 60999 };
	struct pw_model *model = NULL;
	struct pw_pools *pools = NULL;
	struct json_writer *jw = NULL;
	struct pw_pool_failure fail;
	struct pw_ev ev;
	FILE *out = NULL;
	unsigned long records = 0;
	__u64 shift = 0, total = 0, next_tick = 0;
	double t0, t1;
	int64_t off = pw_clock_offset_ns();
	size_t i;

	if (path == P_WATCH) {
		model = pw_model_new(NULL, NULL, NULL, off);
		pools = pw_pools_new();
		if (!model || !pools)
			return -ENOMEM;
		pw_pools_set_range(pools, NETNS, &range);
		next_tick = s->rec[0].ts_ns + 1000000000ULL;
	} else if (path == P_TRACE_JSON) {
		jw = jw_new();
		out = fopen("/dev/null", "w");
		if (!jw || !out)
			return -ENOMEM;
	}
	t0 = cpu_now();
	t1 = t0;
	while (t1 - t0 < seconds && records < 1000000000UL) {
		for (i = 0; i < s->n; i++) {
			/* Each pass continues the timeline where the last one ended. */
			s->rec[i].ts_ns += shift;
			if (pw_decode_event(&s->rec[i], sizeof(s->rec[i]), off, &ev))
				return -EINVAL;
			switch (path) {
			case P_DECODE:
				sink += ev.local_port;
				break;
			case P_WATCH:
				if (!pw_filter_match(&filter, &ev))
					break;
				pw_model_event(model, &ev);
				pw_pools_event(pools, &ev, &fail);
				if (ev.mono_ns >= next_tick) {
					pw_pools_tick(pools, ev.mono_ns, NULL, NULL);
					next_tick += 1000000000ULL;
				}
				break;
			case P_TRACE_JSON:
				if (!pw_filter_match(&filter, &ev))
					break;
				pw_render_json(jw, &ev);
				jw_flush_line(jw, out);
				break;
			}
		}
		records += s->n;
		total += shift;
		shift = span;
		t1 = cpu_now();
	}
	printf("%s\t%lu\t%.3f\t%.0f\t%.1f\n", path_names[path], records, t1 - t0, records / (t1 - t0),
	       (t1 - t0) * 1e9 / records);
	/* Put the timeline back for the next path. */
	for (i = 0; i < s->n; i++)
		s->rec[i].ts_ns -= total;
	pw_model_free(model);
	pw_pools_free(pools);
	jw_free(jw);
	if (out)
		fclose(out);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "cpu", required_argument, NULL, 'c' },
		{},
	};
	struct stream trace = { 0 }, watch = { 0 };
	double seconds = 2;
	int cpu = -1, c;

	while ((c = getopt_long(argc, argv, "s:c:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			seconds = atof(optarg);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		default:
			fprintf(stderr, "Usage: %s [--seconds S] [--cpu N]\n", argv[0]);
			return 2;
		}
	}
	if (!(seconds > 0 && seconds <= 60)) {
		fprintf(stderr, "replay: --seconds must be in (0, 60]\n");
		return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			perror("replay: sched_setaffinity");
	}
	generate(&trace, 1);
	generate(&watch, 0);
	printf("path\trecords\tcpu_s\trecords_per_s\tns_per_record\n");
	if (run(P_DECODE, &trace, seconds) || run(P_WATCH, &watch, seconds) ||
	    run(P_TRACE_JSON, &trace, seconds)) {
		fprintf(stderr, "replay: a path failed\n");
		return 1;
	}
	free(trace.rec);
	free(watch.rec);
	return 0;
}
