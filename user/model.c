// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#include "filter.h"
#include "model.h"
#include "services.h"

#define SOURCE_BITS 4096
#define RECENT_ALERTS 32

struct port_entry {
	struct pw_port_key key;
	enum pw_port_state state;
	int n_owners;
	struct pw_port_owner owners[PW_PORT_MAX_OWNERS];
	int n_addrs;
	int addr_family[PW_PORT_MAX_ADDRS];
	uint8_t addr_raw[PW_PORT_MAX_ADDRS][PW_ADDR_LEN];
	unsigned census_gen; /* last census pass that found a socket here */
	uint64_t drops_pass;  /* listeners' sk_drops summed over this pass */
	uint64_t drops_last;  /* the same, at the previous pass */
	uint64_t inos[8];     /* listener sockets counted in this pass */
	int n_inos;
	bool drops_known;
	bool alerted;        /* exposure/baseline alerts raised for this listening spell */
	struct pw_port_counters c;
	struct pw_port_stats kstats; /* the kernel's last cumulative values */
	uint64_t source_bits[SOURCE_BITS / 64];
	unsigned source_ones;
	uint64_t first_wall_ns;
	uint64_t last_wall_ns;
	uint64_t marked_total;
	UT_hash_handle hh;
};

struct pw_model {
	struct port_entry *ports;
	const struct pw_baseline *baseline;
	pw_alert_fn alert_fn;
	void *ctx;
	int64_t clock_offset;
	unsigned gen;
	bool census_done; /* at least one full pass */
	struct pw_alert recent[RECENT_ALERTS];
	int n_recent;
	int recent_next;
};

static const char *const state_names[] = { "closed", "bound", "listening" };
static const char *const sort_names[PW_SORT__MAX] = { "activity", "port", "syn", "probes", "sources" };

const char *pw_port_state_name(enum pw_port_state s)
{
	return (unsigned)s < 3 ? state_names[s] : "?";
}

const char *pw_sort_name(enum pw_sort s)
{
	return (unsigned)s < PW_SORT__MAX ? sort_names[s] : "?";
}

static uint64_t wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct pw_model *pw_model_new(const struct pw_baseline *baseline, pw_alert_fn alert_fn, void *ctx,
			      int64_t clock_offset)
{
	struct pw_model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->baseline = baseline;
	m->alert_fn = alert_fn;
	m->ctx = ctx;
	m->clock_offset = clock_offset;
	return m;
}

void pw_model_free(struct pw_model *m)
{
	struct port_entry *e, *tmp;

	if (!m)
		return;
	HASH_ITER(hh, m->ports, e, tmp) {
		HASH_DEL(m->ports, e);
		free(e);
	}
	free(m);
}

static struct port_entry *get_entry(struct pw_model *m, uint32_t netns, uint16_t port, int proto,
				    bool create)
{
	struct pw_port_key k = { .netns = netns, .port = port, .proto = (uint8_t)proto };
	struct port_entry *e;

	HASH_FIND(hh, m->ports, &k, sizeof(k), e);
	if (e || !create)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = k;
	e->first_wall_ns = e->last_wall_ns = wall_now();
	HASH_ADD(hh, m->ports, key, sizeof(e->key), e);
	return e;
}

/* Growth of a kernel counter; a smaller value means a recreated entry. */
static uint64_t kgrow(uint64_t before, uint64_t now)
{
	return now >= before ? now - before : now;
}

static uint64_t total(const struct pw_port_counters *c)
{
	return c->syn_in + c->accepts + c->closed_probes + c->flag_probes + c->filtered + c->binds +
	       c->bind_failures + c->resets_out + c->resets_in + c->half_open + c->listen_overflows;
}

/* "python3 -m http.server": argv joined with spaces; raw bytes. */
static void read_cmdline(uint32_t pid, char *out, size_t len)
{
	char path[32];
	ssize_t n = 0;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0) {
		out[0] = '\0';
		return;
	}
	out[n] = '\0';
	while (n > 0 && out[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[n] = '\0';
}

/* Add a process to e's owners unless it is there; cmdline read once. */
static void add_owner(struct port_entry *e, uint32_t pid, uint32_t uid, uint64_t cgroup_id,
		      const char *comm, const struct pw_port_owner *prev, int n_prev)
{
	struct pw_port_owner *o;
	int i;

	for (i = 0; i < e->n_owners; i++)
		if (e->owners[i].pid == pid)
			return;
	if (e->n_owners == PW_PORT_MAX_OWNERS)
		return;
	o = &e->owners[e->n_owners++];
	memset(o, 0, sizeof(*o));
	o->pid = pid;
	o->uid = uid;
	o->cgroup_id = cgroup_id;
	memcpy(o->comm, comm, PW_COMM_LEN);
	o->comm[PW_COMM_LEN] = '\0';
	for (i = 0; i < n_prev; i++) {
		if (prev[i].pid == pid) {
			memcpy(o->cmdline, prev[i].cmdline, sizeof(o->cmdline));
			if (!cgroup_id)
				o->cgroup_id = prev[i].cgroup_id;
			return;
		}
	}
	read_cmdline(pid, o->cmdline, sizeof(o->cmdline));
}

static void add_addr(struct port_entry *e, int family, const uint8_t *addr)
{
	size_t len = family == 4 ? 4 : 16;
	int i;

	for (i = 0; i < e->n_addrs; i++)
		if (e->addr_family[i] == family && memcmp(e->addr_raw[i], addr, len) == 0)
			return;
	if (e->n_addrs == PW_PORT_MAX_ADDRS)
		return;
	memset(e->addr_raw[e->n_addrs], 0, PW_ADDR_LEN);
	memcpy(e->addr_raw[e->n_addrs], addr, len);
	e->addr_family[e->n_addrs++] = family;
}

static bool addr_is_wildcard(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, family == 4 ? 4 : 16) == 0;
}

static bool addr_is_loopback(int family, const uint8_t *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	return family == 4 ? a[0] == 127 : memcmp(a, v6lo, 16) == 0;
}

/* A TCP listener, or a bound UDP socket: what serves a port. */
static bool serving(const struct port_entry *e)
{
	return e->state == PW_PORT_LISTENING || (e->key.proto == PW_PROTO_UDP && e->state == PW_PORT_BOUND);
}

static unsigned entry_flags(const struct pw_model *m, const struct port_entry *e)
{
	unsigned flags = 0;
	bool all_lo = e->n_addrs > 0;
	int i;

	for (i = 0; i < e->n_addrs; i++) {
		if (addr_is_wildcard(e->addr_family[i], e->addr_raw[i]))
			flags |= PW_PF_WILDCARD;
		if (!addr_is_loopback(e->addr_family[i], e->addr_raw[i]))
			all_lo = false;
	}
	if (all_lo)
		flags |= PW_PF_LOOPBACK;
	if (serving(e) && (flags & PW_PF_WILDCARD) && pw_port_sensitive(e->key.port, e->key.proto))
		flags |= PW_PF_EXPOSED;
	if (serving(e) && m->baseline) {
		for (i = 0; i < e->n_owners; i++)
			if (!pw_baseline_allows(m->baseline, e->key.proto, e->key.port, e->owners[i].comm))
				flags |= PW_PF_NEW;
		if (e->n_owners == 0 && !pw_baseline_allows(m->baseline, e->key.proto, e->key.port, NULL))
			flags |= PW_PF_NEW;
	}
	return flags;
}

static void format_addr(int family, const uint8_t *a, char *out, size_t len)
{
	pw_format_addr(family, a, out, len);
}

static void raise_alert(struct pw_model *m, struct pw_alert *a)
{
	a->wall_ns = wall_now();
	m->recent[m->recent_next] = *a;
	m->recent_next = (m->recent_next + 1) % RECENT_ALERTS;
	if (m->n_recent < RECENT_ALERTS)
		m->n_recent++;
	if (m->alert_fn)
		m->alert_fn(m->ctx, a);
}

static void alert_base(struct pw_alert *a, const struct port_entry *e, const char *type,
		       const char *severity)
{
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->severity = severity;
	a->netns = e->key.netns;
	a->proto = e->key.proto;
	a->port = e->key.port;
	a->service = pw_service_name(e->key.port, e->key.proto);
	if (e->n_owners > 0) {
		a->who.pid = e->owners[0].pid;
		memcpy(a->who.comm, e->owners[0].comm, sizeof(a->who.comm));
	}
}

/* Once per listening spell: is this listener exposed, or unapproved? */
static void check_listener(struct pw_model *m, struct port_entry *e)
{
	unsigned flags = entry_flags(m, e);
	struct pw_alert a;
	int i;

	if (!serving(e) || e->alerted)
		return;
	e->alerted = true;
	if (flags & PW_PF_EXPOSED) {
		alert_base(&a, e, "exposed_listener", "warning");
		for (i = 0; i < e->n_addrs; i++)
			if (addr_is_wildcard(e->addr_family[i], e->addr_raw[i]))
				format_addr(e->addr_family[i], e->addr_raw[i], a.addr, sizeof(a.addr));
		raise_alert(m, &a);
	}
	if (flags & PW_PF_NEW) {
		alert_base(&a, e, "new_listener", "warning");
		for (i = 0; i < e->n_owners; i++) {
			/* Name the process the baseline does not approve. */
			if (!pw_baseline_allows(m->baseline, e->key.proto, e->key.port, e->owners[i].comm)) {
				a.who.pid = e->owners[i].pid;
				memcpy(a.who.comm, e->owners[i].comm, sizeof(a.who.comm));
				break;
			}
		}
		if (e->n_addrs > 0)
			format_addr(e->addr_family[0], e->addr_raw[0], a.addr, sizeof(a.addr));
		raise_alert(m, &a);
	}
}

void pw_model_census_begin(struct pw_model *m)
{
	m->gen++;
}

/* Has this pass counted socket ino already (seen through another fd)? */
static bool owner_listed(struct port_entry *e, uint64_t ino)
{
	int i;

	for (i = 0; i < e->n_inos; i++)
		if (e->inos[i] == ino)
			return true;
	if (e->n_inos < (int)(sizeof(e->inos) / sizeof(e->inos[0])))
		e->inos[e->n_inos++] = ino;
	return false;
}

/* Sockets that stand for a port: listeners, and bound unconnected ones. */
static bool sock_is_port(const struct pw_sock *s)
{
	if (!s->lport)
		return false;
	if (s->proto == PW_PROTO_TCP)
		return s->state == PW_TCP_LISTEN || s->state == PW_TCP_CLOSE;
	return s->rport == 0;
}

void pw_model_census_sock(struct pw_model *m, const struct pw_sock *s)
{
	struct pw_port_owner prev[PW_PORT_MAX_OWNERS];
	struct port_entry *e;
	int n_prev, family;
	const uint8_t *addr;

	if (!sock_is_port(s))
		return;
	e = get_entry(m, s->netns, s->lport, s->proto, true);
	if (!e)
		return;
	if (e->census_gen != m->gen) {
		/* First socket of this pass: forget what the last pass said. */
		n_prev = e->n_owners;
		memcpy(prev, e->owners, sizeof(prev));
		e->census_gen = m->gen;
		e->n_owners = e->n_addrs = 0;
		e->drops_pass = 0;
		e->n_inos = 0;
		e->state = s->state == PW_TCP_LISTEN && s->proto == PW_PROTO_TCP ? PW_PORT_LISTENING :
										    PW_PORT_BOUND;
	} else {
		n_prev = 0;
		if (s->proto == PW_PROTO_TCP && s->state == PW_TCP_LISTEN)
			e->state = PW_PORT_LISTENING;
	}
	/* A listener shared by several processes (fork) is one socket: once. */
	if (s->state == PW_TCP_LISTEN && !owner_listed(e, s->sock_ino))
		e->drops_pass += s->drops;
	add_owner(e, s->pid, s->uid, s->cgroup_id, s->comm, prev, n_prev);
	family = s->family == PW_AF_INET ? 4 : 6;
	addr = s->laddr;
	if (family == 6 && memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		family = 4;
		addr += 12;
	}
	add_addr(e, family, addr);
}

void pw_model_census_end(struct pw_model *m)
{
	struct port_entry *e, *tmp;

	HASH_ITER(hh, m->ports, e, tmp) {
		if (e->census_gen == m->gen) {
			/*
			 * Counters count from when portwatch started watching:
			 * the drops of a listener of the first pass predate us;
			 * one found later was born since. A smaller sum means a
			 * new socket (started from zero) replaced the old one.
			 */
			if (!e->drops_known && !m->census_done)
				e->drops_last = e->drops_pass;
			e->drops_known = true;
			e->c.listen_overflows += kgrow(e->drops_last, e->drops_pass);
			e->drops_last = e->drops_pass;
			check_listener(m, e);
			if (!serving(e))
				e->alerted = false;
			continue;
		}
		/* Nothing holds it now. */
		e->state = PW_PORT_CLOSED;
		e->n_owners = e->n_addrs = 0;
		e->alerted = false;
		if (total(&e->c) == 0) {
			HASH_DEL(m->ports, e);
			free(e);
		}
	}
	m->census_done = true;
}

static void event_addr(struct port_entry *e, const struct pw_ev *ev)
{
	uint8_t raw[16] = {};

	if (inet_pton(ev->family == 4 ? AF_INET : AF_INET6, ev->local_addr, raw) == 1)
		add_addr(e, ev->family, raw);
}

void pw_model_event(struct pw_model *m, const struct pw_ev *ev)
{
	struct port_entry *e;
	struct pw_alert a;

	switch (ev->kind) {
	case PW_EV_BIND:
		if (!ev->local_port)
			break;
		e = get_entry(m, ev->netns, ev->local_port, ev->proto, true);
		if (!e)
			break;
		e->last_wall_ns = ev->wall_ns;
		if (ev->result < 0) {
			e->c.bind_failures++;
			if (ev->result == -EADDRINUSE) {
				alert_base(&a, e, "bind_conflict", "info");
				a.who.pid = ev->pid;
				memcpy(a.who.comm, ev->comm, sizeof(a.who.comm));
				snprintf(a.addr, sizeof(a.addr), "%s", ev->local_addr);
				if (ev->n_holders > 0)
					a.holder = ev->holders[0];
				raise_alert(m, &a);
			}
			break;
		}
		e->c.binds++;
		if (e->state == PW_PORT_CLOSED)
			e->state = PW_PORT_BOUND;
		add_owner(e, ev->pid, ev->uid, ev->cgroup_id, ev->comm, NULL, 0);
		event_addr(e, ev);
		break;
	case PW_EV_LISTEN:
		if (ev->result < 0 || !ev->local_port)
			break;
		e = get_entry(m, ev->netns, ev->local_port, ev->proto, true);
		if (!e)
			break;
		e->last_wall_ns = ev->wall_ns;
		e->state = PW_PORT_LISTENING;
		add_owner(e, ev->pid, ev->uid, ev->cgroup_id, ev->comm, NULL, 0);
		event_addr(e, ev);
		/* Alert now, not at the next census: the census confirms later. */
		if (m->census_done)
			check_listener(m, e);
		break;
	case PW_EV_ACCEPT:
		if (ev->result < 0)
			break;
		e = get_entry(m, ev->netns, ev->local_port, ev->proto, true);
		if (e) {
			e->c.accepts++;
			e->last_wall_ns = ev->wall_ns;
		}
		break;
	case PW_EV_CLOSE:
		if (!ev->listener)
			break;
		e = get_entry(m, ev->netns, ev->local_port, ev->proto, false);
		if (e && e->n_owners <= 1) {
			e->state = PW_PORT_CLOSED;
			e->n_owners = e->n_addrs = 0;
			e->alerted = false;
		}
		break;
	}
}

void pw_model_port_stats(struct pw_model *m, const struct pw_port_key *k, const struct pw_port_stats *s)
{
	bool inbound = s->syn_in || s->closed_probes || s->flag_probes || s->filtered;
	struct port_entry *e = get_entry(m, k->netns, k->port, k->proto, false);
	struct pw_port_stats prev;

	/* RSTs alone (a client aborting) do not make an ephemeral port a port. */
	if (!e && inbound) {
		e = get_entry(m, k->netns, k->port, k->proto, true);
		if (e)
			e->first_wall_ns = s->first_ns + (uint64_t)m->clock_offset;
	}
	if (!e)
		return;
	prev = e->kstats;
	if (prev.first_ns != s->first_ns)
		memset(&prev, 0, sizeof(prev)); /* evicted and recreated in the kernel */
	e->c.syn_in += kgrow(prev.syn_in, s->syn_in);
	e->c.closed_probes += kgrow(prev.closed_probes, s->closed_probes);
	e->c.half_open += kgrow(prev.half_open, s->half_open);
	e->c.resets_out += kgrow(prev.resets_out, s->resets_out);
	e->c.resets_in += kgrow(prev.resets_in, s->resets_in);
	e->c.flag_probes += kgrow(prev.flag_probes, s->flag_probes);
	e->c.filtered += kgrow(prev.filtered, s->filtered);
	if (s->last_ns != prev.last_ns)
		e->last_wall_ns = s->last_ns + (uint64_t)m->clock_offset;
	e->kstats = *s;
}

void pw_model_closed_probes(struct pw_model *m, const struct pw_flow_key *k, uint32_t n, uint64_t mono_ns)
{
	struct port_entry *e = get_entry(m, k->netns, k->lport, k->proto, true);

	if (!e)
		return;
	e->c.closed_probes += n;
	if (mono_ns)
		e->last_wall_ns = mono_ns + (uint64_t)m->clock_offset;
}

/*
 * Which of the 4096 bits a source sets. Linear counting needs the bit to
 * look random: FNV-1a alone keeps consecutive addresses in distinct low
 * bits (no collisions, so the estimate overshoots), so finish with
 * MurmurHash3's fmix32 avalanche.
 */
static unsigned source_bit(const struct pw_flow_key *k)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(k->raddr); i++)
		h = (h ^ k->raddr[i]) * 16777619u;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h % SOURCE_BITS;
}

void pw_model_source(struct pw_model *m, const struct pw_flow_key *k)
{
	struct port_entry *e = get_entry(m, k->netns, k->lport, k->proto, false);
	unsigned bit;

	if (!e)
		return;
	bit = source_bit(k);
	if (!(e->source_bits[bit / 64] & (1ULL << (bit % 64)))) {
		e->source_bits[bit / 64] |= 1ULL << (bit % 64);
		e->source_ones++;
	}
}

/* Linear counting (Whang et al. 1990): n ~ m ln(m / empty). */
static uint64_t sources_estimate(const struct port_entry *e)
{
	unsigned empty = SOURCE_BITS - e->source_ones;

	if (empty == 0)
		empty = 1; /* saturated: the estimate is a floor */
	return (uint64_t)llround(SOURCE_BITS * log((double)SOURCE_BITS / empty));
}

static void fill_view(const struct pw_model *m, const struct port_entry *e, struct pw_port_view *v)
{
	int i;

	memset(v, 0, sizeof(*v));
	v->netns = e->key.netns;
	v->proto = e->key.proto;
	v->port = e->key.port;
	v->state = e->state;
	v->n_owners = e->n_owners;
	memcpy(v->owners, e->owners, sizeof(v->owners));
	v->n_addrs = e->n_addrs;
	for (i = 0; i < e->n_addrs; i++)
		format_addr(e->addr_family[i], e->addr_raw[i], v->addrs[i], sizeof(v->addrs[i]));
	v->service = pw_service_name(e->key.port, e->key.proto);
	v->flags = entry_flags(m, e);
	v->c = e->c;
	v->sources = sources_estimate(e);
	v->first_wall_ns = e->first_wall_ns;
	v->last_wall_ns = e->last_wall_ns;
	/* A counter is never lowered, but stay safe if one ever is. */
	v->activity = total(&e->c) > e->marked_total ? total(&e->c) - e->marked_total : 0;
}

void pw_view_filter_from(struct pw_view_filter *v, const struct pw_filter *f)
{
	memset(v, 0, sizeof(*v));
	v->netns = f->netns;
	snprintf(v->comm, sizeof(v->comm), "%s", f->comm);
	v->port = f->port;
	v->proto = f->proto;
	v->pid = f->pid;
	v->cgroup_id = f->cgroup_id;
}

static bool owner_matches(const struct pw_port_view *v, const struct pw_view_filter *f)
{
	int i;

	for (i = 0; i < v->n_owners; i++) {
		if (f->comm[0] && strcmp(v->owners[i].comm, f->comm) != 0)
			continue;
		if (f->pid && v->owners[i].pid != f->pid)
			continue;
		if (f->cgroup_id && v->owners[i].cgroup_id != f->cgroup_id)
			continue;
		return true;
	}
	return false;
}

static bool view_wanted(const struct pw_port_view *v, const struct pw_view_filter *f)
{
	if (!f)
		return true;
	if (f->netns && v->netns != f->netns)
		return false;
	if (f->port && v->port != f->port)
		return false;
	if (f->proto && v->proto != f->proto)
		return false;
	if (f->active_only && total(&v->c) == 0)
		return false;
	if ((f->comm[0] || f->pid || f->cgroup_id) && !owner_matches(v, f))
		return false;
	return true;
}

static enum pw_sort sort_key;

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

static int cmp_views(const void *pa, const void *pb)
{
	const struct pw_port_view *a = pa, *b = pb;
	int r = 0;

	switch (sort_key) {
	case PW_SORT_ACTIVITY:
		r = cmp_u64_desc(a->activity, b->activity);
		if (!r)
			r = cmp_u64_desc(total(&a->c), total(&b->c));
		break;
	case PW_SORT_SYN:
		r = cmp_u64_desc(a->c.syn_in, b->c.syn_in);
		break;
	case PW_SORT_PROBES:
		r = cmp_u64_desc(a->c.closed_probes + a->c.flag_probes + a->c.filtered,
				 b->c.closed_probes + b->c.flag_probes + b->c.filtered);
		break;
	case PW_SORT_SOURCES:
		r = cmp_u64_desc(a->sources, b->sources);
		break;
	default:
		break;
	}
	/* Ties, and PW_SORT_PORT: by port, protocol, namespace. */
	if (!r)
		r = (int)a->port - (int)b->port;
	if (!r)
		r = a->proto - b->proto;
	if (!r)
		r = a->netns < b->netns ? -1 : a->netns > b->netns;
	return r;
}

int pw_model_snapshot(struct pw_model *m, const struct pw_view_filter *f, enum pw_sort sort, bool mark,
		      struct pw_port_view **out)
{
	unsigned n = HASH_COUNT(m->ports), i = 0;
	struct pw_port_view *v = calloc(n ? n : 1, sizeof(*v));
	struct port_entry *e, *tmp;

	if (!v)
		return -ENOMEM;
	HASH_ITER(hh, m->ports, e, tmp) {
		fill_view(m, e, &v[i]);
		if (mark)
			e->marked_total = total(&e->c);
		if (view_wanted(&v[i], f))
			i++;
	}
	sort_key = sort < PW_SORT__MAX ? sort : PW_SORT_ACTIVITY;
	qsort(v, i, sizeof(*v), cmp_views);
	*out = v;
	return (int)i;
}

void pw_model_note(struct pw_model *m, const struct pw_alert *a)
{
	m->recent[m->recent_next] = *a;
	m->recent_next = (m->recent_next + 1) % RECENT_ALERTS;
	if (m->n_recent < RECENT_ALERTS)
		m->n_recent++;
}

int pw_model_recent(struct pw_model *m, struct pw_alert *out, int max)
{
	int n = 0, idx = m->recent_next;

	while (n < max && n < m->n_recent) {
		idx = (idx + RECENT_ALERTS - 1) % RECENT_ALERTS;
		out[n++] = m->recent[idx];
	}
	return n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int pw_model_netns_list(struct pw_model *m, uint32_t *out, int max)
{
	struct port_entry *e, *tmp;
	int n = 0, i;

	HASH_ITER(hh, m->ports, e, tmp) {
		for (i = 0; i < n && out[i] != e->key.netns; i++)
			;
		if (i == n && n < max)
			out[n++] = e->key.netns;
	}
	qsort(out, (size_t)n, sizeof(*out), cmp_u32);
	return n;
}
