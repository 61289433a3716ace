/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Diagnostics on stderr, by verbosity: -v portwatch's own, -vv also libbpf's. */
#ifndef PW_LOG_H
#define PW_LOG_H

extern int pw_verbosity;

/* Install the libbpf print callback that honours pw_verbosity. */
void pw_log_init(int verbosity);
void pw_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pw_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* -v */
void pw_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* -vv */

#endif /* PW_LOG_H */
