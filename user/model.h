/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The per-port model: one entry per (network namespace, protocol, port),
 * built from the socket census (who holds it, on which addresses), trace
 * events (binds, accepts, listens, closes) and the kernel's inbound
 * counters. It raises exposure and baseline alerts as ports appear, and
 * hands out snapshots for the renderers (ports, watch, top).
 */
#ifndef PW_MODEL_H
#define PW_MODEL_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "baseline.h"
#include "decode.h"
#include "portwatch.h"

#define PW_PORT_MAX_OWNERS 4
#define PW_PORT_MAX_ADDRS 4
#define PW_CMDLINE_LEN 128

enum pw_port_state {
	PW_PORT_CLOSED = 0, /* nothing holds it, yet packets arrived */
	PW_PORT_BOUND,      /* bound (TCP not listening, or UDP) */
	PW_PORT_LISTENING,  /* a TCP listener */
};

enum pw_port_flag {
	PW_PF_EXPOSED = 1 << 0,  /* a sensitive port listening on a wildcard address */
	PW_PF_NEW = 1 << 1,      /* listening, and not in the --baseline file */
	PW_PF_LOOPBACK = 1 << 2, /* every address is a loopback one */
	PW_PF_WILDCARD = 1 << 3, /* some address is 0.0.0.0 or :: */
};

struct pw_port_owner {
	uint32_t pid;
	uint32_t uid;
	uint64_t cgroup_id;
	char comm[PW_COMM_LEN + 1]; /* raw: escape before printing */
	char cmdline[PW_CMDLINE_LEN]; /* from /proc/PID/cmdline, spaces for NULs; raw */
};

struct pw_port_counters {
	uint64_t syn_in;
	uint64_t accepts;
	uint64_t closed_probes;
	uint64_t half_open;
	uint64_t resets_out;
	uint64_t resets_in;
	uint64_t binds;
	uint64_t bind_failures;
	uint64_t listen_overflows;
	uint64_t flag_probes;
	uint64_t filtered;
};

/* A snapshot of one port, owned by the caller of pw_model_snapshot(). */
struct pw_port_view {
	uint32_t netns;
	int proto; /* PW_PROTO_TCP / PW_PROTO_UDP */
	uint16_t port;
	enum pw_port_state state;
	int n_owners;
	struct pw_port_owner owners[PW_PORT_MAX_OWNERS];
	int n_addrs;
	char addrs[PW_PORT_MAX_ADDRS][INET6_ADDRSTRLEN];
	const char *service; /* NULL when unknown; static */
	unsigned flags;      /* enum pw_port_flag */
	struct pw_port_counters c;
	/* Distinct remote sources: linear-counting estimate over 4096 bits
	 * (within a few percent up to ~10k sources), exact below ~100. */
	uint64_t sources;
	uint64_t first_wall_ns; /* CLOCK_REALTIME; first activity or first sighting */
	uint64_t last_wall_ns;
	uint64_t activity; /* counter growth since the previous snapshot with mark */
};

enum pw_sort {
	PW_SORT_ACTIVITY = 0, /* most recent growth first, then total traffic */
	PW_SORT_PORT,
	PW_SORT_SYN,
	PW_SORT_PROBES,
	PW_SORT_SOURCES,
	PW_SORT__MAX,
};

/* What the snapshot keeps; zero fields match everything. */
struct pw_view_filter {
	uint32_t netns;
	char comm[PW_COMM_LEN + 1]; /* some owner has exactly this comm */
	bool active_only;           /* only ports with any counter > 0 */
	uint16_t port;
	int proto;
	uint32_t pid;       /* some owner has this pid */
	uint64_t cgroup_id; /* some owner is in this cgroup */
};

/* The view filter that the command-line filter f implies. */
struct pw_filter;
void pw_view_filter_from(struct pw_view_filter *v, const struct pw_filter *f);

struct pw_alert {
	const char *type;     /* "exposed_listener", "new_listener", "bind_conflict" */
	const char *severity; /* "info", "warning", "critical" */
	uint64_t wall_ns;
	uint32_t netns;
	int proto;
	uint16_t port;
	char addr[INET6_ADDRSTRLEN];
	const char *service; /* may be NULL */
	struct pw_holder who;    /* the listener, or the process whose bind failed */
	struct pw_holder holder; /* bind_conflict: the process holding the port; pid 0 if unknown */
	char detail[96];         /* other alerts (port_scan): a one-line summary */
};

typedef void (*pw_alert_fn)(void *ctx, const struct pw_alert *a);

struct pw_model;

/*
 * A new empty model. baseline may be NULL (no new_listener alerts); it is
 * borrowed and must outlive the model. alert_fn (may be NULL) is called for
 * every alert as it is raised; alerts are also kept for pw_model_recent().
 */
struct pw_model *pw_model_new(const struct pw_baseline *baseline, pw_alert_fn alert_fn, void *ctx,
			      int64_t clock_offset);
void pw_model_free(struct pw_model *m);

/*
 * A census pass: begin, one call per socket, end. Sockets replace what the
 * previous pass said about owners, addresses and state; ports no socket
 * holds any more become closed (kept while they have counters, else
 * dropped). Listeners new since the previous pass raise alerts; the first
 * pass raises exposure alerts (and baseline alerts) for what exists.
 */
void pw_model_census_begin(struct pw_model *m);
void pw_model_census_sock(struct pw_model *m, const struct pw_sock *s);
void pw_model_census_end(struct pw_model *m);

/* A decoded trace event (bind, listen, accept, close...). */
void pw_model_event(struct pw_model *m, const struct pw_ev *ev);
/* The kernel's cumulative counters for one port (portwatch.h). */
void pw_model_port_stats(struct pw_model *m, const struct pw_port_key *k, const struct pw_port_stats *s);
/*
 * n SYNs to k's port judged closed in user space (closed.h: kernels without
 * drop reasons, where the kernel's closed_probes stays 0). mono_ns: the
 * latest one's CLOCK_MONOTONIC time, 0 if unknown.
 */
void pw_model_closed_probes(struct pw_model *m, const struct pw_flow_key *k, uint32_t n, uint64_t mono_ns);
/* A remote source seen at a local port (for the distinct-source estimate). */
void pw_model_source(struct pw_model *m, const struct pw_flow_key *k);

/*
 * Copy the ports that pass f (NULL: all) into a new array sorted by sort;
 * *out is owned by the caller (free()). With mark, "activity" is measured
 * from the previous marked snapshot and the baseline of the next one is
 * reset. Returns the count, or -ENOMEM.
 */
int pw_model_snapshot(struct pw_model *m, const struct pw_view_filter *f, enum pw_sort sort, bool mark,
		      struct pw_port_view **out);
/* Keep an alert raised elsewhere (scans) among the recent ones, for top. */
void pw_model_note(struct pw_model *m, const struct pw_alert *a);
/* The most recent alerts, newest first, at most max. Returns the count. */
int pw_model_recent(struct pw_model *m, struct pw_alert *out, int max);
/* Network namespaces that have ports, ascending, at most max. */
int pw_model_netns_list(struct pw_model *m, uint32_t *out, int max);

const char *pw_port_state_name(enum pw_port_state s);
const char *pw_sort_name(enum pw_sort s);

#endif /* PW_MODEL_H */
