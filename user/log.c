// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include "log.h"

int pw_verbosity;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (pw_verbosity < 2 || (level == LIBBPF_DEBUG && pw_verbosity < 3))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void pw_log_init(int verbosity)
{
	pw_verbosity = verbosity;
	libbpf_set_print(libbpf_print);
}

static void vlog(const char *fmt, va_list ap)
{
	fputs("portwatch: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pw_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void pw_info(const char *fmt, ...)
{
	va_list ap;

	if (pw_verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void pw_debug(const char *fmt, ...)
{
	va_list ap;

	if (pw_verbosity < 2)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
