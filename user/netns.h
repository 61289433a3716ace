/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Network namespaces: step the calling thread into another one (to create
 * an iter/tcp iterator there, or to read its sysctls) and back, and read
 * the sysctls that shape its ephemeral-port pool. Nothing here prints.
 */
#ifndef PW_NETNS_H
#define PW_NETNS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The inode of the network namespace portwatch itself runs in. Read once
 * and cached: pw_netns_enter() reads it before it moves the thread.
 * 0 if /proc is not mounted.
 */
uint32_t pw_netns_self(void);
/*
 * Move the calling thread into the network namespace whose inode is netns,
 * through /proc/PID/ns/net of one of the candidate pids (the inode is
 * checked: a pid may have died or moved). No pid is needed when the thread
 * is there already (pw_netns_self(), usually). Returns an fd to pass to
 * pw_netns_leave(), or -errno: -ESRCH when no candidate was in that
 * namespace, -EACCES/-EPERM when the only ones that were could not be
 * entered. On error the thread has not moved.
 */
int pw_netns_enter(uint32_t netns, const uint32_t *pids, size_t npids);
/*
 * Some process in the network namespace whose inode is netns, found by
 * walking /proc (a few ms on a host with thousands of processes: for a
 * namespace no caller knows a pid of). Returns 0 with *pid set, -ESRCH
 * when no process is in it, or -errno when /proc cannot be read.
 */
int pw_netns_find_pid(uint32_t netns, uint32_t *pid);
/*
 * Return to the namespace saved by pw_netns_enter() and close the fd.
 * Returns 0 or -errno (the thread then stays where it is).
 */
int pw_netns_leave(int saved_fd);

struct pw_port_range {
	uint16_t lo, hi;            /* net.ipv4.ip_local_port_range */
	uint8_t tw_reuse;           /* net.ipv4.tcp_tw_reuse (0, 1, 2 = loopback only) */
	uint32_t reserved_in_range; /* how many ports of [lo, hi] are in ip_local_reserved_ports */
	uint64_t reserved[1024];    /* bitmap of ip_local_reserved_ports, bit p = port p */
};

/* Read the sysctls of the namespace the calling thread is in now. Returns 0 or -errno. */
int pw_netns_read_ports(struct pw_port_range *r);
/*
 * Parse "8080,9000-9100" (ip_local_reserved_ports syntax; empty means
 * none) into r->reserved, replacing it, and count r->reserved_in_range
 * against r->lo..r->hi. Returns 0, or -EINVAL with no port reserved.
 */
int pw_netns_parse_reserved(const char *text, struct pw_port_range *r);

/*
 * TIME_WAIT sockets of the namespace the calling thread is in now, and
 * orphaned TCP sockets of the whole host (the kernel keeps no per-namespace
 * orphan count), from /proc/thread-self/net/sockstat. Returns 0 or -errno.
 */
int pw_netns_read_sockstat(uint32_t *tcp_tw, uint32_t *tcp_orphans);

#endif /* PW_NETNS_H */
