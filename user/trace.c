// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>

#include "json.h"
#include "log.h"
#include "render.h"
#include "session.h"
#include "trace.h"

struct trace_ctx {
	const struct pw_opts *opts;
	struct json_writer *jw;
};

static void on_event(void *vctx, struct pw_ev *ev)
{
	struct trace_ctx *t = vctx;

	if (t->opts->json) {
		pw_render_json(t->jw, ev);
		jw_flush_line(t->jw, stdout);
	} else {
		pw_render_text(stdout, ev);
	}
}

int pw_cmd_trace(const struct pw_opts *o)
{
	struct trace_ctx t = { .opts = o };
	struct pw_session_ops ops = { .event = on_event, .ctx = &t };
	int ret = 1;

	t.jw = jw_new();
	if (!t.jw) {
		pw_err("out of memory");
		goto out;
	}
	if (!o->json)
		pw_render_text_header(stdout);
	ret = pw_session_run(o, &ops);
out:
	jw_free(t.jw);
	return ret;
}
