// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/opts.c: the command line. A usage error must exit 2
 * with a reason naming the bad value; anything accepted must land in the
 * right field, since the filters decide what the user gets to see.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "opts.h"

#define ERRLEN 256

/* argv is NULL-terminated; argv[0] is the program name. */
static int parse_argv(struct pw_opts *o, char *err, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	memset(err, 0, ERRLEN);
	return pw_opts_parse(argc, argv, o, err, ERRLEN);
}

#define PARSE(o, err, ...) parse_argv(o, err, (char *[]){ "portwatch", __VA_ARGS__, NULL })

/* A usage error: status 2 and a message containing every given piece. */
#define assert_usage_error(err, ret, ...)                                     \
	do {                                                                  \
		const char *const _want[] = { __VA_ARGS__ };                  \
		size_t _i;                                                    \
		assert_int_equal(ret, 2);                                     \
		for (_i = 0; _i < sizeof(_want) / sizeof(_want[0]); _i++) {   \
			if (!strstr(err, _want[_i]))                          \
				fail_msg("\"%s\" not in \"%s\"", _want[_i], err); \
		}                                                             \
	} while (0)

static void test_no_args(void **state)
{
	char *argv[] = { "portwatch", NULL };
	struct pw_opts o;
	char err[ERRLEN];

	(void)state;
	/* Plain "portwatch": defaults everywhere, no filter at all. */
	memset(&o, 0xaa, sizeof(o));
	assert_int_equal(parse_argv(&o, err, argv), 0);
	assert_int_equal(o.cmd, PW_CMD_DEFAULT);
	assert_false(o.json);
	assert_true(o.duration == 0.0);
	assert_int_equal(o.verbose, 0);
	assert_int_equal(o.filter.pid, 0);
	assert_string_equal(o.filter.comm, "");
	assert_int_equal(o.filter.port, 0);
	assert_int_equal(o.filter.netns, 0);
	assert_true(o.filter.cgroup_id == 0);
	assert_int_equal(o.filter.family, 0);
	assert_int_equal(o.filter.proto, 0);
	assert_false(o.filter.failed_only);
}

static void test_trace_json_port(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "trace", "-j", "-P", "80"), 0);
	assert_int_equal(o.cmd, PW_CMD_TRACE);
	assert_true(o.json);
	assert_int_equal(o.filter.port, 80);
	/* Options may come before the command too (GNU permutation). */
	assert_int_equal(PARSE(&o, err, "--json", "--port=443", "trace"), 0);
	assert_int_equal(o.cmd, PW_CMD_TRACE);
	assert_true(o.json);
	assert_int_equal(o.filter.port, 443);
	/* Attached argument and the upper bound. */
	assert_int_equal(PARSE(&o, err, "-P65535"), 0);
	assert_int_equal(o.filter.port, 65535);
	assert_int_equal(PARSE(&o, err, "-P", "1"), 0);
	assert_int_equal(o.filter.port, 1);
}

static void test_bad_port(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];
	int ret;

	(void)state;
	/* uint16_t would silently wrap 70000 to 4464. */
	ret = PARSE(&o, err, "-P", "70000");
	assert_usage_error(err, ret, "port", "'70000'");
	ret = PARSE(&o, err, "-P", "-1");
	assert_usage_error(err, ret, "port", "'-1'");
	ret = PARSE(&o, err, "-P", "abc");
	assert_usage_error(err, ret, "port", "'abc'");
	/* Port 0 would mean "any": it cannot be asked for explicitly. */
	ret = PARSE(&o, err, "-P", "0");
	assert_usage_error(err, ret, "port", "'0'");
	ret = PARSE(&o, err, "--port=");
	assert_usage_error(err, ret, "port", "''");
	ret = PARSE(&o, err, "--port", "80x");
	assert_usage_error(err, ret, "port", "'80x'");
	ret = PARSE(&o, err, "-P");
	assert_usage_error(err, ret, "-P", "argument");
	ret = PARSE(&o, err, "--port");
	assert_usage_error(err, ret, "--port", "argument");
}

static void test_pid(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];
	int ret;

	(void)state;
	assert_int_equal(PARSE(&o, err, "-p", "4321"), 0);
	assert_int_equal(o.filter.pid, 4321);
	assert_int_equal(PARSE(&o, err, "--pid=1"), 0);
	assert_int_equal(o.filter.pid, 1);
	/* pid 0 would mean "any" (and is the idle task). */
	ret = PARSE(&o, err, "-p", "0");
	assert_usage_error(err, ret, "pid", "'0'");
	ret = PARSE(&o, err, "-p", "x");
	assert_usage_error(err, ret, "pid", "'x'");
	/* Above INT_MAX: no such pid (pid_t is signed). */
	ret = PARSE(&o, err, "-p", "2147483648");
	assert_usage_error(err, ret, "pid", "'2147483648'");
	ret = PARSE(&o, err, "-p", "-5");
	assert_usage_error(err, ret, "pid", "'-5'");
}

static void test_duration(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];
	int ret;

	(void)state;
	assert_int_equal(PARSE(&o, err, "--duration", "1.5"), 0);
	assert_true(o.duration == 1.5);
	assert_int_equal(PARSE(&o, err, "--duration=10"), 0);
	assert_true(o.duration == 10.0);
	/* 0 would read as "forever": refuse rather than guess. */
	ret = PARSE(&o, err, "--duration", "0");
	assert_usage_error(err, ret, "--duration", "'0'");
	ret = PARSE(&o, err, "--duration", "-3");
	assert_usage_error(err, ret, "--duration", "'-3'");
	ret = PARSE(&o, err, "--duration", "abc");
	assert_usage_error(err, ret, "--duration", "'abc'");
	ret = PARSE(&o, err, "--duration", "5s");
	assert_usage_error(err, ret, "--duration", "'5s'");
	ret = PARSE(&o, err, "--duration", "nan");
	assert_usage_error(err, ret, "--duration", "'nan'");
	ret = PARSE(&o, err, "--duration", "inf");
	assert_usage_error(err, ret, "--duration", "'inf'");
	ret = PARSE(&o, err, "--duration=");
	assert_usage_error(err, ret, "--duration", "''");
}

static void test_family_and_proto_exclusive(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];
	int ret;

	(void)state;
	assert_int_equal(PARSE(&o, err, "-4"), 0);
	assert_int_equal(o.filter.family, 4);
	assert_int_equal(PARSE(&o, err, "--ipv6"), 0);
	assert_int_equal(o.filter.family, 6);
	ret = PARSE(&o, err, "-4", "-6");
	assert_usage_error(err, ret, "-4", "-6");
	/* Repeating the same one is still "two families", also refused. */
	ret = PARSE(&o, err, "--ipv6", "-6");
	assert_usage_error(err, ret, "-4", "-6");

	assert_int_equal(PARSE(&o, err, "--tcp"), 0);
	assert_int_equal(o.filter.proto, PW_PROTO_TCP);
	assert_int_equal(PARSE(&o, err, "--udp"), 0);
	assert_int_equal(o.filter.proto, PW_PROTO_UDP);
	ret = PARSE(&o, err, "--tcp", "--udp");
	assert_usage_error(err, ret, "--tcp", "--udp");
}

static void test_comm(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];
	int ret;

	(void)state;
	/* The kernel keeps 15 characters: a longer name could never match. */
	assert_int_equal(PARSE(&o, err, "-c", "abcdefghijklmno"), 0);
	assert_string_equal(o.filter.comm, "abcdefghijklmno");
	ret = PARSE(&o, err, "-c", "abcdefghijklmnop");
	assert_usage_error(err, ret, "comm", "'abcdefghijklmnop'");
	ret = PARSE(&o, err, "--comm=");
	assert_usage_error(err, ret, "comm", "''");
	assert_int_equal(PARSE(&o, err, "--comm", "nginx"), 0);
	assert_string_equal(o.filter.comm, "nginx");
}

static void test_unknown_option_and_command(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];
	int ret;

	(void)state;
	ret = PARSE(&o, err, "-Z");
	assert_usage_error(err, ret, "unknown option", "'-Z'");
	ret = PARSE(&o, err, "--bogus");
	assert_usage_error(err, ret, "unknown option", "'--bogus'");
	ret = PARSE(&o, err, "frobnicate");
	assert_usage_error(err, ret, "unknown command", "'frobnicate'");
	/* Only one command; a stray word after it is an error too. */
	ret = PARSE(&o, err, "trace", "extra");
	assert_usage_error(err, ret, "'extra'");
}

static void test_netns(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];
	struct stat st;
	int ret;

	(void)state;
	/* The initial netns inode on every kernel since 3.8. */
	assert_int_equal(PARSE(&o, err, "--netns", "4026531840"), 0);
	assert_int_equal(o.filter.netns, 4026531840u);
	/* A path resolves to its inode: what `ip netns` and /proc show. */
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	assert_int_equal(PARSE(&o, err, "--netns", "/proc/self/ns/net"), 0);
	assert_int_equal(o.filter.netns, (uint32_t)st.st_ino);
	assert_true(o.filter.netns != 0);
	/* netns inodes are 32-bit in the records. */
	ret = PARSE(&o, err, "--netns", "4294967296");
	assert_usage_error(err, ret, "--netns", "'4294967296'");
	ret = PARSE(&o, err, "--netns", "/nonexistent/ns");
	assert_usage_error(err, ret, "--netns", "'/nonexistent/ns'");
}

static void test_cgroup(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];
	int ret;

	(void)state;
	/* cgroup ids are 64-bit. */
	assert_int_equal(PARSE(&o, err, "--cgroup", "8589934593"), 0);
	assert_true(o.filter.cgroup_id == 8589934593ull);
	ret = PARSE(&o, err, "--cgroup", "/nonexistent/cgroup");
	assert_usage_error(err, ret, "--cgroup", "'/nonexistent/cgroup'");
}

static void test_flags(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-vv"), 0);
	assert_int_equal(o.verbose, 2);
	assert_int_equal(PARSE(&o, err, "-v", "--verbose", "-v"), 0);
	assert_int_equal(o.verbose, 3);
	assert_int_equal(PARSE(&o, err, "--failed"), 0);
	assert_true(o.filter.failed_only);
	assert_int_equal(PARSE(&o, err, "-h"), 0);
	assert_int_equal(o.cmd, PW_CMD_HELP);
	assert_int_equal(PARSE(&o, err, "--help"), 0);
	assert_int_equal(o.cmd, PW_CMD_HELP);
	/* --help wins over a command word that would otherwise be checked. */
	assert_int_equal(PARSE(&o, err, "-h", "frobnicate"), 0);
	assert_int_equal(o.cmd, PW_CMD_HELP);
	assert_int_equal(PARSE(&o, err, "-V"), 0);
	assert_int_equal(o.cmd, PW_CMD_VERSION);
	/* Cleared between calls: nothing leaks from the previous parse. */
	assert_int_equal(PARSE(&o, err, "trace"), 0);
	assert_int_equal(o.verbose, 0);
	assert_false(o.filter.failed_only);
	assert_int_equal(o.cmd, PW_CMD_TRACE);
}

static void test_everything_together(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "trace", "--json", "--duration", "30", "-p", "77", "-c",
			       "sshd", "-P", "22", "--netns", "4026531840", "--cgroup", "1",
			       "-6", "--tcp", "--failed", "-v"),
			 0);
	assert_int_equal(o.cmd, PW_CMD_TRACE);
	assert_true(o.json);
	assert_true(o.duration == 30.0);
	assert_int_equal(o.filter.pid, 77);
	assert_string_equal(o.filter.comm, "sshd");
	assert_int_equal(o.filter.port, 22);
	assert_int_equal(o.filter.netns, 4026531840u);
	assert_true(o.filter.cgroup_id == 1);
	assert_int_equal(o.filter.family, 6);
	assert_int_equal(o.filter.proto, PW_PROTO_TCP);
	assert_true(o.filter.failed_only);
	assert_int_equal(o.verbose, 1);
}

/*
 * The long options of long_opts[] in user/opts.c (static there, so listed
 * again here; test_usage_options_known catches a stale entry). short is 0
 * for long-only options.
 */
static const struct {
	const char *name;
	char short_name;
} long_names[] = {
	{ "json", 'j' },   { "duration", 0 }, { "pid", 'p' },   { "comm", 'c' },
	{ "port", 'P' },   { "netns", 0 },    { "cgroup", 0 },  { "ipv4", '4' },
	{ "ipv6", '6' },   { "tcp", 0 },      { "udp", 0 },     { "failed", 0 },
	{ "ringbuf-kb", 0 }, { "verbose", 'v' }, { "help", 'h' }, { "version", 'V' },
};

static char *usage_text(void)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	pw_usage(f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

static void test_usage_lists_every_option(void **state)
{
	char *u = usage_text(), want[64];
	size_t i;

	(void)state;
	/* --help is the documentation most users read: nothing may be hidden. */
	for (i = 0; i < sizeof(long_names) / sizeof(long_names[0]); i++) {
		snprintf(want, sizeof(want), "--%s ", long_names[i].name);
		if (!strstr(u, want))
			fail_msg("usage lacks %s", want);
		if (long_names[i].short_name) {
			snprintf(want, sizeof(want), "-%c, --%s ", long_names[i].short_name,
				 long_names[i].name);
			if (!strstr(u, want))
				fail_msg("usage lacks \"%s\"", want);
		}
	}
	assert_non_null(strstr(u, "Usage: portwatch"));
	assert_non_null(strstr(u, "  trace "));
	assert_non_null(strstr(u, "2 usage error"));
	free(u);
}

static void test_usage_options_known(void **state)
{
	char *u = usage_text(), *p, name[64], arg[80], err[ERRLEN];
	struct pw_opts o;
	size_t n, i;
	int seen = 0;

	(void)state;
	/* The other way round: every --option in the text is a real option. */
	for (p = strstr(u, "--"); p; p = strstr(p + 2, "--")) {
		n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");
		if (n == 0 || n >= sizeof(name))
			continue;
		memcpy(name, p + 2, n);
		name[n] = '\0';
		snprintf(arg, sizeof(arg), "--%s", name);
		/* Options with arguments fail for lack of one, never as unknown. */
		PARSE(&o, err, arg);
		if (strstr(err, "unknown"))
			fail_msg("usage mentions %s but the parser says: %s", arg, err);
		seen++;
	}
	assert_true(seen >= (int)(sizeof(long_names) / sizeof(long_names[0])));
	/* And every entry of our copy of the table is known to the parser. */
	for (i = 0; i < sizeof(long_names) / sizeof(long_names[0]); i++) {
		snprintf(arg, sizeof(arg), "--%s", long_names[i].name);
		PARSE(&o, err, arg);
		if (strstr(err, "unknown"))
			fail_msg("%s: %s", arg, err);
	}
	free(u);
}

/*
 * Regression: a long option that takes no argument, given one
 * ("--failed=yes"), was reported as "unknown option '-\x05'": getopt_long
 * sets optopt to the option's val (OPT_FAILED = 0x105). The message
 * must name what the user typed and must not carry a control byte.
 */
static void test_long_option_with_stray_argument(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];
	size_t i;
	int ret;

	(void)state;
	ret = PARSE(&o, err, "--failed=yes");
	for (i = 0; err[i]; i++) {
		if ((unsigned char)err[i] < 0x20)
			fail_msg("control byte 0x%02x at offset %zu of the message",
				 (unsigned char)err[i], i);
	}
	assert_usage_error(err, ret, "--failed");
	/* Same path with a short val: must not claim the user typed "-j". */
	ret = PARSE(&o, err, "--json=1");
	assert_usage_error(err, ret, "--json");
}

/*
 * Regression: pw_opts_parse reset getopt with optind = 1, which keeps glibc's position inside a
 * clustered argument. When a parse stops on an error mid-cluster ("-46v"
 * fails at '6'), the next parse resumes at the stale 'v' of the previous
 * argv (a dangling pointer once that argv is gone) and skips its own first
 * argument. optind = 0 requests a full reinitialisation.
 */
static void test_getopt_state_reset_between_parses(void **state)
{
	struct pw_opts o;
	char err[ERRLEN];
	int ret;

	(void)state;
	ret = PARSE(&o, err, "-46v");
	assert_usage_error(err, ret, "-4", "-6");
	assert_int_equal(PARSE(&o, err, "-j"), 0);
	assert_true(o.json);
	assert_int_equal(o.verbose, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_args),
		cmocka_unit_test(test_trace_json_port),
		cmocka_unit_test(test_bad_port),
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_family_and_proto_exclusive),
		cmocka_unit_test(test_comm),
		cmocka_unit_test(test_unknown_option_and_command),
		cmocka_unit_test(test_netns),
		cmocka_unit_test(test_cgroup),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_everything_together),
		cmocka_unit_test(test_usage_lists_every_option),
		cmocka_unit_test(test_usage_options_known),
		cmocka_unit_test(test_long_option_with_stray_argument),
		/* Last: when it fails it leaves getopt mid-cluster. */
		cmocka_unit_test(test_getopt_state_reset_between_parses),
	};

	return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}
