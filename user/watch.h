/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The long-running commands built on the port model: watch, ports, top. */
#ifndef PW_WATCH_H
#define PW_WATCH_H

#include "opts.h"

/* Alerts as they happen; port records every --interval and at exit. */
int pw_cmd_watch(const struct pw_opts *o);
/* A snapshot of every bound and listening port (observe --duration first). */
int pw_cmd_ports(const struct pw_opts *o);
/* The live table; plain periodic tables when stdout is not a terminal. */
int pw_cmd_top(const struct pw_opts *o);

#endif /* PW_WATCH_H */
