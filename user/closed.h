/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Closed ports on kernels without drop reasons (before v5.17, where
 * kfree_skb does not say NO_SOCKET and bpf/inbound.bpf.c's pw_drop is not
 * loaded). The inbound SYN capture (pw_rx) still counts every SYN per
 * source and port; this module judges each SYN delta against the table of
 * listening sockets and local addresses of the SYN's network namespace: a
 * SYN to a local address and a port no listener covers there is what the
 * kernel answers with a RST, so it gets the fate PW_FATE_CLOSED, as the
 * drop hook would have given it.
 *
 * The table comes from the caller's refresh function (the session enters
 * the namespace and reads its addresses, and its listeners with iter/tcp),
 * asked when a namespace is first judged and again when a SYN that arrived
 * after the last refresh would be judged closed (at most every 250 ms) or
 * not local (every 5 s); listen and listener-close events keep it current
 * in between. A SYN whose namespace cannot be read, or to an address that
 * is not local there (a router or bridge forwarding it), is left unjudged:
 * the drop hook would not have seen it either. Only SYNs with a flow are
 * judged: one the kernel counted at its port alone (no first-sighting
 * token for a new source, bpf/flows.bpf.h) stays in syn_in only. Nothing here prints or
 * touches the kernel.
 */
#ifndef PW_CLOSED_H
#define PW_CLOSED_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "inreader.h"

struct pw_closed;

/*
 * Learn netns's listeners and local addresses now, by calling
 * pw_closed_listener() and pw_closed_local_addr() for each. *pid_hint is a
 * process last seen in that namespace (0: none), which the function may
 * use and update. Returns 0, or -errno when the namespace could not be
 * read (its SYNs then stay unjudged until a retry, a second later).
 */
typedef int (*pw_closed_refresh_fn)(void *ctx, struct pw_closed *c, uint32_t netns, uint32_t *pid_hint);

struct pw_closed_stats {
	uint64_t judged_closed; /* SYNs given PW_FATE_CLOSED */
	uint64_t judged_open;   /* SYNs to a port a listener covers */
	uint64_t not_local;     /* SYNs to an address not local to their namespace */
	uint64_t unjudged;      /* namespace unreadable, or beyond the table's bounds */
	uint64_t refreshes;     /* calls to the refresh function */
};

/* A new, empty table. Returns NULL when out of memory. */
struct pw_closed *pw_closed_new(pw_closed_refresh_fn refresh, void *ctx);
void pw_closed_free(struct pw_closed *c);

/*
 * For the refresh function only, for the namespace it was asked about.
 * family is PW_AF_INET or PW_AF_INET6; addr has 16 bytes (IPv4 in the
 * first 4); ::ffff:a.b.c.d counts as IPv4. Entries past the bounds (16384
 * listeners, 256 addresses per namespace) make the namespace unjudged.
 */
void pw_closed_listener(struct pw_closed *c, int family, const uint8_t *addr, uint16_t port);
void pw_closed_local_addr(struct pw_closed *c, int family, const uint8_t *addr);

/* A decoded event: successful TCP listens add a listener, listener closes remove it. */
void pw_closed_event(struct pw_closed *c, const struct pw_ev *ev);

/*
 * Judge delta d (now_ns: CLOCK_MONOTONIC, as d->last_ns): a TCP delta with
 * SYNs, no fate, no completed handshake, to a local address and a port no
 * listener covers gets d->fates[PW_FATE_CLOSED] = its SYN count. May call
 * the refresh function. Returns the SYNs judged closed (0 for any other
 * delta, which is left as it was).
 */
uint32_t pw_closed_judge(struct pw_closed *c, struct pw_flow_delta *d, uint64_t now_ns);

/* Forget namespaces not judged for 60 s (called every second). */
void pw_closed_expire(struct pw_closed *c, uint64_t now_ns);

void pw_closed_stats(const struct pw_closed *c, struct pw_closed_stats *out);

#endif /* PW_CLOSED_H */
