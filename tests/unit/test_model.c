// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/model.c, the per-port model: census passes (which
 * sockets are ports, owners, addresses, states), exposure and baseline
 * alerts, trace events, the kernel's cumulative counters, listen-queue
 * drops, distinct sources, and snapshots (sorting, filtering, marking).
 * No kernel: every input is a hand-built record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline.h"
#include "model.h"

#define NS1 4026531840u
#define NS2 4026532001u
#define NS3 4026532002u

/* 2026-11-22T10:00:00.123456789Z */
#define WALL_NS 1795341600123456789ull
#define CLOCK_OFFSET 1700000000000000000ll

/* Pids above the kernel's PID_MAX_LIMIT: no /proc entry, empty cmdline. */
#define PID(n) (5000000u + (n))

/* ---- helpers ------------------------------------------------------------ */

#define MAX_CAUGHT 128

struct caught {
	int n;
	struct pw_alert a[MAX_CAUGHT];
};

static void on_alert(void *ctx, const struct pw_alert *a)
{
	struct caught *c = ctx;

	assert_true(c->n < MAX_CAUGHT);
	c->a[c->n++] = *a;
}

/* How many caught alerts of type are about netns/port. */
static int count_alerts(const struct caught *c, const char *type, uint32_t netns, uint16_t port)
{
	int i, n = 0;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->a[i].type, type) == 0 && c->a[i].netns == netns && c->a[i].port == port)
			n++;
	return n;
}

static const struct pw_alert *find_alert(const struct caught *c, const char *type, uint32_t netns,
					 uint16_t port)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->a[i].type, type) == 0 && c->a[i].netns == netns && c->a[i].port == port)
			return &c->a[i];
	fail_msg("no %s alert for port %u in netns %u", type, port, netns);
	return NULL;
}

/* One socket of the census; addr is text in the socket's family. */
static struct pw_sock mksock(int proto, int family, int state, const char *addr, uint16_t lport,
			     uint16_t rport, uint32_t pid, const char *comm, uint64_t ino)
{
	struct pw_sock s;

	memset(&s, 0, sizeof(s));
	s.rec_type = PW_REC_SOCK;
	s.proto = (uint8_t)proto;
	s.family = (uint8_t)family;
	s.state = (uint8_t)state;
	s.lport = lport;
	s.rport = rport;
	s.pid = pid;
	s.uid = 1000;
	s.netns = NS1;
	s.fd = 3;
	s.sock_ino = ino;
	s.cgroup_id = 77;
	assert_int_equal(inet_pton(family == PW_AF_INET ? AF_INET : AF_INET6, addr, s.laddr), 1);
	if (rport)
		assert_int_equal(inet_pton(family == PW_AF_INET ? AF_INET : AF_INET6,
					   family == PW_AF_INET ? "192.0.2.200" : "2001:db8::200", s.raddr),
				 1);
	memcpy(s.comm, comm, strnlen(comm, sizeof(s.comm)));
	return s;
}

/* A TCP listener on an IPv4 address. */
static struct pw_sock listener4(const char *addr, uint16_t port, uint32_t pid, const char *comm,
				uint64_t ino)
{
	return mksock(PW_PROTO_TCP, PW_AF_INET, PW_TCP_LISTEN, addr, port, 0, pid, comm, ino);
}

static struct pw_sock in_ns(struct pw_sock s, uint32_t netns)
{
	s.netns = netns;
	return s;
}

static struct pw_sock with_drops(struct pw_sock s, uint32_t drops)
{
	s.drops = drops;
	return s;
}

static void census(struct pw_model *m, const struct pw_sock *socks, int n)
{
	int i;

	pw_model_census_begin(m);
	for (i = 0; i < n; i++)
		pw_model_census_sock(m, &socks[i]);
	pw_model_census_end(m);
}

static struct pw_ev mkev(int kind, uint16_t port, int32_t result, uint32_t pid, const char *comm,
			 const char *addr)
{
	struct pw_ev ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = (uint8_t)kind;
	ev.proto = PW_PROTO_TCP;
	ev.family = strchr(addr, ':') ? 6 : 4;
	ev.wall_ns = WALL_NS;
	ev.owner_known = true;
	ev.pid = pid;
	ev.tid = pid;
	ev.uid = 1000;
	ev.netns = NS1;
	ev.cgroup_id = 77;
	snprintf(ev.comm, sizeof(ev.comm), "%s", comm);
	snprintf(ev.local_addr, sizeof(ev.local_addr), "%s", addr);
	ev.local_port = port;
	ev.req_port = port;
	ev.result = result;
	return ev;
}

static void stats(struct pw_model *m, uint32_t netns, uint16_t port, int proto,
		  const struct pw_port_stats *s)
{
	struct pw_port_key k = { .netns = netns, .port = port, .proto = (uint8_t)proto };

	pw_model_port_stats(m, &k, s);
}

static void source(struct pw_model *m, uint32_t netns, uint16_t port, int proto, const char *raddr)
{
	struct pw_flow_key k;

	memset(&k, 0, sizeof(k));
	k.netns = netns;
	k.lport = port;
	k.proto = (uint8_t)proto;
	k.family = PW_AF_INET;
	assert_int_equal(inet_pton(AF_INET, "203.0.113.1", k.laddr), 1);
	assert_int_equal(inet_pton(AF_INET, raddr, k.raddr), 1);
	pw_model_source(m, &k);
}

/* The whole model, sorted by port. Caller frees. */
static int snap(struct pw_model *m, struct pw_port_view **v)
{
	int n = pw_model_snapshot(m, NULL, PW_SORT_PORT, false, v);

	assert_true(n >= 0);
	return n;
}

/* The view of netns/proto/port in a fresh snapshot, copied; fails if absent. */
static struct pw_port_view view_of(struct pw_model *m, uint32_t netns, int proto, uint16_t port)
{
	struct pw_port_view *v, out;
	int n = snap(m, &v), i;

	for (i = 0; i < n; i++) {
		if (v[i].netns == netns && v[i].proto == proto && v[i].port == port) {
			out = v[i];
			free(v);
			return out;
		}
	}
	free(v);
	fail_msg("port %u/%d not in netns %u", port, proto, netns);
	memset(&out, 0, sizeof(out));
	return out;
}

static bool has_port(struct pw_model *m, uint32_t netns, int proto, uint16_t port)
{
	struct pw_port_view *v;
	int n = snap(m, &v), i;
	bool found = false;

	for (i = 0; i < n; i++)
		if (v[i].netns == netns && v[i].proto == proto && v[i].port == port)
			found = true;
	free(v);
	return found;
}

static int n_ports(struct pw_model *m)
{
	struct pw_port_view *v;
	int n = snap(m, &v);

	free(v);
	return n;
}

static void assert_counters_zero(const struct pw_port_counters *c)
{
	static const struct pw_port_counters zero;

	assert_memory_equal(c, &zero, sizeof(zero));
}

/* Ports of a snapshot, in order, as a "p1 p2 ..." string. */
static void ports_of(struct pw_model *m, const struct pw_view_filter *f, enum pw_sort sort, bool mark,
		     char *out, size_t len)
{
	struct pw_port_view *v;
	int n = pw_model_snapshot(m, f, sort, mark, &v), i;
	size_t used = 0;

	assert_true(n >= 0);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%u", i ? " " : "", v[i].port);
	free(v);
}

/*
 * Everything a test allocates is kept here and freed by free_kept(), so that
 * a failed assertion (which leaves the test at once) leaks nothing.
 */
#define MAX_KEPT 64

static void *kept[MAX_KEPT];
static int n_kept;
static struct pw_model *kept_models[4];
static int n_models;
static struct pw_baseline *kept_baselines[4];
static int n_baselines;

static void *keep(void *p)
{
	assert_true(n_kept < MAX_KEPT);
	kept[n_kept++] = p;
	return p;
}

static struct pw_model *new_model(const struct pw_baseline *b, pw_alert_fn fn, void *ctx,
				  int64_t clock_offset)
{
	struct pw_model *m = pw_model_new(b, fn, ctx, clock_offset);

	assert_non_null(m);
	assert_true(n_models < 4);
	kept_models[n_models++] = m;
	return m;
}

static struct pw_baseline *new_baseline(const char *text, char *err, size_t errlen)
{
	struct pw_baseline *b = pw_baseline_parse(text, "test", err, errlen);

	assert_non_null(b);
	assert_true(n_baselines < 4);
	kept_baselines[n_baselines++] = b;
	return b;
}

static int free_kept(void **state)
{
	(void)state;
	while (n_kept > 0)
		free(kept[--n_kept]);
	while (n_models > 0)
		pw_model_free(kept_models[--n_models]);
	while (n_baselines > 0)
		pw_baseline_free(kept_baselines[--n_baselines]);
	return 0;
}

static int snapshot_kept(struct pw_model *m, const struct pw_view_filter *f, enum pw_sort sort, bool mark,
			 struct pw_port_view **out)
{
	int n = pw_model_snapshot(m, f, sort, mark, out);

	assert_true(n >= 0);
	keep(*out);
	return n;
}

static int snap_kept(struct pw_model *m, struct pw_port_view **v)
{
	return snapshot_kept(m, NULL, PW_SORT_PORT, false, v);
}

/* ---- census --------------------------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pw_port_state_name(PW_PORT_CLOSED), "closed");
	assert_string_equal(pw_port_state_name(PW_PORT_BOUND), "bound");
	assert_string_equal(pw_port_state_name(PW_PORT_LISTENING), "listening");
	assert_string_equal(pw_port_state_name((enum pw_port_state)3), "?");
	assert_string_equal(pw_sort_name(PW_SORT_ACTIVITY), "activity");
	assert_string_equal(pw_sort_name(PW_SORT_PORT), "port");
	assert_string_equal(pw_sort_name(PW_SORT_SYN), "syn");
	assert_string_equal(pw_sort_name(PW_SORT_PROBES), "probes");
	assert_string_equal(pw_sort_name(PW_SORT_SOURCES), "sources");
	assert_string_equal(pw_sort_name(PW_SORT__MAX), "?");
}

static void test_empty_model(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	struct pw_port_view *v = NULL;
	struct pw_alert a[4];
	uint32_t ns[4];

	(void)state;
	assert_non_null(m);
	assert_int_equal(snapshot_kept(m, NULL, PW_SORT_ACTIVITY, true, &v), 0);
	assert_non_null(v);
	assert_int_equal(pw_model_recent(m, a, 4), 0);
	assert_int_equal(pw_model_netns_list(m, ns, 4), 0);
	census(m, NULL, 0);
	assert_int_equal(n_ports(m), 0);
	pw_model_free(NULL);
}

static void test_census_which_sockets_are_ports(void **state)
{
	struct caught c = { 0 };
	struct pw_model *m = new_model(NULL, on_alert, &c, 0);
	const struct pw_sock socks[] = {
		/* A TCP listener on every IPv4 address. */
		listener4("0.0.0.0", 8080, PID(1), "nginx", 1001),
		/* Bound, not listening (state CLOSE with a local port). */
		mksock(PW_PROTO_TCP, PW_AF_INET, PW_TCP_CLOSE, "127.0.0.1", 47001, 0, PID(2), "binder", 1002),
		/* An unconnected UDP socket. */
		mksock(PW_PROTO_UDP, PW_AF_INET, 7, "0.0.0.0", 47002, 0, PID(3), "dnsd", 1003),
		/* A connected TCP client: its ephemeral port is no port. */
		mksock(PW_PROTO_TCP, PW_AF_INET, PW_TCP_ESTABLISHED, "10.0.0.1", 47003, 443, PID(4), "curl",
		       1004),
		/* A connected UDP socket: not a port either. */
		mksock(PW_PROTO_UDP, PW_AF_INET, 1, "10.0.0.1", 47004, 53, PID(5), "resolver", 1005),
		/* A TCP socket that was never bound: no local port. */
		mksock(PW_PROTO_TCP, PW_AF_INET, PW_TCP_CLOSE, "0.0.0.0", 0, 0, PID(6), "idle", 1006),
		/* An IPv6 listener bound to a v4-mapped address: shown as IPv4. */
		mksock(PW_PROTO_TCP, PW_AF_INET6, PW_TCP_LISTEN, "::ffff:10.0.0.5", 8443, 0, PID(7), "java",
		       1007),
		/* A plain IPv6 listener. */
		mksock(PW_PROTO_TCP, PW_AF_INET6, PW_TCP_LISTEN, "2001:db8::1", 47005, 0, PID(8), "v6d", 1008),
	};
	struct pw_port_view *v;
	uint32_t ns[4];
	int n, i;

	(void)state;
	census(m, socks, (int)(sizeof(socks) / sizeof(socks[0])));
	n = snap_kept(m, &v);
	assert_int_equal(n, 5);

	assert_int_equal(v[0].port, 8080);
	assert_int_equal(v[0].proto, PW_PROTO_TCP);
	assert_int_equal(v[0].netns, NS1);
	assert_int_equal(v[0].state, PW_PORT_LISTENING);
	assert_string_equal(pw_port_state_name(v[0].state), "listening");
	assert_int_equal(v[0].n_owners, 1);
	assert_int_equal(v[0].owners[0].pid, PID(1));
	assert_int_equal(v[0].owners[0].uid, 1000);
	assert_int_equal(v[0].owners[0].cgroup_id, 77);
	assert_string_equal(v[0].owners[0].comm, "nginx");
	assert_string_equal(v[0].owners[0].cmdline, "");
	assert_int_equal(v[0].n_addrs, 1);
	assert_string_equal(v[0].addrs[0], "0.0.0.0");
	assert_string_equal(v[0].service, "http-alt");
	assert_int_equal(v[0].flags, PW_PF_WILDCARD); /* 8080 is not sensitive; no baseline */

	assert_int_equal(v[1].port, 8443);
	assert_int_equal(v[1].state, PW_PORT_LISTENING);
	assert_int_equal(v[1].n_owners, 1);
	assert_int_equal(v[1].owners[0].pid, PID(7));
	assert_string_equal(v[1].owners[0].comm, "java");
	assert_int_equal(v[1].n_addrs, 1);
	assert_string_equal(v[1].addrs[0], "10.0.0.5");
	assert_string_equal(v[1].service, "https-alt");
	assert_int_equal(v[1].flags, 0);

	assert_int_equal(v[2].port, 47001);
	assert_int_equal(v[2].proto, PW_PROTO_TCP);
	assert_int_equal(v[2].state, PW_PORT_BOUND);
	assert_string_equal(pw_port_state_name(v[2].state), "bound");
	assert_int_equal(v[2].n_owners, 1);
	assert_int_equal(v[2].owners[0].pid, PID(2));
	assert_string_equal(v[2].owners[0].comm, "binder");
	assert_int_equal(v[2].n_addrs, 1);
	assert_string_equal(v[2].addrs[0], "127.0.0.1");
	assert_null(v[2].service);
	assert_int_equal(v[2].flags, PW_PF_LOOPBACK);

	assert_int_equal(v[3].port, 47002);
	assert_int_equal(v[3].proto, PW_PROTO_UDP);
	assert_int_equal(v[3].state, PW_PORT_BOUND);
	assert_int_equal(v[3].n_owners, 1);
	assert_int_equal(v[3].owners[0].pid, PID(3));
	assert_string_equal(v[3].owners[0].comm, "dnsd");
	assert_int_equal(v[3].n_addrs, 1);
	assert_string_equal(v[3].addrs[0], "0.0.0.0");
	assert_int_equal(v[3].flags, PW_PF_WILDCARD);

	assert_int_equal(v[4].port, 47005);
	assert_int_equal(v[4].state, PW_PORT_LISTENING);
	assert_int_equal(v[4].n_owners, 1);
	assert_int_equal(v[4].owners[0].pid, PID(8));
	assert_string_equal(v[4].owners[0].comm, "v6d");
	assert_int_equal(v[4].n_addrs, 1);
	assert_string_equal(v[4].addrs[0], "2001:db8::1");
	assert_int_equal(v[4].flags, 0);

	for (i = 0; i < n; i++) {
		assert_counters_zero(&v[i].c);
		assert_int_equal(v[i].sources, 0);
		assert_int_equal(v[i].activity, 0);
		assert_true(v[i].first_wall_ns > 0);
		assert_true(v[i].last_wall_ns >= v[i].first_wall_ns);
	}
	/* Nothing here is sensitive and there is no baseline. */
	assert_int_equal(c.n, 0);
	assert_int_equal(pw_model_netns_list(m, ns, 4), 1);
	assert_int_equal(ns[0], NS1);
}

static void test_census_owners_and_addresses(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	struct pw_sock self = listener4("0.0.0.0", 47010, (uint32_t)getpid(), "test_model", 2001);
	const struct pw_sock pass1[] = {
		self,
		/* The same socket in a forked worker. */
		listener4("0.0.0.0", 47010, PID(11), "worker", 2001),
		/* A second socket of the first process: IPv6 wildcard. */
		mksock(PW_PROTO_TCP, PW_AF_INET6, PW_TCP_LISTEN, "::", 47010, 0, (uint32_t)getpid(),
		       "test_model", 2002),
		/* The same fd seen twice (threads): one owner, one address. */
		listener4("0.0.0.0", 47010, PID(11), "worker", 2001),
	};
	const struct pw_sock pass2[] = {
		/* Only the worker now, and it stopped listening. */
		mksock(PW_PROTO_TCP, PW_AF_INET, PW_TCP_CLOSE, "192.0.2.7", 47010, 0, PID(11), "worker", 2003),
	};
	const struct pw_sock pass3[] = {
		/* A bound socket first, a listener second: the port is listening. */
		mksock(PW_PROTO_TCP, PW_AF_INET, PW_TCP_CLOSE, "192.0.2.7", 47010, 0, PID(11), "worker", 2003),
		listener4("192.0.2.8", 47010, PID(12), "server", 2004),
	};
	struct pw_port_view v;

	(void)state;
	census(m, pass1, 4);
	v = view_of(m, NS1, PW_PROTO_TCP, 47010);
	assert_int_equal(v.state, PW_PORT_LISTENING);
	assert_int_equal(v.n_owners, 2);
	assert_int_equal(v.owners[0].pid, (uint32_t)getpid());
	assert_string_equal(v.owners[0].comm, "test_model");
	/* Read from /proc/PID/cmdline: argv joined with spaces. */
	assert_non_null(strstr(v.owners[0].cmdline, "test_model"));
	assert_int_equal(v.owners[1].pid, PID(11));
	assert_string_equal(v.owners[1].comm, "worker");
	assert_int_equal(v.n_addrs, 2);
	assert_string_equal(v.addrs[0], "0.0.0.0");
	assert_string_equal(v.addrs[1], "::");
	assert_int_equal(v.flags, PW_PF_WILDCARD);
	assert_int_equal(n_ports(m), 1);

	/* The next pass replaces owners, addresses and state. */
	census(m, pass2, 1);
	v = view_of(m, NS1, PW_PROTO_TCP, 47010);
	assert_int_equal(v.state, PW_PORT_BOUND);
	assert_int_equal(v.n_owners, 1);
	assert_int_equal(v.owners[0].pid, PID(11));
	assert_string_equal(v.owners[0].comm, "worker");
	assert_int_equal(v.n_addrs, 1);
	assert_string_equal(v.addrs[0], "192.0.2.7");
	assert_int_equal(v.flags, 0);

	census(m, pass3, 2);
	v = view_of(m, NS1, PW_PROTO_TCP, 47010);
	assert_int_equal(v.state, PW_PORT_LISTENING);
	assert_int_equal(v.n_owners, 2);
	assert_int_equal(v.owners[0].pid, PID(11));
	assert_int_equal(v.owners[1].pid, PID(12));
	assert_string_equal(v.owners[1].comm, "server");
	assert_int_equal(v.n_addrs, 2);
	assert_string_equal(v.addrs[0], "192.0.2.7");
	assert_string_equal(v.addrs[1], "192.0.2.8");
}

static void test_census_same_port_other_proto_and_netns(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	const struct pw_sock socks[] = {
		listener4("0.0.0.0", 47015, PID(1), "a", 1),
		mksock(PW_PROTO_UDP, PW_AF_INET, 7, "0.0.0.0", 47015, 0, PID(2), "b", 2),
		in_ns(listener4("0.0.0.0", 47015, PID(3), "c", 3), NS2),
	};
	struct pw_port_view *v;

	(void)state;
	census(m, socks, 3);
	assert_int_equal(snap_kept(m, &v), 3);
	/* Same port: TCP before UDP, then the lower namespace first. */
	assert_int_equal(v[0].proto, PW_PROTO_TCP);
	assert_int_equal(v[0].netns, NS1);
	assert_string_equal(v[0].owners[0].comm, "a");
	assert_int_equal(v[1].proto, PW_PROTO_TCP);
	assert_int_equal(v[1].netns, NS2);
	assert_string_equal(v[1].owners[0].comm, "c");
	assert_int_equal(v[2].proto, PW_PROTO_UDP);
	assert_int_equal(v[2].netns, NS1);
	assert_string_equal(v[2].owners[0].comm, "b");
	assert_int_equal(v[2].state, PW_PORT_BOUND);
}

/* ---- exposure --------------------------------------------------------------- */

static void test_exposure_alerts(void **state)
{
	struct caught c = { 0 };
	struct pw_model *m = new_model(NULL, on_alert, &c, 0);
	const struct pw_sock socks[] = {
		listener4("0.0.0.0", 6379, PID(20), "redis-server", 3001),
		in_ns(listener4("127.0.0.1", 6379, PID(21), "redis-server", 3002), NS2),
		mksock(PW_PROTO_TCP, PW_AF_INET6, PW_TCP_LISTEN, "::", 5432, 0, PID(22), "postgres", 3003),
		/* Sensitive, on a wildcard, but only bound: not a listener. */
		mksock(PW_PROTO_TCP, PW_AF_INET, PW_TCP_CLOSE, "0.0.0.0", 3306, 0, PID(23), "mysqld", 3004),
	};
	const struct pw_alert *a;
	struct pw_alert recent[8];
	struct pw_port_view v;

	(void)state;
	census(m, socks, 4);
	assert_int_equal(c.n, 2);
	assert_int_equal(count_alerts(&c, "exposed_listener", NS1, 6379), 1);
	assert_int_equal(count_alerts(&c, "exposed_listener", NS1, 5432), 1);

	a = find_alert(&c, "exposed_listener", NS1, 6379);
	assert_string_equal(a->severity, "warning");
	assert_int_equal(a->proto, PW_PROTO_TCP);
	assert_string_equal(a->addr, "0.0.0.0");
	assert_string_equal(a->service, "redis");
	assert_int_equal(a->who.pid, PID(20));
	assert_string_equal(a->who.comm, "redis-server");
	assert_int_equal(a->holder.pid, 0);
	assert_true(a->wall_ns > 0);

	a = find_alert(&c, "exposed_listener", NS1, 5432);
	assert_string_equal(a->severity, "warning");
	assert_string_equal(a->addr, "::");
	assert_string_equal(a->service, "postgresql");
	assert_int_equal(a->who.pid, PID(22));
	assert_string_equal(a->who.comm, "postgres");

	v = view_of(m, NS1, PW_PROTO_TCP, 6379);
	assert_int_equal(v.flags, PW_PF_EXPOSED | PW_PF_WILDCARD);
	v = view_of(m, NS2, PW_PROTO_TCP, 6379);
	assert_int_equal(v.flags, PW_PF_LOOPBACK);
	v = view_of(m, NS1, PW_PROTO_TCP, 5432);
	assert_int_equal(v.flags, PW_PF_EXPOSED | PW_PF_WILDCARD);
	v = view_of(m, NS1, PW_PROTO_TCP, 3306);
	assert_int_equal(v.flags, PW_PF_WILDCARD);

	/* The same sockets again: nothing new. */
	census(m, socks, 4);
	assert_int_equal(c.n, 2);
	/* The alerts are also kept. */
	assert_int_equal(pw_model_recent(m, recent, 8), 2);

	/* Redis goes away, then comes back: a new listening spell, a new alert. */
	census(m, socks + 1, 3);
	assert_false(has_port(m, NS1, PW_PROTO_TCP, 6379));
	assert_int_equal(c.n, 2);
	census(m, socks, 4);
	assert_int_equal(c.n, 3);
	assert_int_equal(count_alerts(&c, "exposed_listener", NS1, 6379), 2);
	assert_int_equal(count_alerts(&c, "exposed_listener", NS1, 5432), 1);
}

static void test_exposure_close_and_listen_events(void **state)
{
	struct caught c = { 0 };
	struct pw_model *m = new_model(NULL, on_alert, &c, 0);
	const struct pw_sock socks[] = { listener4("0.0.0.0", 6379, PID(20), "redis-server", 3001) };
	struct pw_ev ev;
	struct pw_port_view v;

	(void)state;
	census(m, socks, 1);
	assert_int_equal(c.n, 1);

	/* A close of a non-listening socket changes nothing. */
	ev = mkev(PW_EV_CLOSE, 6379, 0, PID(20), "redis-server", "0.0.0.0");
	pw_model_event(m, &ev);
	v = view_of(m, NS1, PW_PROTO_TCP, 6379);
	assert_int_equal(v.state, PW_PORT_LISTENING);
	assert_int_equal(v.n_owners, 1);

	/* The listener closes: the port is closed at once. */
	ev.listener = true;
	pw_model_event(m, &ev);
	v = view_of(m, NS1, PW_PROTO_TCP, 6379);
	assert_int_equal(v.state, PW_PORT_CLOSED);
	assert_string_equal(pw_port_state_name(v.state), "closed");
	assert_int_equal(v.n_owners, 0);
	assert_int_equal(v.n_addrs, 0);
	assert_int_equal(v.flags, 0);

	/* It listens again: a new spell, alerted right away. */
	ev = mkev(PW_EV_LISTEN, 6379, 0, PID(24), "redis-server", "0.0.0.0");
	pw_model_event(m, &ev);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.a[1].type, "exposed_listener");
	assert_int_equal(c.a[1].who.pid, PID(24));
	assert_string_equal(c.a[1].addr, "0.0.0.0");
	v = view_of(m, NS1, PW_PROTO_TCP, 6379);
	assert_int_equal(v.state, PW_PORT_LISTENING);
	assert_int_equal(v.flags, PW_PF_EXPOSED | PW_PF_WILDCARD);
}

/* ---- baseline ----------------------------------------------------------------- */

static void test_baseline_alerts(void **state)
{
	char err[128] = "";
	struct pw_baseline *b = new_baseline("tcp 22 sshd\n", err, sizeof(err));
	struct caught c = { 0 };
	struct pw_model *m;
	const struct pw_sock socks[] = {
		listener4("0.0.0.0", 22, PID(30), "sshd", 4001),
		in_ns(listener4("0.0.0.0", 22, PID(31), "evil", 4002), NS2),
		/* An approved and an unapproved process on one port: name the latter. */
		in_ns(listener4("0.0.0.0", 22, PID(32), "sshd", 4003), NS3),
		in_ns(listener4("0.0.0.0", 22, PID(33), "evil", 4004), NS3),
		listener4("192.0.2.1", 4444, PID(34), "nc", 4005),
		/* Not in the baseline but not listening. */
		mksock(PW_PROTO_TCP, PW_AF_INET, PW_TCP_CLOSE, "0.0.0.0", 4445, 0, PID(35), "nc", 4006),
	};
	const struct pw_alert *a;
	struct pw_port_view v;

	(void)state;
	assert_non_null(b);
	m = new_model(b, on_alert, &c, 0);
	assert_non_null(m);
	census(m, socks, 6);
	assert_int_equal(c.n, 3);
	assert_int_equal(count_alerts(&c, "new_listener", NS1, 22), 0);

	a = find_alert(&c, "new_listener", NS2, 22);
	assert_string_equal(a->severity, "warning");
	assert_int_equal(a->proto, PW_PROTO_TCP);
	assert_int_equal(a->who.pid, PID(31));
	assert_string_equal(a->who.comm, "evil");
	assert_string_equal(a->addr, "0.0.0.0");
	assert_string_equal(a->service, "ssh");

	a = find_alert(&c, "new_listener", NS3, 22);
	assert_int_equal(a->who.pid, PID(33));
	assert_string_equal(a->who.comm, "evil");

	a = find_alert(&c, "new_listener", NS1, 4444);
	assert_int_equal(a->who.pid, PID(34));
	assert_string_equal(a->who.comm, "nc");
	assert_string_equal(a->addr, "192.0.2.1");

	v = view_of(m, NS1, PW_PROTO_TCP, 22);
	assert_int_equal(v.flags, PW_PF_WILDCARD);
	v = view_of(m, NS2, PW_PROTO_TCP, 22);
	assert_int_equal(v.flags, PW_PF_WILDCARD | PW_PF_NEW);
	v = view_of(m, NS1, PW_PROTO_TCP, 4444);
	assert_int_equal(v.flags, PW_PF_NEW);
	v = view_of(m, NS1, PW_PROTO_TCP, 4445);
	assert_int_equal(v.flags, PW_PF_WILDCARD);

	/* Again: no repeat. */
	census(m, socks, 6);
	assert_int_equal(c.n, 3);
}

static void test_baseline_listen_event(void **state)
{
	char err[128] = "";
	struct pw_baseline *b = new_baseline("tcp 22 sshd\n", err, sizeof(err));
	struct caught c = { 0 };
	struct pw_model *m;
	const struct pw_sock first[] = { listener4("0.0.0.0", 22, PID(30), "sshd", 4001) };
	const struct pw_sock later[] = {
		listener4("0.0.0.0", 22, PID(30), "sshd", 4001),
		listener4("0.0.0.0", 5555, PID(40), "backdoor", 4010),
	};
	struct pw_ev ev;
	struct pw_port_view v;

	(void)state;
	assert_non_null(b);
	m = new_model(b, on_alert, &c, 0);
	census(m, first, 1);
	assert_int_equal(c.n, 0);

	/* A failed listen is no listener. */
	ev = mkev(PW_EV_LISTEN, 5555, -EADDRINUSE, PID(40), "backdoor", "0.0.0.0");
	pw_model_event(m, &ev);
	assert_int_equal(c.n, 0);

	ev = mkev(PW_EV_LISTEN, 5555, 0, PID(40), "backdoor", "0.0.0.0");
	pw_model_event(m, &ev);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.a[0].type, "new_listener");
	assert_string_equal(c.a[0].severity, "warning");
	assert_int_equal(c.a[0].netns, NS1);
	assert_int_equal(c.a[0].proto, PW_PROTO_TCP);
	assert_int_equal(c.a[0].port, 5555);
	assert_int_equal(c.a[0].who.pid, PID(40));
	assert_string_equal(c.a[0].who.comm, "backdoor");
	assert_string_equal(c.a[0].addr, "0.0.0.0");
	v = view_of(m, NS1, PW_PROTO_TCP, 5555);
	assert_int_equal(v.state, PW_PORT_LISTENING);
	assert_int_equal(v.n_owners, 1);
	assert_int_equal(v.owners[0].pid, PID(40));
	assert_int_equal(v.n_addrs, 1);
	assert_string_equal(v.addrs[0], "0.0.0.0");
	assert_int_equal(v.last_wall_ns, WALL_NS);

	/* The census confirms it: no second alert. */
	census(m, later, 2);
	assert_int_equal(c.n, 1);
}

static void test_listen_event_before_first_census(void **state)
{
	char err[128] = "";
	struct pw_baseline *b = new_baseline("tcp 22 sshd\n", err, sizeof(err));
	struct caught c = { 0 };
	struct pw_model *m;
	const struct pw_sock socks[] = { listener4("0.0.0.0", 5555, PID(40), "backdoor", 4010) };
	struct pw_ev ev;

	(void)state;
	assert_non_null(b);
	m = new_model(b, on_alert, &c, 0);
	/* Before the first pass, the first pass reports what exists. */
	ev = mkev(PW_EV_LISTEN, 5555, 0, PID(40), "backdoor", "0.0.0.0");
	pw_model_event(m, &ev);
	assert_int_equal(c.n, 0);
	census(m, socks, 1);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.a[0].type, "new_listener");
	assert_int_equal(c.a[0].port, 5555);
	census(m, socks, 1);
	assert_int_equal(c.n, 1);
}

/* ---- closed ports ----------------------------------------------------------- */

static void test_closed_ports(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	const struct pw_sock socks[] = {
		listener4("0.0.0.0", 47020, PID(50), "quiet", 5001),
		listener4("0.0.0.0", 47021, PID(51), "busy", 5002),
		listener4("0.0.0.0", 47022, PID(52), "accepter", 5003),
	};
	const struct pw_port_stats st = { .syn_in = 2, .first_ns = 100, .last_ns = 200 };
	struct pw_ev ev = mkev(PW_EV_ACCEPT, 47022, 0, PID(52), "accepter", "0.0.0.0");
	struct pw_port_view v;
	uint32_t ns[4];

	(void)state;
	census(m, socks, 3);
	stats(m, NS1, 47021, PW_PROTO_TCP, &st);
	pw_model_event(m, &ev);
	assert_int_equal(n_ports(m), 3);

	census(m, NULL, 0);
	/* No counters: dropped. */
	assert_false(has_port(m, NS1, PW_PROTO_TCP, 47020));
	/* Counters: kept, closed, nobody holds it. */
	v = view_of(m, NS1, PW_PROTO_TCP, 47021);
	assert_int_equal(v.state, PW_PORT_CLOSED);
	assert_int_equal(v.n_owners, 0);
	assert_int_equal(v.n_addrs, 0);
	assert_int_equal(v.flags, 0);
	assert_int_equal(v.c.syn_in, 2);
	v = view_of(m, NS1, PW_PROTO_TCP, 47022);
	assert_int_equal(v.state, PW_PORT_CLOSED);
	assert_int_equal(v.c.accepts, 1);
	assert_int_equal(n_ports(m), 2);

	/* Still closed on the next pass; back when a socket holds it again. */
	census(m, NULL, 0);
	assert_int_equal(n_ports(m), 2);
	census(m, socks + 1, 1);
	v = view_of(m, NS1, PW_PROTO_TCP, 47021);
	assert_int_equal(v.state, PW_PORT_LISTENING);
	assert_int_equal(v.n_owners, 1);
	assert_string_equal(v.owners[0].comm, "busy");
	assert_int_equal(v.c.syn_in, 2);
	assert_int_equal(pw_model_netns_list(m, ns, 4), 1);
}

/* ---- events ------------------------------------------------------------------ */

static void test_bind_conflict_and_counters(void **state)
{
	struct caught c = { 0 };
	struct pw_model *m = new_model(NULL, on_alert, &c, 0);
	const struct pw_sock socks[] = { listener4("0.0.0.0", 8080, PID(60), "nginx", 6001) };
	struct pw_ev ev;
	struct pw_port_view v;
	int before;

	(void)state;
	census(m, socks, 1);
	assert_int_equal(c.n, 0);

	ev = mkev(PW_EV_BIND, 8080, -EADDRINUSE, PID(61), "rogue", "0.0.0.0");
	ev.n_holders = 1;
	ev.holders[0].pid = PID(60);
	strcpy(ev.holders[0].comm, "nginx");
	pw_model_event(m, &ev);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.a[0].type, "bind_conflict");
	assert_string_equal(c.a[0].severity, "info");
	assert_int_equal(c.a[0].netns, NS1);
	assert_int_equal(c.a[0].proto, PW_PROTO_TCP);
	assert_int_equal(c.a[0].port, 8080);
	assert_string_equal(c.a[0].addr, "0.0.0.0");
	assert_string_equal(c.a[0].service, "http-alt");
	assert_int_equal(c.a[0].who.pid, PID(61));
	assert_string_equal(c.a[0].who.comm, "rogue");
	assert_int_equal(c.a[0].holder.pid, PID(60));
	assert_string_equal(c.a[0].holder.comm, "nginx");
	assert_true(c.a[0].wall_ns > 0);

	v = view_of(m, NS1, PW_PROTO_TCP, 8080);
	assert_int_equal(v.c.bind_failures, 1);
	assert_int_equal(v.c.binds, 0);
	/* A failed bind does not make the loser an owner. */
	assert_int_equal(v.n_owners, 1);
	assert_int_equal(v.owners[0].pid, PID(60));
	assert_int_equal(v.state, PW_PORT_LISTENING);

	/* Holder unknown: pid 0. */
	ev.n_holders = 0;
	memset(ev.holders, 0, sizeof(ev.holders));
	pw_model_event(m, &ev);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.a[1].holder.pid, 0);
	assert_string_equal(c.a[1].holder.comm, "");
	assert_int_equal(c.a[1].who.pid, PID(61));
	v = view_of(m, NS1, PW_PROTO_TCP, 8080);
	assert_int_equal(v.c.bind_failures, 2);

	/* Another failure counts, but is no conflict. */
	ev = mkev(PW_EV_BIND, 80, -EACCES, PID(62), "user", "0.0.0.0");
	pw_model_event(m, &ev);
	assert_int_equal(c.n, 2);
	v = view_of(m, NS1, PW_PROTO_TCP, 80);
	assert_int_equal(v.c.bind_failures, 1);
	assert_int_equal(v.c.binds, 0);
	assert_int_equal(v.n_owners, 0);

	/* A successful bind: a bound port with its owner and address. */
	ev = mkev(PW_EV_BIND, 47030, 0, PID(63), "app", "127.0.0.1");
	pw_model_event(m, &ev);
	v = view_of(m, NS1, PW_PROTO_TCP, 47030);
	assert_int_equal(v.c.binds, 1);
	assert_int_equal(v.c.bind_failures, 0);
	assert_int_equal(v.state, PW_PORT_BOUND);
	assert_int_equal(v.n_owners, 1);
	assert_int_equal(v.owners[0].pid, PID(63));
	assert_string_equal(v.owners[0].comm, "app");
	assert_int_equal(v.n_addrs, 1);
	assert_string_equal(v.addrs[0], "127.0.0.1");
	assert_int_equal(v.last_wall_ns, WALL_NS);
	pw_model_event(m, &ev);
	v = view_of(m, NS1, PW_PROTO_TCP, 47030);
	assert_int_equal(v.c.binds, 2);
	assert_int_equal(v.n_owners, 1);
	assert_int_equal(v.n_addrs, 1);

	/* Binding port 0 names no port. */
	before = n_ports(m);
	ev = mkev(PW_EV_BIND, 0, 0, PID(63), "app", "0.0.0.0");
	pw_model_event(m, &ev);
	assert_int_equal(n_ports(m), before);

	/* Accepts count; failed accepts do not. */
	ev = mkev(PW_EV_ACCEPT, 8080, 0, PID(60), "nginx", "10.0.0.1");
	pw_model_event(m, &ev);
	pw_model_event(m, &ev);
	ev.result = -EAGAIN;
	pw_model_event(m, &ev);
	v = view_of(m, NS1, PW_PROTO_TCP, 8080);
	assert_int_equal(v.c.accepts, 2);
	assert_int_equal(v.c.bind_failures, 2);
	assert_int_equal(v.c.binds, 0);
	assert_int_equal(c.n, 2);
}

/* ---- kernel counters ------------------------------------------------------------ */

static void test_port_stats(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, CLOCK_OFFSET);
	struct pw_port_stats s1 = {
		.syn_in = 10, .closed_probes = 3, .half_open = 2, .resets_out = 1, .resets_in = 4,
		.flag_probes = 5, .filtered = 6, .first_ns = 1000, .last_ns = 2000,
	};
	struct pw_port_stats s2 = {
		.syn_in = 15, .closed_probes = 3, .half_open = 4, .resets_out = 2, .resets_in = 4,
		.flag_probes = 7, .filtered = 6, .first_ns = 1000, .last_ns = 3000,
	};
	/* The kernel evicted and recreated the entry: these values are all new. */
	struct pw_port_stats s3 = {
		.syn_in = 4, .closed_probes = 1, .half_open = 1, .resets_out = 1, .resets_in = 1,
		.flag_probes = 1, .filtered = 1, .first_ns = 5000, .last_ns = 6000,
	};
	struct pw_port_view v;

	(void)state;
	stats(m, NS1, 47040, PW_PROTO_TCP, &s1);
	v = view_of(m, NS1, PW_PROTO_TCP, 47040);
	assert_int_equal(v.state, PW_PORT_CLOSED);
	assert_int_equal(v.n_owners, 0);
	assert_int_equal(v.c.syn_in, 10);
	assert_int_equal(v.c.closed_probes, 3);
	assert_int_equal(v.c.half_open, 2);
	assert_int_equal(v.c.resets_out, 1);
	assert_int_equal(v.c.resets_in, 4);
	assert_int_equal(v.c.flag_probes, 5);
	assert_int_equal(v.c.filtered, 6);
	assert_int_equal(v.c.accepts, 0);
	assert_int_equal(v.c.binds, 0);
	assert_int_equal(v.c.listen_overflows, 0);
	assert_int_equal(v.last_wall_ns, 2000 + CLOCK_OFFSET);

	/* The same values again add nothing. */
	stats(m, NS1, 47040, PW_PROTO_TCP, &s1);
	v = view_of(m, NS1, PW_PROTO_TCP, 47040);
	assert_int_equal(v.c.syn_in, 10);
	assert_int_equal(v.c.filtered, 6);

	/* Larger cumulative values: only the growth. */
	stats(m, NS1, 47040, PW_PROTO_TCP, &s2);
	v = view_of(m, NS1, PW_PROTO_TCP, 47040);
	assert_int_equal(v.c.syn_in, 15);
	assert_int_equal(v.c.closed_probes, 3);
	assert_int_equal(v.c.half_open, 4);
	assert_int_equal(v.c.resets_out, 2);
	assert_int_equal(v.c.resets_in, 4);
	assert_int_equal(v.c.flag_probes, 7);
	assert_int_equal(v.c.filtered, 6);
	assert_int_equal(v.last_wall_ns, 3000 + CLOCK_OFFSET);

	/* A different first_ns: the new values whole. */
	stats(m, NS1, 47040, PW_PROTO_TCP, &s3);
	v = view_of(m, NS1, PW_PROTO_TCP, 47040);
	assert_int_equal(v.c.syn_in, 19);
	assert_int_equal(v.c.closed_probes, 4);
	assert_int_equal(v.c.half_open, 5);
	assert_int_equal(v.c.resets_out, 3);
	assert_int_equal(v.c.resets_in, 5);
	assert_int_equal(v.c.flag_probes, 8);
	assert_int_equal(v.c.filtered, 7);
	assert_int_equal(v.last_wall_ns, 6000 + CLOCK_OFFSET);
	assert_int_equal(n_ports(m), 1);
}

static void test_port_stats_which_create_ports(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	const struct pw_port_stats rst = { .resets_out = 5, .resets_in = 2, .half_open = 1,
					   .first_ns = 10, .last_ns = 20 };
	const struct pw_port_stats syn = { .syn_in = 1, .first_ns = 10, .last_ns = 20 };
	const struct pw_port_stats probe = { .closed_probes = 1, .first_ns = 10, .last_ns = 20 };
	const struct pw_port_stats flag = { .flag_probes = 1, .first_ns = 10, .last_ns = 20 };
	const struct pw_port_stats filt = { .filtered = 1, .first_ns = 10, .last_ns = 20 };
	const struct pw_sock socks[] = { listener4("0.0.0.0", 47045, PID(70), "srv", 7001) };
	struct pw_port_view v;

	(void)state;
	/* A client's ephemeral port sending RSTs is no port. */
	stats(m, NS1, 47041, PW_PROTO_TCP, &rst);
	assert_int_equal(n_ports(m), 0);
	/* Inbound traffic of any kind makes one (closed). */
	stats(m, NS1, 47042, PW_PROTO_TCP, &syn);
	stats(m, NS1, 47043, PW_PROTO_TCP, &probe);
	stats(m, NS1, 47044, PW_PROTO_UDP, &flag);
	stats(m, NS2, 47044, PW_PROTO_UDP, &filt);
	assert_int_equal(n_ports(m), 4);
	v = view_of(m, NS1, PW_PROTO_TCP, 47042);
	assert_int_equal(v.state, PW_PORT_CLOSED);
	assert_int_equal(v.c.syn_in, 1);
	v = view_of(m, NS1, PW_PROTO_TCP, 47043);
	assert_int_equal(v.c.closed_probes, 1);
	v = view_of(m, NS1, PW_PROTO_UDP, 47044);
	assert_int_equal(v.c.flag_probes, 1);
	v = view_of(m, NS2, PW_PROTO_UDP, 47044);
	assert_int_equal(v.c.filtered, 1);
	assert_false(has_port(m, NS1, PW_PROTO_TCP, 47041));

	/* On a port the model knows, RSTs count. */
	census(m, socks, 1);
	stats(m, NS1, 47045, PW_PROTO_TCP, &rst);
	v = view_of(m, NS1, PW_PROTO_TCP, 47045);
	assert_int_equal(v.state, PW_PORT_LISTENING);
	assert_int_equal(v.c.resets_out, 5);
	assert_int_equal(v.c.resets_in, 2);
	assert_int_equal(v.c.half_open, 1);
	assert_int_equal(v.c.syn_in, 0);
}

/* SYNs judged closed in user space (no drop reasons) add up with the kernel's counters. */
static void test_inferred_closed_probes(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 1000);
	const struct pw_port_stats syn = { .syn_in = 3, .first_ns = 10, .last_ns = 20 };
	struct pw_flow_key k;
	struct pw_port_view v;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.netns = NS1;
	k.lport = 7000;
	k.proto = PW_PROTO_TCP;
	k.family = PW_AF_INET;
	/* Judged before the walk reported the port: the port is made, closed. */
	pw_model_closed_probes(m, &k, 2, 500);
	v = view_of(m, NS1, PW_PROTO_TCP, 7000);
	assert_int_equal(v.state, PW_PORT_CLOSED);
	assert_int_equal(v.c.closed_probes, 2);
	assert_int_equal(v.last_wall_ns, 1500);
	stats(m, NS1, 7000, PW_PROTO_TCP, &syn);
	pw_model_closed_probes(m, &k, 1, 0);
	v = view_of(m, NS1, PW_PROTO_TCP, 7000);
	assert_int_equal(v.c.syn_in, 3);
	assert_int_equal(v.c.closed_probes, 3);
}

/* ---- listen drops --------------------------------------------------------------- */

static void test_listen_drops(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	/* First pass: these listeners predate portwatch. */
	const struct pw_sock pass1[] = {
		with_drops(listener4("0.0.0.0", 47050, PID(80), "old", 8001), 5),
		/* One socket through two processes (fork): counted once. */
		with_drops(listener4("0.0.0.0", 47052, PID(81), "master", 8002), 5),
		with_drops(listener4("0.0.0.0", 47052, PID(82), "worker", 8002), 5),
	};
	const struct pw_sock pass2[] = {
		with_drops(listener4("0.0.0.0", 47050, PID(80), "old", 8001), 8),
		with_drops(listener4("0.0.0.0", 47052, PID(81), "master", 8002), 6),
		with_drops(listener4("0.0.0.0", 47052, PID(82), "worker", 8002), 6),
		/* Born since portwatch started: every drop is ours. */
		with_drops(listener4("0.0.0.0", 47051, PID(83), "young", 8003), 4),
		/* The same socket through two fds of one process. */
		with_drops(listener4("0.0.0.0", 47053, PID(84), "dup", 8004), 3),
		with_drops(listener4("0.0.0.0", 47053, PID(84), "dup", 8004), 3),
		/* Two distinct listeners (SO_REUSEPORT): both count. */
		with_drops(listener4("0.0.0.0", 47054, PID(85), "rp", 8005), 2),
		with_drops(listener4("0.0.0.0", 47054, PID(86), "rp", 8006), 7),
		/* Not a listener: its drops are no listen overflows. */
		with_drops(mksock(PW_PROTO_UDP, PW_AF_INET, 7, "0.0.0.0", 47055, 0, PID(87), "udp", 8007), 9),
	};
	struct pw_port_view v;

	(void)state;
	census(m, pass1, 3);
	v = view_of(m, NS1, PW_PROTO_TCP, 47050);
	assert_int_equal(v.c.listen_overflows, 0);
	v = view_of(m, NS1, PW_PROTO_TCP, 47052);
	assert_int_equal(v.c.listen_overflows, 0);
	assert_int_equal(v.n_owners, 2);

	census(m, pass2, 9);
	v = view_of(m, NS1, PW_PROTO_TCP, 47050);
	assert_int_equal(v.c.listen_overflows, 3);
	v = view_of(m, NS1, PW_PROTO_TCP, 47052);
	assert_int_equal(v.c.listen_overflows, 1);
	v = view_of(m, NS1, PW_PROTO_TCP, 47051);
	assert_int_equal(v.c.listen_overflows, 4);
	v = view_of(m, NS1, PW_PROTO_TCP, 47053);
	assert_int_equal(v.c.listen_overflows, 3);
	v = view_of(m, NS1, PW_PROTO_TCP, 47054);
	assert_int_equal(v.c.listen_overflows, 9);
	v = view_of(m, NS1, PW_PROTO_UDP, 47055);
	assert_int_equal(v.c.listen_overflows, 0);

	/* An unchanged pass: unchanged counts. */
	census(m, pass2, 9);
	v = view_of(m, NS1, PW_PROTO_TCP, 47050);
	assert_int_equal(v.c.listen_overflows, 3);
	v = view_of(m, NS1, PW_PROTO_TCP, 47051);
	assert_int_equal(v.c.listen_overflows, 4);
	v = view_of(m, NS1, PW_PROTO_TCP, 47053);
	assert_int_equal(v.c.listen_overflows, 3);
}

/*
 * listen_overflows is a counter like the others: drops already counted are
 * not taken back when the listener is replaced by a new socket (whose
 * sk_drops starts again from zero), and "activity" is growth, never a
 * wrapped negative number.
 */
static void test_listen_drops_survive_a_new_socket(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	const struct pw_sock pass1[] = { with_drops(listener4("0.0.0.0", 47056, PID(88), "srv", 8101), 5) };
	const struct pw_sock pass2[] = { with_drops(listener4("0.0.0.0", 47056, PID(88), "srv", 8101), 8) };
	/* The server restarted: a new socket, its own sk_drops from zero. */
	const struct pw_sock pass3[] = { with_drops(listener4("0.0.0.0", 47056, PID(89), "srv", 8102), 1) };
	struct pw_port_view *all, v;
	int n;

	(void)state;
	census(m, pass1, 1);
	census(m, pass2, 1);
	v = view_of(m, NS1, PW_PROTO_TCP, 47056);
	assert_int_equal(v.c.listen_overflows, 3);
	n = snapshot_kept(m, NULL, PW_SORT_PORT, true, &all);
	assert_int_equal(n, 1);
	assert_int_equal(all[0].activity, 3);

	census(m, pass3, 1);
	v = view_of(m, NS1, PW_PROTO_TCP, 47056);
	assert_int_equal(v.c.listen_overflows, 4); /* 3 before the restart, 1 since */
	assert_int_equal(v.activity, 1);
}

/* ---- sources ---------------------------------------------------------------------- */

static void test_sources(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	const struct pw_sock socks[] = {
		listener4("0.0.0.0", 47060, PID(90), "one", 9001),
		listener4("0.0.0.0", 47061, PID(91), "fifty", 9002),
		listener4("0.0.0.0", 47063, PID(93), "none", 9004),
	};
	struct pw_port_view v;
	char addr[32];
	int i;

	(void)state;
	census(m, socks, 3);
	source(m, NS1, 47060, PW_PROTO_TCP, "192.0.2.1");
	v = view_of(m, NS1, PW_PROTO_TCP, 47060);
	assert_int_equal(v.sources, 1);
	/* The same source again and again: still one. */
	for (i = 0; i < 20; i++)
		source(m, NS1, 47060, PW_PROTO_TCP, "192.0.2.1");
	v = view_of(m, NS1, PW_PROTO_TCP, 47060);
	assert_int_equal(v.sources, 1);

	for (i = 1; i <= 50; i++) {
		snprintf(addr, sizeof(addr), "198.51.100.%d", i);
		source(m, NS1, 47061, PW_PROTO_TCP, addr);
	}
	v = view_of(m, NS1, PW_PROTO_TCP, 47061);
	assert_in_range(v.sources, 48, 52);
	/* Seen again: no growth. */
	for (i = 1; i <= 50; i++) {
		snprintf(addr, sizeof(addr), "198.51.100.%d", i);
		source(m, NS1, 47061, PW_PROTO_TCP, addr);
	}
	assert_int_equal(view_of(m, NS1, PW_PROTO_TCP, 47061).sources, v.sources);

	assert_int_equal(view_of(m, NS1, PW_PROTO_TCP, 47063).sources, 0);

	/* A source for a port the model does not know: ignored, no port made. */
	source(m, NS1, 47064, PW_PROTO_TCP, "192.0.2.1");
	source(m, NS1, 47060, PW_PROTO_UDP, "192.0.2.2");
	source(m, NS2, 47060, PW_PROTO_TCP, "192.0.2.3");
	assert_int_equal(n_ports(m), 3);
	assert_int_equal(view_of(m, NS1, PW_PROTO_TCP, 47060).sources, 1);
}

/* 1000 sources at one port; addr(i) names the i-th. */
static uint64_t thousand_sources(void (*addr)(int i, char *out, size_t len))
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	const struct pw_sock socks[] = { listener4("0.0.0.0", 47065, PID(94), "many", 9005) };
	char text[32];
	int i;

	census(m, socks, 1);
	for (i = 0; i < 1000; i++) {
		addr(i, text, sizeof(text));
		source(m, NS1, 47065, PW_PROTO_TCP, text);
	}
	return view_of(m, NS1, PW_PROTO_TCP, 47065).sources;
}

/* Scattered over the address space (a fixed xorshift sequence). */
static void scattered_addr(int i, char *out, size_t len)
{
	uint32_t x = 2463534242u + (uint32_t)i * 2654435761u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	snprintf(out, len, "%u.%u.%u.%u", x >> 24, (x >> 16) & 255, (x >> 8) & 255, x & 255);
}

/* One contiguous block, as a scan from a /22 looks: 10.0.0.0 - 10.0.3.231. */
static void block_addr(int i, char *out, size_t len)
{
	snprintf(out, len, "10.0.%d.%d", i / 256, i % 256);
}

/* "within a few percent up to ~10k sources": here 5%. */
static void test_sources_thousand_scattered(void **state)
{
	(void)state;
	assert_in_range(thousand_sources(scattered_addr), 950, 1050);
}

static void test_sources_thousand_from_one_block(void **state)
{
	(void)state;
	assert_in_range(thousand_sources(block_addr), 950, 1050);
}

/* ---- snapshots ---------------------------------------------------------------------- */

/*
 *   port   syn  probes  total  sources
 *   47070    0       0      0        0   (bound, from the census)
 *   47071    1      10     11        3
 *   47072    5       5     10        3
 *   47073    5       1      6        1
 */
static struct pw_model *sort_model(void)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	const struct pw_sock socks[] = {
		mksock(PW_PROTO_TCP, PW_AF_INET, PW_TCP_CLOSE, "0.0.0.0", 47070, 0, PID(100), "idle", 10001),
	};
	const struct pw_port_stats s73 = { .syn_in = 5, .closed_probes = 1, .first_ns = 1, .last_ns = 2 };
	const struct pw_port_stats s71 = { .syn_in = 1, .closed_probes = 10, .first_ns = 1, .last_ns = 2 };
	const struct pw_port_stats s72 = { .syn_in = 5, .flag_probes = 2, .filtered = 3, .first_ns = 1,
					   .last_ns = 2 };

	assert_non_null(m);
	census(m, socks, 1);
	/* Inserted out of order on purpose. */
	stats(m, NS1, 47073, PW_PROTO_TCP, &s73);
	stats(m, NS1, 47071, PW_PROTO_TCP, &s71);
	stats(m, NS1, 47072, PW_PROTO_TCP, &s72);
	source(m, NS1, 47073, PW_PROTO_TCP, "192.0.2.1");
	source(m, NS1, 47071, PW_PROTO_TCP, "192.0.2.1");
	source(m, NS1, 47071, PW_PROTO_TCP, "192.0.2.2");
	source(m, NS1, 47071, PW_PROTO_TCP, "192.0.2.3");
	source(m, NS1, 47072, PW_PROTO_TCP, "192.0.2.4");
	source(m, NS1, 47072, PW_PROTO_TCP, "192.0.2.5");
	source(m, NS1, 47072, PW_PROTO_TCP, "192.0.2.6");
	return m;
}

static void test_snapshot_sort(void **state)
{
	struct pw_model *m = sort_model();
	const struct pw_port_stats s73 = { .syn_in = 6, .closed_probes = 1, .first_ns = 1, .last_ns = 3 };
	struct pw_ev ev = mkev(PW_EV_ACCEPT, 47070, 0, PID(100), "idle", "0.0.0.0");
	char got[128];

	(void)state;
	ports_of(m, NULL, PW_SORT_PORT, false, got, sizeof(got));
	assert_string_equal(got, "47070 47071 47072 47073");
	/* Ties (47072/47073 on syn, 47071/47072 on sources) by port. */
	ports_of(m, NULL, PW_SORT_SYN, false, got, sizeof(got));
	assert_string_equal(got, "47072 47073 47071 47070");
	ports_of(m, NULL, PW_SORT_PROBES, false, got, sizeof(got));
	assert_string_equal(got, "47071 47072 47073 47070");
	ports_of(m, NULL, PW_SORT_SOURCES, false, got, sizeof(got));
	assert_string_equal(got, "47071 47072 47073 47070");
	/* Nothing marked yet: all counts are recent growth. */
	ports_of(m, NULL, PW_SORT_ACTIVITY, true, got, sizeof(got));
	assert_string_equal(got, "47071 47072 47073 47070");

	/* Growth since the mark first, then total traffic, then port. */
	stats(m, NS1, 47073, PW_PROTO_TCP, &s73);
	pw_model_event(m, &ev);
	pw_model_event(m, &ev);
	ports_of(m, NULL, PW_SORT_ACTIVITY, false, got, sizeof(got));
	assert_string_equal(got, "47070 47073 47071 47072");
	ports_of(m, NULL, PW_SORT_ACTIVITY, true, got, sizeof(got));
	assert_string_equal(got, "47070 47073 47071 47072");
	/* All growth marked: total traffic decides (11, 10, 7, 2). */
	ports_of(m, NULL, PW_SORT_ACTIVITY, false, got, sizeof(got));
	assert_string_equal(got, "47071 47072 47073 47070");
}

static void test_snapshot_filter(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	const struct pw_sock socks[] = {
		listener4("0.0.0.0", 47080, PID(110), "nginx", 11001),
		mksock(PW_PROTO_TCP, PW_AF_INET, PW_TCP_CLOSE, "0.0.0.0", 47081, 0, PID(111), "redis", 11002),
		in_ns(listener4("0.0.0.0", 47080, PID(112), "nginx", 11003), NS2),
		in_ns(listener4("0.0.0.0", 47082, PID(113), "postgres", 11004), NS2),
		in_ns(listener4("0.0.0.0", 47082, PID(114), "nginx", 11005), NS2),
	};
	const struct pw_port_stats st = { .syn_in = 3, .first_ns = 1, .last_ns = 2 };
	struct pw_view_filter f;
	struct pw_port_view *v;
	char got[128];
	int n;

	(void)state;
	census(m, socks, 5);
	stats(m, NS1, 47080, PW_PROTO_TCP, &st);
	stats(m, NS1, 47083, PW_PROTO_TCP, &st); /* closed, no owner */

	memset(&f, 0, sizeof(f));
	ports_of(m, &f, PW_SORT_PORT, false, got, sizeof(got));
	assert_string_equal(got, "47080 47080 47081 47082 47083");

	f.netns = NS2;
	n = snapshot_kept(m, &f, PW_SORT_PORT, false, &v);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].port, 47080);
	assert_int_equal(v[0].netns, NS2);
	assert_int_equal(v[1].port, 47082);
	assert_int_equal(v[1].netns, NS2);

	memset(&f, 0, sizeof(f));
	strcpy(f.comm, "nginx");
	n = snapshot_kept(m, &f, PW_SORT_PORT, false, &v);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].port, 47080);
	assert_int_equal(v[0].netns, NS1);
	assert_int_equal(v[1].port, 47080);
	assert_int_equal(v[1].netns, NS2);
	/* Some owner, not only the first one. */
	assert_int_equal(v[2].port, 47082);
	assert_string_equal(v[2].owners[0].comm, "postgres");

	/* The comm must match exactly. */
	strcpy(f.comm, "ngin");
	ports_of(m, &f, PW_SORT_PORT, false, got, sizeof(got));
	assert_string_equal(got, "");
	strcpy(f.comm, "redis");
	ports_of(m, &f, PW_SORT_PORT, false, got, sizeof(got));
	assert_string_equal(got, "47081");

	memset(&f, 0, sizeof(f));
	f.active_only = true;
	n = snapshot_kept(m, &f, PW_SORT_PORT, false, &v);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].port, 47080);
	assert_int_equal(v[0].netns, NS1);
	assert_int_equal(v[1].port, 47083);

	/* All three at once. */
	f.netns = NS1;
	strcpy(f.comm, "nginx");
	ports_of(m, &f, PW_SORT_PORT, false, got, sizeof(got));
	assert_string_equal(got, "47080");
	f.netns = NS2;
	ports_of(m, &f, PW_SORT_PORT, false, got, sizeof(got));
	assert_string_equal(got, "");
}

static void test_snapshot_mark(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	const struct pw_port_stats s1 = { .syn_in = 10, .first_ns = 1, .last_ns = 2 };
	const struct pw_port_stats s2 = { .syn_in = 15, .closed_probes = 2, .first_ns = 1, .last_ns = 3 };
	struct pw_port_view *v;

	(void)state;
	stats(m, NS1, 47090, PW_PROTO_TCP, &s1);
	/* Without mark, activity keeps counting from the same point. */
	assert_int_equal(snapshot_kept(m, NULL, PW_SORT_PORT, false, &v), 1);
	assert_int_equal(v[0].activity, 10);
	assert_int_equal(snapshot_kept(m, NULL, PW_SORT_PORT, true, &v), 1);
	assert_int_equal(v[0].activity, 10);
	assert_int_equal(snapshot_kept(m, NULL, PW_SORT_PORT, false, &v), 1);
	assert_int_equal(v[0].activity, 0);
	assert_int_equal(v[0].c.syn_in, 10);

	stats(m, NS1, 47090, PW_PROTO_TCP, &s2);
	assert_int_equal(snapshot_kept(m, NULL, PW_SORT_PORT, false, &v), 1);
	assert_int_equal(v[0].activity, 7);
	assert_int_equal(snapshot_kept(m, NULL, PW_SORT_PORT, false, &v), 1);
	assert_int_equal(v[0].activity, 7);
	assert_int_equal(snapshot_kept(m, NULL, PW_SORT_PORT, true, &v), 1);
	assert_int_equal(v[0].activity, 7);
	assert_int_equal(v[0].c.syn_in, 15);
	assert_int_equal(v[0].c.closed_probes, 2);
	assert_int_equal(snapshot_kept(m, NULL, PW_SORT_PORT, true, &v), 1);
	assert_int_equal(v[0].activity, 0);
}

/*
 * "active_only: only ports with any counter > 0" and "kept while they have
 * counters": resets_in is one of the counters.
 */
static void test_resets_in_is_a_counter(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	const struct pw_sock socks[] = { listener4("0.0.0.0", 47095, PID(120), "srv", 12001) };
	const struct pw_port_stats st = { .resets_in = 3, .first_ns = 1, .last_ns = 2 };
	struct pw_view_filter f = { .active_only = true };
	struct pw_port_view *v;
	int n;

	(void)state;
	census(m, socks, 1);
	stats(m, NS1, 47095, PW_PROTO_TCP, &st);
	assert_int_equal(view_of(m, NS1, PW_PROTO_TCP, 47095).c.resets_in, 3);
	n = snapshot_kept(m, &f, PW_SORT_PORT, false, &v);
	assert_int_equal(n, 1);
}

static void test_closed_port_with_resets_in_is_kept(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	const struct pw_sock socks[] = { listener4("0.0.0.0", 47096, PID(121), "srv", 12002) };
	const struct pw_port_stats st = { .resets_in = 3, .first_ns = 1, .last_ns = 2 };
	struct pw_port_view v;

	(void)state;
	census(m, socks, 1);
	stats(m, NS1, 47096, PW_PROTO_TCP, &st);
	census(m, NULL, 0);
	assert_true(has_port(m, NS1, PW_PROTO_TCP, 47096));
	v = view_of(m, NS1, PW_PROTO_TCP, 47096);
	assert_int_equal(v.state, PW_PORT_CLOSED);
	assert_int_equal(v.c.resets_in, 3);
}

/* ---- recent alerts, namespaces ------------------------------------------------------- */

static void conflict(struct pw_model *m, uint16_t port)
{
	struct pw_ev ev = mkev(PW_EV_BIND, port, -EADDRINUSE, PID(130), "loser", "0.0.0.0");

	pw_model_event(m, &ev);
}

static void test_recent_alerts(void **state)
{
	struct caught c = { 0 };
	struct pw_model *m = new_model(NULL, on_alert, &c, 0);
	struct pw_alert out[64];
	int n, i;

	(void)state;
	conflict(m, 47101);
	conflict(m, 47102);
	conflict(m, 47103);
	assert_int_equal(c.n, 3);
	n = pw_model_recent(m, out, 10);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].port, 47103);
	assert_int_equal(out[1].port, 47102);
	assert_int_equal(out[2].port, 47101);
	assert_string_equal(out[0].type, "bind_conflict");
	assert_int_equal(out[0].who.pid, PID(130));
	assert_string_equal(out[0].who.comm, "loser");

	n = pw_model_recent(m, out, 2);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].port, 47103);
	assert_int_equal(out[1].port, 47102);
	assert_int_equal(pw_model_recent(m, out, 0), 0);

	/* Many more: the newest ones, newest first, never more than max. */
	for (i = 47104; i <= 47170; i++)
		conflict(m, (uint16_t)i);
	assert_int_equal(c.n, 70);
	n = pw_model_recent(m, out, 64);
	assert_true(n > 0 && n <= 64);
	for (i = 0; i < n; i++)
		assert_int_equal(out[i].port, 47170 - i);
	n = pw_model_recent(m, out, 5);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++)
		assert_int_equal(out[i].port, 47170 - i);
}

static void test_netns_list(void **state)
{
	struct pw_model *m = new_model(NULL, NULL, NULL, 0);
	const struct pw_sock socks[] = {
		in_ns(listener4("0.0.0.0", 47200, PID(140), "a", 14001), NS3),
		in_ns(listener4("0.0.0.0", 47201, PID(141), "b", 14002), NS1),
		in_ns(listener4("0.0.0.0", 47202, PID(142), "c", 14003), NS2),
		in_ns(listener4("0.0.0.0", 47203, PID(143), "d", 14004), NS1),
		in_ns(listener4("0.0.0.0", 47204, PID(144), "e", 14005), NS3),
	};
	uint32_t ns[8];
	int n;

	(void)state;
	census(m, socks, 5);
	n = pw_model_netns_list(m, ns, 8);
	assert_int_equal(n, 3);
	assert_int_equal(ns[0], NS1);
	assert_int_equal(ns[1], NS2);
	assert_int_equal(ns[2], NS3);

	n = pw_model_netns_list(m, ns, 2);
	assert_int_equal(n, 2);
	assert_true(ns[0] < ns[1]);

	/* NS2's only port goes away (no counters): so does NS2. */
	census(m, (const struct pw_sock[]){ socks[0], socks[1], socks[3], socks[4] }, 4);
	n = pw_model_netns_list(m, ns, 8);
	assert_int_equal(n, 2);
	assert_int_equal(ns[0], NS1);
	assert_int_equal(ns[1], NS3);
}

#define T(f) cmocka_unit_test_teardown(f, free_kept)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_names),
		T(test_empty_model),
		T(test_census_which_sockets_are_ports),
		T(test_census_owners_and_addresses),
		T(test_census_same_port_other_proto_and_netns),
		T(test_exposure_alerts),
		T(test_exposure_close_and_listen_events),
		T(test_baseline_alerts),
		T(test_baseline_listen_event),
		T(test_listen_event_before_first_census),
		T(test_closed_ports),
		T(test_bind_conflict_and_counters),
		T(test_port_stats),
		T(test_port_stats_which_create_ports),
		T(test_inferred_closed_probes),
		T(test_listen_drops),
		T(test_listen_drops_survive_a_new_socket),
		T(test_sources),
		T(test_sources_thousand_scattered),
		T(test_sources_thousand_from_one_block),
		T(test_snapshot_sort),
		T(test_snapshot_filter),
		T(test_snapshot_mark),
		T(test_resets_in_is_a_counter),
		T(test_closed_port_with_resets_in_is_kept),
		T(test_recent_alerts),
		T(test_netns_list),
	};

	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
