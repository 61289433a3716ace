/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Renderers of the ephemeral-port pools (pools.h): pool records, the
 * ephemeral_exhaustion and ephemeral_failure alerts (DESIGN §1) as JSON,
 * one-line text, a table, and as a pw_alert for the top view.
 */
#ifndef PW_POOLVIEW_H
#define PW_POOLVIEW_H

#include <stdio.h>

#include "json.h"
#include "model.h"
#include "pools.h"

/* {"type":"pool",...}: the pool now. */
void pw_render_pool_json(struct json_writer *jw, const struct pw_pool_view *v, uint64_t wall_ns);
/* {"alert":"ephemeral_exhaustion",...}: the pool record's keys, with severity and hint. */
void pw_render_exhaustion_json(struct json_writer *jw, const struct pw_pool_view *v, uint64_t wall_ns);
/* {"alert":"ephemeral_failure",...} */
void pw_render_failure_json(struct json_writer *jw, const struct pw_pool_failure *f);

/* One line each, ending in '\n'; terminal-safe. */
void pw_render_exhaustion_text(FILE *f, const struct pw_pool_view *v, uint64_t wall_ns);
void pw_render_failure_text(FILE *f, const struct pw_pool_failure *fl);
/* A table of pools (n may be 0: "no ephemeral ports in use"). */
void pw_render_pool_table(FILE *f, const struct pw_pool_view *v, int n);
/* One table row without newline, and its header, for the top view. */
void pw_format_pool_header(char *out, size_t outsz);
void pw_format_pool_row(char *out, size_t outsz, const struct pw_pool_view *v);

/* The same alerts for the top view's alert list. */
void pw_exhaustion_to_alert(const struct pw_pool_view *v, uint64_t wall_ns, struct pw_alert *out);
void pw_failure_to_alert(const struct pw_pool_failure *f, struct pw_alert *out);

#endif /* PW_POOLVIEW_H */
