// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

/*
 * The holdings table reaches 100k entries at start-up on a busy host:
 * start it big rather than rehash it ten times, and hash the 44-byte keys
 * eight bytes at a time (uthash's default, Jenkins, goes byte by byte).
 */
#define HASH_INITIAL_NUM_BUCKETS_LOG2 10
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = pw_hash_key((keyptr), (keylen)))

static inline unsigned pw_hash_key(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (len) {
		w = 0;
		memcpy(&w, p, len);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	}
	h ^= h >> 29;
	return (unsigned)h;
}

#include <uthash.h>

#include "pools.h"

#define NS_PER_S 1000000000ULL
/* TCP_TIMEWAIT_LEN: a constant, not a sysctl (tcp_fin_timeout is FIN_WAIT2's). */
#define TW_SECONDS 60
#define TW_NS ((uint64_t)TW_SECONDS * NS_PER_S)
/* tcp_tw_reuse lets connect() take a TIME_WAIT 4-tuple once it is 1 s old. */
#define TW_REUSE_NS (1ULL * NS_PER_S)
/* Beyond this many holdings new ones are counted, not kept (~40 MiB). */
#define MAX_HOLDINGS 262144
/*
 * Connect pools kept at once (~2.3 KiB each with their history): past
 * this, new destinations count in their namespace's bind pool only.
 */
#define MAX_CONNECT_POOLS 16384
#define HIST 16             /* per-second samples kept per pool */
#define RATE_WINDOW_NS (5ULL * NS_PER_S)
#define RATE_MIN_NS (1500ULL * 1000000ULL) /* no projection from less */
#define RECENT_NS (1ULL * NS_PER_S)
/*
 * An ETA alone raises a warning only from this much history: the first
 * second of a client that then settles (tcp_tw_reuse taking over its
 * TIME_WAIT ports, a pool warming up) looks like a flood.
 */
#define EVIDENCE_NS (3ULL * NS_PER_S)
#define ETA_HORIZON_S 3600
#define WARN_ETA_S 60
#define CRIT_ETA_S 10
#define REPEAT_NS (10ULL * NS_PER_S)   /* repeat a standing warning this often */
#define CALM_NS (30ULL * NS_PER_S)     /* quiet this long: a new rise alerts again */
#define IDLE_NS (120ULL * NS_PER_S)    /* an empty pool is forgotten after this */
#define PIDS 8                          /* distinct owners counted per pool */
#define NARROW_RANGE 16384              /* below this the range itself is a cause */

#define EAGAIN_RES (-EAGAIN)
#define EADDRINUSE_RES (-EADDRINUSE)
#define EADDRNOTAVAIL_RES (-EADDRNOTAVAIL)

/* A socket's 4-tuple (bound-only and listening sockets: remote zero). */
struct hold_key {
	uint32_t netns;
	uint8_t proto;
	uint8_t family; /* 4 or 6 */
	uint16_t lport;
	uint16_t rport;
	uint16_t pad;
	uint8_t laddr[16];
	uint8_t raddr[16];
};

struct hold {
	struct hold_key k;
	uint32_t sockets;    /* live sockets on this key (SO_REUSEADDR binds can share one) */
	uint32_t census_sockets;
	bool explicit_port;  /* taken by bind()/listen(): connect() skips it for every destination */
	bool autoport;       /* bind(addr, 0): a failed connect() gives the port back */
	bool listener;
	uint64_t tw_until;   /* CLOCK_MONOTONIC ns: a TIME_WAIT socket holds it until then */
	uint64_t tw_since;
	uint64_t touched_ns; /* last event about it */
	unsigned gen;        /* last census pass that saw it */
	uint32_t pid;
	char comm[PW_COMM_LEN + 1];
	UT_hash_handle hh;
};

struct pool_key {
	uint32_t netns;
	uint8_t kind;
	uint8_t family;
	uint16_t dport;
	uint8_t saddr[16];
	uint8_t daddr[16];
};

struct sample {
	uint64_t ns;
	uint32_t active; /* in use, TIME_WAIT excluded (bind pool: all in use) */
	uint64_t tw_made;
	uint64_t allocs;
};

struct pid_count {
	uint32_t pid;
	uint32_t count;
	char comm[PW_COMM_LEN + 1];
};

struct pool {
	struct pool_key k;
	uint64_t tw_made; /* TIME_WAITs created, from close events */
	uint64_t allocs;  /* ports allocated, from events */
	uint64_t last_used_ns;
	struct sample hist[HIST];
	unsigned nhist;
	/* Recounted every tick. */
	uint32_t own;      /* connect pool: its own connections and TIME_WAIT */
	uint32_t tw;       /* TIME_WAIT that blocks this pool */
	uint32_t tw_reusable;
	uint32_t bind_only; /* bound, not connected or listening */
	uint32_t bound_connected; /* bound first, then connected */
	uint32_t expiring[TW_SECONDS + 1]; /* TIME_WAIT ending in k seconds */
	struct pid_count pids[PIDS];
	struct pw_pool_view view;
	enum pw_pool_severity sent;
	uint64_t sent_ns;
	uint64_t calm_since;
	UT_hash_handle hh;
};

struct ns {
	uint32_t netns;
	bool range_known;
	struct pw_port_range range;
	uint32_t pids[4];
	unsigned npids;
	uint64_t *explicit_map; /* TCP ports taken by bind()/listen(), this tick */
	uint64_t *tcp_map;      /* TCP ports in use, TIME_WAIT included */
	uint64_t *udp_map;
	uint64_t *listen_map;   /* for the census: passive sockets share these */
	uint64_t *live_map;     /* TCP ports some live socket holds (not only TIME_WAIT) */
	uint64_t *tw_fixed_map; /* TCP ports with a TIME_WAIT connect() may not take over */
	uint64_t *tw_reuse_map; /* TCP ports with a TIME_WAIT tcp_tw_reuse lets connect() take */
	uint8_t *tw_left;       /* per port: seconds until its last TIME_WAIT ends (this tick) */
	uint32_t n_explicit;    /* in range */
	uint32_t n_tcp;         /* TCP ports in range in use */
	uint32_t n_tw_only;     /* of those, held by TIME_WAIT alone */
	uint32_t n_tw_recycled; /* of those, by TIME_WAIT connect() recycles (tcp_tw_reuse) */
	uint32_t n_udp;
	uint64_t last_seen;     /* last event or census record from it */
	unsigned n_pools;       /* this tick */
	UT_hash_handle hh;
};

/* A socket inode the current census pass has counted (see pw_pools_census_sock). */
struct seen_ino {
	uint64_t ino;
	UT_hash_handle hh;
};

struct pw_pools {
	struct seen_ino *seen; /* this census pass */
	struct hold *holds;
	size_t nholds;
	uint64_t untracked;
	struct pool *pools;
	size_t n_connect_pools;
	uint64_t pools_untracked; /* connect pools not made: MAX_CONNECT_POOLS reached */
	struct ns *nss;
	unsigned gen;
	uint64_t census_ns;
	uint64_t now;
};

#define MAP_WORDS (65536 / 64)

static inline void bit_set(uint64_t *m, unsigned p)
{
	m[p / 64] |= 1ULL << (p % 64);
}

static inline bool bit_get(const uint64_t *m, unsigned p)
{
	return m[p / 64] & (1ULL << (p % 64));
}

const char *pw_pool_kind_name(enum pw_pool_kind k)
{
	static const char *const names[] = { "connect", "bind", "udp" };

	return (unsigned)k < 3 ? names[k] : "?";
}

const char *pw_severity_name(enum pw_pool_severity s)
{
	static const char *const names[] = { "none", "info", "warning", "critical" };

	return (unsigned)s < 4 ? names[s] : "?";
}

struct pw_pools *pw_pools_new(void)
{
	return calloc(1, sizeof(struct pw_pools));
}

static void ns_free_maps(struct ns *n)
{
	free(n->explicit_map);
	free(n->tcp_map);
	free(n->udp_map);
	free(n->listen_map);
	free(n->live_map);
	free(n->tw_fixed_map);
	free(n->tw_reuse_map);
	free(n->tw_left);
}

static void forget_seen(struct pw_pools *p)
{
	struct seen_ino *si, *tmp;

	HASH_ITER(hh, p->seen, si, tmp) {
		HASH_DEL(p->seen, si);
		free(si);
	}
}

void pw_pools_free(struct pw_pools *p)
{
	struct hold *h, *htmp;
	struct pool *pl, *ptmp;
	struct ns *n, *ntmp;

	if (!p)
		return;
	forget_seen(p);
	HASH_ITER(hh, p->holds, h, htmp) {
		HASH_DEL(p->holds, h);
		free(h);
	}
	HASH_ITER(hh, p->pools, pl, ptmp) {
		HASH_DEL(p->pools, pl);
		free(pl);
	}
	HASH_ITER(hh, p->nss, n, ntmp) {
		HASH_DEL(p->nss, n);
		ns_free_maps(n);
		free(n);
	}
	free(p);
}

static struct ns *get_ns(struct pw_pools *p, uint32_t netns)
{
	struct ns *n;

	HASH_FIND(hh, p->nss, &netns, sizeof(netns), n);
	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->explicit_map = calloc(MAP_WORDS, sizeof(uint64_t));
	n->tcp_map = calloc(MAP_WORDS, sizeof(uint64_t));
	n->udp_map = calloc(MAP_WORDS, sizeof(uint64_t));
	n->listen_map = calloc(MAP_WORDS, sizeof(uint64_t));
	n->live_map = calloc(MAP_WORDS, sizeof(uint64_t));
	n->tw_fixed_map = calloc(MAP_WORDS, sizeof(uint64_t));
	n->tw_reuse_map = calloc(MAP_WORDS, sizeof(uint64_t));
	n->tw_left = calloc(65536, 1);
	if (!n->tw_left || !n->explicit_map || !n->tcp_map || !n->udp_map || !n->listen_map || !n->live_map ||
	    !n->tw_fixed_map || !n->tw_reuse_map) {
		ns_free_maps(n);
		free(n);
		return NULL;
	}
	n->netns = netns;
	HASH_ADD(hh, p->nss, netns, sizeof(netns), n);
	return n;
}

static void ns_add_pid(struct pw_pools *p, uint32_t netns, uint32_t pid)
{
	struct ns *n = get_ns(p, netns);
	unsigned i;

	if (!n)
		return;
	n->last_seen = p->now;
	if (!pid)
		return;
	for (i = 0; i < n->npids && i < 4; i++)
		if (n->pids[i] == pid)
			return;
	/* The newest four: an old one may have exited. */
	n->pids[n->npids % 4] = pid;
	n->npids++;
}

void pw_pools_set_range(struct pw_pools *p, uint32_t netns, const struct pw_port_range *r)
{
	struct ns *n = get_ns(p, netns);

	if (!n)
		return;
	n->range = *r;
	n->range_known = r->lo && r->hi >= r->lo;
}

bool pw_pools_range_known(const struct pw_pools *p, uint32_t netns)
{
	struct ns *n;

	HASH_FIND(hh, p->nss, &netns, sizeof(netns), n);
	return n && n->range_known;
}

int pw_pools_netns_pids(const struct pw_pools *p, uint32_t netns, uint32_t *out, int max)
{
	struct ns *n;
	int i, count = 0;

	HASH_FIND(hh, p->nss, &netns, sizeof(netns), n);
	if (!n)
		return 0;
	for (i = 0; i < (int)n->npids && i < 4 && count < max; i++)
		out[count++] = n->pids[((n->npids - 1 - i) % 4)];
	return count;
}

int pw_pools_netns_list(const struct pw_pools *p, uint32_t *out, int max)
{
	const struct ns *n;
	int count = 0;

	if (!out)
		return (int)HASH_COUNT(p->nss);
	for (n = p->nss; n && count < max; n = n->hh.next)
		out[count++] = n->netns;
	return count;
}

/* Linux's default ip_local_port_range: counted against while the real one is unknown. */
#define DEFAULT_LO 32768
#define DEFAULT_HI 60999

static unsigned range_lo(const struct ns *n)
{
	return n->range_known ? n->range.lo : DEFAULT_LO;
}

static unsigned range_hi(const struct ns *n)
{
	return n->range_known ? n->range.hi : DEFAULT_HI;
}

static bool in_range(const struct ns *n, unsigned port)
{
	return n && port >= range_lo(n) && port <= range_hi(n) &&
	       !(n->range_known && bit_get(n->range.reserved, port));
}

static uint32_t capacity(const struct ns *n)
{
	if (!n || !n->range_known)
		return 0;
	return (uint32_t)(n->range.hi - n->range.lo + 1) - n->range.reserved_in_range;
}

static bool is_loopback(int family, const uint8_t *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	return family == 4 ? a[0] == 127 : memcmp(a, v6lo, 16) == 0;
}

/* ---- holdings ---- */

static struct hold *find_hold(struct pw_pools *p, const struct hold_key *k)
{
	struct hold *h;

	HASH_FIND(hh, p->holds, k, sizeof(*k), h);
	return h;
}

/* The holding of k, made if new (*fresh, when given, says which). */
static struct hold *add_hold_fresh(struct pw_pools *p, const struct hold_key *k, bool *fresh)
{
	struct hold *h = find_hold(p, k);

	if (fresh)
		*fresh = !h;
	if (h)
		return h;
	if (p->nholds >= MAX_HOLDINGS) {
		p->untracked++;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		p->untracked++;
		return NULL;
	}
	h->k = *k;
	HASH_ADD(hh, p->holds, k, sizeof(h->k), h);
	p->nholds++;
	return h;
}

static struct hold *add_hold(struct pw_pools *p, const struct hold_key *k)
{
	return add_hold_fresh(p, k, NULL);
}

static void del_hold(struct pw_pools *p, struct hold *h)
{
	HASH_DEL(p->holds, h);
	p->nholds--;
	free(h);
}

static void key_from_ev(struct hold_key *k, const struct pw_ev *ev, bool with_remote)
{
	memset(k, 0, sizeof(*k));
	k->netns = ev->netns;
	k->proto = ev->proto;
	k->family = (uint8_t)ev->family;
	k->lport = ev->local_port;
	memcpy(k->laddr, ev->local_raw, 16);
	if (with_remote && ev->has_remote) {
		k->rport = ev->remote_port;
		memcpy(k->raddr, ev->remote_raw, 16);
	}
}

static void set_owner(struct hold *h, uint32_t pid, const char *comm)
{
	if (!pid)
		return;
	h->pid = pid;
	memcpy(h->comm, comm, PW_COMM_LEN);
	h->comm[PW_COMM_LEN] = '\0';
}

/* ---- pools ---- */

static struct pool *get_pool(struct pw_pools *p, const struct pool_key *k)
{
	struct pool *pl;

	HASH_FIND(hh, p->pools, k, sizeof(*k), pl);
	if (pl)
		return pl;
	/* A crawler or a proxy reaches a destination per connection: bounded. */
	if (k->kind == PW_POOL_CONNECT && p->n_connect_pools >= MAX_CONNECT_POOLS) {
		p->pools_untracked++;
		return NULL;
	}
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return NULL;
	pl->k = *k;
	pl->last_used_ns = p->now;
	HASH_ADD(hh, p->pools, k, sizeof(pl->k), pl);
	if (k->kind == PW_POOL_CONNECT)
		p->n_connect_pools++;
	return pl;
}

static void del_pool(struct pw_pools *p, struct pool *pl)
{
	if (pl->k.kind == PW_POOL_CONNECT)
		p->n_connect_pools--;
	HASH_DEL(p->pools, pl);
	free(pl);
}

static void ns_pool_key(struct pool_key *k, uint32_t netns, enum pw_pool_kind kind)
{
	memset(k, 0, sizeof(*k));
	k->netns = netns;
	k->kind = (uint8_t)kind;
}

static void connect_pool_key(struct pool_key *k, const struct hold_key *h)
{
	memset(k, 0, sizeof(*k));
	k->netns = h->netns;
	k->kind = PW_POOL_CONNECT;
	k->family = h->family;
	k->dport = h->rport;
	memcpy(k->saddr, h->laddr, 16);
	memcpy(k->daddr, h->raddr, 16);
}

static void count_pool(struct pw_pools *p, const struct pool_key *k, uint64_t allocs, uint64_t tws)
{
	struct pool *pl;
	struct ns *n;

	HASH_FIND(hh, p->pools, k, sizeof(*k), pl);
	if (!pl && (pl = get_pool(p, k)) && (n = get_ns(p, k->netns))) {
		/*
		 * Born of this event: what was in use just before is what the
		 * last count saw, so the rates start now, not at the next tick
		 * (a second earlier warning for a pool that fills fast).
		 */
		pl->hist[0].ns = p->now;
		pl->hist[0].active = k->kind == PW_POOL_CONNECT ? n->n_explicit
				     : k->kind == PW_POOL_BIND ? n->n_tcp : n->n_udp;
		pl->nhist = 1;
	}
	if (!pl)
		return;
	pl->allocs += allocs;
	pl->tw_made += tws;
	pl->last_used_ns = p->now;
}

/* A port was allocated (allocs) or went to TIME_WAIT (tws) for holding k. */
static void count_pools(struct pw_pools *p, const struct hold_key *k, uint64_t allocs, uint64_t tws)
{
	struct pool_key pk;

	if (k->proto == PW_PROTO_UDP) {
		ns_pool_key(&pk, k->netns, PW_POOL_UDP);
		count_pool(p, &pk, allocs, 0);
		return;
	}
	ns_pool_key(&pk, k->netns, PW_POOL_BIND);
	count_pool(p, &pk, allocs, tws);
	if (k->rport) {
		connect_pool_key(&pk, k);
		count_pool(p, &pk, allocs, tws);
	}
}

static void format_dest(char *out, size_t len, int family, const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	pw_format_addr(family, addr, a, sizeof(a));
	if (family == 6)
		snprintf(out, len, "[%s]:%u", a, port);
	else
		snprintf(out, len, "%s:%u", a, port);
}

/* ---- events ---- */

/* Which pool an allocation failure came from; false if it is not one. */
static bool failure_pool(const struct pw_ev *ev, enum pw_pool_kind *kind)
{
	bool tcp = ev->proto == PW_PROTO_TCP;

	switch (ev->kind) {
	case PW_EV_CONNECT:
		if (tcp && ev->result == EADDRNOTAVAIL_RES)
			*kind = PW_POOL_CONNECT;
		else if (!tcp && ev->result == EAGAIN_RES)
			*kind = PW_POOL_UDP;
		else
			return false;
		return true;
	case PW_EV_BIND:
		if (ev->autobind && ev->result == EAGAIN_RES)
			*kind = PW_POOL_UDP;
		else if (!ev->autobind && ev->req_port == 0 && ev->result == EADDRINUSE_RES)
			*kind = tcp ? PW_POOL_BIND : PW_POOL_UDP;
		else
			return false;
		return true;
	case PW_EV_LISTEN:
		/* listen() on an unbound socket picks a port itself. */
		if (tcp && ev->result == EADDRINUSE_RES && ev->local_port == 0) {
			*kind = PW_POOL_BIND;
			return true;
		}
		return false;
	default:
		return false;
	}
}

static void take_bound(struct pw_pools *p, struct hold_key *k, bool autoport)
{
	struct hold *h = add_hold(p, k);

	if (!h)
		return;
	if (!h->sockets)
		count_pools(p, k, 1, 0);
	h->sockets++;
	h->explicit_port = true;
	h->autoport = autoport;
	h->touched_ns = p->now;
}

/* The bound-only holding a connect from conn's local end came from, if any. */
static struct hold *bound_holding(struct pw_pools *p, const struct hold_key *conn)
{
	struct hold_key k = *conn;
	struct hold *h;

	k.rport = 0;
	memset(k.raddr, 0, 16);
	h = find_hold(p, &k);
	if (!h) {
		memset(k.laddr, 0, 16); /* bound to the wildcard address */
		h = find_hold(p, &k);
	}
	return h && h->sockets && !h->listener ? h : NULL;
}

static void drop_socket(struct pw_pools *p, struct hold *h)
{
	if (--h->sockets == 0 && !h->tw_until)
		del_hold(p, h);
}

/* A connect on a socket that bind() gave its port: the same port, now connected. */
static bool was_bound(struct pw_pools *p, const struct hold_key *conn)
{
	struct hold *h = bound_holding(p, conn);

	if (!h)
		return false;
	drop_socket(p, h);
	return true;
}

/*
 * A failed TCP connect from a socket bind(addr, 0) gave a port: the kernel
 * put the port back with the failure (no SOCK_BINDPORT_LOCK); a port asked
 * for by number stays until close (tcp_destroy_sock reports it).
 */
static void connect_failed(struct pw_pools *p, const struct pw_ev *ev)
{
	struct hold_key k;
	struct hold *h;

	if (ev->proto != PW_PROTO_TCP || !ev->local_port || !ev->has_remote)
		return;
	key_from_ev(&k, ev, true);
	h = bound_holding(p, &k);
	if (h && h->autoport)
		drop_socket(p, h);
}

static void on_connect(struct pw_pools *p, const struct pw_ev *ev)
{
	struct hold_key k;
	struct hold *h;
	bool bound;

	key_from_ev(&k, ev, true);
	if (!k.lport || !k.rport)
		return;
	bound = was_bound(p, &k);
	h = add_hold(p, &k);
	if (!h)
		return;
	/* A fresh connection on a reused TIME_WAIT 4-tuple (tcp_tw_reuse) replaces it. */
	h->tw_until = 0;
	h->sockets = 1;
	h->explicit_port = bound;
	h->touched_ns = p->now;
	set_owner(h, ev->pid, ev->comm);
	if (!bound)
		count_pools(p, &k, 1, 0);
}

static void on_close(struct pw_pools *p, const struct pw_ev *ev)
{
	struct hold_key k;
	struct hold *h;
	struct ns *n;

	/* The server's end: its port is the listener's, in no pool. */
	if (ev->accepted)
		return;
	key_from_ev(&k, ev, true);
	h = find_hold(p, &k);
	n = get_ns(p, k.netns);
	/*
	 * A connection older than portwatch's census left a TIME_WAIT: keep it,
	 * if its port is one a pool could want and not a listener's (a server
	 * end whose accepted flag was lost with its owner entry).
	 */
	if (!h && ev->time_wait && n && in_range(n, k.lport) && !bit_get(n->listen_map, k.lport))
		h = add_hold(p, &k);
	if (!h)
		return;
	h->touched_ns = p->now;
	if (ev->owner_known)
		set_owner(h, ev->pid, ev->comm);
	if (ev->time_wait) {
		h->sockets = 0;
		h->tw_since = p->now;
		h->tw_until = p->now + TW_NS;
		count_pools(p, &k, 0, 1);
		return;
	}
	if (h->sockets > 1) {
		h->sockets--;
		return;
	}
	del_hold(p, h);
}

/* A UDP socket released (cgroup/sock_release): its local end only. */
static void on_udp_close(struct pw_pools *p, const struct pw_ev *ev)
{
	struct hold_key k;
	struct hold *h;

	key_from_ev(&k, ev, false);
	h = find_hold(p, &k);
	if (!h) {
		memset(k.laddr, 0, 16); /* bound to the wildcard, then connected */
		h = find_hold(p, &k);
	}
	if (h && h->sockets) {
		h->touched_ns = p->now;
		drop_socket(p, h);
	}
}

bool pw_pools_event(struct pw_pools *p, const struct pw_ev *ev, struct pw_pool_failure *fail)
{
	enum pw_pool_kind kind;
	struct hold_key k;
	struct hold *h;
	struct ns *n;

	if (ev->proto != PW_PROTO_TCP && ev->proto != PW_PROTO_UDP)
		return false;
	if (ev->mono_ns > p->now)
		p->now = ev->mono_ns;
	ns_add_pid(p, ev->netns, ev->owner_known ? ev->pid : 0);
	if (ev->result < 0) {
		if (ev->kind == PW_EV_CONNECT)
			connect_failed(p, ev);
		if (!failure_pool(ev, &kind))
			return false;
		memset(fail, 0, sizeof(*fail));
		fail->netns = ev->netns;
		fail->kind = kind;
		fail->proto = ev->proto;
		fail->pid = ev->pid;
		memcpy(fail->comm, ev->comm, sizeof(fail->comm));
		fail->result = ev->result;
		fail->wall_ns = ev->wall_ns;
		if (ev->kind == PW_EV_CONNECT && ev->has_remote)
			format_dest(fail->destination, sizeof(fail->destination), ev->family,
				    ev->remote_raw, ev->remote_port);
		return true;
	}
	switch (ev->kind) {
	case PW_EV_BIND:
		key_from_ev(&k, ev, false);
		if (k.lport)
			take_bound(p, &k, ev->req_port == 0 && !ev->autobind);
		break;
	case PW_EV_LISTEN:
		key_from_ev(&k, ev, false);
		if (!k.lport)
			break;
		h = find_hold(p, &k);
		if (!h || !h->sockets)
			take_bound(p, &k, false);
		h = find_hold(p, &k);
		if (h) {
			h->listener = true;
			set_owner(h, ev->pid, ev->comm);
		}
		n = get_ns(p, ev->netns);
		if (n)
			bit_set(n->listen_map, k.lport);
		break;
	case PW_EV_CONNECT:
		if (ev->proto == PW_PROTO_TCP) {
			on_connect(p, ev);
		} else if (ev->local_port) {
			/*
			 * UDP connect() binds an unbound socket; a bound one keeps its
			 * port. UDP holdings are keyed without the remote end: the
			 * release (cgroup/sock_release) knows only the local one.
			 */
			key_from_ev(&k, ev, false);
			h = add_hold(p, &k);
			if (h && !h->sockets) {
				h->sockets = 1;
				h->touched_ns = p->now;
				set_owner(h, ev->pid, ev->comm);
				count_pools(p, &k, 1, 0);
			}
		}
		break;
	case PW_EV_CLOSE:
		if (ev->proto == PW_PROTO_TCP)
			on_close(p, ev);
		else
			on_udp_close(p, ev);
		break;
	default:
		break;
	}
	if (ev->kind == PW_EV_BIND && ev->local_port) {
		key_from_ev(&k, ev, false);
		h = find_hold(p, &k);
		if (h)
			set_owner(h, ev->pid, ev->comm);
	}
	return false;
}

/* ---- census ---- */

/* Whether this pass counted socket ino already (a socket fork or dup shared). */
static bool seen_before(struct pw_pools *p, uint64_t ino)
{
	struct seen_ino *si;

	if (!ino)
		return false;
	HASH_FIND(hh, p->seen, &ino, sizeof(ino), si);
	if (si)
		return true;
	si = calloc(1, sizeof(*si));
	if (si) {
		si->ino = ino;
		HASH_ADD(hh, p->seen, ino, sizeof(si->ino), si);
	}
	return false;
}

void pw_pools_census_begin(struct pw_pools *p, uint64_t mono_ns)
{
	forget_seen(p);
	p->gen++;
	p->census_ns = mono_ns;
	if (mono_ns > p->now)
		p->now = mono_ns;
}

void pw_pools_census_sock(struct pw_pools *p, const struct pw_sock *s)
{
	struct hold_key k = { 0 };
	struct hold *h;
	struct ns *n;
	bool fresh;

	if (s->proto != PW_PROTO_TCP && s->proto != PW_PROTO_UDP)
		return;
	ns_add_pid(p, s->netns, s->pid);
	if (!s->lport)
		return;
	n = get_ns(p, s->netns);
	if (n && s->proto == PW_PROTO_TCP) {
		/*
		 * Accepted connections (and their TIME_WAIT) share a listener's
		 * port: not ephemeral. iter/tcp gives listeners first, so on a
		 * busy server most are skipped here rather than kept and pruned
		 * at the end of the pass.
		 */
		if (s->state == PW_TCP_LISTEN)
			bit_set(n->listen_map, s->lport);
		else if (s->rport && bit_get(n->listen_map, s->lport))
			return;
	}
	k.netns = s->netns;
	k.proto = s->proto;
	k.family = s->family == PW_AF_INET ? 4 : 6;
	k.lport = s->lport;
	memcpy(k.laddr, s->laddr, k.family == 4 ? 4 : 16);
	/* UDP holdings are keyed by their local end alone (see on_udp_close). */
	if (s->rport && s->proto == PW_PROTO_TCP) {
		k.rport = s->rport;
		memcpy(k.raddr, s->raddr, k.family == 4 ? 4 : 16);
	}
	/* A v6 socket talking IPv4 holds mapped addresses: key it as IPv4. */
	if (k.family == 6 && !memcmp(k.laddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) &&
	    (!s->rport || !memcmp(k.raddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))) {
		k.family = 4;
		memmove(k.laddr, k.laddr + 12, 4);
		memset(k.laddr + 4, 0, 12);
		memmove(k.raddr, k.raddr + 12, 4);
		memset(k.raddr + 4, 0, 12);
	}
	h = add_hold_fresh(p, &k, &fresh);
	if (!h)
		return;
	if (h->gen != p->gen) {
		h->gen = p->gen;
		h->census_sockets = 0;
	}
	/* A timewait socket (TIME_WAIT, or an orphan's FIN_WAIT2 handed to one). */
	if (s->proto == PW_PROTO_TCP && s->origin == PW_ORIGIN_TCP_ITER &&
	    (s->state == PW_TCP_TIME_WAIT || s->ttl_ms)) {
		h->sockets = 0;
		h->tw_until = p->census_ns + (uint64_t)s->ttl_ms * 1000000ULL;
		if (fresh || !h->tw_since)
			h->tw_since = h->tw_until > TW_NS ? h->tw_until - TW_NS : 0;
		return;
	}
	if (s->proto == PW_PROTO_TCP && !s->rport) {
		/* Listening, or bound only: the port came from bind()/listen(). */
		h->explicit_port = true;
		if (s->state == PW_TCP_LISTEN)
			h->listener = true;
	}
	if (s->origin == PW_ORIGIN_TASK_FILE && !s->rport) {
		/*
		 * Several sockets may share a bound-only key (SO_REUSEADDR); one
		 * socket may be in several fd tables (fork, dup): count inodes.
		 */
		if (!seen_before(p, s->sock_ino))
			h->census_sockets++;
		h->sockets = h->census_sockets ? h->census_sockets : 1;
	} else if (!h->sockets) {
		h->sockets = 1;
	}
	h->tw_until = 0;
	if (s->pid)
		set_owner(h, s->pid, s->comm);
}

void pw_pools_census_end(struct pw_pools *p, uint32_t netns)
{
	struct ns *n = get_ns(p, netns);
	struct hold *h, *tmp;

	if (!n)
		return;
	memset(n->listen_map, 0, MAP_WORDS * sizeof(uint64_t));
	HASH_ITER(hh, p->holds, h, tmp) {
		if (h->k.netns != netns)
			continue;
		/* Gone since, unless an event told us about it during the pass. */
		if (h->gen != p->gen && h->touched_ns < p->census_ns) {
			del_hold(p, h);
			continue;
		}
		if (h->k.proto == PW_PROTO_TCP && h->listener && h->sockets)
			bit_set(n->listen_map, h->k.lport);
	}
	/* Accepted connections share their listener's port: not ephemeral. */
	HASH_ITER(hh, p->holds, h, tmp) {
		if (h->k.netns == netns && h->k.proto == PW_PROTO_TCP && !h->explicit_port &&
		    h->k.rport && bit_get(n->listen_map, h->k.lport))
			del_hold(p, h);
	}
}

/* ---- the per-second count ---- */

static void add_pid(struct pid_count *pids, uint32_t pid, const char *comm)
{
	int i, min = 0;

	for (i = 0; i < PIDS; i++) {
		if (pids[i].count && pids[i].pid == pid) {
			pids[i].count++;
			return;
		}
		if (!pids[i].count) {
			pids[i].pid = pid;
			pids[i].count = 1;
			memcpy(pids[i].comm, comm, sizeof(pids[i].comm));
			return;
		}
		if (pids[i].count < pids[min].count)
			min = i;
	}
	/* Full: a newcomer replaces the smallest (Space-Saving). */
	pids[min].pid = pid;
	pids[min].count++;
	memcpy(pids[min].comm, comm, sizeof(pids[min].comm));
}

static void top_pids(struct pw_pool_view *v, const struct pid_count *pids)
{
	struct pid_count sorted[PIDS];
	int i, j;

	memcpy(sorted, pids, sizeof(sorted));
	for (i = 1; i < PIDS; i++)
		for (j = i; j > 0 && sorted[j].count > sorted[j - 1].count; j--) {
			struct pid_count t = sorted[j];

			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	v->n_top = 0;
	for (i = 0; i < PIDS && v->n_top < PW_POOL_TOP && sorted[i].count; i++) {
		v->top[v->n_top].pid = sorted[i].pid;
		v->top[v->n_top].count = sorted[i].count;
		memcpy(v->top[v->n_top].comm, sorted[i].comm, sizeof(v->top[0].comm));
		v->n_top++;
	}
}

static void reset_counts(struct pool *pl)
{
	pl->own = pl->tw = pl->tw_reusable = pl->bind_only = pl->bound_connected = 0;
	memset(pl->expiring, 0, sizeof(pl->expiring));
	memset(pl->pids, 0, sizeof(pl->pids));
}

static void count_tw(struct pool *pl, const struct hold *h, uint64_t now)
{
	uint64_t left = h->tw_until - now;
	unsigned sec = (unsigned)((left + NS_PER_S - 1) / NS_PER_S);

	pl->tw++;
	pl->expiring[sec > TW_SECONDS ? TW_SECONDS : sec]++;
}

/* Does tcp_tw_reuse let connect() take over this TIME_WAIT now? */
static bool tw_reusable(const struct ns *n, const struct hold *h, uint64_t now)
{
	uint8_t reuse = n->range_known ? n->range.tw_reuse : 2;

	if (now - h->tw_since < TW_REUSE_NS)
		return false;
	if (reuse == 1)
		return true;
	/* 2 (the default): only where the source or destination is loopback. */
	return reuse == 2 &&
	       (is_loopback(h->k.family, h->k.raddr) || is_loopback(h->k.family, h->k.laddr));
}

static void count_holdings(struct pw_pools *p, uint64_t now)
{
	struct hold *h, *tmp;
	struct pool *pl;
	struct pool_key pk;
	struct ns *n;
	bool tw;

	for (n = p->nss; n; n = n->hh.next) {
		memset(n->explicit_map, 0, MAP_WORDS * sizeof(uint64_t));
		memset(n->tcp_map, 0, MAP_WORDS * sizeof(uint64_t));
		memset(n->udp_map, 0, MAP_WORDS * sizeof(uint64_t));
		memset(n->live_map, 0, MAP_WORDS * sizeof(uint64_t));
		memset(n->tw_fixed_map, 0, MAP_WORDS * sizeof(uint64_t));
		memset(n->tw_reuse_map, 0, MAP_WORDS * sizeof(uint64_t));
		memset(n->tw_left, 0, 65536);
		n->n_explicit = 0;
	}
	for (pl = p->pools; pl; pl = pl->hh.next)
		reset_counts(pl);

	/* Pass 1: the namespace-wide port maps; expired TIME_WAIT goes. */
	HASH_ITER(hh, p->holds, h, tmp) {
		if (h->tw_until && h->tw_until <= now && !h->sockets) {
			del_hold(p, h);
			continue;
		}
		n = get_ns(p, h->k.netns);
		if (!n)
			continue;
		if (h->k.proto == PW_PROTO_UDP) {
			bit_set(n->udp_map, h->k.lport);
			continue;
		}
		if (h->explicit_port && !bit_get(n->explicit_map, h->k.lport)) {
			bit_set(n->explicit_map, h->k.lport);
			if (in_range(n, h->k.lport))
				n->n_explicit++;
		}
		bit_set(n->tcp_map, h->k.lport);
		if (h->sockets || !h->tw_until)
			bit_set(n->live_map, h->k.lport);
		else if (!h->explicit_port && h->k.rport && tw_reusable(n, h, now))
			bit_set(n->tw_reuse_map, h->k.lport);
		else
			bit_set(n->tw_fixed_map, h->k.lport);
		if (!h->sockets && h->tw_until) {
			uint64_t left = (h->tw_until - now + NS_PER_S - 1) / NS_PER_S;
			uint8_t sec = (uint8_t)(left > TW_SECONDS ? TW_SECONDS : left);

			/* A port is free when its last TIME_WAIT ends. */
			if (sec > n->tw_left[h->k.lport])
				n->tw_left[h->k.lport] = sec;
		}
	}

	/* The bind and UDP pools count ports, whoever shares them. */
	for (n = p->nss; n; n = n->hh.next) {
		unsigned port;

		n->n_tcp = n->n_udp = n->n_tw_only = n->n_tw_recycled = 0;
		for (port = range_lo(n); port <= range_hi(n); port++) {
			if (!in_range(n, port))
				continue;
			n->n_tcp += bit_get(n->tcp_map, port);
			n->n_udp += bit_get(n->udp_map, port);
			n->n_tw_only += bit_get(n->tcp_map, port) && !bit_get(n->live_map, port);
			n->n_tw_recycled += bit_get(n->tw_reuse_map, port) && !bit_get(n->live_map, port) &&
					    !bit_get(n->tw_fixed_map, port);
		}
	}

	/* Pass 2: who holds what, per pool. */
	HASH_ITER(hh, p->holds, h, tmp) {
		n = get_ns(p, h->k.netns);
		if (!n || !in_range(n, h->k.lport))
			continue;
		tw = h->tw_until && !h->sockets;
		if (h->k.proto == PW_PROTO_UDP) {
			ns_pool_key(&pk, h->k.netns, PW_POOL_UDP);
			pl = get_pool(p, &pk);
			if (pl) {
				pl->own++;
				add_pid(pl->pids, h->pid, h->comm);
				if (!h->k.rport)
					pl->bind_only++;
			}
			continue;
		}
		ns_pool_key(&pk, h->k.netns, PW_POOL_BIND);
		pl = get_pool(p, &pk);
		if (pl) {
			pl->own++;
			if (tw)
				pl->tw++;
			add_pid(pl->pids, h->pid, h->comm);
			if (h->explicit_port && !h->k.rport && !h->listener)
				pl->bind_only++;
			if (h->explicit_port && h->k.rport)
				pl->bound_connected++;
		}
		if (!h->k.rport)
			continue;
		connect_pool_key(&pk, &h->k);
		pl = get_pool(p, &pk);
		if (!pl)
			continue;
		if (h->explicit_port) {
			pl->bound_connected++;
			continue; /* counted once, with every port bind() took */
		}
		if (tw && tw_reusable(n, h, now)) {
			pl->tw_reusable++;
			continue;
		}
		pl->own++;
		if (tw)
			count_tw(pl, h, now);
		add_pid(pl->pids, h->pid, h->comm);
	}
}

/* The bind pool's TIME_WAIT schedule, per port held by TIME_WAIT alone. */
static void bind_pool_schedule(struct pw_pools *p)
{
	struct pool_key pk;
	struct pool *pl;
	struct ns *n;
	unsigned port;

	for (n = p->nss; n; n = n->hh.next) {
		ns_pool_key(&pk, n->netns, PW_POOL_BIND);
		HASH_FIND(hh, p->pools, &pk, sizeof(pk), pl);
		if (!pl)
			continue;
		for (port = range_lo(n); port <= range_hi(n); port++)
			if (in_range(n, port) && bit_get(n->tcp_map, port) && !bit_get(n->live_map, port))
				pl->expiring[n->tw_left[port]]++;
	}
}

/*
 * When does the pool run dry? Project in_use forward one second at a time:
 * live sockets grow at their recent net rate, TIME_WAIT sockets leave on
 * their known schedule, new ones arrive at their recent rate and stay
 * tw_life seconds. Past tw_life the TIME_WAIT share is steady, and only
 * growth of live sockets can still fill the pool.
 */
static bool project_eta(uint32_t cap, double active, double growth, const uint32_t *expiring,
			uint32_t tw, int tw_life, double tw_rate, uint32_t *eta)
{
	double occ, prev = active + tw, steady;
	uint32_t left = tw;
	int d;

	if (prev >= cap) {
		*eta = 0;
		return true;
	}
	for (d = 1; d <= tw_life; d++) {
		left -= expiring[d] <= left ? expiring[d] : left;
		occ = active + growth * d + left + tw_rate * d;
		if (occ >= cap) {
			/* Between d-1 and d: interpolate, to the nearest second. */
			*eta = (uint32_t)(d - 1 + (cap - prev) / (occ - prev) + 0.5);
			return true;
		}
		prev = occ;
	}
	steady = active + tw_rate * tw_life;
	if (growth <= 0)
		return false;
	d = (int)((cap - steady) / growth + 0.5);
	if (d < tw_life)
		d = tw_life;
	if (d > ETA_HORIZON_S)
		return false;
	*eta = (uint32_t)d;
	return true;
}

/* The oldest sample at most window (and half a tick) old. */
static const struct sample *sample_back(const struct pool *pl, uint64_t now, uint64_t window)
{
	const struct sample *best = NULL;
	unsigned i, n = pl->nhist < HIST ? pl->nhist : HIST;

	for (i = 0; i < n; i++) {
		const struct sample *s = &pl->hist[(pl->nhist - 1 - i) % HIST];

		if (now - s->ns > window + NS_PER_S / 2)
			break;
		best = s;
	}
	return best;
}

static void append_range_hint(char *hint, size_t len, const struct ns *n, uint32_t cap)
{
	size_t used = strlen(hint);
	uint32_t width = (uint32_t)(n->range.hi - n->range.lo + 1);

	if (!n->range_known || used >= len)
		return;
	if (cap < NARROW_RANGE || n->range.reserved_in_range * 4 > width)
		snprintf(hint + used, len - used,
			 "%sthe range is only %u usable ports (%u-%u, %u reserved): widen "
			 "net.ipv4.ip_local_port_range",
			 used ? "; " : "", cap, n->range.lo, n->range.hi, n->range.reserved_in_range);
}

static void make_hint(struct pool *pl, const struct ns *n, struct pw_pool_view *v)
{
	const char *who = v->n_top ? v->top[0].comm : "";
	char whom[64] = "";
	bool reuse_helps;

	if (v->n_top && v->top[0].pid)
		snprintf(whom, sizeof(whom), " (most by pid %u %.16s)", v->top[0].pid, who);
	switch (pl->k.kind) {
	case PW_POOL_CONNECT:
		/* Already in effect: 1, or 2 (loopback only) towards a loopback address. */
		reuse_helps = !n->range_known ||
			      !(n->range.tw_reuse == 1 ||
				(n->range.tw_reuse == 2 && (is_loopback(pl->k.family, pl->k.daddr) ||
							    is_loopback(pl->k.family, pl->k.saddr))));
		if (n->n_explicit >= 2 && n->n_explicit * 3 >= v->in_use && pl->bound_connected * 2 >= n->n_explicit)
			snprintf(v->hint, sizeof(v->hint),
				 "%u ports were taken by bind() before connect() and are skipped for every "
				 "destination: set IP_BIND_ADDRESS_NO_PORT before bind() so that connect() "
				 "picks the port per destination", n->n_explicit);
		else if (n->n_explicit >= 2 && n->n_explicit * 3 >= v->in_use)
			snprintf(v->hint, sizeof(v->hint),
				 "%u ports held by bind()/listen() are skipped by connect(): release unused "
				 "bound sockets, or reserve service ports outside ip_local_port_range "
				 "(ip_local_reserved_ports)", n->n_explicit);
		else if (pl->tw * 2 >= v->in_use)
			snprintf(v->hint, sizeof(v->hint),
				 "TIME_WAIT churn to %s (%u sockets, 60 s each)%s: reuse connections "
				 "(keep-alive, pooling)%s; or spread over more destination ports or source "
				 "addresses", v->destination, pl->tw, whom,
				 reuse_helps ? "; or set net.ipv4.tcp_tw_reuse=1" : "");
		else
			snprintf(v->hint, sizeof(v->hint),
				 "%u connections to %s held open%s: close idle connections or cap the "
				 "client's connection pool; or spread over more destination ports or source "
				 "addresses", pl->own - pl->tw, v->destination, whom);
		break;
	case PW_POOL_BIND:
		if (pl->bind_only * 2 >= v->in_use)
			snprintf(v->hint, sizeof(v->hint),
				 "%u ports held by bind() without connect() or listen()%s: close bound "
				 "sockets that are not used; if they connect() later, set "
				 "IP_BIND_ADDRESS_NO_PORT before bind()", pl->bind_only, whom);
		else if (v->time_wait * 2 >= v->in_use)
			snprintf(v->hint, sizeof(v->hint),
				 "TIME_WAIT holds %u ports (60 s each) and bind(0) cannot reuse them: "
				 "reuse connections (keep-alive, pooling)", v->time_wait);
		else
			snprintf(v->hint, sizeof(v->hint),
				 "%u ports in use by connections%s: close idle connections; listeners "
				 "should bind fixed ports outside ip_local_port_range", v->in_use, whom);
		break;
	case PW_POOL_UDP:
		snprintf(v->hint, sizeof(v->hint),
			 "%u UDP sockets hold ports%s: send from one bound socket to many destinations "
			 "instead of a socket per request, and close sockets when done", v->in_use, whom);
		break;
	}
	append_range_hint(v->hint, sizeof(v->hint), n, v->capacity);
}

/* A connect pool's own connections (bound first or not); other pools: anything. */
static bool pool_has_own(const struct pool *pl)
{
	return pl->k.kind != PW_POOL_CONNECT ? pl->view.in_use > 0 : pl->own + pl->bound_connected > 0;
}

static enum pw_pool_severity severity(const struct pool *pl, const struct pw_pool_view *v,
				      bool evidence)
{
	uint64_t used = (uint64_t)v->in_use * 100;
	uint64_t cap = v->capacity;

	/* A connect pool with nothing of its own: the bind pool speaks for bound ports. */
	if (!cap || (pl->k.kind == PW_POOL_CONNECT && !pool_has_own(pl)))
		return PW_SEV_NONE;
	if (used >= cap * 90 || (evidence && v->eta_known && v->eta_s <= CRIT_ETA_S))
		return PW_SEV_CRITICAL;
	if (used >= cap * 70 || (evidence && v->eta_known && v->eta_s <= WARN_ETA_S))
		return PW_SEV_WARNING;
	if (pl->k.kind == PW_POOL_CONNECT && used >= cap * 50)
		return PW_SEV_INFO;
	return PW_SEV_NONE;
}

static void fill_view(struct pw_pools *p, struct pool *pl, struct ns *n, uint64_t now)
{
	struct pw_pool_view *v = &pl->view;
	const struct sample *then;
	struct sample *s;
	const struct sample *recent;
	double dt = 0, rdt, growth = 0, tw_rate = 0;
	uint32_t active, level;
	bool bind_pool;
	bool evidence = false, reuse;
	int tw_life;

	memset(v, 0, sizeof(*v));
	v->netns = pl->k.netns;
	v->kind = (enum pw_pool_kind)pl->k.kind;
	v->proto = pl->k.kind == PW_POOL_UDP ? PW_PROTO_UDP : PW_PROTO_TCP;
	v->range_known = n->range_known;
	v->capacity = capacity(n);
	if (n->range_known) {
		v->lo = n->range.lo;
		v->hi = n->range.hi;
		v->reserved = n->range.reserved_in_range;
		v->tw_reuse = n->range.tw_reuse;
	}
	/* Ports, for the bind pool: connect() shares one port among destinations. */
	v->time_wait = pl->k.kind == PW_POOL_BIND ? n->n_tw_only : pl->tw;
	v->in_use = pl->k.kind == PW_POOL_CONNECT ? pl->own
		    : pl->k.kind == PW_POOL_BIND ? n->n_tcp : n->n_udp;
	if (pl->k.kind == PW_POOL_CONNECT) {
		pw_format_addr(pl->k.family, pl->k.saddr, v->source, sizeof(v->source));
		format_dest(v->destination, sizeof(v->destination), pl->k.family, pl->k.daddr,
			    pl->k.dport);
		v->in_use += n->n_explicit;
	}
	top_pids(v, pl->pids);
	if (pool_has_own(pl))
		pl->last_used_ns = now;

	/* This second's sample, and the rates over the last few. */
	active = v->in_use > v->time_wait ? v->in_use - v->time_wait : 0;
	/*
	 * The bind pool counts ports, and with tcp_tw_reuse one port goes
	 * through TIME_WAIT many times: project its ports as a whole (their
	 * growth, less the known TIME_WAIT expiries), not TIME_WAITs made.
	 */
	bind_pool = pl->k.kind == PW_POOL_BIND;
	/*
	 * Ports whose TIME_WAIT connect() takes over (tcp_tw_reuse) are
	 * recycled, not consumed: a reusing churn spreads over up to half the
	 * range, then stays. They count in in_use, not in its growth.
	 */
	level = bind_pool ? v->in_use - (n->n_tw_recycled < v->in_use ? n->n_tw_recycled : v->in_use)
			  : active;
	s = &pl->hist[pl->nhist % HIST];
	s->ns = now;
	s->active = level;
	s->tw_made = pl->tw_made;
	s->allocs = pl->allocs;
	pl->nhist++;
	then = sample_back(pl, now, RATE_WINDOW_NS);
	if (then && then != s)
		dt = (double)(now - then->ns) / NS_PER_S;
	if (dt > 0) {
		growth = ((double)level - then->active) / dt;
		tw_rate = (double)(pl->tw_made - then->tw_made) / dt;
		v->alloc_rate = (double)(pl->allocs - then->allocs) / dt;
		/*
		 * A burst that stopped (a client pool warming up) is no trend:
		 * project with the lower of the window's rate and the last
		 * second's. One event of slack in the last second's count: ticks
		 * and a steady 10/s do not align, and 9 would skew every ETA late.
		 */
		recent = sample_back(pl, now, RECENT_NS);
		rdt = recent && recent != s ? (double)(now - recent->ns) / NS_PER_S : 0;
		if (rdt > 0) {
			double dl = (double)level - recent->active;
			double dtw = (double)(pl->tw_made - recent->tw_made);

			growth = fmin(growth, (dl > 0 ? dl + 1 : dl) / rdt);
			tw_rate = fmin(tw_rate, (dtw > 0 ? dtw + 1 : 0) / rdt);
		}
	}
	reuse = false;
	if (pl->k.kind == PW_POOL_CONNECT && n->range_known)
		reuse = n->range.tw_reuse == 1 ||
			(n->range.tw_reuse == 2 && (is_loopback(pl->k.family, pl->k.daddr) ||
						    is_loopback(pl->k.family, pl->k.saddr)));
	tw_life = reuse ? 1 : TW_SECONDS;
	if (pl->k.kind == PW_POOL_UDP || bind_pool)
		tw_rate = 0;
	if (v->capacity && dt * NS_PER_S >= RATE_MIN_NS)
		v->eta_known = project_eta(v->capacity, active, growth, pl->expiring, v->time_wait,
					   tw_life, tw_rate, &v->eta_s);
	else if (v->capacity && v->in_use >= v->capacity)
		v->eta_known = true; /* dry now: eta 0 */
	/*
	 * Not for UDP: no tracepoint shows a UDP socket's end, so between census
	 * passes a socket-per-query client (DNS resolvers) looks like a leak.
	 */
	evidence = pl->k.kind != PW_POOL_UDP && dt * NS_PER_S >= EVIDENCE_NS - NS_PER_S / 10 &&
		   v->in_use * 20 >= v->capacity && v->in_use >= 3;
	/*
	 * A churn whose TIME_WAITs connect() recycles settles on the ports of
	 * one parity (connect() tries them first, v4.6 commit 1580ab63fc9a):
	 * below half the range, the bind pool's growth while recycling is a
	 * churn warming up (its rate rising), not ports consumed. Measured
	 * under qemu, where a 40/s churn took 3 s to reach its rate: warned
	 * "dry in 23-40 s" while TIME_WAIT settled at 98 of 200 ports.
	 */
	if (bind_pool && n->n_tw_recycled && (uint64_t)v->in_use * 2 <= v->capacity)
		evidence = false;
	v->severity = severity(pl, v, evidence);
	/*
	 * A hint for pools that matter (alerting, or 5 % used): formatting one
	 * per pool per second is not free with 100k destinations of one socket.
	 */
	if (v->severity >= PW_SEV_INFO || (v->in_use && (uint64_t)v->in_use * 20 >= v->capacity))
		make_hint(pl, n, v);
	(void)p;
}

/*
 * A namespace nothing was heard from for a while, with no pool left, goes
 * (containers come and go; each costs some 128 KiB of port maps).
 */
static void forget_idle_namespaces(struct pw_pools *p)
{
	struct ns *n, *ntmp;
	struct pool *pl;
	struct hold *h, *htmp;

	for (n = p->nss; n; n = n->hh.next)
		n->n_pools = 0;
	for (pl = p->pools; pl; pl = pl->hh.next) {
		HASH_FIND(hh, p->nss, &pl->k.netns, sizeof(pl->k.netns), n);
		if (n)
			n->n_pools++;
	}
	HASH_ITER(hh, p->nss, n, ntmp) {
		if (n->n_pools || p->now - n->last_seen <= IDLE_NS)
			continue;
		HASH_ITER(hh, p->holds, h, htmp)
			if (h->k.netns == n->netns)
				del_hold(p, h);
		HASH_DEL(p->nss, n);
		ns_free_maps(n);
		free(n);
	}
}

/* The bind pool's biggest users: the destinations with most connections. */
static void top_destinations(struct pw_pools *p)
{
	struct pool *bind, *pl;
	int i, j;

	for (bind = p->pools; bind; bind = bind->hh.next) {
		if (bind->k.kind != PW_POOL_BIND)
			continue;
		bind->view.n_dests = 0;
		for (pl = p->pools; pl; pl = pl->hh.next) {
			if (pl->k.kind != PW_POOL_CONNECT || pl->k.netns != bind->k.netns || !pool_has_own(pl))
				continue;
			for (i = bind->view.n_dests; i > 0 && bind->view.dests[i - 1].count < pl->own; i--)
				;
			if (i >= PW_POOL_TOP)
				continue;
			j = bind->view.n_dests < PW_POOL_TOP ? bind->view.n_dests : PW_POOL_TOP - 1;
			memmove(&bind->view.dests[i + 1], &bind->view.dests[i],
				(size_t)(j - i) * sizeof(bind->view.dests[0]));
			bind->view.dests[i].count = pl->own;
			memcpy(bind->view.dests[i].destination, pl->view.destination,
			       sizeof(bind->view.dests[i].destination));
			if (bind->view.n_dests < PW_POOL_TOP)
				bind->view.n_dests++;
		}
	}
}

void pw_pools_tick(struct pw_pools *p, uint64_t mono_ns, pw_pool_fn alert, void *ctx)
{
	struct pool *pl, *tmp;
	struct ns *n;
	bool raise;

	if (mono_ns > p->now)
		p->now = mono_ns;
	count_holdings(p, p->now);
	bind_pool_schedule(p);
	HASH_ITER(hh, p->pools, pl, tmp) {
		n = get_ns(p, pl->k.netns);
		if (!n)
			continue;
		fill_view(p, pl, n, p->now);
		if (!pool_has_own(pl) && p->now - pl->last_used_ns > IDLE_NS) {
			del_pool(p, pl);
		}
	}
	top_destinations(p);
	forget_idle_namespaces(p);
	HASH_ITER(hh, p->pools, pl, tmp) {
		raise = pl->view.severity > pl->sent ||
			(pl->view.severity >= PW_SEV_WARNING && pl->view.severity == pl->sent &&
			 p->now - pl->sent_ns >= REPEAT_NS);
		if (pl->view.severity >= pl->sent && pl->view.severity)
			pl->calm_since = 0;
		else if (!pl->calm_since)
			pl->calm_since = p->now;
		if (raise) {
			pl->sent = pl->view.severity;
			pl->sent_ns = p->now;
			if (alert)
				alert(ctx, &pl->view);
		} else if (pl->view.severity < pl->sent && pl->calm_since &&
			   p->now - pl->calm_since >= CALM_NS) {
			pl->sent = pl->view.severity;
		}
	}
}

void pw_pools_each(const struct pw_pools *p, uint32_t netns, pw_pool_fn fn, void *ctx)
{
	const struct pool *pl;

	for (pl = p->pools; pl; pl = pl->hh.next) {
		if (netns && pl->k.netns != netns)
			continue;
		if (!pool_has_own(pl))
			continue;
		fn(ctx, &pl->view);
	}
}
