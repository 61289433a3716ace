/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The trace loader: checks what the kernel offers, loads and attaches the
 * tracepoint programs (bpf/trace.bpf.c) and drains their ring buffer.
 */
#ifndef PW_LOADER_H
#define PW_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "portwatch.h"

/* Called for every ring-buffer record; return non-zero to stop draining. */
typedef int (*pw_record_fn)(void *ctx, const void *data, size_t len);

struct pw_loader;

/*
 * Check privileges, BTF, kernel version and tracefs (mounting it when
 * absent), then open, load and attach every program with the in-kernel
 * filter k and a ring buffer of ringbuf_kb KiB (a power of two, at least
 * one page); with want_inbound also the inbound-traffic programs
 * (bpf/inbound.bpf.c), which report through the same ring. On failure returns a negative errno with a one-line reason in
 * err and *out untouched; on success *out owns everything until
 * pw_loader_close().
 */
int pw_loader_open(struct pw_loader **out, const struct pw_kfilter *k, unsigned ringbuf_kb,
		   bool want_inbound, pw_record_fn fn, void *ctx, char *err, size_t errlen);
/* Wait up to timeout_ms for records and hand every waiting one to fn. */
int pw_loader_poll(struct pw_loader *l, int timeout_ms);
/* Sum the per-CPU counters (enum pw_counter) into out. */
void pw_loader_counters(struct pw_loader *l, uint64_t out[PW_CNT__MAX]);
/* The inbound per-port and per-source maps (portwatch.h); -1 without inbound. */
int pw_loader_port_stats_fd(struct pw_loader *l);
int pw_loader_flows_fd(struct pw_loader *l);
/*
 * Does the inbound object learn the fate of packets from kfree_skb's drop
 * reason (pw_drop loaded, v5.17+)? false without inbound programs.
 */
bool pw_loader_drop_reasons(const struct pw_loader *l);
/* The socket-owner map, to share with the census (census.h). */
int pw_loader_owners_fd(struct pw_loader *l);
/* Detach and free; NULL is fine. */
void pw_loader_close(struct pw_loader *l);

/*
 * Environment checks shared by every command that loads BPF; each returns
 * 0 or a negative errno with a one-line reason in err.
 */
int pw_check_privileges(char *err, size_t errlen);
int pw_check_kernel(char *err, size_t errlen);
int pw_ensure_tracefs(char *err, size_t errlen);

#endif /* PW_LOADER_H */
