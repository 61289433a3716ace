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
 * The flow of k. A new one is made only with a token of bucket for its first
 * record (*created: made, token taken), else NULL: under a spoofed flood
 * nearly every packet is a new source, and inserting each one into the LRU
 * cost 0.8 us per packet while the rate limit kept 70 % of them from
 * userspace anyway (docs/BENCHMARKS.md). Such a packet is counted at its
 * port only; the source's next packet tries again. NULL too if the map refuses.
 */
static __always_inline struct pw_flow *flow_entry(const struct pw_flow_key *k, __u16 sport, __u64 now,
						  __u32 bucket, bool *created)
{
	struct pw_flow *f = bpf_map_lookup_elem(&flows, k), fresh = {};

	*created = false;
	if (!f && first_token(bucket, now)) {
		fresh.first_ns = now;
		fresh.rport = sport;
		*created = !bpf_map_update_elem(&flows, k, &fresh, BPF_NOEXIST);
		f = bpf_map_lookup_elem(&flows, k);
	}
	return f;
}

#endif /* PW_FLOWS_BPF_H */
