// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/poolview.c, the renderers of the ephemeral-port
 * pools: the pool record, the ephemeral_exhaustion and ephemeral_failure
 * alerts as JSON (exact lines, DESIGN §1 keys), their one-line text, the
 * pool table and the top view's alerts, and hostile process names that
 * try to break a JSON consumer or reach the terminal. Views are built by
 * hand; the names come from pools.c.
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

#include "poolview.h"

/* 2026-11-22T10:00:00.123456789Z */
#define WALL_NS 1795341600123456789ull
#define NETNS 4026531840u

/* Sets the xterm title, a quote, a newline, invalid UTF-8. */
static const char hostile[] = "\x1b]0;\"pwn\x07\n\xff";
#define HOSTILE_JSON "\\u001b]0;\\\"pwn\\u0007\\n\\ufffd"
#define HOSTILE_TEXT "\\x1b]0;\"pwn\\x07\\x0a\\xff"

#define CHURN_HINT                                                                                 \
	"TIME_WAIT churn to 127.0.0.1:8080 (140 sockets, 60 s each) (most by pid 777 churn): "     \
	"reuse connections (keep-alive, pooling); or set net.ipv4.tcp_tw_reuse=1"

/* A connect pool filling with TIME_WAIT: 150 of 200, dry in 15 s. */
static struct pw_pool_view churn_view(void)
{
	struct pw_pool_view v;

	memset(&v, 0, sizeof(v));
	v.netns = NETNS;
	v.kind = PW_POOL_CONNECT;
	v.proto = PW_PROTO_TCP;
	strcpy(v.source, "127.0.0.1");
	strcpy(v.destination, "127.0.0.1:8080");
	v.in_use = 150;
	v.capacity = 200;
	v.time_wait = 140;
	v.eta_known = true;
	v.eta_s = 15;
	v.alloc_rate = 10.4;
	v.range_known = true;
	v.lo = 40000;
	v.hi = 40199;
	v.reserved = 0;
	v.tw_reuse = 0;
	v.severity = PW_SEV_WARNING;
	v.n_top = 2;
	v.top[0].pid = 777;
	strcpy(v.top[0].comm, "churn");
	v.top[0].count = 120;
	v.top[1].pid = 0; /* TIME_WAIT whose owner is unknown */
	v.top[1].count = 30;
	strcpy(v.hint, CHURN_HINT);
	return v;
}

/* A bind pool whose range could not be read: capacity, range and eta unknown. */
static struct pw_pool_view bind_view(void)
{
	struct pw_pool_view v;

	memset(&v, 0, sizeof(v));
	v.netns = 7;
	v.kind = PW_POOL_BIND;
	v.proto = PW_PROTO_TCP;
	v.in_use = 12;
	v.time_wait = 2;
	v.n_top = 1;
	v.top[0].pid = 5;
	strcpy(v.top[0].comm, "app");
	v.top[0].count = 12;
	v.n_dests = 2;
	strcpy(v.dests[0].destination, "[2001:db8::2]:80");
	v.dests[0].count = 8;
	strcpy(v.dests[1].destination, "198.18.0.2:443");
	v.dests[1].count = 2;
	strcpy(v.hint, "12 ports in use by connections");
	return v;
}

static struct pw_pool_failure connect_failure(void)
{
	struct pw_pool_failure f;

	memset(&f, 0, sizeof(f));
	f.netns = NETNS;
	f.kind = PW_POOL_CONNECT;
	f.proto = PW_PROTO_TCP;
	f.pid = 321;
	strcpy(f.comm, "client");
	strcpy(f.destination, "127.0.0.1:8080");
	f.result = -EADDRNOTAVAIL;
	f.wall_ns = WALL_NS;
	return f;
}

static const char *pool_json(struct json_writer *jw, const struct pw_pool_view *v)
{
	jw_reset(jw);
	pw_render_pool_json(jw, v, WALL_NS);
	return jw_text(jw, NULL);
}

static const char *exhaustion_json(struct json_writer *jw, const struct pw_pool_view *v)
{
	jw_reset(jw);
	pw_render_exhaustion_json(jw, v, WALL_NS);
	return jw_text(jw, NULL);
}

static const char *failure_json(struct json_writer *jw, const struct pw_pool_failure *f)
{
	jw_reset(jw);
	pw_render_failure_json(jw, f);
	return jw_text(jw, NULL);
}

/* What a FILE renderer wrote, malloc'ed (caller frees). */
#define CAPTURE(call)                                                                              \
	({                                                                                         \
		char *buf_ = NULL;                                                                 \
		size_t size_ = 0;                                                                  \
		FILE *out = open_memstream(&buf_, &size_);                                           \
		assert_non_null(out);                                                              \
		call;                                                                              \
		assert_int_equal(fclose(out), 0);                                                  \
		buf_;                                                                              \
	})

/* No control byte but the newlines that end lines; no DEL. */
static void assert_terminal_safe(const char *s)
{
	size_t i;

	assert_true(s[0] != '\0');
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f)
			fail_msg("byte 0x%02x at offset %zu", c, i);
		if (c == '\n' && s[i + 1] != '\0' && s[i + 1] == '\n')
			fail_msg("empty line at offset %zu", i);
	}
	assert_int_equal(s[i - 1], '\n');
}

/* Exactly one line. */
static void assert_one_line(const char *s)
{
	const char *nl = strchr(s, '\n');

	assert_non_null(nl);
	assert_int_equal(nl[1], '\0');
}

/* No raw control byte, and valid UTF-8 (every byte >= 0x80 is escaped here). */
static void assert_json_clean(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20)
			fail_msg("raw control byte 0x%02x in JSON", (unsigned char)*s);
		if ((unsigned char)*s >= 0x80)
			fail_msg("raw byte 0x%02x in JSON", (unsigned char)*s);
	}
}

/* ---- JSON --------------------------------------------------------------- */

static void test_pool_json_connect(void **state)
{
	struct pw_pool_view v = churn_view();

	assert_string_equal(pool_json(*state, &v),
			    "{\"type\":\"pool\",\"ts\":\"2026-11-22T10:00:00.123456Z\","
			    "\"netns\":4026531840,\"pool\":\"connect\",\"proto\":\"tcp\","
			    "\"source\":\"127.0.0.1\",\"destination\":\"127.0.0.1:8080\","
			    "\"in_use\":150,\"capacity\":200,\"time_wait\":140,\"eta_seconds\":15,"
			    "\"top_consumers\":[{\"pid\":777,\"comm\":\"churn\",\"count\":120},"
			    "{\"pid\":null,\"comm\":null,\"count\":30}],"
			    "\"range\":[40000,40199],\"reserved\":0,\"tw_reuse\":0,"
			    "\"alloc_per_s\":10,\"severity\":\"warning\"}");
}

static void test_pool_json_bind_unknown_range(void **state)
{
	struct pw_pool_view v = bind_view();

	assert_string_equal(pool_json(*state, &v),
			    "{\"type\":\"pool\",\"ts\":\"2026-11-22T10:00:00.123456Z\","
			    "\"netns\":7,\"pool\":\"bind\",\"proto\":\"tcp\","
			    "\"source\":null,\"destination\":null,"
			    "\"in_use\":12,\"capacity\":null,\"time_wait\":2,\"eta_seconds\":null,"
			    "\"top_consumers\":[{\"pid\":5,\"comm\":\"app\",\"count\":12}],"
			    "\"top_destinations\":[{\"destination\":\"[2001:db8::2]:80\",\"count\":8},"
			    "{\"destination\":\"198.18.0.2:443\",\"count\":2}],"
			    "\"range\":null,\"reserved\":null,\"tw_reuse\":null,"
			    "\"alloc_per_s\":0,\"severity\":\"none\"}");
}

static void test_pool_json_udp_empty_tops(void **state)
{
	struct pw_pool_view v;

	memset(&v, 0, sizeof(v));
	v.netns = 9;
	v.kind = PW_POOL_UDP;
	v.proto = PW_PROTO_UDP;
	v.in_use = 3;
	v.capacity = 28232;
	v.range_known = true;
	v.lo = 32768;
	v.hi = 60999;
	v.tw_reuse = 2;
	v.severity = PW_SEV_NONE;
	assert_string_equal(pool_json(*state, &v),
			    "{\"type\":\"pool\",\"ts\":\"2026-11-22T10:00:00.123456Z\","
			    "\"netns\":9,\"pool\":\"udp\",\"proto\":\"udp\","
			    "\"source\":null,\"destination\":null,"
			    "\"in_use\":3,\"capacity\":28232,\"time_wait\":0,\"eta_seconds\":null,"
			    "\"top_consumers\":[],\"top_destinations\":[],"
			    "\"range\":[32768,60999],\"reserved\":0,\"tw_reuse\":2,"
			    "\"alloc_per_s\":0,\"severity\":\"none\"}");
}

static void test_exhaustion_json(void **state)
{
	struct pw_pool_view v = churn_view();

	assert_string_equal(exhaustion_json(*state, &v),
			    "{\"ts\":\"2026-11-22T10:00:00.123456Z\","
			    "\"alert\":\"ephemeral_exhaustion\",\"severity\":\"warning\","
			    "\"netns\":4026531840,\"pool\":\"connect\",\"proto\":\"tcp\","
			    "\"source\":\"127.0.0.1\",\"destination\":\"127.0.0.1:8080\","
			    "\"in_use\":150,\"capacity\":200,\"time_wait\":140,\"eta_seconds\":15,"
			    "\"top_consumers\":[{\"pid\":777,\"comm\":\"churn\",\"count\":120},"
			    "{\"pid\":null,\"comm\":null,\"count\":30}],"
			    "\"range\":[40000,40199],\"reserved\":0,\"tw_reuse\":0,"
			    "\"alloc_per_s\":10,\"hint\":\"" CHURN_HINT "\"}");
}

static void test_exhaustion_json_eta_null(void **state)
{
	struct pw_pool_view v = churn_view();
	const char *j;

	v.eta_known = false;
	v.eta_s = 99; /* ignored */
	v.severity = PW_SEV_CRITICAL;
	v.in_use = 185;
	j = exhaustion_json(*state, &v);
	assert_non_null(strstr(j, "\"severity\":\"critical\","));
	assert_non_null(strstr(j, "\"in_use\":185,\"capacity\":200,\"time_wait\":140,"
				  "\"eta_seconds\":null,"));
	assert_null(strstr(j, ":99"));
}

static void test_failure_json(void **state)
{
	struct pw_pool_failure f = connect_failure();

	assert_string_equal(failure_json(*state, &f),
			    "{\"ts\":\"2026-11-22T10:00:00.123456Z\","
			    "\"alert\":\"ephemeral_failure\",\"severity\":\"critical\","
			    "\"netns\":4026531840,\"pool\":\"connect\",\"proto\":\"tcp\","
			    "\"pid\":321,\"comm\":\"client\",\"destination\":\"127.0.0.1:8080\","
			    "\"error\":\"EADDRNOTAVAIL\",\"result\":-99}");
}

static void test_failure_json_bind_udp(void **state)
{
	struct pw_pool_failure f = connect_failure();

	f.kind = PW_POOL_BIND;
	f.destination[0] = '\0';
	f.result = -EADDRINUSE;
	assert_string_equal(failure_json(*state, &f),
			    "{\"ts\":\"2026-11-22T10:00:00.123456Z\","
			    "\"alert\":\"ephemeral_failure\",\"severity\":\"critical\","
			    "\"netns\":4026531840,\"pool\":\"bind\",\"proto\":\"tcp\","
			    "\"pid\":321,\"comm\":\"client\",\"destination\":null,"
			    "\"error\":\"EADDRINUSE\",\"result\":-98}");

	f.kind = PW_POOL_UDP;
	f.proto = PW_PROTO_UDP;
	f.result = -EAGAIN;
	strcpy(f.destination, "[2001:db8::2]:53");
	assert_string_equal(failure_json(*state, &f),
			    "{\"ts\":\"2026-11-22T10:00:00.123456Z\","
			    "\"alert\":\"ephemeral_failure\",\"severity\":\"critical\","
			    "\"netns\":4026531840,\"pool\":\"udp\",\"proto\":\"udp\","
			    "\"pid\":321,\"comm\":\"client\",\"destination\":\"[2001:db8::2]:53\","
			    "\"error\":\"EAGAIN\",\"result\":-11}");
}

static void test_json_hostile_comm(void **state)
{
	struct pw_pool_view v = churn_view();
	struct pw_pool_failure f = connect_failure();
	const char *j;

	memcpy(v.top[0].comm, hostile, sizeof(hostile));
	snprintf(v.hint, sizeof(v.hint), "held open (most by pid 777 %s)", hostile);
	j = pool_json(*state, &v);
	assert_json_clean(j);
	assert_non_null(strstr(j, "{\"pid\":777,\"comm\":\"" HOSTILE_JSON "\",\"count\":120}"));

	j = exhaustion_json(*state, &v);
	assert_json_clean(j);
	assert_non_null(strstr(j, "{\"pid\":777,\"comm\":\"" HOSTILE_JSON "\",\"count\":120}"));
	assert_non_null(strstr(j, "\"hint\":\"held open (most by pid 777 " HOSTILE_JSON ")\"}"));

	memcpy(f.comm, hostile, sizeof(hostile));
	j = failure_json(*state, &f);
	assert_json_clean(j);
	assert_non_null(strstr(j, "\"pid\":321,\"comm\":\"" HOSTILE_JSON "\",\"destination\""));
}

/* A comm of exactly 16 bytes with no NUL within them. */
static void test_json_full_length_comm(void **state)
{
	struct pw_pool_view v = churn_view();
	struct pw_pool_failure f = connect_failure();
	const char *j;

	memcpy(v.top[0].comm, "0123456789abcdef", 16);
	v.top[0].comm[16] = '\0';
	j = pool_json(*state, &v);
	assert_non_null(strstr(j, "\"comm\":\"0123456789abcdef\","));
	memcpy(f.comm, "0123456789abcdef", 16);
	f.comm[16] = '\0';
	j = failure_json(*state, &f);
	assert_non_null(strstr(j, "\"comm\":\"0123456789abcdef\","));
}

/* ---- text --------------------------------------------------------------- */

static void test_exhaustion_text(void **state)
{
	struct pw_pool_view v = churn_view();
	char *t;

	(void)state;
	t = CAPTURE(pw_render_exhaustion_text(out, &v, WALL_NS));
	assert_string_equal(t, "10:00:00 warning  ephemeral_exhaustion netns 4026531840 connect "
			       "127.0.0.1 -> 127.0.0.1:8080: 150/200 ports in use (140 TIME_WAIT), "
			       "dry in 15 s. " CHURN_HINT "\n");
	free(t);

	v = bind_view();
	v.severity = PW_SEV_CRITICAL;
	v.range_known = true;
	v.capacity = 14;
	v.lo = 60000;
	v.hi = 60013;
	t = CAPTURE(pw_render_exhaustion_text(out, &v, WALL_NS));
	assert_string_equal(t, "10:00:00 critical ephemeral_exhaustion netns 7 bind: 12/14 ports in "
			       "use (2 TIME_WAIT), dry in -. 12 ports in use by connections\n");
	free(t);
}

static void test_failure_text(void **state)
{
	struct pw_pool_failure fl = connect_failure();
	char *t;

	(void)state;
	t = CAPTURE(pw_render_failure_text(out, &fl));
	assert_string_equal(t, "10:00:00 critical ephemeral_failure netns 4026531840 connect pool: "
			       "pid 321 (client) got EADDRNOTAVAIL to 127.0.0.1:8080\n");
	free(t);

	fl.kind = PW_POOL_UDP;
	fl.proto = PW_PROTO_UDP;
	fl.result = -EAGAIN;
	fl.destination[0] = '\0';
	t = CAPTURE(pw_render_failure_text(out, &fl));
	assert_string_equal(t, "10:00:00 critical ephemeral_failure netns 4026531840 udp pool: "
			       "pid 321 (client) got EAGAIN\n");
	free(t);
}

static void test_text_hostile_comm(void **state)
{
	struct pw_pool_view v = churn_view();
	struct pw_pool_failure fl = connect_failure();
	char *t;

	(void)state;
	memcpy(v.top[0].comm, hostile, sizeof(hostile));
	snprintf(v.hint, sizeof(v.hint), "held open (most by pid 777 %s)", hostile);
	t = CAPTURE(pw_render_exhaustion_text(out, &v, WALL_NS));
	assert_terminal_safe(t);
	assert_one_line(t);
	assert_non_null(strstr(t, "dry in 15 s. held open (most by pid 777 " HOSTILE_TEXT ")\n"));
	free(t);

	memcpy(fl.comm, hostile, sizeof(hostile));
	t = CAPTURE(pw_render_failure_text(out, &fl));
	assert_terminal_safe(t);
	assert_one_line(t);
	assert_non_null(strstr(t, "pid 321 (" HOSTILE_TEXT ") got EADDRNOTAVAIL to 127.0.0.1:8080\n"));
	free(t);

	/* 16 bytes that all need escaping: nothing cut, nothing overflows. */
	memset(fl.comm, 0x1b, 16);
	fl.comm[16] = '\0';
	t = CAPTURE(pw_render_failure_text(out, &fl));
	assert_terminal_safe(t);
	assert_non_null(strstr(t, "(\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b"
				  "\\x1b\\x1b\\x1b\\x1b) got"));
	free(t);

	/* A hint filled to the brim with bytes to escape. */
	memset(v.hint, 0x07, sizeof(v.hint) - 1);
	v.hint[sizeof(v.hint) - 1] = '\0';
	t = CAPTURE(pw_render_exhaustion_text(out, &v, WALL_NS));
	assert_terminal_safe(t);
	assert_one_line(t);
	free(t);
}

/* ---- table and top view ------------------------------------------------- */

static void test_pool_table(void **state)
{
	struct pw_pool_view v[2] = { churn_view(), bind_view() };
	char *t, hdr[256], row[512];

	(void)state;
	t = CAPTURE(pw_render_pool_table(out, v, 0));
	assert_string_equal(t, "no ephemeral ports in use\n");
	free(t);

	pw_format_pool_header(hdr, sizeof(hdr));
	assert_non_null(strstr(hdr, "NETNS"));
	assert_non_null(strstr(hdr, "IN_USE"));
	assert_non_null(strstr(hdr, "CAPACITY"));
	assert_non_null(strstr(hdr, "ETA"));

	pw_format_pool_row(row, sizeof(row), &v[0]);
	assert_non_null(strstr(row, "4026531840"));
	assert_non_null(strstr(row, " connect "));
	assert_non_null(strstr(row, "127.0.0.1 -> 127.0.0.1:8080"));
	assert_non_null(strstr(row, " 150 "));
	assert_non_null(strstr(row, " 200 "));
	assert_non_null(strstr(row, " 75 ")); /* use % */
	assert_non_null(strstr(row, " 140 "));
	assert_non_null(strstr(row, " 15 s "));
	assert_non_null(strstr(row, "777 churn (120)"));

	pw_format_pool_row(row, sizeof(row), &v[1]);
	assert_non_null(strstr(row, " bind "));
	assert_non_null(strstr(row, " ? ")); /* capacity and use % unknown */
	assert_non_null(strstr(row, " - "));

	t = CAPTURE(pw_render_pool_table(out, v, 2));
	assert_terminal_safe(t);
	assert_true(strncmp(t, hdr, strlen(hdr)) == 0);
	free(t);
}

static void test_pool_row_hostile(void **state)
{
	struct pw_pool_view v = churn_view();
	char row[512];
	size_t i;

	(void)state;
	memcpy(v.top[0].comm, hostile, sizeof(hostile));
	pw_format_pool_row(row, sizeof(row), &v);
	for (i = 0; row[i]; i++)
		if ((unsigned char)row[i] < 0x20 || (unsigned char)row[i] == 0x7f)
			fail_msg("byte 0x%02x at offset %zu", (unsigned char)row[i], i);
	assert_non_null(strstr(row, "777 " HOSTILE_TEXT " (120)"));
	/* Every byte escaped, the longest an owner can be: not cut. */
	memset(v.top[0].comm, 0xff, 16);
	v.top[0].comm[16] = '\0';
	v.top[0].pid = 4294967295u;
	v.top[0].count = 4294967295u;
	pw_format_pool_row(row, sizeof(row), &v);
	assert_non_null(strstr(row, "4294967295 \\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff"
				    "\\xff\\xff\\xff\\xff\\xff\\xff (4294967295)"));
}

static void test_to_alert(void **state)
{
	struct pw_pool_view v = churn_view();
	struct pw_pool_failure f = connect_failure();
	struct pw_alert a;

	(void)state;
	pw_exhaustion_to_alert(&v, WALL_NS, &a);
	assert_string_equal(a.type, "ephemeral_exhaustion");
	assert_string_equal(a.severity, "warning");
	assert_int_equal(a.wall_ns, WALL_NS);
	assert_int_equal(a.netns, NETNS);
	assert_int_equal(a.proto, PW_PROTO_TCP);
	assert_string_equal(a.detail, "connect -> 127.0.0.1:8080 150/200 (TW 140) dry in 15 s");

	pw_failure_to_alert(&f, &a);
	assert_string_equal(a.type, "ephemeral_failure");
	assert_string_equal(a.severity, "critical");
	assert_int_equal(a.netns, NETNS);
	assert_int_equal(a.who.pid, 321);
	assert_string_equal(a.who.comm, "client");
	assert_string_equal(a.detail, "connect pool: pid 321 EADDRNOTAVAIL to 127.0.0.1:8080");
}

/*
 * The top view's one-line detail of a pool between long IPv6 addresses:
 * the destination (what the pool is about) and the numbers must survive.
 */
static void test_to_alert_long_ipv6(void **state)
{
	struct pw_pool_view v = churn_view();
	struct pw_alert a;

	(void)state;
	strcpy(v.source, "2001:db8:1234:5678:9abc:def0:1234:5677");
	strcpy(v.destination, "[2001:db8:1234:5678:9abc:def0:1234:5678]:65535");
	pw_exhaustion_to_alert(&v, WALL_NS, &a);
	if (!strstr(a.detail, "[2001:db8:1234:5678:9abc:def0:1234:5678]:65535"))
		fail_msg("destination cut from the detail: \"%s\"", a.detail);
	assert_non_null(strstr(a.detail, "150/200"));
	assert_non_null(strstr(a.detail, "dry in 15 s"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		jw_test(test_pool_json_connect),
		jw_test(test_pool_json_bind_unknown_range),
		jw_test(test_pool_json_udp_empty_tops),
		jw_test(test_exhaustion_json),
		jw_test(test_exhaustion_json_eta_null),
		jw_test(test_failure_json),
		jw_test(test_failure_json_bind_udp),
		jw_test(test_json_hostile_comm),
		jw_test(test_json_full_length_comm),
		jw_test(test_exhaustion_text),
		jw_test(test_failure_text),
		jw_test(test_text_hostile_comm),
		jw_test(test_pool_table),
		jw_test(test_pool_row_hostile),
		jw_test(test_to_alert),
		jw_test(test_to_alert_long_ipv6),
	};

	return cmocka_run_group_tests_name("poolview", tests, NULL, NULL);
}
