// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/json.c. The writer's output is compared byte for
 * byte with the expected JSON text: consumers (jq, log shippers) see
 * exactly this, so a stray comma or an unescaped byte is a real failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static int setup_jw(void **state)
{
	*state = jw_new();
	return *state ? 0 : -1;
}

static int teardown_jw(void **state)
{
	jw_free(*state);
	return 0;
}

/* Compare the writer's text (and its reported length) with want. */
static void assert_text(struct json_writer *jw, const char *want)
{
	size_t len = 12345;
	const char *s = jw_text(jw, &len);

	assert_string_equal(s, want);
	assert_int_equal(len, strlen(want));
}

static void test_empty(void **state)
{
	struct json_writer *jw = *state;

	/* A fresh writer holds the empty string, not garbage. */
	assert_text(jw, "");
	assert_non_null(jw_text(jw, NULL));
	jw_obj_open(jw);
	jw_obj_close(jw);
	assert_text(jw, "{}");
	jw_reset(jw);
	jw_arr_open(jw);
	jw_arr_close(jw);
	assert_text(jw, "[]");
}

static void test_object_commas(void **state)
{
	struct json_writer *jw = *state;

	/* Commas go between members, never before the first or after the last. */
	jw_obj_open(jw);
	jw_kv_str(jw, "a", "x");
	jw_kv_int(jw, "b", 1);
	jw_kv_uint(jw, "c", 2);
	jw_kv_null(jw, "d");
	jw_key(jw, "e");
	jw_bool(jw, true);
	jw_key(jw, "f");
	jw_bool(jw, false);
	jw_obj_close(jw);
	assert_text(jw, "{\"a\":\"x\",\"b\":1,\"c\":2,\"d\":null,\"e\":true,\"f\":false}");
}

static void test_array_commas(void **state)
{
	struct json_writer *jw = *state;

	jw_arr_open(jw);
	jw_int(jw, 1);
	jw_str(jw, "two");
	jw_null(jw);
	jw_bool(jw, true);
	jw_uint(jw, 5);
	jw_arr_close(jw);
	assert_text(jw, "[1,\"two\",null,true,5]");
}

static void test_nested(void **state)
{
	struct json_writer *jw = *state;

	/* Each depth keeps its own comma state: the inner close must not
	 * leave the outer level thinking it is still at its first member. */
	jw_obj_open(jw);
	jw_kv_uint(jw, "n", 1);
	jw_key(jw, "o");
	jw_obj_open(jw);
	jw_kv_str(jw, "k", "v");
	jw_key(jw, "empty");
	jw_arr_open(jw);
	jw_arr_close(jw);
	jw_obj_close(jw);
	jw_key(jw, "a");
	jw_arr_open(jw);
	jw_obj_open(jw);
	jw_kv_uint(jw, "x", 1);
	jw_obj_close(jw);
	jw_obj_open(jw);
	jw_kv_uint(jw, "x", 2);
	jw_obj_close(jw);
	jw_arr_open(jw);
	jw_arr_close(jw);
	jw_arr_close(jw);
	jw_kv_null(jw, "z");
	jw_obj_close(jw);
	assert_text(jw, "{\"n\":1,\"o\":{\"k\":\"v\",\"empty\":[]},"
			"\"a\":[{\"x\":1},{\"x\":2},[]],\"z\":null}");
}

static void test_kv_str_null(void **state)
{
	struct json_writer *jw = *state;

	/* Optional strings (the errno name) become null, not "(null)". */
	jw_obj_open(jw);
	jw_kv_str(jw, "error", NULL);
	jw_kv_str(jw, "s", "");
	jw_obj_close(jw);
	assert_text(jw, "{\"error\":null,\"s\":\"\"}");
}

static void test_numbers(void **state)
{
	struct json_writer *jw = *state;

	/* Results are negative errnos; ids and timestamps use all 64 bits. */
	jw_arr_open(jw);
	jw_int(jw, -98);
	jw_int(jw, 0);
	jw_int(jw, INT64_MAX);
	jw_int(jw, INT64_MIN);
	jw_uint(jw, 0);
	jw_uint(jw, UINT64_MAX);
	jw_arr_close(jw);
	assert_text(jw, "[-98,0,9223372036854775807,-9223372036854775808,0,"
			"18446744073709551615]");
}

static void test_control_bytes(void **state)
{
	struct json_writer *jw = *state;
	char in[32], want[256], *p = want;
	int c;

	/* RFC 8259 forbids raw U+0000..U+001F inside strings. */
	for (c = 1; c < 0x20; c++)
		in[c - 1] = (char)c;
	in[31] = '\0';
	*p++ = '"';
	for (c = 1; c < 0x20; c++) {
		if (c == '\n')
			p += sprintf(p, "\\n");
		else if (c == '\t')
			p += sprintf(p, "\\t");
		else if (c == '\r')
			p += sprintf(p, "\\r");
		else
			p += sprintf(p, "\\u%04x", c);
	}
	*p++ = '"';
	*p = '\0';
	jw_str(jw, in);
	assert_text(jw, want);
	/* Spot-check the generated expectation itself. */
	assert_non_null(strstr(want, "\\u0001\\u0002"));
	assert_non_null(strstr(want, "\\u0008\\t\\n\\u000b\\u000c\\r\\u000e"));
	assert_non_null(strstr(want, "\\u001b"));
	assert_non_null(strstr(want, "\\u001f\""));
}

static void test_each_control_byte_alone(void **state)
{
	struct json_writer *jw = *state;
	char in[4], want[16];
	int c;

	/* Each byte surrounded by ASCII, so the run copier is exercised too. */
	for (c = 1; c < 0x20; c++) {
		jw_reset(jw);
		in[0] = 'a', in[1] = (char)c, in[2] = 'b', in[3] = '\0';
		if (c == '\n')
			snprintf(want, sizeof(want), "\"a\\nb\"");
		else if (c == '\t')
			snprintf(want, sizeof(want), "\"a\\tb\"");
		else if (c == '\r')
			snprintf(want, sizeof(want), "\"a\\rb\"");
		else
			snprintf(want, sizeof(want), "\"a\\u%04xb\"", c);
		jw_str(jw, in);
		assert_text(jw, want);
	}
}

static void test_del_quote_backslash(void **state)
{
	struct json_writer *jw = *state;

	/* DEL is legal JSON but a terminal hazard when the output is cat'ed. */
	jw_str(jw, "a\x7f" "b");
	assert_text(jw, "\"a\\u007fb\"");
	jw_reset(jw);
	jw_str(jw, "say \"hi\" \\o/");
	assert_text(jw, "\"say \\\"hi\\\" \\\\o/\"");
	jw_reset(jw);
	jw_str(jw, "\"");
	assert_text(jw, "\"\\\"\"");
	jw_reset(jw);
	/* Keys are escaped like values. */
	jw_obj_open(jw);
	jw_kv_str(jw, "k\"\n", "v");
	jw_obj_close(jw);
	assert_text(jw, "{\"k\\\"\\n\":\"v\"}");
}

static void test_invalid_utf8(void **state)
{
	struct json_writer *jw = *state;

	/* Each bad byte becomes U+FFFD so the line stays valid UTF-8. */
	jw_str(jw, "a\xff" "b");
	assert_text(jw, "\"a\\ufffdb\"");
	jw_reset(jw);
	jw_str(jw, "\xc0\x80");
	assert_text(jw, "\"\\ufffd\\ufffd\"");
	jw_reset(jw);
	jw_str(jw, "\xed\xa0\x80");
	assert_text(jw, "\"\\ufffd\\ufffd\\ufffd\"");
	jw_reset(jw);
	jw_str(jw, "\xf4\x90\x80\x80");
	assert_text(jw, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	jw_reset(jw);
	/* A character cut at the end of the buffer. */
	jw_str(jw, "x\xe2\x82");
	assert_text(jw, "\"x\\ufffd\\ufffd\"");
	jw_reset(jw);
	/* A sequence cut by n, although the bytes continue in memory. */
	jw_strn(jw, "\xc3\xa9", 1);
	assert_text(jw, "\"\\ufffd\"");
}

static void test_valid_multibyte_kept(void **state)
{
	struct json_writer *jw = *state;

	/* Valid UTF-8 passes raw, including C1 controls (legal in JSON). */
	jw_str(jw, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_text(jw, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	jw_reset(jw);
	jw_str(jw, "\xc2\x9b");
	assert_text(jw, "\"\xc2\x9b\"");
}

static void test_strn_bounds(void **state)
{
	struct json_writer *jw = *state;
	/* A full 16-byte comm with no terminator inside the field. */
	const char comm[16] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
				'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p' };

	jw_arr_open(jw);
	jw_strn(jw, "abcdef", 3);
	jw_strn(jw, "ab\0cd", 5); /* cut at the NUL, whatever n says */
	jw_strn(jw, "xyz", 0);
	jw_strn(jw, comm, sizeof(comm));
	jw_arr_close(jw);
	assert_text(jw, "[\"abc\",\"ab\",\"\",\"abcdefghijklmnop\"]");
}

static void test_long_string_grows(void **state)
{
	struct json_writer *jw = *state;
	size_t n = 5000, len;
	char *in = malloc(n + 1);
	const char *s;
	size_t i;

	/* Longer than the initial 512-byte buffer, escapes and all. */
	assert_non_null(in);
	for (i = 0; i < n; i++)
		in[i] = (i % 2) ? '\x01' : 'a';
	in[n] = '\0';
	jw_str(jw, in);
	s = jw_text(jw, &len);
	/* 2500 'a' + 2500 * 6 + 2 quotes */
	assert_int_equal(len, 2500 + 2500 * 6 + 2);
	assert_int_equal(strlen(s), len);
	assert_memory_equal(s, "\"a\\u0001a\\u0001", 15);
	assert_memory_equal(s + len - 7, "\\u0001\"", 7);
	free(in);
}

static void test_exact_document(void **state)
{
	struct json_writer *jw = *state;

	/* A record shaped like portwatch output, compared as a whole string. */
	jw_obj_open(jw);
	jw_kv_str(jw, "event", "bind");
	jw_kv_uint(jw, "pid", 4242);
	jw_kv_str(jw, "comm", "evil\x1b[2J\n");
	jw_kv_int(jw, "result", -98);
	jw_kv_str(jw, "error", "EADDRINUSE");
	jw_key(jw, "holders");
	jw_arr_open(jw);
	jw_obj_open(jw);
	jw_kv_uint(jw, "pid", 1);
	jw_kv_str(jw, "comm", "systemd");
	jw_obj_close(jw);
	jw_arr_close(jw);
	jw_kv_str(jw, "note", NULL);
	jw_obj_close(jw);
	assert_text(jw, "{\"event\":\"bind\",\"pid\":4242,\"comm\":\"evil\\u001b[2J\\n\","
			"\"result\":-98,\"error\":\"EADDRINUSE\","
			"\"holders\":[{\"pid\":1,\"comm\":\"systemd\"}],\"note\":null}");
}

static void test_flush_line(void **state)
{
	struct json_writer *jw = *state;
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	jw_obj_open(jw);
	jw_kv_uint(jw, "a", 1);
	jw_obj_close(jw);
	assert_int_equal(jw_flush_line(jw, f), 0);
	/* Flushing resets: the next object starts without a leading comma. */
	assert_text(jw, "");
	jw_obj_open(jw);
	jw_kv_str(jw, "b", "x");
	jw_obj_close(jw);
	assert_int_equal(jw_flush_line(jw, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "{\"a\":1}\n{\"b\":\"x\"}\n");
	assert_int_equal(size, strlen("{\"a\":1}\n{\"b\":\"x\"}\n"));
	free(buf);
}

static void test_flush_line_top_level_values(void **state)
{
	struct json_writer *jw = *state;
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	/* Top-level comma state is reset too, not only the text. */
	assert_non_null(f);
	jw_uint(jw, 1);
	assert_int_equal(jw_flush_line(jw, f), 0);
	jw_uint(jw, 2);
	assert_text(jw, "2");
	assert_int_equal(jw_flush_line(jw, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "1\n2\n");
	free(buf);
}

static void test_flush_line_write_error(void **state)
{
	struct json_writer *jw = *state;
	char small[4];
	FILE *f = fmemopen(small, sizeof(small), "w");

	/* A full stdout (EPIPE, disk full) must be reported, and still reset. */
	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	jw_str(jw, "far too long for four bytes");
	assert_int_equal(jw_flush_line(jw, f), -1);
	assert_text(jw, "");
	fclose(f);
}

static void test_reset(void **state)
{
	struct json_writer *jw = *state;

	jw_arr_open(jw);
	jw_int(jw, 1);
	jw_arr_close(jw);
	jw_reset(jw);
	assert_text(jw, "");
	jw_arr_open(jw);
	jw_int(jw, 2);
	jw_arr_close(jw);
	assert_text(jw, "[2]");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_jw, teardown_jw)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_empty),
		T(test_object_commas),
		T(test_array_commas),
		T(test_nested),
		T(test_kv_str_null),
		T(test_numbers),
		T(test_control_bytes),
		T(test_each_control_byte_alone),
		T(test_del_quote_backslash),
		T(test_invalid_utf8),
		T(test_valid_multibyte_kept),
		T(test_strn_bounds),
		T(test_long_string_grows),
		T(test_exact_document),
		T(test_flush_line),
		T(test_flush_line_top_level_values),
		T(test_flush_line_write_error),
		T(test_reset),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
