// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/baseline.c: the file of approved listeners. A line
 * misread either hides a real listener or raises alerts for ever, so every
 * malformed line must be refused with its file and line number, and what
 * the writer emits must read back as the same approval.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline.h"

#define TCP 6
#define UDP 17
#define ERRLEN 256

/* Parse text that must be valid; fails the test with the reason if not. */
static struct pw_baseline *parse_ok(const char *text)
{
	char err[ERRLEN] = "";
	struct pw_baseline *b = pw_baseline_parse(text, "t.conf", err, sizeof(err));

	if (!b)
		fail_msg("unexpected parse error: %s", err);
	return b;
}

/* Parse text that must be refused with exactly the message want. */
static void parse_fails(const char *text, const char *want)
{
	char err[ERRLEN];
	struct pw_baseline *b;

	memset(err, 'Z', sizeof(err));
	b = pw_baseline_parse(text, "t.conf", err, sizeof(err));
	if (b) {
		pw_baseline_free(b);
		fail_msg("accepted, expected \"%s\": %s", want, text);
	}
	assert_string_equal(err, want);
}

static void test_parse_basic(void **state)
{
	struct pw_baseline *b;

	(void)state;
	b = parse_ok("# approved listeners\n"
		     "tcp 22 sshd\n"
		     "tcp 443\n"
		     "\n"
		     "udp 53 systemd-resolve\n"
		     "   \t  \n"
		     "\ttcp\t8080\tjava   # app server\n"
		     "tcp 5432 postgres");
	assert_true(pw_baseline_allows(b, TCP, 22, "sshd"));
	assert_true(pw_baseline_allows(b, TCP, 443, "nginx"));
	assert_true(pw_baseline_allows(b, UDP, 53, "systemd-resolve"));
	assert_true(pw_baseline_allows(b, TCP, 8080, "java"));
	/* The last line has no newline and still counts. */
	assert_true(pw_baseline_allows(b, TCP, 5432, "postgres"));
	/* Not approved: other comm, other proto, other port. */
	assert_false(pw_baseline_allows(b, TCP, 22, "nc"));
	assert_false(pw_baseline_allows(b, UDP, 22, "sshd"));
	assert_false(pw_baseline_allows(b, TCP, 53, "systemd-resolve"));
	assert_false(pw_baseline_allows(b, UDP, 443, "nginx"));
	assert_false(pw_baseline_allows(b, TCP, 23, "sshd"));
	assert_false(pw_baseline_allows(b, TCP, 8080, "java   "));
	pw_baseline_free(b);
}

static void test_parse_empty_and_comments(void **state)
{
	struct pw_baseline *b;

	(void)state;
	b = parse_ok("");
	assert_false(pw_baseline_allows(b, TCP, 22, "sshd"));
	pw_baseline_free(b);
	b = parse_ok("# nothing\n\n#tcp 22 sshd\n   # tcp 80\n");
	assert_false(pw_baseline_allows(b, TCP, 22, "sshd"));
	assert_false(pw_baseline_allows(b, TCP, 80, NULL));
	pw_baseline_free(b);
	/* '#' needs no space before it; the comm ends there. */
	b = parse_ok("tcp 22 sshd#trailing\ntcp 80#x\n");
	assert_true(pw_baseline_allows(b, TCP, 22, "sshd"));
	assert_false(pw_baseline_allows(b, TCP, 22, "sshd#trailing"));
	assert_true(pw_baseline_allows(b, TCP, 80, "anything"));
	pw_baseline_free(b);
}

static void test_parse_crlf_and_edges(void **state)
{
	struct pw_baseline *b;

	(void)state;
	/* CRLF endings: the '\r' is not part of the comm. */
	b = parse_ok("tcp 22 sshd\r\nudp 123\r\n");
	assert_true(pw_baseline_allows(b, TCP, 22, "sshd"));
	assert_true(pw_baseline_allows(b, UDP, 123, "chronyd"));
	pw_baseline_free(b);
	/* Port bounds, leading zeros (decimal), a comm of exactly 15 bytes. */
	b = parse_ok("tcp 1\ntcp 65535 abcdefghijklmno\nudp 0080 x\n");
	assert_true(pw_baseline_allows(b, TCP, 1, NULL));
	assert_true(pw_baseline_allows(b, TCP, 65535, "abcdefghijklmno"));
	assert_false(pw_baseline_allows(b, TCP, 65535, "abcdefghijklmn"));
	assert_true(pw_baseline_allows(b, UDP, 80, "x"));
	pw_baseline_free(b);
	/* UTF-8 comms are fine (the kernel does not restrict comm). */
	b = parse_ok("tcp 8443 caf\xc3\xa9\n");
	assert_true(pw_baseline_allows(b, TCP, 8443, "caf\xc3\xa9"));
	pw_baseline_free(b);
}

static void test_parse_errors(void **state)
{
	(void)state;
	parse_fails("tcpp 22\n", "t.conf:1: unknown protocol 'tcpp' (expected tcp or udp)");
	parse_fails("# header\n\nsctp 22\n",
		    "t.conf:3: unknown protocol 'sctp' (expected tcp or udp)");
	/* Strict: no upper case. */
	parse_fails("TCP 22\n", "t.conf:1: unknown protocol 'TCP' (expected tcp or udp)");
	parse_fails("22 tcp\n", "t.conf:1: unknown protocol '22' (expected tcp or udp)");
	parse_fails("tcp 22\ntcp\n", "t.conf:2: missing port after 'tcp'");
	parse_fails("udp # no port\n", "t.conf:1: missing port after 'udp'");
	parse_fails("tcp 0\n", "t.conf:1: bad port '0' (expected 1-65535)");
	parse_fails("tcp 22\nudp 70000\n", "t.conf:2: bad port '70000' (expected 1-65535)");
	parse_fails("tcp 65536\n", "t.conf:1: bad port '65536' (expected 1-65535)");
	parse_fails("tcp abc\n", "t.conf:1: bad port 'abc' (expected 1-65535)");
	parse_fails("tcp -1\n", "t.conf:1: bad port '-1' (expected 1-65535)");
	parse_fails("tcp +22\n", "t.conf:1: bad port '+22' (expected 1-65535)");
	parse_fails("tcp 0x16\n", "t.conf:1: bad port '0x16' (expected 1-65535)");
	parse_fails("tcp 22x\n", "t.conf:1: bad port '22x' (expected 1-65535)");
	parse_fails("tcp 99999999999999999999999\n",
		    "t.conf:1: bad port '99999999999999999999999' (expected 1-65535)");
	parse_fails("tcp 22 sshd extra\n",
		    "t.conf:1: too many fields (expected: tcp|udp PORT [COMM])");
	parse_fails("tcp 22 sshd -D\n",
		    "t.conf:1: too many fields (expected: tcp|udp PORT [COMM])");
	parse_fails("tcp 22 abcdefghijklmnop\n",
		    "t.conf:1: comm 'abcdefghijklmnop' is longer than 15 bytes");
	/* 15 bytes but 16 with a two-byte character. */
	parse_fails("tcp 22 abcdefghijklmn\xc3\xa9\n",
		    "t.conf:1: comm 'abcdefghijklmn\xc3\xa9' is longer than 15 bytes");
	/* Control characters are refused and escaped in the message. */
	parse_fails("tcp 22 ss\x1b[31mhd\n",
		    "t.conf:1: comm 'ss\\x1b[31mhd' contains a control character");
	parse_fails("tcp 22 a\x7f\n", "t.conf:1: comm 'a\\x7f' contains a control character");
	parse_fails("tcp 22 a\vb\n", "t.conf:1: comm 'a\\x0bb' contains a control character");
	parse_fails("tcp 22 a\rb\n", "t.conf:1: comm 'a\\x0db' contains a control character");
	parse_fails("tcp 22 \xc2\x9b" "x\n",
		    "t.conf:1: comm '\\xc2\\x9bx' contains a control character");
	parse_fails("tcp 22 a\xff\n", "t.conf:1: comm 'a\\xff' is not valid UTF-8");
	/* A bad token is escaped wherever it is. */
	parse_fails("t\x1b" "cp 22\n", "t.conf:1: unknown protocol 't\\x1bcp' (expected tcp or udp)");
	/* The first bad line is the one reported. */
	parse_fails("tcp 22\n\n# c\nudp 1 ok\nfoo\nbar\n",
		    "t.conf:5: unknown protocol 'foo' (expected tcp or udp)");
}

static void test_parse_error_truncation(void **state)
{
	char err[16];
	struct pw_baseline *b;

	(void)state;
	/* A short err buffer is cut, never overrun. */
	memset(err, 'Z', sizeof(err));
	b = pw_baseline_parse("bogus\n", "t.conf", err, 12);
	assert_null(b);
	assert_string_equal(err, "t.conf:1: u");
	assert_int_equal(err[12], 'Z');
	/* A NULL name is given a stand-in. */
	b = pw_baseline_parse("bogus\n", NULL, err, sizeof(err));
	assert_null(b);
	assert_memory_equal(err, "(baseline):1: ", 14);
}

static void test_allows_semantics(void **state)
{
	struct pw_baseline *b;

	(void)state;
	b = parse_ok("tcp 22 sshd\n"
		     "tcp 22 dropbear\n"
		     "tcp 80\n"
		     "tcp 80 nginx\n"
		     "udp 53 dnsmasq\n"
		     "udp 53 dnsmasq\n");
	/* A comm entry approves that comm only (exact, case-sensitive). */
	assert_true(pw_baseline_allows(b, TCP, 22, "sshd"));
	assert_true(pw_baseline_allows(b, TCP, 22, "dropbear"));
	assert_false(pw_baseline_allows(b, TCP, 22, "SSHD"));
	assert_false(pw_baseline_allows(b, TCP, 22, "ssh"));
	assert_false(pw_baseline_allows(b, TCP, 22, "sshd2"));
	assert_false(pw_baseline_allows(b, TCP, 22, ""));
	/* Unknown owner: only a port-wide entry approves it. */
	assert_false(pw_baseline_allows(b, TCP, 22, NULL));
	assert_true(pw_baseline_allows(b, TCP, 80, NULL));
	/* A port-wide entry approves anyone, whatever else is listed. */
	assert_true(pw_baseline_allows(b, TCP, 80, "nginx"));
	assert_true(pw_baseline_allows(b, TCP, 80, "python3"));
	assert_true(pw_baseline_allows(b, TCP, 80, ""));
	/* Duplicates are harmless. */
	assert_true(pw_baseline_allows(b, UDP, 53, "dnsmasq"));
	assert_false(pw_baseline_allows(b, UDP, 53, "named"));
	/* Other protocols and a NULL baseline approve nothing. */
	assert_false(pw_baseline_allows(b, 0, 80, "nginx"));
	assert_false(pw_baseline_allows(b, 132, 80, "nginx"));
	assert_false(pw_baseline_allows(b, TCP + 65536, 80, "nginx"));
	assert_false(pw_baseline_allows(NULL, TCP, 80, "nginx"));
	/* A comm longer than any baseline comm never matches its prefix. */
	assert_false(pw_baseline_allows(b, TCP, 22, "sshd-but-longer-than-16"));
	pw_baseline_free(b);
	pw_baseline_free(NULL);
}

/* Run the writer into a string; returns the malloc'ed text. */
static char *write_to_string(int proto, uint16_t port, const char *comm, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*ret = pw_baseline_write_entry(f, proto, port, comm);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_write_entry(void **state)
{
	static const struct {
		int proto;
		uint16_t port;
		const char *comm;
		const char *want;
	} cases[] = {
		{ TCP, 22, "sshd", "tcp 22 sshd\n" },
		{ UDP, 53, "systemd-resolve", "udp 53 systemd-resolve\n" },
		{ TCP, 443, NULL, "tcp 443\n" },
		{ TCP, 65535, "caf\xc3\xa9", "tcp 65535 caf\xc3\xa9\n" },
		{ TCP, 8080, "Web Content", "tcp 8080 # comm not representable\n" },
		{ TCP, 8080, "a#b", "tcp 8080 # comm not representable\n" },
		{ TCP, 8080, "a\tb", "tcp 8080 # comm not representable\n" },
		{ TCP, 8080, "\x1b[31m", "tcp 8080 # comm not representable\n" },
		{ TCP, 8080, "a\xff", "tcp 8080 # comm not representable\n" },
		{ UDP, 8080, "", "udp 8080 # comm not representable\n" },
		{ TCP, 8080, "abcdefghijklmnop", "tcp 8080 # comm not representable\n" },
	};
	char *out;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = write_to_string(cases[i].proto, cases[i].port, cases[i].comm, &ret);
		assert_int_equal(ret, 0);
		assert_string_equal(out, cases[i].want);
		free(out);
	}
	/* The parser would refuse these: nothing is written. */
	out = write_to_string(0, 22, "sshd", &ret);
	assert_int_equal(ret, -1);
	assert_string_equal(out, "");
	free(out);
	out = write_to_string(TCP, 0, "sshd", &ret);
	assert_int_equal(ret, -1);
	assert_string_equal(out, "");
	free(out);
}

static void test_write_parse_round_trip(void **state)
{
	static const struct {
		int proto;
		uint16_t port;
		const char *comm;
	} in[] = {
		{ TCP, 22, "sshd" },         { TCP, 22, "dropbear" },    { UDP, 53, "dnsmasq" },
		{ TCP, 443, NULL },          { TCP, 1, "abcdefghijklmno" }, { UDP, 65535, "x" },
		{ TCP, 8080, "Web Content" }, { TCP, 9000, "a#b" },     { UDP, 9001, "\x01" },
		{ TCP, 9002, "caf\xc3\xa9" },
	};
	char err[ERRLEN] = "";
	struct pw_baseline *b;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		assert_int_equal(pw_baseline_write_entry(f, in[i].proto, in[i].port, in[i].comm), 0);
	assert_int_equal(fclose(f), 0);
	b = pw_baseline_parse(buf, "written", err, sizeof(err));
	if (!b)
		fail_msg("%s\n%s", err, buf);
	/* Representable comms: exactly that comm. */
	assert_true(pw_baseline_allows(b, TCP, 22, "sshd"));
	assert_true(pw_baseline_allows(b, TCP, 22, "dropbear"));
	assert_false(pw_baseline_allows(b, TCP, 22, "nc"));
	assert_true(pw_baseline_allows(b, UDP, 53, "dnsmasq"));
	assert_false(pw_baseline_allows(b, UDP, 53, "named"));
	assert_true(pw_baseline_allows(b, TCP, 1, "abcdefghijklmno"));
	assert_true(pw_baseline_allows(b, UDP, 65535, "x"));
	assert_true(pw_baseline_allows(b, TCP, 9002, "caf\xc3\xa9"));
	assert_false(pw_baseline_allows(b, TCP, 9002, "cafe"));
	/* No comm: anyone. */
	assert_true(pw_baseline_allows(b, TCP, 443, "nginx"));
	/* Unrepresentable comms fell back to the whole port, as documented. */
	assert_true(pw_baseline_allows(b, TCP, 8080, "Web Content"));
	assert_true(pw_baseline_allows(b, TCP, 9000, "a#b"));
	assert_true(pw_baseline_allows(b, UDP, 9001, "\x01"));
	assert_true(pw_baseline_allows(b, TCP, 9000, "other"));
	/* Nothing else leaked in. */
	assert_false(pw_baseline_allows(b, UDP, 22, "sshd"));
	assert_false(pw_baseline_allows(b, TCP, 9001, "\x01"));
	pw_baseline_free(b);
	free(buf);
}

#define BIG 5000

static void test_large_baseline(void **state)
{
	struct pw_baseline *b;
	char comm[16], *text;
	size_t cap = BIG * 32, o = 0;
	unsigned int i, port;
	int n;

	(void)state;
	text = malloc(cap);
	assert_non_null(text);
	/*
	 * Written in descending order so that the parser has to sort: ports
	 * 10001-15000; every third port-wide, the others for comm "p<port>",
	 * and every 7th of those also for "alt" on UDP.
	 */
	for (i = BIG; i > 0; i--) {
		port = 10000 + i;
		if (i % 3 == 0)
			n = snprintf(text + o, cap - o, "tcp %u\n", port);
		else if (i % 7 == 0)
			n = snprintf(text + o, cap - o, "tcp %u p%u\nudp %u alt\n", port, port, port);
		else
			n = snprintf(text + o, cap - o, "tcp %u p%u\n", port, port);
		assert_true(n > 0 && (size_t)n < cap - o);
		o += (size_t)n;
	}
	b = parse_ok(text);
	for (i = 1; i <= BIG; i++) {
		port = 10000 + i;
		snprintf(comm, sizeof(comm), "p%u", port);
		assert_true(pw_baseline_allows(b, TCP, (uint16_t)port, comm));
		if (i % 3 == 0) {
			assert_true(pw_baseline_allows(b, TCP, (uint16_t)port, "intruder"));
			assert_true(pw_baseline_allows(b, TCP, (uint16_t)port, NULL));
		} else {
			assert_false(pw_baseline_allows(b, TCP, (uint16_t)port, "intruder"));
			assert_false(pw_baseline_allows(b, TCP, (uint16_t)port, NULL));
			/* Another port's comm is not approved here. */
			snprintf(comm, sizeof(comm), "p%u", port + 1);
			assert_false(pw_baseline_allows(b, TCP, (uint16_t)port, comm));
		}
		assert_int_equal(pw_baseline_allows(b, UDP, (uint16_t)port, "alt"),
				 i % 3 != 0 && i % 7 == 0);
	}
	/* Just outside the range. */
	assert_false(pw_baseline_allows(b, TCP, 10000, "p10000"));
	assert_false(pw_baseline_allows(b, TCP, 15001, "p15001"));
	pw_baseline_free(b);
	/* An error deep in a big file still names its line. */
	o = strlen(text);
	snprintf(text + o, cap - o, "tcp 70000\n");
	parse_fails(text, "t.conf:5477: bad port '70000' (expected 1-65535)");
	free(text);
}

/* Write text to a new temporary file; path receives its name. */
static void temp_file(char *path, size_t pathsz, const void *text, size_t len)
{
	int fd;

	snprintf(path, pathsz, "/tmp/pw-baseline-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void test_load(void **state)
{
	static const char good[] = "# test\ntcp 22 sshd\nudp 53\n";
	static const char bad[] = "tcp 22 sshd\ntcp 22 sshd -D\n";
	static const char nul[] = "tcp 22 sshd\ntcp 2\0" "2 sshd\n";
	char path[64], err[ERRLEN], want[ERRLEN];
	struct pw_baseline *b;

	(void)state;
	temp_file(path, sizeof(path), good, sizeof(good) - 1);
	b = pw_baseline_load(path, err, sizeof(err));
	assert_non_null(b);
	assert_true(pw_baseline_allows(b, TCP, 22, "sshd"));
	assert_true(pw_baseline_allows(b, UDP, 53, "any"));
	assert_false(pw_baseline_allows(b, TCP, 53, "any"));
	pw_baseline_free(b);
	unlink(path);

	/* Errors name the path and the line. */
	temp_file(path, sizeof(path), bad, sizeof(bad) - 1);
	assert_null(pw_baseline_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:2: too many fields (expected: tcp|udp PORT [COMM])", path);
	assert_string_equal(err, want);
	unlink(path);

	/* A NUL byte must not end the file early and hide what follows. */
	temp_file(path, sizeof(path), nul, sizeof(nul) - 1);
	assert_null(pw_baseline_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:2: NUL byte (not a text file?)", path);
	assert_string_equal(err, want);
	unlink(path);

	/* An empty file is an empty baseline. */
	temp_file(path, sizeof(path), "", 0);
	b = pw_baseline_load(path, err, sizeof(err));
	assert_non_null(b);
	assert_false(pw_baseline_allows(b, TCP, 22, "sshd"));
	pw_baseline_free(b);

	/* Missing file, directory. */
	unlink(path);
	assert_null(pw_baseline_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	assert_null(pw_baseline_load("/", err, sizeof(err)));
	assert_string_equal(err, "/: Is a directory");
}

static void test_load_larger_than_buffer(void **state)
{
	char path[64], err[ERRLEN] = "", *text;
	size_t cap = 40000 * 16, o = 0;
	struct pw_baseline *b;
	unsigned int i;

	(void)state;
	/* Well past the first read buffer, so the read loop grows it. */
	text = malloc(cap);
	assert_non_null(text);
	for (i = 1; i <= 40000; i++)
		o += (size_t)snprintf(text + o, cap - o, "udp %u n%u\n", i, i % 1000);
	temp_file(path, sizeof(path), text, o);
	b = pw_baseline_load(path, err, sizeof(err));
	if (!b)
		fail_msg("%s", err);
	assert_true(pw_baseline_allows(b, UDP, 1, "n1"));
	assert_true(pw_baseline_allows(b, UDP, 40000, "n0"));
	assert_true(pw_baseline_allows(b, UDP, 12345, "n345"));
	assert_false(pw_baseline_allows(b, UDP, 12345, "n346"));
	assert_false(pw_baseline_allows(b, UDP, 40001, "n1"));
	pw_baseline_free(b);
	unlink(path);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_empty_and_comments),
		cmocka_unit_test(test_parse_crlf_and_edges),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_error_truncation),
		cmocka_unit_test(test_allows_semantics),
		cmocka_unit_test(test_write_entry),
		cmocka_unit_test(test_write_parse_round_trip),
		cmocka_unit_test(test_large_baseline),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_larger_than_buffer),
	};

	return cmocka_run_group_tests_name("baseline", tests, NULL, NULL);
}
