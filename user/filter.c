// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>

#include "filter.h"

bool pw_filter_match(const struct pw_filter *f, const struct pw_ev *ev)
{
	if (f->pid && (!ev->owner_known || ev->pid != f->pid))
		return false;
	if (f->comm[0] && (!ev->owner_known || strcmp(f->comm, ev->comm) != 0))
		return false;
	if (f->port && ev->local_port != f->port && ev->req_port != f->port &&
	    !(ev->has_remote && ev->remote_port == f->port))
		return false;
	if (f->netns && ev->netns != f->netns)
		return false;
	if (f->cgroup_id && ev->cgroup_id != f->cgroup_id)
		return false;
	if (f->family && ev->family != f->family)
		return false;
	if (f->proto && ev->proto != f->proto)
		return false;
	if (f->failed_only && ev->result >= 0)
		return false;
	return true;
}

void pw_filter_kernel(const struct pw_filter *f, struct pw_kfilter *k)
{
	memset(k, 0, sizeof(*k));
	k->pid = f->pid;
	k->netns = f->netns;
	k->cgroup_id = f->cgroup_id;
	k->port = f->port;
	k->proto = (uint8_t)f->proto;
	k->failed_only = f->failed_only;
	/* family stays in userspace: a v6 socket may carry a v4-mapped peer. */
}
