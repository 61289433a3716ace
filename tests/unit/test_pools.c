// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/pools.c, the ephemeral-port pools per network
 * namespace (DESIGN §4): connect/bind/UDP pool occupancy, TIME_WAIT and
 * tcp_tw_reuse, explicit binds, the time-to-dry projection and its alerts,
 * allocation failures, census reconciliation, IPv6, hints, and memory.
 * No kernel: every input is a hand-built event or census record, and the
 * model's clock is the events' mono_ns.
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

#include "pools.h"

#define NS1 4026531840u
#define NS2 4026532001u

#define MS 1000000ull
#define SEC 1000000000ull
/* The model's clock (CLOCK_MONOTONIC): start well above zero. */
#define T0 (1000ull * SEC)
#define AT_MS(ms) (T0 + (uint64_t)(ms) * MS)
#define AT_S(s) (T0 + (uint64_t)(s) * SEC)
/* 2026-11-22T10:00:00Z */
#define WALL0 1795341600000000000ull

#define LO 40000
#define HI 40199

/* Mirrors MAX_HOLDINGS in user/pools.c. */
#define MAX_HOLDINGS 262144

/* ---- fixtures ----------------------------------------------------------- */

static int setup_pools(void **state)
{
	*state = pw_pools_new();
	return *state ? 0 : -1;
}

static int teardown_pools(void **state)
{
	pw_pools_free(*state);
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_pools, teardown_pools)

/* ---- helpers ------------------------------------------------------------ */

/* The namespace's range; reserved: ports of ip_local_reserved_ports (0-terminated). */
static void set_range_r(struct pw_pools *p, uint32_t netns, uint16_t lo, uint16_t hi,
			uint8_t tw_reuse, const uint16_t *reserved)
{
	static struct pw_port_range r;
	int i;

	memset(&r, 0, sizeof(r));
	r.lo = lo;
	r.hi = hi;
	r.tw_reuse = tw_reuse;
	for (i = 0; reserved && reserved[i]; i++) {
		r.reserved[reserved[i] / 64] |= 1ull << (reserved[i] % 64);
		if (reserved[i] >= lo && reserved[i] <= hi)
			r.reserved_in_range++;
	}
	pw_pools_set_range(p, netns, &r);
}

static void set_range(struct pw_pools *p, uint32_t netns, uint8_t tw_reuse)
{
	set_range_r(p, netns, LO, HI, tw_reuse, NULL);
}

static void put_addr(int family, const char *text, uint8_t *raw, char *out, size_t outlen)
{
	memset(raw, 0, 16);
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, text, raw), 1);
	snprintf(out, outlen, "%s", text);
}

static struct pw_ev mkev(int kind, int proto, int family, uint64_t mono, uint32_t netns,
			 uint32_t pid, const char *comm)
{
	struct pw_ev e;

	memset(&e, 0, sizeof(e));
	e.kind = (uint8_t)kind;
	e.proto = (uint8_t)proto;
	e.family = family;
	e.mono_ns = mono;
	e.wall_ns = WALL0 + (mono - T0);
	e.netns = netns;
	e.pid = pid;
	e.tid = pid;
	e.owner_known = pid != 0;
	snprintf(e.comm, sizeof(e.comm), "%s", comm);
	return e;
}

static void ev_local(struct pw_ev *e, const char *addr, uint16_t port)
{
	put_addr(e->family, addr, e->local_raw, e->local_addr, sizeof(e->local_addr));
	e->local_port = port;
}

static void ev_remote(struct pw_ev *e, const char *addr, uint16_t port)
{
	put_addr(e->family, addr, e->remote_raw, e->remote_addr, sizeof(e->remote_addr));
	e->remote_port = port;
	e->has_remote = true;
}

/* Feed an event that is not a failure. */
static void feed(struct pw_pools *p, const struct pw_ev *e)
{
	struct pw_pool_failure f;

	assert_false(pw_pools_event(p, e, &f));
}

/* A successful TCP connect (IPv4) from src:lport to dst:dport. */
static void connect4(struct pw_pools *p, uint32_t netns, uint64_t mono, uint32_t pid,
		     const char *comm, const char *src, uint16_t lport, const char *dst,
		     uint16_t dport)
{
	struct pw_ev e = mkev(PW_EV_CONNECT, PW_PROTO_TCP, 4, mono, netns, pid, comm);

	ev_local(&e, src, lport);
	ev_remote(&e, dst, dport);
	feed(p, &e);
}

static void close4(struct pw_pools *p, uint32_t netns, uint64_t mono, uint32_t pid,
		   const char *comm, const char *src, uint16_t lport, const char *dst, uint16_t dport,
		   bool time_wait)
{
	struct pw_ev e = mkev(PW_EV_CLOSE, PW_PROTO_TCP, 4, mono, netns, pid, comm);

	ev_local(&e, src, lport);
	ev_remote(&e, dst, dport);
	e.time_wait = time_wait;
	e.lifetime_known = true;
	feed(p, &e);
}

/* A successful bind (IPv4) of addr:lport (req_port: what the caller asked for). */
static void bind4(struct pw_pools *p, uint32_t netns, uint64_t mono, int proto, uint32_t pid,
		  const char *comm, const char *addr, uint16_t lport, uint16_t req_port)
{
	struct pw_ev e = mkev(PW_EV_BIND, proto, 4, mono, netns, pid, comm);

	ev_local(&e, addr, lport);
	e.req_port = req_port;
	feed(p, &e);
}

static void listen4(struct pw_pools *p, uint32_t netns, uint64_t mono, uint32_t pid,
		    const char *comm, const char *addr, uint16_t lport)
{
	struct pw_ev e = mkev(PW_EV_LISTEN, PW_PROTO_TCP, 4, mono, netns, pid, comm);

	ev_local(&e, addr, lport);
	e.backlog = 128;
	feed(p, &e);
}

/* Views collected by pw_pools_each. */
#define MAX_VIEWS 64

struct views {
	int n;
	struct pw_pool_view v[MAX_VIEWS];
};

static void collect(void *ctx, const struct pw_pool_view *v)
{
	struct views *vs = ctx;

	assert_true(vs->n < MAX_VIEWS);
	vs->v[vs->n++] = *v;
}

static struct views *views_of(const struct pw_pools *p, uint32_t netns)
{
	static struct views vs;

	memset(&vs, 0, sizeof(vs));
	pw_pools_each(p, netns, collect, &vs);
	return &vs;
}

/* The connect pool to destination in netns, or NULL. */
static const struct pw_pool_view *find_connect(const struct views *vs, uint32_t netns,
					       const char *destination)
{
	int i;

	for (i = 0; i < vs->n; i++)
		if (vs->v[i].kind == PW_POOL_CONNECT && vs->v[i].netns == netns &&
		    strcmp(vs->v[i].destination, destination) == 0)
			return &vs->v[i];
	return NULL;
}

static const struct pw_pool_view *find_kind(const struct views *vs, uint32_t netns,
					    enum pw_pool_kind kind)
{
	int i;

	for (i = 0; i < vs->n; i++)
		if (vs->v[i].kind == kind && vs->v[i].netns == netns)
			return &vs->v[i];
	return NULL;
}

static int count_kind(const struct views *vs, enum pw_pool_kind kind)
{
	int i, n = 0;

	for (i = 0; i < vs->n; i++)
		n += vs->v[i].kind == kind;
	return n;
}

/* The connect pool, which must be there. */
static const struct pw_pool_view *must_connect(const struct views *vs, uint32_t netns,
					       const char *destination)
{
	const struct pw_pool_view *v = find_connect(vs, netns, destination);

	if (!v)
		fail_msg("no connect pool to %s in netns %u (%d pools)", destination, netns, vs->n);
	return v;
}

static const struct pw_pool_view *must_kind(const struct views *vs, uint32_t netns,
					    enum pw_pool_kind kind)
{
	const struct pw_pool_view *v = find_kind(vs, netns, kind);

	if (!v)
		fail_msg("no %s pool in netns %u", pw_pool_kind_name(kind), netns);
	return v;
}

/* Alerts from pw_pools_tick. */
#define MAX_ALERTS 256

struct alert_rec {
	uint64_t tick;
	struct pw_pool_view v;
};

struct alerts {
	uint64_t now;
	int n;
	struct alert_rec a[MAX_ALERTS];
};

static void on_alert(void *ctx, const struct pw_pool_view *v)
{
	struct alerts *al = ctx;

	assert_true(al->n < MAX_ALERTS);
	al->a[al->n].tick = al->now;
	al->a[al->n].v = *v;
	al->n++;
}

static void tick(struct pw_pools *p, uint64_t mono, struct alerts *al)
{
	if (al)
		al->now = mono;
	pw_pools_tick(p, mono, al ? on_alert : NULL, al);
}

/* n connects from 127.0.0.1:LO+first.. to 127.0.0.1:dport by pid. */
static void connects(struct pw_pools *p, uint32_t netns, uint64_t mono, uint32_t pid,
		     const char *comm, uint16_t first, int n, const char *dst, uint16_t dport)
{
	int i;

	for (i = 0; i < n; i++)
		connect4(p, netns, mono + (uint64_t)i * MS, pid, comm, "127.0.0.1",
			 (uint16_t)(first + i), dst, dport);
}

static struct pw_sock mksock(int origin, int proto, int state, uint32_t netns, const char *laddr,
			     uint16_t lport, const char *raddr, uint16_t rport, uint32_t pid,
			     const char *comm, uint32_t ttl_ms)
{
	struct pw_sock s;

	memset(&s, 0, sizeof(s));
	s.rec_type = PW_REC_SOCK;
	s.proto = (uint8_t)proto;
	s.family = PW_AF_INET;
	s.state = (uint8_t)state;
	s.origin = (uint8_t)origin;
	s.lport = lport;
	s.rport = rport;
	s.pid = pid;
	s.netns = netns;
	s.fd = pid ? 3 : 0;
	s.ttl_ms = ttl_ms;
	assert_int_equal(inet_pton(AF_INET, laddr, s.laddr), 1);
	if (raddr)
		assert_int_equal(inet_pton(AF_INET, raddr, s.raddr), 1);
	if (comm)
		memcpy(s.comm, comm, strnlen(comm, sizeof(s.comm)));
	return s;
}

/* ---- 1. connect pool occupancy ----------------------------------------- */

static void test_connect_pool_occupancy(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;

	set_range(p, NS1, 1);
	connects(p, NS1, AT_MS(0), 4242, "curl", LO, 10, "127.0.0.1", 8080);
	tick(p, AT_S(1), NULL);

	vs = views_of(p, 0);
	assert_int_equal(count_kind(vs, PW_POOL_CONNECT), 1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_string_equal(v->source, "127.0.0.1");
	assert_int_equal(v->proto, PW_PROTO_TCP);
	assert_int_equal(v->in_use, 10);
	assert_int_equal(v->capacity, 200);
	assert_int_equal(v->time_wait, 0);
	assert_true(v->range_known);
	assert_int_equal(v->lo, LO);
	assert_int_equal(v->hi, HI);
	assert_int_equal(v->reserved, 0);
	assert_int_equal(v->tw_reuse, 1);
	assert_int_equal(v->n_top, 1);
	assert_int_equal(v->top[0].pid, 4242);
	assert_string_equal(v->top[0].comm, "curl");
	assert_int_equal(v->top[0].count, 10);
	assert_false(v->eta_known);
	assert_int_equal(v->severity, PW_SEV_NONE);

	/* The bind pool sees the same ten ports. */
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 10);
	assert_int_equal(v->capacity, 200);
	assert_int_equal(v->n_dests, 1);
	assert_string_equal(v->dests[0].destination, "127.0.0.1:8080");
	assert_int_equal(v->dests[0].count, 10);
	assert_null(find_kind(vs, NS1, PW_POOL_UDP));

	/* Filtering by namespace. */
	assert_int_equal(views_of(p, NS2)->n, 0);
	assert_int_equal(views_of(p, NS1)->n, 2);
	assert_true(pw_pools_range_known(p, NS1));
	assert_false(pw_pools_range_known(p, NS2));
}

static void test_connect_pool_per_destination(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;

	set_range(p, NS1, 0);
	/* The same source ports to another destination port: another pool. */
	connects(p, NS1, AT_MS(0), 100, "a", LO, 10, "127.0.0.1", 8080);
	connects(p, NS1, AT_MS(100), 200, "b", LO, 4, "127.0.0.1", 8081);
	connects(p, NS1, AT_MS(200), 300, "c", LO + 50, 3, "127.0.0.2", 8080);
	tick(p, AT_S(1), NULL);

	vs = views_of(p, NS1);
	assert_int_equal(count_kind(vs, PW_POOL_CONNECT), 3);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 10);
	assert_int_equal(v->top[0].pid, 100);
	v = must_connect(vs, NS1, "127.0.0.1:8081");
	assert_int_equal(v->in_use, 4);
	assert_int_equal(v->n_top, 1);
	assert_int_equal(v->top[0].pid, 200);
	assert_int_equal(v->top[0].count, 4);
	v = must_connect(vs, NS1, "127.0.0.2:8080");
	assert_int_equal(v->in_use, 3);
	assert_int_equal(v->top[0].pid, 300);

	/* Bind pool: distinct ports, whoever shares them (40000-40009, 40050-40052). */
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 13);
	assert_int_equal(v->n_dests, 3);
	assert_string_equal(v->dests[0].destination, "127.0.0.1:8080");
	assert_int_equal(v->dests[0].count, 10);
	assert_string_equal(v->dests[1].destination, "127.0.0.1:8081");
	assert_int_equal(v->dests[1].count, 4);
	assert_string_equal(v->dests[2].destination, "127.0.0.2:8080");
	assert_int_equal(v->dests[2].count, 3);
}

static void test_ports_outside_range_not_counted(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;

	set_range(p, NS1, 0);
	connects(p, NS1, AT_MS(0), 100, "a", LO, 10, "127.0.0.1", 8080);
	/* Below and above the range: another range's, or a fixed source port. */
	connect4(p, NS1, AT_MS(20), 100, "a", "127.0.0.1", LO - 1, "127.0.0.1", 8080);
	connect4(p, NS1, AT_MS(21), 100, "a", "127.0.0.1", HI + 1, "127.0.0.1", 8080);
	connect4(p, NS1, AT_MS(22), 100, "a", "127.0.0.1", 33000, "127.0.0.1", 8080);
	connect4(p, NS1, AT_MS(23), 100, "a", "127.0.0.1", HI, "127.0.0.1", 8080);
	tick(p, AT_S(1), NULL);

	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 11); /* 40000-40009 and 40199 */
	assert_int_equal(v->top[0].count, 11);
	assert_int_equal(must_kind(vs, NS1, PW_POOL_BIND)->in_use, 11);

	/* Only out-of-range ports: nothing is in use. */
	connect4(p, NS1, AT_MS(30), 100, "a", "127.0.0.1", 30000, "127.0.0.1", 9090);
	tick(p, AT_S(2), NULL);
	assert_null(find_connect(views_of(p, NS1), NS1, "127.0.0.1:9090"));
}

static void test_reserved_ports_reduce_capacity(void **state)
{
	static const uint16_t reserved[] = { 40000, 40001, 40002, 40003, 40004, 40100, 8080, 0 };
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;

	set_range_r(p, NS1, LO, HI, 0, reserved);
	/* Connections on a reserved port (a fixed bind) are no ephemeral port. */
	connects(p, NS1, AT_MS(0), 100, "a", LO, 10, "127.0.0.1", 8080);
	tick(p, AT_S(1), NULL);

	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->capacity, 194);
	assert_int_equal(v->reserved, 6);
	assert_int_equal(v->in_use, 5); /* 40005-40009 */
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->capacity, 194);
	assert_int_equal(v->in_use, 5);
}

/* ---- 2. TIME_WAIT ------------------------------------------------------- */

static void test_time_wait_holds_60s(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;
	int i;

	set_range(p, NS1, 0);
	connects(p, NS1, AT_MS(0), 100, "a", LO, 10, "127.0.0.1", 8080);
	for (i = 0; i < 10; i++)
		close4(p, NS1, AT_MS(500 + i), 100, "a", "127.0.0.1", (uint16_t)(LO + i), "127.0.0.1",
		       8080, true);

	tick(p, AT_S(1), NULL);
	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 10);
	assert_int_equal(v->time_wait, 10);
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 10);
	assert_int_equal(v->time_wait, 10);

	/* 59 s after the close: still there. */
	tick(p, AT_MS(500 + 59000), NULL);
	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 10);
	assert_int_equal(v->time_wait, 10);

	/* 61 s: the ports are free. */
	tick(p, AT_MS(500 + 61000), NULL);
	vs = views_of(p, NS1);
	assert_null(find_connect(vs, NS1, "127.0.0.1:8080"));
	assert_null(find_kind(vs, NS1, PW_POOL_BIND));
}

static void test_close_without_time_wait_frees(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;
	int i;

	set_range(p, NS1, 0);
	connects(p, NS1, AT_MS(0), 100, "a", LO, 10, "127.0.0.1", 8080);
	/* Four closed passively (or reset): no TIME_WAIT; two left in TIME_WAIT. */
	for (i = 0; i < 4; i++)
		close4(p, NS1, AT_MS(100 + i), 100, "a", "127.0.0.1", (uint16_t)(LO + i), "127.0.0.1",
		       8080, false);
	for (i = 4; i < 6; i++)
		close4(p, NS1, AT_MS(100 + i), 100, "a", "127.0.0.1", (uint16_t)(LO + i), "127.0.0.1",
		       8080, true);
	tick(p, AT_S(1), NULL);

	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 6);
	assert_int_equal(v->time_wait, 2);
	assert_int_equal(must_kind(vs, NS1, PW_POOL_BIND)->in_use, 6);

	/* All closed without TIME_WAIT: nothing left, at once. */
	for (i = 6; i < 10; i++)
		close4(p, NS1, AT_MS(1100 + i), 100, "a", "127.0.0.1", (uint16_t)(LO + i),
		       "127.0.0.1", 8080, false);
	tick(p, AT_S(2), NULL);
	v = must_connect(views_of(p, NS1), NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 2);
	assert_int_equal(v->time_wait, 2);
}

/* ---- 3. tcp_tw_reuse ---------------------------------------------------- */

/* 10 connections to dst:80 closed into TIME_WAIT at 0.5 s; views at 0.8 s and 3 s. */
static void tw_reuse_case(struct pw_pools *p, uint8_t tw_reuse, const char *src, const char *dst,
			  uint32_t young_in_use, uint32_t old_in_use)
{
	char dest[64];
	const struct pw_pool_view *v;
	struct views *vs;
	int i;

	snprintf(dest, sizeof(dest), "%s:80", dst);
	set_range(p, NS1, tw_reuse);
	for (i = 0; i < 10; i++) {
		connect4(p, NS1, AT_MS(i), 100, "ab", src, (uint16_t)(LO + i), dst, 80);
		close4(p, NS1, AT_MS(500 + i), 100, "ab", src, (uint16_t)(LO + i), dst, 80, true);
	}
	/* Less than 1 s old: connect() cannot take them over yet. */
	tick(p, AT_MS(800), NULL);
	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, dest);
	assert_int_equal(v->in_use, young_in_use);
	assert_int_equal(v->time_wait, young_in_use);
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 10);
	assert_int_equal(v->time_wait, 10);

	tick(p, AT_S(3), NULL);
	vs = views_of(p, NS1);
	v = find_connect(vs, NS1, dest);
	if (old_in_use) {
		assert_non_null(v);
		assert_int_equal(v->in_use, old_in_use);
		assert_int_equal(v->time_wait, old_in_use);
	} else {
		assert_true(!v || (v->in_use == 0 && v->time_wait == 0));
	}
	/* The bind pool cannot reuse TIME_WAIT, whatever tcp_tw_reuse says. */
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 10);
	assert_int_equal(v->time_wait, 10);
}

static void test_tw_reuse_1(void **state)
{
	tw_reuse_case(*state, 1, "198.18.0.1", "198.18.0.2", 10, 0);
}

static void test_tw_reuse_2_loopback(void **state)
{
	tw_reuse_case(*state, 2, "127.0.0.1", "127.0.0.1", 10, 0);
}

static void test_tw_reuse_2_not_loopback(void **state)
{
	tw_reuse_case(*state, 2, "198.18.0.1", "198.18.0.2", 10, 10);
}

static void test_tw_reuse_0(void **state)
{
	tw_reuse_case(*state, 0, "127.0.0.1", "127.0.0.1", 10, 10);
}

/* ---- 4. explicit binds -------------------------------------------------- */

static void test_bind_then_connect_counts_once(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;

	set_range(p, NS1, 0);
	/* Two plain connects, so that the pool has connections of its own. */
	connects(p, NS1, AT_MS(0), 100, "app", LO, 2, "127.0.0.1", 8080);
	/* bind(0.0.0.0:0) gave 40100, then connect() from that socket. */
	bind4(p, NS1, AT_MS(10), PW_PROTO_TCP, 100, "app", "0.0.0.0", LO + 100, 0);
	connect4(p, NS1, AT_MS(11), 100, "app", "127.0.0.1", LO + 100, "127.0.0.1", 8080);
	tick(p, AT_S(1), NULL);

	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 3);
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 3);

	/* The bound-then-connected port closes: gone from both. */
	close4(p, NS1, AT_MS(1100), 100, "app", "127.0.0.1", LO + 100, "127.0.0.1", 8080, false);
	tick(p, AT_S(2), NULL);
	vs = views_of(p, NS1);
	assert_int_equal(must_connect(vs, NS1, "127.0.0.1:8080")->in_use, 2);
	assert_int_equal(must_kind(vs, NS1, PW_POOL_BIND)->in_use, 2);
}

/*
 * A destination reached only by sockets that bind() before connect(): the
 * pool is in use (and alerts), so pw_pools_each must list it.
 */
static void test_bind_connect_only_pool_listed(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;
	int i;

	set_range(p, NS1, 0);
	for (i = 0; i < 10; i++) {
		bind4(p, NS1, AT_MS(i * 2), PW_PROTO_TCP, 100, "app", "0.0.0.0", (uint16_t)(LO + i), 0);
		connect4(p, NS1, AT_MS(i * 2 + 1), 100, "app", "127.0.0.1", (uint16_t)(LO + i),
			 "127.0.0.1", 8080);
	}
	tick(p, AT_S(1), NULL);

	vs = views_of(p, NS1);
	assert_int_equal(must_kind(vs, NS1, PW_POOL_BIND)->in_use, 10);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 10);
}

static void test_bind_only_in_every_connect_pool(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;
	int i;

	set_range(p, NS1, 0);
	set_range(p, NS2, 0);
	connects(p, NS1, AT_MS(0), 100, "a", LO, 3, "127.0.0.1", 8080);
	connects(p, NS1, AT_MS(10), 200, "b", LO + 10, 4, "198.18.0.2", 443);
	/* Five bound-only TCP sockets (bind(0), no connect nor listen). */
	for (i = 0; i < 5; i++)
		bind4(p, NS1, AT_MS(20 + i), PW_PROTO_TCP, 300, "binder", "0.0.0.0",
		      (uint16_t)(LO + 100 + i), 0);
	/* A listener on a port of the range: skipped by connect() too. */
	listen4(p, NS1, AT_MS(30), 400, "srv", "0.0.0.0", LO + 150);
	/* Another namespace is another pool. */
	connects(p, NS2, AT_MS(40), 500, "c", LO, 2, "127.0.0.1", 8080);
	tick(p, AT_S(1), NULL);

	vs = views_of(p, 0);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 3 + 6);
	v = must_connect(vs, NS1, "198.18.0.2:443");
	assert_int_equal(v->in_use, 4 + 6);
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 3 + 4 + 6);
	v = must_connect(vs, NS2, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 2);
	assert_int_equal(must_kind(vs, NS2, PW_POOL_BIND)->in_use, 2);
	/* A UDP bind is the UDP pool's, not TCP's. */
	assert_null(find_kind(vs, NS1, PW_POOL_UDP));

	/* The bound sockets close: the connect pools shrink back. */
	for (i = 0; i < 5; i++) {
		struct pw_ev e = mkev(PW_EV_CLOSE, PW_PROTO_TCP, 4, AT_MS(1100 + i), NS1, 300,
				      "binder");

		ev_local(&e, "0.0.0.0", (uint16_t)(LO + 100 + i));
		feed(p, &e);
	}
	tick(p, AT_S(2), NULL);
	vs = views_of(p, NS1);
	assert_int_equal(must_connect(vs, NS1, "127.0.0.1:8080")->in_use, 3 + 1);
	assert_int_equal(must_kind(vs, NS1, PW_POOL_BIND)->in_use, 3 + 4 + 1);
}

static void test_hint_bind_before_connect(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	int i;

	set_range(p, NS1, 0);
	connects(p, NS1, AT_MS(0), 100, "app", LO + 100, 2, "127.0.0.1", 8080);
	for (i = 0; i < 10; i++) {
		bind4(p, NS1, AT_MS(10 + i * 2), PW_PROTO_TCP, 100, "app", "0.0.0.0",
		      (uint16_t)(LO + i), 0);
		connect4(p, NS1, AT_MS(11 + i * 2), 100, "app", "127.0.0.1", (uint16_t)(LO + i),
			 "127.0.0.1", 8080);
	}
	tick(p, AT_S(1), NULL);
	v = must_connect(views_of(p, NS1), NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 12);
	assert_non_null(strstr(v->hint, "IP_BIND_ADDRESS_NO_PORT"));

	/* Plain connects dominate: no such advice. */
	connects(p, NS1, AT_MS(1000), 100, "app", LO + 20, 60, "127.0.0.1", 8080);
	tick(p, AT_S(2), NULL);
	v = must_connect(views_of(p, NS1), NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 72);
	assert_null(strstr(v->hint, "IP_BIND_ADDRESS_NO_PORT"));
}

/* ---- 5. ETA projection, severity, alerts -------------------------------- */

static int count_alerts(const struct alerts *al, enum pw_pool_kind kind)
{
	int i, n = 0;

	for (i = 0; i < al->n; i++)
		n += al->a[i].v.kind == kind;
	return n;
}

/* The i-th alert of kind. */
static const struct alert_rec *nth_alert(const struct alerts *al, enum pw_pool_kind kind, int nth)
{
	int i;

	for (i = 0; i < al->n; i++)
		if (al->a[i].v.kind == kind && nth-- == 0)
			return &al->a[i];
	fail_msg("no alert #%d for the %s pool", nth, pw_pool_kind_name(kind));
	return NULL;
}

static void test_eta_churn(void **state)
{
	static struct alerts al;
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct pw_pool_view at[21];
	int s, k, first_crit = 0;

	memset(&al, 0, sizeof(al));
	memset(at, 0, sizeof(at));
	set_range(p, NS1, 0);
	/* 10 connections a second, each closed into TIME_WAIT; one tick a second. */
	for (s = 1; s <= 20; s++) {
		for (k = 0; k < 10; k++) {
			int i = (s - 1) * 10 + k;
			uint64_t t = AT_MS(i * 100);

			connect4(p, NS1, t, 777, "churn", "127.0.0.1", (uint16_t)(LO + i),
				 "127.0.0.1", 8080);
			close4(p, NS1, t + MS, 777, "churn", "127.0.0.1", (uint16_t)(LO + i),
			       "127.0.0.1", 8080, true);
		}
		tick(p, AT_S(s), &al);
		v = must_connect(views_of(p, NS1), NS1, "127.0.0.1:8080");
		at[s] = *v;
		assert_int_equal(v->in_use, 10 * s);
		assert_int_equal(v->time_wait, 10 * s);
		assert_int_equal(v->capacity, 200);
	}

	/* t = 5 s: 50 of 200 taken, 10 more a second, none freed for 55 s: dry in 15 s. */
	assert_true(at[5].eta_known);
	if (at[5].eta_s < 14 || at[5].eta_s > 16)
		fail_msg("eta at t=5 is %u s, expected 15 +- 1", at[5].eta_s);
	assert_int_equal(at[5].severity, PW_SEV_WARNING);
	assert_true(at[4].eta_known);
	assert_int_equal(at[4].severity, PW_SEV_WARNING);
	assert_true(at[1].severity < PW_SEV_WARNING);
	/* Connects/s, from the events. */
	assert_true(at[5].alloc_rate > 9.0 && at[5].alloc_rate < 11.0);

	for (s = 1; s <= 20; s++) {
		if (at[s].severity == PW_SEV_CRITICAL && !first_crit)
			first_crit = s;
		if (!first_crit && at[s].eta_known)
			assert_true(at[s].eta_s > 10);
		if (at[s].eta_known && at[s].eta_s <= 10 && at[s].in_use >= 10)
			assert_int_equal(at[s].severity, PW_SEV_CRITICAL);
	}
	/* 100 taken at t=10, 10 more a second: dry in 10 s. */
	assert_int_equal(first_crit, 10);
	assert_true(at[10].eta_known);
	assert_true(at[10].eta_s <= 10 && at[10].eta_s >= 9);
	assert_true(at[9].eta_known && at[9].eta_s > 10);
	assert_int_equal(at[9].severity, PW_SEV_WARNING);
	/* t=20: all 200 ports taken. */
	assert_int_equal(at[20].severity, PW_SEV_CRITICAL);
	assert_true(at[20].eta_known);
	assert_int_equal(at[20].eta_s, 0);

	/* Alerts: once on each rise, and a standing one again after 10 s. */
	assert_int_equal(count_alerts(&al, PW_POOL_CONNECT), 3);
	assert_int_equal(nth_alert(&al, PW_POOL_CONNECT, 0)->v.severity, PW_SEV_WARNING);
	assert_true(nth_alert(&al, PW_POOL_CONNECT, 0)->tick <= AT_S(5));
	assert_int_equal(nth_alert(&al, PW_POOL_CONNECT, 1)->v.severity, PW_SEV_CRITICAL);
	assert_int_equal(nth_alert(&al, PW_POOL_CONNECT, 1)->tick, AT_S(10));
	assert_string_equal(nth_alert(&al, PW_POOL_CONNECT, 1)->v.destination, "127.0.0.1:8080");
	assert_int_equal(nth_alert(&al, PW_POOL_CONNECT, 2)->v.severity, PW_SEV_CRITICAL);
	assert_int_equal(nth_alert(&al, PW_POOL_CONNECT, 2)->tick, AT_S(20));
	/* The alert carries the consumer (TIME_WAIT keeps the last owner) and a hint. */
	v = &nth_alert(&al, PW_POOL_CONNECT, 1)->v;
	assert_true(v->n_top >= 1);
	assert_int_equal(v->top[0].pid, 777);
	assert_non_null(strstr(v->hint, "TIME_WAIT"));
}

static void test_control_low_churn(void **state)
{
	static struct alerts al;
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	int s, k;

	memset(&al, 0, sizeof(al));
	set_range(p, NS1, 0);
	for (s = 1; s <= 30; s++) {
		for (k = 0; k < 2; k++) {
			int i = (s - 1) * 2 + k;
			uint64_t t = AT_MS(i * 500);

			connect4(p, NS1, t, 777, "slow", "127.0.0.1", (uint16_t)(LO + i),
				 "127.0.0.1", 8080);
			close4(p, NS1, t + MS, 777, "slow", "127.0.0.1", (uint16_t)(LO + i),
			       "127.0.0.1", 8080, true);
		}
		tick(p, AT_S(s), &al);
		v = must_connect(views_of(p, NS1), NS1, "127.0.0.1:8080");
		assert_int_equal(v->in_use, 2 * s);
		if (v->severity > PW_SEV_INFO)
			fail_msg("t=%d s: severity %s", s, pw_severity_name(v->severity));
		if (v->eta_known)
			fail_msg("t=%d s: eta %u s", s, v->eta_s);
		v = must_kind(views_of(p, NS1), NS1, PW_POOL_BIND);
		assert_true(v->severity <= PW_SEV_INFO);
	}
	for (k = 0; k < al.n; k++)
		assert_true(al.a[k].v.severity <= PW_SEV_INFO);
}

/* 20 new connections a second, none closed: dry in (200 - in_use) / 20 s. */
static void test_eta_held_growth(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	int s, k;

	set_range(p, NS1, 0);
	for (s = 1; s <= 6; s++) {
		for (k = 0; k < 20; k++) {
			int i = (s - 1) * 20 + k;

			connect4(p, NS1, AT_MS(i * 50), 888, "pool", "127.0.0.1", (uint16_t)(LO + i),
				 "127.0.0.1", 5432);
		}
		tick(p, AT_S(s), NULL);
		v = must_connect(views_of(p, NS1), NS1, "127.0.0.1:5432");
		assert_int_equal(v->in_use, 20 * s);
		assert_int_equal(v->time_wait, 0);
		if (s >= 4) {
			int want = (int)(200 - v->in_use) / 20;

			assert_true(v->eta_known);
			if ((int)v->eta_s < want - 1 || (int)v->eta_s > want + 1)
				fail_msg("t=%d s: eta %u s, expected %d +- 1", s, v->eta_s, want);
			assert_int_equal(v->severity, PW_SEV_CRITICAL);
			assert_non_null(strstr(v->hint, "held open"));
		}
	}
}

/* A standing critical pool alerts once, then every 10 s; dropping and rising again alerts. */
static void test_alert_repeat_standing(void **state)
{
	static struct alerts al;
	struct pw_pools *p = *state;
	int s;

	memset(&al, 0, sizeof(al));
	set_range(p, NS1, 0);
	connects(p, NS1, AT_MS(0), 100, "a", LO, 185, "127.0.0.1", 8080);
	for (s = 1; s <= 25; s++)
		tick(p, AT_S(s), &al);
	assert_int_equal(count_alerts(&al, PW_POOL_CONNECT), 3);
	assert_int_equal(nth_alert(&al, PW_POOL_CONNECT, 0)->tick, AT_S(1));
	assert_int_equal(nth_alert(&al, PW_POOL_CONNECT, 0)->v.severity, PW_SEV_CRITICAL);
	assert_int_equal(nth_alert(&al, PW_POOL_CONNECT, 1)->tick, AT_S(11));
	assert_int_equal(nth_alert(&al, PW_POOL_CONNECT, 2)->tick, AT_S(21));
	assert_int_equal(count_alerts(&al, PW_POOL_BIND), 3);
	assert_int_equal(nth_alert(&al, PW_POOL_BIND, 0)->v.severity, PW_SEV_CRITICAL);
	assert_int_equal(nth_alert(&al, PW_POOL_BIND, 0)->v.in_use, 185);
}

/* Half of a connect pool: info (connect() latency jumps); the bind pool stays quiet. */
static void test_severity_info_at_half(void **state)
{
	static struct alerts al;
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;
	int s;

	memset(&al, 0, sizeof(al));
	set_range(p, NS1, 0);
	/* 100 long-lived connections, opened over 5 s, then steady. */
	for (s = 0; s < 5; s++)
		connects(p, NS1, AT_MS(s * 1000), 100, "a", (uint16_t)(LO + s * 20), 20, "127.0.0.1",
			 8080);
	for (s = 1; s <= 15; s++)
		tick(p, AT_S(s), &al);
	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 100);
	assert_false(v->eta_known);
	assert_int_equal(v->severity, PW_SEV_INFO);
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 100);
	assert_int_equal(v->severity, PW_SEV_NONE);
	assert_false(v->eta_known);

	/* 140 of 200, steady: warning for both, whatever the rates. */
	connects(p, NS1, AT_MS(15100), 100, "a", LO + 100, 40, "127.0.0.1", 8080);
	for (s = 16; s <= 30; s++)
		tick(p, AT_S(s), &al);
	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 140);
	assert_false(v->eta_known);
	assert_int_equal(v->severity, PW_SEV_WARNING);
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->severity, PW_SEV_WARNING);
	assert_true(count_alerts(&al, PW_POOL_BIND) >= 1);
}

/*
 * A burst, then nothing: 100 connections opened within 0.1 s (a client's
 * connection pool warming up) and held. The pool stays at 100 of 200 for
 * the next seconds; projecting it dry "in 2 s, 3 s, 4 s, 5 s" while it
 * does not move is a false critical alert. Half full is info, no more.
 */
static void test_burst_then_flat(void **state)
{
	static struct alerts al;
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	int s;

	memset(&al, 0, sizeof(al));
	set_range(p, NS1, 0);
	connects(p, NS1, AT_MS(0), 100, "warmup", LO, 100, "127.0.0.1", 5432);
	for (s = 1; s <= 8; s++) {
		tick(p, AT_S(s), &al);
		v = must_connect(views_of(p, NS1), NS1, "127.0.0.1:5432");
		assert_int_equal(v->in_use, 100);
		if (s >= 2 && v->severity > PW_SEV_INFO)
			fail_msg("t=%d s: %s, dry in %u s, though nothing changed since t=0.1 s", s,
				 pw_severity_name(v->severity), v->eta_s);
	}
	for (s = 0; s < al.n; s++)
		if (al.a[s].v.severity == PW_SEV_CRITICAL)
			fail_msg("critical alert at t=%llu s for a pool that stopped growing",
				 (unsigned long long)((al.a[s].tick - T0) / SEC));
}

/*
 * Regression (FULL=1 under qemu, 5.10 and 6.1): a loopback churn with
 * tcp_tw_reuse=2 that starts slowly (10, 20, 30, then 40 connections a
 * second) was warned about ("dry in 23-40 s") while it spread over the even
 * ports, though connect() recycles TIME_WAIT there and settles on half the
 * range. The kernel is modelled: each connect takes the next even port
 * that is free or whose TIME_WAIT is 1 s old.
 */
static void test_tw_reuse_churn_ramp_is_no_exhaustion(void **state)
{
	static struct alerts al;
	static uint64_t tw_since[100];
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	unsigned cursor = 0, s, k, rate, tries;
	uint64_t t;

	memset(&al, 0, sizeof(al));
	memset(tw_since, 0, sizeof(tw_since));
	set_range(p, NS1, 2);
	for (s = 0; s < 12; s++) {
		rate = s < 4 ? 10 * (s + 1) : 40;
		for (k = 0; k < rate; k++) {
			t = AT_S(s) + (uint64_t)k * SEC / rate;
			for (tries = 0; tries < 100; tries++, cursor = (cursor + 1) % 100)
				if (!tw_since[cursor] || t - tw_since[cursor] >= SEC)
					break;
			assert_true(tries < 100); /* half the range always has a reusable port */
			connect4(p, NS1, t, 555, "churn", "127.0.0.1", (uint16_t)(LO + 2 * cursor), "127.0.0.1",
				 8080);
			close4(p, NS1, t + MS, 555, "churn", "127.0.0.1", (uint16_t)(LO + 2 * cursor),
			       "127.0.0.1", 8080, true);
			tw_since[cursor] = t + MS;
			cursor = (cursor + 1) % 100;
		}
		tick(p, AT_S(s + 1), &al);
		v = must_kind(views_of(p, NS1), NS1, PW_POOL_BIND);
		assert_true(v->in_use <= 100);
		if (v->severity >= PW_SEV_WARNING)
			fail_msg("t=%u s: bind pool %s at %u/%u, dry in %u s, for a churn tcp_tw_reuse recycles",
				 s + 1, pw_severity_name(v->severity), v->in_use, v->capacity, v->eta_s);
	}
	assert_int_equal(al.n, 0);
}

/* ---- 7. failures -------------------------------------------------------- */

static struct pw_ev fail_ev(int kind, int proto, int32_t result)
{
	struct pw_ev e = mkev(kind, proto, 4, AT_MS(5), NS1, 321, "client");

	e.result = result;
	return e;
}

static void expect_failure(struct pw_pools *p, const struct pw_ev *e, enum pw_pool_kind kind,
			   const char *destination)
{
	struct pw_pool_failure f;

	memset(&f, 0x55, sizeof(f));
	assert_true(pw_pools_event(p, e, &f));
	assert_int_equal(f.kind, kind);
	assert_int_equal(f.netns, NS1);
	assert_int_equal(f.proto, e->proto);
	assert_int_equal(f.pid, 321);
	assert_string_equal(f.comm, "client");
	assert_string_equal(f.destination, destination);
	assert_int_equal(f.result, e->result);
	assert_int_equal(f.wall_ns, e->wall_ns);
}

static void expect_no_failure(struct pw_pools *p, const struct pw_ev *e)
{
	struct pw_pool_failure f;

	assert_false(pw_pools_event(p, e, &f));
}

static void test_failure_tcp_connect(void **state)
{
	struct pw_ev e = fail_ev(PW_EV_CONNECT, PW_PROTO_TCP, -EADDRNOTAVAIL);

	ev_local(&e, "127.0.0.1", 0);
	ev_remote(&e, "127.0.0.1", 8080);
	expect_failure(*state, &e, PW_POOL_CONNECT, "127.0.0.1:8080");
}

static void test_failure_tcp_connect_ipv6(void **state)
{
	struct pw_ev e = fail_ev(PW_EV_CONNECT, PW_PROTO_TCP, -EADDRNOTAVAIL);

	e.family = 6;
	ev_local(&e, "::", 0);
	ev_remote(&e, "2001:db8::2", 80);
	expect_failure(*state, &e, PW_POOL_CONNECT, "[2001:db8::2]:80");
}

static void test_failure_tcp_bind_port0(void **state)
{
	struct pw_ev e = fail_ev(PW_EV_BIND, PW_PROTO_TCP, -EADDRINUSE);

	ev_local(&e, "0.0.0.0", 0);
	e.req_port = 0;
	expect_failure(*state, &e, PW_POOL_BIND, "");
}

static void test_failure_udp_bind_port0(void **state)
{
	struct pw_ev e = fail_ev(PW_EV_BIND, PW_PROTO_UDP, -EADDRINUSE);

	ev_local(&e, "0.0.0.0", 0);
	expect_failure(*state, &e, PW_POOL_UDP, "");
}

static void test_failure_udp_autobind(void **state)
{
	struct pw_ev e = fail_ev(PW_EV_BIND, PW_PROTO_UDP, -EAGAIN);

	e.autobind = true;
	ev_local(&e, "0.0.0.0", 0);
	expect_failure(*state, &e, PW_POOL_UDP, "");
}

static void test_failure_udp_connect(void **state)
{
	struct pw_ev e = fail_ev(PW_EV_CONNECT, PW_PROTO_UDP, -EAGAIN);

	ev_local(&e, "0.0.0.0", 0);
	ev_remote(&e, "198.18.0.2", 53);
	expect_failure(*state, &e, PW_POOL_UDP, "198.18.0.2:53");
}

static void test_failure_listen_unbound(void **state)
{
	struct pw_ev e = fail_ev(PW_EV_LISTEN, PW_PROTO_TCP, -EADDRINUSE);

	ev_local(&e, "0.0.0.0", 0);
	expect_failure(*state, &e, PW_POOL_BIND, "");
}

static void test_not_failures(void **state)
{
	struct pw_pools *p = *state;
	struct pw_ev e;

	/* bind() to a fixed port that is taken: a conflict, not exhaustion. */
	e = fail_ev(PW_EV_BIND, PW_PROTO_TCP, -EADDRINUSE);
	ev_local(&e, "0.0.0.0", 8080);
	e.req_port = 8080;
	expect_no_failure(p, &e);
	e.proto = PW_PROTO_UDP;
	expect_no_failure(p, &e);
	/* Refused, timed out, unreachable: the pool is fine. */
	e = fail_ev(PW_EV_CONNECT, PW_PROTO_TCP, -ECONNREFUSED);
	ev_local(&e, "127.0.0.1", LO);
	ev_remote(&e, "127.0.0.1", 8080);
	expect_no_failure(p, &e);
	e.result = -ETIMEDOUT;
	expect_no_failure(p, &e);
	e.result = -EINPROGRESS;
	expect_no_failure(p, &e);
	/* TCP connect EAGAIN is not the UDP pool's. */
	e.result = -EAGAIN;
	expect_no_failure(p, &e);
	/* listen() on a bound socket whose port someone else listens on. */
	e = fail_ev(PW_EV_LISTEN, PW_PROTO_TCP, -EADDRINUSE);
	ev_local(&e, "0.0.0.0", 8080);
	expect_no_failure(p, &e);
	/* bind() with a bad address. */
	e = fail_ev(PW_EV_BIND, PW_PROTO_TCP, -EADDRNOTAVAIL);
	ev_local(&e, "198.18.0.9", 0);
	expect_no_failure(p, &e);
	/* A failure takes no port. */
	tick(p, AT_S(1), NULL);
	assert_int_equal(views_of(p, 0)->n, 0);
}

/* ---- 8. census reconciliation ------------------------------------------- */

static void test_census_removes_unseen(void **state)
{
	struct pw_pools *p = *state;
	struct pw_sock s;
	const struct pw_pool_view *v;
	struct views *vs;
	int i;

	set_range(p, NS1, 0);
	set_range(p, NS2, 0);
	connects(p, NS1, AT_MS(0), 100, "a", LO, 5, "127.0.0.1", 8080);
	connects(p, NS2, AT_MS(0), 100, "a", LO, 4, "127.0.0.1", 8080);
	tick(p, AT_S(1), NULL);
	assert_int_equal(must_connect(views_of(p, NS1), NS1, "127.0.0.1:8080")->in_use, 5);

	/* The pass sees three of NS1's five (two closed unseen); NS2 is not walked. */
	pw_pools_census_begin(p, AT_S(5));
	for (i = 0; i < 3; i++) {
		s = mksock(PW_ORIGIN_TASK_FILE, PW_PROTO_TCP, PW_TCP_ESTABLISHED, NS1, "127.0.0.1",
			   (uint16_t)(LO + i), "127.0.0.1", 8080, 100, "a", 0);
		pw_pools_census_sock(p, &s);
	}
	pw_pools_census_end(p, NS1);
	tick(p, AT_S(6), NULL);

	vs = views_of(p, 0);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 3);
	assert_int_equal(v->top[0].pid, 100);
	assert_int_equal(must_kind(vs, NS1, PW_POOL_BIND)->in_use, 3);
	assert_int_equal(must_connect(vs, NS2, "127.0.0.1:8080")->in_use, 4);

	/* An empty pass of NS2: all gone. */
	pw_pools_census_begin(p, AT_S(10));
	pw_pools_census_end(p, NS2);
	tick(p, AT_S(11), NULL);
	vs = views_of(p, 0);
	assert_null(find_connect(vs, NS2, "127.0.0.1:8080"));
	assert_null(find_kind(vs, NS2, PW_POOL_BIND));
	assert_int_equal(must_connect(vs, NS1, "127.0.0.1:8080")->in_use, 3);
}

static void test_census_adds_unknown_sockets(void **state)
{
	struct pw_pools *p = *state;
	struct pw_sock s;
	const struct pw_pool_view *v;
	struct views *vs;
	uint32_t pids[4];
	int i;

	set_range(p, NS1, 0);
	/* Sockets older than portwatch: only the census knows them. */
	pw_pools_census_begin(p, AT_S(1));
	for (i = 0; i < 7; i++) {
		s = mksock(PW_ORIGIN_TASK_FILE, PW_PROTO_TCP, PW_TCP_ESTABLISHED, NS1, "198.18.0.1",
			   (uint16_t)(LO + i), "198.18.0.2", 443, 600, "old", 0);
		pw_pools_census_sock(p, &s);
	}
	s = mksock(PW_ORIGIN_TASK_FILE, PW_PROTO_UDP, PW_TCP_CLOSE, NS1, "0.0.0.0", LO + 20, NULL,
		   0, 601, "dns", 0);
	pw_pools_census_sock(p, &s);
	pw_pools_census_end(p, NS1);
	tick(p, AT_S(2), NULL);

	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "198.18.0.2:443");
	assert_string_equal(v->source, "198.18.0.1");
	assert_int_equal(v->in_use, 7);
	assert_int_equal(v->top[0].pid, 600);
	assert_string_equal(v->top[0].comm, "old");
	assert_int_equal(must_kind(vs, NS1, PW_POOL_BIND)->in_use, 7);
	v = must_kind(vs, NS1, PW_POOL_UDP);
	assert_int_equal(v->in_use, 1);
	assert_int_equal(v->proto, PW_PROTO_UDP);
	assert_int_equal(v->capacity, 200);
	/* The census names who lives in the namespace. */
	assert_int_equal(pw_pools_netns_pids(p, NS1, pids, 4), 2);
}

static void test_census_time_wait(void **state)
{
	struct pw_pools *p = *state;
	struct pw_sock s;
	const struct pw_pool_view *v;
	struct views *vs;

	set_range(p, NS1, 0);
	connects(p, NS1, AT_MS(0), 100, "a", LO, 2, "127.0.0.1", 8080);
	pw_pools_census_begin(p, AT_S(10));
	s = mksock(PW_ORIGIN_TASK_FILE, PW_PROTO_TCP, PW_TCP_ESTABLISHED, NS1, "127.0.0.1", LO,
		   "127.0.0.1", 8080, 100, "a", 0);
	pw_pools_census_sock(p, &s);
	s = mksock(PW_ORIGIN_TCP_ITER, PW_PROTO_TCP, PW_TCP_ESTABLISHED, NS1, "127.0.0.1", LO + 1,
		   "127.0.0.1", 8080, 0, NULL, 0);
	pw_pools_census_sock(p, &s);
	/* A TIME_WAIT nobody told us about: 30 s left. */
	s = mksock(PW_ORIGIN_TCP_ITER, PW_PROTO_TCP, PW_TCP_TIME_WAIT, NS1, "127.0.0.1", LO + 20,
		   "127.0.0.1", 8080, 0, NULL, 30000);
	pw_pools_census_sock(p, &s);
	/* And one with 5 s left. */
	s = mksock(PW_ORIGIN_TCP_ITER, PW_PROTO_TCP, PW_TCP_TIME_WAIT, NS1, "127.0.0.1", LO + 21,
		   "127.0.0.1", 8080, 0, NULL, 5000);
	pw_pools_census_sock(p, &s);
	pw_pools_census_end(p, NS1);

	tick(p, AT_S(11), NULL);
	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 4);
	assert_int_equal(v->time_wait, 2);
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 4);
	assert_int_equal(v->time_wait, 2);

	/* 5 s after the pass: the short one is gone. */
	tick(p, AT_MS(15500), NULL);
	v = must_connect(views_of(p, NS1), NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 3);
	assert_int_equal(v->time_wait, 1);

	/* 29 s after the pass: still held; 31 s: free. */
	tick(p, AT_S(39), NULL);
	v = must_connect(views_of(p, NS1), NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 3);
	assert_int_equal(v->time_wait, 1);
	tick(p, AT_S(41), NULL);
	v = must_connect(views_of(p, NS1), NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 2);
	assert_int_equal(v->time_wait, 0);
}

static void test_census_keeps_events_during_pass(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;

	set_range(p, NS1, 0);
	connects(p, NS1, AT_MS(0), 100, "a", LO, 3, "127.0.0.1", 8080);
	pw_pools_census_begin(p, AT_S(5));
	/* Connections made and a TIME_WAIT left while the iterators ran. */
	connect4(p, NS1, AT_MS(5100), 100, "a", "127.0.0.1", LO + 10, "127.0.0.1", 8080);
	connect4(p, NS1, AT_MS(5200), 100, "a", "127.0.0.1", LO + 11, "127.0.0.1", 8080);
	close4(p, NS1, AT_MS(5300), 100, "a", "127.0.0.1", LO + 11, "127.0.0.1", 8080, true);
	/* Touched at the pass's very start counts as during it. */
	connect4(p, NS1, AT_S(5), 100, "a", "127.0.0.1", LO + 12, "127.0.0.1", 8080);
	pw_pools_census_end(p, NS1);
	tick(p, AT_S(6), NULL);

	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 3);
	assert_int_equal(v->time_wait, 1);
}

/*
 * Census: a server pid 700 listening on LO + 150 (a port of the range) in NS1,
 * with 5 accepted connections from 198.18.0.2:50000-50004.
 */
static void census_server_with_accepted(struct pw_pools *p)
{
	struct pw_sock s;
	int i;

	s = mksock(PW_ORIGIN_TASK_FILE, PW_PROTO_TCP, PW_TCP_LISTEN, NS1, "0.0.0.0", LO + 150, NULL,
		   0, 700, "srv", 0);
	pw_pools_census_sock(p, &s);
	for (i = 0; i < 5; i++) {
		s = mksock(PW_ORIGIN_TASK_FILE, PW_PROTO_TCP, PW_TCP_ESTABLISHED, NS1, "198.18.0.1",
			   LO + 150, "198.18.0.2", (uint16_t)(50000 + i), 700, "srv", 0);
		pw_pools_census_sock(p, &s);
	}
}

static void test_census_accepted_not_ephemeral(void **state)
{
	struct pw_pools *p = *state;
	struct pw_sock s;
	const struct pw_pool_view *v;
	struct views *vs;
	int i;

	set_range(p, NS1, 0);
	pw_pools_census_begin(p, AT_S(1));
	census_server_with_accepted(p);
	/* And one of its own outgoing connections. */
	s = mksock(PW_ORIGIN_TASK_FILE, PW_PROTO_TCP, PW_TCP_ESTABLISHED, NS1, "198.18.0.1", LO,
		   "198.18.0.3", 443, 700, "srv", 0);
	pw_pools_census_sock(p, &s);
	pw_pools_census_end(p, NS1);
	tick(p, AT_S(2), NULL);

	vs = views_of(p, NS1);
	for (i = 0; i < 5; i++) {
		char dest[32];

		snprintf(dest, sizeof(dest), "198.18.0.2:%d", 50000 + i);
		assert_null(find_connect(vs, NS1, dest));
	}
	assert_int_equal(count_kind(vs, PW_POOL_CONNECT), 1);
	v = must_connect(vs, NS1, "198.18.0.3:443");
	assert_int_equal(v->in_use, 2); /* its own, and the listener's port */
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 2);
	assert_int_equal(v->n_dests, 1);
}

/* ---- 9. IPv6 ------------------------------------------------------------ */

static void test_ipv6_destination(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;
	int i;

	set_range(p, NS1, 0);
	for (i = 0; i < 4; i++) {
		struct pw_ev e = mkev(PW_EV_CONNECT, PW_PROTO_TCP, 6, AT_MS(i), NS1, 900, "curl6");

		ev_local(&e, "2001:db8::1", (uint16_t)(LO + i));
		ev_remote(&e, "2001:db8::2", 80);
		feed(p, &e);
	}
	/* IPv4 to the same port, same source ports: another pool. */
	connects(p, NS1, AT_MS(10), 900, "curl6", LO, 2, "198.18.0.2", 80);
	tick(p, AT_S(1), NULL);

	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "[2001:db8::2]:80");
	assert_string_equal(v->source, "2001:db8::1");
	assert_int_equal(v->in_use, 4);
	assert_int_equal(v->capacity, 200); /* IPv6 uses the IPv4 range */
	assert_int_equal(v->top[0].pid, 900);
	assert_int_equal(must_connect(vs, NS1, "198.18.0.2:80")->in_use, 2);
	/* Ports are ports: the bind pool counts 40000-40003 once. */
	assert_int_equal(must_kind(vs, NS1, PW_POOL_BIND)->in_use, 4);

	/* Closed into TIME_WAIT and expired. */
	for (i = 0; i < 4; i++) {
		struct pw_ev e = mkev(PW_EV_CLOSE, PW_PROTO_TCP, 6, AT_MS(1100 + i), NS1, 900,
				      "curl6");

		ev_local(&e, "2001:db8::1", (uint16_t)(LO + i));
		ev_remote(&e, "2001:db8::2", 80);
		e.time_wait = true;
		feed(p, &e);
	}
	tick(p, AT_S(2), NULL);
	v = must_connect(views_of(p, NS1), NS1, "[2001:db8::2]:80");
	assert_int_equal(v->in_use, 4);
	assert_int_equal(v->time_wait, 4);
	tick(p, AT_S(63), NULL);
	assert_null(find_connect(views_of(p, NS1), NS1, "[2001:db8::2]:80"));
}

/* ---- 10. hints ---------------------------------------------------------- */

static void assert_sane_hint(const struct pw_pool_view *v)
{
	if (strstr(v->hint, "tcp_tw_recycle") || strstr(v->hint, "fin_timeout"))
		fail_msg("bad advice in hint: %s", v->hint);
}

static void check_hints(void *ctx, const struct pw_pool_view *v)
{
	int *n = ctx;

	assert_sane_hint(v);
	if (v->in_use)
		assert_true(v->hint[0] != '\0');
	(*n)++;
}

static void test_hints_no_bad_advice(void **state)
{
	struct pw_pools *p = *state;
	int s, k, n = 0;

	set_range(p, NS1, 0);
	set_range(p, NS2, 2);
	/* TIME_WAIT churn, held connections, bind-only, listeners, UDP: every hint. */
	for (s = 1; s <= 8; s++) {
		for (k = 0; k < 15; k++) {
			int i = (s - 1) * 15 + k;

			connect4(p, NS1, AT_MS(i * 66), 1, "c", "127.0.0.1", (uint16_t)(LO + i),
				 "127.0.0.1", 80);
			close4(p, NS1, AT_MS(i * 66 + 1), 1, "c", "127.0.0.1", (uint16_t)(LO + i),
			       "127.0.0.1", 80, true);
			connect4(p, NS2, AT_MS(i * 66), 2, "d", "198.18.0.1", (uint16_t)(LO + i),
				 "198.18.0.2", 80);
			if (k % 2)
				close4(p, NS2, AT_MS(i * 66 + 1), 2, "d", "198.18.0.1",
				       (uint16_t)(LO + i), "198.18.0.2", 80, true);
		}
		tick(p, AT_S(s), NULL);
		pw_pools_each(p, 0, check_hints, &n);
	}
	for (k = 0; k < 30; k++) {
		bind4(p, NS2, AT_MS(9000 + k), PW_PROTO_TCP, 3, "b", "0.0.0.0", (uint16_t)(LO + 160 + k), 0);
		bind4(p, NS2, AT_MS(9000 + k), PW_PROTO_UDP, 3, "u", "0.0.0.0", (uint16_t)(LO + k), 0);
	}
	tick(p, AT_S(10), NULL);
	pw_pools_each(p, 0, check_hints, &n);
	assert_true(n >= 5);
}

/* 15 connections closed into TIME_WAIT 0.5 s ago (so tw_reuse cannot take them yet). */
static const struct pw_pool_view *tw_hint_view(struct pw_pools *p, uint8_t tw_reuse)
{
	int i;

	set_range(p, NS1, tw_reuse);
	for (i = 0; i < 15; i++) {
		connect4(p, NS1, AT_MS(i), 100, "web", "198.18.0.1", (uint16_t)(LO + i), "198.18.0.2",
			 80);
		close4(p, NS1, AT_MS(400 + i), 100, "web", "198.18.0.1", (uint16_t)(LO + i),
		       "198.18.0.2", 80, true);
	}
	tick(p, AT_MS(900), NULL);
	return must_connect(views_of(p, NS1), NS1, "198.18.0.2:80");
}

static void test_tw_hint_tw_reuse_0(void **state)
{
	const struct pw_pool_view *v = tw_hint_view(*state, 0);

	assert_int_equal(v->time_wait, 15);
	assert_non_null(strstr(v->hint, "TIME_WAIT"));
	assert_non_null(strstr(v->hint, "tw_reuse"));
	assert_sane_hint(v);
}

static void test_tw_hint_tw_reuse_2(void **state)
{
	const struct pw_pool_view *v = tw_hint_view(*state, 2);

	assert_int_equal(v->time_wait, 15);
	assert_non_null(strstr(v->hint, "TIME_WAIT"));
	assert_non_null(strstr(v->hint, "tw_reuse"));
	assert_sane_hint(v);
}

static void test_tw_hint_tw_reuse_1(void **state)
{
	const struct pw_pool_view *v = tw_hint_view(*state, 1);

	assert_int_equal(v->time_wait, 15);
	assert_non_null(strstr(v->hint, "TIME_WAIT"));
	assert_null(strstr(v->hint, "tw_reuse"));
	assert_sane_hint(v);
}

/* The range itself is a cause when it is narrow: the hint says so. */
static void test_hint_narrow_range(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;

	set_range(p, NS1, 0);
	connects(p, NS1, AT_MS(0), 100, "a", LO, 10, "127.0.0.1", 8080);
	set_range_r(p, NS2, 1024, 65535, 0, NULL);
	connects(p, NS2, AT_MS(0), 100, "a", 30000, 10, "127.0.0.1", 8080);
	tick(p, AT_S(1), NULL);
	v = must_connect(views_of(p, NS1), NS1, "127.0.0.1:8080");
	assert_non_null(strstr(v->hint, "ip_local_port_range"));
	v = must_connect(views_of(p, NS2), NS2, "127.0.0.1:8080");
	assert_int_equal(v->capacity, 64512);
	assert_null(strstr(v->hint, "ip_local_port_range"));
}

/*
 * The longest hint: TIME_WAIT churn to the longest IPv6 destination, by a
 * process with a 16-byte name, in a narrow range. The range advice comes
 * last and must survive whole.
 */
static void test_hint_not_truncated(void **state)
{
	static const uint16_t reserved[] = { 40197, 40198, 40199, 0 };
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	int i;

	set_range_r(p, NS1, LO, HI, 0, reserved);
	for (i = 0; i < 150; i++) {
		struct pw_ev e = mkev(PW_EV_CONNECT, PW_PROTO_TCP, 6, AT_MS(i), NS1, 4194304,
				      "0123456789abcdef");

		ev_local(&e, "2001:db8:1234:5678:9abc:def0:1234:5677", (uint16_t)(LO + i));
		ev_remote(&e, "2001:db8:1234:5678:9abc:def0:1234:5678", 65535);
		feed(p, &e);
		e.kind = PW_EV_CLOSE;
		e.mono_ns += 100 * MS;
		e.time_wait = true;
		feed(p, &e);
	}
	tick(p, AT_S(1), NULL);
	v = must_connect(views_of(p, NS1), NS1, "[2001:db8:1234:5678:9abc:def0:1234:5678]:65535");
	assert_int_equal(v->in_use, 150);
	assert_int_equal(v->capacity, 197);
	assert_non_null(strstr(v->hint, "TIME_WAIT"));
	assert_non_null(strstr(v->hint, "tw_reuse"));
	if (!strstr(v->hint, "widen net.ipv4.ip_local_port_range"))
		fail_msg("hint cut short (%zu bytes): %s", strlen(v->hint), v->hint);
}

/*
 * A connect pool whose connections are all gone, in a namespace where
 * bind()/listen() hold ports of the range: nothing of its own is in use,
 * so it is forgotten after a while (IDLE_NS, 120 s) and stops alerting.
 * The bind pool goes on alerting about the bound ports.
 */
static void test_idle_connect_pool_forgotten(void **state)
{
	static struct alerts al;
	struct pw_pools *p = *state;
	const struct alert_rec *last;
	int i, s, late = 0;

	memset(&al, 0, sizeof(al));
	set_range(p, NS1, 0);
	/* 140 bound-only ports: 70 % of every pool. */
	for (i = 0; i < 140; i++)
		bind4(p, NS1, AT_MS(i), PW_PROTO_TCP, 300, "binder", "0.0.0.0", (uint16_t)(LO + i), 0);
	/* Three destinations reached once each, long ago. */
	for (i = 0; i < 3; i++) {
		connect4(p, NS1, AT_MS(200 + i), 400, "once", "127.0.0.1", (uint16_t)(LO + 150 + i),
			 "127.0.0.1", (uint16_t)(9000 + i));
		close4(p, NS1, AT_MS(300 + i), 400, "once", "127.0.0.1", (uint16_t)(LO + 150 + i),
		       "127.0.0.1", (uint16_t)(9000 + i), false);
	}
	for (s = 1; s <= 400; s++)
		tick(p, AT_S(s), &al);

	for (i = 0; i < al.n; i++)
		if (al.a[i].v.kind == PW_POOL_CONNECT && al.a[i].tick > AT_S(130))
			late++;
	if (late)
		fail_msg("%d alerts after 130 s for connect pools unused since t=0 (e.g. %s)", late,
			 nth_alert(&al, PW_POOL_CONNECT, count_alerts(&al, PW_POOL_CONNECT) - 1)
				 ->v.destination);
	/* The bind pool's own warning stands. */
	last = nth_alert(&al, PW_POOL_BIND, count_alerts(&al, PW_POOL_BIND) - 1);
	assert_int_equal(last->v.severity, PW_SEV_WARNING);
	assert_true(last->tick > AT_S(390));
	assert_non_null(strstr(last->v.hint, "bind()"));
}

/* A v6 socket talking IPv4 (::ffff:a.b.c.d) is the IPv4 connection the events saw. */
static void test_census_v4mapped(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct pw_sock s;
	struct views *vs;

	set_range(p, NS1, 0);
	connects(p, NS1, AT_MS(0), 100, "a", LO, 1, "127.0.0.1", 8080);
	pw_pools_census_begin(p, AT_S(5));
	s = mksock(PW_ORIGIN_TASK_FILE, PW_PROTO_TCP, PW_TCP_ESTABLISHED, NS1, "127.0.0.1", LO,
		   "127.0.0.1", 8080, 100, "a", 0);
	s.family = PW_AF_INET6;
	memset(s.laddr, 0, 16);
	memset(s.raddr, 0, 16);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", s.laddr), 1);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", s.raddr), 1);
	pw_pools_census_sock(p, &s);
	pw_pools_census_end(p, NS1);
	tick(p, AT_S(6), NULL);

	vs = views_of(p, NS1);
	assert_int_equal(count_kind(vs, PW_POOL_CONNECT), 1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 1);
}

/* tcp_tw_reuse hands a TIME_WAIT 4-tuple to a new connection: one port, not two. */
static void test_tw_4tuple_reused(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;

	set_range(p, NS1, 1);
	connect4(p, NS1, AT_MS(0), 100, "a", "127.0.0.1", LO, "127.0.0.1", 8080);
	close4(p, NS1, AT_MS(10), 100, "a", "127.0.0.1", LO, "127.0.0.1", 8080, true);
	connect4(p, NS1, AT_MS(2000), 100, "a", "127.0.0.1", LO, "127.0.0.1", 8080);
	tick(p, AT_S(3), NULL);
	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 1);
	assert_int_equal(v->time_wait, 0);
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 1);
	assert_int_equal(v->time_wait, 0);
	/* And it lives on past the old TIME_WAIT's 60 s. */
	tick(p, AT_S(70), NULL);
	assert_int_equal(must_connect(views_of(p, NS1), NS1, "127.0.0.1:8080")->in_use, 1);
}

/* listen() on an unbound socket takes a port of the bind pool. */
static void test_listen_unbound_takes_port(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;

	set_range(p, NS1, 0);
	listen4(p, NS1, AT_MS(0), 10, "srv", "0.0.0.0", LO + 7);
	listen4(p, NS1, AT_MS(1), 11, "srv2", "0.0.0.0", 80); /* fixed, out of range */
	tick(p, AT_S(1), NULL);
	vs = views_of(p, NS1);
	v = must_kind(vs, NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 1);
	assert_int_equal(v->top[0].pid, 10);
	assert_string_equal(v->top[0].comm, "srv");
	/* The listener closes. */
	{
		struct pw_ev e = mkev(PW_EV_CLOSE, PW_PROTO_TCP, 4, AT_MS(1500), NS1, 10, "srv");

		ev_local(&e, "0.0.0.0", LO + 7);
		e.listener = true;
		feed(p, &e);
	}
	tick(p, AT_S(2), NULL);
	assert_null(find_kind(views_of(p, NS1), NS1, PW_POOL_BIND));
}

/* Top consumers: the three biggest, biggest first. */
static void test_top_consumers(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;

	set_range(p, NS1, 0);
	connects(p, NS1, AT_MS(0), 1, "one", LO, 2, "127.0.0.1", 80);
	connects(p, NS1, AT_MS(10), 2, "two", LO + 10, 7, "127.0.0.1", 80);
	connects(p, NS1, AT_MS(20), 3, "three", LO + 20, 1, "127.0.0.1", 80);
	connects(p, NS1, AT_MS(30), 4, "four", LO + 30, 5, "127.0.0.1", 80);
	tick(p, AT_S(1), NULL);
	v = must_connect(views_of(p, NS1), NS1, "127.0.0.1:80");
	assert_int_equal(v->in_use, 15);
	assert_int_equal(v->n_top, 3);
	assert_int_equal(v->top[0].pid, 2);
	assert_int_equal(v->top[0].count, 7);
	assert_string_equal(v->top[0].comm, "two");
	assert_int_equal(v->top[1].pid, 4);
	assert_int_equal(v->top[1].count, 5);
	assert_int_equal(v->top[2].pid, 1);
	assert_int_equal(v->top[2].count, 2);
}

/* ---- bind pool, UDP pool ------------------------------------------------ */

/*
 * connect() shares a source port between destinations: ten ports, each to
 * two destination ports, all closed into TIME_WAIT. The bind pool has ten
 * ports in use, all of them held by TIME_WAIT only: nothing is growing.
 */
static void test_bind_pool_shared_ports_time_wait(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	int i, s;

	set_range(p, NS1, 0);
	for (i = 0; i < 10; i++) {
		uint16_t port = (uint16_t)(LO + i);

		connect4(p, NS1, AT_MS(i), 100, "a", "127.0.0.1", port, "127.0.0.1", 8080);
		connect4(p, NS1, AT_MS(i), 100, "a", "127.0.0.1", port, "127.0.0.1", 8081);
		close4(p, NS1, AT_MS(100 + i), 100, "a", "127.0.0.1", port, "127.0.0.1", 8080, true);
		close4(p, NS1, AT_MS(100 + i), 100, "a", "127.0.0.1", port, "127.0.0.1", 8081, true);
	}
	for (s = 1; s <= 6; s++) {
		tick(p, AT_S(s), NULL);
		v = must_kind(views_of(p, NS1), NS1, PW_POOL_BIND);
		assert_int_equal(v->in_use, 10);
		if (v->time_wait > v->in_use)
			fail_msg("t=%d: bind pool time_wait %u > in_use %u", s, v->time_wait,
				 v->in_use);
		assert_int_equal(v->time_wait, 10);
		if (v->eta_known)
			fail_msg("t=%d: bind pool eta %u s with nothing growing", s, v->eta_s);
		assert_int_equal(v->severity, PW_SEV_NONE);
	}
}

static void test_udp_pool(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;
	struct pw_ev e;
	int i;

	set_range(p, NS1, 0);
	/* 6 sockets bound by sendto() (autobind), 4 by connect(). */
	for (i = 0; i < 6; i++) {
		e = mkev(PW_EV_BIND, PW_PROTO_UDP, 4, AT_MS(i), NS1, 55, "resolver");
		ev_local(&e, "0.0.0.0", (uint16_t)(LO + i));
		e.autobind = true;
		feed(p, &e);
	}
	for (i = 0; i < 4; i++) {
		e = mkev(PW_EV_CONNECT, PW_PROTO_UDP, 4, AT_MS(10 + i), NS1, 56, "quic");
		ev_local(&e, "198.18.0.1", (uint16_t)(LO + 10 + i));
		ev_remote(&e, "198.18.0.2", 443);
		feed(p, &e);
	}
	/* A bound UDP socket that connects keeps its port: counted once. */
	bind4(p, NS1, AT_MS(20), PW_PROTO_UDP, 57, "app", "0.0.0.0", LO + 30, 0);
	e = mkev(PW_EV_CONNECT, PW_PROTO_UDP, 4, AT_MS(21), NS1, 57, "app");
	ev_local(&e, "198.18.0.1", LO + 30);
	ev_remote(&e, "198.18.0.2", 53);
	feed(p, &e);
	/* A fixed port out of range. */
	bind4(p, NS1, AT_MS(22), PW_PROTO_UDP, 58, "named", "0.0.0.0", 53, 53);
	tick(p, AT_S(1), NULL);

	vs = views_of(p, NS1);
	v = must_kind(vs, NS1, PW_POOL_UDP);
	assert_int_equal(v->proto, PW_PROTO_UDP);
	assert_int_equal(v->in_use, 11);
	assert_int_equal(v->capacity, 200);
	assert_int_equal(v->time_wait, 0);
	assert_int_equal(v->top[0].pid, 55);
	assert_int_equal(v->top[0].count, 6);
	/* UDP holds no TCP port. */
	assert_null(find_kind(vs, NS1, PW_POOL_BIND));
	assert_int_equal(count_kind(vs, PW_POOL_CONNECT), 0);
}

static void test_netns_bookkeeping(void **state)
{
	struct pw_pools *p = *state;
	uint32_t out[8];
	int n;

	connects(p, NS1, AT_MS(0), 11, "a", LO, 1, "127.0.0.1", 80);
	connects(p, NS1, AT_MS(1), 12, "b", LO + 1, 1, "127.0.0.1", 80);
	connects(p, NS1, AT_MS(2), 12, "b", LO + 2, 1, "127.0.0.1", 80);
	connects(p, NS2, AT_MS(3), 13, "c", LO, 1, "127.0.0.1", 80);
	assert_int_equal(pw_pools_netns_list(p, NULL, 0), 2);
	n = pw_pools_netns_list(p, out, 8);
	assert_int_equal(n, 2);
	assert_true((out[0] == NS1 && out[1] == NS2) || (out[0] == NS2 && out[1] == NS1));
	assert_int_equal(pw_pools_netns_list(p, out, 1), 1);
	n = pw_pools_netns_pids(p, NS1, out, 8);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 12); /* newest first */
	assert_int_equal(out[1], 11);
	assert_int_equal(pw_pools_netns_pids(p, NS2, out, 8), 1);
	assert_int_equal(out[0], 13);
	assert_int_equal(pw_pools_netns_pids(p, 12345, out, 8), 0);
	assert_false(pw_pools_range_known(p, NS1));
	set_range(p, NS1, 0);
	assert_true(pw_pools_range_known(p, NS1));
	assert_false(pw_pools_range_known(p, NS2));
}

/*
 * A namespace whose sysctls could not be read (no process there could be
 * entered): capacity is unknown (pools.h: "0: the namespace's range could
 * not be read", rendered as null), yet its connections are still counted.
 */
static void test_unknown_range_still_counted(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;

	connects(p, NS1, AT_MS(0), 100, "a", LO, 10, "127.0.0.1", 8080);
	tick(p, AT_S(1), NULL);
	tick(p, AT_S(2), NULL);
	tick(p, AT_S(4), NULL);
	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_false(v->range_known);
	assert_int_equal(v->capacity, 0);
	assert_int_equal(v->in_use, 10);
	assert_int_equal(v->severity, PW_SEV_NONE);
	assert_false(v->eta_known);
	assert_int_equal(v->top[0].pid, 100);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pw_pool_kind_name(PW_POOL_CONNECT), "connect");
	assert_string_equal(pw_pool_kind_name(PW_POOL_BIND), "bind");
	assert_string_equal(pw_pool_kind_name(PW_POOL_UDP), "udp");
	assert_string_equal(pw_pool_kind_name((enum pw_pool_kind)9), "?");
	assert_string_equal(pw_severity_name(PW_SEV_NONE), "none");
	assert_string_equal(pw_severity_name(PW_SEV_INFO), "info");
	assert_string_equal(pw_severity_name(PW_SEV_WARNING), "warning");
	assert_string_equal(pw_severity_name(PW_SEV_CRITICAL), "critical");
	assert_string_equal(pw_severity_name((enum pw_pool_severity)7), "?");
}

/* ---- 12. memory --------------------------------------------------------- */

static void test_many_holdings_no_leak(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;
	int port, d;

	set_range(p, NS1, 0);
	/* 100 000 distinct connections: 50 000 source ports to two destinations. */
	for (d = 0; d < 2; d++)
		for (port = 10000; port < 60000; port++)
			connect4(p, NS1, AT_MS(d), 1, "load", "127.0.0.1", (uint16_t)port,
				 "127.0.0.1", (uint16_t)(8080 + d));
	/* Half of one destination's into TIME_WAIT, a tenth of the other's closed. */
	for (port = 10000; port < 35000; port++)
		close4(p, NS1, AT_MS(10), 1, "load", "127.0.0.1", (uint16_t)port, "127.0.0.1", 8080,
		       true);
	for (port = 10000; port < 60000; port += 10)
		close4(p, NS1, AT_MS(10), 1, "load", "127.0.0.1", (uint16_t)port, "127.0.0.1", 8081,
		       false);
	tick(p, AT_S(1), NULL);
	vs = views_of(p, NS1);
	v = must_connect(vs, NS1, "127.0.0.1:8080");
	assert_int_equal(v->in_use, 200);
	assert_int_equal(v->time_wait, 0); /* 40000-40199 were not among them */
	assert_int_equal(v->severity, PW_SEV_CRITICAL);
	v = must_connect(vs, NS1, "127.0.0.1:8081");
	assert_int_equal(v->in_use, 180);
	assert_int_equal(must_kind(vs, NS1, PW_POOL_BIND)->in_use, 200);
	/* teardown frees; LeakSanitizer checks at exit. */
}

static void test_holdings_cap(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct views *vs;
	uint64_t sum = 0;
	int port, d, i;

	/* The whole port space is the range: every holding counts. */
	set_range_r(p, NS1, 1024, 65535, 0, NULL);
	/* 300 000 connections, more than the model keeps. */
	for (d = 0; d < 5; d++)
		for (port = 2000; port < 62000; port++)
			connect4(p, NS1, AT_MS(d), 1, "load", "127.0.0.1", (uint16_t)port,
				 "127.0.0.1", (uint16_t)(9000 + d));
	tick(p, AT_S(1), NULL);
	vs = views_of(p, NS1);
	for (i = 0; i < vs->n; i++)
		if (vs->v[i].kind == PW_POOL_CONNECT)
			sum += vs->v[i].in_use;
	assert_true(sum <= MAX_HOLDINGS);
	assert_int_equal(sum, MAX_HOLDINGS);
	assert_int_equal(must_connect(vs, NS1, "127.0.0.1:9000")->in_use, 60000);
	assert_int_equal(must_kind(vs, NS1, PW_POOL_BIND)->in_use, 60000);

	/* Closing frees room for new ones. */
	for (port = 2000; port < 62000; port++)
		close4(p, NS1, AT_MS(100), 1, "load", "127.0.0.1", (uint16_t)port, "127.0.0.1", 9000,
		       false);
	connects(p, NS1, AT_MS(200), 2, "new", 2000, 10, "127.0.0.1", 9999);
	tick(p, AT_S(2), NULL);
	vs = views_of(p, NS1);
	assert_null(find_connect(vs, NS1, "127.0.0.1:9000"));
	v = must_connect(vs, NS1, "127.0.0.1:9999");
	assert_int_equal(v->in_use, 10);
	assert_int_equal(v->top[0].pid, 2);
}

/* ---- 13. review findings ------------------------------------------------ */

/*
 * A resolver that opens a UDP socket per query (glibc's res_send, and
 * systemd-resolved, connect() a fresh socket for each transaction) and
 * closes it a few milliseconds later: 20 queries a second into a 200-port
 * range, so at most a handful of ports are ever held. The end of a UDP
 * socket reaches no tracepoint, so the model only learns of the releases
 * at census passes (every 10 s) and in between sees a pool growing by 20 a
 * second: in_use climbs to 200 and the projection says "dry in 7 s". No
 * warning may come from a pool that never held more than 20 ports. (With
 * the default 28232-port range the same happens from about 500 queries/s.)
 */
static void test_udp_socket_per_query_no_false_alarm(void **state)
{
	static struct alerts al;
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct pw_ev e;
	int s, k, worst = PW_SEV_NONE;
	uint32_t most = 0;

	memset(&al, 0, sizeof(al));
	set_range(p, NS1, 0);
	for (s = 1; s <= 30; s++) {
		for (k = 0; k < 20; k++) {
			int i = (s - 1) * 20 + k;

			e = mkev(PW_EV_CONNECT, PW_PROTO_UDP, 4, AT_MS(i * 50), NS1, 53, "resolver");
			ev_local(&e, "198.18.0.1", (uint16_t)(LO + i % 200));
			ev_remote(&e, "198.18.0.53", 53);
			feed(p, &e);
			/* ... and closed 5 ms later: cgroup/sock_release reports it, no remote. */
			e = mkev(PW_EV_CLOSE, PW_PROTO_UDP, 4, AT_MS(i * 50 + 5), NS1, 53, "resolver");
			ev_local(&e, "198.18.0.1", (uint16_t)(LO + i % 200));
			feed(p, &e);
		}
		if (s % 10 == 0) {
			/* The census finds none of them: each lived a few ms. */
			pw_pools_census_begin(p, AT_S(s));
			pw_pools_census_end(p, NS1);
		}
		tick(p, AT_S(s), &al);
		v = find_kind(views_of(p, NS1), NS1, PW_POOL_UDP);
		if (v && (int)v->severity > worst)
			worst = (int)v->severity;
		if (v && v->in_use > most)
			most = v->in_use;
	}
	for (k = 0; k < al.n; k++)
		if (al.a[k].v.kind == PW_POOL_UDP && al.a[k].v.severity >= PW_SEV_WARNING)
			fail_msg("t=%llu s: %s ephemeral_exhaustion for a UDP pool that never held more "
				 "than 20 ports (model: %u in use, eta %u s; most seen %u)",
				 (unsigned long long)((al.a[k].tick - T0) / SEC),
				 pw_severity_name(al.a[k].v.severity), al.a[k].v.in_use, al.a[k].v.eta_s,
				 most);
	assert_true(worst < PW_SEV_WARNING);
	assert_true(most <= 20);
}

/*
 * connect() shares a source port among destinations, so one port can carry
 * a live connection to one destination and the TIME_WAIT of an earlier one
 * to another. 100 ports, each with a live connection to :5432 and a
 * TIME_WAIT to :8080: the bind pool has 100 ports in use and no port held
 * by TIME_WAIT alone (time_wait 0). Its hint must not blame TIME_WAIT
 * ("TIME_WAIT holds 100 ports ... bind(0) cannot reuse them"): closing no
 * TIME_WAIT would free a single port here.
 */
static void test_bind_pool_hint_live_ports_not_tw(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	int i;

	set_range(p, NS1, 0);
	for (i = 0; i < 100; i++) {
		uint16_t port = (uint16_t)(LO + i);

		connect4(p, NS1, AT_MS(i), 100, "app", "198.18.0.1", port, "198.18.0.2", 8080);
		close4(p, NS1, AT_MS(200 + i), 100, "app", "198.18.0.1", port, "198.18.0.2", 8080,
		       true);
		connect4(p, NS1, AT_MS(400 + i), 100, "app", "198.18.0.1", port, "198.18.0.3", 5432);
	}
	tick(p, AT_S(1), NULL);
	v = must_kind(views_of(p, NS1), NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 100);
	assert_int_equal(v->time_wait, 0);
	if (strstr(v->hint, "TIME_WAIT"))
		fail_msg("bind pool with no TIME_WAIT-only port blames TIME_WAIT: \"%s\"", v->hint);
}

/* 10 ports, each in TIME_WAIT to three destinations: the hint says 10 ports, not 30. */
static void test_bind_pool_hint_tw_counts_ports(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	int i, d;

	set_range(p, NS1, 0);
	for (i = 0; i < 10; i++)
		for (d = 0; d < 3; d++) {
			uint16_t port = (uint16_t)(LO + i);

			connect4(p, NS1, AT_MS(i), 100, "app", "198.18.0.1", port, "198.18.0.2",
				 (uint16_t)(8080 + d));
			close4(p, NS1, AT_MS(100 + i), 100, "app", "198.18.0.1", port, "198.18.0.2",
			       (uint16_t)(8080 + d), true);
		}
	tick(p, AT_S(1), NULL);
	v = must_kind(views_of(p, NS1), NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 10);
	assert_int_equal(v->time_wait, 10);
	if (!strstr(v->hint, "TIME_WAIT holds 10 ports"))
		fail_msg("bind pool hint counts TIME_WAIT sockets as ports: \"%s\"", v->hint);
}

/*
 * The bind pool's projection subtracts TIME_WAIT as it expires, but per
 * TIME_WAIT socket, while a port stays taken until its last TIME_WAIT
 * ends. 50 ports each hold a TIME_WAIT to :80 of host A ending in 1 s and
 * one to :80 of host B ending in 58 s; 126 live connections grow by 6 a
 * second. 176 of 200 ports are taken and none comes back for 58 s: dry in
 * 4 s (critical). Subtracting the 50 expiring TIME_WAITs of host A frees
 * the 50 ports at d = 1 in the projection, which then says 12 s (warning).
 * (EPHEMERAL.md: "the expiry schedule still subtracts the TIME_WAIT-only
 * ports as they end".)
 */
static void test_bind_pool_eta_tw_per_port(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v = NULL;
	int i, s, k, live = 0;

	set_range(p, NS1, 0);
	/* t = 0: TIME_WAIT to A on 40000-40049 (ends at t = 60 s). */
	for (i = 0; i < 50; i++) {
		connect4(p, NS1, AT_MS(i), 100, "app", "198.18.0.1", (uint16_t)(LO + i), "198.18.0.2",
			 80);
		close4(p, NS1, AT_MS(i) + MS / 2, 100, "app", "198.18.0.1", (uint16_t)(LO + i),
		       "198.18.0.2", 80, true);
	}
	/* t = 1: 90 long-lived connections to a database. */
	for (i = 0; i < 90; i++, live++)
		connect4(p, NS1, AT_S(1) + (uint64_t)i * MS, 200, "db", "198.18.0.1",
			 (uint16_t)(LO + 50 + live), "198.18.0.4", 5432);
	for (s = 1; s <= 59; s++) {
		if (s == 57) {
			/* The same 50 ports, now in TIME_WAIT to B too (ends at t = 117 s). */
			for (i = 0; i < 50; i++) {
				connect4(p, NS1, AT_S(56) + 500 * MS + (uint64_t)i * MS, 100, "app",
					 "198.18.0.1", (uint16_t)(LO + i), "198.18.0.3", 80);
				close4(p, NS1, AT_S(56) + 600 * MS + (uint64_t)i * MS, 100, "app",
				       "198.18.0.1", (uint16_t)(LO + i), "198.18.0.3", 80, true);
			}
		}
		if (s >= 54) {
			/* From t = 53: 6 more database connections a second. */
			for (k = 0; k < 6; k++, live++)
				connect4(p, NS1, AT_S(s - 1) + (uint64_t)(k * 150 + 10) * MS, 200, "db",
					 "198.18.0.1", (uint16_t)(LO + 50 + live), "198.18.0.4", 5432);
		}
		tick(p, AT_S(s), NULL);
	}
	v = must_kind(views_of(p, NS1), NS1, PW_POOL_BIND);
	assert_int_equal(live, 126);
	assert_int_equal(v->in_use, 176);
	assert_int_equal(v->time_wait, 50);
	assert_true(v->eta_known);
	if (v->eta_s > 6)
		fail_msg("bind pool: 176/200 ports taken, +6/s, none freed for 58 s: dry in 4 s, "
			 "projected %u s (%s)", v->eta_s, pw_severity_name(v->severity));
	assert_int_equal(v->severity, PW_SEV_CRITICAL);
}

/*
 * A server listening on a port inside the range (gRPC's 50051 is inside
 * Linux's default 32768-60999), with connections it accepted before
 * portwatch started. The start-up census seeds their owners in the kernel
 * without PW_F_ACCEPTED, so when the server closes one actively its close
 * record (time_wait, owner known) reaches the model without "accepted".
 * That connection took no port of its own (the listener's port is already
 * counted), yet the model makes it a TIME_WAIT holding and a connect pool
 * "to" the client's address and port. The same happens to every accepted
 * connection whose owners entry the LRU evicted.
 */
static void test_accepted_close_unflagged_no_phantom_pool(void **state)
{
	struct pw_pools *p = *state;
	struct pw_ev e;
	struct views *vs;
	int i;

	set_range(p, NS1, 0);
	pw_pools_census_begin(p, AT_S(1));
	census_server_with_accepted(p);
	pw_pools_census_end(p, NS1);
	tick(p, AT_S(2), NULL);
	assert_int_equal(count_kind(views_of(p, NS1), PW_POOL_CONNECT), 0);

	/* The server closes them first: FIN_WAIT2 -> CLOSE, owner seeded, not "accepted". */
	for (i = 0; i < 5; i++) {
		e = mkev(PW_EV_CLOSE, PW_PROTO_TCP, 4, AT_MS(2500 + i), NS1, 700, "srv");
		ev_local(&e, "198.18.0.1", LO + 150);
		ev_remote(&e, "198.18.0.2", (uint16_t)(50000 + i));
		e.time_wait = true;
		e.accepted = false;
		feed(p, &e);
	}
	tick(p, AT_S(3), NULL);
	vs = views_of(p, NS1);
	if (count_kind(vs, PW_POOL_CONNECT))
		fail_msg("%d connect pools made of a server's accepted connections (first: %s -> %s, "
			 "in_use %u)", count_kind(vs, PW_POOL_CONNECT),
			 find_kind(vs, NS1, PW_POOL_CONNECT)->source,
			 find_kind(vs, NS1, PW_POOL_CONNECT)->destination,
			 find_kind(vs, NS1, PW_POOL_CONNECT)->in_use);
	assert_int_equal(must_kind(vs, NS1, PW_POOL_BIND)->in_use, 1);
}

/* ASan's count of live heap bytes (the unit tests are built with it). */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

/*
 * The holdings cap (262144, "about 40 MiB", EPHEMERAL.md Limits) bounds
 * memory only when the holdings share a few pools. Each connect pool (one
 * per source, destination and destination port) costs some 2 KB (a 16-entry
 * history, a 61-slot expiry schedule, 8 consumer slots and a view with a
 * 512-byte hint), and lives while it has a holding and 120 s after. A
 * crawler, a proxy or a prober talking to many destinations (100 000 here,
 * each connection closed into TIME_WAIT) makes one pool per holding:
 * ~230 MB for 100 000, ~600 MB at the cap, and a tick that formats 100 000
 * hints a second. The same holdings to a single destination take ~17 MB.
 */
static void test_memory_many_destinations_bounded(void **state)
{
	struct pw_pools *p = *state;
	size_t before, after;
	char dst[32];
	int i;

	if (!__sanitizer_get_current_allocated_bytes)
		skip();
	set_range_r(p, NS1, 32768, 60999, 2, NULL);
	before = __sanitizer_get_current_allocated_bytes();
	for (i = 0; i < 100000; i++) {
		snprintf(dst, sizeof(dst), "198.18.%d.%d", (i >> 8) & 255, i & 255);
		connect4(p, NS1, AT_MS(0) + (uint64_t)i * 10000, 5, "crawler", "198.18.255.1",
			 (uint16_t)(32768 + i % 28000), dst, (uint16_t)(443 + (i >> 16)));
		close4(p, NS1, AT_MS(0) + (uint64_t)i * 10000 + 5000, 5, "crawler", "198.18.255.1",
		       (uint16_t)(32768 + i % 28000), dst, (uint16_t)(443 + (i >> 16)), true);
	}
	tick(p, AT_S(2), NULL);
	after = __sanitizer_get_current_allocated_bytes();
	/*
	 * Holdings (~160 bytes each) plus at most 16384 connect pools (~2.3 KiB
	 * each, MAX_CONNECT_POOLS): 100000 destinations stay under 64 MB.
	 */
	if (after - before > 64u * 1000 * 1000)
		fail_msg("100000 TIME_WAIT holdings to distinct destinations take %.1f MB "
			 "(%zu bytes each; connect pools are capped at 16384)",
			 (double)(after - before) / 1e6, (after - before) / 100000u);
}

/*
 * bind(addr, 0) sets no SOCK_BINDPORT_LOCK, so when that socket's connect()
 * fails (refused, timed out, unreachable) tcp_set_state(TCP_CLOSE) puts its
 * port back (inet_put_port()) although the process still holds the socket.
 * The failed connect record carries the port; the model keeps the bound
 * holding until the next census pass (up to 10 s), counting it in the bind
 * pool and in every connect pool of the namespace. A client that binds
 * before connecting and retries a dead backend 20 times a second fills a
 * 200-port range with ports the kernel has already freed. (The close of
 * such a socket is not reported either: bound_only forgets it at SYN_SENT.)
 */
static void test_failed_connect_after_bind0_frees_port(void **state)
{
	static struct alerts al;
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct pw_ev e;
	int s, k;

	memset(&al, 0, sizeof(al));
	set_range(p, NS1, 0);
	for (s = 1; s <= 9; s++) {
		for (k = 0; k < 20; k++) {
			int i = (s - 1) * 20 + k;
			uint64_t t = AT_MS(i * 50);

			bind4(p, NS1, t, PW_PROTO_TCP, 900, "checker", "0.0.0.0", (uint16_t)(LO + i), 0);
			e = mkev(PW_EV_CONNECT, PW_PROTO_TCP, 4, t + MS, NS1, 900, "checker");
			ev_local(&e, "198.18.0.1", (uint16_t)(LO + i));
			ev_remote(&e, "198.18.0.2", 8080);
			e.result = -ECONNREFUSED;
			feed(p, &e);
			/* close(): no record (see above). */
		}
		tick(p, AT_S(s), &al);
	}
	v = find_kind(views_of(p, NS1), NS1, PW_POOL_BIND);
	if (v && v->in_use)
		fail_msg("t=9 s: bind pool %u/%u in use (%s, eta %s%u s) after 180 refused "
			 "connects whose ports the kernel released", v->in_use, v->capacity,
			 pw_severity_name(v->severity), v->eta_known ? "" : "none/", v->eta_s);
	for (k = 0; k < al.n; k++)
		assert_true(al.a[k].v.severity < PW_SEV_WARNING);
}

/*
 * iter/task_file reports a socket once per process whose file table holds
 * it: a listener (or a bound socket) inherited by forked workers comes
 * three times from a master and two workers, with the same inode. The
 * census counts it as three sockets, so the one close record its end
 * produces leaves the port held until the next census pass.
 */
static void test_census_shared_socket_counted_once(void **state)
{
	struct pw_pools *p = *state;
	const struct pw_pool_view *v;
	struct pw_sock s;
	struct pw_ev e;
	int i;

	set_range(p, NS1, 0);
	pw_pools_census_begin(p, AT_S(1));
	for (i = 0; i < 3; i++) {
		s = mksock(PW_ORIGIN_TASK_FILE, PW_PROTO_TCP, PW_TCP_LISTEN, NS1, "0.0.0.0", LO + 7,
			   NULL, 0, (uint32_t)(800 + i), "worker", 0);
		s.sock_ino = 123456; /* one socket */
		pw_pools_census_sock(p, &s);
	}
	pw_pools_census_end(p, NS1);
	tick(p, AT_S(2), NULL);
	v = must_kind(views_of(p, NS1), NS1, PW_POOL_BIND);
	assert_int_equal(v->in_use, 1);

	/* The service stops: its one listening socket closes. */
	e = mkev(PW_EV_CLOSE, PW_PROTO_TCP, 4, AT_MS(2500), NS1, 800, "worker");
	ev_local(&e, "0.0.0.0", LO + 7);
	e.listener = true;
	feed(p, &e);
	tick(p, AT_S(3), NULL);
	v = find_kind(views_of(p, NS1), NS1, PW_POOL_BIND);
	if (v && v->in_use)
		fail_msg("a listener closed, yet its port is still counted (one socket counted "
			 "as three: one per process holding it)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_names),
		T(test_connect_pool_occupancy),
		T(test_connect_pool_per_destination),
		T(test_ports_outside_range_not_counted),
		T(test_reserved_ports_reduce_capacity),
		T(test_time_wait_holds_60s),
		T(test_close_without_time_wait_frees),
		T(test_tw_reuse_1),
		T(test_tw_reuse_2_loopback),
		T(test_tw_reuse_2_not_loopback),
		T(test_tw_reuse_0),
		T(test_bind_then_connect_counts_once),
		T(test_bind_connect_only_pool_listed),
		T(test_bind_only_in_every_connect_pool),
		T(test_hint_bind_before_connect),
		T(test_eta_churn),
		T(test_control_low_churn),
		T(test_eta_held_growth),
		T(test_alert_repeat_standing),
		T(test_severity_info_at_half),
		T(test_burst_then_flat),
		T(test_tw_reuse_churn_ramp_is_no_exhaustion),
		T(test_failure_tcp_connect),
		T(test_failure_tcp_connect_ipv6),
		T(test_failure_tcp_bind_port0),
		T(test_failure_udp_bind_port0),
		T(test_failure_udp_autobind),
		T(test_failure_udp_connect),
		T(test_failure_listen_unbound),
		T(test_not_failures),
		T(test_census_removes_unseen),
		T(test_census_adds_unknown_sockets),
		T(test_census_time_wait),
		T(test_census_keeps_events_during_pass),
		T(test_census_accepted_not_ephemeral),
		T(test_ipv6_destination),
		T(test_hints_no_bad_advice),
		T(test_tw_hint_tw_reuse_0),
		T(test_tw_hint_tw_reuse_2),
		T(test_tw_hint_tw_reuse_1),
		T(test_hint_narrow_range),
		T(test_hint_not_truncated),
		T(test_idle_connect_pool_forgotten),
		T(test_census_v4mapped),
		T(test_tw_4tuple_reused),
		T(test_listen_unbound_takes_port),
		T(test_top_consumers),
		T(test_bind_pool_shared_ports_time_wait),
		T(test_udp_pool),
		T(test_netns_bookkeeping),
		T(test_unknown_range_still_counted),
		T(test_many_holdings_no_leak),
		T(test_holdings_cap),
		T(test_udp_socket_per_query_no_false_alarm),
		T(test_bind_pool_hint_live_ports_not_tw),
		T(test_bind_pool_hint_tw_counts_ports),
		T(test_bind_pool_eta_tw_per_port),
		T(test_accepted_close_unflagged_no_phantom_pool),
		T(test_memory_many_destinations_bounded),
		T(test_failed_connect_after_bind0_frees_port),
		T(test_census_shared_socket_counted_once),
	};

	return cmocka_run_group_tests_name("pools", tests, NULL, NULL);
}
