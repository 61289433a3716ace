/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Event filters from the command line. The kernel applies the cheap subset
 * (pw_filter_kernel) so filtered records never cross the ring buffer; the
 * loader applies the whole filter again on decoded events, so the result
 * does not depend on what the kernel side could do.
 */
#ifndef PW_FILTER_H
#define PW_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"

struct pw_filter {
	uint32_t pid;        /* 0: any */
	char comm[PW_COMM_LEN + 1]; /* "": any; exact match */
	uint16_t port;       /* 0: any; local, remote or requested */
	uint32_t netns;      /* 0: any */
	uint64_t cgroup_id;  /* 0: any */
	int family;          /* 0: any, 4 or 6 (after unmapping) */
	int proto;           /* 0: any, PW_PROTO_TCP or PW_PROTO_UDP */
	bool failed_only;
};

bool pw_filter_match(const struct pw_filter *f, const struct pw_ev *ev);
/* The part of f the BPF programs check, for their .rodata. */
void pw_filter_kernel(const struct pw_filter *f, struct pw_kfilter *k);

#endif /* PW_FILTER_H */
