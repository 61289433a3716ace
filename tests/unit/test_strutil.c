// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/strutil.c: UTF-8 decoding, terminal escaping and
 * strict number parsing. Every string a process controls (its comm) goes
 * through these before reaching a terminal, so the edge cases matter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "strutil.h"

#define U(s) ((const unsigned char *)(s))

/* Decode the whole literal s; returns the length and stores the code point. */
static size_t dec(const char *s, size_t n, uint32_t *cp)
{
	*cp = 0xdeadbeef;
	return pw_utf8_decode(U(s), n, cp);
}

static void test_utf8_valid(void **state)
{
	uint32_t cp;

	(void)state;
	/* One sequence of each length, at both ends of its range. */
	assert_int_equal(dec("A", 1, &cp), 1);
	assert_int_equal(cp, 0x41);
	assert_int_equal(dec("\x7f", 1, &cp), 1);
	assert_int_equal(cp, 0x7f);
	assert_int_equal(dec("\xc2\x80", 2, &cp), 2);
	assert_int_equal(cp, 0x80);
	assert_int_equal(dec("\xc3\xa9", 2, &cp), 2); /* é */
	assert_int_equal(cp, 0xe9);
	assert_int_equal(dec("\xdf\xbf", 2, &cp), 2);
	assert_int_equal(cp, 0x7ff);
	assert_int_equal(dec("\xe0\xa0\x80", 3, &cp), 3);
	assert_int_equal(cp, 0x800);
	assert_int_equal(dec("\xe2\x82\xac", 3, &cp), 3); /* € */
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(dec("\xef\xbf\xbf", 3, &cp), 3);
	assert_int_equal(cp, 0xffff);
	/* Right around the surrogate block: both neighbours are legal. */
	assert_int_equal(dec("\xed\x9f\xbf", 3, &cp), 3);
	assert_int_equal(cp, 0xd7ff);
	assert_int_equal(dec("\xee\x80\x80", 3, &cp), 3);
	assert_int_equal(cp, 0xe000);
	assert_int_equal(dec("\xf0\x90\x80\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x10000);
	assert_int_equal(dec("\xf0\x9f\x98\x80", 4, &cp), 4); /* 😀 */
	assert_int_equal(cp, 0x1f600);
	assert_int_equal(dec("\xf4\x8f\xbf\xbf", 4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	/* Only the first sequence is decoded, whatever follows. */
	assert_int_equal(dec("\xc3\xa9xyz", 5, &cp), 2);
	assert_int_equal(cp, 0xe9);
}

static void test_utf8_invalid(void **state)
{
	uint32_t cp;

	(void)state;
	/* Overlong forms can smuggle '/', NUL or ESC past naive filters. */
	assert_int_equal(dec("\xc0\x80", 2, &cp), 0);
	assert_int_equal(dec("\xc1\xbf", 2, &cp), 0);
	assert_int_equal(dec("\xe0\x80\x80", 3, &cp), 0);
	assert_int_equal(dec("\xe0\x9f\xbf", 3, &cp), 0);
	assert_int_equal(dec("\xf0\x80\x80\x80", 4, &cp), 0);
	assert_int_equal(dec("\xf0\x8f\xbf\xbf", 4, &cp), 0);
	/* UTF-16 surrogates are not scalar values. */
	assert_int_equal(dec("\xed\xa0\x80", 3, &cp), 0);
	assert_int_equal(dec("\xed\xbf\xbf", 3, &cp), 0);
	/* Beyond U+10FFFF, and lead bytes that can only start such values. */
	assert_int_equal(dec("\xf4\x90\x80\x80", 4, &cp), 0);
	assert_int_equal(dec("\xf5\x80\x80\x80", 4, &cp), 0);
	assert_int_equal(dec("\xf8\x88\x80\x80\x80", 5, &cp), 0);
	assert_int_equal(dec("\xff", 1, &cp), 0);
	/* A lone continuation byte. */
	assert_int_equal(dec("\x80", 1, &cp), 0);
	/* Bad continuation bytes (ASCII, another lead byte). */
	assert_int_equal(dec("\xc3\x41", 2, &cp), 0);
	assert_int_equal(dec("\xe2\x82\xc3", 3, &cp), 0);
	/* Nothing to decode at all. */
	assert_int_equal(dec("", 0, &cp), 0);
	/* Invalid input must leave the output untouched. */
	assert_int_equal(cp, 0xdeadbeef);
}

static void test_utf8_truncated(void **state)
{
	uint32_t cp;

	(void)state;
	/* n limits the read even when more bytes follow in memory. */
	assert_int_equal(dec("\xc3\xa9", 1, &cp), 0);
	assert_int_equal(dec("\xe2\x82\xac", 2, &cp), 0);
	assert_int_equal(dec("\xf0\x9f\x98\x80", 3, &cp), 0);
	assert_int_equal(dec("\xf0\x9f\x98\x80", 1, &cp), 0);
	/* A sequence cut by the terminating NUL. */
	assert_int_equal(dec("\xe2\x82", 3, &cp), 0);
	assert_int_equal(cp, 0xdeadbeef);
}

/* Escape the first n bytes of in into a buffer of outsz bytes. */
static const char *esc(const char *in, size_t n, char *out, size_t outsz)
{
	memset(out, 'Z', outsz);
	return pw_term_escape(in, n, out, outsz);
}

static void test_escape_controls(void **state)
{
	char out[128];

	(void)state;
	/* The classic attack: colour/title escapes in a process name. */
	assert_string_equal(esc("\x1b[31m", 5, out, sizeof(out)), "\\x1b[31m");
	assert_string_equal(esc("\x1b]0;pwn\x07", 8, out, sizeof(out)), "\\x1b]0;pwn\\x07");
	assert_string_equal(esc("a\nb", 3, out, sizeof(out)), "a\\x0ab");
	assert_string_equal(esc("\r\t", 2, out, sizeof(out)), "\\x0d\\x09");
	assert_string_equal(esc("\x01\x1f", 2, out, sizeof(out)), "\\x01\\x1f");
	assert_string_equal(esc("x\x7fy", 3, out, sizeof(out)), "x\\x7fy");
	/* C1 CSI (U+009B) acts like ESC [ on some terminals. */
	assert_string_equal(esc("\xc2\x9b" "31m", 5, out, sizeof(out)), "\\xc2\\x9b31m");
	assert_string_equal(esc("\xc2\x80", 2, out, sizeof(out)), "\\xc2\\x80");
	assert_string_equal(esc("\xc2\x9f", 2, out, sizeof(out)), "\\xc2\\x9f");
	/* U+00A0 is the first code point after the C1 block: kept. */
	assert_string_equal(esc("\xc2\xa0", 2, out, sizeof(out)), "\xc2\xa0");
}

static void test_escape_invalid_and_backslash(void **state)
{
	char out[128];

	(void)state;
	/* Invalid UTF-8 is escaped byte by byte. */
	assert_string_equal(esc("a\xff" "b", 3, out, sizeof(out)), "a\\xffb");
	assert_string_equal(esc("\xc0\x80", 2, out, sizeof(out)), "\\xc0\\x80");
	assert_string_equal(esc("\xed\xa0\x80", 3, out, sizeof(out)), "\\xed\\xa0\\x80");
	assert_string_equal(esc("\xf4\x90\x80\x80", 4, out, sizeof(out)),
			    "\\xf4\\x90\\x80\\x80");
	/* A sequence cut by n is invalid, not read past n. */
	assert_string_equal(esc("\xc3\xa9", 1, out, sizeof(out)), "\\xc3");
	/* Backslash doubles so that "\x1b" typed literally stays distinguishable. */
	assert_string_equal(esc("a\\b", 3, out, sizeof(out)), "a\\\\b");
	assert_string_equal(esc("\\x1b", 4, out, sizeof(out)), "\\\\x1b");
}

static void test_escape_valid_utf8_kept(void **state)
{
	char out[128];

	(void)state;
	assert_string_equal(esc("nginx", 5, out, sizeof(out)), "nginx");
	assert_string_equal(esc("caf\xc3\xa9", 5, out, sizeof(out)), "caf\xc3\xa9");
	assert_string_equal(esc("\xe2\x82\xac\xf0\x9f\x98\x80", 7, out, sizeof(out)),
			    "\xe2\x82\xac\xf0\x9f\x98\x80");
	/* Printable ASCII punctuation passes unchanged. */
	assert_string_equal(esc(" ~!\"#[]{}", 9, out, sizeof(out)), " ~!\"#[]{}");
}

static void test_escape_stops_at_n_and_nul(void **state)
{
	char out[64];

	(void)state;
	/* comm is a fixed 16-byte field: n bounds it when there is no NUL. */
	assert_string_equal(esc("abcdef", 3, out, sizeof(out)), "abc");
	assert_string_equal(esc("ab\0cd", 5, out, sizeof(out)), "ab");
	assert_string_equal(esc("abc", 0, out, sizeof(out)), "");
	assert_string_equal(esc("", 16, out, sizeof(out)), "");
}

static void test_escape_truncation(void **state)
{
	char out[64];

	(void)state;
	/* A 4-byte escape never fits in 4 bytes (NUL needs one): nothing. */
	assert_string_equal(esc("\x1b", 1, out, 4), "");
	assert_string_equal(esc("\x1b", 1, out, 5), "\\x1b");
	/* Cut before an escape, never inside it. */
	assert_string_equal(esc("ab\x1b" "cd", 5, out, 5), "ab");
	assert_string_equal(esc("ab\x1b" "cd", 5, out, 6), "ab");
	assert_string_equal(esc("ab\x1b" "cd", 5, out, 7), "ab\\x1b");
	assert_string_equal(esc("ab\x1b" "cd", 5, out, 8), "ab\\x1bc");
	/* "\\\\" is two bytes: both or neither. */
	assert_string_equal(esc("a\\", 2, out, 3), "a");
	assert_string_equal(esc("a\\", 2, out, 4), "a\\\\");
	/* A multibyte character is not split either. */
	assert_string_equal(esc("a\xe2\x82\xac", 4, out, 4), "a");
	assert_string_equal(esc("a\xe2\x82\xac", 4, out, 5), "a\xe2\x82\xac");
	/* Size 1: only the terminator. */
	assert_string_equal(esc("abc", 3, out, 1), "");
	/* Plain ASCII truncated at outsz - 1. */
	assert_string_equal(esc("abcdef", 6, out, 4), "abc");
	/* Nothing is written past outsz. */
	memset(out, 'Z', sizeof(out));
	pw_term_escape("\x1b\x1b\x1b", 3, out, 10);
	assert_string_equal(out, "\\x1b\\x1b");
	assert_int_equal(out[10], 'Z');
}

static void test_escape_worst_case_comm(void **state)
{
	/* 16 hostile bytes need exactly 16 * 4 + 1: the renderer's buffer size. */
	char out[16 * 4 + 1], want[16 * 4 + 1];
	char in[16];
	int i;

	(void)state;
	memset(in, 0x1b, sizeof(in));
	want[0] = '\0';
	for (i = 0; i < 16; i++)
		strcat(want, "\\x1b");
	assert_string_equal(esc(in, sizeof(in), out, sizeof(out)), want);
	assert_int_equal(strlen(out), 64);
}

static void test_parse_u64_ok(void **state)
{
	uint64_t v;

	(void)state;
	v = 7;
	assert_int_equal(pw_parse_u64("65535", 1, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(pw_parse_u64("1", 1, 65535, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pw_parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	/* Leading zeros are still decimal, not octal. */
	assert_int_equal(pw_parse_u64("010", 0, 100, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(pw_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
}

static void test_parse_u64_rejects(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_int_equal(pw_parse_u64("", 0, UINT64_MAX, &v), -1);
	assert_int_equal(pw_parse_u64(NULL, 0, UINT64_MAX, &v), -1);
	assert_int_equal(pw_parse_u64("abc", 0, UINT64_MAX, &v), -1);
	/* strtoull would happily wrap "-1" to UINT64_MAX. */
	assert_int_equal(pw_parse_u64("-1", 0, UINT64_MAX, &v), -1);
	assert_int_equal(pw_parse_u64("+5", 0, UINT64_MAX, &v), -1);
	assert_int_equal(pw_parse_u64(" 5", 0, UINT64_MAX, &v), -1);
	assert_int_equal(pw_parse_u64("5 ", 0, UINT64_MAX, &v), -1);
	assert_int_equal(pw_parse_u64("70000", 1, 65535, &v), -1);
	assert_int_equal(pw_parse_u64("65536", 1, 65535, &v), -1);
	assert_int_equal(pw_parse_u64("0", 1, 65535, &v), -1);
	assert_int_equal(pw_parse_u64("12x", 0, UINT64_MAX, &v), -1);
	assert_int_equal(pw_parse_u64("0x10", 0, UINT64_MAX, &v), -1);
	assert_int_equal(pw_parse_u64("1.5", 0, UINT64_MAX, &v), -1);
	/* Overflow must not saturate to UINT64_MAX and pass. */
	assert_int_equal(pw_parse_u64("99999999999999999999", 0, UINT64_MAX, &v), -1);
	assert_int_equal(pw_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -1);
	/* Failures leave the output alone. */
	assert_int_equal(v, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_utf8_truncated),
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_escape_invalid_and_backslash),
		cmocka_unit_test(test_escape_valid_utf8_kept),
		cmocka_unit_test(test_escape_stops_at_n_and_nul),
		cmocka_unit_test(test_escape_truncation),
		cmocka_unit_test(test_escape_worst_case_comm),
		cmocka_unit_test(test_parse_u64_ok),
		cmocka_unit_test(test_parse_u64_rejects),
	};

	return cmocka_run_group_tests_name("strutil", tests, NULL, NULL);
}
