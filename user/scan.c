// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "decode.h"
#include "scan.h"

#define LN4 1.3862943611198906
#define EXACT_CONTACTS 256 /* first contacts remembered exactly (32-bit hashes) */
#define CONTACT_BITS 4096  /* beyond that, a bitmap: approximate */
#define MAX_PENDING 64
#define MAX_LADDRS 64
#define EVICT_SAMPLE 16

enum tech { T_SYN, T_FIN, T_NULL, T_XMAS, T_ACK, T_UDP, T__MAX };

static const char *const tech_names[T__MAX] = { "syn", "fin", "null", "xmas", "ack", "udp" };

struct pending {
	uint64_t since;
	uint32_t contact; /* contact hash */
	uint16_t port;
};

struct src_key {
	uint32_t netns;
	uint8_t family;
	uint8_t pad[3];
	uint8_t addr[16];
};

struct src {
	struct src_key key;
	bool used;
	bool alerted;
	bool ended;
	double llr;
	uint32_t failures, successes, contacts, handshakes;
	uint32_t tech[T__MAX];
	int n_exact;
	uint32_t exact[EXACT_CONTACTS]; /* sorted */
	uint64_t contact_bits[CONTACT_BITS / 64];
	int n_pending;
	struct pending pending[MAX_PENDING];
	int n_laddrs;
	uint32_t laddrs[MAX_LADDRS]; /* hashes of distinct local addresses */
	uint32_t laddr_count;        /* exact up to MAX_LADDRS, then a floor */
	int n_ports;
	uint16_t ports[PW_SCAN_SAMPLE_PORTS];
	uint32_t distinct_port_hint; /* distinct ports among the sample */
	int n_open;
	uint16_t open_ports[PW_SCAN_OPEN_PORTS];
	uint64_t first_ns, last_ns, last_alert_ns;
	uint32_t contacts_at_alert;
	UT_hash_handle hh;
};

struct allow {
	int family;
	uint8_t addr[16];
	int bits;
};

struct pw_scan {
	struct pw_scan_cfg cfg;
	pw_scan_fn fn;
	void *ctx;
	struct src *slots; /* fixed table: the memory bound */
	struct src *index; /* uthash over the used slots */
	unsigned used;
	unsigned next_free; /* slots below it have been used at least once */
	unsigned *free_stack; /* released slots, reused before any eviction */
	unsigned n_free;
	uint32_t rng;
	int n_allow;
	struct allow allow[PW_SCAN_MAX_ALLOW];
};

struct pw_scan *pw_scan_new(const struct pw_scan_cfg *cfg, pw_scan_fn fn, void *ctx)
{
	struct pw_scan *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (cfg)
		s->cfg = *cfg;
	if (!s->cfg.max_sources)
		s->cfg.max_sources = 4096;
	if (s->cfg.threshold <= 0)
		s->cfg.threshold = 5.5;
	if (!s->cfg.pending_ns)
		s->cfg.pending_ns = 2000000000ULL;
	if (!s->cfg.update_ns)
		s->cfg.update_ns = 10000000000ULL;
	if (!s->cfg.end_ns)
		s->cfg.end_ns = 30000000000ULL;
	if (!s->cfg.expire_ns)
		s->cfg.expire_ns = 600000000000ULL;
	s->fn = fn;
	s->ctx = ctx;
	s->rng = 2463534242u;
	s->slots = calloc(s->cfg.max_sources, sizeof(*s->slots));
	s->free_stack = calloc(s->cfg.max_sources, sizeof(*s->free_stack));
	if (!s->slots || !s->free_stack) {
		free(s->slots);
		free(s->free_stack);
		free(s);
		return NULL;
	}
	return s;
}

void pw_scan_free(struct pw_scan *s)
{
	if (!s)
		return;
	HASH_CLEAR(hh, s->index);
	free(s->free_stack);
	free(s->slots);
	free(s);
}

unsigned pw_scan_sources(const struct pw_scan *s)
{
	return s->used;
}

size_t pw_scan_table_bytes(const struct pw_scan *s)
{
	return s->cfg.max_sources * sizeof(*s->slots);
}

int pw_scan_allow(struct pw_scan *s, const char *cidr, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	struct allow a = {};
	int max, ret = -1;
	long bits;

	if (s->n_allow == PW_SCAN_MAX_ALLOW) {
		snprintf(err, errlen, "at most %d --allow ranges", PW_SCAN_MAX_ALLOW);
		goto out;
	}
	if (strlen(cidr) >= sizeof(buf)) {
		snprintf(err, errlen, "invalid --allow: '%.20s...' is too long", cidr);
		goto out;
	}
	snprintf(buf, sizeof(buf), "%s", cidr);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, a.addr) == 1) {
		a.family = 4, max = 32;
	} else if (inet_pton(AF_INET6, buf, a.addr) == 1) {
		a.family = 6, max = 128;
	} else {
		snprintf(err, errlen, "invalid --allow '%s': not an address or CIDR", cidr);
		goto out;
	}
	bits = max;
	if (slash) {
		char *end;

		bits = strtol(slash, &end, 10);
		if (!*slash || *end || bits < 0 || bits > max) {
			snprintf(err, errlen, "invalid --allow '%s': prefix length 0 to %d", cidr, max);
			goto out;
		}
	}
	a.bits = (int)bits;
	s->allow[s->n_allow++] = a;
	ret = 0;
out:
	return ret;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full))
		return false;
	return !rest || ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

static bool allowed(const struct pw_scan *s, int family, const uint8_t *addr)
{
	int i;

	for (i = 0; i < s->n_allow; i++)
		if (s->allow[i].family == family && prefix_match(addr, s->allow[i].addr, s->allow[i].bits))
			return true;
	return false;
}

static uint32_t mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* One local (address, port, protocol) as a 32-bit hash. */
static uint32_t contact_hash(const struct pw_flow_key *k)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(k->laddr); i++)
		h = (h ^ k->laddr[i]) * 16777619u;
	h = (h ^ k->lport) * 16777619u;
	h = (h ^ k->proto) * 16777619u;
	return mix(h);
}

static uint32_t rnd(struct pw_scan *s)
{
	/* xorshift32: sampling needs no quality, only speed. */
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 17;
	s->rng ^= s->rng << 5;
	return s->rng;
}

static void release(struct pw_scan *s, struct src *e)
{
	HASH_DEL(s->index, e);
	memset(e, 0, sizeof(*e));
	s->used--;
	s->free_stack[s->n_free++] = (unsigned)(e - s->slots);
}

/*
 * A slot for a new source. When the table is full, recycle the entry with
 * the least evidence among a random sample: flood sources (one contact,
 * no failure) go first; a source that already alerted goes last.
 */
static struct src *new_slot(struct pw_scan *s)
{
	struct src *victim = NULL, *c;
	unsigned i;

	if (s->n_free)
		return &s->slots[s->free_stack[--s->n_free]];
	if (s->next_free < s->cfg.max_sources)
		return &s->slots[s->next_free++];
	for (i = 0; i < EVICT_SAMPLE; i++) {
		c = &s->slots[rnd(s) % s->cfg.max_sources];
		if (!victim || (c->alerted < victim->alerted) ||
		    (c->alerted == victim->alerted &&
		     (c->llr < victim->llr || (c->llr == victim->llr && c->last_ns < victim->last_ns))))
			victim = c;
	}
	release(s, victim);
	s->n_free--; /* release() offered it; we take it right away */
	return victim;
}

/* A new source entry for k (not in the index yet). */
static struct src *get_src(struct pw_scan *s, const struct pw_flow_key *k, uint64_t now)
{
	struct src_key key = { .netns = k->netns, .family = k->family };
	struct src *e;

	memcpy(key.addr, k->raddr, sizeof(key.addr));
	e = new_slot(s);
	memset(e, 0, sizeof(*e));
	e->key = key;
	e->used = true;
	e->first_ns = e->last_ns = now;
	HASH_ADD(hh, s->index, key, sizeof(e->key), e);
	s->used++;
	return e;
}

static const char *technique(const struct src *e)
{
	uint32_t total = 0, best = 0;
	int i, bi = T_SYN;

	for (i = 0; i < T__MAX; i++) {
		total += e->tech[i];
		if (e->tech[i] > best)
			best = e->tech[i], bi = i;
	}
	/* One technique for 80 % of the probes names the scan. */
	if (total && best * 5 < total * 4)
		return "mixed";
	/* SYNs that completed handshakes are a connect() scan. */
	if (bi == T_SYN && e->handshakes)
		return "connect";
	return tech_names[bi];
}

/*
 * Distinct first contacts: exact up to EXACT_CONTACTS; beyond, what the
 * overflow bitmap holds, corrected for collisions by linear counting.
 */
static uint32_t contacts_estimate(const struct src *e)
{
	unsigned ones = 0, empty;
	int i;

	if (e->n_exact < EXACT_CONTACTS)
		return e->contacts;
	for (i = 0; i < CONTACT_BITS / 64; i++)
		ones += (unsigned)__builtin_popcountll(e->contact_bits[i]);
	empty = CONTACT_BITS - ones;
	if (!empty)
		empty = 1;
	return EXACT_CONTACTS + (uint32_t)llround(CONTACT_BITS * log((double)CONTACT_BITS / empty));
}

static void fill_alert(const struct pw_scan *s, const struct src *e, const char *phase, uint64_t now,
		       struct pw_scan_alert *a)
{
	double secs = (double)(e->last_ns - e->first_ns) / 1e9;
	int family = e->key.family == 2 ? 4 : 6;

	(void)s;
	memset(a, 0, sizeof(*a));
	a->phase = phase;
	a->severity = contacts_estimate(e) >= 100 ? "critical" : "warning";
	a->technique = technique(e);
	/* One port across several local addresses: a horizontal sweep. */
	a->direction = e->laddr_count >= 3 && e->distinct_port_hint <= 2 ? "horizontal" : "vertical";
	a->netns = e->key.netns;
	a->family = family;
	if (family == 6 && memcmp(e->key.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		pw_format_addr(4, e->key.addr + 12, a->source, sizeof(a->source)), a->family = 4;
	else
		pw_format_addr(family, e->key.addr, a->source, sizeof(a->source));
	a->ports_probed = contacts_estimate(e);
	a->failures = e->failures;
	a->successes = e->successes;
	a->local_addresses = e->laddr_count;
	a->n_ports = e->n_ports;
	memcpy(a->ports, e->ports, sizeof(a->ports));
	a->n_open = e->n_open;
	memcpy(a->open_ports, e->open_ports, sizeof(a->open_ports));
	a->first_ns = e->first_ns;
	a->last_ns = e->last_ns;
	a->now_ns = now;
	a->rate = secs > 0 ? e->contacts / secs : e->contacts;
}

static void emit(struct pw_scan *s, struct src *e, const char *phase, uint64_t now)
{
	struct pw_scan_alert a;

	fill_alert(s, e, phase, now, &a);
	e->last_alert_ns = now;
	e->contacts_at_alert = e->contacts;
	if (s->fn)
		s->fn(s->ctx, &a);
}

static void judge(struct pw_scan *s, struct src *e, uint64_t now)
{
	if (!e->alerted && e->llr >= s->cfg.threshold) {
		e->alerted = true;
		emit(s, e, "detected", now);
	}
}

static void open_port(struct src *e, uint16_t port)
{
	int i;

	for (i = 0; i < e->n_open; i++)
		if (e->open_ports[i] == port)
			return;
	if (e->n_open < PW_SCAN_OPEN_PORTS)
		e->open_ports[e->n_open++] = port;
}

static void success(struct src *e, uint16_t port)
{
	e->successes++;
	e->llr -= LN4;
	open_port(e, port);
}

static void failure(struct src *e)
{
	e->failures++;
	e->llr += LN4;
}

/* Remove the pending SYN to contact c; true if there was one. */
static bool take_pending(struct src *e, uint32_t c)
{
	int i;

	for (i = 0; i < e->n_pending; i++) {
		if (e->pending[i].contact == c) {
			e->pending[i] = e->pending[--e->n_pending];
			return true;
		}
	}
	return false;
}

static void note_laddr(struct src *e, const struct pw_flow_key *k)
{
	uint32_t h = 2166136261u;
	size_t i;
	int j;

	for (i = 0; i < sizeof(k->laddr); i++)
		h = (h ^ k->laddr[i]) * 16777619u;
	for (j = 0; j < e->n_laddrs; j++)
		if (e->laddrs[j] == h)
			return;
	/* Past MAX_LADDRS distinct addresses the count stops: a floor. */
	if (e->n_laddrs < MAX_LADDRS) {
		e->laddrs[e->n_laddrs++] = h;
		e->laddr_count++;
	}
}

/*
 * Is contact c new for this source? Remember it. Exact (sorted 32-bit
 * hashes) for the first EXACT_CONTACTS, then a bitmap that may take a new
 * port for a seen one: the count becomes a floor past that.
 */
static bool first_contact(struct src *e, uint32_t c)
{
	int lo = 0, hi = e->n_exact;
	uint64_t bit;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (e->exact[mid] == c)
			return false;
		if (e->exact[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (e->n_exact < EXACT_CONTACTS) {
		memmove(&e->exact[lo + 1], &e->exact[lo], (size_t)(e->n_exact - lo) * sizeof(e->exact[0]));
		e->exact[lo] = c;
		e->n_exact++;
		return true;
	}
	bit = 1ULL << (c % 64);
	if (e->contact_bits[(c % CONTACT_BITS) / 64] & bit)
		return false;
	e->contact_bits[(c % CONTACT_BITS) / 64] |= bit;
	return true;
}

static void note_port(struct src *e, uint16_t port)
{
	int i;

	for (i = 0; i < e->n_ports; i++)
		if (e->ports[i] == port)
			return;
	e->distinct_port_hint++;
	if (e->n_ports < PW_SCAN_SAMPLE_PORTS)
		e->ports[e->n_ports++] = port;
}

/* The probe type of a delta's packets, or -1 when it is no probe. */
static int delta_tech(const struct pw_flow_delta *d)
{
	bool reply_ports = d->rport < 1024 && d->key.lport >= 1024;

	if (d->probes[PW_PROBE_SYN])
		return T_SYN;
	/*
	 * A packet from a service port to one of our ephemeral ports is a
	 * late reply to a connection we closed, not a probe.
	 */
	if (reply_ports)
		return -1;
	if (d->probes[PW_PROBE_FIN])
		return T_FIN;
	if (d->probes[PW_PROBE_NULL])
		return T_NULL;
	if (d->probes[PW_PROBE_XMAS])
		return T_XMAS;
	if (d->probes[PW_PROBE_ACK])
		return T_ACK;
	if (d->probes[PW_PROBE_UDP])
		return T_UDP;
	return -1; /* "other": SYN-ACKs and odd mixes are replies or noise */
}

/* Was c counted as a first contact already? (Lookup only.) */
static bool contact_known(const struct src *e, uint32_t c)
{
	int i;

	for (i = 0; i < e->n_exact; i++)
		if (e->exact[i] == c)
			return true;
	return e->n_exact == EXACT_CONTACTS &&
	       (e->contact_bits[(c % CONTACT_BITS) / 64] & (1ULL << (c % 64)));
}

void pw_scan_observe(struct pw_scan *s, const struct pw_flow_delta *d, uint64_t now)
{
	bool failed = d->fates[PW_FATE_CLOSED] || d->fates[PW_FATE_FILTERED] || d->fates[PW_FATE_REFUSED];
	const uint8_t *raddr = d->key.raddr;
	uint32_t c = contact_hash(&d->key);
	int family = d->key.family == 2 ? 4 : 6;
	struct src_key key = { .netns = d->key.netns, .family = d->key.family };
	int t = delta_tech(d);
	struct src *e;

	/* ::ffff:a.b.c.d is an IPv4 peer: --allow it as one. */
	if (family == 6 && memcmp(raddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		family = 4, raddr += 12;
	if (allowed(s, family, raddr))
		return;
	/* Deltas without a probe type carry an outcome of an earlier probe. */
	if (t < 0 && !failed && !d->handshakes)
		return;
	memcpy(key.addr, d->key.raddr, sizeof(key.addr));
	HASH_FIND(hh, s->index, &key, sizeof(key), e);
	/* An outcome (or a reply) from a source we never saw probe: nothing to learn. */
	if (!e && t < 0)
		return;
	if (!e)
		e = get_src(s, &d->key, d->last_ns ? d->last_ns : now);
	/* The kernel's time of the packet: alerts say how late they are. */
	e->last_ns = d->last_ns > e->last_ns ? d->last_ns : e->last_ns;
	if (d->handshakes)
		e->handshakes++;
	if (t >= 0 && !contact_known(e, c)) {
		/* A first contact: one observation for the test. */
		first_contact(e, c);
		e->ended = false; /* a new contact reopens an ended scan */
		e->contacts++;
		e->tech[t]++;
		note_laddr(e, &d->key);
		note_port(e, d->key.lport);
		if (failed) {
			failure(e);
		} else if (d->handshakes) {
			success(e, d->key.lport);
		} else if (t == T_SYN) {
			/* Its fate comes later (a drop) or never (an open port). */
			if (e->n_pending == MAX_PENDING) {
				/* Too many in flight: forget the oldest, as unknown. */
				memmove(&e->pending[0], &e->pending[1],
					(MAX_PENDING - 1) * sizeof(e->pending[0]));
				e->n_pending--;
			}
			e->pending[e->n_pending++] = (struct pending){ .since = now, .contact = c,
								       .port = d->key.lport };
		} else {
			failure(e); /* FIN/NULL/Xmas/ACK/UDP that reached no socket */
		}
	} else if ((failed || d->handshakes) && take_pending(e, c)) {
		/* The fate of a SYN counted as a first contact (a retransmitted SYN is not one). */
		if (failed)
			failure(e);
		else
			success(e, d->key.lport);
	}
	judge(s, e, now);
}

void pw_scan_tick(struct pw_scan *s, uint64_t now)
{
	struct src *e, *tmp;
	int i;

	HASH_ITER(hh, s->index, e, tmp) {
		/* A SYN that drew no refusal in time reached a listener. */
		for (i = 0; i < e->n_pending;) {
			if (now - e->pending[i].since >= s->cfg.pending_ns) {
				success(e, e->pending[i].port);
				e->pending[i] = e->pending[--e->n_pending];
			} else {
				i++;
			}
		}
		judge(s, e, now);
		if (e->alerted && !e->ended && now - e->last_ns >= s->cfg.end_ns) {
			e->ended = true;
			emit(s, e, "end", now);
		} else if (e->alerted && !e->ended && e->contacts > e->contacts_at_alert &&
			   now - e->last_alert_ns >= s->cfg.update_ns) {
			emit(s, e, "update", now);
		}
		if (now - e->last_ns >= s->cfg.expire_ns)
			release(s, e);
	}
}

void pw_scan_finish(struct pw_scan *s, uint64_t now)
{
	struct src *e, *tmp;
	int i;

	/*
	 * The session read every fate from the kernel's maps just before: a
	 * SYN still pending now was not refused, so it reached a listener.
	 */
	HASH_ITER(hh, s->index, e, tmp) {
		for (i = 0; i < e->n_pending; i++)
			success(e, e->pending[i].port);
		e->n_pending = 0;
	}
	pw_scan_tick(s, now);
	HASH_ITER(hh, s->index, e, tmp) {
		if (e->alerted && !e->ended) {
			e->ended = true;
			emit(s, e, "end", now);
		}
	}
}
