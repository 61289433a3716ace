/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `portwatch trace`: the live stream of port events. */
#ifndef PW_TRACE_H
#define PW_TRACE_H

#include "opts.h"

/* Run until SIGINT/SIGTERM or --duration. Returns the exit status. */
int pw_cmd_trace(const struct pw_opts *o);

#endif /* PW_TRACE_H */
