/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Decode once, render twice: a raw ring-buffer record becomes a struct
 * pw_ev that both the text and the JSON renderer (render.h) consume.
 */
#ifndef PW_DECODE_H
#define PW_DECODE_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "portwatch.h"

#define PW_MAX_HOLDERS 4

struct pw_holder {
	uint32_t pid;
	char comm[PW_COMM_LEN + 1];
};

struct pw_ev {
	uint8_t kind;   /* enum pw_event_kind */
	uint8_t proto;  /* enum pw_proto */
	int family;     /* 4 or 6, after unmapping ::ffff:a.b.c.d */
	uint64_t wall_ns; /* CLOCK_REALTIME */
	uint64_t mono_ns;
	bool owner_known;
	uint32_t pid, tid, uid, netns, backlog;
	uint64_t cgroup_id;
	char comm[PW_COMM_LEN + 1]; /* raw bytes, NUL-terminated; escape to print */
	bool has_remote;
	char local_addr[INET6_ADDRSTRLEN];
	char remote_addr[INET6_ADDRSTRLEN];
	/* The same addresses as bytes: IPv4 in the first 4, the rest zero. */
	uint8_t local_raw[16];
	uint8_t remote_raw[16];
	uint16_t local_port, remote_port, req_port;
	int32_t result;
	bool async;
	bool listener;
	bool time_wait; /* close: a TIME_WAIT socket holds the 4-tuple for 60 s */
	bool accepted;  /* close: the server's end, from accept() (its port is the listener's) */
	bool autobind;  /* bind: done by sendto()/sendmsg() on an unbound UDP socket */
	bool lifetime_known;
	uint64_t lifetime_ns;
	uint64_t sock_ino;
	int n_holders; /* filled by the caller for EADDRINUSE */
	struct pw_holder holders[PW_MAX_HOLDERS];
	/* syn, probe, reset: aggregated in the kernel */
	uint64_t count;
	const char *probe;      /* probe: "fin", "null", "xmas", "ack", "udp", "other" */
	const char *port_state; /* probe: "closed", "filtered" or "open"; NULL if unknown */
};

/* Offset that turns a CLOCK_MONOTONIC stamp into CLOCK_REALTIME. */
int64_t pw_clock_offset_ns(void);

/*
 * Decode the record at data (len bytes, from the ring buffer) into out.
 * Returns 0, or -EINVAL for a record of the wrong size, type, kind,
 * protocol or family: those are counted by the caller, never printed.
 */
int pw_decode_event(const void *data, size_t len, int64_t clock_offset, struct pw_ev *out);

struct pw_flow_delta;

/*
 * The trace events a flow delta (inreader.h) stands for: a syn event for
 * new SYNs, one probe event per other packet type, a reset event for RSTs
 * sent to that source. Writes at most max into out; returns the count.
 */
int pw_flow_events(const struct pw_flow_delta *d, int64_t clock_offset, struct pw_ev *out, int max);
/* "syn", "fin", ...; "?" when out of range. */
const char *pw_probe_name(int probe);

/* "bind", "listen", ...; "?" for an unknown kind. */
const char *pw_event_name(int kind);
/* "tcp" / "udp". */
const char *pw_proto_name(int proto);
/* "EADDRINUSE" for -98, NULL for 0; "E123" when the name is unknown. */
const char *pw_errno_name(int result, char *buf, size_t len);

/*
 * Format addr (4 or 16 bytes by family) as text; IPv4-mapped IPv6
 * addresses are the caller's business (pw_decode_event unmaps them).
 */
void pw_format_addr(int family, const uint8_t *addr, char *out, size_t len);

#endif /* PW_DECODE_H */
