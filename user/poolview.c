// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "poolview.h"
#include "render.h"
#include "strutil.h"

static void kv_str_or_null(struct json_writer *jw, const char *key, const char *s)
{
	if (s && s[0])
		jw_kv_str(jw, key, s);
	else
		jw_kv_null(jw, key);
}

/* Keys shared by pool records and exhaustion alerts. */
static void pool_fields(struct json_writer *jw, const struct pw_pool_view *v)
{
	int i;

	jw_kv_uint(jw, "netns", v->netns);
	jw_kv_str(jw, "pool", pw_pool_kind_name(v->kind));
	jw_kv_str(jw, "proto", pw_proto_name(v->proto));
	kv_str_or_null(jw, "source", v->kind == PW_POOL_CONNECT ? v->source : NULL);
	kv_str_or_null(jw, "destination", v->kind == PW_POOL_CONNECT ? v->destination : NULL);
	jw_kv_uint(jw, "in_use", v->in_use);
	if (v->range_known)
		jw_kv_uint(jw, "capacity", v->capacity);
	else
		jw_kv_null(jw, "capacity");
	jw_kv_uint(jw, "time_wait", v->time_wait);
	if (v->eta_known)
		jw_kv_uint(jw, "eta_seconds", v->eta_s);
	else
		jw_kv_null(jw, "eta_seconds");
	jw_key(jw, "top_consumers");
	jw_arr_open(jw);
	for (i = 0; i < v->n_top; i++) {
		jw_obj_open(jw);
		if (v->top[i].pid) {
			jw_kv_uint(jw, "pid", v->top[i].pid);
			jw_kv_str(jw, "comm", v->top[i].comm);
		} else {
			/* TIME_WAIT and orphans: no process holds them any more. */
			jw_kv_null(jw, "pid");
			jw_kv_null(jw, "comm");
		}
		jw_kv_uint(jw, "count", v->top[i].count);
		jw_obj_close(jw);
	}
	jw_arr_close(jw);
	if (v->kind != PW_POOL_CONNECT) {
		jw_key(jw, "top_destinations");
		jw_arr_open(jw);
		for (i = 0; i < v->n_dests; i++) {
			jw_obj_open(jw);
			jw_kv_str(jw, "destination", v->dests[i].destination);
			jw_kv_uint(jw, "count", v->dests[i].count);
			jw_obj_close(jw);
		}
		jw_arr_close(jw);
	}
	jw_key(jw, "range");
	if (v->range_known) {
		jw_arr_open(jw);
		jw_uint(jw, v->lo);
		jw_uint(jw, v->hi);
		jw_arr_close(jw);
		jw_kv_uint(jw, "reserved", v->reserved);
		jw_kv_uint(jw, "tw_reuse", v->tw_reuse);
	} else {
		jw_null(jw);
		jw_kv_null(jw, "reserved");
		jw_kv_null(jw, "tw_reuse");
	}
	jw_kv_uint(jw, "alloc_per_s", (uint64_t)(v->alloc_rate + 0.5));
}

void pw_render_pool_json(struct json_writer *jw, const struct pw_pool_view *v, uint64_t wall_ns)
{
	char ts[40];

	pw_format_ts(wall_ns, ts, sizeof(ts));
	jw_obj_open(jw);
	jw_kv_str(jw, "type", "pool");
	jw_kv_str(jw, "ts", ts);
	pool_fields(jw, v);
	jw_kv_str(jw, "severity", pw_severity_name(v->severity));
	jw_obj_close(jw);
}

void pw_render_exhaustion_json(struct json_writer *jw, const struct pw_pool_view *v, uint64_t wall_ns)
{
	char ts[40];

	pw_format_ts(wall_ns, ts, sizeof(ts));
	jw_obj_open(jw);
	jw_kv_str(jw, "ts", ts);
	jw_kv_str(jw, "alert", "ephemeral_exhaustion");
	jw_kv_str(jw, "severity", pw_severity_name(v->severity));
	pool_fields(jw, v);
	jw_kv_str(jw, "hint", v->hint);
	jw_obj_close(jw);
}

void pw_render_failure_json(struct json_writer *jw, const struct pw_pool_failure *f)
{
	char ts[40], ebuf[16];

	pw_format_ts(f->wall_ns, ts, sizeof(ts));
	jw_obj_open(jw);
	jw_kv_str(jw, "ts", ts);
	jw_kv_str(jw, "alert", "ephemeral_failure");
	jw_kv_str(jw, "severity", "critical");
	jw_kv_uint(jw, "netns", f->netns);
	jw_kv_str(jw, "pool", pw_pool_kind_name(f->kind));
	jw_kv_str(jw, "proto", pw_proto_name(f->proto));
	jw_kv_uint(jw, "pid", f->pid);
	jw_kv_str(jw, "comm", f->comm);
	kv_str_or_null(jw, "destination", f->destination);
	jw_kv_str(jw, "error", pw_errno_name(f->result, ebuf, sizeof(ebuf)));
	jw_kv_int(jw, "result", f->result);
	jw_obj_close(jw);
}

static void clock_str(uint64_t wall_ns, char *out, size_t len)
{
	time_t sec = (time_t)(wall_ns / 1000000000ULL);
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(out, len, "%H:%M:%S", &tm);
}

/* "connect 127.0.0.1 -> 127.0.0.1:8080", "bind", "udp": terminal-safe already. */
static void pool_name(char *out, size_t len, const struct pw_pool_view *v)
{
	if (v->kind == PW_POOL_CONNECT)
		snprintf(out, len, "connect %s -> %s", v->source, v->destination);
	else
		snprintf(out, len, "%s", pw_pool_kind_name(v->kind));
}

static void eta_str(char *out, size_t len, const struct pw_pool_view *v)
{
	if (v->eta_known)
		snprintf(out, len, "%" PRIu32 " s", v->eta_s);
	else
		snprintf(out, len, "-");
}

void pw_render_exhaustion_text(FILE *f, const struct pw_pool_view *v, uint64_t wall_ns)
{
	char when[16], name[160], eta[24], hint[PW_POOL_HINT_LEN * 4];

	clock_str(wall_ns, when, sizeof(when));
	pool_name(name, sizeof(name), v);
	eta_str(eta, sizeof(eta), v);
	pw_term_escape(v->hint, sizeof(v->hint), hint, sizeof(hint));
	fprintf(f, "%s %-8s ephemeral_exhaustion netns %" PRIu32 " %s: %" PRIu32 "/%" PRIu32
		   " ports in use (%" PRIu32 " TIME_WAIT), dry in %s. %s\n",
		when, pw_severity_name(v->severity), v->netns, name, v->in_use, v->capacity,
		v->time_wait, eta, hint);
}

void pw_render_failure_text(FILE *f, const struct pw_pool_failure *fl)
{
	char when[16], comm[PW_COMM_LEN * 4 + 1], ebuf[16];

	clock_str(fl->wall_ns, when, sizeof(when));
	pw_term_escape(fl->comm, PW_COMM_LEN, comm, sizeof(comm));
	fprintf(f, "%s critical ephemeral_failure netns %" PRIu32 " %s pool: pid %" PRIu32
		   " (%s) got %s%s%s\n",
		when, fl->netns, pw_pool_kind_name(fl->kind), fl->pid, comm,
		pw_errno_name(fl->result, ebuf, sizeof(ebuf)), fl->destination[0] ? " to " : "",
		fl->destination);
}

void pw_format_pool_header(char *out, size_t outsz)
{
	snprintf(out, outsz, "%-11s %-8s %-44s %7s %9s %5s %6s %7s  %s", "NETNS", "POOL",
		 "SOURCE -> DESTINATION", "IN_USE", "CAPACITY", "USE%", "TW", "ETA", "TOP");
}

void pw_format_pool_row(char *out, size_t outsz, const struct pw_pool_view *v)
{
	char path[128], eta[24], cap[16], pct[8], top[PW_COMM_LEN * 4 + 32] = "-", comm[PW_COMM_LEN * 4 + 1];

	if (v->kind == PW_POOL_CONNECT)
		snprintf(path, sizeof(path), "%s -> %s", v->source, v->destination);
	else
		snprintf(path, sizeof(path), "-");
	eta_str(eta, sizeof(eta), v);
	if (v->range_known) {
		snprintf(cap, sizeof(cap), "%" PRIu32, v->capacity);
		snprintf(pct, sizeof(pct), "%u",
			 v->capacity ? (unsigned)((uint64_t)v->in_use * 100 / v->capacity) : 0);
	} else {
		snprintf(cap, sizeof(cap), "?");
		snprintf(pct, sizeof(pct), "?");
	}
	if (v->n_top && v->top[0].pid) {
		pw_term_escape(v->top[0].comm, PW_COMM_LEN, comm, sizeof(comm));
		snprintf(top, sizeof(top), "%" PRIu32 " %s (%" PRIu32 ")", v->top[0].pid, comm,
			 v->top[0].count);
	}
	snprintf(out, outsz, "%-11" PRIu32 " %-8s %-44s %7" PRIu32 " %9s %5s %6" PRIu32 " %7s  %s",
		 v->netns, pw_pool_kind_name(v->kind), path, v->in_use, cap, pct, v->time_wait, eta,
		 top);
}

void pw_render_pool_table(FILE *f, const struct pw_pool_view *v, int n)
{
	char line[512];
	int i;

	if (!n) {
		fprintf(f, "no ephemeral ports in use\n");
		return;
	}
	pw_format_pool_header(line, sizeof(line));
	fprintf(f, "%s\n", line);
	for (i = 0; i < n; i++) {
		pw_format_pool_row(line, sizeof(line), &v[i]);
		fprintf(f, "%s\n", line);
	}
}

void pw_exhaustion_to_alert(const struct pw_pool_view *v, uint64_t wall_ns, struct pw_alert *out)
{
	char name[160], eta[24];

	memset(out, 0, sizeof(*out));
	out->type = "ephemeral_exhaustion";
	out->severity = pw_severity_name(v->severity);
	out->wall_ns = wall_ns;
	out->netns = v->netns;
	out->proto = v->proto;
	/* The destination is what the pool is about; the source may not fit. */
	if (v->kind == PW_POOL_CONNECT)
		snprintf(name, sizeof(name), "connect -> %s", v->destination);
	else
		pool_name(name, sizeof(name), v);
	eta_str(eta, sizeof(eta), v);
	snprintf(out->detail, sizeof(out->detail), "%.60s %" PRIu32 "/%" PRIu32 " (TW %" PRIu32 ") dry in %.8s",
		 name, v->in_use, v->capacity, v->time_wait, eta);
}

void pw_failure_to_alert(const struct pw_pool_failure *f, struct pw_alert *out)
{
	char ebuf[16];

	memset(out, 0, sizeof(*out));
	out->type = "ephemeral_failure";
	out->severity = "critical";
	out->wall_ns = f->wall_ns;
	out->netns = f->netns;
	out->proto = f->proto;
	out->who.pid = f->pid;
	memcpy(out->who.comm, f->comm, sizeof(out->who.comm));
	snprintf(out->detail, sizeof(out->detail), "%s pool: pid %" PRIu32 " %s%s%.48s",
		 pw_pool_kind_name(f->kind), f->pid, pw_errno_name(f->result, ebuf, sizeof(ebuf)),
		 f->destination[0] ? " to " : "", f->destination);
}
