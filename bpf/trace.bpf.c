// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Port events from tracepoints only: bind, listen, connect, accept, close.
 *
 * Hook choice (numbers in docs/HOOKS.md): the syscall tracepoints are the
 * only tracepoints that see a *failed* bind/listen/connect with its errno
 * (cgroup/bind4 runs before the bind and has no "after, failed" twin), so
 * they are needed anyway; once one syscall tracepoint is enabled every task
 * already takes the syscall slow path, and measured here the extra ones cost
 * nothing visible. sock:inet_sock_set_state (tp_btf, no tracefs needed)
 * gives what no syscall sees: the asynchronous outcome of a connect and the
 * end of a connection, in softirq context.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sock.bpf.h"
#include "owners.bpf.h"
#include "output.bpf.h"
#include "flows.bpf.h"
#include "portwatch.h"

#define PW_EAGAIN 11
#define PW_EISCONN 106
#define PW_EALREADY 114
#define PW_EINPROGRESS 115
#define PW_EADDRNOTAVAIL 99
#define PW_ECONNABORTED 103
#define PW_EEXIST 17
#define PW_AF_UNSPEC 0
#define PW_SA_MAX 28 /* sizeof(struct sockaddr_in6) */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Filters, fixed before load by the loader. */
const volatile struct pw_kfilter kfilter = {};

/*
 * Connect and connection-close records need per-connection bookkeeping
 * (connect arguments, owners, the non-blocking handoff). When the command
 * wants neither (watch, top), skip it all: it is most of what the programs
 * cost on a busy server.
 */
static __always_inline bool track_connections(void)
{
	return !kfilter.kinds || (kfilter.kinds & ((1 << PW_EV_CONNECT) | (1 << PW_EV_CLOSE)));
}

/*
 * Where the exit programs of bind, listen and connect find the syscall's
 * arguments. From v5.15 (bpf_task_pt_regs) in the task's saved user
 * registers, which these syscalls leave as they were: one program run per
 * call. Before it, the enter programs stash them by thread: a second run
 * and three hash operations, 0.3 us per connect here (docs/BENCHMARKS.md).
 * Set by the loader, which then leaves the enter programs unloaded.
 */
const volatile bool args_from_regs = false;

/* Syscall arguments from sys_enter_* to sys_exit_*, keyed by thread. */
struct call_args {
	__s32 fd;
	__u32 backlog;
	__u8 sa[PW_SA_MAX];
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192); /* threads inside bind/listen/connect at once */
	__type(key, __u64);
	__type(value, struct call_args);
} calls SEC(".maps");


/*
 * A non-blocking connect has two halves that race: sys_exit_connect
 * returning -EINPROGRESS and the SYN_SENT -> ESTABLISHED/CLOSE transition
 * (which on loopback can even run first, from release_sock()). Each half
 * inserts into this map with BPF_NOEXIST, which is atomic under the bucket
 * lock: whichever finds the other's entry is second and emits the one
 * connect record. Plain atomics would need v5.12 (BPF_FETCH).
 */
struct handoff {
	__s32 result;
	__u16 lport;
	__u16 pad;
	__u8 laddr[PW_ADDR_LEN]; /* tcp_disconnect() resets it on failure */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192); /* non-blocking connects awaiting their outcome */
	__type(key, __u64);
	__type(value, struct handoff);
} handoffs SEC(".maps");

/* TCP sockets bound by bind() and not connected or listening since (pw_destroy_sock). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096); /* at once; past it, the census sees the oldest go */
	__type(key, __u64);
	__type(value, __u8);
} bound_only SEC(".maps");

/* UDP sockets that took a port, for pw_sock_release (below). */
struct udp_port {
	__u32 netns;
	__u16 lport;
	__u8 family;
	__u8 pad;
	__u8 laddr[PW_ADDR_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192); /* UDP sockets holding a port we saw taken */
	__type(key, __u64);
	__type(value, struct udp_port);
} udp_ports SEC(".maps");

static __always_inline void remember_udp_port(const struct sock *sk, const struct pw_event *e)
{
	struct udp_port u = { .netns = e->netns, .lport = e->lport, .family = e->family };
	__u64 key = (__u64)sk;

	if (e->proto != PW_PROTO_UDP || !e->lport || !track_connections())
		return;
	__builtin_memcpy(u.laddr, e->laddr, sizeof(u.laddr));
	bpf_map_update_elem(&udp_ports, &key, &u, BPF_ANY);
}

static __always_inline bool pid_wanted(__u64 pid_tgid)
{
	return !kfilter.pid || (__u32)(pid_tgid >> 32) == kfilter.pid;
}

static __always_inline bool event_wanted(const struct pw_event *e)
{
	__u16 port = kfilter.port;

	if (kfilter.pid && e->pid != kfilter.pid)
		return false;
	if (kfilter.netns && e->netns != kfilter.netns)
		return false;
	if (kfilter.cgroup_id && e->cgroup_id != kfilter.cgroup_id)
		return false;
	if (kfilter.proto && e->proto != kfilter.proto)
		return false;
	if (port && e->lport != port && e->rport != port && e->req_port != port)
		return false;
	if (kfilter.failed_only && e->result >= 0)
		return false;
	/* watch and top need no connect or connection-close records. */
	if (kfilter.kinds && !(kfilter.kinds & (1 << e->kind)) &&
	    !(e->kind == PW_EV_CLOSE && (e->flags & PW_F_LISTENER) &&
	      (kfilter.kinds & PW_KIND_LISTENER_CLOSE)))
		return false;
	return true;
}

/* Send e unless the in-kernel filter drops it. */
static __always_inline void emit(struct pw_event *e)
{
	e->rec_type = PW_REC_EVENT;
	if (!event_wanted(e)) {
		count(PW_CNT_FILTERED);
		return;
	}
	pw_output(e, sizeof(*e));
}

static __always_inline void fill_task(struct pw_event *e)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->ts_ns = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

static __always_inline void fill_owner(struct pw_event *e, const struct sock_owner *o)
{
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = o->pid;
	e->tid = o->tid;
	e->uid = o->uid;
	e->cgroup_id = o->cgroup_id;
	e->flags |= o->flags;
	__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
}

static __always_inline void owner_from_task(struct sock_owner *o)
{
	__u64 id = bpf_get_current_pid_tgid();

	o->pid = id >> 32;
	o->tid = (__u32)id;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->cgroup_id = bpf_get_current_cgroup_id();
	o->flags = 0;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

/* owner_from_task() from a record fill_task() filled: four helper calls fewer. */
static __always_inline void owner_from_event(struct sock_owner *o, const struct pw_event *e)
{
	o->pid = e->pid;
	o->tid = e->tid;
	o->uid = e->uid;
	o->cgroup_id = e->cgroup_id;
	o->flags = 0;
	__builtin_memcpy(o->comm, e->comm, sizeof(o->comm));
}

/*
 * Decode the caller's sockaddr into addr/port in the socket's family.
 * A v4 sockaddr given to a v6 socket is an error the kernel reports; we
 * then leave the address zero. Returns the sockaddr's family.
 */
static __always_inline __u16 parse_sockaddr(const __u8 *sa, __u8 family, __u8 *addr, __u16 *port)
{
	__u16 sa_family = *(const __u16 *)sa;

	*port = ((__u16)sa[2] << 8) | sa[3];
	if (sa_family == PW_AF_INET && family == PW_AF_INET)
		__builtin_memcpy(addr, sa + 4, 4);
	else if (sa_family == PW_AF_INET6 && family == PW_AF_INET6)
		__builtin_memcpy(addr, sa + 8, 16);
	return sa_family;
}

/* Copy the caller's sockaddr; false if it is unreadable or not one we report. */
static __always_inline bool read_sockaddr(struct call_args *a, const void *uaddr)
{
	__u16 sa_family;

	/* addrlen may be shorter than sockaddr_in6 at a page end. */
	if (bpf_probe_read_user(a->sa, sizeof(a->sa), uaddr) && bpf_probe_read_user(a->sa, 16, uaddr))
		return false;
	sa_family = *(__u16 *)a->sa;
	/* AF_UNSPEC: "any" for bind, disconnect for connect. */
	return sa_family == PW_AF_INET || sa_family == PW_AF_INET6 || sa_family == PW_AF_UNSPEC;
}

static __always_inline int stash(__u64 fd, const void *uaddr, __u32 backlog)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call_args a = {};

	if (!pid_wanted(id))
		return 0;
	a.fd = (__s32)fd;
	a.backlog = backlog;
	if (uaddr && !read_sockaddr(&a, uaddr))
		return 0;
	if (bpf_map_update_elem(&calls, &id, &a, BPF_ANY))
		count(PW_CNT_STASH_FULL);
	return 0;
}

/*
 * The arguments of the syscall this thread is leaving (fd, then the
 * sockaddr or, without one, the backlog); false when it is not ours to
 * report or, before v5.15, when its enter program stashed nothing.
 */
static __always_inline bool exit_args(struct call_args *a, bool has_sockaddr)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call_args *p;
	struct pt_regs *regs;

	if (args_from_regs) {
		if (!pid_wanted(id))
			return false;
		regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		a->fd = (__s32)PT_REGS_PARM1_SYSCALL(regs);
		if (has_sockaddr)
			return read_sockaddr(a, (const void *)PT_REGS_PARM2_SYSCALL(regs));
		a->backlog = (__u32)PT_REGS_PARM2_SYSCALL(regs);
		return true;
	}
	p = bpf_map_lookup_elem(&calls, &id);
	if (!p)
		return false;
	__builtin_memcpy(a, p, sizeof(*a));
	bpf_map_delete_elem(&calls, &id);
	return true;
}

/*
 * The common start of a bind/listen/connect exit: take the syscall's
 * arguments, find their socket, and fill e with the caller and the result.
 * NULL when the call is not ours to report (no stash, not TCP/UDP over IP).
 */
static __always_inline struct sock *begin_exit(struct pw_event *e, struct call_args *a, __u8 kind,
					       long ret)
{
	struct sock *sk;

	if (!exit_args(a, kind != PW_EV_LISTEN))
		return NULL;
	sk = pw_fd_sock(a->fd, &e->sock_ino);
	if (!sk || !pw_sk_wanted(sk, &e->proto, &e->family))
		return NULL;
	fill_task(e);
	e->kind = kind;
	e->result = (__s32)ret;
	e->netns = pw_sk_netns(sk);
	return sk;
}

SEC("tp/syscalls/sys_enter_bind")
int pw_enter_bind(struct trace_event_raw_sys_enter *ctx)
{
	return stash(ctx->args[0], (const void *)ctx->args[1], 0);
}

SEC("tp/syscalls/sys_exit_bind")
int pw_exit_bind(struct trace_event_raw_sys_exit *ctx)
{
	struct pw_event e = {};
	struct call_args a = {};
	__u8 one = 1;
	__u64 key;
	struct sock *sk = begin_exit(&e, &a, PW_EV_BIND, ctx->ret);

	if (!sk)
		return 0;
	parse_sockaddr(a.sa, e.family, e.req_addr, &e.req_port);
	if (e.result == 0) {
		pw_sk_endpoints(sk, e.family, e.laddr, &e.lport, e.raddr, &e.rport);
		e.rport = 0;
		if (e.proto == PW_PROTO_TCP && track_connections()) {
			key = (__u64)sk;
			bpf_map_update_elem(&bound_only, &key, &one, BPF_ANY);
		}
		remember_udp_port(sk, &e);
	} else {
		__builtin_memcpy(e.laddr, e.req_addr, sizeof(e.laddr));
		e.lport = e.req_port;
	}
	emit(&e);
	return 0;
}

SEC("tp/syscalls/sys_enter_listen")
int pw_enter_listen(struct trace_event_raw_sys_enter *ctx)
{
	return stash(ctx->args[0], NULL, (__u32)ctx->args[1]);
}

SEC("tp/syscalls/sys_exit_listen")
int pw_exit_listen(struct trace_event_raw_sys_exit *ctx)
{
	struct pw_event e = {};
	struct call_args a = {};
	struct sock *sk = begin_exit(&e, &a, PW_EV_LISTEN, ctx->ret);

	if (!sk)
		return 0;
	e.backlog = a.backlog;
	/* listen() on an unbound socket binds a port itself: read it now. */
	pw_sk_endpoints(sk, e.family, e.laddr, &e.lport, e.raddr, &e.rport);
	e.rport = 0;
	emit(&e);
	return 0;
}

SEC("tp/syscalls/sys_enter_connect")
int pw_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	if (!track_connections())
		return 0;
	return stash(ctx->args[0], (const void *)ctx->args[1], 0);
}

SEC("tp/syscalls/sys_exit_connect")
int pw_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	struct pw_event e = {};
	struct handoff h = {}, *hp;
	struct call_args a = {};
	struct sock *sk;
	__u64 key;

	if (!track_connections())
		return 0;
	sk = begin_exit(&e, &a, PW_EV_CONNECT, ctx->ret);
	if (!sk)
		return 0;
	if (parse_sockaddr(a.sa, e.family, e.raddr, &e.rport) == PW_AF_UNSPEC)
		return 0; /* UDP disconnect, not a connection */
	e.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	pw_sk_laddr(sk, e.family, e.laddr);

	if (e.proto == PW_PROTO_UDP && !e.result)
		remember_udp_port(sk, &e); /* connect() binds an unbound UDP socket */
	if (e.proto == PW_PROTO_TCP) {
		key = (__u64)sk;
		/* Re-asking about a connect already under way starts nothing. */
		if (e.result == -PW_EALREADY || e.result == -PW_EISCONN)
			return 0;
		if (e.result == -PW_EINPROGRESS) {
			if (!bpf_map_update_elem(&handoffs, &key, &h, BPF_NOEXIST))
				return 0; /* the state change will report it */
			hp = bpf_map_lookup_elem(&handoffs, &key);
			if (!hp)
				return 0;
			e.result = hp->result;
			e.lport = hp->lport;
			e.flags |= PW_F_ASYNC;
			__builtin_memcpy(e.laddr, hp->laddr, sizeof(e.laddr));
		} else if (e.result < 0) {
			/* A failed connect has released its port and address already. */
			hp = bpf_map_lookup_elem(&handoffs, &key);
			if (hp) {
				e.lport = hp->lport;
				__builtin_memcpy(e.laddr, hp->laddr, sizeof(e.laddr));
			}
		}
		bpf_map_delete_elem(&handoffs, &key);
	}
	emit(&e);
	return 0;
}

/*
 * accept/accept4 need no enter hook: the new fd is the return value.
 * EAGAIN from event loops polling an empty queue is not an event.
 */
static __always_inline int on_accept_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pw_event e = {};
	struct sock_owner *o, fresh = {};
	struct pt_regs *regs;
	struct sock *sk;
	__u64 key;

	if (!pid_wanted(id) || ret == -PW_EAGAIN)
		return 0;
	fill_task(&e);
	e.kind = PW_EV_ACCEPT;
	e.result = ret < 0 ? (__s32)ret : 0;
	if (ret < 0) {
		/*
		 * The listening fd is the syscall's first argument, still in the
		 * task's saved registers at exit (bpf_task_pt_regs, v5.15). Older
		 * kernels: failed accepts are not reported rather than guessed.
		 */
		if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs))
			return 0;
		regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		sk = pw_fd_sock((int)PT_REGS_PARM1_CORE_SYSCALL(regs), &e.sock_ino);
		if (!sk || !pw_sk_wanted(sk, &e.proto, &e.family) || e.proto != PW_PROTO_TCP)
			return 0;
		e.netns = pw_sk_netns(sk);
		pw_sk_endpoints(sk, e.family, e.laddr, &e.lport, e.raddr, &e.rport);
		e.rport = 0;
		emit(&e);
		return 0;
	}
	sk = pw_fd_sock((int)ret, &e.sock_ino);
	if (!sk || !pw_sk_wanted(sk, &e.proto, &e.family))
		return 0;
	e.netns = pw_sk_netns(sk);
	pw_sk_endpoints(sk, e.family, e.laddr, &e.lport, e.raddr, &e.rport);
	/* Name the owner of the connection for its close record. */
	if (!track_connections())
		goto out;
	key = (__u64)sk;
	o = bpf_map_lookup_elem(&owners, &key);
	if (o) {
		owner_from_event(o, &e);
		o->flags = PW_F_ACCEPTED;
	} else {
		owner_from_event(&fresh, &e);
		fresh.start_ns = e.ts_ns;
		fresh.flags = PW_F_NO_LIFETIME | PW_F_ACCEPTED;
		bpf_map_update_elem(&owners, &key, &fresh, BPF_ANY);
	}
out:
	emit(&e);
	return 0;
}

SEC("tp/syscalls/sys_exit_accept")
int pw_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_accept4")
int pw_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_exit(ctx->ret);
}

/*
 * sendto()/sendmsg()/sendmmsg() on an unbound UDP socket bind it to an
 * ephemeral port first (inet_send_prepare() -> inet_autobind()), and fail
 * with EAGAIN when the namespace's UDP pool is empty. These hooks are the
 * only sight of that pool's allocations and failures. Every send pays one
 * fd lookup at entry; only unbound UDP sockets are carried to the exit.
 */
struct autobind {
	__u64 sk;
	__s32 fd;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096); /* threads sending on an unbound UDP socket at once */
	__type(key, __u64);
	__type(value, struct autobind);
} autobinds SEC(".maps");

static __always_inline int autobind_enter(__u64 fd)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct autobind a = { .fd = (__s32)fd };
	__u8 proto, family;
	struct sock *sk;

	if ((kfilter.kinds && !(kfilter.kinds & (1 << PW_EV_BIND))) || !pid_wanted(id))
		return 0;
	sk = pw_fd_sock(a.fd, NULL);
	if (!sk || !pw_sk_wanted(sk, &proto, &family) || proto != PW_PROTO_UDP ||
	    BPF_CORE_READ(sk, __sk_common.skc_num))
		return 0;
	a.sk = (__u64)sk;
	if (bpf_map_update_elem(&autobinds, &id, &a, BPF_ANY))
		count(PW_CNT_STASH_FULL);
	return 0;
}

/* A bind record for the port the send took, or for the EAGAIN it got. */
static __always_inline int autobind_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pw_event e = {};
	struct autobind *a;
	struct sock *sk;
	__s32 fd;

	a = bpf_map_lookup_elem(&autobinds, &id);
	if (!a)
		return 0;
	fd = a->fd;
	sk = pw_fd_sock(fd, &e.sock_ino);
	bpf_map_delete_elem(&autobinds, &id);
	/* Another thread may have closed the fd meanwhile: then say nothing. */
	if (!sk || (__u64)sk != a->sk || !pw_sk_wanted(sk, &e.proto, &e.family))
		return 0;
	pw_sk_endpoints(sk, e.family, e.laddr, &e.lport, e.raddr, &e.rport);
	e.rport = 0;
	__builtin_memset(e.raddr, 0, sizeof(e.raddr));
	/* A send may fail after the autobind (ENETUNREACH...): the port stays bound. */
	if (e.lport)
		e.result = 0;
	else if (ret == -PW_EAGAIN)
		e.result = -PW_EAGAIN;
	else
		return 0;
	fill_task(&e);
	e.kind = PW_EV_BIND;
	e.flags |= PW_F_AUTOBIND;
	e.netns = pw_sk_netns(sk);
	if (!e.result)
		remember_udp_port(sk, &e);
	emit(&e);
	return 0;
}

SEC("tp/syscalls/sys_enter_sendto")
int pw_enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
	return autobind_enter(ctx->args[0]);
}

SEC("tp/syscalls/sys_exit_sendto")
int pw_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	return autobind_exit(ctx->ret);
}

SEC("tp/syscalls/sys_enter_sendmsg")
int pw_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	return autobind_enter(ctx->args[0]);
}

SEC("tp/syscalls/sys_exit_sendmsg")
int pw_exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	return autobind_exit(ctx->ret);
}

SEC("tp/syscalls/sys_enter_sendmmsg")
int pw_enter_sendmmsg(struct trace_event_raw_sys_enter *ctx)
{
	return autobind_enter(ctx->args[0]);
}

SEC("tp/syscalls/sys_exit_sendmmsg")
int pw_exit_sendmmsg(struct trace_event_raw_sys_exit *ctx)
{
	return autobind_exit(ctx->ret);
}

/*
 * A connect that failed gave back a port connect() chose, but not one
 * bind() chose (SOCK_BINDPORT_LOCK): that one stays held until the socket
 * is closed, which only tcp_destroy_sock will show. bind(addr, 0) sets no
 * lock, and its port went back with the failure (the pools drop it then).
 */
#define PW_SOCK_BINDPORT_LOCK 8

static __always_inline void keep_bound_port(struct sock *sk, __u64 key)
{
	__u8 one = 1;

	if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_userlocks) & PW_SOCK_BINDPORT_LOCK)
		bpf_map_update_elem(&bound_only, &key, &one, BPF_ANY);
}

/*
 * No tracepoint shows a UDP socket's end. cgroup/sock_release (v5.9),
 * attached to the root cgroup by the loader, runs for every inet socket
 * released below it, but may read no address or port of it: so the bind,
 * autobind and connect hooks remember each UDP socket they saw take a
 * port, keyed by its struct sock, and the release looks it up (the ctx is
 * that struct sock; using its address as a key needs the root privileges
 * portwatch runs with). A socket-per-query client (DNS resolvers) then
 * gives its ports back at once, not at the next census.
 */
SEC("cgroup/sock_release")
int pw_sock_release(struct bpf_sock *ctx)
{
	struct pw_event e = {};
	struct udp_port *u;
	__u64 key = (__u64)ctx;

	if (ctx->protocol != PW_PROTO_UDP)
		return 1;
	u = bpf_map_lookup_elem(&udp_ports, &key);
	if (!u)
		return 1;
	fill_task(&e);
	e.kind = PW_EV_CLOSE;
	e.proto = PW_PROTO_UDP;
	e.family = u->family;
	e.flags = PW_F_NO_LIFETIME;
	e.netns = u->netns;
	e.lport = u->lport;
	__builtin_memcpy(e.laddr, u->laddr, sizeof(e.laddr));
	bpf_map_delete_elem(&udp_ports, &key);
	emit(&e);
	return 1;
}

/* The one connect record of a connect whose syscall returned first. */
static __always_inline void connect_outcome(struct sock *sk, __u64 key, int newstate)
{
	struct handoff h = {};
	struct sock_owner *o;
	struct pw_event e = {};
	int err;

	h.lport = pw_sk_sport(sk);
	pw_sk_laddr(sk, sk->__sk_common.skc_family, h.laddr);
	if (newstate == PW_TCP_ESTABLISHED) {
		h.result = 0;
	} else {
		/* tcp_reset()/tcp_write_err() set sk_err before tcp_done(). */
		err = sk->sk_err;
		if (err)
			h.result = -err;
		else
			h.result = h.lport ? -PW_ECONNABORTED : -PW_EADDRNOTAVAIL;
	}
	/*
	 * Compare as int: the map helpers returned int until they were made to
	 * return long (v6.4, patch series of March 2023); on 6.1 -EEXIST comes
	 * back without sign extension, a 64-bit compare never matched, and every
	 * asynchronous connect timeout was lost (found by make test-kernels;
	 * libbpf-tools' maps.bpf.h keeps these results in an int for the same
	 * reason).
	 */
	if ((int)bpf_map_update_elem(&handoffs, &key, &h, BPF_NOEXIST) != -PW_EEXIST)
		return; /* first: sys_exit_connect will report */

	if (!pw_sk_wanted(sk, &e.proto, &e.family))
		goto out;
	o = bpf_map_lookup_elem(&owners, &key);
	if (o)
		fill_owner(&e, o);
	else
		e.flags |= PW_F_NO_OWNER;
	e.ts_ns = bpf_ktime_get_ns();
	e.kind = PW_EV_CONNECT;
	e.flags |= PW_F_ASYNC;
	e.result = h.result;
	e.netns = pw_sk_netns(sk);
	pw_sk_endpoints(sk, e.family, e.laddr, &e.lport, e.raddr, &e.rport);
	e.lport = h.lport;
	__builtin_memcpy(e.laddr, h.laddr, sizeof(e.laddr));
	emit(&e);
out:
	bpf_map_delete_elem(&handoffs, &key);
}

/* unbound_end: a bound-only socket's end (tcp_destroy_sock): no remote, whatever is left in sk. */
static __always_inline void close_event(struct sock *sk, __u64 key, int oldstate, bool unbound_end)
{
	struct pw_event e = {};
	struct sock_owner *o;

	if (!pw_sk_wanted(sk, &e.proto, &e.family))
		return;
	o = bpf_map_lookup_elem(&owners, &key);
	/*
	 * The server's end of a connection took no port of its own: watch and
	 * top (no PW_KIND_ACCEPTED_CLOSE) need only the closes that give one
	 * back. Half the closes of a busy server never reach the ring.
	 */
	if (o && (o->flags & PW_F_ACCEPTED) && kfilter.kinds &&
	    !(kfilter.kinds & PW_KIND_ACCEPTED_CLOSE)) {
		bpf_map_delete_elem(&owners, &key);
		count(PW_CNT_FILTERED);
		return;
	}
	if (oldstate == PW_TCP_CLOSE) {
		/* Only tcp_close() goes CLOSE -> CLOSE: the caller owns it. */
		fill_task(&e);
		e.flags |= PW_F_NO_LIFETIME;
		if (o)
			bpf_map_delete_elem(&owners, &key);
	} else if (o) {
		fill_owner(&e, o);
		e.lifetime_ns = e.ts_ns - o->start_ns;
		bpf_map_delete_elem(&owners, &key);
	} else {
		e.ts_ns = bpf_ktime_get_ns();
		e.flags |= PW_F_NO_OWNER | PW_F_NO_LIFETIME;
	}
	if (oldstate == PW_TCP_LISTEN)
		e.flags |= PW_F_LISTENER;
	/*
	 * tcp_time_wait() ends the full socket with tcp_done() from FIN_WAIT2
	 * or CLOSING and leaves a timewait socket on the 4-tuple for 60 s, which
	 * no tracepoint reports. The same states also end by a reset (sk_err
	 * set by tcp_reset()) with no TIME_WAIT. Rarer endings (FIN_WAIT2
	 * timeout, tcp_max_tw_buckets) are put right by the per-netns census.
	 */
	if ((oldstate == PW_TCP_FIN_WAIT2 || oldstate == PW_TCP_CLOSING) && !sk->sk_err)
		e.flags |= PW_F_TIME_WAIT;
	e.kind = PW_EV_CLOSE;
	e.netns = pw_sk_netns(sk);
	pw_sk_endpoints(sk, e.family, e.laddr, &e.lport, e.raddr, &e.rport);
	e.lport = pw_sk_sport(sk);
	if (unbound_end) {
		/* A failed connect can leave its destination in sk; it was never connected. */
		__builtin_memset(e.raddr, 0, sizeof(e.raddr));
		e.rport = 0;
	}
	emit(&e);
}

static __always_inline bool is_v4mapped(const __u8 *a)
{
	return !a[0] && !a[1] && !a[2] && !a[3] && !a[4] && !a[5] && !a[6] && !a[7] && !a[8] && !a[9] &&
	       a[10] == 0xff && a[11] == 0xff;
}

/*
 * A completed passive open is the scan detector's "success": the source
 * reached a real service. Count it in the source's flow; the first one
 * is reported (a connect scan of an open port looks like this).
 */
static __always_inline void handshake_done(struct sock *sk, __u64 now)
{
	struct pw_flow_key k = { .proto = PW_PROTO_TCP };
	struct pw_inbound r = {};
	struct pw_flow *f;
	__u16 rport;

	if (!pw_sk_wanted(sk, &r.proto, &k.family))
		return;
	k.netns = pw_sk_netns(sk);
	pw_sk_endpoints(sk, k.family, k.laddr, &k.lport, k.raddr, &rport);
	/*
	 * A v6 socket on :: accepting an IPv4 peer holds ::ffff:a.b.c.d; the
	 * packet hooks key that flow as IPv4. Use their key.
	 */
	if (k.family == PW_AF_INET6 && is_v4mapped(k.raddr) && is_v4mapped(k.laddr)) {
		k.family = PW_AF_INET;
		__builtin_memmove(k.laddr, k.laddr + 12, 4);
		__builtin_memset(k.laddr + 4, 0, 12);
		__builtin_memmove(k.raddr, k.raddr + 12, 4);
		__builtin_memset(k.raddr + 4, 0, 12);
	}
	f = flow_entry(&k, rport, now, PW_BUCKET_OUTCOME, NULL);
	if (!f)
		return;
	f->last_ns = now;
	if (f->handshakes++ || !first_token(PW_BUCKET_OUTCOME, now))
		return;
	r.rec_type = PW_REC_INBOUND;
	r.kind = PW_EV_SYN;
	r.probe = PW_PROBE__MAX;
	r.fate = PW_FATE__MAX;
	r.flags = PW_IN_HANDSHAKE;
	r.family = k.family;
	r.lport = k.lport;
	r.rport = rport;
	r.netns = k.netns;
	r.ts_ns = now;
	__builtin_memcpy(r.laddr, k.laddr, sizeof(r.laddr));
	__builtin_memcpy(r.raddr, k.raddr, sizeof(r.raddr));
	pw_output(&r, sizeof(r));
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(pw_set_state, struct sock *sk, int oldstate, int newstate)
{
	struct sock_owner o = {};
	__u64 key = (__u64)sk;

	/*
	 * A plain load from the BTF pointer, not a probe read: this runs 6 times
	 * per connection. Not everywhere, though: loading every field this way
	 * made the verifier take 7 times as long on these programs, 100 ms more
	 * at start-up for 0.25 us less per connection (docs/BENCHMARKS.md).
	 */
	if (sk->sk_protocol != PW_PROTO_TCP)
		return 0;

	if (newstate == PW_TCP_SYN_SENT && !track_connections()) {
		return 0;
	} else if (newstate == PW_TCP_SYN_SENT || newstate == PW_TCP_LISTEN) {
		/* connect()/listen(): process context, the caller owns it. */
		/*
		 * From here its end is a state change of its own. Only a socket
		 * bound before has a port yet (connect() takes one after this
		 * change): an unbound one cannot be in bound_only, and skipping
		 * the delete saves a hash operation per connect.
		 */
		if (sk->__sk_common.skc_num)
			bpf_map_delete_elem(&bound_only, &key);
		if (!pid_wanted(bpf_get_current_pid_tgid()))
			return 0;
		owner_from_task(&o);
		o.start_ns = bpf_ktime_get_ns();
		bpf_map_update_elem(&owners, &key, &o, BPF_ANY);
		if (newstate == PW_TCP_SYN_SENT)
			bpf_map_delete_elem(&handoffs, &key);
	} else if (oldstate == PW_TCP_SYN_SENT &&
		   (newstate == PW_TCP_ESTABLISHED || newstate == PW_TCP_CLOSE)) {
		if (!track_connections())
			return 0;
		connect_outcome(sk, key, newstate);
		if (newstate == PW_TCP_CLOSE) {
			bpf_map_delete_elem(&owners, &key);
			keep_bound_port(sk, key);
		}
	} else if (oldstate == PW_TCP_SYN_RECV && newstate == PW_TCP_ESTABLISHED) {
		/* Passive open, softirq: the owner is known at accept(). */
		o.start_ns = bpf_ktime_get_ns();
		o.flags = PW_F_NO_OWNER | PW_F_ACCEPTED;
		if (track_connections())
			bpf_map_update_elem(&owners, &key, &o, BPF_ANY);
		handshake_done(sk, o.start_ns);
	} else if (newstate == PW_TCP_CLOSE && oldstate != PW_TCP_CLOSE &&
		   (track_connections() || oldstate == PW_TCP_LISTEN)) {
		close_event(sk, key, oldstate, false);
	}
	return 0;
}

/*
 * A TCP socket bound and then closed without connect() or listen() never
 * changes state: tcp_close() of a socket in CLOSE goes straight to its
 * destruction, and the port bind() took goes back to the pool unseen by
 * inet_sock_set_state. tcp:tcp_destroy_sock fires there, before the port
 * is put back. Only sockets still in this map (bound by a bind() we saw,
 * not connected or listening since) are reported: every other socket's
 * end was reported already, at its last state change.
 */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(pw_destroy_sock, struct sock *sk)
{
	__u64 key = (__u64)sk;

	if (!bpf_map_lookup_elem(&bound_only, &key))
		return 0;
	bpf_map_delete_elem(&bound_only, &key);
	if (sk->__sk_common.skc_num)
		close_event(sk, key, PW_TCP_CLOSE, true);
	return 0;
}
