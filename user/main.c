// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* portwatch: which process bound this port, who is knocking, and why. */
#include <stdio.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "opts.h"
#include "trace.h"
#include "watch.h"

#ifndef PW_VERSION
#define PW_VERSION "0.1.0"
#endif

int main(int argc, char **argv)
{
	struct pw_opts o;
	char err[256];
	int ret;

	ret = pw_opts_parse(argc, argv, &o, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "portwatch: %s\nTry 'portwatch --help'.\n", err);
		goto out;
	}
	pw_log_init(o.verbose);
	switch (o.cmd) {
	case PW_CMD_HELP:
		pw_usage(stdout);
		break;
	case PW_CMD_VERSION:
		printf("portwatch %s\n", PW_VERSION);
		break;
	case PW_CMD_DEFAULT:
		/* DESIGN: the live table for a person, the detector for a pipe. */
		ret = isatty(STDOUT_FILENO) ? pw_cmd_top(&o) : pw_cmd_watch(&o);
		break;
	case PW_CMD_TRACE:
		ret = pw_cmd_trace(&o);
		break;
	case PW_CMD_PORTS:
	case PW_CMD_POOLS:
		ret = pw_cmd_ports(&o);
		break;
	case PW_CMD_TOP:
		ret = pw_cmd_top(&o);
		break;
	case PW_CMD_WATCH:
		ret = pw_cmd_watch(&o);
		break;
	case PW_CMD_CHECK:
		ret = pw_cmd_check(&o);
		break;
	}
out:
	return ret;
}
