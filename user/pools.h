/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Ephemeral-port pools, per network namespace (DESIGN §4): which ports of
 * ip_local_port_range are taken and by whom, how fast they go, and when a
 * pool will run dry.
 *
 * - connect pool, per (source, destination, destination port): ports that
 *   connect() cannot use for that destination: its own connections and
 *   their TIME_WAIT, plus every port taken by bind() or listen().
 * - bind pool (TCP bind(addr, 0), listen() on an unbound socket): every TCP
 *   port in use, TIME_WAIT included.
 * - UDP pool: every bound UDP port.
 *
 * The model is a table of "holdings" (a socket's 4-tuple, or the TIME_WAIT
 * left on it) kept from trace events as they happen, and put right by
 * census passes (iter/task_file, iter/tcp, iter/udp). Pure: it never talks
 * to the kernel, so it is unit-tested with made-up events and clocks.
 */
#ifndef PW_POOLS_H
#define PW_POOLS_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "netns.h"
#include "portwatch.h"

enum pw_pool_kind {
	PW_POOL_CONNECT = 0,
	PW_POOL_BIND,
	PW_POOL_UDP,
};

enum pw_pool_severity {
	PW_SEV_NONE = 0,
	PW_SEV_INFO,     /* a connect pool is half used: connect() scans the other parity now */
	PW_SEV_WARNING,  /* 70 % used, or dry within a minute at the current rates */
	PW_SEV_CRITICAL, /* 90 % used, or dry within 10 s */
};

#define PW_POOL_TOP 3
#define PW_POOL_HINT_LEN 512

struct pw_pool_consumer {
	uint32_t pid; /* 0: no process holds it any more (TIME_WAIT, orphan) */
	char comm[PW_COMM_LEN + 1];
	uint32_t count;
};

struct pw_pool_dest {
	char destination[INET6_ADDRSTRLEN + 8]; /* "198.18.0.2:80", "[2001:db8::2]:80" */
	uint32_t count;
};

/* One pool as the renderers see it. */
struct pw_pool_view {
	uint32_t netns;
	enum pw_pool_kind kind;
	uint8_t proto; /* PW_PROTO_TCP or PW_PROTO_UDP */
	char source[INET6_ADDRSTRLEN];          /* connect pool only */
	char destination[INET6_ADDRSTRLEN + 8]; /* connect pool only: address and port */
	uint32_t in_use;
	uint32_t capacity; /* 0: the namespace's range could not be read */
	uint32_t time_wait;
	bool eta_known;
	uint32_t eta_s;
	double alloc_rate; /* allocations per second, over the last few seconds */
	bool range_known;
	uint16_t lo, hi;
	uint32_t reserved;
	uint8_t tw_reuse;
	enum pw_pool_severity severity;
	int n_top;
	struct pw_pool_consumer top[PW_POOL_TOP];
	int n_dests; /* bind and UDP pools: the destinations that use most of it */
	struct pw_pool_dest dests[PW_POOL_TOP];
	char hint[PW_POOL_HINT_LEN];
};

/* A real allocation failure, from one trace event. */
struct pw_pool_failure {
	uint32_t netns;
	enum pw_pool_kind kind;
	uint8_t proto;
	uint32_t pid;
	char comm[PW_COMM_LEN + 1];
	char destination[INET6_ADDRSTRLEN + 8]; /* connect pool, UDP connect; else "" */
	int32_t result;
	uint64_t wall_ns;
};

struct pw_pools;

typedef void (*pw_pool_fn)(void *ctx, const struct pw_pool_view *v);

struct pw_pools *pw_pools_new(void);
void pw_pools_free(struct pw_pools *p);

/* The namespace's sysctls, read by the caller inside it (netns.h). */
void pw_pools_set_range(struct pw_pools *p, uint32_t netns, const struct pw_port_range *r);
/* Whether netns's sysctls were given (pw_pools_set_range). */
bool pw_pools_range_known(const struct pw_pools *p, uint32_t netns);
/* Processes last seen in netns (to enter it); returns how many, at most max. */
int pw_pools_netns_pids(const struct pw_pools *p, uint32_t netns, uint32_t *out, int max);
/* Every namespace the model knows; returns how many, at most max (out NULL: how many in all). */
int pw_pools_netns_list(const struct pw_pools *p, uint32_t *out, int max);

/*
 * A decoded event (its mono_ns is the model's clock). Returns true and
 * fills fail when the event is an ephemeral allocation failure.
 */
bool pw_pools_event(struct pw_pools *p, const struct pw_ev *ev, struct pw_pool_failure *fail);

/*
 * Census pass: begin, feed every record of iter/task_file (all namespaces)
 * and of iter/tcp and iter/udp (one namespace each), then end each
 * namespace whose hash tables were walked: holdings of that namespace the
 * pass did not see, and no event touched since the pass began, are gone.
 */
void pw_pools_census_begin(struct pw_pools *p, uint64_t mono_ns);
void pw_pools_census_sock(struct pw_pools *p, const struct pw_sock *s);
void pw_pools_census_end(struct pw_pools *p, uint32_t netns);

/*
 * Once a second: count every pool, project when it runs dry, and call
 * alert for each pool whose severity rose (or stays at warning or above
 * for another 10 s). mono_ns is CLOCK_MONOTONIC as in events.
 */
void pw_pools_tick(struct pw_pools *p, uint64_t mono_ns, pw_pool_fn alert, void *ctx);
/* The pools of netns (0: all) with something in use, as of the last tick. */
void pw_pools_each(const struct pw_pools *p, uint32_t netns, pw_pool_fn fn, void *ctx);

const char *pw_pool_kind_name(enum pw_pool_kind k);
const char *pw_severity_name(enum pw_pool_severity s);

#endif /* PW_POOLS_H */
