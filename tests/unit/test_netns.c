// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/netns.c: parsing net.ipv4.ip_local_reserved_ports,
 * which decides how many ephemeral ports a namespace really has, and the
 * no-move path of pw_netns_enter()/pw_netns_leave(), which needs no
 * privilege. Moving between namespaces needs root: the integration tests
 * cover it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns.h"

static int reserved(const struct pw_port_range *r, unsigned port)
{
	return (r->reserved[port / 64] >> (port % 64)) & 1;
}

static unsigned count_reserved(const struct pw_port_range *r)
{
	unsigned n = 0, i;

	for (i = 0; i < 1024; i++)
		n += (unsigned)__builtin_popcountll(r->reserved[i]);
	return n;
}

static struct pw_port_range *range(uint16_t lo, uint16_t hi)
{
	static struct pw_port_range r;

	memset(&r, 0xa5, sizeof(r)); /* parsing must not depend on what was there */
	r.lo = lo;
	r.hi = hi;
	return &r;
}

static void test_empty(void **state)
{
	struct pw_port_range *r;

	(void)state;
	/* What the kernel prints when nothing is reserved. */
	r = range(32768, 60999);
	assert_int_equal(pw_netns_parse_reserved("\n", r), 0);
	assert_int_equal(count_reserved(r), 0);
	assert_int_equal(r->reserved_in_range, 0);
	r = range(32768, 60999);
	assert_int_equal(pw_netns_parse_reserved("", r), 0);
	assert_int_equal(count_reserved(r), 0);
}

static void test_list_and_ranges(void **state)
{
	struct pw_port_range *r = range(9050, 10000);

	(void)state;
	assert_int_equal(pw_netns_parse_reserved("8080,9000-9100\n", r), 0);
	assert_int_equal(count_reserved(r), 1 + 101);
	assert_true(reserved(r, 8080));
	assert_false(reserved(r, 8079));
	assert_false(reserved(r, 8081));
	assert_false(reserved(r, 8999));
	assert_true(reserved(r, 9000));
	assert_true(reserved(r, 9100));
	assert_false(reserved(r, 9101));
	/* 9050..9100 of the range are reserved, 8080 is below it. */
	assert_int_equal(r->reserved_in_range, 51);
	/* The range bounds themselves count. */
	r = range(9100, 9100);
	assert_int_equal(pw_netns_parse_reserved("9100", r), 0);
	assert_int_equal(r->reserved_in_range, 1);
}

static void test_extremes(void **state)
{
	struct pw_port_range *r = range(32768, 60999);

	(void)state;
	assert_int_equal(pw_netns_parse_reserved("0-65535\n", r), 0);
	assert_int_equal(count_reserved(r), 65536);
	assert_int_equal(r->reserved_in_range, 60999 - 32768 + 1);
	r = range(0, 65535);
	assert_int_equal(pw_netns_parse_reserved("0,65535", r), 0);
	assert_int_equal(count_reserved(r), 2);
	assert_true(reserved(r, 0));
	assert_true(reserved(r, 65535));
	assert_int_equal(r->reserved_in_range, 2);
	/* An inverted port range (the kernel refuses it; be safe anyway). */
	r = range(40000, 30000);
	assert_int_equal(pw_netns_parse_reserved("35000", r), 0);
	assert_int_equal(r->reserved_in_range, 0);
	/* Blanks around items are tolerated. */
	r = range(1, 10);
	assert_int_equal(pw_netns_parse_reserved(" 1 , 3-4\t\n", r), 0);
	assert_int_equal(r->reserved_in_range, 3);
}

/* The longest value the kernel can print: every other port, about 190 KB. */
static void test_longest(void **state)
{
	struct pw_port_range *r = range(32768, 60999);
	size_t len = 0, cap = 65536 * 6 + 2;
	char *text = malloc(cap);
	unsigned p;

	(void)state;
	assert_non_null(text);
	for (p = 0; p < 65536; p += 2)
		len += (size_t)snprintf(text + len, cap - len, p ? ",%u" : "%u", p);
	text[len++] = '\n';
	text[len] = '\0';
	assert_int_equal(pw_netns_parse_reserved(text, r), 0);
	assert_int_equal(count_reserved(r), 32768);
	assert_true(reserved(r, 65534));
	assert_false(reserved(r, 65533));
	assert_int_equal(r->reserved_in_range, (60999 - 32768 + 1) / 2);
	free(text);
}

static void test_invalid(void **state)
{
	static const char *const bad[] = {
		"abc", "1,", "1,\n", ",1", "5-3", "65536", "1-65536", "-5", "+5", "1 2",
		"1,,2", "1-", "1--2", "1-2-3", "80\nx", "99999999999999999999", "0x50", "8080;9000",
	};
	struct pw_port_range *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = range(0, 65535);
		if (pw_netns_parse_reserved(bad[i], r) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
		/* All or nothing: a valid start is not kept. */
		assert_int_equal(count_reserved(r), 0);
		assert_int_equal(r->reserved_in_range, 0);
	}
	r = range(0, 65535);
	assert_int_equal(pw_netns_parse_reserved("8080,x", r), -EINVAL);
	assert_false(reserved(r, 8080));
}

static void test_replaces(void **state)
{
	struct pw_port_range *r = range(0, 65535);

	(void)state;
	assert_int_equal(pw_netns_parse_reserved("1", r), 0);
	assert_int_equal(pw_netns_parse_reserved("2", r), 0);
	assert_false(reserved(r, 1));
	assert_true(reserved(r, 2));
	assert_int_equal(r->reserved_in_range, 1);
}

/* Entering the namespace the thread is in needs no pid and no privilege. */
static void test_enter_self(void **state)
{
	struct stat st;
	int fd;

	(void)state;
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	assert_int_equal(pw_netns_self(), (uint32_t)st.st_ino);
	fd = pw_netns_enter(pw_netns_self(), NULL, 0);
	assert_true(fd >= 0);
	assert_int_equal(pw_netns_leave(fd), 0);
	/* The fd was closed. */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
}

/* A namespace no candidate is in: -ESRCH, and the thread has not moved. */
static void test_enter_nowhere(void **state)
{
	uint32_t pids[] = { (uint32_t)getpid(), 0x7ffffff0u /* no such pid */ };

	(void)state;
	assert_int_equal(pw_netns_enter(1, pids, 2), -ESRCH);
	assert_int_equal(pw_netns_enter(1, NULL, 0), -ESRCH);
	assert_int_equal(pw_netns_leave(-1), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_list_and_ranges),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_longest),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_replaces),
		cmocka_unit_test(test_enter_self),
		cmocka_unit_test(test_enter_nowhere),
	};

	return cmocka_run_group_tests_name("netns", tests, NULL, NULL);
}
