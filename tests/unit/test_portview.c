// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/portview.c: the port record and alert JSON (exact
 * key order and values, DESIGN §1), the text table's columns and
 * truncation, and hostile process names that try to reach the terminal.
 * Only the types of model.h are used: no model.c is linked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixtures.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portview.h"

/* 2026-11-22T10:00:00.123456789Z */
#define WALL_NS 1795341600123456789ull
#define NETNS 4026531840u

static const char hostile[] = "\x1b]0;pwn\x07\n"; /* sets the xterm title */

/* redis on 0.0.0.0 and :: with two processes: exposed, wildcard. */
static struct pw_port_view redis_view(void)
{
	struct pw_port_view p;

	memset(&p, 0, sizeof(p));
	p.netns = NETNS;
	p.proto = PW_PROTO_TCP;
	p.port = 6379;
	p.state = PW_PORT_LISTENING;
	p.n_addrs = 2;
	strcpy(p.addrs[0], "0.0.0.0");
	strcpy(p.addrs[1], "::");
	p.n_owners = 2;
	p.owners[0].pid = 812;
	p.owners[0].uid = 100;
	strcpy(p.owners[0].comm, "redis-server");
	strcpy(p.owners[0].cmdline, "/usr/bin/redis-server *:6379");
	p.owners[1].pid = 813;
	p.owners[1].uid = 100;
	strcpy(p.owners[1].comm, "redis-server");
	p.service = "redis";
	p.flags = PW_PF_EXPOSED | PW_PF_WILDCARD;
	p.c.syn_in = 50;
	p.c.accepts = 48;
	p.c.closed_probes = 3;
	p.c.half_open = 2;
	p.c.resets_out = 1;
	p.c.resets_in = 4;
	p.c.binds = 1;
	p.c.flag_probes = 5;
	p.c.filtered = 6;
	p.sources = 7;
	p.first_wall_ns = WALL_NS;
	p.last_wall_ns = WALL_NS + 1500000000ull;
	return p;
}

static struct pw_alert exposed_alert(void)
{
	struct pw_alert a;

	memset(&a, 0, sizeof(a));
	a.type = "exposed_listener";
	a.severity = "critical";
	a.wall_ns = WALL_NS;
	a.netns = NETNS;
	a.proto = PW_PROTO_TCP;
	a.port = 6379;
	strcpy(a.addr, "0.0.0.0");
	a.service = "redis";
	a.who.pid = 812;
	strcpy(a.who.comm, "redis-server");
	return a;
}

static struct pw_alert conflict_alert(void)
{
	struct pw_alert a;

	memset(&a, 0, sizeof(a));
	a.type = "bind_conflict";
	a.severity = "warning";
	a.wall_ns = WALL_NS;
	a.netns = NETNS;
	a.proto = PW_PROTO_TCP;
	a.port = 80;
	strcpy(a.addr, "127.0.0.1");
	a.service = "http";
	a.who.pid = 1234;
	strcpy(a.who.comm, "nginx");
	a.holder.pid = 999;
	strcpy(a.holder.comm, "apache2");
	return a;
}



static const char *port_json(struct json_writer *jw, const struct pw_port_view *p)
{
	jw_reset(jw);
	pw_render_port_json(jw, p);
	return jw_text(jw, NULL);
}

static const char *alert_json(struct json_writer *jw, const struct pw_alert *a)
{
	jw_reset(jw);
	pw_render_alert_json(jw, a);
	return jw_text(jw, NULL);
}

/* The table for v[0..n) as a malloc'ed string (caller frees). */
static char *table_of(const struct pw_port_view *v, int n)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	pw_render_port_table(f, v, n);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static char *alert_text_of(const struct pw_alert *a)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	pw_render_alert_text(f, a);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* No control byte but the newlines that end lines; no DEL. */
static void assert_terminal_safe(const char *s)
{
	size_t i;

	assert_true(s[0] != '\0');
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		/* Not the string itself: it would reach the terminal of whoever reads the log. */
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			fail_msg("byte 0x%02x at offset %zu", c, i);
	}
	assert_int_equal(s[i - 1], '\n');
}

/* No raw control byte anywhere in a JSON line (RFC 8259 strings). */
static void assert_no_ctl(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20)
			fail_msg("raw control byte 0x%02x in JSON", (unsigned char)*s);
	}
}

static void test_port_json_full(void **state)
{
	struct pw_port_view p = redis_view();

	/* The whole line: DESIGN's keys in DESIGN's order, extras after them. */
	assert_string_equal(port_json(*state, &p),
			    "{\"type\":\"port\",\"netns\":4026531840,\"proto\":\"tcp\","
			    "\"port\":6379,"
			    "\"state\":\"listening\",\"addresses\":[\"0.0.0.0\",\"::\"],"
			    "\"owners\":[{\"pid\":812,\"comm\":\"redis-server\",\"uid\":100,"
			    "\"cgroup_id\":0,\"cmdline\":\"/usr/bin/redis-server *:6379\"},"
			    "{\"pid\":813,\"comm\":\"redis-server\",\"uid\":100,\"cgroup_id\":0,\"cmdline\":null}],"
			    "\"service\":\"redis\",\"flags\":[\"exposed\",\"wildcard\"],"
			    "\"counters\":{\"syn_in\":50,\"accepts\":48,\"closed_probes\":3,"
			    "\"half_open\":2,\"resets_out\":1,\"binds\":1,\"bind_failures\":0,"
			    "\"listen_overflows\":0,\"resets_in\":4,\"flag_probes\":5,"
			    "\"filtered\":6},"
			    "\"sources\":7,\"first_seen\":\"2026-11-22T10:00:00.123456Z\","
			    "\"last_seen\":\"2026-11-22T10:00:01.623456Z\"}");
}

static void test_port_json_closed_unknown(void **state)
{
	struct pw_port_view p;

	/* Probes to a UDP port nothing holds: no owner, service, flag or time. */
	memset(&p, 0, sizeof(p));
	p.netns = 1;
	p.proto = PW_PROTO_UDP;
	p.port = 40000;
	p.state = PW_PORT_CLOSED;
	p.c.closed_probes = 9;
	assert_string_equal(port_json(*state, &p),
			    "{\"type\":\"port\",\"netns\":1,\"proto\":\"udp\",\"port\":40000,"
			    "\"state\":\"closed\",\"addresses\":[],\"owners\":[],\"service\":null,"
			    "\"flags\":[],\"counters\":{\"syn_in\":0,\"accepts\":0,"
			    "\"closed_probes\":9,\"half_open\":0,\"resets_out\":0,\"binds\":0,"
			    "\"bind_failures\":0,\"listen_overflows\":0,\"resets_in\":0,"
			    "\"flag_probes\":0,\"filtered\":0},\"sources\":0,\"first_seen\":null,"
			    "\"last_seen\":null}");
}

static void test_port_json_flags_and_states(void **state)
{
	struct pw_port_view p = redis_view();
	const char *s;

	p.flags = PW_PF_EXPOSED | PW_PF_NEW | PW_PF_LOOPBACK | PW_PF_WILDCARD;
	s = port_json(*state, &p);
	assert_non_null(strstr(s, ",\"flags\":[\"exposed\",\"new\",\"loopback\",\"wildcard\"],"));
	p.state = PW_PORT_BOUND;
	p.service = NULL;
	s = port_json(*state, &p);
	assert_non_null(strstr(s, ",\"state\":\"bound\","));
	assert_non_null(strstr(s, ",\"service\":null,"));
}

static void test_port_json_bounds(void **state)
{
	struct pw_port_view p = redis_view();
	const char *s;

	/* Full fixed-size fields are read to their end, never past it. */
	memset(p.owners[0].comm, 'c', sizeof(p.owners[0].comm));
	memset(p.owners[0].cmdline, 'x', sizeof(p.owners[0].cmdline));
	memset(p.addrs[0], '1', sizeof(p.addrs[0]));
	/* Counts beyond the arrays are clamped. */
	p.n_owners = 99;
	p.n_addrs = 99;
	s = port_json(*state, &p);
	assert_non_null(strstr(s, "\"comm\":\"ccccccccccccccccc\",\"uid\""));
	assert_non_null(strstr(s, "\"addresses\":[\"1111111111111111111111111111111111111111111111"
				  "\","));
}

static void test_port_json_hostile(void **state)
{
	struct pw_port_view p = redis_view();
	const char *s;

	strcpy(p.owners[0].comm, hostile);
	strcpy(p.owners[0].cmdline, "sh -c \"\x1b[2J\" \\ \xff");
	s = port_json(*state, &p);
	assert_no_ctl(s);
	assert_non_null(strstr(s, "{\"pid\":812,\"comm\":\"\\u001b]0;pwn\\u0007\\n\",\"uid\":100,"
				  "\"cgroup_id\":0,\"cmdline\":\"sh -c \\\"\\u001b[2J\\\" \\\\ \\ufffd\"}"));
}

static void test_table_plain(void **state)
{
	struct pw_port_view p = redis_view();
	char *t;

	(void)state;
	t = table_of(&p, 1);
	/* PROBES adds all three kinds of probe; FLAGS omits the wildcard "exposed" implies. */
	assert_string_equal(t,
			    "NETNS      PROTO  PORT STATE  ADDRESS                          "
			    "PID/COMM                     SERVICE    FLAGS          SYN   ACC "
			    "PROBES   RST   SRC\n"
			    "4026531840 tcp    6379 listen 0.0.0.0,::                       "
			    "812/redis-server+1           redis      exposed         50    48 "
			    "    14     1     7\n");
	free(t);
	t = table_of(NULL, 0);
	assert_non_null(strstr(t, "NETNS "));
	assert_int_equal(strchr(t, '\n')[1], '\0');
	free(t);
}

static void test_table_screen_widths(void **state)
{
	struct pw_port_view p = redis_view();
	char hdr[PW_ROW_MAX], row[PW_ROW_MAX];
	int cols;

	(void)state;
	/* Header and rows line up at the width of the screen they are made for. */
	for (cols = 100; cols <= 160; cols += 20) {
		pw_format_port_header(hdr, sizeof(hdr), cols);
		pw_format_port_row(row, sizeof(row), &p, cols);
		assert_int_equal(strlen(hdr), strlen(row));
		/* Below 120 the minimum widths win: the view clips what is left. */
		if (cols == 120)
			assert_int_equal(strlen(row), cols);
		assert_int_equal(strstr(hdr, "PID/COMM") - hdr, strstr(row, "812/") - row);
		assert_int_equal(strstr(hdr, "SERVICE") - hdr, strstr(row, "redis ") - row);
	}
	/* ADDRESS and PID/COMM stop growing at 32 and 28 cells. */
	assert_int_equal(strlen(row), 86 + 32 + 28);
	/* A small buffer cuts the line, NUL-terminated. */
	pw_format_port_row(row, 12, &p, 0);
	assert_string_equal(row, "4026531840 ");
}

static void test_table_truncation(void **state)
{
	struct pw_port_view p = redis_view();
	char row[PW_ROW_MAX];

	(void)state;
	strcpy(p.addrs[0], "2001:db8:1234:5678:9abc:def0:1234:5678");
	p.n_owners = 4;
	p.owners[0].pid = 4000000;
	strcpy(p.owners[0].comm, "kube-controller");
	/* 120 columns: ADDRESS 15 and PID/COMM 19; the "+3" always survives. */
	pw_format_port_row(row, sizeof(row), &p, 120);
	assert_non_null(strstr(row, " 2001:db8:1234:~ 4000000/kube-con~+3 redis "));
	/* Big counters shrink to fit their column; the rest stay exact. */
	p.c.syn_in = 123456;
	p.c.accepts = 99999;
	p.c.resets_out = 98765432;
	p.sources = UINT64_MAX;
	p.c.closed_probes = 999999;
	p.c.flag_probes = 0;
	p.c.filtered = 0;
	pw_format_port_row(row, sizeof(row), &p, 0);
	assert_non_null(strstr(row, " exposed       123k 99999 999999   98M   18E"));
	p.c.resets_out = 1234567;
	pw_format_port_row(row, sizeof(row), &p, 0);
	assert_non_null(strstr(row, " 999999 1234k   18E"));
}

static void test_table_hostile(void **state)
{
	struct pw_port_view v[2] = { redis_view(), redis_view() };
	char *t;

	(void)state;
	strcpy(v[0].owners[0].comm, hostile);
	strcpy(v[1].owners[0].comm, "\x9b" "31m\xc2\x9b");
	strcpy(v[1].addrs[0], "\x1b[H");
	v[1].service = "\x1b[31mred";
	t = table_of(v, 2);
	assert_terminal_safe(t);
	assert_non_null(strstr(t, " 812/\\x1b]0;pwn\\x07\\x0a+1 "));
	/* A raw C1 CSI and its UTF-8 encoding are both escaped. */
	assert_non_null(strstr(t, " 812/\\x9b31m\\xc2\\x9b+1 "));
	assert_non_null(strstr(t, " \\x1b[H,:: "));
	assert_non_null(strstr(t, " \\x1b[31mr~ "));
	free(t);
}

static void test_table_utf8_cut(void **state)
{
	struct pw_port_view p = redis_view();
	char row[PW_ROW_MAX];

	(void)state;
	/* 7 two-byte characters: cut on a character, never inside one. */
	strcpy(p.owners[0].comm, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	p.owners[0].pid = 4000000;
	p.n_owners = 1;
	pw_format_port_row(row, sizeof(row), &p, 100);
	/* 100 columns: PID/COMM has 8 cells. */
	assert_non_null(strstr(row, " 4000000~ "));
	pw_format_port_row(row, sizeof(row), &p, 106);
	assert_non_null(strstr(row, " 4000000/\xc3\xa9\xc3\xa9~ "));
}

static void test_text_fit(void **state)
{
	int used;

	(void)state;
	assert_int_equal(pw_text_fit("hello", 3, &used), 3);
	assert_int_equal(used, 3);
	assert_int_equal(pw_text_fit("hello", 10, &used), 5);
	assert_int_equal(used, 5);
	assert_int_equal(pw_text_fit("h\xc3\xa9llo", 2, &used), 3);
	assert_int_equal(pw_text_fit("abc", -1, &used), 0);
	assert_int_equal(used, 0);
	/* Where the locale knows, a CJK character takes two cells. */
	if (setlocale(LC_CTYPE, "C.UTF-8")) {
		assert_int_equal(pw_text_fit("\xe6\x97\xa5\xe6\x9c\xac", 3, &used), 3);
		assert_int_equal(used, 2);
		setlocale(LC_CTYPE, "C");
	}
}

static void test_alert_json_exposed(void **state)
{
	struct pw_alert a = exposed_alert();

	assert_string_equal(alert_json(*state, &a),
			    "{\"ts\":\"2026-11-22T10:00:00.123456Z\","
			    "\"alert\":\"exposed_listener\","
			    "\"severity\":\"critical\",\"netns\":4026531840,\"proto\":\"tcp\","
			    "\"port\":6379,\"address\":\"0.0.0.0\",\"service\":\"redis\","
			    "\"pid\":812,\"comm\":\"redis-server\"}");
	/* Unknown service, address and process: nulls, not empty strings. */
	a.service = NULL;
	a.addr[0] = '\0';
	a.who.pid = 0;
	assert_string_equal(alert_json(*state, &a),
			    "{\"ts\":\"2026-11-22T10:00:00.123456Z\","
			    "\"alert\":\"exposed_listener\","
			    "\"severity\":\"critical\",\"netns\":4026531840,\"proto\":\"tcp\","
			    "\"port\":6379,\"address\":null,\"service\":null,"
			    "\"pid\":null,\"comm\":null}");
}

static void test_alert_json_bind_conflict(void **state)
{
	struct pw_alert a = conflict_alert();

	assert_string_equal(alert_json(*state, &a),
			    "{\"ts\":\"2026-11-22T10:00:00.123456Z\",\"alert\":\"bind_conflict\","
			    "\"severity\":\"warning\",\"netns\":4026531840,\"proto\":\"tcp\","
			    "\"port\":80,\"address\":\"127.0.0.1\",\"service\":\"http\","
			    "\"pid\":1234,\"comm\":\"nginx\","
			    "\"holder\":{\"pid\":999,\"comm\":\"apache2\"}}");
}

static void test_alert_json_bind_conflict_no_holder(void **state)
{
	struct pw_alert a = conflict_alert();

	/* Only a TIME_WAIT socket holds the port: no process to name. */
	a.holder.pid = 0;
	assert_string_equal(alert_json(*state, &a),
			    "{\"ts\":\"2026-11-22T10:00:00.123456Z\",\"alert\":\"bind_conflict\","
			    "\"severity\":\"warning\",\"netns\":4026531840,\"proto\":\"tcp\","
			    "\"port\":80,\"address\":\"127.0.0.1\",\"service\":\"http\","
			    "\"pid\":1234,\"comm\":\"nginx\",\"holder\":null}");
}

static void test_alert_json_hostile(void **state)
{
	struct pw_alert a = conflict_alert();
	const char *s;

	strcpy(a.who.comm, hostile);
	strcpy(a.holder.comm, "\x1b[2J");
	s = alert_json(*state, &a);
	assert_no_ctl(s);
	assert_non_null(strstr(s, "\"comm\":\"\\u001b]0;pwn\\u0007\\n\","
				  "\"holder\":{\"pid\":999,\"comm\":\"\\u001b[2J\"}}"));
}

static void test_alert_text(void **state)
{
	struct pw_alert a = exposed_alert();
	char *t;

	(void)state;
	t = alert_text_of(&a);
	assert_string_equal(t, "10:00:00 critical exposed_listener netns 4026531840 tcp "
			       "0.0.0.0:6379 (redis) pid 812 (redis-server)\n");
	free(t);
	strcpy(a.addr, "::");
	a.service = NULL;
	t = alert_text_of(&a);
	assert_non_null(strstr(t, " tcp [::]:6379 (-) pid 812 "));
	free(t);

	a = conflict_alert();
	t = alert_text_of(&a);
	assert_string_equal(t, "10:00:00 warning  bind_conflict    netns 4026531840 tcp "
			       "127.0.0.1:80 (http) pid 1234 (nginx), held by pid 999 (apache2)\n");
	free(t);
	a.holder.pid = 0;
	t = alert_text_of(&a);
	assert_non_null(strstr(t, "pid 1234 (nginx), holder unknown\n"));
	free(t);
}

static void test_alert_text_hostile(void **state)
{
	struct pw_alert a = conflict_alert();
	char *t;

	(void)state;
	strcpy(a.who.comm, hostile);
	strcpy(a.holder.comm, "\x1b[2J\x7f");
	strcpy(a.addr, "\x1b[H");
	t = alert_text_of(&a);
	assert_terminal_safe(t);
	assert_non_null(strstr(t, "tcp \\x1b[H:80 (http) pid 1234 (\\x1b]0;pwn\\x07\\x0a), "
				  "held by pid 999 (\\x1b[2J\\x7f)\n"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		jw_test(test_port_json_full),
		jw_test(test_port_json_closed_unknown),
		jw_test(test_port_json_flags_and_states),
		jw_test(test_port_json_bounds),
		jw_test(test_port_json_hostile),
		cmocka_unit_test(test_table_plain),
		cmocka_unit_test(test_table_screen_widths),
		cmocka_unit_test(test_table_truncation),
		cmocka_unit_test(test_table_hostile),
		cmocka_unit_test(test_table_utf8_cut),
		cmocka_unit_test(test_text_fit),
		jw_test(test_alert_json_exposed),
		jw_test(test_alert_json_bind_conflict),
		jw_test(test_alert_json_bind_conflict_no_holder),
		jw_test(test_alert_json_hostile),
		jw_test(test_alert_text),
		jw_test(test_alert_text_hostile),
	};

	return cmocka_run_group_tests_name("portview", tests, NULL, NULL);
}
