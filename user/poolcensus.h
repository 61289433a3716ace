/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A census pass for the ephemeral-port pools: the sockets processes hold
 * (iter/task_file, every namespace at once), then, inside each namespace
 * the pools know of, its sysctls and its TCP and UDP hash tables
 * (iter/tcp, iter/udp), where TIME_WAIT lives.
 */
#ifndef PW_POOLCENSUS_H
#define PW_POOLCENSUS_H

#include <stdbool.h>
#include <stdint.h>

#include "census.h"
#include "pools.h"

struct pw_pools_census_stats {
	unsigned sockets;    /* records seen, all iterators */
	unsigned namespaces; /* namespaces whose hash tables were walked */
	unsigned unreachable; /* namespaces no live process let us enter */
	uint64_t elapsed_ns;
};

/*
 * Run one pass into p. netns != 0 limits it to that namespace. Every
 * iter/task_file record is also given to also(also_ctx) when also is set
 * (the port model shares the walk). Returns 0 or -errno.
 */
int pw_pools_census(struct pw_pools *p, struct pw_census *c, uint32_t netns, pw_census_fn also,
		    void *also_ctx, struct pw_pools_census_stats *stats);
/* The same, also seeding the owners map (pw_census_run_seeding): the start-up pass. */
int pw_pools_census_seeding(struct pw_pools *p, struct pw_census *c, uint32_t netns,
			    pw_census_fn also, void *also_ctx, struct pw_pools_census_stats *stats);

/*
 * Read the port-range sysctls of the namespaces the pools know: all of
 * them, or (all false) those not read yet, such as one a process just
 * appeared in. Each read is a setns() there and back. Returns how many
 * namespaces were read.
 */
int pw_pools_read_ranges(struct pw_pools *p, bool all);

#endif /* PW_POOLCENSUS_H */
