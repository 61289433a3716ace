// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "census.h"
#include "census.skel.h"

/*
 * Each read() stops and restarts the iterator and returns at most what
 * bpf_seq_read()'s 8-page buffer holds (315 records), so 64 KiB never
 * limits a read. (With 100k sockets, 64-record reads measured only a few
 * ms slower: the kernel's walk and cold cache lines dominate.)
 */
#define CENSUS_BUF ((65536 / sizeof(struct pw_sock)) * sizeof(struct pw_sock))

struct pw_census {
	struct census_bpf *skel;
	struct bpf_link *link;     /* iter/task_file */
	struct bpf_link *tcp_link; /* iter/tcp; NULL on kernels before v5.9 */
	struct bpf_link *udp_link; /* iter/udp; NULL with tcp_link */
	struct pw_sock *buf;       /* CENSUS_BUF bytes */
	unsigned last_count;
};

/*
 * Whether libbpf will find a kernel config to resolve CONFIG_HZ: it reads
 * /boot/config-$(uname -r), then /proc/config.gz, and fails the whole load
 * without one, even for a __weak extern (libbpf's resolve_externs()).
 */
static bool kconfig_readable(void)
{
	struct utsname u;
	char path[128];

	if (!uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		if (!access(path, R_OK))
			return true;
	}
	return !access("/proc/config.gz", R_OK);
}

/* iter/tcp and iter/udp appeared together, in v5.9; portwatch's floor is v5.8. */
static bool kernel_has_sock_iters(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool has;

	if (libbpf_get_error(btf))
		return true; /* no BTF: the load failed for another reason; report that */
	has = btf__find_by_name_kind(btf, "bpf_iter__tcp", BTF_KIND_STRUCT) > 0;
	btf__free(btf);
	return has;
}

/* Open and load the skeleton, with or without the namespace iterators. Returns 0 or -errno. */
static int load(struct pw_census *c, int owners_fd, bool sock_iters, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	int ret;

	/* No config to read: census_hz() works HZ out from jiffies instead. */
	if (!kconfig_readable())
		oo.kconfig = "CONFIG_HZ=0\n";
	c->skel = census_bpf__open_opts(&oo);
	if (!c->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the socket census: %s", strerror(errno));
		return ret;
	}
	if (owners_fd >= 0) {
		ret = bpf_map__reuse_fd(c->skel->maps.owners, owners_fd);
		if (ret) {
			snprintf(err, errlen, "cannot share the owners map: %s", strerror(-ret));
			return ret;
		}
	}
	bpf_program__set_autoload(c->skel->progs.pw_census_tcp, sock_iters);
	bpf_program__set_autoload(c->skel->progs.pw_census_udp, sock_iters);
	ret = census_bpf__load(c->skel);
	if (ret)
		snprintf(err, errlen, "cannot load the socket census (iter/task_file%s): %s",
			 sock_iters ? ", iter/tcp, iter/udp" : "", strerror(-ret));
	return ret;
}

static int attach(struct bpf_program *prog, struct bpf_link **link, char *err, size_t errlen)
{
	int ret;

	*link = bpf_program__attach_iter(prog, NULL);
	if (*link)
		return 0;
	ret = -errno;
	snprintf(err, errlen, "cannot attach %s: %s", bpf_program__section_name(prog),
		 strerror(errno));
	return ret;
}

int pw_census_open(struct pw_census **out, int owners_fd, char *err, size_t errlen)
{
	struct pw_census *c = calloc(1, sizeof(*c));
	bool sock_iters = true;
	int ret = -ENOMEM;

	if (!c || !(c->buf = malloc(CENSUS_BUF))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ret = load(c, owners_fd, true, err, errlen);
	/* Before v5.9 the task_file census still works: keep it alone. */
	if (ret && c->skel && !kernel_has_sock_iters()) {
		census_bpf__destroy(c->skel);
		c->skel = NULL;
		sock_iters = false;
		ret = load(c, owners_fd, false, err, errlen);
	}
	if (ret)
		goto fail;
	ret = attach(c->skel->progs.pw_census, &c->link, err, errlen);
	if (!ret && sock_iters)
		ret = attach(c->skel->progs.pw_census_tcp, &c->tcp_link, err, errlen);
	if (!ret && sock_iters)
		ret = attach(c->skel->progs.pw_census_udp, &c->udp_link, err, errlen);
	if (ret)
		goto fail;
	*out = c;
	return 0;
fail:
	pw_census_close(c);
	return ret;
}

/*
 * Create an iterator on link and hand every record to fn. Stores in *stop
 * whether fn asked to stop. Returns the number of records fn saw, or -errno.
 */
static int read_iter(struct pw_census *c, struct bpf_link *link, pw_census_fn fn, void *ctx,
		     bool *stop)
{
	const size_t rec = sizeof(struct pw_sock);
	size_t have = 0, whole, i;
	int fd, n = 0, ret = 0;
	ssize_t got;

	*stop = false;
	/* For iter/tcp and iter/udp, this binds the iterator to the thread's netns now. */
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return -errno;
	while (!*stop) {
		got = read(fd, (char *)c->buf + have, CENSUS_BUF - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = -errno;
			break;
		}
		if (got == 0)
			break;
		have += (size_t)got;
		/* seq_file hands out whole records; keep any tail for the next read. */
		whole = have / rec;
		for (i = 0; i < whole && !*stop; i++) {
			if (c->buf[i].rec_type != PW_REC_SOCK)
				continue;
			n++;
			*stop = fn(ctx, &c->buf[i]) != 0;
		}
		have -= whole * rec;
		if (have)
			memmove(c->buf, (char *)c->buf + whole * rec, have);
	}
	close(fd);
	return ret < 0 ? ret : n;
}

int pw_census_run(struct pw_census *c, const struct pw_census_filter *f, pw_census_fn fn, void *ctx)
{
	static const struct pw_census_filter any;
	bool stop;
	int n;

	c->skel->bss->census_filter = f ? *f : any;
	c->skel->bss->last_task = 0;
	n = read_iter(c, c->link, fn, ctx, &stop);
	c->last_count = n > 0 ? (unsigned)n : 0;
	return n < 0 ? n : 0;
}

static int netns_walk(struct pw_census *c, pw_census_fn fn, void *ctx, bool unheld_only, bool tcp_too,
		      bool udp_too)
{
	bool stop = false;
	int tcp = 0, udp = 0;

	c->last_count = 0;
	if (!c->tcp_link)
		return -EOPNOTSUPP;
	c->skel->bss->unheld_only = unheld_only;
	if (tcp_too)
		tcp = read_iter(c, c->tcp_link, fn, ctx, &stop);
	if (tcp < 0)
		return tcp;
	if (!stop && udp_too)
		udp = read_iter(c, c->udp_link, fn, ctx, &stop);
	if (udp < 0)
		return udp;
	c->last_count = (unsigned)(tcp + udp);
	return tcp + udp;
}

int pw_census_netns_sockets(struct pw_census *c, pw_census_fn fn, void *ctx)
{
	return netns_walk(c, fn, ctx, false, true, true);
}

int pw_census_netns_tcp(struct pw_census *c, pw_census_fn fn, void *ctx)
{
	return netns_walk(c, fn, ctx, false, true, false);
}

int pw_census_netns_unheld(struct pw_census *c, pw_census_fn fn, void *ctx)
{
	return netns_walk(c, fn, ctx, true, true, true);
}

int pw_census_netns_unheld_udp(struct pw_census *c, pw_census_fn fn, void *ctx)
{
	return netns_walk(c, fn, ctx, true, false, true);
}

unsigned pw_census_last_count(const struct pw_census *c)
{
	return c->last_count;
}

/* The seeding happens in the kernel; the records only need counting. */
static int ignore_sock(void *ctx, const struct pw_sock *s)
{
	(void)ctx;
	(void)s;
	return 0;
}

int pw_census_run_seeding(struct pw_census *c, const struct pw_census_filter *f, pw_census_fn fn,
			  void *ctx)
{
	int ret;

	c->skel->bss->seed_owners = true;
	/* Leave a quarter of the map to the connections that start from now on. */
	c->skel->bss->seed_budget = bpf_map__max_entries(c->skel->maps.owners) / 4 * 3;
	ret = pw_census_run(c, f, fn, ctx);
	c->skel->bss->seed_owners = false;
	return ret;
}

int pw_census_seed_owners(struct pw_census *c)
{
	int ret = pw_census_run_seeding(c, NULL, ignore_sock, NULL);

	return ret ? ret : (int)c->last_count;
}

struct holders_ctx {
	struct pw_holder *out;
	int max;
	int n;
	bool listener[PW_MAX_HOLDERS];
};

static int add_holder(void *vctx, const struct pw_sock *s)
{
	struct holders_ctx *h = vctx;
	bool listening = s->proto == PW_PROTO_UDP || s->state == PW_TCP_LISTEN;
	int i;

	for (i = 0; i < h->n; i++) {
		if (h->out[i].pid == s->pid) {
			h->listener[i] |= listening;
			return 0;
		}
	}
	if (h->n == h->max)
		return 0;
	h->out[h->n].pid = s->pid;
	memcpy(h->out[h->n].comm, s->comm, PW_COMM_LEN);
	h->out[h->n].comm[PW_COMM_LEN] = '\0';
	h->listener[h->n] = listening;
	h->n++;
	return 0;
}

int pw_census_holders(struct pw_census *c, __u32 netns, __u8 proto, __u16 port,
		      struct pw_holder *out, int max)
{
	struct pw_census_filter f = { .netns = netns, .lport = port, .proto = proto };
	struct holders_ctx h = { .out = out, .max = max > PW_MAX_HOLDERS ? PW_MAX_HOLDERS : max };
	struct pw_holder tmp;
	bool tl;
	int ret, i, j;

	ret = pw_census_run(c, &f, add_holder, &h);
	if (ret)
		return ret;
	/* The process that listens is the answer users want first. */
	for (i = 1; i < h.n; i++)
		for (j = i; j > 0 && h.listener[j] && !h.listener[j - 1]; j--) {
			tmp = out[j], out[j] = out[j - 1], out[j - 1] = tmp;
			tl = h.listener[j], h.listener[j] = h.listener[j - 1], h.listener[j - 1] = tl;
		}
	return h.n;
}

void pw_census_close(struct pw_census *c)
{
	if (!c)
		return;
	bpf_link__destroy(c->udp_link);
	bpf_link__destroy(c->tcp_link);
	bpf_link__destroy(c->link);
	census_bpf__destroy(c->skel);
	free(c->buf);
	free(c);
}
