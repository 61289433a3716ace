// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "closed.h"

#define MAX_LISTENERS 16384 /* per namespace */
#define MAX_ADDRS 256       /* per namespace */
#define MAX_NETNS 4096
#define REFRESH_MIN_NS 250000000ULL  /* a packet newer than the table: re-read at most this often */
#define ADDR_REFRESH_NS 5000000000ULL /* ... and for an address not (yet) local, this often */
#define RETRY_NS 1000000000ULL       /* an unreadable namespace: try again after this */
#define EXPIRE_NS 60000000000ULL     /* not judged for this long: forgotten */

struct endpoint {
	uint8_t family; /* PW_AF_INET, PW_AF_INET6 */
	uint16_t port;  /* listeners only */
	uint8_t addr[16];
};

struct ns_entry {
	uint32_t netns;
	bool known;       /* the last refresh succeeded */
	bool overflow;    /* more than the bounds: judge nothing here */
	uint64_t refreshed_ns; /* when known was last set */
	uint64_t tried_ns;
	uint64_t used_ns;
	uint32_t pid_hint;
	struct endpoint *listeners;
	unsigned n_listeners, cap_listeners;
	struct endpoint *addrs;
	unsigned n_addrs, cap_addrs;
	UT_hash_handle hh;
};

struct pw_closed {
	pw_closed_refresh_fn refresh;
	void *ctx;
	struct ns_entry *ns;
	unsigned n_ns;
	struct ns_entry *filling; /* the namespace a refresh is filling */
	struct pw_closed_stats st;
};

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
static const uint8_t zero16[16];

/* family/addr with ::ffff:a.b.c.d turned into IPv4, as the flow keys have it. */
static void normalize(int family, const uint8_t *addr, struct endpoint *out)
{
	memset(out->addr, 0, sizeof(out->addr));
	if (family == PW_AF_INET6 && !memcmp(addr, mapped_prefix, 12)) {
		out->family = PW_AF_INET;
		memcpy(out->addr, addr + 12, 4);
	} else if (family == PW_AF_INET6) {
		out->family = PW_AF_INET6;
		memcpy(out->addr, addr, 16);
	} else {
		out->family = PW_AF_INET;
		memcpy(out->addr, addr, 4);
	}
}

struct pw_closed *pw_closed_new(pw_closed_refresh_fn refresh, void *ctx)
{
	struct pw_closed *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->refresh = refresh;
	c->ctx = ctx;
	return c;
}

static void ns_free(struct ns_entry *e)
{
	free(e->listeners);
	free(e->addrs);
	free(e);
}

void pw_closed_free(struct pw_closed *c)
{
	struct ns_entry *e, *tmp;

	if (!c)
		return;
	HASH_ITER(hh, c->ns, e, tmp) {
		HASH_DEL(c->ns, e);
		ns_free(e);
	}
	free(c);
}

/* Append to a bounded array; false (and overflow set) when full or out of memory. */
static bool push(struct ns_entry *e, struct endpoint **arr, unsigned *n, unsigned *cap, unsigned max,
		 const struct endpoint *ep)
{
	struct endpoint *grown;
	unsigned ncap;

	if (*n == *cap) {
		ncap = *cap ? *cap * 2 : 16;
		if (ncap > max)
			ncap = max;
		grown = ncap > *cap ? realloc(*arr, ncap * sizeof(**arr)) : NULL;
		if (!grown) {
			e->overflow = true;
			return false;
		}
		*arr = grown;
		*cap = ncap;
	}
	(*arr)[(*n)++] = *ep;
	return true;
}

void pw_closed_listener(struct pw_closed *c, int family, const uint8_t *addr, uint16_t port)
{
	struct ns_entry *e = c->filling;
	struct endpoint ep;

	assert(e); /* only from inside the refresh function */
	if (!e)
		return;
	normalize(family, addr, &ep);
	ep.port = port;
	push(e, &e->listeners, &e->n_listeners, &e->cap_listeners, MAX_LISTENERS, &ep);
}

void pw_closed_local_addr(struct pw_closed *c, int family, const uint8_t *addr)
{
	struct ns_entry *e = c->filling;
	struct endpoint ep;

	assert(e);
	if (!e)
		return;
	normalize(family, addr, &ep);
	ep.port = 0;
	push(e, &e->addrs, &e->n_addrs, &e->cap_addrs, MAX_ADDRS, &ep);
}

static bool same_addr(const struct endpoint *a, const struct endpoint *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, 16);
}

void pw_closed_event(struct pw_closed *c, const struct pw_ev *ev)
{
	struct ns_entry *e;
	struct endpoint ep;
	unsigned i;

	if (ev->proto != PW_PROTO_TCP || !ev->local_port || ev->result < 0)
		return;
	if (ev->kind != PW_EV_LISTEN && !(ev->kind == PW_EV_CLOSE && ev->listener))
		return;
	HASH_FIND(hh, c->ns, &ev->netns, sizeof(ev->netns), e);
	if (!e || !e->known)
		return; /* the first refresh will read it */
	normalize(ev->family == 4 ? PW_AF_INET : PW_AF_INET6, ev->local_raw, &ep);
	ep.port = ev->local_port;
	if (ev->kind == PW_EV_LISTEN) {
		push(e, &e->listeners, &e->n_listeners, &e->cap_listeners, MAX_LISTENERS, &ep);
		return;
	}
	for (i = 0; i < e->n_listeners; i++) {
		if (e->listeners[i].port == ep.port && same_addr(&e->listeners[i], &ep)) {
			e->listeners[i] = e->listeners[--e->n_listeners];
			return; /* one socket closed: another on the same address (SO_REUSEPORT) stays */
		}
	}
}

/* Is dst (a packet's destination) an address of this namespace? */
static bool is_local(const struct ns_entry *e, const struct endpoint *dst)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };
	unsigned i;

	/* 127.0.0.0/8 is routed to lo whatever address lo shows; ::1 is lo's. */
	if (dst->family == PW_AF_INET && dst->addr[0] == 127)
		return true;
	if (dst->family == PW_AF_INET6 && !memcmp(dst->addr, v6_loopback, 16))
		return true;
	for (i = 0; i < e->n_addrs; i++)
		if (same_addr(&e->addrs[i], dst))
			return true;
	return false;
}

/*
 * Does a listener of e take a SYN to dst:port? A wildcard listener takes
 * its family; an IPv6 one on :: takes IPv4 too unless IPV6_V6ONLY, which the
 * census does not say: assumed (a port judged open is the safe error).
 */
static bool listened(const struct ns_entry *e, const struct endpoint *dst, uint16_t port)
{
	const struct endpoint *l;
	unsigned i;

	for (i = 0; i < e->n_listeners; i++) {
		l = &e->listeners[i];
		if (l->port != port)
			continue;
		if (same_addr(l, dst) || !memcmp(l->addr, zero16, 16))
			if (l->family == dst->family || l->family == PW_AF_INET6)
				return true;
	}
	return false;
}

static struct ns_entry *get_ns(struct pw_closed *c, uint32_t netns)
{
	struct ns_entry *e;

	HASH_FIND(hh, c->ns, &netns, sizeof(netns), e);
	if (e || c->n_ns == MAX_NETNS)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->netns = netns;
	HASH_ADD(hh, c->ns, netns, sizeof(e->netns), e);
	c->n_ns++;
	return e;
}

/* Replace e's table with what the refresh function reads now. */
static void refresh(struct pw_closed *c, struct ns_entry *e, uint64_t now)
{
	int ret;

	e->tried_ns = now;
	e->n_listeners = e->n_addrs = 0;
	e->overflow = false;
	c->filling = e;
	ret = c->refresh ? c->refresh(c->ctx, c, e->netns, &e->pid_hint) : -1;
	c->filling = NULL;
	c->st.refreshes++;
	e->known = ret == 0;
	if (e->known)
		e->refreshed_ns = now;
}

uint32_t pw_closed_judge(struct pw_closed *c, struct pw_flow_delta *d, uint64_t now_ns)
{
	uint32_t syns = d->probes[PW_PROBE_SYN];
	struct endpoint dst;
	struct ns_entry *e;
	int i;

	if (d->key.proto != PW_PROTO_TCP || !syns || d->handshakes)
		return 0;
	for (i = 0; i < PW_FATE__MAX; i++)
		if (d->fates[i])
			return 0;
	e = get_ns(c, d->key.netns);
	if (!e) {
		c->st.unjudged += syns;
		return 0;
	}
	e->used_ns = now_ns;
	if (!e->known && (!e->tried_ns || now_ns - e->tried_ns >= RETRY_NS))
		refresh(c, e, now_ns);
	if (!e->known || e->overflow) {
		c->st.unjudged += syns;
		return 0;
	}
	normalize(d->key.family, d->key.laddr, &dst);
	/*
	 * Closed or not local by this table. If the SYN came after the table
	 * was read, a listener (or an address) may have appeared since without
	 * an event (filtered in the kernel): read it again, unless that was
	 * done a moment ago. Forwarded SYNs are never local: on a router, the
	 * addresses alone are re-read, and less often.
	 */
	if (d->last_ns > e->refreshed_ns &&
	    ((!is_local(e, &dst) && now_ns - e->refreshed_ns >= ADDR_REFRESH_NS) ||
	     (is_local(e, &dst) && !listened(e, &dst, d->key.lport) &&
	      now_ns - e->refreshed_ns >= REFRESH_MIN_NS))) {
		refresh(c, e, now_ns);
		if (!e->known || e->overflow) {
			c->st.unjudged += syns;
			return 0;
		}
	}
	if (!is_local(e, &dst)) {
		c->st.not_local += syns;
		return 0;
	}
	if (listened(e, &dst, d->key.lport)) {
		c->st.judged_open += syns;
		return 0;
	}
	d->fates[PW_FATE_CLOSED] = syns;
	c->st.judged_closed += syns;
	return syns;
}

void pw_closed_expire(struct pw_closed *c, uint64_t now_ns)
{
	struct ns_entry *e, *tmp;

	HASH_ITER(hh, c->ns, e, tmp) {
		if (now_ns - e->used_ns >= EXPIRE_NS) {
			HASH_DEL(c->ns, e);
			ns_free(e);
			c->n_ns--;
		}
	}
}

void pw_closed_stats(const struct pw_closed *c, struct pw_closed_stats *out)
{
	*out = c->st;
}
