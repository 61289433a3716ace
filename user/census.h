/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Socket census: every TCP/UDP socket held by a process, with its owner,
 * from the iter/task_file program in bpf/census.bpf.c, and every socket in
 * one network namespace's hash tables, from iter/tcp and iter/udp. Asked
 * at the moment it is needed (e.g. a bind just failed with EADDRINUSE), so
 * the answer is what the kernel holds now, including sockets older than
 * portwatch.
 */
#ifndef PW_CENSUS_H
#define PW_CENSUS_H

#include <stddef.h>
#include <linux/types.h>

#include "decode.h"
#include "portwatch.h"

struct pw_census;

/* Called for every socket found; return non-zero to stop early. */
typedef int (*pw_census_fn)(void *ctx, const struct pw_sock *s);

/*
 * Load the iterator. owners_fd >= 0 shares the trace object's socket-owner
 * map, which pw_census_seed_owners() fills; -1 gives the census its own.
 * Returns 0 or a negative errno with a reason in err.
 */
int pw_census_open(struct pw_census **out, int owners_fd, char *err, size_t errlen);
/*
 * Record the owner of every existing TCP socket in the owners map (never
 * replacing a known one), so closes of sockets older than portwatch name
 * their process. Returns the number of sockets seen, or -errno.
 */
int pw_census_seed_owners(struct pw_census *c);
/*
 * Walk every process's sockets matching f (NULL: all), until fn asks to
 * stop. Returns 0 or -errno (pw_census_last_count() has how many).
 */
int pw_census_run(struct pw_census *c, const struct pw_census_filter *f, pw_census_fn fn, void *ctx);
/*
 * pw_census_run() that also seeds the owners map as pw_census_seed_owners()
 * does, from every TCP socket whether f matches it or not (unless fn stops
 * the walk early): start-up needs both, and with 100k sockets one pass
 * saves about 60 ms over two.
 */
int pw_census_run_seeding(struct pw_census *c, const struct pw_census_filter *f, pw_census_fn fn,
			  void *ctx);
/*
 * Walk every TCP and UDP socket in the hash tables of the network namespace
 * the calling thread is in now (iter/tcp, iter/udp): sockets processes hold,
 * and TIME_WAIT/orphaned ones no process holds (pid 0). Records have origin
 * PW_ORIGIN_TCP_ITER or PW_ORIGIN_UDP_ITER, no pid/comm/fd/cgroup, sock_ino
 * 0 for sockets no file refers to, and for timewait sockets state
 * tw_substate (TIME_WAIT, or FIN_WAIT2 for an orphan timed out of it, as
 * ss shows them) and ttl_ms. Returns how many records fn saw (>= 0), or
 * -errno: -EOPNOTSUPP before v5.9.
 */
int pw_census_netns_sockets(struct pw_census *c, pw_census_fn fn, void *ctx);
/* pw_census_netns_sockets() of the TCP table alone (listeners included). */
int pw_census_netns_tcp(struct pw_census *c, pw_census_fn fn, void *ctx);
/*
 * pw_census_netns_sockets() without the sockets a file refers to (which
 * iter/task_file reports already, with their owners): TIME_WAIT, orphans,
 * sockets the kernel made for itself (tunnels). A tenth of the records on
 * a busy host, and the kernel skips most of its per-socket reads.
 */
int pw_census_netns_unheld(struct pw_census *c, pw_census_fn fn, void *ctx);
/* pw_census_netns_unheld() of the UDP table alone (no TCP socket could be unheld). */
int pw_census_netns_unheld_udp(struct pw_census *c, pw_census_fn fn, void *ctx);
/* How many records fn saw in the last pw_census_run() or pw_census_netns_sockets(). */
unsigned pw_census_last_count(const struct pw_census *c);
/*
 * The processes holding proto/port in netns (whatever the address family:
 * a v6 socket on :: blocks v4 binds too), listeners first, at most max.
 * Returns how many were found, or -errno.
 */
int pw_census_holders(struct pw_census *c, __u32 netns, __u8 proto, __u16 port,
		      struct pw_holder *out, int max);
void pw_census_close(struct pw_census *c);

#endif /* PW_CENSUS_H */
