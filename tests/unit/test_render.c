// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/render.c: timestamps, the JSON Lines schema (exact
 * key order and values) and the text columns, including hostile process
 * names that try to reach the terminal or break the JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixtures.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"

/* 2026-11-22T10:00:00.123456789Z */
#define WALL_NS 1795341600123456789ull

static const char hostile[] = "\x1b]0;pwn\x07\n"; /* sets the xterm title */

/* A successful bind of 127.0.0.1:8080 by nginx. */
static struct pw_ev bind_ev(void)
{
	struct pw_ev ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = PW_EV_BIND;
	ev.proto = PW_PROTO_TCP;
	ev.family = 4;
	ev.wall_ns = WALL_NS;
	ev.owner_known = true;
	ev.pid = 1234;
	ev.tid = 1235;
	ev.uid = 1000;
	ev.netns = 4026531840u;
	ev.cgroup_id = 77;
	strcpy(ev.comm, "nginx");
	strcpy(ev.local_addr, "127.0.0.1");
	ev.local_port = 8080;
	ev.req_port = 8080;
	return ev;
}


static const char *json_of(struct json_writer *jw, const struct pw_ev *ev)
{
	jw_reset(jw);
	pw_render_json(jw, ev);
	return jw_text(jw, NULL);
}

/* Render one text line into a malloc'ed string (caller frees). */
static char *text_of(const struct pw_ev *ev)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	pw_render_text(f, ev);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Nothing but printable bytes (and UTF-8) before the final newline. */
static void assert_terminal_safe(const char *s)
{
	size_t n = strlen(s), i;

	assert_true(n > 0);
	assert_int_equal(s[n - 1], '\n');
	for (i = 0; i + 1 < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			fail_msg("byte 0x%02x at offset %zu of \"%s\"", (unsigned char)s[i], i, s);
	}
}

/* No raw control byte anywhere in a JSON line (RFC 8259 strings). */
static void assert_no_ctl(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20)
			fail_msg("raw control byte 0x%02x in JSON", (unsigned char)*s);
	}
}

static void test_format_ts(void **state)
{
	char out[40];

	(void)state;
	/* 1795341600 s = 20779 days + 36000 s; day 20779 is 2026-11-22. */
	pw_format_ts(WALL_NS, out, sizeof(out));
	assert_string_equal(out, "2026-11-22T10:00:00.123456Z");
	pw_format_ts(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00.000000Z");
	/* Microseconds are truncated, not rounded (no carry into seconds). */
	pw_format_ts(999, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00.000000Z");
	pw_format_ts(1000, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00.000001Z");
	/* Leap day, last microsecond: 2024-02-29 is day 19782. */
	pw_format_ts(1709251199999999999ull, out, sizeof(out));
	assert_string_equal(out, "2024-02-29T23:59:59.999999Z");
	pw_format_ts(1709251200000000000ull, out, sizeof(out));
	assert_string_equal(out, "2024-03-01T00:00:00.000000Z");
}

static void test_format_ts_ignores_tz(void **state)
{
	char out[40];

	(void)state;
	/* JSON timestamps are UTC whatever the user's TZ says. */
	setenv("TZ", "America/New_York", 1);
	tzset();
	pw_format_ts(WALL_NS, out, sizeof(out));
	setenv("TZ", "UTC", 1);
	tzset();
	assert_string_equal(out, "2026-11-22T10:00:00.123456Z");
}

static void test_json_bind(void **state)
{
	struct pw_ev ev = bind_ev();

	/* The whole line, so key order and every value are pinned. */
	assert_string_equal(json_of(*state, &ev),
			    "{\"ts\":\"2026-11-22T10:00:00.123456Z\",\"event\":\"bind\","
			    "\"pid\":1234,\"tid\":1235,\"comm\":\"nginx\",\"uid\":1000,"
			    "\"cgroup_id\":77,\"netns\":4026531840,\"proto\":\"tcp\","
			    "\"family\":\"ipv4\",\"local_addr\":\"127.0.0.1\",\"local_port\":8080,"
			    "\"remote_addr\":null,\"remote_port\":null,\"result\":0,"
			    "\"error\":null,\"requested_port\":8080,\"autobind\":false}");
}

static void test_json_bind_in_use_with_holder(void **state)
{
	struct pw_ev ev = bind_ev();

	/* Who holds the port is the whole point of an EADDRINUSE report. */
	ev.result = -EADDRINUSE;
	ev.local_port = 80;
	ev.req_port = 80;
	ev.n_holders = 1;
	ev.holders[0].pid = 999;
	strcpy(ev.holders[0].comm, "apache2");
	assert_string_equal(json_of(*state, &ev),
			    "{\"ts\":\"2026-11-22T10:00:00.123456Z\",\"event\":\"bind\","
			    "\"pid\":1234,\"tid\":1235,\"comm\":\"nginx\",\"uid\":1000,"
			    "\"cgroup_id\":77,\"netns\":4026531840,\"proto\":\"tcp\","
			    "\"family\":\"ipv4\",\"local_addr\":\"127.0.0.1\",\"local_port\":80,"
			    "\"remote_addr\":null,\"remote_port\":null,\"result\":-98,"
			    "\"error\":\"EADDRINUSE\",\"requested_port\":80,\"autobind\":false,"
			    "\"holder\":{\"pid\":999,\"comm\":\"apache2\"},"
			    "\"holders\":[{\"pid\":999,\"comm\":\"apache2\"}]}");
}

static void test_json_bind_in_use_two_holders(void **state)
{
	struct pw_ev ev = bind_ev();
	const char *s;

	/* SO_REUSEPORT groups: "holder" is the first, "holders" lists all. */
	ev.result = -EADDRINUSE;
	ev.n_holders = 2;
	ev.holders[0].pid = 10;
	strcpy(ev.holders[0].comm, "a");
	ev.holders[1].pid = 11;
	strcpy(ev.holders[1].comm, "b");
	s = json_of(*state, &ev);
	assert_non_null(strstr(s, ",\"holder\":{\"pid\":10,\"comm\":\"a\"},"
				  "\"holders\":[{\"pid\":10,\"comm\":\"a\"},"
				  "{\"pid\":11,\"comm\":\"b\"}]}"));
}

static void test_json_bind_in_use_no_holder(void **state)
{
	struct pw_ev ev = bind_ev();
	const char *s;

	/* Unknown holder (census failed or raced): explicit null. */
	ev.result = -EADDRINUSE;
	s = json_of(*state, &ev);
	assert_string_equal(s + strlen(s) - strlen(",\"error\":\"EADDRINUSE\","
						   "\"requested_port\":8080,\"autobind\":false,\"holder\":null}"),
			    ",\"error\":\"EADDRINUSE\",\"requested_port\":8080,\"autobind\":false,\"holder\":null}");
	assert_null(strstr(s, "holders"));
	/* Only bind and listen look for a holder: a connect has no such key. */
	ev.kind = PW_EV_CONNECT;
	ev.has_remote = true;
	strcpy(ev.remote_addr, "10.0.0.2");
	ev.remote_port = 80;
	s = json_of(*state, &ev);
	assert_string_equal(s + strlen(s) - strlen(",\"async\":false}"), ",\"async\":false}");
	ev = bind_ev();
	/* Other failures have no holder key at all. */
	ev.result = -EACCES;
	s = json_of(*state, &ev);
	assert_null(strstr(s, "holder"));
	assert_non_null(strstr(s, ",\"result\":-13,\"error\":\"EACCES\","));
}

static void test_json_unknown_owner(void **state)
{
	struct pw_ev ev = bind_ev();

	/* A close in softirq of a socket opened before portwatch started. */
	ev.kind = PW_EV_CLOSE;
	ev.owner_known = false;
	ev.listener = true;
	ev.lifetime_known = false;
	assert_string_equal(json_of(*state, &ev),
			    "{\"ts\":\"2026-11-22T10:00:00.123456Z\",\"event\":\"close\","
			    "\"pid\":null,\"tid\":null,\"comm\":null,\"uid\":null,"
			    "\"cgroup_id\":null,\"netns\":4026531840,\"proto\":\"tcp\","
			    "\"family\":\"ipv4\",\"local_addr\":\"127.0.0.1\",\"local_port\":8080,"
			    "\"remote_addr\":null,\"remote_port\":null,\"result\":0,"
			    "\"error\":null,\"listener\":true,\"time_wait\":false,\"accepted\":false,\"lifetime_us\":null}");
}

static void test_json_connect_v6(void **state)
{
	struct pw_ev ev = bind_ev();

	ev.kind = PW_EV_CONNECT;
	ev.proto = PW_PROTO_UDP;
	ev.family = 6;
	ev.has_remote = true;
	strcpy(ev.local_addr, "2001:db8::1");
	strcpy(ev.remote_addr, "2001:db8::53");
	ev.local_port = 51000;
	ev.remote_port = 53;
	ev.req_port = 0;
	ev.async = true;
	ev.result = -ECONNREFUSED;
	assert_string_equal(json_of(*state, &ev),
			    "{\"ts\":\"2026-11-22T10:00:00.123456Z\",\"event\":\"connect\","
			    "\"pid\":1234,\"tid\":1235,\"comm\":\"nginx\",\"uid\":1000,"
			    "\"cgroup_id\":77,\"netns\":4026531840,\"proto\":\"udp\","
			    "\"family\":\"ipv6\",\"local_addr\":\"2001:db8::1\",\"local_port\":51000,"
			    "\"remote_addr\":\"2001:db8::53\",\"remote_port\":53,\"result\":-111,"
			    "\"error\":\"ECONNREFUSED\",\"async\":true}");
}

static void test_json_listen_and_close(void **state)
{
	struct pw_ev ev = bind_ev();
	const char *s;

	ev.kind = PW_EV_LISTEN;
	ev.backlog = 511;
	s = json_of(*state, &ev);
	assert_string_equal(s + strlen(s) - strlen(",\"error\":null,\"backlog\":511}"),
			    ",\"error\":null,\"backlog\":511}");

	/* Lifetimes are reported in microseconds, truncated. */
	ev.kind = PW_EV_CLOSE;
	ev.has_remote = true;
	strcpy(ev.remote_addr, "10.0.0.2");
	ev.remote_port = 443;
	ev.lifetime_known = true;
	ev.lifetime_ns = 2500000999ull;
	s = json_of(*state, &ev);
	assert_non_null(strstr(s, ",\"remote_addr\":\"10.0.0.2\",\"remote_port\":443,"));
	assert_string_equal(s + strlen(s) -
				    strlen(",\"error\":null,\"listener\":false,\"time_wait\":false,\"accepted\":false,\"lifetime_us\":2500000}"),
			    ",\"error\":null,\"listener\":false,\"time_wait\":false,\"accepted\":false,\"lifetime_us\":2500000}");
}

static void test_json_hostile_comm(void **state)
{
	struct pw_ev ev = bind_ev();
	const char *s;

	/* A process may name itself anything: the line must stay valid JSON. */
	memset(ev.comm, 0, sizeof(ev.comm));
	memcpy(ev.comm, hostile, strlen(hostile));
	ev.result = -EADDRINUSE;
	ev.n_holders = 1;
	ev.holders[0].pid = 7;
	strcpy(ev.holders[0].comm, "\"},{\"x\xff");
	s = json_of(*state, &ev);
	assert_no_ctl(s);
	assert_non_null(strstr(s, ",\"comm\":\"\\u001b]0;pwn\\u0007\\n\",\"uid\":1000,"));
	/* Quotes cannot close the string early; bad UTF-8 becomes U+FFFD. */
	assert_non_null(strstr(s, "\"holder\":{\"pid\":7,\"comm\":\"\\\"},{\\\"x\\ufffd\"}"));
}

static void test_json_comm_full_16_bytes(void **state)
{
	struct pw_ev ev = bind_ev();

	/* pw_ev.comm has a 17th byte for the NUL; all 16 bytes are shown. */
	memcpy(ev.comm, "abcdefghijklmnop", 17);
	assert_non_null(strstr(json_of(*state, &ev), ",\"comm\":\"abcdefghijklmnop\","));
}

static void test_json_then_flush(void **state)
{
	struct json_writer *jw = *state;
	struct pw_ev ev = bind_ev();
	char *buf = NULL, *nl;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	/* Two events become two lines, each one object (JSON Lines). */
	assert_non_null(f);
	jw_reset(jw);
	pw_render_json(jw, &ev);
	assert_int_equal(jw_flush_line(jw, f), 0);
	pw_render_json(jw, &ev);
	assert_int_equal(jw_flush_line(jw, f), 0);
	assert_int_equal(fclose(f), 0);
	nl = strchr(buf, '\n');
	assert_non_null(nl);
	assert_int_equal(buf[0], '{');
	assert_int_equal(nl[-1], '}');
	assert_int_equal(nl[1], '{');
	assert_string_equal(nl + 1 + (nl - buf), "\n");
	assert_memory_equal(buf, nl + 1, (size_t)(nl - buf));
	free(buf);
}

static void test_text_header(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	(void)state;
	assert_non_null(f);
	pw_render_text_header(f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "TIME         EVENT       PID COMM             PROTO "
				 "LOCAL                        REMOTE                       RESULT\n");
	free(buf);
}

static void test_text_bind(void **state)
{
	struct pw_ev ev = bind_ev();
	char *s;

	(void)state;
	s = text_of(&ev);
	assert_string_equal(s, "10:00:00.123 bind       1234 nginx            tcp   "
			       "127.0.0.1:8080               -                            OK\n");
	free(s);
}

static void test_text_extras(void **state)
{
	struct pw_ev ev = bind_ev();
	char *s;

	(void)state;
	/* Port 0: say which port the kernel picked. */
	ev.req_port = 0;
	ev.local_port = 43567;
	s = text_of(&ev);
	assert_non_null(strstr(s, " OK (port 0: kernel chose 43567)\n"));
	free(s);

	/* EADDRINUSE with a holder names it. */
	ev = bind_ev();
	ev.result = -EADDRINUSE;
	ev.n_holders = 1;
	ev.holders[0].pid = 999;
	strcpy(ev.holders[0].comm, "apache2");
	s = text_of(&ev);
	assert_non_null(strstr(s, " EADDRINUSE held by pid 999 (apache2)\n"));
	free(s);

	ev = bind_ev();
	ev.kind = PW_EV_LISTEN;
	ev.backlog = 4096;
	s = text_of(&ev);
	assert_non_null(strstr(s, " listen "));
	assert_non_null(strstr(s, " OK backlog 4096\n"));
	free(s);

	ev = bind_ev();
	ev.kind = PW_EV_CLOSE;
	ev.lifetime_known = true;
	ev.lifetime_ns = 2500000000ull;
	s = text_of(&ev);
	assert_non_null(strstr(s, " OK after 2.500 s\n"));
	free(s);

	/* Unknown errnos print as E<n>, unknown owners as "-" and "?". */
	ev = bind_ev();
	ev.owner_known = false;
	ev.result = -4095;
	s = text_of(&ev);
	assert_string_equal(s, "10:00:00.123 bind          - ?                tcp   "
			       "127.0.0.1:8080               -                            E4095\n");
	free(s);
}

static void test_text_ipv6_connect(void **state)
{
	struct pw_ev ev = bind_ev();
	char *s;

	(void)state;
	/* IPv6 endpoints are bracketed so the port is unambiguous. */
	ev.kind = PW_EV_CONNECT;
	ev.family = 6;
	ev.has_remote = true;
	strcpy(ev.local_addr, "2001:db8::1");
	strcpy(ev.remote_addr, "2001:db8::53");
	ev.local_port = 51000;
	ev.remote_port = 53;
	ev.result = -ECONNREFUSED;
	s = text_of(&ev);
	assert_string_equal(s, "10:00:00.123 connect    1234 nginx            tcp   "
			       "[2001:db8::1]:51000          [2001:db8::53]:53            "
			       "ECONNREFUSED\n");
	free(s);
}

static void test_text_hostile_comm(void **state)
{
	struct pw_ev ev = bind_ev();
	char *s;

	(void)state;
	memset(ev.comm, 0, sizeof(ev.comm));
	memcpy(ev.comm, hostile, strlen(hostile));
	ev.result = -EADDRINUSE;
	ev.n_holders = 1;
	ev.holders[0].pid = 7;
	strcpy(ev.holders[0].comm, "\x1b[2J\x9b");
	s = text_of(&ev);
	assert_terminal_safe(s);
	assert_null(strchr(s, '\x1b'));
	assert_non_null(strstr(s, " \\x1b]0;pwn\\x07\\x0a tcp "));
	assert_non_null(strstr(s, " held by pid 7 (\\x1b[2J\\x9b)\n"));
	free(s);
}

static void test_text_worst_case_comm(void **state)
{
	struct pw_ev ev = bind_ev();
	char *s, want[16 * 4 + 1] = "";
	int i;

	(void)state;
	/* 16 escapes fill the 65-byte buffer exactly: nothing is lost. */
	memset(ev.comm, 0x01, 16);
	ev.comm[16] = '\0';
	for (i = 0; i < 16; i++)
		strcat(want, "\\x01");
	s = text_of(&ev);
	assert_terminal_safe(s);
	assert_non_null(strstr(s, want));
	free(s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_jw, teardown_jw)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_format_ts),
		T(test_format_ts_ignores_tz),
		T(test_json_bind),
		T(test_json_bind_in_use_with_holder),
		T(test_json_bind_in_use_two_holders),
		T(test_json_bind_in_use_no_holder),
		T(test_json_unknown_owner),
		T(test_json_connect_v6),
		T(test_json_listen_and_close),
		T(test_json_hostile_comm),
		T(test_json_comm_full_16_bytes),
		T(test_json_then_flush),
		T(test_text_header),
		T(test_text_bind),
		T(test_text_extras),
		T(test_text_ipv6_connect),
		T(test_text_hostile_comm),
		T(test_text_worst_case_comm),
	};

	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
