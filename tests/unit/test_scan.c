// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/scan.c, the port-scan detector (scan.h): the
 * sequential test per source (detection at the 4th, 5th, 6th failure),
 * first contacts, pending SYNs and their fates, techniques, late replies,
 * direction, namespaces and families, --allow, the alert phases, and the
 * memory bound under a spoofed flood. No kernel: every input is a
 * hand-built flow delta, and time is passed explicitly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

#define NS1 4026531840u
#define NS2 4026532001u

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC) /* kernel time of the first probe of most tests */

#define NO_FATE (-1)

/* ---- helpers ------------------------------------------------------------ */

#define MAX_CAUGHT 256

struct caught {
	int n;
	struct pw_scan_alert a[MAX_CAUGHT];
};

static struct caught caught;

static void on_alert(void *ctx, const struct pw_scan_alert *a)
{
	struct caught *c = ctx;

	assert_true(c->n < MAX_CAUGHT);
	c->a[c->n++] = *a;
}

/* Alerts of phase (NULL: any) about source. */
static int count_alerts(const char *phase, const char *source)
{
	int i, n = 0;

	for (i = 0; i < caught.n; i++)
		if ((!phase || strcmp(caught.a[i].phase, phase) == 0) &&
		    (!source || strcmp(caught.a[i].source, source) == 0))
			n++;
	return n;
}

static const struct pw_scan_alert *find_alert(const char *phase, const char *source)
{
	int i;

	for (i = 0; i < caught.n; i++)
		if (strcmp(caught.a[i].phase, phase) == 0 && strcmp(caught.a[i].source, source) == 0)
			return &caught.a[i];
	fail_msg("no %s alert for %s", phase, source);
	return NULL;
}

/*
 * Every scanner a test creates is kept here and freed by free_kept(), so
 * that a failed assertion (which leaves the test at once) leaks nothing.
 */
static struct pw_scan *kept[4];
static int n_kept;

static struct pw_scan *new_scan(const struct pw_scan_cfg *cfg)
{
	struct pw_scan *s;

	assert_true(n_kept < 4);
	s = pw_scan_new(cfg, on_alert, &caught);
	assert_non_null(s);
	kept[n_kept++] = s;
	return s;
}

static int free_kept(void **state)
{
	(void)state;
	while (n_kept > 0)
		pw_scan_free(kept[--n_kept]);
	caught.n = 0;
	return 0;
}

static bool is_v6(const char *text)
{
	return strchr(text, ':') != NULL;
}

/* A flow delta from src to dst:lport with nothing counted yet; time t. */
static struct pw_flow_delta mkdelta(uint32_t netns, const char *src, const char *dst, uint16_t lport,
				    int proto, uint64_t t)
{
	struct pw_flow_delta d;
	int af = is_v6(src) ? AF_INET6 : AF_INET;

	memset(&d, 0, sizeof(d));
	d.key.netns = netns;
	d.key.family = is_v6(src) ? PW_AF_INET6 : PW_AF_INET;
	d.key.proto = (uint8_t)proto;
	d.key.lport = lport;
	assert_int_equal(inet_pton(af, src, d.key.raddr), 1);
	assert_int_equal(inet_pton(af, dst, d.key.laddr), 1);
	d.rport = 40000;
	d.last_ns = t;
	d.first = true;
	return d;
}

/* The local address of most tests, in src's family. */
static const char *local_for(const char *src)
{
	if (strncmp(src, "::ffff:", 7) == 0)
		return "::ffff:192.0.2.1";
	return is_v6(src) ? "2001:db8::1" : "192.0.2.1";
}

/*
 * One packet of type probe (or -1: none) with fate (or NO_FATE) and
 * handshakes, observed at t.
 */
static void send_ex(struct pw_scan *s, uint32_t netns, const char *src, const char *dst, uint16_t lport,
		    int proto, int probe, int fate, uint32_t handshakes, uint64_t t)
{
	struct pw_flow_delta d = mkdelta(netns, src, dst, lport, proto, t);

	if (probe >= 0)
		d.probes[probe] = 1;
	if (fate >= 0)
		d.fates[fate] = 1;
	d.handshakes = handshakes;
	pw_scan_observe(s, &d, t);
}

/* A TCP SYN from src to a closed port of the local address. */
static void syn_closed(struct pw_scan *s, const char *src, uint16_t port, uint64_t t)
{
	send_ex(s, NS1, src, local_for(src), port, PW_PROTO_TCP, PW_PROBE_SYN, PW_FATE_CLOSED, 0, t);
}

/* A SYN whose fate is not known yet (an open port, or a fate to come). */
static void syn_pending(struct pw_scan *s, const char *src, uint16_t port, uint64_t t)
{
	send_ex(s, NS1, src, local_for(src), port, PW_PROTO_TCP, PW_PROBE_SYN, NO_FATE, 0, t);
}

/* The fate of an earlier SYN: only the fate counter grew. */
static void fate_only(struct pw_scan *s, const char *src, uint16_t port, int fate, uint64_t t)
{
	send_ex(s, NS1, src, local_for(src), port, PW_PROTO_TCP, -1, fate, 0, t);
}

/* A SYN that completed a handshake: an open port. */
static void syn_handshake(struct pw_scan *s, const char *src, uint16_t port, uint64_t t)
{
	send_ex(s, NS1, src, local_for(src), port, PW_PROTO_TCP, PW_PROBE_SYN, NO_FATE, 1, t);
}

/* n closed ports from first, one a second from t. */
static void syn_closed_run(struct pw_scan *s, const char *src, uint16_t first, int n, uint64_t t)
{
	int i;

	for (i = 0; i < n; i++)
		syn_closed(s, src, (uint16_t)(first + i), t + (uint64_t)i * SEC);
}

static const uint16_t common_ports[] = { 22, 23, 25, 80, 110, 139, 143, 445, 3389, 8080 };

/* ---- tests -------------------------------------------------------------- */

static void test_new_and_empty(void **state)
{
	struct pw_scan_cfg cfg = { .max_sources = 64 };
	struct pw_scan *s = new_scan(NULL), *s64 = new_scan(&cfg);

	(void)state;
	assert_int_equal(pw_scan_sources(s), 0);
	assert_true(pw_scan_table_bytes(s) > 0);
	assert_true(pw_scan_table_bytes(s64) > 0);
	/* The default table holds 4096 sources of the same size. */
	assert_int_equal(pw_scan_table_bytes(s), 64 * pw_scan_table_bytes(s64));
	pw_scan_tick(s, T0);
	pw_scan_finish(s, T0);
	assert_int_equal(pw_scan_sources(s), 0);
	assert_int_equal(caught.n, 0);
	pw_scan_free(NULL);
}

static void test_detected_at_fourth_failure(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		syn_closed(s, "203.0.113.7", common_ports[i], T0 + (uint64_t)i * SEC);
	assert_int_equal(caught.n, 0);
	pw_scan_tick(s, T0 + 2 * SEC + 500 * MS);
	assert_int_equal(caught.n, 0);

	syn_closed(s, "203.0.113.7", common_ports[3], T0 + 3 * SEC);
	assert_int_equal(caught.n, 1);
	a = &caught.a[0];
	assert_string_equal(a->phase, "detected");
	assert_string_equal(a->severity, "warning");
	assert_string_equal(a->technique, "syn");
	assert_string_equal(a->direction, "vertical");
	assert_int_equal(a->netns, NS1);
	assert_int_equal(a->family, 4);
	assert_string_equal(a->source, "203.0.113.7");
	assert_int_equal(a->ports_probed, 4);
	assert_int_equal(a->failures, 4);
	assert_int_equal(a->successes, 0);
	assert_int_equal(a->local_addresses, 1);
	assert_int_equal(a->n_ports, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(a->ports[i], common_ports[i]);
	assert_int_equal(a->n_open, 0);
	assert_int_equal(a->first_ns, T0);
	assert_int_equal(a->last_ns, T0 + 3 * SEC);
	assert_int_equal(a->now_ns, T0 + 3 * SEC);
	assert_float_equal(a->rate, 4.0 / 3.0, 1e-9);

	/* More failures: the scan is already known, no second "detected". */
	for (i = 4; i < 10; i++)
		syn_closed(s, "203.0.113.7", common_ports[i], T0 + (uint64_t)i * SEC);
	assert_int_equal(count_alerts("detected", NULL), 1);
	assert_int_equal(caught.n, 1);
	assert_int_equal(pw_scan_sources(s), 1);
}

static void test_sample_of_ports_is_the_first_twenty(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;
	int i;

	(void)state;
	for (i = 0; i < 30; i++)
		syn_closed(s, "203.0.113.8", (uint16_t)(1000 - i), T0 + (uint64_t)i * MS);
	pw_scan_finish(s, T0 + SEC);
	a = find_alert("end", "203.0.113.8");
	assert_int_equal(a->ports_probed, 30);
	assert_int_equal(a->failures, 30);
	assert_int_equal(a->n_ports, PW_SCAN_SAMPLE_PORTS);
	for (i = 0; i < PW_SCAN_SAMPLE_PORTS; i++)
		assert_int_equal(a->ports[i], 1000 - i);
}

static void test_one_success_by_tick_moves_detection_to_fifth(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;

	(void)state;
	/* 443 is open: the SYN draws no refusal; after 2 s it is a success. */
	syn_pending(s, "203.0.113.9", 443, T0);
	pw_scan_tick(s, T0 + 2 * SEC);
	syn_closed_run(s, "203.0.113.9", 1, 4, T0 + 3 * SEC);
	assert_int_equal(caught.n, 0);
	syn_closed(s, "203.0.113.9", 5, T0 + 7 * SEC);
	assert_int_equal(caught.n, 1);
	a = &caught.a[0];
	assert_string_equal(a->phase, "detected");
	assert_string_equal(a->technique, "syn");
	assert_int_equal(a->ports_probed, 6);
	assert_int_equal(a->failures, 5);
	assert_int_equal(a->successes, 1);
	assert_int_equal(a->n_open, 1);
	assert_int_equal(a->open_ports[0], 443);
	assert_int_equal(a->n_ports, 6);
	assert_int_equal(a->ports[0], 443);
	assert_int_equal(a->ports[5], 5);
}

static void test_one_handshake_moves_detection_to_fifth(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;

	(void)state;
	syn_handshake(s, "203.0.113.10", 22, T0);
	syn_closed_run(s, "203.0.113.10", 1, 4, T0 + SEC);
	assert_int_equal(caught.n, 0);
	syn_closed(s, "203.0.113.10", 5, T0 + 5 * SEC);
	assert_int_equal(caught.n, 1);
	a = &caught.a[0];
	assert_string_equal(a->phase, "detected");
	assert_int_equal(a->failures, 5);
	assert_int_equal(a->successes, 1);
	assert_int_equal(a->n_open, 1);
	assert_int_equal(a->open_ports[0], 22);
}

static void test_two_successes_move_detection_to_sixth(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;

	(void)state;
	syn_handshake(s, "203.0.113.11", 22, T0);
	syn_pending(s, "203.0.113.11", 80, T0 + SEC);
	pw_scan_tick(s, T0 + 3 * SEC);
	syn_closed_run(s, "203.0.113.11", 1000, 5, T0 + 4 * SEC);
	assert_int_equal(caught.n, 0);
	syn_closed(s, "203.0.113.11", 1005, T0 + 9 * SEC);
	assert_int_equal(caught.n, 1);
	a = &caught.a[0];
	assert_string_equal(a->phase, "detected");
	assert_int_equal(a->ports_probed, 8);
	assert_int_equal(a->failures, 6);
	assert_int_equal(a->successes, 2);
	assert_int_equal(a->n_open, 2);
	assert_int_equal(a->open_ports[0], 22);
	assert_int_equal(a->open_ports[1], 80);
}

static void test_same_closed_port_is_one_contact(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;
	int i;

	(void)state;
	for (i = 0; i < 50; i++)
		syn_closed(s, "198.51.100.20", 8443, T0 + (uint64_t)i * 100 * MS);
	pw_scan_tick(s, T0 + 6 * SEC);
	assert_int_equal(caught.n, 0);

	/* The 50 counted once: three more ports make the 4th failure. */
	syn_closed_run(s, "198.51.100.20", 1, 2, T0 + 6 * SEC);
	assert_int_equal(caught.n, 0);
	syn_closed(s, "198.51.100.20", 3, T0 + 8 * SEC);
	assert_int_equal(caught.n, 1);
	a = &caught.a[0];
	assert_int_equal(a->ports_probed, 4);
	assert_int_equal(a->failures, 4);
	assert_int_equal(a->n_ports, 4);
	assert_int_equal(a->ports[0], 8443);
	assert_int_equal(a->ports[3], 3);
}

static void test_same_port_other_proto_or_address_is_a_new_contact(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;

	(void)state;
	syn_closed(s, "198.51.100.21", 53, T0);
	send_ex(s, NS1, "198.51.100.21", "192.0.2.1", 53, PW_PROTO_UDP, PW_PROBE_UDP, PW_FATE_CLOSED, 0,
		T0 + SEC);
	send_ex(s, NS1, "198.51.100.21", "192.0.2.2", 53, PW_PROTO_TCP, PW_PROBE_SYN, PW_FATE_CLOSED, 0,
		T0 + 2 * SEC);
	assert_int_equal(caught.n, 0);
	send_ex(s, NS1, "198.51.100.21", "192.0.2.2", 53, PW_PROTO_UDP, PW_PROBE_UDP, PW_FATE_CLOSED, 0,
		T0 + 3 * SEC);
	assert_int_equal(caught.n, 1);
	a = &caught.a[0];
	assert_int_equal(a->ports_probed, 4);
	assert_int_equal(a->local_addresses, 2);
	/* The sample lists ports, each once. */
	assert_int_equal(a->n_ports, 1);
	assert_int_equal(a->ports[0], 53);
}

static void test_pending_syn_then_fate_is_a_failure(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;
	int i;

	(void)state;
	/* Four SYNs arrive; their fates come in later deltas. */
	for (i = 0; i < 4; i++)
		syn_pending(s, "198.51.100.30", (uint16_t)(100 + i), T0 + (uint64_t)i * 100 * MS);
	assert_int_equal(caught.n, 0);
	fate_only(s, "198.51.100.30", 100, PW_FATE_CLOSED, T0 + 500 * MS);
	fate_only(s, "198.51.100.30", 101, PW_FATE_FILTERED, T0 + 600 * MS);
	fate_only(s, "198.51.100.30", 102, PW_FATE_CLOSED, T0 + 700 * MS);
	assert_int_equal(caught.n, 0);
	fate_only(s, "198.51.100.30", 103, PW_FATE_CLOSED, T0 + 800 * MS);
	assert_int_equal(caught.n, 1);
	a = &caught.a[0];
	assert_string_equal(a->phase, "detected");
	assert_string_equal(a->technique, "syn");
	assert_int_equal(a->ports_probed, 4);
	assert_int_equal(a->failures, 4);
	assert_int_equal(a->successes, 0);
	assert_int_equal(a->n_open, 0);

	/* Resolved by their fates: the ticks find nothing pending. */
	pw_scan_tick(s, T0 + 3 * SEC);
	pw_scan_finish(s, T0 + 4 * SEC);
	a = find_alert("end", "198.51.100.30");
	assert_int_equal(a->failures, 4);
	assert_int_equal(a->successes, 0);
	assert_int_equal(a->n_open, 0);
}

/* An outcome for a contact never seen to start counts nothing. */
static void test_fate_without_arrival_is_no_contact(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		fate_only(s, "198.51.100.31", (uint16_t)(200 + i), PW_FATE_CLOSED, T0 + (uint64_t)i * SEC);
	pw_scan_finish(s, T0 + 20 * SEC);
	assert_int_equal(caught.n, 0);
}

static void test_pending_syn_is_a_success_after_pending_ns(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;

	(void)state;
	/* A: its SYN to 8080 resolves at exactly pending_ns (2 s). */
	syn_pending(s, "198.51.100.40", 8080, T0);
	pw_scan_tick(s, T0 + 2 * SEC - 1);
	pw_scan_tick(s, T0 + 2 * SEC);
	/* B: the tick comes 1 ns too early; the SYN is still pending. */
	syn_pending(s, "198.51.100.41", 8080, T0);
	pw_scan_tick(s, T0 + 2 * SEC - 1);

	syn_closed_run(s, "198.51.100.40", 1, 4, T0 + 3 * SEC);
	syn_closed_run(s, "198.51.100.41", 1, 4, T0 + 3 * SEC);
	assert_int_equal(count_alerts("detected", "198.51.100.40"), 0);
	a = find_alert("detected", "198.51.100.41");
	assert_int_equal(a->failures, 4);
	assert_int_equal(a->successes, 0);
	assert_int_equal(a->n_open, 0);
	assert_int_equal(a->ports_probed, 5);

	syn_closed(s, "198.51.100.40", 5, T0 + 7 * SEC);
	a = find_alert("detected", "198.51.100.40");
	assert_int_equal(a->failures, 5);
	assert_int_equal(a->successes, 1);
	assert_int_equal(a->n_open, 1);
	assert_int_equal(a->open_ports[0], 8080);

	/* B's SYN resolves later (pending_ns after its arrival): open too. */
	pw_scan_finish(s, T0 + 8 * SEC);
	a = find_alert("end", "198.51.100.41");
	assert_int_equal(a->successes, 1);
	assert_int_equal(a->n_open, 1);
	assert_int_equal(a->open_ports[0], 8080);
}

static void test_finish_resolves_pending_syns(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;

	(void)state;
	syn_closed_run(s, "198.51.100.50", 1, 4, T0);
	assert_int_equal(caught.n, 1);
	syn_pending(s, "198.51.100.50", 80, T0 + 4 * SEC);
	syn_pending(s, "198.51.100.50", 443, T0 + 4 * SEC + 100 * MS);
	/* Well before pending_ns: only finish resolves them. */
	pw_scan_finish(s, T0 + 4 * SEC + 200 * MS);
	assert_int_equal(count_alerts("end", NULL), 1);
	a = find_alert("end", "198.51.100.50");
	assert_int_equal(a->ports_probed, 6);
	assert_int_equal(a->failures, 4);
	assert_int_equal(a->successes, 2);
	assert_int_equal(a->n_open, 2);
	assert_int_equal(a->open_ports[0], 80);
	assert_int_equal(a->open_ports[1], 443);
	assert_int_equal(a->now_ns, T0 + 4 * SEC + 200 * MS);
}

/* Four probes of one type to closed ports; the technique detected. */
static const char *technique_of(struct pw_scan *s, const char *src, int proto, int probe)
{
	int i;

	caught.n = 0;
	for (i = 0; i < 4; i++)
		send_ex(s, NS1, src, "192.0.2.1", (uint16_t)(10 + i), proto, probe, PW_FATE_CLOSED, 0,
			T0 + (uint64_t)i * SEC);
	assert_int_equal(caught.n, 1);
	assert_string_equal(caught.a[0].phase, "detected");
	assert_string_equal(caught.a[0].source, src);
	return caught.a[0].technique;
}

static void test_techniques(void **state)
{
	struct pw_scan *s = new_scan(NULL);

	(void)state;
	assert_string_equal(technique_of(s, "192.0.2.101", PW_PROTO_TCP, PW_PROBE_SYN), "syn");
	assert_string_equal(technique_of(s, "192.0.2.102", PW_PROTO_TCP, PW_PROBE_FIN), "fin");
	assert_string_equal(technique_of(s, "192.0.2.103", PW_PROTO_TCP, PW_PROBE_NULL), "null");
	assert_string_equal(technique_of(s, "192.0.2.104", PW_PROTO_TCP, PW_PROBE_XMAS), "xmas");
	assert_string_equal(technique_of(s, "192.0.2.105", PW_PROTO_TCP, PW_PROBE_ACK), "ack");
	assert_string_equal(technique_of(s, "192.0.2.106", PW_PROTO_UDP, PW_PROBE_UDP), "udp");
}

static void test_flag_probe_refused_by_open_port_is_a_failure(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	int i;

	(void)state;
	/* FIN, NULL, Xmas dropped by open ports (REFUSED), or with no fate. */
	for (i = 0; i < 3; i++)
		send_ex(s, NS1, "192.0.2.110", "192.0.2.1", (uint16_t)(20 + i), PW_PROTO_TCP, PW_PROBE_XMAS,
			PW_FATE_REFUSED, 0, T0 + (uint64_t)i * SEC);
	assert_int_equal(caught.n, 0);
	send_ex(s, NS1, "192.0.2.110", "192.0.2.1", 25, PW_PROTO_TCP, PW_PROBE_XMAS, NO_FATE, 0, T0 + 3 * SEC);
	assert_int_equal(caught.n, 1);
	assert_string_equal(caught.a[0].technique, "xmas");
	assert_int_equal(caught.a[0].failures, 4);
}

static void test_connect_scan(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;

	(void)state;
	/* connect(): the open port completes a handshake, the rest refuse. */
	syn_handshake(s, "192.0.2.120", 22, T0);
	syn_closed_run(s, "192.0.2.120", 23, 5, T0 + SEC);
	assert_int_equal(caught.n, 1);
	a = &caught.a[0];
	assert_string_equal(a->technique, "connect");
	assert_int_equal(a->failures, 5);
	assert_int_equal(a->successes, 1);
}

static void test_mixed_technique(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		send_ex(s, NS1, "192.0.2.130", "192.0.2.1", (uint16_t)(30 + i), PW_PROTO_TCP,
			i % 2 ? PW_PROBE_NULL : PW_PROBE_FIN, PW_FATE_CLOSED, 0, T0 + (uint64_t)i * SEC);
	assert_int_equal(caught.n, 1);
	assert_string_equal(caught.a[0].technique, "mixed");
}

static void test_late_replies_are_not_probes(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	struct pw_flow_delta d;
	int i;

	(void)state;
	/* A server's late ACKs and FINs to our closed ephemeral ports. */
	for (i = 0; i <= 10; i++) {
		d = mkdelta(NS1, "198.51.100.60", "192.0.2.1", (uint16_t)(40000 + i), PW_PROTO_TCP,
			    T0 + (uint64_t)i * SEC);
		d.rport = 443;
		d.probes[i % 2 ? PW_PROBE_FIN : PW_PROBE_ACK] = 1;
		d.fates[PW_FATE_CLOSED] = 1;
		pw_scan_observe(s, &d, d.last_ns);
	}
	/* SYN-ACK backscatter (spoofed SYNs elsewhere in our name). */
	for (i = 0; i <= 10; i++) {
		d = mkdelta(NS1, "198.51.100.61", "192.0.2.1", (uint16_t)(1000 + i), PW_PROTO_TCP,
			    T0 + (uint64_t)i * SEC);
		d.rport = (uint16_t)(50000 + i);
		d.probes[PW_PROBE_OTHER] = 1;
		d.fates[PW_FATE_CLOSED] = 1;
		pw_scan_observe(s, &d, d.last_ns);
	}
	pw_scan_tick(s, T0 + 20 * SEC);
	pw_scan_finish(s, T0 + 60 * SEC);
	assert_int_equal(caught.n, 0);
}

static void test_horizontal_sweep(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;
	char local[32];
	int i;

	(void)state;
	for (i = 1; i <= 5; i++) {
		snprintf(local, sizeof(local), "10.1.0.%d", i);
		send_ex(s, NS1, "198.51.100.70", local, 445, PW_PROTO_TCP, PW_PROBE_SYN, PW_FATE_CLOSED, 0,
			T0 + (uint64_t)i * SEC);
	}
	a = find_alert("detected", "198.51.100.70");
	assert_string_equal(a->direction, "horizontal");
	assert_int_equal(a->local_addresses, 4);
	assert_int_equal(a->ports_probed, 4);
	pw_scan_finish(s, T0 + 10 * SEC);
	a = find_alert("end", "198.51.100.70");
	assert_string_equal(a->direction, "horizontal");
	assert_int_equal(a->local_addresses, 5);
	assert_int_equal(a->ports_probed, 5);
	assert_int_equal(a->n_ports, 1);
	assert_int_equal(a->ports[0], 445);

	/* Many ports on one address: vertical. */
	syn_closed_run(s, "198.51.100.71", 1, 5, T0);
	assert_string_equal(find_alert("detected", "198.51.100.71")->direction, "vertical");
}

static void test_local_addresses_are_distinct(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;
	char local[32];
	int i, port;

	(void)state;
	/* Two ports on each of 12 local addresses: 24 contacts, 12 addresses. */
	for (i = 1; i <= 12; i++) {
		snprintf(local, sizeof(local), "10.2.0.%d", i);
		for (port = 445; port <= 446; port++)
			send_ex(s, NS1, "198.51.100.72", local, (uint16_t)port, PW_PROTO_TCP, PW_PROBE_SYN,
				PW_FATE_CLOSED, 0, T0 + (uint64_t)i * SEC);
	}
	pw_scan_finish(s, T0 + 20 * SEC);
	a = find_alert("end", "198.51.100.72");
	assert_int_equal(a->ports_probed, 24);
	assert_int_equal(a->local_addresses, 12);
	assert_string_equal(a->direction, "horizontal");
}

static void test_netns_are_separate_sources(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	int i;

	(void)state;
	/* Two failures in each namespace: no source has four. */
	for (i = 0; i < 2; i++) {
		send_ex(s, NS1, "203.0.113.80", "192.0.2.1", (uint16_t)(1 + i), PW_PROTO_TCP, PW_PROBE_SYN,
			PW_FATE_CLOSED, 0, T0 + (uint64_t)i * SEC);
		send_ex(s, NS2, "203.0.113.80", "192.0.2.1", (uint16_t)(3 + i), PW_PROTO_TCP, PW_PROBE_SYN,
			PW_FATE_CLOSED, 0, T0 + (uint64_t)i * SEC);
	}
	assert_int_equal(pw_scan_sources(s), 2);
	assert_int_equal(caught.n, 0);
	for (i = 2; i < 4; i++) {
		send_ex(s, NS1, "203.0.113.80", "192.0.2.1", (uint16_t)(10 + i), PW_PROTO_TCP, PW_PROBE_SYN,
			PW_FATE_CLOSED, 0, T0 + (uint64_t)i * SEC);
		send_ex(s, NS2, "203.0.113.80", "192.0.2.1", (uint16_t)(20 + i), PW_PROTO_TCP, PW_PROBE_SYN,
			PW_FATE_CLOSED, 0, T0 + (uint64_t)i * SEC);
	}
	assert_int_equal(caught.n, 2);
	assert_string_equal(caught.a[0].phase, "detected");
	assert_int_equal(caught.a[0].netns, NS1);
	assert_int_equal(caught.a[0].ports_probed, 4);
	assert_string_equal(caught.a[1].phase, "detected");
	assert_int_equal(caught.a[1].netns, NS2);
	assert_int_equal(caught.a[1].ports_probed, 4);
	assert_string_equal(caught.a[1].source, "203.0.113.80");
}

static void test_ipv6_source(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;

	(void)state;
	syn_closed_run(s, "2001:db8:bad::17", 1, 4, T0);
	assert_int_equal(caught.n, 1);
	a = &caught.a[0];
	assert_int_equal(a->family, 6);
	assert_string_equal(a->source, "2001:db8:bad::17");
	assert_int_equal(a->ports_probed, 4);
	assert_string_equal(a->direction, "vertical");
}

static void test_ipv4_mapped_source_is_ipv4(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;

	(void)state;
	syn_closed_run(s, "::ffff:198.51.100.90", 1, 4, T0);
	assert_int_equal(caught.n, 1);
	a = &caught.a[0];
	assert_int_equal(a->family, 4);
	assert_string_equal(a->source, "198.51.100.90");
	assert_int_equal(a->netns, NS1);
}

static void test_allow(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	char err[128] = "";

	(void)state;
	assert_int_equal(pw_scan_allow(s, "198.18.0.0/15", err, sizeof(err)), 0);
	assert_int_equal(pw_scan_allow(s, "2001:db8::/32", err, sizeof(err)), 0);
	assert_int_equal(pw_scan_allow(s, "192.0.2.7", err, sizeof(err)), 0);

	syn_closed_run(s, "198.19.1.1", 1, 10, T0);
	syn_closed_run(s, "198.18.0.1", 1, 10, T0);
	syn_closed_run(s, "2001:db8:ffff::1", 1, 10, T0);
	syn_closed_run(s, "192.0.2.7", 1, 10, T0);
	pw_scan_finish(s, T0 + 20 * SEC);
	assert_int_equal(caught.n, 0);

	syn_closed_run(s, "198.20.0.1", 1, 4, T0 + 30 * SEC);
	syn_closed_run(s, "198.17.255.255", 1, 4, T0 + 30 * SEC);
	syn_closed_run(s, "2001:db9::1", 1, 4, T0 + 30 * SEC);
	syn_closed_run(s, "192.0.2.8", 1, 4, T0 + 30 * SEC);
	assert_int_equal(caught.n, 4);
	assert_int_equal(count_alerts("detected", "198.20.0.1"), 1);
	assert_int_equal(count_alerts("detected", "198.17.255.255"), 1);
	assert_int_equal(count_alerts("detected", "2001:db9::1"), 1);
	assert_int_equal(count_alerts("detected", "192.0.2.8"), 1);
	assert_string_equal(err, "");
}

static void test_allow_covers_ipv4_mapped_sources(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	char err[128] = "";

	(void)state;
	/* Reported as 198.19.1.1 (family 4): so it is in 198.18.0.0/15. */
	assert_int_equal(pw_scan_allow(s, "198.18.0.0/15", err, sizeof(err)), 0);
	syn_closed_run(s, "::ffff:198.19.1.1", 1, 10, T0);
	pw_scan_finish(s, T0 + 20 * SEC);
	assert_int_equal(caught.n, 0);
}

static void test_allow_errors(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	char err[128], cidr[32];
	int i;

	(void)state;
	assert_int_equal(pw_scan_allow(s, "300.1.1.1", err, sizeof(err)), -1);
	assert_string_equal(err, "invalid --allow '300.1.1.1': not an address or CIDR");
	assert_int_equal(pw_scan_allow(s, "10.0.0.0/33", err, sizeof(err)), -1);
	assert_string_equal(err, "invalid --allow '10.0.0.0/33': prefix length 0 to 32");
	assert_int_equal(pw_scan_allow(s, "::/129", err, sizeof(err)), -1);
	assert_string_equal(err, "invalid --allow '::/129': prefix length 0 to 128");
	assert_int_equal(pw_scan_allow(s, "abc", err, sizeof(err)), -1);
	assert_string_equal(err, "invalid --allow 'abc': not an address or CIDR");
	assert_int_equal(pw_scan_allow(s, "10.0.0.0/", err, sizeof(err)), -1);
	assert_string_equal(err, "invalid --allow '10.0.0.0/': prefix length 0 to 32");
	assert_int_equal(pw_scan_allow(s, "10.0.0.0/8x", err, sizeof(err)), -1);
	assert_string_equal(err, "invalid --allow '10.0.0.0/8x': prefix length 0 to 32");
	assert_int_equal(pw_scan_allow(s, "10.0.0.0/-1", err, sizeof(err)), -1);
	assert_string_equal(err, "invalid --allow '10.0.0.0/-1': prefix length 0 to 32");

	/* Errors took no room: sixteen ranges fit, the seventeenth does not. */
	for (i = 0; i < PW_SCAN_MAX_ALLOW; i++) {
		snprintf(cidr, sizeof(cidr), "10.%d.0.0/16", i);
		assert_int_equal(pw_scan_allow(s, cidr, err, sizeof(err)), 0);
	}
	assert_int_equal(pw_scan_allow(s, "10.200.0.0/16", err, sizeof(err)), -1);
	assert_string_equal(err, "at most 16 --allow ranges");

	/* The sixteen work; the rejected one does not. */
	syn_closed_run(s, "10.15.3.3", 1, 10, T0);
	syn_closed_run(s, "10.200.3.3", 1, 4, T0);
	assert_int_equal(caught.n, 1);
	assert_string_equal(caught.a[0].source, "10.200.3.3");
}

/* A prefix too long for the parser's buffer is not cut short to /0. */
static void test_allow_long_prefix_is_not_truncated(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	char err[128] = "", cidr[80];
	int ret;

	(void)state;
	/* "10.0.0.0/000...0032": 44 zeros, then 32. */
	snprintf(cidr, sizeof(cidr), "10.0.0.0/%044d%s", 0, "32");
	assert_int_equal(strlen(cidr), 55);
	ret = pw_scan_allow(s, cidr, err, sizeof(err));
	if (ret == 0) {
		/* Accepted: then it is 10.0.0.0/32, not 0.0.0.0/0. */
		syn_closed_run(s, "10.0.0.0", 1, 10, T0);
		assert_int_equal(caught.n, 0);
		syn_closed_run(s, "203.0.113.44", 1, 4, T0);
		assert_int_equal(caught.n, 1);
	} else {
		assert_int_equal(ret, -1);
		assert_true(strlen(err) > 0);
	}
}

static void test_allow_prefix_zero_and_host(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	char err[128];

	(void)state;
	assert_int_equal(pw_scan_allow(s, "0.0.0.0/0", err, sizeof(err)), 0);
	assert_int_equal(pw_scan_allow(s, "2001:db8::5/128", err, sizeof(err)), 0);
	syn_closed_run(s, "203.0.113.200", 1, 10, T0);
	syn_closed_run(s, "2001:db8::5", 1, 10, T0);
	assert_int_equal(caught.n, 0);
	syn_closed_run(s, "2001:db8::6", 1, 4, T0);
	assert_int_equal(caught.n, 1);
	assert_string_equal(caught.a[0].source, "2001:db8::6");
}

static const struct pw_scan_cfg small_cfg = {
	.update_ns = 1 * SEC,
	.end_ns = 5 * SEC,
	.expire_ns = 20 * SEC,
};

static void test_update_only_with_new_ports(void **state)
{
	struct pw_scan *s = new_scan(&small_cfg);
	const struct pw_scan_alert *a;

	(void)state;
	syn_closed_run(s, "203.0.113.90", 1, 4, T0); /* detected at T0 + 3 s */
	assert_int_equal(caught.n, 1);

	pw_scan_tick(s, T0 + 3 * SEC + 500 * MS);
	pw_scan_tick(s, T0 + 4 * SEC + 500 * MS); /* update_ns passed, nothing new */
	assert_int_equal(caught.n, 1);

	syn_closed(s, "203.0.113.90", 5, T0 + 4 * SEC + 600 * MS);
	pw_scan_tick(s, T0 + 4 * SEC + 700 * MS);
	assert_int_equal(caught.n, 2);
	a = &caught.a[1];
	assert_string_equal(a->phase, "update");
	assert_int_equal(a->ports_probed, 5);
	assert_int_equal(a->failures, 5);
	assert_int_equal(a->now_ns, T0 + 4 * SEC + 700 * MS);
	assert_int_equal(a->last_ns, T0 + 4 * SEC + 600 * MS);

	pw_scan_tick(s, T0 + 5 * SEC);
	assert_int_equal(caught.n, 2);

	/* A new port, but less than update_ns since the last alert. */
	syn_closed(s, "203.0.113.90", 6, T0 + 5 * SEC + 200 * MS);
	pw_scan_tick(s, T0 + 5 * SEC + 500 * MS);
	assert_int_equal(caught.n, 2);
	pw_scan_tick(s, T0 + 5 * SEC + 700 * MS);
	assert_int_equal(caught.n, 3);
	assert_string_equal(caught.a[2].phase, "update");
	assert_int_equal(caught.a[2].ports_probed, 6);
	assert_int_equal(count_alerts("detected", NULL), 1);
	assert_int_equal(count_alerts("end", NULL), 0);
}

static void test_end_once_after_silence(void **state)
{
	struct pw_scan *s = new_scan(&small_cfg);
	const struct pw_scan_alert *a;

	(void)state;
	syn_closed_run(s, "203.0.113.91", 1, 6, T0); /* last probe at T0 + 5 s */
	assert_int_equal(caught.n, 1);
	pw_scan_tick(s, T0 + 5 * SEC + 100 * MS); /* update: 2 new ports */
	assert_int_equal(caught.n, 2);
	assert_string_equal(caught.a[1].phase, "update");

	pw_scan_tick(s, T0 + 10 * SEC - 1);
	assert_int_equal(caught.n, 2);
	pw_scan_tick(s, T0 + 10 * SEC);
	assert_int_equal(caught.n, 3);
	a = &caught.a[2];
	assert_string_equal(a->phase, "end");
	assert_string_equal(a->source, "203.0.113.91");
	assert_int_equal(a->ports_probed, 6);
	assert_int_equal(a->failures, 6);
	assert_int_equal(a->first_ns, T0);
	assert_int_equal(a->last_ns, T0 + 5 * SEC);
	assert_int_equal(a->now_ns, T0 + 10 * SEC);
	assert_float_equal(a->rate, 6.0 / 5.0, 1e-9);

	pw_scan_tick(s, T0 + 11 * SEC);
	pw_scan_tick(s, T0 + 15 * SEC);
	pw_scan_finish(s, T0 + 16 * SEC);
	assert_int_equal(count_alerts("end", NULL), 1);
	assert_int_equal(caught.n, 3);
}

static void test_end_when_update_is_also_due(void **state)
{
	struct pw_scan *s = new_scan(&small_cfg);

	(void)state;
	syn_closed_run(s, "203.0.113.92", 1, 5, T0); /* detected at 3 s, one more port at 4 s */
	/* The first tick comes after end_ns of silence: the end says it all. */
	pw_scan_tick(s, T0 + 9 * SEC);
	assert_int_equal(caught.n, 2);
	assert_string_equal(caught.a[1].phase, "end");
	assert_int_equal(caught.a[1].ports_probed, 5);
}

static void test_finish_ends_detected_scans_only(void **state)
{
	struct pw_scan *s = new_scan(&small_cfg);
	const struct pw_scan_alert *a;

	(void)state;
	syn_closed_run(s, "203.0.113.93", 1, 4, T0);   /* detected, open */
	syn_closed_run(s, "203.0.113.94", 1, 3, T0);   /* three failures only */
	syn_closed_run(s, "203.0.113.95", 1, 4, T0);   /* detected ... */
	syn_closed(s, "203.0.113.93", 5, T0 + 7 * SEC); /* still going */
	pw_scan_tick(s, T0 + 8 * SEC);                  /* ... and ended */
	assert_int_equal(count_alerts("end", "203.0.113.95"), 1);
	assert_int_equal(count_alerts("end", "203.0.113.93"), 0);

	pw_scan_finish(s, T0 + 8 * SEC + 100 * MS);
	assert_int_equal(count_alerts("end", "203.0.113.93"), 1);
	assert_int_equal(count_alerts("end", "203.0.113.95"), 1);
	assert_int_equal(count_alerts(NULL, "203.0.113.94"), 0);
	a = find_alert("end", "203.0.113.93");
	assert_int_equal(a->ports_probed, 5);
	assert_int_equal(a->now_ns, T0 + 8 * SEC + 100 * MS);
	assert_int_equal(count_alerts("detected", NULL), 2);
}

static void test_silent_source_is_forgotten(void **state)
{
	struct pw_scan *s = new_scan(&small_cfg);

	(void)state;
	syn_closed_run(s, "203.0.113.96", 1, 3, T0); /* last at T0 + 2 s */
	syn_closed(s, "203.0.113.97", 1, T0 + 10 * SEC);
	assert_int_equal(pw_scan_sources(s), 2);
	pw_scan_tick(s, T0 + 22 * SEC - 1);
	assert_int_equal(pw_scan_sources(s), 2);
	pw_scan_tick(s, T0 + 22 * SEC);
	assert_int_equal(pw_scan_sources(s), 1);

	/* Its evidence went with it: one more failure is not the 4th. */
	syn_closed(s, "203.0.113.96", 4, T0 + 23 * SEC);
	assert_int_equal(pw_scan_sources(s), 2);
	assert_int_equal(caught.n, 0);
	pw_scan_tick(s, T0 + 50 * SEC);
	assert_int_equal(pw_scan_sources(s), 0);
	assert_int_equal(caught.n, 0);
}

static void test_detected_source_ends_before_it_is_forgotten(void **state)
{
	struct pw_scan *s = new_scan(&small_cfg);

	(void)state;
	syn_closed_run(s, "203.0.113.98", 1, 4, T0);
	/* First tick long after: end, then forgotten. */
	pw_scan_tick(s, T0 + 100 * SEC);
	assert_int_equal(caught.n, 2);
	assert_string_equal(caught.a[1].phase, "end");
	assert_int_equal(pw_scan_sources(s), 0);
	pw_scan_finish(s, T0 + 101 * SEC);
	assert_int_equal(caught.n, 2);
}

static void test_bounded_under_spoofed_flood(void **state)
{
	struct pw_scan_cfg cfg = { .max_sources = 64 };
	struct pw_scan *s = new_scan(&cfg);
	struct pw_flow_delta d;
	size_t bytes = pw_scan_table_bytes(s);
	unsigned i, max_seen = 0;
	const struct pw_scan_alert *a;

	(void)state;
	assert_true(bytes > 0);
	syn_closed_run(s, "203.0.113.66", 1, 3, T0);
	for (i = 0; i < 10000; i++) {
		d = mkdelta(NS1, "10.0.0.0", "192.0.2.1", 80, PW_PROTO_TCP, T0 + 3 * SEC + i * MS / 10);
		d.key.raddr[1] = (uint8_t)(i >> 16);
		d.key.raddr[2] = (uint8_t)(i >> 8);
		d.key.raddr[3] = (uint8_t)i;
		d.probes[PW_PROBE_SYN] = 1;
		pw_scan_observe(s, &d, d.last_ns);
		if (pw_scan_sources(s) > max_seen)
			max_seen = pw_scan_sources(s);
		assert_true(pw_scan_sources(s) <= 64);
		assert_int_equal(pw_scan_table_bytes(s), bytes);
	}
	assert_int_equal(max_seen, 64);
	assert_int_equal(caught.n, 0);

	syn_closed(s, "203.0.113.66", 4, T0 + 5 * SEC);
	assert_int_equal(caught.n, 1);
	a = &caught.a[0];
	assert_string_equal(a->phase, "detected");
	assert_string_equal(a->source, "203.0.113.66");
	assert_int_equal(a->ports_probed, 4);
	assert_int_equal(a->failures, 4);
	assert_int_equal(a->first_ns, T0);
	syn_closed(s, "203.0.113.66", 5, T0 + 6 * SEC);
	assert_int_equal(caught.n, 1);
	assert_true(pw_scan_sources(s) <= 64);
	assert_int_equal(pw_scan_table_bytes(s), bytes);

	/* The flood's SYNs drew no refusal: open ports, no alert. */
	pw_scan_finish(s, T0 + 10 * SEC);
	assert_int_equal(count_alerts("end", "203.0.113.66"), 1);
	assert_int_equal(count_alerts("detected", NULL), 1);
	assert_int_equal(caught.n, 2);
}

static void test_expired_slots_are_reused_before_recycling(void **state)
{
	struct pw_scan_cfg cfg = { .max_sources = 256, .expire_ns = 20 * SEC };
	struct pw_scan *s = new_scan(&cfg);
	struct pw_flow_delta d;
	unsigned i;

	(void)state;
	/* 256 sources, one closed port each; the first 200 come back at 15 s. */
	for (i = 0; i < 256; i++) {
		d = mkdelta(NS1, "10.9.0.0", "192.0.2.1", 80, PW_PROTO_TCP, T0);
		d.key.raddr[2] = (uint8_t)(i >> 8);
		d.key.raddr[3] = (uint8_t)i;
		d.probes[PW_PROBE_SYN] = 1;
		d.fates[PW_FATE_CLOSED] = 1;
		pw_scan_observe(s, &d, T0);
	}
	assert_int_equal(pw_scan_sources(s), 256);
	for (i = 0; i < 200; i++) {
		d = mkdelta(NS1, "10.9.0.0", "192.0.2.1", 81, PW_PROTO_TCP, T0 + 15 * SEC);
		d.key.raddr[2] = (uint8_t)(i >> 8);
		d.key.raddr[3] = (uint8_t)i;
		d.probes[PW_PROBE_SYN] = 1;
		d.fates[PW_FATE_CLOSED] = 1;
		pw_scan_observe(s, &d, T0 + 15 * SEC);
	}
	pw_scan_tick(s, T0 + 25 * SEC); /* the other 56 expire */
	assert_int_equal(pw_scan_sources(s), 200);

	/* 56 newcomers fit in the freed slots: no one is recycled. */
	for (i = 0; i < 56; i++) {
		d = mkdelta(NS1, "10.10.0.0", "192.0.2.1", 80, PW_PROTO_TCP, T0 + 26 * SEC);
		d.key.raddr[3] = (uint8_t)i;
		d.probes[PW_PROBE_SYN] = 1;
		d.fates[PW_FATE_CLOSED] = 1;
		pw_scan_observe(s, &d, T0 + 26 * SEC);
	}
	assert_int_equal(pw_scan_sources(s), 256);

	/* And the 200 kept their two failures: two more ports detect each. */
	for (i = 0; i < 200; i++) {
		int port;

		for (port = 82; port <= 83; port++) {
			d = mkdelta(NS1, "10.9.0.0", "192.0.2.1", (uint16_t)port, PW_PROTO_TCP, T0 + 27 * SEC);
			d.key.raddr[2] = (uint8_t)(i >> 8);
			d.key.raddr[3] = (uint8_t)i;
			d.probes[PW_PROBE_SYN] = 1;
			d.fates[PW_FATE_CLOSED] = 1;
			pw_scan_observe(s, &d, T0 + 27 * SEC);
		}
	}
	assert_int_equal(count_alerts("detected", NULL), 200);
}

static void test_severity(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;
	int i;

	(void)state;
	/* 99 ports: a warning; 100: critical. The detection is a warning. */
	for (i = 1; i <= 99; i++)
		syn_closed(s, "203.0.113.101", (uint16_t)(i * 7), T0 + (uint64_t)i * MS);
	for (i = 1; i <= 100; i++)
		syn_closed(s, "203.0.113.102", (uint16_t)(i * 7), T0 + (uint64_t)i * MS);
	/* Ports 1 to 100, in order. */
	syn_closed_run(s, "203.0.113.105", 1, 100, T0);
	assert_string_equal(find_alert("detected", "203.0.113.102")->severity, "warning");
	assert_string_equal(find_alert("detected", "203.0.113.105")->severity, "warning");
	pw_scan_finish(s, T0 + 200 * SEC);
	a = find_alert("end", "203.0.113.101");
	assert_string_equal(a->severity, "warning");
	assert_int_equal(a->ports_probed, 99);
	a = find_alert("end", "203.0.113.102");
	assert_string_equal(a->severity, "critical");
	assert_int_equal(a->ports_probed, 100);
	assert_int_equal(a->failures, 100);
	a = find_alert("end", "203.0.113.105");
	assert_string_equal(a->severity, "critical");
	assert_int_equal(a->ports_probed, 100);
	assert_int_equal(a->failures, 100);
}

static void test_ports_probed_counts_every_distinct_contact(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;
	int i;

	(void)state;
	/*
	 * nmap's default: 1000 ports. Exact for the first 256 contacts, then a
	 * linear-counting estimate (scan.h): within 2 %.
	 */
	for (i = 1; i <= 1000; i++)
		syn_closed(s, "203.0.113.103", (uint16_t)i, T0 + (uint64_t)i * MS);
	pw_scan_finish(s, T0 + 10 * SEC);
	a = find_alert("end", "203.0.113.103");
	assert_in_range(a->ports_probed, 980, 1020);
	assert_in_range(a->failures, 900, 1000);
}

static void test_many_pending_syns_then_fates(void **state)
{
	struct pw_scan *s = new_scan(NULL);
	const struct pw_scan_alert *a;
	int i;

	(void)state;
	/* 20 arrivals in 20 ms, then their fates (a later walk of the maps). */
	for (i = 0; i < 20; i++)
		syn_pending(s, "203.0.113.104", (uint16_t)(5000 + i), T0 + (uint64_t)i * MS);
	for (i = 0; i < 20; i++)
		fate_only(s, "203.0.113.104", (uint16_t)(5000 + i), PW_FATE_CLOSED, T0 + 500 * MS);
	pw_scan_finish(s, T0 + SEC);
	a = find_alert("end", "203.0.113.104");
	assert_int_equal(a->ports_probed, 20);
	assert_int_equal(a->failures, 20);
	assert_int_equal(a->successes, 0);
	assert_int_equal(a->n_open, 0);
}

#define T(f) cmocka_unit_test_teardown(f, free_kept)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_new_and_empty),
		T(test_detected_at_fourth_failure),
		T(test_sample_of_ports_is_the_first_twenty),
		T(test_one_success_by_tick_moves_detection_to_fifth),
		T(test_one_handshake_moves_detection_to_fifth),
		T(test_two_successes_move_detection_to_sixth),
		T(test_same_closed_port_is_one_contact),
		T(test_same_port_other_proto_or_address_is_a_new_contact),
		T(test_pending_syn_then_fate_is_a_failure),
		T(test_fate_without_arrival_is_no_contact),
		T(test_pending_syn_is_a_success_after_pending_ns),
		T(test_finish_resolves_pending_syns),
		T(test_techniques),
		T(test_flag_probe_refused_by_open_port_is_a_failure),
		T(test_connect_scan),
		T(test_mixed_technique),
		T(test_late_replies_are_not_probes),
		T(test_horizontal_sweep),
		T(test_local_addresses_are_distinct),
		T(test_netns_are_separate_sources),
		T(test_ipv6_source),
		T(test_ipv4_mapped_source_is_ipv4),
		T(test_allow),
		T(test_allow_covers_ipv4_mapped_sources),
		T(test_allow_errors),
		T(test_allow_prefix_zero_and_host),
		T(test_allow_long_prefix_is_not_truncated),
		T(test_update_only_with_new_ports),
		T(test_end_once_after_silence),
		T(test_end_when_update_is_also_due),
		T(test_finish_ends_detected_scans_only),
		T(test_silent_source_is_forgotten),
		T(test_detected_source_ends_before_it_is_forgotten),
		T(test_bounded_under_spoofed_flood),
		T(test_expired_slots_are_reused_before_recycling),
		T(test_severity),
		T(test_ports_probed_counts_every_distinct_contact),
		T(test_many_pending_syns_then_fates),
	};

	return cmocka_run_group_tests_name("scan", tests, NULL, NULL);
}
