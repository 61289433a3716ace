/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Who owns a TCP socket and since when, keyed by struct sock address.
 * Written by the trace programs at connect/listen/accept and seeded by the
 * census iterator for sockets older than portwatch (the loader hands the
 * census the trace object's map fd), so that a close in softirq context
 * can still name its process.
 */
#ifndef PW_OWNERS_BPF_H
#define PW_OWNERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "portwatch.h"

struct sock_owner {
	__u64 start_ns;
	__u64 cgroup_id;
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 flags; /* PW_F_NO_OWNER until a process is known */
	char comm[PW_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u64);
	__type(value, struct sock_owner);
} owners SEC(".maps");

#endif /* PW_OWNERS_BPF_H */
