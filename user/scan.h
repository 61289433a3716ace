/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Port-scan detection by evidence, not by rate: a sequential hypothesis
 * test per (network namespace, remote source) in the spirit of Threshold
 * Random Walk (Jung, Paxson, Berger, Balakrishnan, IEEE S&P 2004).
 *
 * Each *first contact* of a source with a local (address, port, protocol)
 * is an observation: a success when it reached a service (a handshake
 * completed, or a SYN drew no refusal), a failure when it hit a closed,
 * filtered or refusing port. A failure multiplies the likelihood ratio
 * scanner:benign by (1 - t1) / (1 - t0) = 4, a success by t1 / t0 = 1/4
 * (t0 = 0.8: benign first contacts mostly succeed; t1 = 0.2: a scanner's
 * mostly fail). The alert comes when the ratio passes e^5.5 (about 245):
 * at the 4th failure of a source with no success, the 5th with one, the
 * 6th with two (nmap probes common, often open, ports first). No time window: a source that
 * probes once every five minutes is caught by the same 5th failure, and
 * its state lives for expire_ns (10 min) of silence.
 *
 * First contacts are remembered exactly (32-bit hashes) up to 256 per
 * source; beyond that a 4096-bit bitmap takes over and ports_probed is a
 * linear-counting estimate (within ~2 % at 1000 ports).
 *
 * Memory is fixed: at most max_sources sources (about 3 KiB each: 12 MiB for 4096). When
 * full, a sample of entries is taken and the one with the least evidence
 * is recycled, so a spoofed flood (each source one SYN, no failure) keeps
 * recycling its own entries and never a real scanner's.
 */
#ifndef PW_SCAN_H
#define PW_SCAN_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inreader.h"

#define PW_SCAN_SAMPLE_PORTS 20
#define PW_SCAN_OPEN_PORTS 16
#define PW_SCAN_MAX_ALLOW 16

struct pw_scan_cfg {
	unsigned max_sources;     /* default 4096 */
	double threshold;         /* ln of the alarm ratio; default 5.5 (4 failures) */
	uint64_t pending_ns;      /* a SYN with no refusal after this is a success; 2 s */
	uint64_t update_ns;       /* at most one update alert per source per this; 10 s */
	uint64_t end_ns;          /* no new contact for this: the scan ended; 30 s */
	uint64_t expire_ns;       /* forget a source silent for this; 600 s */
};

struct pw_scan_alert {
	const char *phase;     /* "detected", "update", "end" */
	const char *severity;  /* "warning"; "critical" from 100 ports */
	const char *technique; /* syn connect fin null xmas ack udp mixed */
	const char *direction; /* "vertical" or "horizontal" */
	uint32_t netns;
	int family; /* 4 or 6 */
	char source[INET6_ADDRSTRLEN];
	uint32_t ports_probed; /* distinct first contacts */
	uint32_t failures;
	uint32_t successes;
	uint32_t local_addresses;
	int n_ports;
	uint16_t ports[PW_SCAN_SAMPLE_PORTS]; /* the first ports probed */
	int n_open;
	uint16_t open_ports[PW_SCAN_OPEN_PORTS];
	uint64_t first_ns; /* CLOCK_MONOTONIC of the first and latest probe (kernel time) */
	uint64_t last_ns;
	uint64_t now_ns;   /* when the alert was raised (CLOCK_MONOTONIC) */
	double rate; /* contacts per second over the scan so far */
};

typedef void (*pw_scan_fn)(void *ctx, const struct pw_scan_alert *a);

struct pw_scan;

/* cfg NULL or zero fields: defaults. Returns NULL when out of memory. */
struct pw_scan *pw_scan_new(const struct pw_scan_cfg *cfg, pw_scan_fn fn, void *ctx);
void pw_scan_free(struct pw_scan *s);
/*
 * Never suspect sources in cidr ("192.0.2.0/24", "2001:db8::/32", or a
 * bare address). Returns 0, or -1 with a reason in err.
 */
int pw_scan_allow(struct pw_scan *s, const char *cidr, char *err, size_t errlen);
/* One flow delta (inreader.h): what a source did at one local port. */
void pw_scan_observe(struct pw_scan *s, const struct pw_flow_delta *d, uint64_t now_ns);
/* Resolve pending SYNs, send updates and ends, forget silent sources. */
void pw_scan_tick(struct pw_scan *s, uint64_t now_ns);
/*
 * At exit, after a last read of the kernel's maps: pending SYNs count as
 * reaching a listener, and every detected scan still open gets its final
 * summary.
 */
void pw_scan_finish(struct pw_scan *s, uint64_t now_ns);
/* Sources tracked now, and the fixed size of the table in bytes. */
unsigned pw_scan_sources(const struct pw_scan *s);
size_t pw_scan_table_bytes(const struct pw_scan *s);

#endif /* PW_SCAN_H */
