/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared by hooks.bpf.c and hookload.c: one per-CPU counter slot per
 * program. HOOK(enum, C function name = BPF program name)
 */
#ifndef BENCH_HOOKS_H
#define BENCH_HOOKS_H

#define HOOK_LIST                           \
	HOOK(H_ENTER_CONNECT, sys_enter_conn) \
	HOOK(H_EXIT_CONNECT, sys_exit_conn)   \
	HOOK(H_ENTER_BIND, sys_enter_bind)    \
	HOOK(H_EXIT_BIND, sys_exit_bind)      \
	HOOK(H_ENTER_LISTEN, sys_enter_lstn)  \
	HOOK(H_EXIT_LISTEN, sys_exit_lstn)    \
	HOOK(H_ENTER_ACCEPT4, sys_enter_acc4) \
	HOOK(H_EXIT_ACCEPT4, sys_exit_acc4)   \
	HOOK(H_EXIT_ACCEPT, sys_exit_acc)     \
	HOOK(H_ENTER_GETPPID, sys_enter_ppid) \
	HOOK(H_EXIT_GETPPID, sys_exit_ppid)   \
	HOOK(H_SET_STATE, set_state)          \
	HOOK(H_RAW_ENTER, raw_enter)          \
	HOOK(H_RAW_EXIT, raw_exit)            \
	HOOK(H_CG_CONNECT4, cg_connect4)      \
	HOOK(H_CG_BIND4, cg_bind4)            \
	HOOK(H_CG_POST_BIND4, cg_post_bind4)

enum hook_idx {
#define HOOK(e, n) e,
	HOOK_LIST
#undef HOOK
	H__MAX
};

#endif
