// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "census.h"
#include "decode.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "render.h"
#include "trace.h"

#define POLL_MS 100

struct trace_ctx {
	const struct pw_opts *opts;
	struct pw_census *census;
	struct json_writer *jw;
	int64_t clock_offset;
	uint64_t shown;
	uint64_t malformed;
	bool out_error;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int on_event(void *vctx, const void *data, size_t len)
{
	struct trace_ctx *t = vctx;
	struct pw_ev ev;
	int n;

	if (pw_decode_event(data, len, t->clock_offset, &ev)) {
		t->malformed++;
		return 0;
	}
	if (!pw_filter_match(&t->opts->filter, &ev))
		return 0;
	/* Who holds it? Ask the kernel now, while the holder still does. */
	if (ev.result == -EADDRINUSE && t->census &&
	    (ev.kind == PW_EV_BIND || ev.kind == PW_EV_LISTEN) && ev.local_port) {
		n = pw_census_holders(t->census, ev.netns, ev.proto, ev.local_port, ev.holders,
				      PW_MAX_HOLDERS);
		ev.n_holders = n > 0 ? n : 0;
	}
	if (t->opts->json) {
		pw_render_json(t->jw, &ev);
		if (jw_flush_line(t->jw, stdout))
			t->out_error = true;
	} else {
		pw_render_text(stdout, &ev);
	}
	t->shown++;
	return 0;
}

int pw_cmd_trace(const struct pw_opts *o)
{
	struct trace_ctx t = { .opts = o };
	struct pw_loader *l = NULL;
	struct pw_kfilter k;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t counters[PW_CNT__MAX], deadline = 0;
	char err[256];
	int ret = 1, n;

	t.jw = jw_new();
	if (!t.jw) {
		pw_err("out of memory");
		goto out;
	}
	t.clock_offset = pw_clock_offset_ns();
	pw_filter_kernel(&o->filter, &k);
	if (pw_loader_open(&l, &k, o->ringbuf_kb, on_event, &t, err, sizeof(err))) {
		pw_err("%s", err);
		goto out;
	}
	if (pw_census_open(&t.census, pw_loader_owners_fd(l), err, sizeof(err))) {
		pw_err("%s", err);
		goto out;
	}
	/* After attaching: sockets born since are known already and kept. */
	n = pw_census_seed_owners(t.census);
	if (n < 0) {
		pw_err("socket census failed: %s", strerror(-n));
		goto out;
	}
	pw_info("%d existing sockets: owners recorded", n);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o->duration > 0)
		deadline = now_ns() + (uint64_t)(o->duration * 1e9);
	if (!o->json)
		pw_render_text_header(stdout);
	fflush(stdout);
	fprintf(stderr, "portwatch: ready\n");

	while (!stop_requested && (!deadline || now_ns() < deadline)) {
		n = pw_loader_poll(l, POLL_MS);
		if (n < 0 && n != -EINTR) {
			pw_err("ring buffer: %s", strerror(-n));
			goto out;
		}
		if (fflush(stdout) == EOF || t.out_error) {
			pw_err("cannot write output: %s", strerror(errno));
			goto out;
		}
	}
	/* Records already in the ring buffer belong to the run: drain them. */
	pw_loader_poll(l, 0);
	fflush(stdout);
	pw_loader_counters(l, counters);
	fprintf(stderr,
		"portwatch: %" PRIu64 " events, %" PRIu64 " shown, %" PRIu64
		" lost to ring-buffer overflow, %" PRIu64 " filtered in kernel\n",
		counters[PW_CNT_EVENTS], t.shown, counters[PW_CNT_LOST], counters[PW_CNT_FILTERED]);
	if (t.malformed || counters[PW_CNT_STASH_FULL])
		fprintf(stderr, "portwatch: %" PRIu64 " malformed records, %" PRIu64
			" syscalls not tracked (argument map full)\n",
			t.malformed, counters[PW_CNT_STASH_FULL]);
	ret = 0;
out:
	pw_census_close(t.census);
	pw_loader_close(l);
	jw_free(t.jw);
	return ret;
}
