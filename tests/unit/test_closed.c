// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/closed.c: closed ports inferred from SYNs and the
 * listening sockets, on kernels without kfree_skb drop reasons (before
 * 5.17). The namespace's "kernel" is a fake refresh function reading the
 * listeners and addresses a test sets; time is passed explicitly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "closed.h"

#define NS1 4026531840u
#define NS2 4026532001u
#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC)

/* ---- a fake kernel: what each namespace holds now ----------------------- */

struct fake_listener {
	uint32_t netns;
	int family;
	uint8_t addr[16];
	uint16_t port;
};

static struct fake {
	int ret;                 /* what the refresh returns (0, -EPERM...) */
	struct fake_listener l[32];
	int nl;
	struct fake_listener a[8]; /* local addresses (port unused) */
	int na;
	int calls;
	uint32_t last_hint;      /* *pid_hint as the last refresh got it */
} fk;

static void parse(const char *addr, int *family, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, addr, out) == 1) {
		*family = PW_AF_INET;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, addr, out), 1);
	*family = PW_AF_INET6;
}

static void kernel_listen(uint32_t netns, const char *addr, uint16_t port)
{
	struct fake_listener *l = &fk.l[fk.nl++];

	l->netns = netns;
	l->port = port;
	parse(addr, &l->family, l->addr);
}

static void kernel_addr(uint32_t netns, const char *addr)
{
	struct fake_listener *a = &fk.a[fk.na++];

	a->netns = netns;
	parse(addr, &a->family, a->addr);
}

static int fake_refresh(void *ctx, struct pw_closed *c, uint32_t netns, uint32_t *pid_hint)
{
	struct fake *f = ctx;
	int i;

	f->calls++;
	f->last_hint = *pid_hint;
	*pid_hint = 4242;
	if (f->ret)
		return f->ret;
	for (i = 0; i < f->nl; i++)
		if (f->l[i].netns == netns)
			pw_closed_listener(c, f->l[i].family, f->l[i].addr, f->l[i].port);
	for (i = 0; i < f->na; i++)
		if (f->a[i].netns == netns)
			pw_closed_local_addr(c, f->a[i].family, f->a[i].addr);
	return 0;
}

/* A SYN delta: n SYNs from 198.51.100.7 (or 2001:db8::7) to dst:port at kernel time t. */
static struct pw_flow_delta syn(uint32_t netns, const char *dst, uint16_t port, uint32_t n, uint64_t t)
{
	struct pw_flow_delta d;
	int family;

	memset(&d, 0, sizeof(d));
	d.key.netns = netns;
	d.key.lport = port;
	d.key.proto = PW_PROTO_TCP;
	parse(dst, &family, d.key.laddr);
	d.key.family = (uint8_t)family;
	parse(family == PW_AF_INET ? "198.51.100.7" : "2001:db8::7", &family, d.key.raddr);
	d.rport = 40000;
	d.last_ns = t;
	d.probes[PW_PROBE_SYN] = n;
	return d;
}

static struct pw_ev listen_ev(uint32_t netns, const char *addr, uint16_t port, int kind)
{
	struct pw_ev ev;
	int family;

	memset(&ev, 0, sizeof(ev));
	ev.kind = (uint8_t)kind;
	ev.proto = PW_PROTO_TCP;
	ev.netns = netns;
	ev.local_port = port;
	ev.listener = kind == PW_EV_CLOSE;
	parse(addr, &family, ev.local_raw);
	ev.family = family == PW_AF_INET ? 4 : 6;
	snprintf(ev.local_addr, sizeof(ev.local_addr), "%s", addr);
	return ev;
}

static int setup(void **state)
{
	memset(&fk, 0, sizeof(fk));
	*state = pw_closed_new(fake_refresh, &fk);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	pw_closed_free(*state);
	return 0;
}

/* Judge d and return the SYNs it says are closed (checking the delta agrees). */
static uint32_t judge(struct pw_closed *c, struct pw_flow_delta d, uint64_t now)
{
	uint32_t n = pw_closed_judge(c, &d, now);

	assert_int_equal(d.fates[PW_FATE_CLOSED], n);
	assert_int_equal(d.fates[PW_FATE_FILTERED], 0);
	assert_int_equal(d.fates[PW_FATE_REFUSED], 0);
	return n;
}

/* ---- tests --------------------------------------------------------------- */

static void syn_to_unlistened_port_is_closed(void **state)
{
	struct pw_closed *c = *state;
	struct pw_closed_stats st;

	kernel_addr(NS1, "198.18.0.1");
	kernel_listen(NS1, "0.0.0.0", 22);
	assert_int_equal(judge(c, syn(NS1, "198.18.0.1", 23, 3, T0), T0 + MS), 3);
	assert_int_equal(judge(c, syn(NS1, "198.18.0.1", 22, 2, T0), T0 + MS), 0);
	pw_closed_stats(c, &st);
	assert_int_equal(st.judged_closed, 3);
	assert_int_equal(st.judged_open, 2);
	assert_int_equal(st.refreshes, 1); /* the table was read after both SYNs: no re-read */
}

static void listener_address_must_cover_the_destination(void **state)
{
	struct pw_closed *c = *state;

	kernel_addr(NS1, "198.18.0.1");
	kernel_addr(NS1, "198.18.0.2");
	kernel_listen(NS1, "198.18.0.1", 8000);
	assert_int_equal(judge(c, syn(NS1, "198.18.0.1", 8000, 1, T0), T0 + MS), 0);
	assert_int_equal(judge(c, syn(NS1, "198.18.0.2", 8000, 1, T0), T0 + MS), 1);
}

static void families_wildcards_and_mapped_addresses(void **state)
{
	struct pw_closed *c = *state;
	uint8_t mapped[16];
	int family;

	kernel_addr(NS1, "198.18.0.1");
	kernel_addr(NS1, "2001:db8::1");
	kernel_listen(NS1, "::", 80);        /* dual-stack unless V6ONLY: takes IPv4 too */
	kernel_listen(NS1, "0.0.0.0", 443);  /* IPv4 only */
	kernel_listen(NS1, "::ffff:198.18.0.1", 8080);
	assert_int_equal(judge(c, syn(NS1, "198.18.0.1", 80, 1, T0), T0 + MS), 0);
	assert_int_equal(judge(c, syn(NS1, "2001:db8::1", 80, 1, T0), T0 + MS), 0);
	assert_int_equal(judge(c, syn(NS1, "198.18.0.1", 443, 1, T0), T0 + MS), 0);
	assert_int_equal(judge(c, syn(NS1, "2001:db8::1", 443, 1, T0), T0 + MS), 1);
	assert_int_equal(judge(c, syn(NS1, "198.18.0.1", 8080, 1, T0), T0 + MS), 0);
	assert_int_equal(judge(c, syn(NS1, "2001:db8::1", 8080, 1, T0), T0 + MS), 1);
	/* A local address the kernel reports as ::ffff:a.b.c.d is the IPv4 one. */
	parse("::ffff:198.18.0.9", &family, mapped);
	fk.a[fk.na].netns = NS1;
	fk.a[fk.na].family = family;
	memcpy(fk.a[fk.na++].addr, mapped, 16);
	/* Not local by the first table: the addresses are read again after 5 s. */
	assert_int_equal(judge(c, syn(NS1, "198.18.0.9", 1, 1, T0 + SEC), T0 + SEC + MS), 0);
	assert_int_equal(judge(c, syn(NS1, "198.18.0.9", 1, 1, T0 + 6 * SEC), T0 + 6 * SEC + MS), 1);
}

static void loopback_is_local_without_listing(void **state)
{
	struct pw_closed *c = *state;

	assert_int_equal(judge(c, syn(NS1, "127.0.0.5", 7000, 2, T0), T0 + MS), 2);
	assert_int_equal(judge(c, syn(NS1, "::1", 7000, 1, T0), T0 + MS), 1);
}

static void forwarded_syn_is_not_judged(void **state)
{
	struct pw_closed *c = *state;
	struct pw_closed_stats st;

	/* A router or a bridge sees SYNs to addresses that are not its own. */
	kernel_addr(NS1, "198.18.0.1");
	assert_int_equal(judge(c, syn(NS1, "198.19.5.5", 443, 4, T0), T0 + MS), 0);
	pw_closed_stats(c, &st);
	assert_int_equal(st.not_local, 4);
	assert_int_equal(st.judged_closed, 0);
}

static void namespaces_are_separate(void **state)
{
	struct pw_closed *c = *state;

	kernel_addr(NS1, "198.18.0.1");
	kernel_addr(NS2, "198.18.0.1");
	kernel_listen(NS1, "0.0.0.0", 5432);
	assert_int_equal(judge(c, syn(NS1, "198.18.0.1", 5432, 1, T0), T0 + MS), 0);
	assert_int_equal(judge(c, syn(NS2, "198.18.0.1", 5432, 1, T0), T0 + MS), 1);
	assert_int_equal(fk.calls, 2);
}

static void unreadable_namespace_is_not_judged_and_retried_after_a_second(void **state)
{
	struct pw_closed *c = *state;
	struct pw_closed_stats st;

	fk.ret = -EPERM;
	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 9, 5, T0), T0 + MS), 0);
	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 9, 1, T0 + 500 * MS), T0 + 500 * MS), 0);
	assert_int_equal(fk.calls, 1);
	pw_closed_stats(c, &st);
	assert_int_equal(st.unjudged, 6);
	fk.ret = 0;
	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 9, 1, T0 + SEC + 2 * MS), T0 + SEC + 2 * MS), 1);
	assert_int_equal(fk.calls, 2);
	/* The refresh function's pid hint is kept between calls. */
	assert_int_equal(fk.last_hint, 4242);
}

static void listen_and_close_events_update_the_table(void **state)
{
	struct pw_closed *c = *state;
	struct pw_ev ev;

	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 8000, 1, T0), T0 + MS), 1);
	/* A listener whose table entry came by event: no refresh needed. */
	ev = listen_ev(NS1, "127.0.0.1", 8000, PW_EV_LISTEN);
	pw_closed_event(c, &ev);
	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 8000, 1, T0 + 10 * MS), T0 + 10 * MS), 0);
	ev = listen_ev(NS1, "127.0.0.1", 8000, PW_EV_CLOSE);
	pw_closed_event(c, &ev);
	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 8000, 1, T0 + 20 * MS), T0 + 20 * MS), 1);
	assert_int_equal(fk.calls, 1);
	/* Failed listens, UDP and closes of non-listeners change nothing. */
	ev = listen_ev(NS1, "127.0.0.1", 9000, PW_EV_LISTEN);
	ev.result = -98;
	pw_closed_event(c, &ev);
	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 9000, 1, T0 + 30 * MS), T0 + 30 * MS), 1);
}

static void newer_syn_rereads_the_table_at_most_every_250ms(void **state)
{
	struct pw_closed *c = *state;

	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 8000, 1, T0), T0 + MS), 1);
	/* A listener appears with no event (filtered in the kernel: trace -p PID). */
	kernel_listen(NS1, "127.0.0.1", 8000);
	/* 100 ms after the read: too soon to read again, still judged by the old table. */
	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 8000, 1, T0 + 100 * MS), T0 + 101 * MS), 1);
	assert_int_equal(fk.calls, 1);
	/* 300 ms after: the SYN is newer than the table, which is re-read. */
	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 8000, 1, T0 + 300 * MS), T0 + 301 * MS), 0);
	assert_int_equal(fk.calls, 2);
	/* A SYN older than the table is judged by it: no read. */
	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 8001, 1, T0 + 200 * MS), T0 + SEC), 1);
	assert_int_equal(fk.calls, 2);
}

static void other_deltas_are_left_alone(void **state)
{
	struct pw_closed *c = *state;
	struct pw_flow_delta d, before;

	/* Already given a fate by the kernel's drop hook. */
	d = syn(NS1, "127.0.0.1", 1, 1, T0);
	d.fates[PW_FATE_FILTERED] = 1;
	before = d;
	assert_int_equal(pw_closed_judge(c, &d, T0), 0);
	assert_memory_equal(&d, &before, sizeof(d));
	/* UDP, no SYN, a completed handshake. */
	d = syn(NS1, "127.0.0.1", 1, 1, T0);
	d.key.proto = PW_PROTO_UDP;
	assert_int_equal(pw_closed_judge(c, &d, T0), 0);
	d = syn(NS1, "127.0.0.1", 1, 0, T0);
	d.probes[PW_PROBE_FIN] = 1;
	assert_int_equal(pw_closed_judge(c, &d, T0), 0);
	d = syn(NS1, "127.0.0.1", 1, 1, T0);
	d.handshakes = 1;
	before = d;
	assert_int_equal(pw_closed_judge(c, &d, T0), 0);
	assert_memory_equal(&d, &before, sizeof(d));
	assert_int_equal(fk.calls, 0);
}

static int many_listeners(void *ctx, struct pw_closed *c, uint32_t netns, uint32_t *pid_hint)
{
	uint8_t any[16] = { 0 };
	int i;

	(void)ctx;
	(void)netns;
	(void)pid_hint;
	for (i = 0; i < 20000; i++)
		pw_closed_listener(c, PW_AF_INET6, any, (uint16_t)(1 + i % 60000));
	return 0;
}

static void beyond_the_bounds_nothing_is_judged(void **state)
{
	struct pw_closed *c = pw_closed_new(many_listeners, NULL);
	struct pw_closed_stats st;

	(void)state;
	assert_non_null(c);
	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 65000, 1, T0), T0 + MS), 0);
	pw_closed_stats(c, &st);
	assert_int_equal(st.unjudged, 1);
	pw_closed_free(c);
}

static void idle_namespaces_are_forgotten(void **state)
{
	struct pw_closed *c = *state;

	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 1, 1, T0), T0), 1);
	pw_closed_expire(c, T0 + 30 * SEC);
	kernel_listen(NS1, "0.0.0.0", 1);
	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 1, 1, T0), T0 + 30 * SEC), 1); /* older than the table */
	pw_closed_expire(c, T0 + 91 * SEC);
	assert_int_equal(judge(c, syn(NS1, "127.0.0.1", 1, 1, T0), T0 + 91 * SEC), 0); /* read again */
	assert_int_equal(fk.calls, 2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(syn_to_unlistened_port_is_closed),
		T(listener_address_must_cover_the_destination),
		T(families_wildcards_and_mapped_addresses),
		T(loopback_is_local_without_listing),
		T(forwarded_syn_is_not_judged),
		T(namespaces_are_separate),
		T(unreadable_namespace_is_not_judged_and_retried_after_a_second),
		T(listen_and_close_events_update_the_table),
		T(newer_syn_rereads_the_table_at_most_every_250ms),
		T(other_deltas_are_left_alone),
		T(beyond_the_bounds_nothing_is_judged),
		T(idle_namespaces_are_forgotten),
	};

	return cmocka_run_group_tests_name("closed", tests, NULL, NULL);
}
