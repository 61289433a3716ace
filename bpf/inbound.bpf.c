// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Inbound traffic per port and per source, counted in the kernel.
 *
 * netif_receive_skb is the only tracepoint that sees a SYN to an *open*
 * port that never completes (SYN, SYN-ACK, the scanner's RST: no TCP
 * tracepoint fires); kfree_skb's drop reason (v5.17) says which packets
 * found no socket, were refused for their flags or filtered. Counting
 * happens here, in bounded LRU maps; only the first sighting of a source
 * at a port crosses the ring buffer, under a per-CPU rate limit, so a
 * flood can neither starve userspace nor grow memory.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "sock.bpf.h"
#include "output.bpf.h"
#include "flows.bpf.h"
#include "portwatch.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

/*
 * Map sizes are a memory budget: with the trace maps and a 1 MiB ring, all
 * of portwatch's maps stay under 16 MiB whatever the traffic (measured with
 * bpftool map show; see docs/DETECTION.md).
 */


char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 filter_netns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct pw_port_key);
	__type(value, struct pw_port_stats);
} port_stats SEC(".maps");

/* A parsed inbound packet: L3 and L4 headers only. */
struct pkt {
	__u32 netns;
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 proto;
	__u8 tcpflags;
	__u8 pad;
	__u8 saddr[PW_ADDR_LEN];
	__u8 daddr[PW_ADDR_LEN];
};

/*
 * The start of a packet as one probe read takes it: the IP header and the
 * first 14 bytes after it (ports and TCP flags). Every packet of every
 * interface comes through pw_rx, so one read instead of two matters; only
 * IPv4 with options needs a second.
 */
struct l3_head {
	union {
		struct {
			struct iphdr ip;
			__u8 l4[14];
		} v4;
		struct {
			struct ipv6hdr ip6;
			__u8 l4[14];
		} v6;
	};
};

/*
 * Parse the IP and TCP/UDP headers at l3 (kernel memory). Fragments after
 * the first and IPv6 extension headers carry no ports we can read: false.
 */
static __always_inline bool parse_l3(const __u8 *l3, __u16 eth_proto, struct pkt *p)
{
	struct l3_head h;
	const __u8 *l4;
	__u8 vihl, opt_l4[14];
	__u32 hlen;

	if (eth_proto == bpf_htons(ETH_P_IP)) {
		if (bpf_probe_read_kernel(&h.v4, sizeof(h.v4), l3))
			return false;
		__builtin_memcpy(&vihl, &h.v4.ip, 1);
		hlen = (vihl & 0x0f) * 4;
		if (hlen < sizeof(h.v4.ip) || (bpf_ntohs(h.v4.ip.frag_off) & 0x1fff))
			return false;
		p->family = PW_AF_INET;
		p->proto = h.v4.ip.protocol;
		__builtin_memcpy(p->saddr, &h.v4.ip.saddr, 4);
		__builtin_memcpy(p->daddr, &h.v4.ip.daddr, 4);
		l4 = h.v4.l4;
		if (hlen > sizeof(h.v4.ip)) {
			if (bpf_probe_read_kernel(opt_l4, sizeof(opt_l4), l3 + hlen))
				return false;
			l4 = opt_l4;
		}
	} else if (eth_proto == bpf_htons(ETH_P_IPV6)) {
		if (bpf_probe_read_kernel(&h.v6, sizeof(h.v6), l3))
			return false;
		p->family = PW_AF_INET6;
		p->proto = h.v6.ip6.nexthdr;
		__builtin_memcpy(p->saddr, &h.v6.ip6.saddr, 16);
		__builtin_memcpy(p->daddr, &h.v6.ip6.daddr, 16);
		l4 = h.v6.l4;
	} else {
		return false;
	}
	if (p->proto != PW_PROTO_TCP && p->proto != PW_PROTO_UDP)
		return false;
	p->sport = ((__u16)l4[0] << 8) | l4[1];
	p->dport = ((__u16)l4[2] << 8) | l4[3];
	p->tcpflags = p->proto == PW_PROTO_TCP ? l4[13] : 0;
	return true;
}

static __always_inline __u32 skb_netns(const struct sk_buff *skb)
{
	return BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
}

static __always_inline __u8 probe_type(const struct pkt *p)
{
	__u8 f = p->tcpflags & (TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | TCP_URG);

	if (p->proto == PW_PROTO_UDP)
		return PW_PROBE_UDP;
	if ((f & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return PW_PROBE_SYN;
	if (f == TCP_FIN)
		return PW_PROBE_FIN;
	if (f == 0)
		return PW_PROBE_NULL;
	if (f == (TCP_FIN | TCP_PSH | TCP_URG))
		return PW_PROBE_XMAS;
	if (f == TCP_ACK)
		return PW_PROBE_ACK;
	return PW_PROBE_OTHER;
}

static __always_inline struct pw_port_stats *port_entry(__u32 netns, __u16 port, __u8 proto,
							 __u64 now)
{
	struct pw_port_key k = { .netns = netns, .port = port, .proto = proto };
	struct pw_port_stats *s = bpf_map_lookup_elem(&port_stats, &k);
	struct pw_port_stats fresh = { .first_ns = now };

	if (!s) {
		bpf_map_update_elem(&port_stats, &k, &fresh, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&port_stats, &k);
	}
	if (s)
		s->last_ns = now;
	return s;
}

/*
 * Count packet p (type, fate; PW_*__MAX for "not known here") from its
 * source. Userspace hears of a flow when it first appears and when it first
 * gets each fate (a SYN's fate is known only after it arrived): at most
 * 1 + PW_FATE__MAX records per flow, under a per-CPU rate limit. A race
 * between CPUs may send one twice or not at all; the counts of a flow in
 * the map stay exact and userspace reads them from there. A record names
 * its packet's type even when it reports a SYN's fate: if the rate limit
 * kept the SYN's own record back (a flood on this CPU), the fate still
 * tells userspace of the probe, which it counts once whichever record
 * brings it (found by running the flood test on one CPU).
 */
static __always_inline void count_flow(const struct pkt *p, __u8 kind, __u8 type, __u8 fate, __u64 now)
{
	struct pw_flow_key k = { .netns = p->netns, .lport = p->dport, .proto = p->proto,
				 .family = p->family };
	__u32 bucket = fate < PW_FATE__MAX ? PW_BUCKET_OUTCOME : PW_BUCKET_ARRIVAL;
	/* A SYN was counted on arrival (pw_rx): its fate adds only the fate. */
	__u8 add = fate < PW_FATE__MAX && type == PW_PROBE_SYN ? PW_PROBE__MAX : type;
	struct pw_inbound r = {};
	bool report = false;
	struct pw_flow *f;

	__builtin_memcpy(k.laddr, p->daddr, sizeof(k.laddr));
	__builtin_memcpy(k.raddr, p->saddr, sizeof(k.raddr));
	f = flow_entry(&k, p->sport, now, bucket, &report);
	if (!f)
		return;
	f->last_ns = now;
	if (add < PW_PROBE__MAX)
		__sync_fetch_and_add(&f->probes[add], 1);
	if (fate < PW_FATE__MAX) {
		/* The first of each fate is reported, under the outcome rate limit. */
		if (!report && !f->fates[fate])
			report = first_token(bucket, now);
		__sync_fetch_and_add(&f->fates[fate], 1);
	}
	if (!report)
		return;
	r.rec_type = PW_REC_INBOUND;
	r.kind = kind;
	r.probe = type;
	r.fate = fate;
	r.proto = p->proto;
	r.family = p->family;
	r.lport = p->dport;
	r.rport = p->sport;
	r.netns = p->netns;
	r.ts_ns = now;
	__builtin_memcpy(r.laddr, p->daddr, sizeof(r.laddr));
	__builtin_memcpy(r.raddr, p->saddr, sizeof(r.raddr));
	pw_output(&r, sizeof(r));
}

/* Every received packet, every interface and namespace: count SYNs. */
SEC("tp_btf/netif_receive_skb")
int BPF_PROG(pw_rx, struct sk_buff *skb)
{
	struct pw_port_stats *s;
	struct pkt p = {};
	__u64 now;

	/* Plain loads from the BTF pointer: this runs for every packet. */
	if (!parse_l3(skb->data, skb->protocol, &p))
		return 0;
	/* Everything but a connection request is ordinary traffic here. */
	if (p.proto != PW_PROTO_TCP || (p.tcpflags & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		return 0;
	p.netns = skb_netns(skb);
	if (filter_netns && p.netns != filter_netns)
		return 0;
	now = bpf_ktime_get_ns();
	s = port_entry(p.netns, p.dport, p.proto, now);
	if (s)
		__sync_fetch_and_add(&s->syn_in, 1);
	count_flow(&p, PW_EV_SYN, PW_PROBE_SYN, PW_FATE__MAX, now);
	return 0;
}

/*
 * Parse a packet the stack has already placed headers for. Its netns comes
 * from the receiving device or, once a socket took the packet and the
 * device was cleared (an open port refusing a FIN), from that socket.
 */
static __always_inline bool parse_rx_skb(const struct sk_buff *skb, const struct sock *rx_sk,
					 struct pkt *p)
{
	const __u8 *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);

	if (!parse_l3(head + nh, BPF_CORE_READ(skb, protocol), p)) {
		count(PW_CNT_INBOUND_UNPARSED);
		return false;
	}
	p->netns = BPF_CORE_READ(skb, dev) ? skb_netns(skb) : 0;
	if (!p->netns && rx_sk)
		p->netns = pw_sk_netns(rx_sk);
	if (!p->netns)
		return false; /* whose it is cannot be told: not counted */
	return !filter_netns || p->netns == filter_netns;
}

/* Drops with a reason (v5.17): closed ports, refused flags, firewalls. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(pw_drop, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	/*
	 * The reasons' numbers differ between kernels (NO_SOCKET is 2 on 6.1,
	 * 3 on 6.18): relocate them against the running kernel's BTF. A reason
	 * this kernel lacks relocates to a value that never matches.
	 */
	__u32 no_socket = bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NO_SOCKET);
	__u32 nf_drop = bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NETFILTER_DROP) ?
				bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NETFILTER_DROP) :
				~0u;
	__u32 tcp_flags = bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_TCP_FLAGS) ?
				  bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TCP_FLAGS) :
				  ~0u;
	struct pw_port_stats *s;
	struct sock *rx_sk = NULL;
	struct pkt p = {};
	__u8 type, fate;
	__u64 now;

	if (reason != no_socket && reason != nf_drop && reason != tcp_flags)
		return 0;
	/* rx_sk, the socket that received the packet, came with v6.12. */
	if (bpf_core_field_exists(struct trace_event_raw_kfree_skb, rx_sk))
		rx_sk = (struct sock *)ctx[3];
	if (!parse_rx_skb(skb, rx_sk, &p))
		return 0;
	/* A RST to a closed port is a late reply, not a probe. */
	if (p.proto == PW_PROTO_TCP && (p.tcpflags & TCP_RST))
		return 0;
	now = bpf_ktime_get_ns();
	s = port_entry(p.netns, p.dport, p.proto, now);
	type = probe_type(&p);
	if (reason == no_socket) {
		fate = PW_FATE_CLOSED;
		if (s)
			__sync_fetch_and_add(&s->closed_probes, 1);
	} else if (reason == tcp_flags) {
		fate = PW_FATE_REFUSED;
		if (s)
			__sync_fetch_and_add(&s->flag_probes, 1);
	} else {
		fate = PW_FATE_FILTERED;
		if (s)
			__sync_fetch_and_add(&s->filtered, 1);
	}
	count_flow(&p, PW_EV_PROBE, type, fate, now);
	return 0;
}

/*
 * Every RST the stack sends. With a packet (answering it) the port is that
 * packet's destination; without one (an active abort, v6.10) the socket's.
 */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(pw_rst_out, const struct sock *sk, const struct sk_buff *skb)
{
	struct pw_port_stats *s;
	struct pw_flow_key k = {};
	struct pw_flow *f;
	struct pkt p = {};
	__u64 now = bpf_ktime_get_ns();

	if (skb) {
		if (!parse_rx_skb(skb, sk, &p))
			return 0;
	} else if (sk) {
		p.netns = pw_sk_netns(sk);
		if (filter_netns && p.netns != filter_netns)
			return 0;
		p.dport = sk->__sk_common.skc_num;
		p.proto = PW_PROTO_TCP;
	} else {
		return 0;
	}
	s = port_entry(p.netns, p.dport, PW_PROTO_TCP, now);
	if (s)
		__sync_fetch_and_add(&s->resets_out, 1);
	if (!skb)
		return 0;
	k.netns = p.netns;
	k.lport = p.dport;
	k.proto = p.proto;
	k.family = p.family;
	__builtin_memcpy(k.laddr, p.daddr, sizeof(k.laddr));
	__builtin_memcpy(k.raddr, p.saddr, sizeof(k.raddr));
	/*
	 * The RST for a packet to a closed port is sent before the packet is
	 * dropped (tcp_v4_rcv): create its flow here, quietly; the drop that
	 * follows reports it with its fate.
	 */
	f = flow_entry(&k, p.sport, now, PW_BUCKET_OUTCOME, NULL);
	if (f)
		__sync_fetch_and_add(&f->resets_out, 1);
	return 0;
}

/* The counters of a TCP socket's local port, or NULL (filtered, map full). */
static __always_inline struct pw_port_stats *sk_port_stats(const struct sock *sk)
{
	__u32 netns = pw_sk_netns(sk);

	if (filter_netns && netns != filter_netns)
		return NULL;
	return port_entry(netns, sk->__sk_common.skc_num, PW_PROTO_TCP,
			  bpf_ktime_get_ns());
}

/* A SYN-ACK sent again: the handshake is still half open. */
SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(pw_synack_rtx, const struct sock *sk, const struct request_sock *req)
{
	struct pw_port_stats *s = sk_port_stats(sk);

	if (s)
		__sync_fetch_and_add(&s->half_open, 1);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(pw_rst_in, struct sock *sk)
{
	struct pw_port_stats *s = sk_port_stats(sk);

	if (s)
		__sync_fetch_and_add(&s->resets_in, 1);
	return 0;
}
