// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/filter.c: the userspace filter over decoded events
 * and the subset handed to the BPF programs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "filter.h"

/* A successful IPv4 TCP connect 10.0.0.1:40000 -> 10.0.0.2:443 by curl. */
static struct pw_ev connect_ev(void)
{
	struct pw_ev ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = PW_EV_CONNECT;
	ev.proto = PW_PROTO_TCP;
	ev.family = 4;
	ev.owner_known = true;
	ev.pid = 100;
	ev.tid = 101;
	ev.netns = 4026531840u;
	ev.cgroup_id = 77;
	strcpy(ev.comm, "curl");
	ev.has_remote = true;
	strcpy(ev.local_addr, "10.0.0.1");
	strcpy(ev.remote_addr, "10.0.0.2");
	ev.local_port = 40000;
	ev.remote_port = 443;
	return ev;
}

static struct pw_filter none(void)
{
	struct pw_filter f;

	memset(&f, 0, sizeof(f));
	return f;
}

static void test_empty_filter_matches_all(void **state)
{
	struct pw_filter f = none();
	struct pw_ev ev = connect_ev();

	(void)state;
	assert_true(pw_filter_match(&f, &ev));
	/* Even an event with an unknown owner and a failure. */
	ev.owner_known = false;
	ev.result = -ECONNREFUSED;
	assert_true(pw_filter_match(&f, &ev));
}

static void test_pid(void **state)
{
	struct pw_filter f = none();
	struct pw_ev ev = connect_ev();

	(void)state;
	f.pid = 100;
	assert_true(pw_filter_match(&f, &ev));
	f.pid = 101; /* the tid is not the pid */
	assert_false(pw_filter_match(&f, &ev));
	/* An unknown owner's pid field is meaningless (often 0 or softirq). */
	f.pid = 100;
	ev.owner_known = false;
	assert_false(pw_filter_match(&f, &ev));
}

static void test_comm(void **state)
{
	struct pw_filter f = none();
	struct pw_ev ev = connect_ev();

	(void)state;
	strcpy(f.comm, "curl");
	assert_true(pw_filter_match(&f, &ev));
	/* Exact match only: no prefix, no substring, case-sensitive. */
	strcpy(f.comm, "cur");
	assert_false(pw_filter_match(&f, &ev));
	strcpy(f.comm, "curly");
	assert_false(pw_filter_match(&f, &ev));
	strcpy(f.comm, "CURL");
	assert_false(pw_filter_match(&f, &ev));
	strcpy(f.comm, "curl");
	ev.owner_known = false;
	assert_false(pw_filter_match(&f, &ev));
	/* A 15-character name (the kernel's maximum) matches in full. */
	ev = connect_ev();
	strcpy(ev.comm, "abcdefghijklmno");
	strcpy(f.comm, "abcdefghijklmno");
	assert_true(pw_filter_match(&f, &ev));
}

static void test_port_local_remote_requested(void **state)
{
	struct pw_filter f = none();
	struct pw_ev ev = connect_ev();

	(void)state;
	f.port = 40000; /* local */
	assert_true(pw_filter_match(&f, &ev));
	f.port = 443; /* remote */
	assert_true(pw_filter_match(&f, &ev));
	f.port = 80;
	assert_false(pw_filter_match(&f, &ev));

	/* A failed bind to 80 left lport at 0: the request must still match. */
	ev.kind = PW_EV_BIND;
	ev.has_remote = false;
	ev.remote_port = 0;
	ev.local_port = 0;
	ev.req_port = 80;
	ev.result = -EACCES;
	assert_true(pw_filter_match(&f, &ev));
	f.port = 81;
	assert_false(pw_filter_match(&f, &ev));
}

static void test_port_remote_ignored_without_remote(void **state)
{
	struct pw_filter f = none();
	struct pw_ev ev = connect_ev();

	(void)state;
	/* A listener's stale rport must not make it match another port. */
	ev.kind = PW_EV_LISTEN;
	ev.has_remote = false;
	ev.local_port = 8080;
	ev.remote_port = 443;
	f.port = 443;
	assert_false(pw_filter_match(&f, &ev));
	f.port = 8080;
	assert_true(pw_filter_match(&f, &ev));
}

static void test_netns_cgroup(void **state)
{
	struct pw_filter f = none();
	struct pw_ev ev = connect_ev();

	(void)state;
	f.netns = 4026531840u;
	assert_true(pw_filter_match(&f, &ev));
	f.netns = 4026532000u;
	assert_false(pw_filter_match(&f, &ev));

	f = none();
	f.cgroup_id = 77;
	assert_true(pw_filter_match(&f, &ev));
	f.cgroup_id = 78;
	assert_false(pw_filter_match(&f, &ev));
	/* The full 64 bits are compared, not a truncated copy. */
	f.cgroup_id = 77 + (1ull << 32);
	assert_false(pw_filter_match(&f, &ev));
}

static void test_family(void **state)
{
	struct pw_filter f = none();
	struct pw_ev ev = connect_ev();

	(void)state;
	f.family = 4;
	assert_true(pw_filter_match(&f, &ev));
	f.family = 6;
	assert_false(pw_filter_match(&f, &ev));
	ev.family = 6;
	assert_true(pw_filter_match(&f, &ev));
	f.family = 4;
	assert_false(pw_filter_match(&f, &ev));
}

static void test_proto(void **state)
{
	struct pw_filter f = none();
	struct pw_ev ev = connect_ev();

	(void)state;
	f.proto = PW_PROTO_TCP;
	assert_true(pw_filter_match(&f, &ev));
	f.proto = PW_PROTO_UDP;
	assert_false(pw_filter_match(&f, &ev));
	ev.proto = PW_PROTO_UDP;
	assert_true(pw_filter_match(&f, &ev));
}

static void test_failed_only(void **state)
{
	struct pw_filter f = none();
	struct pw_ev ev = connect_ev();

	(void)state;
	f.failed_only = true;
	assert_false(pw_filter_match(&f, &ev));
	ev.result = -ECONNREFUSED;
	assert_true(pw_filter_match(&f, &ev));
	ev.result = -1;
	assert_true(pw_filter_match(&f, &ev));
}

static void test_combinations(void **state)
{
	struct pw_filter f = none();
	struct pw_ev ev = connect_ev();

	(void)state;
	/* All conditions are ANDed: every field agrees -> match. */
	f.pid = 100;
	strcpy(f.comm, "curl");
	f.port = 443;
	f.netns = 4026531840u;
	f.cgroup_id = 77;
	f.family = 4;
	f.proto = PW_PROTO_TCP;
	assert_true(pw_filter_match(&f, &ev));

	/* ... and any single disagreement rejects. */
	ev.pid = 200;
	assert_false(pw_filter_match(&f, &ev));
	ev = connect_ev();
	strcpy(ev.comm, "wget");
	assert_false(pw_filter_match(&f, &ev));
	ev = connect_ev();
	ev.remote_port = 80;
	assert_false(pw_filter_match(&f, &ev));
	ev = connect_ev();
	ev.family = 6;
	assert_false(pw_filter_match(&f, &ev));
	ev = connect_ev();
	ev.proto = PW_PROTO_UDP;
	assert_false(pw_filter_match(&f, &ev));
	ev = connect_ev();
	ev.netns = 1;
	assert_false(pw_filter_match(&f, &ev));
	ev = connect_ev();
	ev.cgroup_id = 1;
	assert_false(pw_filter_match(&f, &ev));

	/* --failed with a port: only the failed calls on that port. */
	f = none();
	f.port = 443;
	f.failed_only = true;
	ev = connect_ev();
	assert_false(pw_filter_match(&f, &ev));
	ev.result = -ETIMEDOUT;
	assert_true(pw_filter_match(&f, &ev));
	ev.remote_port = 444;
	assert_false(pw_filter_match(&f, &ev));

	/* Filters not about the owner still apply to owner-less events. */
	f = none();
	f.port = 443;
	f.proto = PW_PROTO_TCP;
	ev = connect_ev();
	ev.owner_known = false;
	assert_true(pw_filter_match(&f, &ev));
}

static void test_kernel_subset(void **state)
{
	struct pw_filter f = none();
	struct pw_kfilter k;

	(void)state;
	f.pid = 4321;
	strcpy(f.comm, "sshd");
	f.port = 22;
	f.netns = 4026531840u;
	f.cgroup_id = 0x123456789abcull;
	f.family = 6;
	f.proto = PW_PROTO_UDP;
	f.failed_only = true;
	memset(&k, 0xaa, sizeof(k));
	pw_filter_kernel(&f, &k);
	assert_int_equal(k.pid, 4321);
	assert_int_equal(k.port, 22);
	assert_int_equal(k.netns, 4026531840u);
	assert_true(k.cgroup_id == 0x123456789abcull);
	assert_int_equal(k.proto, PW_PROTO_UDP);
	assert_int_equal(k.failed_only, 1);
	/* Family cannot be decided before unmapping: left to userspace. */
	assert_int_equal(k.family, 0);
	/* Padding is zeroed (it lands in .rodata as is); kinds are the session's. */
	assert_int_equal(k.pad, 0);
	assert_int_equal(k.kinds, 0);

	/* An empty filter gives an all-zero ("any") kernel filter. */
	f = none();
	memset(&k, 0xaa, sizeof(k));
	pw_filter_kernel(&f, &k);
	assert_int_equal(k.pid, 0);
	assert_int_equal(k.port, 0);
	assert_int_equal(k.netns, 0);
	assert_true(k.cgroup_id == 0);
	assert_int_equal(k.proto, 0);
	assert_int_equal(k.failed_only, 0);
	assert_int_equal(k.family, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_filter_matches_all),
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_comm),
		cmocka_unit_test(test_port_local_remote_requested),
		cmocka_unit_test(test_port_remote_ignored_without_remote),
		cmocka_unit_test(test_netns_cgroup),
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_proto),
		cmocka_unit_test(test_failed_only),
		cmocka_unit_test(test_combinations),
		cmocka_unit_test(test_kernel_subset),
	};

	return cmocka_run_group_tests_name("filter", tests, NULL, NULL);
}
