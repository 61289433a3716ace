// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "baseline.h"
#include "census.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "model.h"
#include "poolcensus.h"
#include "poolview.h"
#include "portview.h"
#include "scan.h"
#include "session.h"
#include "watch.h"

struct watch_ctx {
	const struct pw_opts *opts;
	struct pw_model *model;
	struct pw_scan *scan; /* watch only */
	int64_t clock_offset;
	struct pw_baseline *baseline;
	struct json_writer *jw;
	struct pw_pools *pools;
};

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void print_pool_alert(void *vctx, const struct pw_pool_view *v)
{
	struct watch_ctx *w = vctx;
	uint64_t now = wall_ns();
	struct pw_alert al;

	if (w->opts->json) {
		pw_render_exhaustion_json(w->jw, v, now);
		jw_flush_line(w->jw, stdout);
	} else {
		pw_render_exhaustion_text(stdout, v, now);
	}
	fflush(stdout);
	pw_exhaustion_to_alert(v, now, &al);
	pw_model_note(w->model, &al);
}

static void print_pool_failure(void *vctx, const struct pw_pool_failure *f)
{
	struct watch_ctx *w = vctx;
	struct pw_alert al;

	if (w->opts->json) {
		pw_render_failure_json(w->jw, f);
		jw_flush_line(w->jw, stdout);
	} else {
		pw_render_failure_text(stdout, f);
	}
	fflush(stdout);
	pw_failure_to_alert(f, &al);
	pw_model_note(w->model, &al);
}

struct pool_list {
	struct pw_pool_view *v;
	int n, cap;
};

static void collect_pool(void *ctx, const struct pw_pool_view *v)
{
	struct pool_list *l = ctx;
	struct pw_pool_view *grown;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		grown = realloc(l->v, (size_t)l->cap * sizeof(*grown));
		if (!grown)
			return;
		l->v = grown;
	}
	l->v[l->n++] = *v;
}

static int by_pool(const void *a, const void *b)
{
	const struct pw_pool_view *x = a, *y = b;

	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return y->in_use < x->in_use ? -1 : y->in_use > x->in_use;
}

/* Every pool of the filtered namespace with something in use. */
static void print_pools(struct watch_ctx *w)
{
	struct pool_list l = { 0 };
	uint64_t now = wall_ns();
	int i;

	pw_pools_each(w->pools, w->opts->filter.netns, collect_pool, &l);
	if (l.n)
		qsort(l.v, (size_t)l.n, sizeof(l.v[0]), by_pool);
	for (i = 0; i < l.n && w->opts->json; i++) {
		pw_render_pool_json(w->jw, &l.v[i], now);
		jw_flush_line(w->jw, stdout);
	}
	if (!w->opts->json)
		pw_render_pool_table(stdout, l.v, l.n);
	free(l.v);
	fflush(stdout);
}

static void print_alert(void *vctx, const struct pw_alert *a)
{
	struct watch_ctx *w = vctx;

	if (w->opts->json) {
		pw_render_alert_json(w->jw, a);
		jw_flush_line(w->jw, stdout);
	} else {
		pw_render_alert_text(stdout, a);
	}
	fflush(stdout);
}

/* Every port the filter keeps, as JSON lines or one table. */
static int print_ports(struct watch_ctx *w, bool active_only)
{
	struct pw_view_filter f;
	struct pw_port_view *v = NULL;
	int n, i;

	pw_view_filter_from(&f, &w->opts->filter);
	f.active_only = active_only;
	n = pw_model_snapshot(w->model, &f, PW_SORT_PORT, true, &v);
	if (n < 0)
		return n;
	for (i = 0; i < n && w->opts->json; i++) {
		pw_render_port_json(w->jw, &v[i]);
		jw_flush_line(w->jw, stdout);
	}
	if (!w->opts->json)
		pw_render_port_table(stdout, v, n);
	free(v);
	fflush(stdout);
	return 0;
}

static void print_scan(void *vctx, const struct pw_scan_alert *a)
{
	struct watch_ctx *w = vctx;
	struct pw_alert al;

	if (w->opts->json) {
		pw_render_scan_json(w->jw, a, w->clock_offset);
		jw_flush_line(w->jw, stdout);
	} else {
		pw_render_scan_text(stdout, a, w->clock_offset);
	}
	fflush(stdout);
	pw_scan_to_alert(a, w->clock_offset, &al);
	pw_model_note(w->model, &al);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void watch_flow(void *vctx, const struct pw_flow_delta *d)
{
	struct watch_ctx *w = vctx;

	pw_scan_observe(w->scan, d, mono_ns());
}

static void watch_second(void *vctx)
{
	struct watch_ctx *w = vctx;

	pw_scan_tick(w->scan, mono_ns());
}

static int watch_tick(void *vctx, struct pw_session *s)
{
	struct watch_ctx *w = vctx;

	/* Every interval, and once more at exit (s == NULL). */
	if (!s && w->scan)
		pw_scan_finish(w->scan, mono_ns());
	print_ports(w, true);
	if (w->pools)
		print_pools(w);
	return 0;
}

/* The scan detector with the --allow ranges; 1 with a message on error. */
static int setup_scan(struct watch_ctx *w, const struct pw_opts *o)
{
	char err[256];
	int i;

	w->scan = pw_scan_new(NULL, print_scan, w);
	if (!w->scan) {
		pw_err("out of memory");
		return 1;
	}
	for (i = 0; i < o->n_allow; i++) {
		if (pw_scan_allow(w->scan, o->allow[i], err, sizeof(err))) {
			pw_err("%s", err);
			return 1;
		}
	}
	return 0;
}

/* with_alerts: alerts go to stdout as they are raised (not for ports). */
static int setup(struct watch_ctx *w, const struct pw_opts *o, bool with_alerts)
{
	char err[256];
	int ret = 1;

	w->opts = o;
	w->clock_offset = pw_clock_offset_ns();
	w->jw = jw_new();
	if (!w->jw) {
		pw_err("out of memory");
		goto out;
	}
	if (o->baseline) {
		w->baseline = pw_baseline_load(o->baseline, err, sizeof(err));
		if (!w->baseline) {
			pw_err("%s", err);
			goto out;
		}
	}
	w->model = pw_model_new(w->baseline, with_alerts ? print_alert : NULL, w, w->clock_offset);
	w->pools = pw_pools_new();
	if (!w->model || !w->pools) {
		pw_err("out of memory");
		goto out;
	}
	ret = 0;
out:
	return ret;
}

static void teardown(struct watch_ctx *w)
{
	pw_scan_free(w->scan);
	pw_model_free(w->model);
	pw_pools_free(w->pools);
	pw_baseline_free(w->baseline);
	jw_free(w->jw);
}

int pw_cmd_watch(const struct pw_opts *o)
{
	struct watch_ctx w = {};
	struct pw_session_ops ops = { .tick = watch_tick, .ctx = &w };
	int ret;

	ret = setup(&w, o, true);
	if (!ret)
		ret = setup_scan(&w, o);
	if (ret)
		goto out;
	ops.model = w.model;
	ops.pools = w.pools;
	ops.pool_alert = print_pool_alert;
	ops.pool_failure = print_pool_failure;
	ops.kinds = PW_MODEL_KINDS | PW_POOL_KINDS;
	ops.flow = watch_flow;
	ops.second = watch_second;
	ops.tick_ms = (unsigned)((o->interval > 0 ? o->interval : 10) * 1000);
	ret = pw_session_run(o, &ops);
out:
	teardown(&w);
	return ret;
}

static int ports_census_sock(void *ctx, const struct pw_sock *s)
{
	pw_model_census_sock(ctx, s);
	return 0;
}

/* Listeners, and bound UDP ports, as baseline lines. */
static int write_baseline(struct watch_ctx *w, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	struct pw_port_view *v = NULL;
	int n, i, j, ret = -1;

	if (!f) {
		pw_err("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	n = pw_model_snapshot(w->model, NULL, PW_SORT_PORT, false, &v);
	if (n < 0)
		goto out;
	fprintf(f, "# portwatch baseline: approved listeners (protocol port [process])\n");
	for (i = 0; i < n; i++) {
		if (v[i].state != PW_PORT_LISTENING && !(v[i].proto == 17 && v[i].state == PW_PORT_BOUND))
			continue;
		if (v[i].n_owners == 0)
			pw_baseline_write_entry(f, v[i].proto, v[i].port, NULL);
		for (j = 0; j < v[i].n_owners; j++)
			pw_baseline_write_entry(f, v[i].proto, v[i].port, v[i].owners[j].comm);
	}
	ret = ferror(f) ? -1 : 0;
out:
	if (f && f != stdout && fclose(f))
		ret = -1;
	free(v);
	return ret;
}

int pw_cmd_ports(const struct pw_opts *o)
{
	struct pw_census_filter cf = { .netns = o->filter.netns };
	struct pw_session_ops ops = {};
	struct pw_census *census = NULL;
	struct pw_pools_census_stats st;
	struct watch_ctx w = {};
	char err[256];
	int ret, r;

	ret = setup(&w, o, false);
	if (ret)
		goto out;
	ret = 1;
	if (o->duration > 0) {
		/* Observe first, so the counters say something. */
		ops.model = w.model;
		ops.pools = w.pools;
		ops.kinds = PW_MODEL_KINDS | PW_POOL_KINDS;
		ops.ctx = &w;
		if (pw_session_run(o, &ops))
			goto out;
	} else {
		/* A snapshot needs no tracepoints: the census alone. */
		if (pw_check_privileges(err, sizeof(err)) || pw_check_kernel(err, sizeof(err)) ||
		    pw_census_open(&census, -1, err, sizeof(err))) {
			pw_err("%s", err);
			goto out;
		}
		pw_model_census_begin(w.model);
		r = pw_pools_census(w.pools, census, cf.netns, ports_census_sock, w.model, &st);
		if (r) {
			pw_err("socket census failed: %s", strerror(-r));
			goto out;
		}
		pw_info("census: %u sockets, %u namespaces walked (%u could not be entered) in %.1f ms",
			st.sockets, st.namespaces, st.unreachable, (double)st.elapsed_ns / 1e6);
		pw_model_census_end(w.model);
		pw_pools_tick(w.pools, mono_ns(), NULL, NULL);
	}
	/* --write-baseline -: the baseline is the output; a file: both. */
	if (o->write_baseline && write_baseline(&w, o->write_baseline))
		goto out;
	if (o->write_baseline && !strcmp(o->write_baseline, "-")) {
		ret = 0;
	} else if (o->cmd == PW_CMD_POOLS) {
		print_pools(&w);
		ret = 0;
	} else {
		ret = print_ports(&w, false) ? 1 : 0;
		if (!ret && !o->json)
			fputc('\n', stdout);
		if (!ret)
			print_pools(&w);
	}
out:
	pw_census_close(census);
	teardown(&w);
	return ret;
}
