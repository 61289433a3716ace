/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Renderers of the per-port model (model.h): port records and alerts as
 * JSON (DESIGN §1), a plain text table and one-line alerts. No ncurses
 * here: the top view (topview.c) draws the same rows this module formats.
 * Every string that came from the kernel or /proc is escaped: JSON by the
 * writer, text by pw_term_escape().
 */
#ifndef PW_PORTVIEW_H
#define PW_PORTVIEW_H

#include <stddef.h>
#include <stdio.h>

#include "json.h"
#include "model.h"

/* Big enough for any row, header or alert line (bytes, with the NUL). */
#define PW_ROW_MAX 1024

/*
 * Append p as one {"type":"port",...} object to jw (the caller flushes the
 * line). Keys in DESIGN order, then "uid"/"cmdline" per owner, the extra
 * counters, "sources", "first_seen" and "last_seen" (null when 0).
 */
void pw_render_port_json(struct json_writer *jw, const struct pw_port_view *p);

/*
 * Append a as one {"ts":..,"alert":..} object to jw. "pid"/"comm" are null
 * when a->who.pid is 0; a bind_conflict also carries "holder", null when
 * a->holder.pid is 0 (only a TIME_WAIT socket, or the owner already gone).
 */
void pw_render_alert_json(struct json_writer *jw, const struct pw_alert *a);

/*
 * The column header and one row of the port table, laid out for a screen
 * of cols columns: the ADDRESS and PID/COMM columns share what the fixed
 * columns leave. cols <= 0 means no screen (a pipe): generous fixed widths.
 * The result is terminal-safe UTF-8 with no newline, cut to outsz; it may
 * still be wider than a narrow screen (see pw_text_fit()).
 */
void pw_format_port_header(char *out, size_t outsz, int cols);
void pw_format_port_row(char *out, size_t outsz, const struct pw_port_view *p, int cols);

/* One alert as a terminal-safe line without newline, local time. */
void pw_format_alert_line(char *out, size_t outsz, const struct pw_alert *a);

/* Header and n rows (v may be NULL when n is 0), each ending in '\n'. */
void pw_render_port_table(FILE *f, const struct pw_port_view *v, int n);
/* One alert line ending in '\n'. */
void pw_render_alert_text(FILE *f, const struct pw_alert *a);

/*
 * Length in bytes of the longest prefix of the UTF-8 string s that takes
 * at most width terminal columns (wcwidth(); one column per character the
 * locale cannot tell), never cutting a character. Stores the columns that
 * prefix takes in *used when used is not NULL.
 */
size_t pw_text_fit(const char *s, int width, int *used);

struct pw_scan_alert;
/* A port_scan alert (scan.h) as JSON; clock_offset turns its CLOCK_MONOTONIC
 * stamps into wall-clock time. */
void pw_render_scan_json(struct json_writer *jw, const struct pw_scan_alert *a, int64_t clock_offset);
/* The same as one line of text, and as a pw_alert for the top view. */
void pw_render_scan_text(FILE *f, const struct pw_scan_alert *a, int64_t clock_offset);
void pw_scan_to_alert(const struct pw_scan_alert *a, int64_t clock_offset, struct pw_alert *out);

#endif /* PW_PORTVIEW_H */
