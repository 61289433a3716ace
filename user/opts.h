/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Command line: subcommand, output mode and filters. */
#ifndef PW_OPTS_H
#define PW_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "filter.h"

enum pw_cmd {
	PW_CMD_DEFAULT = 0, /* no subcommand given */
	PW_CMD_TRACE,
	PW_CMD_PORTS,
	PW_CMD_TOP,
	PW_CMD_WATCH,
	PW_CMD_CHECK,
	PW_CMD_POOLS,
	PW_CMD_HELP,
	PW_CMD_VERSION,
};

struct pw_opts {
	enum pw_cmd cmd;
	bool json;
	double duration; /* seconds; 0: until a signal */
	int verbose;
	unsigned ringbuf_kb; /* ring buffer size in KiB, a power of two */
	double interval;     /* watch: seconds between port records; top: refresh */
	const char *baseline;       /* --baseline FILE, or NULL */
	const char *write_baseline; /* --write-baseline FILE ("-": stdout), or NULL */
	int n_allow;
	const char *allow[16];      /* --allow CIDR: sources never suspected of scanning */
	struct pw_filter filter;
};

/*
 * Parse argv into o. Returns 0, or 2 (the usage-error exit status) with a
 * one-line reason in err. Names of network namespaces (/run/netns/NAME) and
 * paths of namespaces and cgroups are resolved to inode numbers here.
 */
int pw_opts_parse(int argc, char **argv, struct pw_opts *o, char *err, size_t errlen);
/* The --help text: every option, one per line. */
void pw_usage(FILE *f);

#endif /* PW_OPTS_H */
