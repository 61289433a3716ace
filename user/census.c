// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "census.h"
#include "census.skel.h"

struct pw_census {
	struct census_bpf *skel;
	struct bpf_link *link;
};

int pw_census_open(struct pw_census **out, int owners_fd, char *err, size_t errlen)
{
	struct pw_census *c = calloc(1, sizeof(*c));
	int ret = -ENOMEM;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	c->skel = census_bpf__open();
	if (!c->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the socket census: %s", strerror(errno));
		goto fail;
	}
	if (owners_fd >= 0) {
		ret = bpf_map__reuse_fd(c->skel->maps.owners, owners_fd);
		if (ret) {
			snprintf(err, errlen, "cannot share the owners map: %s", strerror(-ret));
			goto fail;
		}
	}
	ret = census_bpf__load(c->skel);
	if (ret) {
		snprintf(err, errlen, "cannot load the socket census (iter/task_file): %s",
			 strerror(-ret));
		goto fail;
	}
	c->link = bpf_program__attach_iter(c->skel->progs.pw_census, NULL);
	if (!c->link) {
		ret = -errno;
		snprintf(err, errlen, "cannot attach iter/task_file: %s", strerror(errno));
		goto fail;
	}
	*out = c;
	return 0;
fail:
	pw_census_close(c);
	return ret;
}

int pw_census_run(struct pw_census *c, const struct pw_census_filter *f, pw_census_fn fn, void *ctx)
{
	static const struct pw_census_filter any;
	struct pw_sock recs[64];
	size_t have = 0;
	ssize_t n;
	int fd, ret = 0;

	c->skel->bss->census_filter = f ? *f : any;
	fd = bpf_iter_create(bpf_link__fd(c->link));
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, (char *)recs + have, sizeof(recs) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		/* seq_file hands out whole records; keep any tail for the next read. */
		size_t whole = have / sizeof(recs[0]);
		for (size_t i = 0; i < whole && !ret; i++)
			if (recs[i].rec_type == PW_REC_SOCK && fn(ctx, &recs[i]))
				ret = 1;
		if (ret)
			break;
		have -= whole * sizeof(recs[0]);
		memmove(recs, (char *)recs + whole * sizeof(recs[0]), have);
	}
	close(fd);
	return ret < 0 ? ret : 0;
}

static int count_sock(void *ctx, const struct pw_sock *s)
{
	(void)s;
	(*(int *)ctx)++;
	return 0;
}

int pw_census_seed_owners(struct pw_census *c)
{
	int n = 0, ret;

	c->skel->bss->seed_owners = true;
	ret = pw_census_run(c, NULL, count_sock, &n);
	c->skel->bss->seed_owners = false;
	return ret ? ret : n;
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
	bpf_link__destroy(c->link);
	census_bpf__destroy(c->skel);
	free(c);
}
