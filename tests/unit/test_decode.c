// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/decode.c: raw struct pw_event records, built by hand
 * exactly as the BPF side lays them out, decoded into struct pw_ev.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "decode.h"

/* A plausible IPv4 bind of 127.0.0.1:8080 by pid 1234 "nginx". */
static struct pw_event v4_bind(void)
{
	struct pw_event e;

	memset(&e, 0, sizeof(e));
	e.rec_type = PW_REC_EVENT;
	e.kind = PW_EV_BIND;
	e.proto = PW_PROTO_TCP;
	e.family = PW_AF_INET;
	e.lport = 8080;
	e.req_port = 8080;
	e.result = 0;
	e.pid = 1234;
	e.tid = 1235;
	e.uid = 1000;
	e.netns = 4026531840u;
	e.cgroup_id = 0x100000001ull;
	e.ts_ns = 5000000000ull;
	e.sock_ino = 987654;
	e.laddr[0] = 127, e.laddr[3] = 1;
	e.req_addr[0] = 127, e.req_addr[3] = 1;
	memcpy(e.comm, "nginx", 6);
	return e;
}

/* Fill a 16-byte address with ::ffff:a.b.c.d. */
static void mapped(uint8_t *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	memset(a, 0, 16);
	a[10] = 0xff, a[11] = 0xff;
	a[12] = b0, a[13] = b1, a[14] = b2, a[15] = b3;
}

static void test_ipv4_bind(void **state)
{
	struct pw_event e = v4_bind();
	struct pw_ev ev;

	(void)state;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_int_equal(ev.kind, PW_EV_BIND);
	assert_int_equal(ev.proto, PW_PROTO_TCP);
	assert_int_equal(ev.family, 4);
	assert_string_equal(ev.local_addr, "127.0.0.1");
	assert_int_equal(ev.local_port, 8080);
	assert_int_equal(ev.req_port, 8080);
	assert_int_equal(ev.result, 0);
	assert_int_equal(ev.pid, 1234);
	assert_int_equal(ev.tid, 1235);
	assert_int_equal(ev.uid, 1000);
	assert_int_equal(ev.netns, 4026531840u);
	assert_true(ev.cgroup_id == 0x100000001ull);
	assert_int_equal(ev.sock_ino, 987654);
	assert_string_equal(ev.comm, "nginx");
	assert_true(ev.owner_known);
	/* bind has no peer: nothing may be printed as the remote end. */
	assert_false(ev.has_remote);
	assert_string_equal(ev.remote_addr, "");
	assert_false(ev.async);
	assert_false(ev.listener);
	assert_false(ev.lifetime_known);
	assert_int_equal(ev.n_holders, 0);
}

static void test_ipv4_bind_port0_and_failure(void **state)
{
	struct pw_event e = v4_bind();
	struct pw_ev ev;

	(void)state;
	/* Port 0: the kernel's choice is lport, the request stays 0. */
	e.req_port = 0;
	e.lport = 43567;
	memset(e.laddr, 0, sizeof(e.laddr));
	memset(e.req_addr, 0, sizeof(e.req_addr));
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_int_equal(ev.req_port, 0);
	assert_int_equal(ev.local_port, 43567);
	assert_string_equal(ev.local_addr, "0.0.0.0");

	/* A failed bind keeps its negative errno. */
	e = v4_bind();
	e.result = -EADDRINUSE;
	e.laddr[0] = 10, e.laddr[1] = 1, e.laddr[2] = 2, e.laddr[3] = 3;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_int_equal(ev.result, -98);
	assert_string_equal(ev.local_addr, "10.1.2.3");
}

static void test_ipv6_connect(void **state)
{
	static const uint8_t l6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t r6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53 };
	struct pw_event e = v4_bind();
	struct pw_ev ev;

	(void)state;
	e.kind = PW_EV_CONNECT;
	e.family = PW_AF_INET6;
	memcpy(e.laddr, l6, 16);
	memcpy(e.raddr, r6, 16);
	memset(e.req_addr, 0, 16);
	e.lport = 51000;
	e.rport = 443;
	e.req_port = 0;
	e.result = -ECONNREFUSED;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_int_equal(ev.kind, PW_EV_CONNECT);
	assert_int_equal(ev.family, 6);
	assert_true(ev.has_remote);
	assert_string_equal(ev.local_addr, "2001:db8::1");
	assert_string_equal(ev.remote_addr, "2001:db8:1::53");
	assert_int_equal(ev.local_port, 51000);
	assert_int_equal(ev.remote_port, 443);
	assert_int_equal(ev.result, -111);
}

static void test_ipv4_connect(void **state)
{
	struct pw_event e = v4_bind();
	struct pw_ev ev;

	(void)state;
	e.kind = PW_EV_CONNECT;
	e.proto = PW_PROTO_UDP;
	e.laddr[0] = 192, e.laddr[1] = 168, e.laddr[2] = 1, e.laddr[3] = 10;
	e.raddr[0] = 8, e.raddr[1] = 8, e.raddr[2] = 4, e.raddr[3] = 4;
	e.lport = 40000;
	e.rport = 53;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_int_equal(ev.family, 4);
	assert_int_equal(ev.proto, PW_PROTO_UDP);
	assert_true(ev.has_remote);
	assert_string_equal(ev.local_addr, "192.168.1.10");
	assert_string_equal(ev.remote_addr, "8.8.4.4");
	assert_int_equal(ev.remote_port, 53);
}

static void test_v4_mapped_connect(void **state)
{
	struct pw_event e = v4_bind();
	struct pw_ev ev;

	(void)state;
	/* A dual-stack socket talking IPv4: users expect to see IPv4. */
	e.kind = PW_EV_CONNECT;
	e.family = PW_AF_INET6;
	mapped(e.laddr, 198, 18, 0, 1);
	mapped(e.raddr, 198, 18, 0, 2);
	memset(e.req_addr, 0, 16);
	e.lport = 40001;
	e.rport = 80;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_int_equal(ev.family, 4);
	assert_string_equal(ev.local_addr, "198.18.0.1");
	assert_string_equal(ev.remote_addr, "198.18.0.2");
	assert_int_equal(ev.local_port, 40001);
	assert_int_equal(ev.remote_port, 80);
}

static void test_v4_mapped_bind(void **state)
{
	struct pw_event e = v4_bind();
	struct pw_ev ev;

	(void)state;
	/* bind(::ffff:198.18.0.1) on a v6 socket: the request is mapped too. */
	e.family = PW_AF_INET6;
	mapped(e.laddr, 198, 18, 0, 1);
	mapped(e.req_addr, 198, 18, 0, 1);
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_int_equal(ev.family, 4);
	assert_string_equal(ev.local_addr, "198.18.0.1");
	assert_false(ev.has_remote);
}

static void test_v4_mapped_with_unspecified_local(void **state)
{
	struct pw_event e = v4_bind();
	struct pw_ev ev;

	(void)state;
	/* Unset (::) addresses do not stop unmapping; they print as 0.0.0.0. */
	e.kind = PW_EV_CONNECT;
	e.family = PW_AF_INET6;
	memset(e.laddr, 0, 16);
	mapped(e.raddr, 203, 0, 113, 7);
	memset(e.req_addr, 0, 16);
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_int_equal(ev.family, 4);
	assert_string_equal(ev.local_addr, "0.0.0.0");
	assert_string_equal(ev.remote_addr, "203.0.113.7");
}

static void test_v6_any_stays_v6(void **state)
{
	struct pw_event e = v4_bind();
	struct pw_ev ev;

	(void)state;
	/* bind(::) on a v6 socket is genuinely IPv6 (and often dual-stack). */
	e.family = PW_AF_INET6;
	memset(e.laddr, 0, 16);
	memset(e.req_addr, 0, 16);
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_int_equal(ev.family, 6);
	assert_string_equal(ev.local_addr, "::");

	/* A mapped peer with a real v6 local address cannot be shown as v4. */
	e.kind = PW_EV_CONNECT;
	e.laddr[15] = 1;
	mapped(e.raddr, 198, 18, 0, 1);
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_int_equal(ev.family, 6);
	assert_string_equal(ev.local_addr, "::1");
	assert_string_equal(ev.remote_addr, "::ffff:198.18.0.1");
}

static void test_invalid_records(void **state)
{
	struct {
		struct pw_event e;
		char extra[8];
	} big;
	struct pw_event e;
	struct pw_ev ev;

	(void)state;
	/* Garbage is counted as malformed by the caller, never printed. */
	e = v4_bind();
	assert_int_equal(pw_decode_event(&e, sizeof(e) - 1, 0, &ev), -EINVAL);
	assert_int_equal(pw_decode_event(&e, 0, 0, &ev), -EINVAL);
	/* A longer record means the two sides disagree on the layout. */
	memset(&big, 0, sizeof(big));
	big.e = e;
	assert_int_equal(pw_decode_event(&big, sizeof(big), 0, &ev), -EINVAL);

	e = v4_bind();
	e.rec_type = PW_REC_SOCK;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), -EINVAL);
	e.rec_type = 0;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), -EINVAL);

	e = v4_bind();
	e.kind = 0;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), -EINVAL);
	e.kind = PW_EV__MAX;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), -EINVAL);
	e.kind = 255;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), -EINVAL);

	e = v4_bind();
	e.proto = 99;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), -EINVAL);
	e.proto = 0;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), -EINVAL);

	e = v4_bind();
	e.family = 3;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), -EINVAL);
	e.family = 4; /* the user-facing number, not AF_INET */
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), -EINVAL);
}

static void test_every_valid_kind(void **state)
{
	struct pw_event e = v4_bind();
	struct pw_ev ev;
	int k;

	(void)state;
	/* Kinds 1..PW_EV__MAX-1 all decode; the boundary check is not off by one. */
	for (k = PW_EV_BIND; k < PW_EV__MAX; k++) {
		e.kind = (uint8_t)k;
		assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
		assert_int_equal(ev.kind, k);
	}
}

static void test_has_remote(void **state)
{
	struct pw_event e = v4_bind();
	struct pw_ev ev;

	(void)state;
	e.raddr[0] = 10, e.raddr[3] = 9;
	e.rport = 9999;

	e.kind = PW_EV_LISTEN;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_false(ev.has_remote);
	assert_string_equal(ev.remote_addr, "");

	/* Closing a listener: there is no peer, whatever raddr holds. */
	e.kind = PW_EV_CLOSE;
	e.flags = PW_F_LISTENER;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_false(ev.has_remote);
	assert_true(ev.listener);

	/* Closing a connection does have one. */
	e.flags = 0;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_true(ev.has_remote);
	assert_string_equal(ev.remote_addr, "10.0.0.9");
	assert_int_equal(ev.remote_port, 9999);

	e.kind = PW_EV_ACCEPT;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_true(ev.has_remote);
	/* A failed accept() returned no connection. */
	e.result = -EAGAIN;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_false(ev.has_remote);
}

static void test_clock_offset(void **state)
{
	struct pw_event e = v4_bind();
	struct pw_ev ev;

	(void)state;
	/* wall = mono + offset; mono is kept for lifetimes. */
	e.ts_ns = 123456789ull;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 1795341600000000000ll, &ev), 0);
	assert_true(ev.wall_ns == 1795341600123456789ull);
	assert_true(ev.mono_ns == 123456789ull);
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_true(ev.wall_ns == 123456789ull);
	/* The offset may be negative in principle (odd clocks, tests). */
	assert_int_equal(pw_decode_event(&e, sizeof(e), -100000000ll, &ev), 0);
	assert_true(ev.wall_ns == 23456789ull);
}

static void test_clock_offset_now(void **state)
{
	int64_t off = pw_clock_offset_ns();

	(void)state;
	/* Realtime is well past 2020 and monotonic far smaller than that. */
	assert_true(off > 1577836800ll * 1000000000ll);
}

static void test_flags(void **state)
{
	struct pw_event e = v4_bind();
	struct pw_ev ev;

	(void)state;
	e.flags = PW_F_NO_OWNER;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_false(ev.owner_known);
	assert_false(ev.async);

	e.kind = PW_EV_CONNECT;
	e.flags = PW_F_ASYNC;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_true(ev.owner_known);
	assert_true(ev.async);
	assert_false(ev.listener);

	/* lifetime is known for a close unless NO_LIFETIME says otherwise. */
	e.kind = PW_EV_CLOSE;
	e.flags = 0;
	e.lifetime_ns = 2500000000ull;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_true(ev.lifetime_known);
	assert_true(ev.lifetime_ns == 2500000000ull);
	assert_false(ev.listener);

	e.flags = PW_F_NO_LIFETIME | PW_F_LISTENER;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_false(ev.lifetime_known);
	assert_true(ev.listener);

	e.flags = PW_F_NO_OWNER | PW_F_ASYNC | PW_F_LISTENER | PW_F_NO_LIFETIME;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_false(ev.owner_known);
	assert_true(ev.async);
	assert_true(ev.listener);
	assert_false(ev.lifetime_known);

	/* Only close events have a lifetime. */
	e.kind = PW_EV_CONNECT;
	e.flags = 0;
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_false(ev.lifetime_known);
}

static void test_comm_unterminated(void **state)
{
	struct pw_event e = v4_bind();
	struct pw_ev ev;

	(void)state;
	/* The kernel's comm may fill all 16 bytes: the copy must terminate. */
	memset(e.comm, 'x', sizeof(e.comm));
	assert_int_equal(pw_decode_event(&e, sizeof(e), 0, &ev), 0);
	assert_string_equal(ev.comm, "xxxxxxxxxxxxxxxx");
	assert_int_equal(strlen(ev.comm), 16);
}

static void test_errno_name(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(pw_errno_name(-98, buf, sizeof(buf)), "EADDRINUSE");
	assert_string_equal(pw_errno_name(-99, buf, sizeof(buf)), "EADDRNOTAVAIL");
	assert_string_equal(pw_errno_name(-111, buf, sizeof(buf)), "ECONNREFUSED");
	assert_string_equal(pw_errno_name(-13, buf, sizeof(buf)), "EACCES");
	/* Success has no error name (JSON: "error":null). */
	assert_null(pw_errno_name(0, buf, sizeof(buf)));
	/* Unknown numbers are still shown, never as "(null)". */
	assert_string_equal(pw_errno_name(-4095, buf, sizeof(buf)), "E4095");
	assert_ptr_equal(pw_errno_name(-4095, buf, sizeof(buf)), buf);
}

static void test_event_and_proto_names(void **state)
{
	(void)state;
	assert_string_equal(pw_event_name(PW_EV_BIND), "bind");
	assert_string_equal(pw_event_name(PW_EV_LISTEN), "listen");
	assert_string_equal(pw_event_name(PW_EV_CONNECT), "connect");
	assert_string_equal(pw_event_name(PW_EV_ACCEPT), "accept");
	assert_string_equal(pw_event_name(PW_EV_CLOSE), "close");
	assert_string_equal(pw_event_name(PW_EV_SYN), "syn");
	assert_string_equal(pw_event_name(PW_EV_PROBE), "probe");
	assert_string_equal(pw_event_name(PW_EV_RESET), "reset");
	assert_string_equal(pw_event_name(0), "?");
	assert_string_equal(pw_event_name(PW_EV__MAX), "?");
	assert_string_equal(pw_event_name(-1), "?");
	assert_string_equal(pw_event_name(1000), "?");
	assert_string_equal(pw_proto_name(PW_PROTO_TCP), "tcp");
	assert_string_equal(pw_proto_name(PW_PROTO_UDP), "udp");
}

static void test_format_addr(void **state)
{
	static const uint8_t v4[4] = { 192, 0, 2, 1 };
	static const uint8_t v6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0, 0, 0, 0, 0x2a };
	char out[INET6_ADDRSTRLEN];

	(void)state;
	pw_format_addr(4, v4, out, sizeof(out));
	assert_string_equal(out, "192.0.2.1");
	pw_format_addr(6, v6, out, sizeof(out));
	assert_string_equal(out, "fe80::2a");
	/* Too small a buffer: a marker, not a partial address. */
	pw_format_addr(4, v4, out, 4);
	assert_string_equal(out, "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_bind),
		cmocka_unit_test(test_ipv4_bind_port0_and_failure),
		cmocka_unit_test(test_ipv6_connect),
		cmocka_unit_test(test_ipv4_connect),
		cmocka_unit_test(test_v4_mapped_connect),
		cmocka_unit_test(test_v4_mapped_bind),
		cmocka_unit_test(test_v4_mapped_with_unspecified_local),
		cmocka_unit_test(test_v6_any_stays_v6),
		cmocka_unit_test(test_invalid_records),
		cmocka_unit_test(test_every_valid_kind),
		cmocka_unit_test(test_has_remote),
		cmocka_unit_test(test_clock_offset),
		cmocka_unit_test(test_clock_offset_now),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_comm_unterminated),
		cmocka_unit_test(test_errno_name),
		cmocka_unit_test(test_event_and_proto_names),
		cmocka_unit_test(test_format_addr),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
