// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "netns.h"
#include "poolcensus.h"

#define MAX_NETNS 4096

struct feed {
	struct pw_pools *pools;
	pw_census_fn also;
	void *also_ctx;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int feed_sock(void *ctx, const struct pw_sock *s)
{
	struct feed *f = ctx;

	pw_pools_census_sock(f->pools, s);
	if (f->also)
		f->also(f->also_ctx, s);
	return 0;
}

/* Sysctls and hash tables of one namespace; 0, or -errno if it could not be entered. */
static int census_netns(struct pw_pools *p, struct pw_census *c, uint32_t netns, struct feed *f,
			struct pw_port_range *range, unsigned *sockets)
{
	uint32_t pids[8], tw, orphans;
	int npids, saved, n, ret;

	npids = pw_pools_netns_pids(p, netns, pids, 8);
	saved = pw_netns_enter(netns, pids, (size_t)npids);
	if (saved < 0)
		return saved;
	ret = pw_netns_read_ports(range);
	if (!ret)
		pw_pools_set_range(p, netns, range);
	else
		pw_debug("netns %u: cannot read ip_local_port_range: %d", netns, ret);
	f->also = NULL; /* task_file records only */
	/*
	 * Every namespace's walk scans the whole (shared) TCP hash table, some
	 * 20 ms on a host with 100k sockets: skip it when the kernel's own
	 * counters say there is no TIME_WAIT here and no orphan anywhere.
	 */
	if (!pw_netns_read_sockstat(&tw, &orphans) && !tw && !orphans)
		n = pw_census_netns_unheld_udp(c, feed_sock, f);
	else
		n = pw_census_netns_unheld(c, feed_sock, f);
	/* Back home before anything else, whatever happened inside. */
	ret = pw_netns_leave(saved);
	if (ret) {
		/*
		 * Staying would pin a foreign namespace and make it "home" for
		 * every later pass: nothing after this can be trusted.
		 */
		pw_err("cannot return to portwatch's own network namespace: %s", strerror(-ret));
		exit(1);
	}
	if (n < 0)
		return n;
	*sockets += (unsigned)n;
	pw_pools_census_end(p, netns);
	return 0;
}

static int pools_census(struct pw_pools *p, struct pw_census *c, uint32_t netns, pw_census_fn also,
			void *also_ctx, struct pw_pools_census_stats *stats, bool seed)
{
	struct pw_census_filter filter = { .netns = netns };
	struct feed f = { .pools = p, .also = also, .also_ctx = also_ctx };
	struct pw_pools_census_stats st = { 0 };
	struct pw_port_range *range = malloc(sizeof(*range));
	uint32_t *list = malloc(MAX_NETNS * sizeof(*list));
	uint64_t start = mono_ns();
	int ret = -ENOMEM, n, i, r;

	if (!range || !list)
		goto out;
	pw_pools_census_begin(p, start);
	ret = seed ? pw_census_run_seeding(c, &filter, feed_sock, &f)
		   : pw_census_run(c, &filter, feed_sock, &f);
	if (ret)
		goto out;
	st.sockets = pw_census_last_count(c);
	n = netns ? 1 : pw_pools_netns_list(p, list, MAX_NETNS);
	if (netns)
		list[0] = netns;
	for (i = 0; i < n; i++) {
		r = census_netns(p, c, list[i], &f, range, &st.sockets);
		if (r == -EOPNOTSUPP) {
			/* Before v5.9: no TIME_WAIT census; events alone keep the pools. */
			st.unreachable += (unsigned)(n - i);
			break;
		}
		if (r < 0 && r != -ESRCH && r != -ENOENT && r != -EACCES && r != -EPERM) {
			ret = r;
			goto out;
		}
		if (r < 0)
			st.unreachable++;
		else
			st.namespaces++;
	}
	ret = 0;
out:
	st.elapsed_ns = mono_ns() - start;
	if (stats)
		*stats = st;
	free(range);
	free(list);
	return ret;
}

int pw_pools_census(struct pw_pools *p, struct pw_census *c, uint32_t netns, pw_census_fn also,
		    void *also_ctx, struct pw_pools_census_stats *stats)
{
	return pools_census(p, c, netns, also, also_ctx, stats, false);
}

int pw_pools_census_seeding(struct pw_pools *p, struct pw_census *c, uint32_t netns,
			    pw_census_fn also, void *also_ctx, struct pw_pools_census_stats *stats)
{
	return pools_census(p, c, netns, also, also_ctx, stats, true);
}

int pw_pools_read_ranges(struct pw_pools *p, bool all)
{
	struct pw_port_range *range = malloc(sizeof(*range));
	uint32_t *list = malloc(MAX_NETNS * sizeof(*list));
	uint32_t pids[8];
	int n, i, npids, saved, got, read = 0;

	if (!range || !list)
		goto out;
	n = pw_pools_netns_list(p, list, MAX_NETNS);
	for (i = 0; i < n; i++) {
		if (!all && pw_pools_range_known(p, list[i]))
			continue;
		npids = pw_pools_netns_pids(p, list[i], pids, 8);
		saved = pw_netns_enter(list[i], pids, (size_t)npids);
		if (saved < 0)
			continue;
		got = pw_netns_read_ports(range);
		if (pw_netns_leave(saved)) {
			pw_err("cannot return to portwatch's own network namespace");
			exit(1); /* as in census_netns() */
		}
		if (!got) {
			pw_pools_set_range(p, list[i], range);
			read++;
		}
	}
out:
	free(range);
	free(list);
	return read;
}
