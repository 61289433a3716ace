// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Empty hooks for measuring what attaching a hook costs by itself: every
 * program only increments its own per-CPU counter (raw_tp/sys_* first filter
 * by syscall number, the way a generic syscall hook has to). hookload.c picks
 * one group of them, loads and attaches it.
 *
 *   clang -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Ivmlinux/x86 \
 *         -c tools/bench/hooks/hooks.bpf.c -o build-bench/hooks/hooks.bpf.o
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hooks.h"

/* x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
#define NR_connect 42
#define NR_accept 43
#define NR_bind 49
#define NR_listen 50
#define NR_accept4 288

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, H__MAX);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &idx);

	if (v)
		(*v)++;
}

static __always_inline bool wanted_nr(long nr)
{
	return nr == NR_connect || nr == NR_bind || nr == NR_listen || nr == NR_accept ||
	       nr == NR_accept4;
}

/* Classic syscall tracepoints (perf-event attachment, need tracefs). */
#define SYS_TP(name, tp, idx)        \
	SEC("tp/syscalls/" #tp)     \
	int name(void *ctx)          \
	{                            \
		count(idx);          \
		return 0;            \
	}

SYS_TP(sys_enter_conn, sys_enter_connect, H_ENTER_CONNECT)
SYS_TP(sys_exit_conn, sys_exit_connect, H_EXIT_CONNECT)
SYS_TP(sys_enter_bind, sys_enter_bind, H_ENTER_BIND)
SYS_TP(sys_exit_bind, sys_exit_bind, H_EXIT_BIND)
SYS_TP(sys_enter_lstn, sys_enter_listen, H_ENTER_LISTEN)
SYS_TP(sys_exit_lstn, sys_exit_listen, H_EXIT_LISTEN)
SYS_TP(sys_enter_acc4, sys_enter_accept4, H_ENTER_ACCEPT4)
SYS_TP(sys_exit_acc4, sys_exit_accept4, H_EXIT_ACCEPT4)
SYS_TP(sys_exit_acc, sys_exit_accept, H_EXIT_ACCEPT)
/* A syscall the load never makes: what turning syscall tracing on costs alone. */
SYS_TP(sys_enter_ppid, sys_enter_getppid, H_ENTER_GETPPID)
SYS_TP(sys_exit_ppid, sys_exit_getppid, H_EXIT_GETPPID)

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	count(H_SET_STATE);
	return 0;
}

/* Generic syscall hooks: run for every syscall of every task. */
SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (wanted_nr((long)ctx->args[1]))
		count(H_RAW_ENTER);
	return 0;
}

SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];

	/* sys_exit has no id argument: read orig_ax from the saved registers. */
	if (wanted_nr(BPF_CORE_READ(regs, orig_ax)))
		count(H_RAW_EXIT);
	return 0;
}

/* cgroup v2 socket hooks: 1 = allow. */
SEC("cgroup/connect4")
int cg_connect4(struct bpf_sock_addr *ctx)
{
	count(H_CG_CONNECT4);
	return 1;
}

SEC("cgroup/bind4")
int cg_bind4(struct bpf_sock_addr *ctx)
{
	count(H_CG_BIND4);
	return 1;
}

SEC("cgroup/post_bind4")
int cg_post_bind4(struct bpf_sock *sk)
{
	count(H_CG_POST_BIND4);
	return 1;
}
