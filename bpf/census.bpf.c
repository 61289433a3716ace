// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Socket census: one pw_sock record for every TCP/UDP socket file of every
 * process, from iter/task_file (v5.8). This is how portwatch learns the
 * owners of sockets that existed before it started, and who holds a port
 * when a bind fails with EADDRINUSE.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "sock.bpf.h"
#include "owners.bpf.h"
#include "portwatch.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Written by userspace before each run; zero fields match anything. */
struct pw_census_filter census_filter = {};
/* Set by userspace for the run that seeds the owners map. */
bool seed_owners = false;

/* Remember task as the owner of TCP socket sk unless one is known. */
static __always_inline void seed_owner(struct task_struct *task, struct sock *sk, const struct pw_sock *r)
{
	struct sock_owner o = {};
	__u64 key = (__u64)sk;

	o.pid = r->pid;
	o.tid = r->pid;
	o.uid = r->uid;
	o.cgroup_id = r->cgroup_id;
	o.flags = PW_F_NO_LIFETIME; /* we did not see it start */
	__builtin_memcpy(o.comm, r->comm, sizeof(o.comm));
	bpf_map_update_elem(&owners, &key, &o, BPF_NOEXIST);
}

SEC("iter/task_file")
int pw_census(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct pw_sock r = {};
	struct sock *sk;

	if (!task || !file)
		return 0;
	sk = pw_file_sock(file, &r.sock_ino);
	if (!sk || !pw_sk_wanted(sk, &r.proto, &r.family))
		return 0;
	r.netns = pw_sk_netns(sk);
	if (census_filter.netns && r.netns != census_filter.netns)
		return 0;
	if (census_filter.proto && r.proto != census_filter.proto)
		return 0;
	r.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (census_filter.lport && r.lport != census_filter.lport)
		return 0;
	pw_sk_endpoints(sk, r.family, r.laddr, &r.lport, r.raddr, &r.rport);
	r.rec_type = PW_REC_SOCK;
	r.state = BPF_CORE_READ(sk, __sk_common.skc_state);
	r.pid = BPF_CORE_READ(task, tgid);
	r.uid = BPF_CORE_READ(task, cred, uid.val); /* the real uid, as in trace events */
	r.fd = ctx->fd;
	r.cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	/*
	 * No tracepoint reports an accept-queue overflow and, on 6.x, the drop
	 * carries no specific reason; tcp_listendrop() counts it in the
	 * listener's sk_drops (UDP uses per-NUMA counters there instead).
	 */
	if (r.proto == PW_PROTO_TCP && r.state == PW_TCP_LISTEN)
		r.drops = BPF_CORE_READ(sk, sk_drops.counter);
	BPF_CORE_READ_STR_INTO(&r.comm, task, comm);
	if (seed_owners && r.proto == PW_PROTO_TCP)
		seed_owner(task, sk, &r);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
