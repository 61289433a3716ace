/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reader of the inbound counters (bpf/inbound.bpf.c): turns first-sighting
 * records and periodic walks of the kernel's LRU maps into exact deltas.
 *
 * The kernel keeps cumulative counts per flow (source -> local port) and
 * per port; this module remembers what it has already reported for each
 * flow, so every packet is reported once, whether a record or a walk saw
 * it first. Memory is bounded by the kernel map: flows the kernel evicted
 * are forgotten at the next walk.
 */
#ifndef PW_INREADER_H
#define PW_INREADER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "portwatch.h"

struct pw_flow_delta {
	struct pw_flow_key key;
	uint16_t rport;    /* source port of the flow's first packet */
	uint64_t last_ns;  /* CLOCK_MONOTONIC of its latest packet */
	bool first;        /* the flow is new to userspace */
	uint32_t probes[PW_PROBE__MAX]; /* growth since the last report */
	uint32_t fates[PW_FATE__MAX];
	uint32_t resets_out;
	uint32_t half_open;
	uint32_t handshakes;
	const struct pw_flow *total; /* cumulative; NULL for a record */
	const struct pw_inbound *rec; /* the record, when one reported it */
};

typedef void (*pw_flow_fn)(void *ctx, const struct pw_flow_delta *d);
typedef void (*pw_portstat_fn)(void *ctx, const struct pw_port_key *k, const struct pw_port_stats *s);

struct pw_inreader;

/*
 * A reader of the maps behind flows_fd and ports_fd. flow_fn gets every
 * non-empty delta; port_fn every port's cumulative counters at each walk
 * (either may be NULL). Returns NULL when out of memory.
 */
struct pw_inreader *pw_inreader_new(int flows_fd, int ports_fd, pw_flow_fn flow_fn,
				    pw_portstat_fn port_fn, void *ctx);
void pw_inreader_free(struct pw_inreader *r);
/* A PW_REC_INBOUND record from the ring buffer (len checked by caller). */
void pw_inreader_record(struct pw_inreader *r, const struct pw_inbound *rec);
/* Walk both maps now. Returns 0 or -errno. */
int pw_inreader_walk(struct pw_inreader *r);
/* Flows remembered now (for tests and memory accounting). */
unsigned pw_inreader_size(const struct pw_inreader *r);

#endif /* PW_INREADER_H */
