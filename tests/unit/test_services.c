// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/services.c: the built-in service table, the cached
 * /etc/services fallback and the list of ports that must not listen on a
 * wildcard address. The built-in answers are asserted exactly; the fallback
 * depends on the machine (netbase is optional), so it is checked against
 * what the C library itself says and for stable, cached answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "services.h"

#define TCP 6
#define UDP 17

struct named {
	uint16_t port;
	int proto;
	const char *name;
};

/* Every entry of the built-in table: a mis-sorted table loses some of them. */
static const struct named builtin[] = {
	{ 21, TCP, "ftp" },
	{ 22, TCP, "ssh" },
	{ 23, TCP, "telnet" },
	{ 25, TCP, "smtp" },
	{ 53, TCP, "domain" },
	{ 53, UDP, "domain" },
	{ 80, TCP, "http" },
	{ 110, TCP, "pop3" },
	{ 123, UDP, "ntp" },
	{ 143, TCP, "imap" },
	{ 161, UDP, "snmp" },
	{ 389, TCP, "ldap" },
	{ 443, TCP, "https" },
	{ 445, TCP, "smb" },
	{ 514, UDP, "syslog" },
	{ 587, TCP, "submission" },
	{ 993, TCP, "imaps" },
	{ 995, TCP, "pop3s" },
	{ 1433, TCP, "mssql" },
	{ 1521, TCP, "oracle" },
	{ 1883, TCP, "mqtt" },
	{ 2049, TCP, "nfs" },
	{ 2181, TCP, "zookeeper" },
	{ 2375, TCP, "docker" },
	{ 2376, TCP, "docker-tls" },
	{ 2379, TCP, "etcd" },
	{ 2380, TCP, "etcd-peer" },
	{ 3306, TCP, "mysql" },
	{ 3389, TCP, "rdp" },
	{ 5432, TCP, "postgresql" },
	{ 5672, TCP, "amqp" },
	{ 5900, TCP, "vnc" },
	{ 5984, TCP, "couchdb" },
	{ 6379, TCP, "redis" },
	{ 6443, TCP, "kube-apiserver" },
	{ 8000, TCP, "http-alt" },
	{ 8080, TCP, "http-alt" },
	{ 8443, TCP, "https-alt" },
	{ 8500, TCP, "consul" },
	{ 9042, TCP, "cassandra" },
	{ 9090, TCP, "prometheus" },
	{ 9092, TCP, "kafka" },
	{ 9100, TCP, "node-exporter" },
	{ 9200, TCP, "elasticsearch" },
	{ 9300, TCP, "elasticsearch" },
	{ 10250, TCP, "kubelet" },
	{ 11211, TCP, "memcached" },
	{ 11211, UDP, "memcached" },
	{ 27017, TCP, "mongodb" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* What the C library says about port/proto, or NULL. */
static const char *libc_name(uint16_t port, int proto, char *out, size_t outsz)
{
	struct servent se, *res = NULL;
	char buf[1024];

	if (getservbyport_r(htons(port), proto == TCP ? "tcp" : "udp", &se, buf, sizeof(buf),
			    &res) ||
	    !res)
		return NULL;
	snprintf(out, outsz, "%s", res->s_name);
	return out;
}

static bool in_builtin(uint16_t port, int proto)
{
	size_t i;

	for (i = 0; i < N(builtin); i++)
		if (builtin[i].port == port && builtin[i].proto == proto)
			return true;
	return false;
}

/* pw_service_name() agrees with the C library: same name, or both NULL. */
static void assert_as_libc(const char *got, uint16_t port, int proto)
{
	char buf[64];
	const char *want = libc_name(port, proto, buf, sizeof(buf));

	if (want) {
		assert_non_null(got);
		assert_string_equal(got, want);
	} else {
		assert_null(got);
	}
}

static void test_builtin_every_entry(void **state)
{
	const char *name;
	size_t i;

	(void)state;
	for (i = 0; i < N(builtin); i++) {
		name = pw_service_name(builtin[i].port, builtin[i].proto);
		assert_non_null(name);
		assert_string_equal(name, builtin[i].name);
		/* Static: the same pointer every time. */
		assert_ptr_equal(pw_service_name(builtin[i].port, builtin[i].proto), name);
	}
}

static void test_builtin_wins_over_etc_services(void **state)
{
	(void)state;
	/* /etc/services says microsoft-ds, ms-wbt-server, ms-sql-s. */
	assert_string_equal(pw_service_name(445, TCP), "smb");
	assert_string_equal(pw_service_name(3389, TCP), "rdp");
	assert_string_equal(pw_service_name(1433, TCP), "mssql");
	assert_string_equal(pw_service_name(8000, TCP), "http-alt");
}

static void test_builtin_proto_specific(void **state)
{
	const char *name;

	(void)state;
	/* Both protocols listed: the same name either way. */
	assert_string_equal(pw_service_name(53, UDP), "domain");
	assert_string_equal(pw_service_name(53, TCP), "domain");
	assert_string_equal(pw_service_name(11211, UDP), "memcached");
	/* UDP-only entries are not answered for TCP by the table. */
	name = pw_service_name(514, TCP);
	if (name)
		assert_string_not_equal(name, "syslog");
	/* 514/tcp is rsh ("shell") where /etc/services exists. */
	assert_as_libc(name, 514, TCP);
	/* TCP-only entries do not answer for UDP either. */
	assert_as_libc(pw_service_name(6379, UDP), 6379, UDP);
	assert_as_libc(pw_service_name(22, UDP), 22, UDP);
}

static void test_bad_proto(void **state)
{
	(void)state;
	assert_null(pw_service_name(22, 0));
	assert_null(pw_service_name(22, 1));   /* ICMP */
	assert_null(pw_service_name(22, 132)); /* SCTP */
	assert_null(pw_service_name(53, -1));
	/* 6 + 256 must not truncate to TCP. */
	assert_null(pw_service_name(22, 6 + 256));
	assert_false(pw_port_sensitive(3306, 6 + 256));
}

/*
 * Ports outside the table: whatever the machine's /etc/services says (it
 * may be absent), asked twice, with the second answer from the cache.
 */
static void test_fallback_matches_libc_and_is_stable(void **state)
{
	static const struct {
		uint16_t port;
		int proto;
	} probe[] = {
		{ 1, TCP },     { 1, UDP },     { 7, TCP },     { 7, UDP },     { 79, TCP },
		{ 113, TCP },   { 514, TCP },   { 0, TCP },     { 0, UDP },     { 65535, TCP },
		{ 65000, UDP }, { 40000, TCP }, { 12345, UDP }, { 3306, UDP }, { 22, UDP },
	};
	const char *a, *b;
	size_t i;

	(void)state;
	for (i = 0; i < N(probe); i++) {
		a = pw_service_name(probe[i].port, probe[i].proto);
		b = pw_service_name(probe[i].port, probe[i].proto);
		assert_as_libc(a, probe[i].port, probe[i].proto);
		/* Served from the cache: the very same string. */
		assert_ptr_equal(a, b);
	}
}

static void test_fallback_cache_overflow(void **state)
{
	unsigned int i, round;
	uint16_t port;
	int proto;

	(void)state;
	/*
	 * Many more distinct ports than the cache holds, twice: evicted
	 * answers come back right. 1-200 has names in /etc/services.
	 */
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 400; i++) {
			port = (uint16_t)(i < 200 ? 1 + i : 30000 + i);
			proto = i % 2 ? UDP : TCP;
			if (in_builtin(port, proto))
				continue;
			assert_as_libc(pw_service_name(port, proto), port, proto);
		}
	}
	/* Evictions never touch the built-in table. */
	assert_string_equal(pw_service_name(5432, TCP), "postgresql");
}

/* The complete list; everything else must be false. */
static const struct {
	uint16_t port;
	int proto;
} sensitive[] = {
	{ 1433, TCP },  { 1521, TCP },  { 2181, TCP }, { 2375, TCP }, { 2379, TCP },
	{ 2380, TCP },  { 3306, TCP },  { 3389, TCP }, { 5432, TCP }, { 5900, TCP },
	{ 5984, TCP },  { 6379, TCP },  { 8500, TCP }, { 9042, TCP }, { 9090, TCP },
	{ 9200, TCP },  { 9300, TCP },  { 10250, TCP }, { 11211, TCP }, { 11211, UDP },
	{ 27017, TCP },
};

static void test_sensitive_examples(void **state)
{
	(void)state;
	/* The ones the header promises. */
	assert_true(pw_port_sensitive(3306, TCP));
	assert_true(pw_port_sensitive(5432, TCP));
	assert_true(pw_port_sensitive(6379, TCP));
	assert_true(pw_port_sensitive(27017, TCP));
	assert_true(pw_port_sensitive(9200, TCP));
	assert_true(pw_port_sensitive(11211, TCP));
	assert_true(pw_port_sensitive(11211, UDP));
	assert_true(pw_port_sensitive(2375, TCP));
	assert_true(pw_port_sensitive(2379, TCP));
	assert_true(pw_port_sensitive(5984, TCP));
	assert_true(pw_port_sensitive(9042, TCP));
	/* Meant to be reachable. */
	assert_false(pw_port_sensitive(6443, TCP));
	assert_false(pw_port_sensitive(2376, TCP));
	assert_false(pw_port_sensitive(9100, TCP));
	assert_false(pw_port_sensitive(22, TCP));
	assert_false(pw_port_sensitive(80, TCP));
	assert_false(pw_port_sensitive(443, TCP));
	assert_false(pw_port_sensitive(53, UDP));
	assert_false(pw_port_sensitive(9092, TCP));
	/* Protocol matters: only memcached is sensitive over UDP. */
	assert_false(pw_port_sensitive(3306, UDP));
	assert_false(pw_port_sensitive(6379, UDP));
	assert_false(pw_port_sensitive(3306, 0));
	/* Neighbours of listed ports. */
	assert_false(pw_port_sensitive(3305, TCP));
	assert_false(pw_port_sensitive(3307, TCP));
	assert_false(pw_port_sensitive(0, TCP));
	assert_false(pw_port_sensitive(65535, TCP));
}

static void test_sensitive_exhaustive(void **state)
{
	unsigned int port, i, count = 0;
	bool want;
	int p;

	(void)state;
	for (p = 0; p < 2; p++) {
		int proto = p ? UDP : TCP;

		for (port = 0; port <= 65535; port++) {
			want = false;
			for (i = 0; i < N(sensitive); i++)
				if (sensitive[i].port == port && sensitive[i].proto == proto)
					want = true;
			if (pw_port_sensitive((uint16_t)port, proto) != want)
				fail_msg("port %u/%s: expected %s", port, p ? "udp" : "tcp",
					 want ? "sensitive" : "not sensitive");
			count += want;
		}
	}
	assert_int_equal(count, N(sensitive));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_every_entry),
		cmocka_unit_test(test_builtin_wins_over_etc_services),
		cmocka_unit_test(test_builtin_proto_specific),
		cmocka_unit_test(test_bad_proto),
		cmocka_unit_test(test_fallback_matches_libc_and_is_stable),
		cmocka_unit_test(test_fallback_cache_overflow),
		cmocka_unit_test(test_sensitive_examples),
		cmocka_unit_test(test_sensitive_exhaustive),
	};

	return cmocka_run_group_tests_name("services", tests, NULL, NULL);
}
