// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "census.h"
#include "check.h"
#include "closed.h"
#include "inreader.h"
#include "loader.h"
#include "log.h"
#include "netns.h"
#include "poolcensus.h"
#include "session.h"

#define POLL_MS 100

struct pw_session {
	const struct pw_opts *opts;
	const struct pw_session_ops *ops;
	struct pw_loader *loader;
	struct pw_census *census;
	struct pw_inreader *inreader;
	struct pw_closed *closed; /* closed-port inference; NULL when kfree_skb has drop reasons */
	int64_t clock_offset;
	uint64_t shown;
	uint64_t malformed;
	bool stop;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void pw_session_stop(struct pw_session *s)
{
	s->stop = true;
}

void pw_session_counters(struct pw_session *s, uint64_t out[PW_CNT__MAX])
{
	pw_loader_counters(s->loader, out);
}

static void deliver(struct pw_session *s, struct pw_ev *ev)
{
	struct pw_pool_failure fail;

	if (!pw_filter_match(&s->opts->filter, ev))
		return;
	if (s->ops->model)
		pw_model_event(s->ops->model, ev);
	if (s->ops->pools && pw_pools_event(s->ops->pools, ev, &fail) && s->ops->pool_failure)
		s->ops->pool_failure(s->ops->ctx, &fail);
	if (s->ops->event)
		s->ops->event(s->ops->ctx, ev);
	s->shown++;
}

static uint64_t mono_ns(void);

static void on_flow(void *ctx, const struct pw_flow_delta *in)
{
	struct pw_session *s = ctx;
	struct pw_ev evs[PW_PROBE__MAX + 2];
	struct pw_flow_delta judged;
	const struct pw_flow_delta *d = in;
	uint32_t closed;
	int n, i;

	/* Before v5.17 no drop says which SYNs found no socket: judge them here. */
	if (s->closed) {
		judged = *in;
		closed = pw_closed_judge(s->closed, &judged, mono_ns());
		if (closed && s->ops->model)
			pw_model_closed_probes(s->ops->model, &judged.key, closed, judged.last_ns);
		d = &judged;
	}
	if (s->ops->model)
		pw_model_source(s->ops->model, &d->key);
	if (s->ops->flow)
		s->ops->flow(s->ops->ctx, d);
	n = pw_flow_events(d, s->clock_offset, evs, (int)(sizeof(evs) / sizeof(evs[0])));
	for (i = 0; i < n; i++)
		deliver(s, &evs[i]);
}

static void on_port_stats(void *ctx, const struct pw_port_key *k, const struct pw_port_stats *st)
{
	struct pw_session *s = ctx;

	if (s->ops->model)
		pw_model_port_stats(s->ops->model, k, st);
}

static int on_record(void *ctx, const void *data, size_t len)
{
	struct pw_session *s = ctx;
	const struct pw_inbound *in = data;
	struct pw_ev ev;
	int n;

	if (len >= sizeof(*in) && in->rec_type == PW_REC_INBOUND) {
		if (len == sizeof(*in))
			pw_inreader_record(s->inreader, in);
		else
			s->malformed++;
		return 0;
	}
	if (pw_decode_event(data, len, s->clock_offset, &ev)) {
		s->malformed++;
		return 0;
	}
	/* Listeners come and go whatever the user's filters show. */
	if (s->closed)
		pw_closed_event(s->closed, &ev);
	/* Who holds it? Ask the kernel now, while the holder still does. */
	if (ev.result == -EADDRINUSE && (ev.kind == PW_EV_BIND || ev.kind == PW_EV_LISTEN) &&
	    ev.local_port && pw_filter_match(&s->opts->filter, &ev)) {
		n = pw_census_holders(s->census, ev.netns, ev.proto, ev.local_port, ev.holders,
				      PW_MAX_HOLDERS);
		ev.n_holders = n > 0 ? n : 0;
	}
	deliver(s, &ev);
	return 0;
}

static int census_sock(void *ctx, const struct pw_sock *sk)
{
	pw_model_census_sock(ctx, sk);
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int closed_listener(void *ctx, const struct pw_sock *sk)
{
	if (sk->proto == PW_PROTO_TCP && sk->state == PW_TCP_LISTEN)
		pw_closed_listener(ctx, sk->family, sk->laddr, sk->lport);
	return 0;
}

/*
 * The closed-port table's view of one namespace (closed.h): its addresses
 * (getifaddrs(), whose netlink socket belongs to the namespace the thread
 * is in) and its TCP listeners (iter/tcp, bound to it the same way). The
 * namespace is entered through the hinted pid, the pools' pids, a name in
 * /run/netns, or else a pid found in /proc. Returns 0 or -errno.
 */
static int closed_refresh(void *ctx, struct pw_closed *c, uint32_t netns, uint32_t *pid_hint)
{
	struct pw_session *s = ctx;
	struct ifaddrs *ifas = NULL, *i;
	uint32_t pids[9];
	int npids = 0, saved, ret, n;

	if (*pid_hint)
		pids[npids++] = *pid_hint;
	if (s->ops->pools)
		npids += pw_pools_netns_pids(s->ops->pools, netns, pids + npids, 8);
	saved = pw_netns_enter(netns, pids, (size_t)npids);
	if (saved == -ESRCH && !pw_netns_find_pid(netns, pid_hint))
		saved = pw_netns_enter(netns, pid_hint, 1);
	if (saved < 0)
		return saved;
	ret = getifaddrs(&ifas) ? -errno : 0;
	for (i = ifas; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			pw_closed_local_addr(c, PW_AF_INET,
					     (const uint8_t *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr);
		else if (i->ifa_addr->sa_family == AF_INET6)
			pw_closed_local_addr(c, PW_AF_INET6,
					     (const uint8_t *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr);
	}
	freeifaddrs(ifas);
	if (!ret) {
		n = pw_census_netns_tcp(s->census, closed_listener, c);
		ret = n < 0 ? n : 0;
	}
	n = pw_netns_leave(saved);
	if (n) {
		/* As in the pools' census: a thread left in a foreign namespace invalidates everything after. */
		pw_err("cannot return to portwatch's own network namespace: %s", strerror(-n));
		exit(1);
	}
	return ret;
}

/*
 * One census pass into the model and the pools; the first (seed) also
 * learns the owners of every existing TCP socket. Returns 0 or -errno.
 */
static int census_pass(struct pw_session *s, bool seed)
{
	struct pw_census_filter f = { .netns = s->opts->filter.netns };
	struct pw_pools_census_stats st;
	struct pw_model *m = s->ops->model;
	int ret;

	/* Events the kernel sent before the pass must not land after it. */
	pw_loader_poll(s->loader, 0);
	if (m)
		pw_model_census_begin(m);
	if (s->ops->pools) {
		ret = (seed ? pw_pools_census_seeding : pw_pools_census)(s->ops->pools, s->census, f.netns,
									 m ? census_sock : NULL, m, &st);
		if (!ret)
			pw_info("census: %u sockets, %u namespaces walked (%u could not be entered) "
				"in %.1f ms", st.sockets, st.namespaces, st.unreachable,
				(double)st.elapsed_ns / 1e6);
	} else {
		ret = (seed ? pw_census_run_seeding : pw_census_run)(s->census, &f, census_sock, m);
	}
	if (!ret && m)
		pw_model_census_end(m);
	return ret;
}

static void pool_alert(void *ctx, const struct pw_pool_view *v)
{
	struct pw_session *s = ctx;

	if (s->ops->pool_alert)
		s->ops->pool_alert(s->ops->ctx, v);
}

int pw_session_run(const struct pw_opts *o, const struct pw_session_ops *ops)
{
	struct pw_session s = { .opts = o, .ops = ops };
	unsigned tick_ms = ops->tick_ms ? ops->tick_ms : 1000;
	unsigned walk_ms = ops->walk_ms ? ops->walk_ms : 1000; /* also the pace of ops->second */
	unsigned census_ms = ops->census_ms ? ops->census_ms : 10000;
	uint64_t counters[PW_CNT__MAX], start, deadline = 0, next_tick, next_walk, next_census;
	struct sigaction sa = { .sa_handler = on_signal };
	struct pw_kfilter k;
	char err[256];
	int ret = 1, n;

	s.clock_offset = pw_clock_offset_ns();
	if (pw_verbosity >= 2) {
		/* -vv: the feature table, as `portwatch check` prints it. */
		struct pw_features ft;

		pw_features_probe(&ft);
		pw_features_print(stderr, &ft, false);
	}
	pw_filter_kernel(&o->filter, &k);
	k.kinds = ops->kinds;
	if (pw_loader_open(&s.loader, &k, o->ringbuf_kb, true, on_record, &s, err, sizeof(err))) {
		pw_err("%s", err);
		goto out;
	}
	if (pw_census_open(&s.census, pw_loader_owners_fd(s.loader), err, sizeof(err))) {
		pw_err("%s", err);
		goto out;
	}
	if (!pw_loader_drop_reasons(s.loader)) {
		s.closed = pw_closed_new(closed_refresh, &s);
		if (!s.closed) {
			pw_err("out of memory");
			goto out;
		}
	}
	s.inreader = pw_inreader_new(pw_loader_flows_fd(s.loader), pw_loader_port_stats_fd(s.loader),
				     on_flow, on_port_stats, &s);
	if (!s.inreader) {
		pw_err("out of memory");
		goto out;
	}
	/* After attaching: sockets born since are known already and kept. */
	/* One walk both seeds the owners map and feeds the model, when there is one. */
	if (ops->model || ops->pools)
		n = census_pass(&s, true);
	else
		n = pw_census_seed_owners(s.census);
	if (n < 0) {
		pw_err("socket census failed: %s", strerror(-n));
		goto out;
	}
	stop_requested = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	start = now_ms();
	if (o->duration > 0)
		deadline = start + (uint64_t)(o->duration * 1000);
	next_tick = start + tick_ms;
	next_walk = start + walk_ms;
	next_census = start + census_ms;
	if (!ops->quiet_ready)
		fprintf(stderr, "portwatch: ready\n");
	if (ops->tick && ops->tick(ops->ctx, &s))
		s.stop = true;

	while (!stop_requested && !s.stop && (!deadline || now_ms() < deadline)) {
		n = pw_loader_poll(s.loader, POLL_MS);
		if (n < 0 && n != -EINTR) {
			pw_err("ring buffer: %s", strerror(-n));
			goto out;
		}
		if (now_ms() >= next_walk) {
			pw_inreader_walk(s.inreader);
			next_walk += walk_ms;
			if (s.closed)
				pw_closed_expire(s.closed, mono_ns());
			if (ops->pools) {
				/*
				 * New namespaces at once; the others' sysctls every
				 * second while few, else at census passes.
				 */
				pw_pools_read_ranges(ops->pools, pw_pools_netns_list(ops->pools, NULL, 0) <= 64);
				pw_pools_tick(ops->pools, mono_ns(), pool_alert, &s);
			}
			if (ops->second)
				ops->second(ops->ctx);
		}
		if ((ops->model || ops->pools) && now_ms() >= next_census) {
			census_pass(&s, false);
			next_census += census_ms;
		}
		if (now_ms() >= next_tick) {
			next_tick += tick_ms;
			if (ops->tick && ops->tick(ops->ctx, &s))
				break;
		}
		if (fflush(stdout) == EOF) {
			pw_err("cannot write output: %s", strerror(errno));
			goto out;
		}
	}
	/* What the kernel already counted belongs to the run: drain it all. */
	pw_loader_poll(s.loader, 0);
	pw_inreader_walk(s.inreader);
	if (ops->model || ops->pools)
		census_pass(&s, false);
	if (ops->pools)
		pw_pools_tick(ops->pools, mono_ns(), pool_alert, &s);
	if (ops->tick)
		ops->tick(ops->ctx, NULL); /* the final tick: print totals */
	fflush(stdout);
	pw_loader_counters(s.loader, counters);
	fprintf(stderr,
		"portwatch: %" PRIu64 " events, %" PRIu64 " shown, %" PRIu64
		" lost to ring-buffer overflow, %" PRIu64 " filtered in kernel\n",
		counters[PW_CNT_EVENTS], s.shown, counters[PW_CNT_LOST], counters[PW_CNT_FILTERED]);
	if (s.malformed || counters[PW_CNT_STASH_FULL] || counters[PW_CNT_FIRST_SUPPRESSED] ||
	    counters[PW_CNT_INBOUND_UNPARSED])
		fprintf(stderr,
			"portwatch: %" PRIu64 " malformed records, %" PRIu64
			" syscalls not tracked (argument map full), %" PRIu64
			" first sightings not sent (rate limit; counted in maps), %" PRIu64
			" dropped packets not parsed (IPv6 extension headers, fragments)\n",
			s.malformed, counters[PW_CNT_STASH_FULL], counters[PW_CNT_FIRST_SUPPRESSED],
			counters[PW_CNT_INBOUND_UNPARSED]);
	if (s.closed) {
		struct pw_closed_stats cs;

		pw_closed_stats(s.closed, &cs);
		fprintf(stderr,
			"portwatch: closed ports inferred (no drop reasons): %" PRIu64 " SYNs judged closed, %" PRIu64
			" to listening ports, %" PRIu64 " to non-local addresses, %" PRIu64
			" not judged (namespace unreadable)\n",
			cs.judged_closed, cs.judged_open, cs.not_local, cs.unjudged);
	}
	ret = 0;
out:
	pw_closed_free(s.closed);
	pw_inreader_free(s.inreader);
	pw_census_close(s.census);
	pw_loader_close(s.loader);
	return ret;
}
