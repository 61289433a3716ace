// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Socket census: one pw_sock record for every TCP/UDP socket file of every
 * process, from iter/task_file (v5.8). This is how portwatch learns the
 * owners of sockets that existed before it started, and who holds a port
 * when a bind fails with EADDRINUSE. iter/tcp and iter/udp (v5.9), below,
 * add what one network namespace's hash tables hold and no process does.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "sock.bpf.h"
#include "owners.bpf.h"
#include "portwatch.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Written by userspace before each run; zero fields match anything. */
struct pw_census_filter census_filter = {};
/* Set by userspace for the run that seeds the owners map. */
bool seed_owners = false;
/*
 * How many owners a seeding run may still add. Past the map's size every
 * insert evicts another (LRU): on a host with 100k sockets that thrash cost
 * more than the rest of the start-up census, and kept no more owners.
 */
__u32 seed_budget = 0;

/*
 * The iterator gives a task's files one after another: read the task's
 * identity once per task, not once per socket (a server with 100k
 * connections is one task). Reset by userspace before every run, since a
 * freed task's address may come back as another task.
 */
__u64 last_task = 0; /* the task below describes; 0: none */
static __u64 last_cgroup_id;
static __u32 last_pid, last_uid;
static char last_comm[PW_COMM_LEN];

static __always_inline void task_identity(struct task_struct *task, struct pw_sock *r)
{
	if (last_task != (__u64)task) {
		last_task = (__u64)task;
		last_pid = BPF_CORE_READ(task, tgid);
		last_uid = BPF_CORE_READ(task, cred, uid.val); /* the real uid, as in trace events */
		last_cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
		BPF_CORE_READ_STR_INTO(&last_comm, task, comm);
	}
	r->pid = last_pid;
	r->uid = last_uid;
	r->cgroup_id = last_cgroup_id;
	__builtin_memcpy(r->comm, last_comm, sizeof(r->comm));
}

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
	if (!bpf_map_update_elem(&owners, &key, &o, BPF_NOEXIST))
		seed_budget--;
}

SEC("iter/task_file")
int pw_census(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct pw_sock r = {};
	bool match, seed;
	struct sock *sk;

	if (!task || !file)
		return 0;
	sk = pw_file_sock(file, &r.sock_ino);
	if (!sk || !pw_sk_wanted(sk, &r.proto, &r.family))
		return 0;
	r.netns = pw_sk_netns(sk);
	r.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	match = (!census_filter.netns || r.netns == census_filter.netns) &&
		(!census_filter.proto || r.proto == census_filter.proto) &&
		(!census_filter.lport || r.lport == census_filter.lport);
	/* Seeding covers every TCP socket; the filter only chooses what is reported. */
	seed = seed_owners && seed_budget && r.proto == PW_PROTO_TCP;
	if (!match && !seed)
		return 0;
	pw_sk_endpoints(sk, r.family, r.laddr, &r.lport, r.raddr, &r.rport);
	r.rec_type = PW_REC_SOCK;
	r.state = BPF_CORE_READ(sk, __sk_common.skc_state);
	task_identity(task, &r);
	r.fd = ctx->fd;
	/*
	 * No tracepoint reports an accept-queue overflow and, on 6.x, the drop
	 * carries no specific reason; tcp_listendrop() counts it in the
	 * listener's sk_drops (UDP uses per-NUMA counters there instead).
	 */
	if (r.proto == PW_PROTO_TCP && r.state == PW_TCP_LISTEN)
		r.drops = BPF_CORE_READ(sk, sk_drops.counter);
	if (seed)
		seed_owner(task, sk, &r);
	if (match)
		bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

/*
 * ---- Network-namespace census: iter/tcp and iter/udp (v5.9) ----
 *
 * These walk the hash tables of the namespace the iterator fd was created
 * in, so they also see what no process holds: TIME_WAIT sockets and
 * orphans (closed but still sending their FIN). Those hold ports too,
 * which is what an ephemeral-port pool is made of.
 */

/*
 * TIME_WAIT timers count in jiffies. libbpf fails the load when it finds
 * no kernel config to read, even for a __weak extern; so without one (no
 * /boot/config-$(uname -r) nor /proc/config.gz: containers, the test VMs)
 * userspace passes CONFIG_HZ=0 and census_hz() works HZ out instead.
 */
extern int CONFIG_HZ __kconfig __weak;

static __u64 hz_cache;

/*
 * jiffies_64 starts at INITIAL_JIFFIES = 2^32 - 300 * HZ (on 64-bit, so
 * that wrap bugs show up 5 minutes after boot), hence jiffies - 2^32 =
 * HZ * (uptime - 300 s): pick the configurable HZ that fits best. Exact
 * once uptime is a few seconds away from 300 s; within them, HZ cannot be
 * told apart and the guess may be off by the ratio of two candidates.
 */
static __always_inline __u64 census_hz(void)
{
	static const __u64 candidates[] = { 100, 250, 300, 1000 };
	__s64 j, t_ms, err, best_err = -1;
	__u64 best = 250;
	int i;

	if (CONFIG_HZ > 0)
		return CONFIG_HZ;
	if (hz_cache)
		return hz_cache;
	j = (__s64)(bpf_jiffies64() - (1ULL << 32)) * 1000;
	t_ms = (__s64)(bpf_ktime_get_ns() / 1000000) - 300000;
	for (i = 0; i < 4; i++) {
		err = j - (__s64)candidates[i] * t_ms;
		if (err < 0)
			err = -err;
		if (best_err < 0 || err < best_err) {
			best_err = err;
			best = candidates[i];
		}
	}
	hz_cache = best;
	return best;
}

/*
 * From here on, pointers come from the iterator's context (trusted BTF
 * pointers) and from the skc_to_*() helpers (v5.9), so fields are read
 * with plain loads, which the verifier turns into fault-safe loads
 * (BPF_PROBE_MEM): 8% faster than bpf_probe_read_kernel() for 100k
 * sockets. Cold cache lines cost the rest, so each line touched counts.
 * (iter/task_file keeps sock.bpf.h's reads: plain loads were no faster.)
 */

/* Milliseconds before a timewait socket expires (TIME_WAIT, or FIN_WAIT2 past tcp_fin_timeout). */
static __always_inline __u32 tw_ttl_ms(const struct tcp_timewait_sock *tw)
{
	__s64 left;

	if (!bpf_core_field_exists(tw->tw_sk.tw_timer))
		return 0;
	left = (__s64)(tw->tw_sk.tw_timer.expires - bpf_jiffies64());
	if (left <= 0)
		return 0;
	return (__u32)((__u64)left * 1000 / census_hz());
}

/*
 * pw_sk_endpoints() for a sock_common: a TIME_WAIT socket is a struct
 * inet_timewait_sock, whose only overlap with struct sock is __tw_common,
 * so nothing past sock_common may be read from it.
 */
static __always_inline void skc_endpoints(const struct sock_common *skc, struct pw_sock *r)
{
	__u32 *l = (__u32 *)r->laddr, *d = (__u32 *)r->raddr;

	if (r->family == PW_AF_INET) {
		l[0] = skc->skc_rcv_saddr;
		d[0] = skc->skc_daddr;
	} else {
		/* Four 32-bit loads: the verifier checks each against the array's type. */
		l[0] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[0];
		l[1] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[1];
		l[2] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[2];
		l[3] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[3];
		d[0] = skc->skc_v6_daddr.in6_u.u6_addr32[0];
		d[1] = skc->skc_v6_daddr.in6_u.u6_addr32[1];
		d[2] = skc->skc_v6_daddr.in6_u.u6_addr32[2];
		d[3] = skc->skc_v6_daddr.in6_u.u6_addr32[3];
	}
	r->lport = skc->skc_num;
	r->rport = bpf_ntohs(skc->skc_dport);
	r->netns = skc->skc_net.net->ns.inum;
}

/*
 * The inode number /proc/PID/fd shows for a full socket, 0 for an orphan.
 * SOCK_INODE(): the inode follows the socket in struct socket_alloc, close
 * to what was just read; sock->file->f_inode would touch two more cold
 * cache lines per socket (10 ms more per 100k sockets).
 */
static __always_inline __u64 sk_ino(const struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct socket_alloc *sa;
	__u64 ino = 0;

	if (!sock)
		return 0;
	sa = (void *)((char *)sock - bpf_core_field_offset(struct socket_alloc, socket));
	bpf_probe_read_kernel(&ino, sizeof(ino), &sa->vfs_inode.i_ino);
	return ino;
}

/* Fill the fields common to both iterators; false if skc is not IPv4/IPv6. */
static __always_inline bool hash_sock(const struct sock_common *skc, __u8 proto, __u8 origin,
				      __u32 uid, struct pw_sock *r)
{
	r->family = skc->skc_family;
	if (r->family != PW_AF_INET && r->family != PW_AF_INET6)
		return false;
	r->rec_type = PW_REC_SOCK;
	r->proto = proto;
	r->origin = origin;
	r->uid = uid;
	skc_endpoints(skc, r);
	return true;
}

/*
 * Set by userspace: report only sockets no file refers to. iter/task_file
 * has the others already, with their owners; on a server that is nearly
 * every socket, and each one skipped here is a record userspace does not
 * read twice.
 */
bool unheld_only = false;

static __always_inline bool held_by_file(const struct sock *sk)
{
	struct socket *sock = sk->sk_socket;

	return sock && sock->file;
}

SEC("iter/tcp")
int pw_census_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_timewait_sock *tw;
	struct pw_sock r = {};
	struct tcp_sock *tp;
	__u8 state;

	if (!skc)
		return 0;
	state = skc->skc_state;
	/* A request socket (SYN received, not yet accepted) holds no port of its own. */
	if (state == TCP_NEW_SYN_RECV)
		return 0;
	if (!hash_sock(skc, PW_PROTO_TCP, PW_ORIGIN_TCP_ITER, ctx->uid, &r))
		return 0;
	if (state == PW_TCP_TIME_WAIT) {
		tw = bpf_skc_to_tcp_timewait_sock(skc);
		if (!tw)
			return 0;
		/*
		 * Like ss and /proc/net/tcp: an orphan that reached FIN_WAIT2
		 * may already be a timewait socket (tcp_fin_timeout).
		 */
		r.state = tw->tw_sk.tw_substate;
		r.ttl_ms = tw_ttl_ms(tw);
	} else {
		tp = bpf_skc_to_tcp_sock(skc);
		if (!tp || (unheld_only && held_by_file(&tp->inet_conn.icsk_inet.sk)))
			return 0;
		r.state = state;
		r.sock_ino = sk_ino(&tp->inet_conn.icsk_inet.sk);
		/* As in the task_file census: tcp_listendrop() counts here. */
		if (state == PW_TCP_LISTEN)
			r.drops = tp->inet_conn.icsk_inet.sk.sk_drops.counter;
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

SEC("iter/udp")
int pw_census_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct pw_sock r = {};
	struct sock *sk;

	if (!udp)
		return 0;
	sk = &udp->inet.sk;
	/* The UDP table also holds UDP-Lite sockets on kernels that still have them. */
	if (sk->sk_protocol != PW_PROTO_UDP || (unheld_only && held_by_file(sk)))
		return 0;
	if (!hash_sock(&sk->__sk_common, PW_PROTO_UDP, PW_ORIGIN_UDP_ITER, ctx->uid, &r) || !r.lport)
		return 0;
	r.state = sk->__sk_common.skc_state;
	r.sock_ino = sk_ino(sk);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
