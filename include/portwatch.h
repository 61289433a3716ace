/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Records shared by the BPF programs (bpf/) and the loader (user/).
 *
 * This header includes nothing: the BPF side sees it after vmlinux.h, the
 * userspace side after <linux/types.h>, and both agree on __u8..__u64.
 * Every record starts with a __u16 type tag so that one ring buffer (or one
 * iterator stream) can carry several kinds; every size is asserted below so
 * that a layout change on one side fails the build instead of garbling data.
 */
#ifndef PORTWATCH_H
#define PORTWATCH_H

#define PW_COMM_LEN 16
#define PW_ADDR_LEN 16 /* IPv4 uses the first 4 bytes, network order */

/* Record type tags: the first __u16 of every record. */
enum pw_rec_type {
	PW_REC_EVENT = 1, /* struct pw_event, ring buffer */
	PW_REC_SOCK = 2,  /* struct pw_sock, census iterator */
	PW_REC_INBOUND = 3, /* struct pw_inbound, ring buffer */
};

/* Event kinds (pw_event.kind); names in user/decode.c. */
enum pw_event_kind {
	PW_EV_BIND = 1,
	PW_EV_LISTEN,
	PW_EV_CONNECT,
	PW_EV_ACCEPT,
	PW_EV_CLOSE,
	PW_EV_SYN,
	PW_EV_PROBE,
	PW_EV_RESET,
	PW_EV__MAX,
};

enum pw_proto {
	PW_PROTO_TCP = 6,  /* IPPROTO_TCP */
	PW_PROTO_UDP = 17, /* IPPROTO_UDP */
};

/* Address families use the kernel's numbers. */
#define PW_AF_INET 2
#define PW_AF_INET6 10

/* pw_event.flags */
enum pw_event_flags {
	PW_F_ASYNC = 1 << 0,       /* connect outcome arrived after the syscall returned */
	PW_F_NO_OWNER = 1 << 1,    /* the socket predates portwatch: pid/comm unknown */
	PW_F_NO_LIFETIME = 1 << 2, /* close of a socket whose start was not seen */
	PW_F_LISTENER = 1 << 3,    /* close of a listening socket */
	PW_F_TIME_WAIT = 1 << 4,   /* close that left a TIME_WAIT socket on the 4-tuple (60 s) */
	PW_F_AUTOBIND = 1 << 5,    /* bind done by sendto()/sendmsg() on an unbound UDP socket */
	PW_F_ACCEPTED = 1 << 6,    /* close of a connection accept() gave (the server's side) */
};

/*
 * One port event. Addresses are in network byte order, ports in host order.
 * For bind, req_addr/req_port are what the caller asked for and
 * laddr/lport what the kernel bound (lport is the kernel's choice for port 0).
 */
struct pw_event {
	__u16 rec_type; /* PW_REC_EVENT */
	__u8 kind;      /* enum pw_event_kind */
	__u8 proto;     /* enum pw_proto */
	__u8 family;    /* PW_AF_INET / PW_AF_INET6 */
	__u8 flags;     /* enum pw_event_flags */
	__u16 lport;
	__u16 rport;
	__u16 req_port;
	__s32 result; /* 0 or negative errno */
	__u32 pid;    /* tgid */
	__u32 tid;
	__u32 uid;
	__u32 netns; /* network namespace inode number */
	__u32 backlog;
	__u32 pad;
	__u64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 cgroup_id;
	__u64 lifetime_ns; /* close: time since connect/accept/listen */
	__u64 sock_ino;    /* socket inode, as in /proc/PID/fd; 0 if none */
	__u8 laddr[PW_ADDR_LEN];
	__u8 raddr[PW_ADDR_LEN];
	__u8 req_addr[PW_ADDR_LEN];
	char comm[PW_COMM_LEN];
};

/* TCP states as the kernel numbers them (include/net/tcp_states.h). */
enum pw_tcp_state {
	PW_TCP_ESTABLISHED = 1,
	PW_TCP_SYN_SENT = 2,
	PW_TCP_SYN_RECV = 3,
	PW_TCP_FIN_WAIT1 = 4,
	PW_TCP_FIN_WAIT2 = 5,
	PW_TCP_TIME_WAIT = 6,
	PW_TCP_CLOSE = 7,
	PW_TCP_CLOSE_WAIT = 8,
	PW_TCP_LAST_ACK = 9,
	PW_TCP_LISTEN = 10,
	PW_TCP_CLOSING = 11,
};

/*
 * One open socket of one process, written by the census iterator
 * (iter/task_file) for every TCP/UDP socket file of every task.
 */
struct pw_sock {
	__u16 rec_type; /* PW_REC_SOCK */
	__u8 proto;
	__u8 family;
	__u8 state; /* enum pw_tcp_state; UDP: 7 unbound/unconnected, 1 connected */
	__u8 origin; /* enum pw_sock_origin: which iterator wrote it */
	__u16 lport;
	__u16 rport;
	__u16 pad1;
	__u32 pid;
	__u32 uid;
	__u32 netns;
	__u32 fd;
	__u32 drops; /* TCP listener: sk_drops, i.e. tcp_listendrop() (accept queue full...) */
	__u64 sock_ino;
	__u64 cgroup_id; /* the task's cgroup v2 id */
	__u8 laddr[PW_ADDR_LEN];
	__u8 raddr[PW_ADDR_LEN];
	char comm[PW_COMM_LEN];
	__u32 ttl_ms; /* TIME_WAIT (origin PW_ORIGIN_TCP_ITER): time left before it expires */
	__u32 pad2;
};

/*
 * Where a pw_sock came from. iter/task_file sees sockets that processes
 * hold (with their owner); iter/tcp and iter/udp see one network
 * namespace's hash tables, with what no process holds any more: TIME_WAIT
 * and orphaned sockets (pid 0, no comm).
 */
enum pw_sock_origin {
	PW_ORIGIN_TASK_FILE = 0,
	PW_ORIGIN_TCP_ITER = 1,
	PW_ORIGIN_UDP_ITER = 2,
};

/* What an inbound packet to a port was (pw_inbound.probe, pw_flow.probes). */
enum pw_probe_type {
	PW_PROBE_SYN = 0,   /* SYN without ACK */
	PW_PROBE_FIN,       /* FIN alone */
	PW_PROBE_NULL,      /* no flag at all */
	PW_PROBE_XMAS,      /* FIN+PSH+URG */
	PW_PROBE_ACK,       /* ACK without SYN/FIN/RST */
	PW_PROBE_UDP,       /* a UDP datagram */
	PW_PROBE_OTHER,     /* any other TCP flag mix */
	PW_PROBE__MAX,
};

/* Where a probe ended (pw_inbound.fate, pw_flow.fates). */
enum pw_probe_fate {
	PW_FATE_CLOSED = 0, /* no socket: answered with RST or ICMP, or not at all */
	PW_FATE_FILTERED, /* dropped by netfilter */
	PW_FATE_REFUSED,  /* an open port dropped it for its flags (FIN/NULL/Xmas) */
	PW_FATE__MAX,
};

/*
 * First sighting of a remote source at a local port, in the kernel's
 * per-source table (struct pw_flow_key). Later packets of the same flow
 * only count in the maps; userspace reads the deltas from there.
 */
struct pw_inbound {
	__u16 rec_type; /* PW_REC_INBOUND */
	__u8 kind;      /* PW_EV_SYN, PW_EV_PROBE or PW_EV_RESET */
	__u8 probe;     /* enum pw_probe_type */
	__u8 fate;      /* enum pw_probe_fate; PW_FATE__MAX: not known yet */
	__u8 proto;
	__u8 family;
	__u8 flags;     /* PW_IN_HANDSHAKE: a passive open completed */
	__u16 lport;
	__u16 rport;
	__u32 netns;
	__u64 ts_ns;
	__u8 laddr[PW_ADDR_LEN];
	__u8 raddr[PW_ADDR_LEN];
};

#define PW_IN_HANDSHAKE 1

/* Per-port counters, exact while the port's entry stays in the LRU map. */
struct pw_port_key {
	__u32 netns;
	__u16 port;
	__u8 proto;
	__u8 pad;
};

struct pw_port_stats {
	__u64 syn_in;           /* SYNs received (netif_receive_skb) */
	__u64 closed_probes;    /* packets with no socket to take them (kfree_skb NO_SOCKET) */
	__u64 half_open;        /* SYN-ACKs retransmitted (tcp_retransmit_synack) */
	__u64 resets_out;       /* RSTs sent from this port (tcp_send_reset) */
	__u64 resets_in;        /* RSTs received by a socket on this port (tcp_receive_reset) */
	__u64 flag_probes;      /* FIN/NULL/Xmas dropped by an open port (kfree_skb TCP_FLAGS) */
	__u64 filtered;         /* dropped by netfilter (kfree_skb NETFILTER_DROP) */
	__u64 first_ns;
	__u64 last_ns;
};

/* Per-source table key: who (raddr) knocked where (laddr, lport). */
struct pw_flow_key {
	__u32 netns;
	__u16 lport;
	__u8 proto;
	__u8 family;
	__u8 laddr[PW_ADDR_LEN];
	__u8 raddr[PW_ADDR_LEN];
};

struct pw_flow {
	__u64 first_ns;
	__u64 last_ns;
	__u32 probes[PW_PROBE__MAX]; /* packets by type */
	__u32 fates[PW_FATE__MAX];   /* packets by outcome */
	__u32 handshakes;            /* passive opens completed (SYN-RECV -> ESTABLISHED) */
	__u32 resets_out;
	__u32 half_open;
	__u16 rport; /* source port of the first packet */
	__u16 pad;
};

/* Census filter, written by userspace into the iterator's .bss before a run. */
struct pw_census_filter {
	__u32 netns; /* 0: any */
	__u16 lport; /* 0: any */
	__u8 proto;  /* 0: any */
	__u8 pad;
};

/* Indexes of the per-CPU counter array shared by every program. */
enum pw_counter {
	PW_CNT_EVENTS = 0,   /* records submitted to the ring buffer */
	PW_CNT_LOST,         /* records dropped: ring buffer full */
	PW_CNT_FILTERED,     /* records dropped by the in-kernel filter */
	PW_CNT_STASH_FULL,   /* syscall arguments not stashed: map full */
	PW_CNT_FIRST_SUPPRESSED, /* first sightings not sent: rate limit (a flood) */
	PW_CNT_INBOUND_UNPARSED, /* inbound packets portwatch could not parse */
	PW_CNT__MAX,
};

/* In-kernel filters, set in .rodata before load; 0 means "any". */
struct pw_kfilter {
	__u32 pid;
	__u32 netns;
	__u64 cgroup_id;
	__u16 port;
	__u8 family; /* PW_AF_INET / PW_AF_INET6 */
	__u8 proto;  /* PW_PROTO_TCP / PW_PROTO_UDP */
	__u8 failed_only;
	__u8 pad;
	__u16 kinds; /* 1 << enum pw_event_kind to keep; 0: all */
};

/* In pw_kfilter.kinds: closes of listening sockets only. */
#define PW_KIND_LISTENER_CLOSE (1 << 15)
/*
 * In pw_kfilter.kinds, with 1 << PW_EV_CLOSE: closes of accepted
 * connections too. Without it, only the closes of sockets that took a port
 * of their own (connect, bind): what the ephemeral pools need.
 */
#define PW_KIND_ACCEPTED_CLOSE (1 << 14)

_Static_assert(sizeof(struct pw_event) == 136, "pw_event layout changed");
_Static_assert(sizeof(struct pw_sock) == 104, "pw_sock layout changed");
_Static_assert(sizeof(struct pw_inbound) == 56, "pw_inbound layout changed");
_Static_assert(sizeof(struct pw_port_key) == 8, "pw_port_key layout changed");
_Static_assert(sizeof(struct pw_port_stats) == 72, "pw_port_stats layout changed");
_Static_assert(sizeof(struct pw_flow_key) == 40, "pw_flow_key layout changed");
_Static_assert(sizeof(struct pw_flow) == 72, "pw_flow layout changed");
_Static_assert(sizeof(struct pw_census_filter) == 8, "pw_census_filter layout changed");
_Static_assert(sizeof(struct pw_kfilter) == 24, "pw_kfilter layout changed");

#endif /* PORTWATCH_H */
