// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "model.h"
#include "portview.h"
#include "session.h"
#include "topview.h"
#include "watch.h"

#define TOP_ALERTS 5

struct top_ctx {
	const struct pw_opts *opts;
	struct pw_model *model;
	struct pw_topview *tv; /* NULL: plain tables */
	struct pw_view_filter filter;
	enum pw_sort sort;
};

static int top_tick(void *vctx, struct pw_session *s)
{
	struct top_ctx *t = vctx;
	struct pw_alert alerts[TOP_ALERTS];
	struct pw_port_view *v = NULL;
	uint32_t netns[64];
	uint64_t cnt[PW_CNT__MAX] = {};
	char status[256];
	int n, na, nn, quit = 0;

	if (!s && t->tv) {
		/* The end: give the terminal back before the summary is printed. */
		pw_topview_close(t->tv);
		t->tv = NULL;
		return 0;
	}
	if (t->tv) {
		nn = pw_model_netns_list(t->model, netns, 64);
		quit = pw_topview_input(t->tv, &t->filter, &t->sort, netns, nn);
	}
	n = pw_model_snapshot(t->model, &t->filter, t->sort, true, &v);
	if (n < 0)
		return 1;
	na = pw_model_recent(t->model, alerts, TOP_ALERTS);
	if (t->tv) {
		if (s)
			pw_session_counters(s, cnt);
		snprintf(status, sizeof(status),
			 "portwatch top - %d ports, sort: %s, netns: %s%u, process: %s%s  "
			 "[s]ort [n]etns [p]rocess [a]ctive [q]uit  lost: %llu",
			 n, pw_sort_name(t->sort), t->filter.netns ? "" : "all", t->filter.netns,
			 t->filter.comm[0] ? t->filter.comm : "any",
			 t->filter.active_only ? ", active only" : "", (unsigned long long)cnt[PW_CNT_LOST]);
		pw_topview_draw(t->tv, v, n, alerts, na, status);
	} else if (s) {
		/* Not a terminal: a plain table every interval, not at exit twice. */
		pw_render_port_table(stdout, v, n);
		for (int i = 0; i < na; i++)
			pw_render_alert_text(stdout, &alerts[i]);
		fputc('\n', stdout);
		fflush(stdout);
	}
	free(v);
	return quit;
}

int pw_cmd_top(const struct pw_opts *o)
{
	struct top_ctx t = { .opts = o };
	struct pw_session_ops ops = { .tick = top_tick, .ctx = &t };
	int ret = 1;

	t.filter.netns = o->filter.netns;
	snprintf(t.filter.comm, sizeof(t.filter.comm), "%s", o->filter.comm);
	t.model = pw_model_new(NULL, NULL, NULL, pw_clock_offset_ns());
	if (!t.model) {
		pw_err("out of memory");
		goto out;
	}
	if (isatty(STDOUT_FILENO) && !o->json) {
		t.tv = pw_topview_open();
		if (!t.tv) {
			pw_err("cannot start the terminal view");
			goto out;
		}
		ops.quiet_ready = true;
	}
	ops.model = t.model;
	ops.tick_ms = (unsigned)((o->interval > 0 ? o->interval : 1) * 1000);
	/* Keys must feel immediate even with a long refresh interval. */
	if (t.tv && ops.tick_ms > 200)
		ops.tick_ms = 200;
	ret = pw_session_run(o, &ops);
out:
	pw_topview_close(t.tv);
	pw_model_free(t.model);
	return ret;
}
