/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A live session, shared by trace, watch, top and ports --duration: load
 * and attach everything, learn the sockets that exist, then loop: drain the
 * ring buffer, walk the inbound maps, run census passes, call the command's
 * tick, until a signal, --duration or the command says stop. Detach, drain,
 * and print the summary (events, records lost) on stderr.
 */
#ifndef PW_SESSION_H
#define PW_SESSION_H

#include <stdbool.h>

#include "decode.h"
#include "inreader.h"
#include "model.h"
#include "opts.h"
#include "pools.h"

struct pw_session;

struct pw_session_ops {
	/* Every decoded event that passes the filters (trace). May be NULL. */
	void (*event)(void *ctx, struct pw_ev *ev);
	/* Every inbound flow delta (for the scan detector). May be NULL. */
	void (*flow)(void *ctx, const struct pw_flow_delta *d);
	/* Called every second, after the inbound maps were read. May be NULL. */
	void (*second)(void *ctx);
	/* Called every tick_ms; return non-zero to end the session. May be NULL. */
	int (*tick)(void *ctx, struct pw_session *s);
	void *ctx;
	struct pw_model *model; /* fed with census passes, events and counters; may be NULL */
	/* Ephemeral-port pools: fed with events and census passes, counted every second. */
	struct pw_pools *pools; /* may be NULL */
	void (*pool_alert)(void *ctx, const struct pw_pool_view *v);     /* may be NULL */
	void (*pool_failure)(void *ctx, const struct pw_pool_failure *f); /* may be NULL */
	unsigned tick_ms;   /* default 1000 */
	unsigned walk_ms;   /* inbound map walk; default 1000 */
	unsigned census_ms; /* census pass (with a model); default 10000 */
	bool quiet_ready;   /* do not print "portwatch: ready" (full-screen top) */
	uint16_t kinds;     /* event kinds the command needs (pw_kfilter.kinds); 0: all */
};

/* What the port model needs from the trace programs: no connects, no connection closes. */
#define PW_MODEL_KINDS ((1 << PW_EV_BIND) | (1 << PW_EV_LISTEN) | (1 << PW_EV_ACCEPT) | PW_KIND_LISTENER_CLOSE)

/* What the pools need: every port taken and given back. */
#define PW_POOL_KINDS ((1 << PW_EV_BIND) | (1 << PW_EV_LISTEN) | (1 << PW_EV_CONNECT) | (1 << PW_EV_CLOSE))

/* Run a session; returns the exit status (0, or 1 with a reason printed). */
int pw_session_run(const struct pw_opts *o, const struct pw_session_ops *ops);
/* Ask the loop to stop after this iteration (e.g. from a tick). */
void pw_session_stop(struct pw_session *s);
/* Kernel counters so far (enum pw_counter). */
void pw_session_counters(struct pw_session *s, uint64_t out[PW_CNT__MAX]);

#endif /* PW_SESSION_H */
