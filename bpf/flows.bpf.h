/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The per-source table (who knocked where, and what became of it) and the
 * rate limit on telling userspace about new entries. Shared by the inbound
 * object (packets) and the trace object (completed handshakes): the loader
 * makes both use one map.
 */
#ifndef PW_FLOWS_BPF_H
#define PW_FLOWS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "output.bpf.h"
#include "portwatch.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, struct pw_flow_key);
	__type(value, struct pw_flow);
} flows SEC(".maps");

/*
 * Records about new flows, per CPU: a steady rate and a burst. Arrivals
 * (a SYN whose fate is not known yet) and outcomes (a closed, filtered or
 * refused probe; a completed handshake) draw from separate buckets, so a
 * spoofed SYN flood to an open port, all arrivals, cannot silence the
 * failures a real scanner collects meanwhile.
 */
#define FIRST_RATE_PER_S 4096
#define FIRST_BURST 1024

enum pw_bucket {
	PW_BUCKET_ARRIVAL = 0,
	PW_BUCKET_OUTCOME = 1,
};

struct first_bucket {
	__u64 last_ns;
	__u64 tokens; /* in 1/1000 of a record */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct first_bucket);
} first_buckets SEC(".maps");

/* Token bucket: may this CPU send one more record of this kind now? */
static __always_inline bool first_allowed(__u32 bucket, __u64 now)
{
	struct first_bucket *b = bpf_map_lookup_elem(&first_buckets, &bucket);
	__u64 add;

	if (!b)
		return false;
	add = (now - b->last_ns) * FIRST_RATE_PER_S / 1000000; /* 1/1000 records */
	b->last_ns = now;
	b->tokens += add;
	if (b->tokens > FIRST_BURST * 1000)
		b->tokens = FIRST_BURST * 1000;
	if (b->tokens < 1000)
		return false;
	b->tokens -= 1000;
	return true;
}

/* first_allowed(), counting a refusal as a first sighting not sent. */
static __always_inline bool first_token(__u32 bucket, __u64 now)
{
	if (first_allowed(bucket, now))
		return true;
	count(PW_CNT_FIRST_SUPPRESSED);
	return false;
}

/*
 * The flow of k, made when new; NULL if the map refuses. An arrival (a SYN
 * whose fate is not known yet) makes one only with a token for its first
 * record (*token: taken), else NULL: a spoofed flood to an open port is
 * nothing but new sources, and inserting each into the LRU cost pw_rx 0.8 us
 * per packet while the rate limit kept 70 % of them from userspace anyway
 * (docs/BENCHMARKS.md); such a SYN is counted at its port only. An outcome
 * (a closed or refused probe, a RST, a handshake) always makes its flow,
 * taking no token (token may then be NULL):
 * it is the evidence the scan detector weighs, and the map walk must find
 * a scanner's failures even while a flood to a closed port keeps their
 * records back.
 */
static __always_inline struct pw_flow *flow_entry(const struct pw_flow_key *k, __u16 sport, __u64 now,
						  __u32 bucket, bool *token)
{
	struct pw_flow *f = bpf_map_lookup_elem(&flows, k), fresh = {};

	if (token)
		*token = false;
	if (f)
		return f;
	if (bucket == PW_BUCKET_ARRIVAL) {
		if (!first_token(bucket, now))
			return NULL;
		if (token)
			*token = true;
	}
	fresh.first_ns = now;
	fresh.rport = sport;
	bpf_map_update_elem(&flows, k, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&flows, k);
}

#endif /* PW_FLOWS_BPF_H */
