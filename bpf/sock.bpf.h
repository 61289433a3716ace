/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Socket helpers shared by every BPF object: resolve an fd of the current
 * task to its struct sock, and copy a socket's identity into a record.
 */
#ifndef PW_SOCK_BPF_H
#define PW_SOCK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "core_fixes.bpf.h"
#include "portwatch.h"

#define PW_S_IFMT 00170000
#define PW_S_IFSOCK 0140000

/* The struct sock behind a struct file, or NULL if it is not a socket. */
static __always_inline struct sock *pw_file_sock(struct file *file, __u64 *ino)
{
	struct inode *inode;
	struct socket *sock;
	umode_t mode;

	if (!file)
		return NULL;
	inode = BPF_CORE_READ(file, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	if ((mode & PW_S_IFMT) != PW_S_IFSOCK)
		return NULL;
	if (ino)
		*ino = BPF_CORE_READ(inode, i_ino);
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

/*
 * The struct sock behind fd in the current task's file table, or NULL.
 * Syscall tracepoints give only the fd; reading the table here is what
 * the kernel's own fdget() does, minus the reference (we only read).
 */
static __always_inline struct sock *pw_fd_sock(int fd, __u64 *ino)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return pw_file_sock(file, ino);
}

/* TCP or UDP over IPv4/IPv6: the only sockets portwatch reports. */
static __always_inline bool pw_sk_wanted(const struct sock *sk, __u8 *proto, __u8 *family)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 p = BPF_CORE_READ(sk, sk_protocol);

	if (fam != PW_AF_INET && fam != PW_AF_INET6)
		return false;
	if (p != PW_PROTO_TCP && p != PW_PROTO_UDP)
		return false;
	*proto = p;
	*family = fam;
	return true;
}

static __always_inline __u32 pw_sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline __u32 pw_task_netns(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();

	return BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
}

/* The socket's bound address; IPv4 fills 4 bytes. */
static __always_inline void pw_sk_laddr(const struct sock *sk, __u8 family, __u8 *laddr)
{
	if (family == PW_AF_INET)
		BPF_CORE_READ_INTO((__u32 *)laddr, sk, __sk_common.skc_rcv_saddr);
	else
		BPF_CORE_READ_INTO((struct in6_addr *)laddr, sk, __sk_common.skc_v6_rcv_saddr);
}

/* Local and remote endpoints of sk; IPv4 addresses fill 4 bytes. */
static __always_inline void pw_sk_endpoints(const struct sock *sk, __u8 family, __u8 *laddr,
					    __u16 *lport, __u8 *raddr, __u16 *rport)
{
	pw_sk_laddr(sk, family, laddr);
	if (family == PW_AF_INET)
		BPF_CORE_READ_INTO((__u32 *)raddr, sk, __sk_common.skc_daddr);
	else
		BPF_CORE_READ_INTO((struct in6_addr *)raddr, sk, __sk_common.skc_v6_daddr);
	*lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	*rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

/*
 * The local port from inet_sport, which the kernel leaves in place when
 * the socket leaves its bind bucket (skc_num is zeroed by then on 6.x when
 * sock:inet_sock_set_state reports CLOSE). The tracepoint's own sport field
 * is read from here too.
 */
static __always_inline __u16 pw_sk_sport(const struct sock *sk)
{
	const struct inet_sock *inet = (const void *)sk;

	return bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
}

#endif /* PW_SOCK_BPF_H */
