// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "model.h"
#include "poolview.h"
#include "portview.h"
#include "scan.h"
#include "session.h"
#include "topview.h"
#include "watch.h"

#define TOP_ALERTS 5
#define KEY_POLL_MS 200

struct top_ctx {
	const struct pw_opts *opts;
	struct pw_model *model;
	struct pw_topview *tv; /* NULL: plain tables (or JSON with -j) */
	struct json_writer *jw;
	struct pw_scan *scan;
	struct pw_pools *pools;
	int64_t clock_offset;
	struct pw_view_filter filter;
	enum pw_sort sort;
	unsigned interval_ms;
	uint64_t next_draw_ms;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Scans show in the alerts pane (plain mode: after the table). */
static void on_scan(void *vctx, const struct pw_scan_alert *a)
{
	struct top_ctx *t = vctx;
	struct pw_alert al;

	pw_scan_to_alert(a, t->clock_offset, &al);
	pw_model_note(t->model, &al);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Pool alerts go to the alerts pane (plain mode: after the tables). */
static void on_pool_alert(void *vctx, const struct pw_pool_view *v)
{
	struct top_ctx *t = vctx;
	struct pw_alert al;

	pw_exhaustion_to_alert(v, wall_ns(), &al);
	pw_model_note(t->model, &al);
}

static void on_pool_failure(void *vctx, const struct pw_pool_failure *f)
{
	struct top_ctx *t = vctx;
	struct pw_alert al;

	pw_failure_to_alert(f, &al);
	pw_model_note(t->model, &al);
}

#define TOP_POOLS 4

struct top_pools {
	const struct pw_view_filter *filter;
	struct pw_pool_view v[TOP_POOLS];
	int n;
};

/* Keep the fullest pools (by share of capacity) of the shown namespace. */
static void keep_fullest(void *ctx, const struct pw_pool_view *v)
{
	struct top_pools *tp = ctx;
	int i;

	for (i = tp->n; i > 0; i--) {
		const struct pw_pool_view *o = &tp->v[i - 1];

		/* Unknown capacity (range not read): rank against Linux's default range. */
		if ((uint64_t)o->in_use * (v->capacity ? v->capacity : 28232) >=
		    (uint64_t)v->in_use * (o->capacity ? o->capacity : 28232))
			break;
	}
	if (i >= TOP_POOLS)
		return;
	memmove(&tp->v[i + 1], &tp->v[i],
		(size_t)((tp->n < TOP_POOLS ? tp->n : TOP_POOLS - 1) - i) * sizeof(tp->v[0]));
	tp->v[i] = *v;
	if (tp->n < TOP_POOLS)
		tp->n++;
}

static void top_flow(void *vctx, const struct pw_flow_delta *d)
{
	struct top_ctx *t = vctx;

	pw_scan_observe(t->scan, d, mono_ns());
}

static void top_second(void *vctx)
{
	struct top_ctx *t = vctx;

	pw_scan_tick(t->scan, mono_ns());
}

static void draw(struct top_ctx *t, struct pw_session *s, const struct pw_port_view *v, int n)
{
	struct pw_alert alerts[TOP_ALERTS];
	uint64_t cnt[PW_CNT__MAX] = {};
	char status[256], prow[TOP_POOLS + 1][PW_ROW_MAX];
	const char *prows[TOP_POOLS + 1];
	struct top_pools tp = { .filter = &t->filter };
	int na = pw_model_recent(t->model, alerts, TOP_ALERTS), i, np = 0;

	pw_pools_each(t->pools, t->filter.netns, keep_fullest, &tp);
	if (tp.n) {
		pw_format_pool_header(prow[0], sizeof(prow[0]));
		prows[np++] = prow[0];
		for (i = 0; i < tp.n; i++) {
			pw_format_pool_row(prow[np], sizeof(prow[np]), &tp.v[i]);
			prows[np] = prow[np];
			np++;
		}
	}

	if (t->tv) {
		pw_session_counters(s, cnt);
		snprintf(status, sizeof(status),
			 "portwatch top - %d ports, sort: %s, netns: %s%u, process: %s%s  "
			 "[s]ort [n]etns [p]rocess [a]ctive [q]uit  lost: %llu",
			 n, pw_sort_name(t->sort), t->filter.netns ? "" : "all", t->filter.netns,
			 t->filter.comm[0] ? t->filter.comm : "any",
			 t->filter.active_only ? ", active only" : "", (unsigned long long)cnt[PW_CNT_LOST]);
		pw_topview_draw(t->tv, v, n, alerts, na, status, prows, np);
	} else if (t->opts->json) {
		for (i = 0; i < n; i++) {
			pw_render_port_json(t->jw, &v[i]);
			jw_flush_line(t->jw, stdout);
		}
		for (i = 0; i < tp.n; i++) {
			pw_render_pool_json(t->jw, &tp.v[i], wall_ns());
			jw_flush_line(t->jw, stdout);
		}
		fflush(stdout);
	} else {
		pw_render_port_table(stdout, v, n);
		for (i = 0; i < np; i++)
			printf("%s\n", prows[i]);
		for (i = 0; i < na; i++)
			pw_render_alert_text(stdout, &alerts[i]);
		fputc('\n', stdout);
		fflush(stdout);
	}
}

/*
 * Called every KEY_POLL_MS on a terminal (keys must feel immediate) and
 * every --interval otherwise; the table is redrawn every --interval, or at
 * once when a key changed the view.
 */
static int top_tick(void *vctx, struct pw_session *s)
{
	struct top_ctx *t = vctx;
	struct pw_view_filter before = t->filter;
	enum pw_sort sort_before = t->sort;
	struct pw_port_view *v = NULL;
	uint32_t netns[64];
	int n, quit = 0;
	bool changed;

	if (!s) {
		pw_scan_finish(t->scan, mono_ns());
		/* The end: give the terminal back before the summary is printed. */
		pw_topview_close(t->tv);
		t->tv = NULL;
		return 0;
	}
	if (t->tv) {
		n = pw_model_netns_list(t->model, netns, 64);
		quit = pw_topview_input(t->tv, &t->filter, &t->sort, netns, n);
	}
	changed = memcmp(&before, &t->filter, sizeof(before)) || sort_before != t->sort;
	if (quit || (!changed && now_ms() < t->next_draw_ms))
		return quit;
	t->next_draw_ms = now_ms() + t->interval_ms;
	n = pw_model_snapshot(t->model, &t->filter, t->sort, !changed, &v);
	if (n < 0)
		return 1;
	draw(t, s, v, n);
	free(v);
	return 0;
}

int pw_cmd_top(const struct pw_opts *o)
{
	struct top_ctx t = { .opts = o };
	struct pw_session_ops ops = { .tick = top_tick, .ctx = &t };
	int ret = 1;

	char err[256];
	int i;

	pw_view_filter_from(&t.filter, &o->filter);
	t.clock_offset = pw_clock_offset_ns();
	t.interval_ms = (unsigned)((o->interval > 0 ? o->interval : 1) * 1000);
	t.jw = jw_new();
	t.model = pw_model_new(NULL, NULL, NULL, t.clock_offset);
	t.scan = pw_scan_new(NULL, on_scan, &t);
	t.pools = pw_pools_new();
	if (!t.model || !t.jw || !t.scan || !t.pools) {
		pw_err("out of memory");
		goto out;
	}
	for (i = 0; i < o->n_allow; i++) {
		if (pw_scan_allow(t.scan, o->allow[i], err, sizeof(err))) {
			pw_err("%s", err);
			goto out;
		}
	}
	ops.flow = top_flow;
	ops.second = top_second;
	if (isatty(STDOUT_FILENO) && !o->json) {
		t.tv = pw_topview_open();
		/* No usable terminal (stdin redirected, unknown TERM): plain tables. */
		if (!t.tv)
			pw_info("no terminal view (stdin or TERM unusable): printing plain tables");
	}
	ops.quiet_ready = t.tv != NULL;
	ops.model = t.model;
	ops.pools = t.pools;
	ops.pool_alert = on_pool_alert;
	ops.pool_failure = on_pool_failure;
	ops.kinds = PW_MODEL_KINDS | PW_POOL_KINDS;
	ops.tick_ms = t.tv ? KEY_POLL_MS : t.interval_ms;
	ret = pw_session_run(o, &ops);
out:
	pw_topview_close(t.tv);
	pw_scan_free(t.scan);
	pw_pools_free(t.pools);
	pw_model_free(t.model);
	jw_free(t.jw);
	return ret;
}
