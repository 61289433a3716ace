/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every kernel-compatibility shim portwatch needs, in one place, each with
 * the kernel change that made it necessary (___flavour structs for fields
 * that moved, bpf_core_*_exists() checks for ones that appeared).
 *
 * The fields read so far have kept their names and types from v5.8 (the
 * oldest kernel portwatch supports: BPF ring buffer) to v6.18:
 *   task_struct.{files,nsproxy}, files_struct.fdt, fdtable.{fd,max_fds},
 *   file.{f_inode,private_data}, inode.{i_mode,i_ino}, socket.sk,
 *   sock_common.{skc_family,skc_state,skc_num,skc_dport,skc_daddr,
 *   skc_rcv_saddr,skc_v6_*,skc_net}, sock.{sk_protocol,sk_err},
 *   net.ns.inum, and the syscall tracepoint contexts.
 * sk_protocol became a plain __u16 in v5.6 (commit bf9765145b85), before
 * our floor, so it needs no bitfield read.
 */
#ifndef PW_CORE_FIXES_BPF_H
#define PW_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

#endif /* PW_CORE_FIXES_BPF_H */
