// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <bpf/bpf.h>

#include "inreader.h"

/* What has been reported of one flow. */
struct seen_flow {
	struct pw_flow_key key;
	uint32_t probes[PW_PROBE__MAX];
	uint32_t fates[PW_FATE__MAX];
	uint32_t resets_out;
	uint32_t half_open;
	uint32_t handshakes;
	uint64_t first_ns; /* the kernel entry's: a new one means it was recreated */
	unsigned gen;      /* last walk that found it */
	UT_hash_handle hh;
};

struct pw_inreader {
	int flows_fd;
	int ports_fd;
	pw_flow_fn flow_fn;
	pw_portstat_fn port_fn;
	void *ctx;
	struct seen_flow *seen;
	unsigned gen;
	unsigned count;
};

struct pw_inreader *pw_inreader_new(int flows_fd, int ports_fd, pw_flow_fn flow_fn,
				    pw_portstat_fn port_fn, void *ctx)
{
	struct pw_inreader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->flows_fd = flows_fd;
	r->ports_fd = ports_fd;
	r->flow_fn = flow_fn;
	r->port_fn = port_fn;
	r->ctx = ctx;
	return r;
}

void pw_inreader_free(struct pw_inreader *r)
{
	struct seen_flow *s, *tmp;

	if (!r)
		return;
	HASH_ITER(hh, r->seen, s, tmp) {
		HASH_DEL(r->seen, s);
		free(s);
	}
	free(r);
}

unsigned pw_inreader_size(const struct pw_inreader *r)
{
	return r->count;
}

static struct seen_flow *get_seen(struct pw_inreader *r, const struct pw_flow_key *k, bool *created)
{
	struct seen_flow *s;

	HASH_FIND(hh, r->seen, k, sizeof(*k), s);
	*created = false;
	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = *k;
	HASH_ADD(hh, r->seen, key, sizeof(s->key), s);
	r->count++;
	*created = true;
	return s;
}

/*
 * A record is always a flow's first packet of a type or first of a fate:
 * report it unless a walk got there first (then that field is non-zero).
 */
void pw_inreader_record(struct pw_inreader *r, const struct pw_inbound *rec)
{
	struct pw_flow_delta d = { .rec = rec };
	struct seen_flow *s;
	bool any = false;

	memset(&d.key, 0, sizeof(d.key));
	d.key.netns = rec->netns;
	d.key.lport = rec->lport;
	d.key.proto = rec->proto;
	d.key.family = rec->family;
	memcpy(d.key.laddr, rec->laddr, sizeof(d.key.laddr));
	memcpy(d.key.raddr, rec->raddr, sizeof(d.key.raddr));
	s = get_seen(r, &d.key, &d.first);
	if (!s)
		return;
	s->gen = r->gen;
	if (rec->probe < PW_PROBE__MAX && s->probes[rec->probe] == 0) {
		s->probes[rec->probe] = d.probes[rec->probe] = 1;
		any = true;
	}
	if (rec->fate < PW_FATE__MAX && s->fates[rec->fate] == 0) {
		s->fates[rec->fate] = d.fates[rec->fate] = 1;
		any = true;
	}
	if ((rec->flags & PW_IN_HANDSHAKE) && s->handshakes == 0) {
		s->handshakes = d.handshakes = 1;
		any = true;
	}
	d.rport = rec->rport;
	d.last_ns = rec->ts_ns;
	if (any && r->flow_fn)
		r->flow_fn(r->ctx, &d);
}

/* Growth of a cumulative counter; a smaller value means a fresh entry. */
static uint32_t grow(uint32_t *seen, uint32_t now)
{
	uint32_t d = now >= *seen ? now - *seen : now;

	*seen = now;
	return d;
}

static void walk_flow(struct pw_inreader *r, const struct pw_flow_key *k, const struct pw_flow *f)
{
	/* A flow only a RST created (pw_rst_out) has no packet time yet: its first is the one. */
	struct pw_flow_delta d = { .key = *k, .total = f, .rport = f->rport,
				   .last_ns = f->last_ns ? f->last_ns : f->first_ns };
	struct seen_flow *s;
	bool any = false;
	int i;

	s = get_seen(r, k, &d.first);
	if (!s)
		return;
	s->gen = r->gen;
	if (s->first_ns && s->first_ns != f->first_ns) {
		/* The kernel evicted and recreated it: all of it is new. */
		memset(s->probes, 0, sizeof(s->probes));
		memset(s->fates, 0, sizeof(s->fates));
		s->resets_out = s->half_open = s->handshakes = 0;
	}
	s->first_ns = f->first_ns;
	for (i = 0; i < PW_PROBE__MAX; i++)
		any |= (d.probes[i] = grow(&s->probes[i], f->probes[i])) != 0;
	for (i = 0; i < PW_FATE__MAX; i++)
		any |= (d.fates[i] = grow(&s->fates[i], f->fates[i])) != 0;
	any |= (d.resets_out = grow(&s->resets_out, f->resets_out)) != 0;
	any |= (d.half_open = grow(&s->half_open, f->half_open)) != 0;
	any |= (d.handshakes = grow(&s->handshakes, f->handshakes)) != 0;
	if (any && r->flow_fn)
		r->flow_fn(r->ctx, &d);
}

/*
 * Read every entry of a hash map in batches. Batches go bucket by bucket
 * (v5.6), so entries that come and go meanwhile (LRU eviction under a
 * flood) cannot make the walk restart or run forever: each bucket is read
 * once.
 */
static int walk_map(int fd, size_t ksz, size_t vsz, void (*fn)(void *, const void *, const void *),
		    void *ctx)
{
	enum { CHUNK = 256 };
	unsigned char *keys = malloc(CHUNK * ksz), *vals = malloc(CHUNK * vsz);
	__u32 in = 0, out = 0, n, i;
	bool first = true, done = false;
	int ret = 0, err;

	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (!done) {
		n = CHUNK;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &n, NULL);
		if (err && errno != ENOENT) {
			ret = -errno;
			break;
		}
		done = err != 0; /* ENOENT: this was the last batch */
		for (i = 0; i < n; i++)
			fn(ctx, keys + i * ksz, vals + i * vsz);
		in = out;
		first = false;
	}
out:
	free(keys);
	free(vals);
	return ret;
}

static void on_flow_entry(void *ctx, const void *k, const void *v)
{
	walk_flow(ctx, k, v);
}

static void on_port_entry(void *ctx, const void *k, const void *v)
{
	struct pw_inreader *r = ctx;

	if (r->port_fn)
		r->port_fn(r->ctx, k, v);
}

int pw_inreader_walk(struct pw_inreader *r)
{
	struct seen_flow *s, *tmp;
	int ret = 0;

	r->gen++;
	/* Ports first: a port this walk creates then gets its sources. */
	if (r->ports_fd >= 0)
		ret = walk_map(r->ports_fd, sizeof(struct pw_port_key), sizeof(struct pw_port_stats),
			       on_port_entry, r);
	if (!ret && r->flows_fd >= 0)
		ret = walk_map(r->flows_fd, sizeof(struct pw_flow_key), sizeof(struct pw_flow),
			       on_flow_entry, r);
	/* Forget flows the kernel no longer has (only after a full walk). */
	if (!ret) {
		HASH_ITER(hh, r->seen, s, tmp) {
			if (s->gen != r->gen) {
				HASH_DEL(r->seen, s);
				free(s);
				r->count--;
			}
		}
	}
	return ret;
}
