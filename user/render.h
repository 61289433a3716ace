/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Renderers of decoded events: JSON Lines (DESIGN §1) and text columns. */
#ifndef PW_RENDER_H
#define PW_RENDER_H

#include <stdio.h>

#include "decode.h"
#include "json.h"

/* Append ev as one JSON object to jw (the caller flushes the line). */
void pw_render_json(struct json_writer *jw, const struct pw_ev *ev);
/* "2026-11-22T10:00:00.123456Z" */
void pw_format_ts(uint64_t wall_ns, char *out, size_t len);
void pw_render_text_header(FILE *f);
/* One line; every string from the kernel is escaped for the terminal. */
void pw_render_text(FILE *f, const struct pw_ev *ev);

#endif /* PW_RENDER_H */
