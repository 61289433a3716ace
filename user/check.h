/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the running kernel offers portwatch, probed once: kernel BTF (the
 * types and enums the programs rely on), map and helper support, the
 * tracepoints, tracefs and cgroup v2. `portwatch check` prints the table;
 * every session prints it under -vv.
 */
#ifndef PW_CHECK_H
#define PW_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "opts.h"

struct pw_feature {
	const char *name;
	const char *since;    /* the kernel version that brought it */
	const char *used_for; /* what portwatch does with it */
	const char *fallback; /* what happens without it; NULL: portwatch cannot run */
	bool present;
	char detail[256];     /* e.g. where tracefs is mounted */
};

#define PW_MAX_FEATURES 24

struct pw_features {
	char kernel[65];
	int n;
	struct pw_feature f[PW_MAX_FEATURES];
	bool can_run; /* every feature without a fallback is present */
};

/* Probe the running kernel. Changes nothing on the system. */
void pw_features_probe(struct pw_features *out);
/* The table as text, or as one JSON object. */
void pw_features_print(FILE *f, const struct pw_features *ft, bool json);
/* `portwatch check`: exit status 0 when portwatch can run here, else 1. */
int pw_cmd_check(const struct pw_opts *o);

/*
 * What the loader must know before loading, from one read of the kernel's
 * BTF (each read costs about 7 ms of start-up here).
 */
struct pw_load_caps {
	bool tcp_destroy_sock; /* the tcp:tcp_destroy_sock tracepoint */
	bool task_pt_regs;     /* bpf_task_pt_regs (v5.15): syscall arguments read at exit */
	/* kfree_skb passes its drop reason (v5.17); without it pw_drop cannot load
	 * and closed ports are inferred (closed.h) */
	bool drop_reason;
};
void pw_load_caps_probe(struct pw_load_caps *c);

/* Where cgroup v2 is mounted, or "" (out is always terminated). */
void pw_cgroup2_mount(char *out, size_t len);

#endif /* PW_CHECK_H */
