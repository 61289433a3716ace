// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "render.h"
#include "strutil.h"

void pw_format_ts(uint64_t wall_ns, char *out, size_t len)
{
	/* Events come in bursts within one second: format its date once. */
	static __thread time_t cached_sec = -1;
	static __thread char day[32];
	time_t sec = (time_t)(wall_ns / 1000000000ULL);
	uint32_t us = (uint32_t)((wall_ns % 1000000000ULL) / 1000);
	struct tm tm;
	size_t n;
	int i;

	if (sec != cached_sec) {
		gmtime_r(&sec, &tm);
		strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = sec;
	}
	n = strlen(day);
	if (len < n + 9) {
		snprintf(out, len, "%s", day);
		return;
	}
	memcpy(out, day, n);
	out[n] = '.';
	for (i = 6; i >= 1; i--, us /= 10)
		out[n + (size_t)i] = (char)('0' + us % 10);
	out[n + 7] = 'Z';
	out[n + 8] = '\0';
}

void pw_render_json(struct json_writer *jw, const struct pw_ev *ev)
{
	char ts[40], ebuf[16];
	const char *err = pw_errno_name(ev->result, ebuf, sizeof(ebuf));
	int i;

	pw_format_ts(ev->wall_ns, ts, sizeof(ts));
	jw_obj_open(jw);
	jw_kv_str(jw, "ts", ts);
	jw_kv_str(jw, "event", pw_event_name(ev->kind));
	if (ev->owner_known) {
		jw_kv_uint(jw, "pid", ev->pid);
		jw_kv_uint(jw, "tid", ev->tid);
		jw_key(jw, "comm");
		jw_strn(jw, ev->comm, PW_COMM_LEN);
		jw_kv_uint(jw, "uid", ev->uid);
		jw_kv_uint(jw, "cgroup_id", ev->cgroup_id);
	} else {
		/* Socket older than portwatch, closed in softirq: owner unknown. */
		jw_kv_null(jw, "pid");
		jw_kv_null(jw, "tid");
		jw_kv_null(jw, "comm");
		jw_kv_null(jw, "uid");
		jw_kv_null(jw, "cgroup_id");
	}
	jw_kv_uint(jw, "netns", ev->netns);
	jw_kv_str(jw, "proto", pw_proto_name(ev->proto));
	jw_kv_str(jw, "family", ev->family == 4 ? "ipv4" : "ipv6");
	jw_kv_str(jw, "local_addr", ev->local_addr);
	jw_kv_uint(jw, "local_port", ev->local_port);
	if (ev->has_remote) {
		jw_kv_str(jw, "remote_addr", ev->remote_addr);
		jw_kv_uint(jw, "remote_port", ev->remote_port);
	} else {
		jw_kv_null(jw, "remote_addr");
		jw_kv_null(jw, "remote_port");
	}
	jw_kv_int(jw, "result", ev->result);
	jw_kv_str(jw, "error", err);
	switch (ev->kind) {
	case PW_EV_BIND:
		jw_kv_uint(jw, "requested_port", ev->req_port);
		jw_key(jw, "autobind");
		jw_bool(jw, ev->autobind);
		break;
	case PW_EV_LISTEN:
		jw_kv_uint(jw, "backlog", ev->backlog);
		break;
	case PW_EV_CONNECT:
		jw_key(jw, "async");
		jw_bool(jw, ev->async);
		break;
	case PW_EV_SYN:
	case PW_EV_PROBE:
	case PW_EV_RESET:
		jw_kv_uint(jw, "count", ev->count);
		if (ev->probe)
			jw_kv_str(jw, "probe", ev->probe);
		if (ev->port_state)
			jw_kv_str(jw, "port_state", ev->port_state);
		break;
	case PW_EV_CLOSE:
		jw_key(jw, "listener");
		jw_bool(jw, ev->listener);
		jw_key(jw, "time_wait");
		jw_bool(jw, ev->time_wait);
		jw_key(jw, "accepted");
		jw_bool(jw, ev->accepted);
		if (ev->lifetime_known)
			jw_kv_uint(jw, "lifetime_us", ev->lifetime_ns / 1000);
		else
			jw_kv_null(jw, "lifetime_us");
		break;
	}
	if (ev->n_holders > 0) {
		jw_key(jw, "holder");
		jw_obj_open(jw);
		jw_kv_uint(jw, "pid", ev->holders[0].pid);
		jw_kv_str(jw, "comm", ev->holders[0].comm);
		jw_obj_close(jw);
		jw_key(jw, "holders");
		jw_arr_open(jw);
		for (i = 0; i < ev->n_holders; i++) {
			jw_obj_open(jw);
			jw_kv_uint(jw, "pid", ev->holders[i].pid);
			jw_kv_str(jw, "comm", ev->holders[i].comm);
			jw_obj_close(jw);
		}
		jw_arr_close(jw);
	} else if (ev->result == -98 /* EADDRINUSE */ &&
		   (ev->kind == PW_EV_BIND || ev->kind == PW_EV_LISTEN)) {
		/* Looked for and not found (e.g. only a TIME_WAIT socket holds it). */
		jw_kv_null(jw, "holder");
	}
	jw_obj_close(jw);
}

static void endpoint(char *out, size_t len, int family, const char *addr, unsigned port)
{
	if (family == 6)
		snprintf(out, len, "[%s]:%u", addr, port);
	else
		snprintf(out, len, "%s:%u", addr, port);
}

void pw_render_text_header(FILE *f)
{
	fprintf(f, "%-12s %-7s %7s %-16s %-5s %-28s %-28s %s\n", "TIME", "EVENT", "PID", "COMM",
		"PROTO", "LOCAL", "REMOTE", "RESULT");
}

void pw_render_text(FILE *f, const struct pw_ev *ev)
{
	char comm[PW_COMM_LEN * 4 + 1], local[64], remote[64], pid[16], ebuf[16], extra[96];
	char when[16], hcomm[PW_COMM_LEN * 4 + 1];
	const char *err = pw_errno_name(ev->result, ebuf, sizeof(ebuf));
	time_t sec = (time_t)(ev->wall_ns / 1000000000ULL);
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (ev->owner_known) {
		snprintf(pid, sizeof(pid), "%u", ev->pid);
		pw_term_escape(ev->comm, PW_COMM_LEN, comm, sizeof(comm));
	} else {
		snprintf(pid, sizeof(pid), "-");
		snprintf(comm, sizeof(comm), "?");
	}
	endpoint(local, sizeof(local), ev->family, ev->local_addr, ev->local_port);
	if (ev->has_remote)
		endpoint(remote, sizeof(remote), ev->family, ev->remote_addr, ev->remote_port);
	else
		snprintf(remote, sizeof(remote), "-");
	extra[0] = '\0';
	if (ev->kind == PW_EV_BIND && ev->autobind && ev->result == 0)
		snprintf(extra, sizeof(extra), " (send on an unbound socket: kernel chose %u)",
			 ev->local_port);
	else if (ev->kind == PW_EV_BIND && ev->autobind)
		snprintf(extra, sizeof(extra), " (send on an unbound socket)");
	else if (ev->kind == PW_EV_BIND && ev->req_port == 0 && ev->result == 0)
		snprintf(extra, sizeof(extra), " (port 0: kernel chose %u)", ev->local_port);
	else if (ev->kind == PW_EV_LISTEN)
		snprintf(extra, sizeof(extra), " backlog %u", ev->backlog);
	else if (ev->kind == PW_EV_CLOSE && ev->lifetime_known)
		snprintf(extra, sizeof(extra), " after %.3f s%s", (double)ev->lifetime_ns / 1e9,
			 ev->time_wait ? ", TIME_WAIT 60 s" : "");
	else if (ev->kind == PW_EV_CLOSE && ev->time_wait)
		snprintf(extra, sizeof(extra), " TIME_WAIT 60 s");
	else if (ev->count)
		snprintf(extra, sizeof(extra), " x%" PRIu64 "%s%s%s%s", ev->count, ev->probe ? " " : "",
			 ev->probe ? ev->probe : "", ev->port_state ? " port " : "",
			 ev->port_state ? ev->port_state : "");
	if (ev->n_holders > 0) {
		pw_term_escape(ev->holders[0].comm, sizeof(ev->holders[0].comm), hcomm, sizeof(hcomm));
		snprintf(extra, sizeof(extra), " held by pid %u (%s)", ev->holders[0].pid, hcomm);
	}
	fprintf(f, "%s.%03u %-7s %7s %-16s %-5s %-28s %-28s %s%s\n", when,
		(unsigned)((ev->wall_ns / 1000000ULL) % 1000), pw_event_name(ev->kind), pid, comm,
		pw_proto_name(ev->proto), local, remote, err ? err : "OK", extra);
}
