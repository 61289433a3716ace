/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ring buffer and the per-CPU counters every BPF object writes to.
 * Each object declares them; the loader makes them one pair of maps
 * (bpf_map__reuse_fd), so userspace drains one ring and sums one array.
 */
#ifndef PW_OUTPUT_BPF_H
#define PW_OUTPUT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "portwatch.h"

/* Wake userspace only once this much waits (set by the loader). */
const volatile __u32 wakeup_bytes = 256 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* resized by the loader */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		(*v)++;
}

/*
 * Copy a record into the ring buffer, counting it as sent or lost. Waking
 * userspace for every record is what makes naive tracers cost 30 % of a
 * connect storm: below wakeup_bytes the loader's poll timer drains it.
 */
static __always_inline void pw_output(void *rec, __u64 size)
{
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
			      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_output(&events, rec, size, flags))
		count(PW_CNT_LOST);
	else
		count(PW_CNT_EVENTS);
}

#endif /* PW_OUTPUT_BPF_H */
