// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "portview.h"
#include "scan.h"
#include "render.h"
#include "strutil.h"

/*
 * Escaped text can grow 4x (a byte becomes \xNN); addresses are bounded
 * by INET6_ADDRSTRLEN, so these hold any escaped field whole.
 */
#define ESC_COMM (PW_COMM_LEN * 4 + 1)
#define ESC_ADDR (INET6_ADDRSTRLEN * 4 + 1)
#define ESC_NAME 128

/* Column widths of the text table; ADDRESS and PID/COMM are laid out per screen. */
enum {
	W_NETNS = 10, /* a netns inode fits in 32 bits: 10 digits */
	W_PROTO = 5,
	W_PORT = 5,
	W_STATE = 6,
	W_SERVICE = 10,
	W_FLAGS = 12, /* "new,loopback": see flags_text() */
	W_SYN = 5,
	W_ACC = 5,
	W_PROBES = 6,
	W_RST = 5,
	W_SRC = 5,
	N_COLS = 13,
	W_FIXED = W_NETNS + W_PROTO + W_PORT + W_STATE + W_SERVICE + W_FLAGS + W_SYN + W_ACC +
		  W_PROBES + W_RST + W_SRC + N_COLS - 1,
	W_ADDR_MIN = 7,
	W_ADDR_MAX = 32,
	W_OWNER_MIN = 8,
	W_OWNER_MAX = 28,
};

static const char *const flag_names[] = { "exposed", "new", "loopback", "wildcard" };

/* JSON names of enum pw_port_state; our own table so tests need no model.c. */
static const char *state_name(enum pw_port_state s)
{
	switch (s) {
	case PW_PORT_CLOSED:
		return "closed";
	case PW_PORT_BOUND:
		return "bound";
	case PW_PORT_LISTENING:
		return "listening";
	}
	return "?";
}

/* The table's narrower spelling, in the style of ss(8). */
static const char *state_short(enum pw_port_state s)
{
	return s == PW_PORT_LISTENING ? "listen" : state_name(s);
}

/* Counts from a model snapshot are trusted, but a stray one must not overrun. */
static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void ts_or_null(struct json_writer *jw, const char *key, uint64_t wall_ns)
{
	char ts[40];

	if (!wall_ns) {
		jw_kv_null(jw, key);
		return;
	}
	pw_format_ts(wall_ns, ts, sizeof(ts));
	jw_kv_str(jw, key, ts);
}

void pw_render_port_json(struct json_writer *jw, const struct pw_port_view *p)
{
	int n_addrs = clamp(p->n_addrs, 0, PW_PORT_MAX_ADDRS);
	int n_owners = clamp(p->n_owners, 0, PW_PORT_MAX_OWNERS);
	const struct pw_port_owner *o;
	unsigned i;
	int k;

	jw_obj_open(jw);
	jw_kv_str(jw, "type", "port");
	jw_kv_uint(jw, "netns", p->netns);
	jw_kv_str(jw, "proto", pw_proto_name(p->proto));
	jw_kv_uint(jw, "port", p->port);
	jw_kv_str(jw, "state", state_name(p->state));
	jw_key(jw, "addresses");
	jw_arr_open(jw);
	for (k = 0; k < n_addrs; k++)
		jw_strn(jw, p->addrs[k], sizeof(p->addrs[k]));
	jw_arr_close(jw);
	jw_key(jw, "owners");
	jw_arr_open(jw);
	for (k = 0; k < n_owners; k++) {
		o = &p->owners[k];
		jw_obj_open(jw);
		jw_kv_uint(jw, "pid", o->pid);
		jw_key(jw, "comm");
		jw_strn(jw, o->comm, sizeof(o->comm));
		jw_kv_uint(jw, "uid", o->uid);
		jw_kv_uint(jw, "cgroup_id", o->cgroup_id);
		/* Empty: a kernel thread, or the process exited before we read /proc. */
		jw_key(jw, "cmdline");
		if (o->cmdline[0])
			jw_strn(jw, o->cmdline, sizeof(o->cmdline));
		else
			jw_null(jw);
		jw_obj_close(jw);
	}
	jw_arr_close(jw);
	jw_kv_str(jw, "service", p->service);
	jw_key(jw, "flags");
	jw_arr_open(jw);
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (p->flags & (1u << i))
			jw_str(jw, flag_names[i]);
	}
	jw_arr_close(jw);
	jw_key(jw, "counters");
	jw_obj_open(jw);
	jw_kv_uint(jw, "syn_in", p->c.syn_in);
	jw_kv_uint(jw, "accepts", p->c.accepts);
	jw_kv_uint(jw, "closed_probes", p->c.closed_probes);
	jw_kv_uint(jw, "half_open", p->c.half_open);
	jw_kv_uint(jw, "resets_out", p->c.resets_out);
	jw_kv_uint(jw, "binds", p->c.binds);
	jw_kv_uint(jw, "bind_failures", p->c.bind_failures);
	jw_kv_uint(jw, "listen_overflows", p->c.listen_overflows);
	/* Beyond DESIGN §1: only ever appended, never reordered. */
	jw_kv_uint(jw, "resets_in", p->c.resets_in);
	jw_kv_uint(jw, "flag_probes", p->c.flag_probes);
	jw_kv_uint(jw, "filtered", p->c.filtered);
	jw_obj_close(jw);
	jw_kv_uint(jw, "sources", p->sources);
	ts_or_null(jw, "first_seen", p->first_wall_ns);
	ts_or_null(jw, "last_seen", p->last_wall_ns);
	jw_obj_close(jw);
}

/* "pid" and "comm" of h, both null when the process is unknown (pid 0). */
static void holder_fields(struct json_writer *jw, const struct pw_holder *h)
{
	if (h->pid) {
		jw_kv_uint(jw, "pid", h->pid);
		jw_key(jw, "comm");
		jw_strn(jw, h->comm, sizeof(h->comm));
	} else {
		jw_kv_null(jw, "pid");
		jw_kv_null(jw, "comm");
	}
}

void pw_render_alert_json(struct json_writer *jw, const struct pw_alert *a)
{
	char ts[40];

	pw_format_ts(a->wall_ns, ts, sizeof(ts));
	jw_obj_open(jw);
	jw_kv_str(jw, "ts", ts);
	jw_kv_str(jw, "alert", a->type);
	jw_kv_str(jw, "severity", a->severity);
	jw_kv_uint(jw, "netns", a->netns);
	jw_kv_str(jw, "proto", pw_proto_name(a->proto));
	jw_kv_uint(jw, "port", a->port);
	jw_key(jw, "address");
	if (a->addr[0])
		jw_strn(jw, a->addr, sizeof(a->addr));
	else
		jw_null(jw);
	jw_kv_str(jw, "service", a->service);
	holder_fields(jw, &a->who);
	if (a->type && !strcmp(a->type, "bind_conflict")) {
		jw_key(jw, "holder");
		if (a->holder.pid) {
			jw_obj_open(jw);
			holder_fields(jw, &a->holder);
			jw_obj_close(jw);
		} else {
			jw_null(jw);
		}
	}
	jw_obj_close(jw);
}

size_t pw_text_fit(const char *s, int width, int *used)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, len;
	int cols = 0, w;
	uint32_t cp;

	while (i < n) {
		len = pw_utf8_decode(u + i, n - i, &cp);
		if (len == 0) {
			len = 1;
			w = 1;
		} else {
			/* -1 in the C locale for anything not ASCII: assume one cell. */
			w = wcwidth((wchar_t)cp);
			if (w < 0)
				w = 1;
		}
		if (cols + w > width)
			break;
		cols += w;
		i += len;
	}
	if (used)
		*used = cols;
	return i;
}

/* A line being built into a caller's buffer; always NUL-terminated. */
struct line {
	char *buf;
	size_t size;
	size_t len;
	bool started;
};

static void line_init(struct line *l, char *buf, size_t size)
{
	l->buf = buf;
	l->size = size;
	l->len = 0;
	l->started = false;
	if (size)
		buf[0] = '\0';
}

/* Append n bytes of s, cut on a UTF-8 character boundary when full. */
static void line_put(struct line *l, const char *s, size_t n)
{
	if (l->size == 0)
		return;
	if (n > l->size - 1 - l->len) {
		n = l->size - 1 - l->len;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

static void line_pad(struct line *l, int n)
{
	static const char spaces[] = "                                ";

	while (n > 0) {
		int k = n < (int)sizeof(spaces) - 1 ? n : (int)sizeof(spaces) - 1;

		line_put(l, spaces, (size_t)k);
		n -= k;
	}
}

/*
 * One column of width cells: text (already terminal-safe) then suffix,
 * which survives truncation ("+2" more owners must stay visible); a cut
 * text ends in '~'. right aligns numbers.
 */
static void cell(struct line *l, const char *text, const char *suffix, int width, bool right)
{
	int tw, sw, used;
	size_t nb;

	if (l->started)
		line_put(l, " ", 1);
	l->started = true;
	pw_text_fit(suffix, INT_MAX, &sw);
	nb = pw_text_fit(text, INT_MAX, &tw);
	if (tw + sw > width) {
		nb = pw_text_fit(text, width - sw - 1, &used);
		line_put(l, text, nb);
		line_put(l, "~", 1);
		line_put(l, suffix, strlen(suffix));
		/* A wide character that did not fit leaves one cell to fill. */
		line_pad(l, width - used - 1 - sw);
		return;
	}
	if (right)
		line_pad(l, width - tw - sw);
	line_put(l, text, nb);
	line_put(l, suffix, strlen(suffix));
	if (!right)
		line_pad(l, width - tw - sw);
}

/*
 * v in at most width characters (width >= 4): exact when it fits, else
 * floored in the first unit that fits ("1234k", "98M"; UINT64_MAX is "18E").
 */
static void count_text(char *out, size_t outsz, uint64_t v, int width)
{
	static const char units[] = "kMGTPE";
	uint64_t div = 1000;
	int i, n;

	n = snprintf(out, outsz, "%" PRIu64, v);
	for (i = 0; n > width && units[i]; i++, div *= 1000) {
		n = snprintf(out, outsz, "%" PRIu64 "%c", v / div, units[i]);
		if (div > UINT64_MAX / 1000)
			break;
	}
}

static void count_cell(struct line *l, uint64_t v, int width)
{
	char b[24];

	count_text(b, sizeof(b), v, width);
	cell(l, b, "", width, true);
}

/*
 * Table flags: "wildcard" is left out next to "exposed", which implies it
 * (and the address column shows it); that keeps the column at 12 cells.
 */
static void flags_text(char *out, size_t outsz, unsigned flags)
{
	size_t i, o = 0;

	out[0] = '\0';
	if (flags & PW_PF_EXPOSED)
		flags &= ~(unsigned)PW_PF_WILDCARD;
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (!(flags & (1u << i)))
			continue;
		o += (size_t)snprintf(out + o, outsz - o, "%s%s", o ? "," : "", flag_names[i]);
		if (o >= outsz)
			break;
	}
	if (!out[0])
		snprintf(out, outsz, "-");
}

static void layout(int cols, int *addr_w, int *owner_w)
{
	int spare = cols - W_FIXED;

	if (cols <= 0) {
		*addr_w = W_ADDR_MAX;
		*owner_w = W_OWNER_MAX;
		return;
	}
	/* Addresses take less than owners: "0.0.0.0" is the common case. */
	*addr_w = clamp(spare * 9 / 20, W_ADDR_MIN, W_ADDR_MAX);
	*owner_w = clamp(spare - *addr_w, W_OWNER_MIN, W_OWNER_MAX);
}

void pw_format_port_header(char *out, size_t outsz, int cols)
{
	struct line l;
	int aw, ow;

	layout(cols, &aw, &ow);
	line_init(&l, out, outsz);
	cell(&l, "NETNS", "", W_NETNS, false);
	cell(&l, "PROTO", "", W_PROTO, false);
	cell(&l, "PORT", "", W_PORT, true);
	cell(&l, "STATE", "", W_STATE, false);
	cell(&l, "ADDRESS", "", aw, false);
	cell(&l, "PID/COMM", "", ow, false);
	cell(&l, "SERVICE", "", W_SERVICE, false);
	cell(&l, "FLAGS", "", W_FLAGS, false);
	cell(&l, "SYN", "", W_SYN, true);
	cell(&l, "ACC", "", W_ACC, true);
	cell(&l, "PROBES", "", W_PROBES, true);
	cell(&l, "RST", "", W_RST, true);
	cell(&l, "SRC", "", W_SRC, true);
}

void pw_format_port_row(char *out, size_t outsz, const struct pw_port_view *p, int cols)
{
	int n_addrs = clamp(p->n_addrs, 0, PW_PORT_MAX_ADDRS);
	int n_owners = clamp(p->n_owners, 0, PW_PORT_MAX_OWNERS);
	char addrs[PW_PORT_MAX_ADDRS * ESC_ADDR + 8], esc[ESC_ADDR], comm[ESC_COMM];
	char owner[ESC_COMM + 16], more[16], svc[ESC_NAME], flags[64], b[24];
	struct line l;
	size_t o = 0;
	int aw, ow, k;

	layout(cols, &aw, &ow);
	line_init(&l, out, outsz);
	snprintf(b, sizeof(b), "%" PRIu32, p->netns);
	cell(&l, b, "", W_NETNS, false);
	cell(&l, pw_proto_name(p->proto), "", W_PROTO, false);
	snprintf(b, sizeof(b), "%u", p->port);
	cell(&l, b, "", W_PORT, true);
	cell(&l, state_short(p->state), "", W_STATE, false);

	addrs[0] = '\0';
	for (k = 0; k < n_addrs; k++) {
		pw_term_escape(p->addrs[k], sizeof(p->addrs[k]), esc, sizeof(esc));
		o += (size_t)snprintf(addrs + o, sizeof(addrs) - o, "%s%s", k ? "," : "", esc);
	}
	cell(&l, n_addrs ? addrs : "-", "", aw, false);

	more[0] = '\0';
	if (n_owners > 0) {
		pw_term_escape(p->owners[0].comm, sizeof(p->owners[0].comm), comm, sizeof(comm));
		snprintf(owner, sizeof(owner), "%" PRIu32 "/%s", p->owners[0].pid, comm);
		if (n_owners > 1)
			snprintf(more, sizeof(more), "+%d", n_owners - 1);
	} else {
		snprintf(owner, sizeof(owner), "-");
	}
	cell(&l, owner, more, ow, false);

	if (p->service)
		pw_term_escape(p->service, strlen(p->service), svc, sizeof(svc));
	else
		snprintf(svc, sizeof(svc), "-");
	cell(&l, svc, "", W_SERVICE, false);
	flags_text(flags, sizeof(flags), p->flags);
	cell(&l, flags, "", W_FLAGS, false);

	count_cell(&l, p->c.syn_in, W_SYN);
	count_cell(&l, p->c.accepts, W_ACC);
	/* Every inbound packet no socket took, as the model's probes sort counts them. */
	count_cell(&l, p->c.closed_probes + p->c.flag_probes + p->c.filtered, W_PROBES);
	count_cell(&l, p->c.resets_out, W_RST);
	count_cell(&l, p->sources, W_SRC);
}

void pw_format_alert_line(char *out, size_t outsz, const struct pw_alert *a)
{
	char when[16], addr[ESC_ADDR], svc[ESC_NAME], comm[ESC_COMM], hcomm[ESC_COMM];
	char type[ESC_NAME], sev[ESC_NAME], who[ESC_COMM + 32], held[ESC_COMM + 48];
	time_t sec = (time_t)(a->wall_ns / 1000000000ULL);
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	/* Type and severity are the model's constants; escaped all the same. */
	pw_term_escape(a->type ? a->type : "?", ESC_NAME, type, sizeof(type));
	pw_term_escape(a->severity ? a->severity : "?", ESC_NAME, sev, sizeof(sev));
	pw_term_escape(a->addr[0] ? a->addr : "*", sizeof(a->addr), addr, sizeof(addr));
	if (a->service)
		pw_term_escape(a->service, strlen(a->service), svc, sizeof(svc));
	else
		snprintf(svc, sizeof(svc), "-");
	if (a->who.pid) {
		pw_term_escape(a->who.comm, sizeof(a->who.comm), comm, sizeof(comm));
		snprintf(who, sizeof(who), "pid %" PRIu32 " (%s)", a->who.pid, comm);
	} else {
		snprintf(who, sizeof(who), "pid ?");
	}
	if (a->detail[0]) {
		/* Alerts that are not about one port (port_scan) carry their own line. */
		pw_term_escape(a->detail, sizeof(a->detail), held, sizeof(held));
		snprintf(out, outsz, "%s %-8s %-16s netns %" PRIu32 " %s", when, sev, type, a->netns, held);
		return;
	}
	held[0] = '\0';
	if (a->type && !strcmp(a->type, "bind_conflict")) {
		if (a->holder.pid) {
			pw_term_escape(a->holder.comm, sizeof(a->holder.comm), hcomm,
				       sizeof(hcomm));
			snprintf(held, sizeof(held), ", held by pid %" PRIu32 " (%s)",
				 a->holder.pid, hcomm);
		} else {
			snprintf(held, sizeof(held), ", holder unknown");
		}
	}
	/* "[::]:6379", as ss(8) writes an IPv6 endpoint. */
	snprintf(out, outsz, "%s %-8s %-16s netns %" PRIu32 " %s %s%s%s:%u (%s) %s%s", when, sev,
		 type, a->netns, pw_proto_name(a->proto), strchr(addr, ':') ? "[" : "", addr,
		 strchr(addr, ':') ? "]" : "", a->port, svc, who, held);
}

void pw_render_port_table(FILE *f, const struct pw_port_view *v, int n)
{
	char row[PW_ROW_MAX];
	int i;

	pw_format_port_header(row, sizeof(row), 0);
	fprintf(f, "%s\n", row);
	for (i = 0; i < n; i++) {
		pw_format_port_row(row, sizeof(row), &v[i], 0);
		fprintf(f, "%s\n", row);
	}
}

void pw_render_alert_text(FILE *f, const struct pw_alert *a)
{
	char line[PW_ROW_MAX];

	pw_format_alert_line(line, sizeof(line), a);
	fprintf(f, "%s\n", line);
}

void pw_render_scan_json(struct json_writer *jw, const struct pw_scan_alert *a, int64_t clock_offset)
{
	char ts[40];
	int i;

	pw_format_ts((uint64_t)((int64_t)a->now_ns + clock_offset), ts, sizeof(ts));
	jw_obj_open(jw);
	jw_kv_str(jw, "ts", ts);
	jw_kv_str(jw, "alert", "port_scan");
	jw_kv_str(jw, "severity", a->severity);
	jw_kv_uint(jw, "netns", a->netns);
	jw_kv_str(jw, "source", a->source);
	jw_kv_str(jw, "technique", a->technique);
	jw_kv_uint(jw, "ports_probed", a->ports_probed);
	jw_key(jw, "ports");
	jw_arr_open(jw);
	for (i = 0; i < a->n_ports; i++)
		jw_uint(jw, a->ports[i]);
	jw_arr_close(jw);
	pw_format_ts((uint64_t)((int64_t)a->first_ns + clock_offset), ts, sizeof(ts));
	jw_kv_str(jw, "first_seen", ts);
	pw_format_ts((uint64_t)((int64_t)a->last_ns + clock_offset), ts, sizeof(ts));
	jw_kv_str(jw, "last_seen", ts);
	jw_kv_str(jw, "phase", a->phase);
	jw_kv_str(jw, "direction", a->direction);
	jw_kv_str(jw, "family", a->family == 4 ? "ipv4" : "ipv6");
	jw_key(jw, "open_ports");
	jw_arr_open(jw);
	for (i = 0; i < a->n_open; i++)
		jw_uint(jw, a->open_ports[i]);
	jw_arr_close(jw);
	jw_kv_uint(jw, "failures", a->failures);
	jw_kv_uint(jw, "successes", a->successes);
	jw_kv_uint(jw, "local_addresses", a->local_addresses);
	jw_key(jw, "rate");
	jw_int(jw, (int64_t)(a->rate + 0.5));
	jw_obj_close(jw);
}

/* "syn scan from 198.18.0.2: 57 ports (3 open), vertical, detected" */
static void scan_summary(const struct pw_scan_alert *a, char *out, size_t len)
{
	snprintf(out, len, "%s scan from %s: %u ports (%d open), %s, %s", a->technique, a->source,
		 a->ports_probed, a->n_open, a->direction, a->phase);
}

void pw_scan_to_alert(const struct pw_scan_alert *a, int64_t clock_offset, struct pw_alert *out)
{
	memset(out, 0, sizeof(*out));
	out->type = "port_scan";
	out->severity = a->severity;
	out->wall_ns = (uint64_t)((int64_t)a->now_ns + clock_offset);
	out->netns = a->netns;
	scan_summary(a, out->detail, sizeof(out->detail));
}

void pw_render_scan_text(FILE *f, const struct pw_scan_alert *a, int64_t clock_offset)
{
	struct pw_alert al;
	char line[PW_ROW_MAX];

	pw_scan_to_alert(a, clock_offset, &al);
	pw_format_alert_line(line, sizeof(line), &al);
	fprintf(f, "%s\n", line);
}
