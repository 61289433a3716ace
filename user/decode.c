// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "inreader.h"

static const char *const event_names[PW_EV__MAX] = {
	[PW_EV_BIND] = "bind",       [PW_EV_LISTEN] = "listen", [PW_EV_CONNECT] = "connect",
	[PW_EV_ACCEPT] = "accept",   [PW_EV_CLOSE] = "close",   [PW_EV_SYN] = "syn",
	[PW_EV_PROBE] = "probe",     [PW_EV_RESET] = "reset",
};

const char *pw_event_name(int kind)
{
	if (kind <= 0 || kind >= PW_EV__MAX)
		return "?";
	return event_names[kind];
}

const char *pw_proto_name(int proto)
{
	return proto == PW_PROTO_UDP ? "udp" : "tcp";
}

const char *pw_errno_name(int result, char *buf, size_t len)
{
	const char *name;

	if (result >= 0)
		return NULL;
	name = strerrorname_np(-result);
	if (name)
		return name;
	snprintf(buf, len, "E%d", -result);
	return buf;
}

int64_t pw_clock_offset_ns(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000LL + (rt.tv_nsec - mono.tv_nsec);
}

/*
 * Dotted quad without printf: glibc's inet_ntop() formats IPv4 with
 * sprintf(), and with two addresses per record that was over half of what
 * `watch` spent in userspace under a connection storm (perf, make bench).
 */
static void format_ipv4(const uint8_t *a, char *out)
{
	char buf[INET_ADDRSTRLEN], *p = buf;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	memcpy(out, buf, (size_t)(p - buf)); /* the caller has INET_ADDRSTRLEN */
}

void pw_format_addr(int family, const uint8_t *addr, char *out, size_t len)
{
	if (family == 4 && len >= INET_ADDRSTRLEN)
		format_ipv4(addr, out);
	else if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, out, (socklen_t)len))
		snprintf(out, len, "?");
}

static bool is_zero(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

static bool is_v4mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, prefix, 12) == 0;
}

/*
 * A v6 socket talking to a v4 peer carries ::ffff:a.b.c.d; users think of
 * that as IPv4. Unmap when some address is mapped and every other one is
 * mapped or unset (a v6 socket bound to :: is still IPv6 on its own).
 */
static bool all_mapped(const uint8_t *const addrs[], int n)
{
	bool any = false;
	int i;

	for (i = 0; i < n; i++) {
		if (is_v4mapped(addrs[i]))
			any = true;
		else if (!is_zero(addrs[i]))
			return false;
	}
	return any;
}

static void put_addr(int family, const uint8_t *a, char *out, size_t len)
{
	if (family == 4 && is_v4mapped(a))
		pw_format_addr(4, a + 12, out, len);
	else if (family == 4 && is_zero(a))
		snprintf(out, len, "0.0.0.0");
	else
		pw_format_addr(family, a, out, len);
}

/* Canonical bytes for the model's keys: IPv4 (mapped or not) in the first 4. */
static void put_raw(int family, const uint8_t *a, uint8_t out[16])
{
	memset(out, 0, 16);
	if (family == 4 && is_v4mapped(a))
		memcpy(out, a + 12, 4);
	else
		memcpy(out, a, family == 4 ? 4 : 16);
}

int pw_decode_event(const void *data, size_t len, int64_t clock_offset, struct pw_ev *out)
{
	const struct pw_event *e = data;
	const uint8_t *addrs[3];
	int ret = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (len != sizeof(*e) || e->rec_type != PW_REC_EVENT)
		goto out;
	if (e->kind <= 0 || e->kind >= PW_EV__MAX)
		goto out;
	if (e->proto != PW_PROTO_TCP && e->proto != PW_PROTO_UDP)
		goto out;
	if (e->family != PW_AF_INET && e->family != PW_AF_INET6)
		goto out;

	out->kind = e->kind;
	out->proto = e->proto;
	out->mono_ns = e->ts_ns;
	out->wall_ns = e->ts_ns + (uint64_t)clock_offset;
	out->owner_known = !(e->flags & PW_F_NO_OWNER);
	out->pid = e->pid;
	out->tid = e->tid;
	out->uid = e->uid;
	out->netns = e->netns;
	out->backlog = e->backlog;
	out->cgroup_id = e->cgroup_id;
	memcpy(out->comm, e->comm, PW_COMM_LEN);
	out->comm[PW_COMM_LEN] = '\0';
	out->local_port = e->lport;
	out->remote_port = e->rport;
	out->req_port = e->req_port;
	out->result = e->result;
	out->async = e->flags & PW_F_ASYNC;
	out->listener = e->flags & PW_F_LISTENER;
	out->time_wait = e->kind == PW_EV_CLOSE && (e->flags & PW_F_TIME_WAIT);
	out->accepted = e->kind == PW_EV_CLOSE && (e->flags & PW_F_ACCEPTED);
	out->autobind = e->kind == PW_EV_BIND && (e->flags & PW_F_AUTOBIND);
	out->lifetime_known = e->kind == PW_EV_CLOSE && !(e->flags & PW_F_NO_LIFETIME);
	out->lifetime_ns = e->lifetime_ns;
	out->sock_ino = e->sock_ino;
	out->has_remote = e->kind != PW_EV_BIND && e->kind != PW_EV_LISTEN &&
			  !(e->kind == PW_EV_CLOSE && (out->listener || (!e->rport && is_zero(e->raddr)))) &&
			  !(e->kind == PW_EV_ACCEPT && e->result < 0);

	out->family = e->family == PW_AF_INET ? 4 : 6;
	if (out->family == 6) {
		addrs[0] = e->laddr;
		addrs[1] = out->has_remote ? e->raddr : e->laddr;
		addrs[2] = e->kind == PW_EV_BIND ? e->req_addr : e->laddr;
		if (all_mapped(addrs, 3))
			out->family = 4;
	}
	put_addr(out->family, e->laddr, out->local_addr, sizeof(out->local_addr));
	put_raw(out->family, e->laddr, out->local_raw);
	if (out->has_remote)
		put_raw(out->family, e->raddr, out->remote_raw);
	if (out->has_remote)
		put_addr(out->family, e->raddr, out->remote_addr, sizeof(out->remote_addr));
	ret = 0;
out:
	return ret;
}

static const char *const probe_names[PW_PROBE__MAX] = {
	[PW_PROBE_SYN] = "syn", [PW_PROBE_FIN] = "fin", [PW_PROBE_NULL] = "null",
	[PW_PROBE_XMAS] = "xmas", [PW_PROBE_ACK] = "ack", [PW_PROBE_UDP] = "udp",
	[PW_PROBE_OTHER] = "other",
};

const char *pw_probe_name(int probe)
{
	return probe >= 0 && probe < PW_PROBE__MAX ? probe_names[probe] : "?";
}

/* What became of this delta's packets: the fate that grew most. */
static const char *port_state(const struct pw_flow_delta *d)
{
	static const char *const names[PW_FATE__MAX] = {
		[PW_FATE_CLOSED] = "closed", [PW_FATE_FILTERED] = "filtered",
		[PW_FATE_REFUSED] = "open",
	};
	const char *best = NULL;
	uint32_t most = 0;
	int i;

	for (i = 0; i < PW_FATE__MAX; i++) {
		if (d->fates[i] > most) {
			most = d->fates[i];
			best = names[i];
		}
	}
	return best;
}

static void flow_ev(const struct pw_flow_delta *d, int64_t clock_offset, int kind, struct pw_ev *ev)
{
	const struct pw_flow_key *k = &d->key;
	const uint8_t *addrs[2] = { k->laddr, k->raddr };

	memset(ev, 0, sizeof(*ev));
	ev->kind = (uint8_t)kind;
	ev->proto = k->proto;
	ev->mono_ns = d->last_ns;
	ev->wall_ns = d->last_ns + (uint64_t)clock_offset;
	ev->netns = k->netns;
	ev->has_remote = true;
	ev->local_port = k->lport;
	ev->remote_port = d->rport;
	ev->family = k->family == PW_AF_INET ? 4 : 6;
	if (ev->family == 6 && all_mapped(addrs, 2))
		ev->family = 4;
	put_addr(ev->family, k->laddr, ev->local_addr, sizeof(ev->local_addr));
	put_addr(ev->family, k->raddr, ev->remote_addr, sizeof(ev->remote_addr));
}

int pw_flow_events(const struct pw_flow_delta *d, int64_t clock_offset, struct pw_ev *out, int max)
{
	int n = 0, t;

	if (d->key.proto != PW_PROTO_TCP && d->key.proto != PW_PROTO_UDP)
		return 0;
	if (d->key.family != PW_AF_INET && d->key.family != PW_AF_INET6)
		return 0;
	if (n < max && d->probes[PW_PROBE_SYN]) {
		flow_ev(d, clock_offset, PW_EV_SYN, &out[n]);
		out[n].count = d->probes[PW_PROBE_SYN];
		out[n].port_state = port_state(d);
		n++;
	}
	for (t = PW_PROBE_SYN + 1; t < PW_PROBE__MAX && n < max; t++) {
		if (!d->probes[t])
			continue;
		flow_ev(d, clock_offset, PW_EV_PROBE, &out[n]);
		out[n].count = d->probes[t];
		out[n].probe = probe_names[t];
		out[n].port_state = port_state(d);
		n++;
	}
	if (n < max && d->resets_out) {
		flow_ev(d, clock_offset, PW_EV_RESET, &out[n]);
		out[n].count = d->resets_out;
		n++;
	}
	return n;
}
