// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "loader.h"
#include "log.h"
#include "inbound.skel.h"
#include "trace.skel.h"

#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"
#ifndef CAP_PERFMON
#define CAP_PERFMON 38 /* v5.8 */
#endif
#ifndef CAP_BPF
#define CAP_BPF 39 /* v5.8 */
#endif

struct pw_loader {
	struct trace_bpf *skel;
	struct inbound_bpf *inbound; /* NULL unless asked for */
	bool drop_reasons;           /* pw_drop loaded (kfree_skb has a reason: v5.17) */
	struct ring_buffer *rb;
	struct bpf_link *links[24];
	int nlinks;
	pw_record_fn fn;
	void *ctx;
	int ncpus;
};

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int pw_check_privileges(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = {};
	int ret = 0;

	if (geteuid() == 0)
		goto out;
	if (syscall(SYS_capget, &h, d) == 0 &&
	    ((has_cap(d, CAP_BPF) && has_cap(d, CAP_PERFMON)) || has_cap(d, CAP_SYS_ADMIN)))
		goto out;
	snprintf(err, errlen, "must run as root or with CAP_BPF and CAP_PERFMON (try: sudo portwatch ...)");
	ret = -EPERM;
out:
	return ret;
}

int pw_check_kernel(char *err, size_t errlen)
{
	struct utsname u;
	int major = 0, minor = 0, ret = 0;

	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 5 || (major == 5 && minor < 8))) {
		snprintf(err, errlen, "kernel %s is too old: portwatch needs 5.8 or newer (BPF ring buffer)",
			 u.release);
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(err, errlen, "kernel has no BTF (/sys/kernel/btf/vmlinux): needs CONFIG_DEBUG_INFO_BTF=y");
		ret = -EOPNOTSUPP;
		goto out;
	}
	/* A backported 5.x may lack the ring buffer whatever its version says. */
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		snprintf(err, errlen, "kernel %s has no BPF ring buffer: portwatch needs 5.8 or newer",
			 u.release);
		ret = -EOPNOTSUPP;
	}
out:
	return ret;
}

/*
 * libbpf resolves tp/ programs through tracefs; a fresh machine may not
 * have it mounted. Mount it where the kernel expects it, and leave it:
 * other tools (perf, bpftool) rely on the same mount.
 */
int pw_ensure_tracefs(char *err, size_t errlen)
{
	int ret = 0;

	if (access(TRACEFS "/events", F_OK) == 0 || access(DEBUGFS_TRACING "/events", F_OK) == 0)
		goto out;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) != 0) {
		ret = -errno;
		snprintf(err, errlen, "tracefs is not mounted and mounting it on %s failed: %s", TRACEFS,
			 strerror(errno));
		goto out;
	}
	pw_info("mounted tracefs on %s", TRACEFS);
out:
	return ret;
}

/*
 * An optional cgroup program, on the root of the cgroup v2 hierarchy (so
 * every socket below it) next to whatever else is attached there
 * (BPF_F_ALLOW_MULTI, which a bpf_link implies). Without it (no cgroup v2,
 * a kernel before v5.9) UDP ports come back at census passes.
 */
static void attach_cgroup(struct pw_loader *l, struct bpf_program *prog)
{
	struct bpf_link *link = NULL;
	char where[256];
	int fd;

	pw_cgroup2_mount(where, sizeof(where));
	fd = where[0] ? open(where, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd >= 0)
		link = bpf_program__attach_cgroup(prog, fd);
	if (fd >= 0)
		close(fd);
	if (!link || l->nlinks == (int)(sizeof(l->links) / sizeof(l->links[0]))) {
		pw_info("%s not attached (%s): UDP ports come back at census passes",
			bpf_program__section_name(prog), where[0] ? strerror(errno) : "no cgroup v2");
		bpf_link__destroy(link);
		return;
	}
	l->links[l->nlinks++] = link;
	pw_debug("attached %s to %s", bpf_program__section_name(prog), where);
}

/* Attach every program of obj, naming the hook that fails. */
static int attach_all(struct pw_loader *l, struct bpf_object *obj, char *err, size_t errlen)
{
	struct bpf_program *prog;
	struct bpf_link *link;
	int ret = 0;

	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__autoload(prog))
			continue; /* left out at load: this kernel lacks what it needs */
		if (bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SOCK) {
			attach_cgroup(l, prog);
			continue;
		}
		link = bpf_program__attach(prog);
		if (!link || l->nlinks == (int)(sizeof(l->links) / sizeof(l->links[0]))) {
			ret = link ? -E2BIG : -errno;
			bpf_link__destroy(link);
			snprintf(err, errlen, "cannot attach %s: %s", bpf_program__section_name(prog),
				 strerror(-ret));
			break;
		}
		l->links[l->nlinks++] = link;
		pw_debug("attached %s", bpf_program__section_name(prog));
	}
	return ret;
}

/*
 * The inbound object counts into its own maps but reports through the
 * trace object's ring buffer and counters: one ring to drain, one sum.
 */
static int load_inbound(struct pw_loader *l, const struct pw_kfilter *k, const struct pw_load_caps *caps,
			char *err, size_t errlen)
{
	bool forced;
	int ret;

	l->inbound = inbound_bpf__open();
	if (!l->inbound) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the inbound BPF object: %s", strerror(errno));
		goto out;
	}
	l->inbound->rodata->filter_netns = k->netns;
	/*
	 * Before v5.17 kfree_skb has no reason argument and pw_drop cannot
	 * load: leave it out, and the session infers closed ports (closed.h).
	 */
	l->drop_reasons = caps->drop_reason;
	/* The tests' way to run the fallback on any kernel (portwatch(8), ENVIRONMENT). */
	forced = l->drop_reasons && getenv("PORTWATCH_DROP_REASONS") &&
		 !strcmp(getenv("PORTWATCH_DROP_REASONS"), "0");
	if (forced)
		l->drop_reasons = false;
	if (!l->drop_reasons) {
		bpf_program__set_autoload(l->inbound->progs.pw_drop, false);
		pw_info("%s: closed ports are inferred from SYNs and listening sockets",
			forced ? "PORTWATCH_DROP_REASONS=0" : "kfree_skb has no drop reason (before 5.17)");
	}
	ret = bpf_map__reuse_fd(l->inbound->maps.events, bpf_map__fd(l->skel->maps.events));
	if (!ret)
		ret = bpf_map__reuse_fd(l->inbound->maps.counters, bpf_map__fd(l->skel->maps.counters));
	if (!ret)
		ret = bpf_map__reuse_fd(l->inbound->maps.flows, bpf_map__fd(l->skel->maps.flows));
	if (!ret)
		ret = bpf_map__reuse_fd(l->inbound->maps.first_buckets,
					bpf_map__fd(l->skel->maps.first_buckets));
	if (ret) {
		snprintf(err, errlen, "cannot share the ring buffer: %s", strerror(-ret));
		goto out;
	}
	ret = inbound_bpf__load(l->inbound);
	if (ret)
		snprintf(err, errlen, "cannot load the inbound BPF programs: %s (run with -vv for the verifier log)",
			 strerror(-ret));
out:
	return ret;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct pw_loader *l = ctx;

	return l->fn(l->ctx, data, len);
}

int pw_loader_open(struct pw_loader **out, const struct pw_kfilter *k, unsigned ringbuf_kb,
		   bool want_inbound, pw_record_fn fn, void *ctx, char *err, size_t errlen)
{
	struct pw_loader *l = NULL;
	struct pw_load_caps caps;
	int ret;

	ret = pw_check_privileges(err, errlen);
	if (ret)
		goto fail;
	ret = pw_check_kernel(err, errlen);
	if (ret)
		goto fail;
	ret = pw_ensure_tracefs(err, errlen);
	if (ret)
		goto fail;

	l = calloc(1, sizeof(*l));
	if (!l) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	l->fn = fn;
	l->ctx = ctx;
	l->ncpus = libbpf_num_possible_cpus();
	l->skel = trace_bpf__open();
	if (!l->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open BPF object: %s", strerror(errno));
		goto fail;
	}
	l->skel->rodata->kfilter = *k;
	ret = bpf_map__set_max_entries(l->skel->maps.events, ringbuf_kb * 1024);
	if (ret) {
		snprintf(err, errlen, "cannot size the ring buffer to %u KiB: %s", ringbuf_kb,
			 strerror(-ret));
		goto fail;
	}
	/* Wake userspace at a quarter full; below that the poll timer drains. */
	if (l->skel->rodata->wakeup_bytes > ringbuf_kb * 1024 / 4)
		l->skel->rodata->wakeup_bytes = ringbuf_kb * 1024 / 4;
	/* An optional hook: without it, bound-only sockets' ports come back at the next census. */
	pw_load_caps_probe(&caps);
	if (!caps.tcp_destroy_sock) {
		bpf_program__set_autoload(l->skel->progs.pw_destroy_sock, false);
		pw_info("no tcp:tcp_destroy_sock tracepoint: closes of bound-only sockets are seen by census");
	}
	/* v5.15: bind/listen/connect arguments read at exit (trace.bpf.c, args_from_regs). */
	if (caps.task_pt_regs) {
		l->skel->rodata->args_from_regs = true;
		bpf_program__set_autoload(l->skel->progs.pw_enter_bind, false);
		bpf_program__set_autoload(l->skel->progs.pw_enter_listen, false);
		bpf_program__set_autoload(l->skel->progs.pw_enter_connect, false);
	}
	ret = trace_bpf__load(l->skel);
	if (ret) {
		snprintf(err, errlen, "cannot load BPF programs: %s (run with -vv for the verifier log)",
			 strerror(-ret));
		goto fail;
	}
	if (want_inbound) {
		ret = load_inbound(l, k, &caps, err, errlen);
		if (ret)
			goto fail;
	}
	ret = attach_all(l, l->skel->obj, err, errlen);
	if (!ret && l->inbound)
		ret = attach_all(l, l->inbound->obj, err, errlen);
	if (ret)
		goto fail;
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), on_record, l, NULL);
	if (!l->rb) {
		ret = -errno;
		snprintf(err, errlen, "cannot open ring buffer: %s", strerror(errno));
		goto fail;
	}
	*out = l;
	return 0;
fail:
	pw_loader_close(l);
	return ret;
}

int pw_loader_poll(struct pw_loader *l, int timeout_ms)
{
	int n = ring_buffer__poll(l->rb, timeout_ms);

	/* Records sent with BPF_RB_NO_WAKEUP did not wake us: drain anyway. */
	if (n >= 0)
		n = ring_buffer__consume(l->rb);
	return n;
}

void pw_loader_counters(struct pw_loader *l, uint64_t out[PW_CNT__MAX])
{
	uint64_t *vals = calloc((size_t)l->ncpus, sizeof(*vals));
	int fd = bpf_map__fd(l->skel->maps.counters);

	for (__u32 i = 0; i < PW_CNT__MAX; i++) {
		out[i] = 0;
		if (!vals || bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int c = 0; c < l->ncpus; c++)
			out[i] += vals[c];
	}
	free(vals);
}

int pw_loader_port_stats_fd(struct pw_loader *l)
{
	return l->inbound ? bpf_map__fd(l->inbound->maps.port_stats) : -1;
}

bool pw_loader_drop_reasons(const struct pw_loader *l)
{
	return l->inbound && l->drop_reasons;
}

int pw_loader_flows_fd(struct pw_loader *l)
{
	return bpf_map__fd(l->skel->maps.flows);
}

int pw_loader_owners_fd(struct pw_loader *l)
{
	return bpf_map__fd(l->skel->maps.owners);
}

void pw_loader_close(struct pw_loader *l)
{
	if (!l)
		return;
	ring_buffer__free(l->rb);
	for (int i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	inbound_bpf__destroy(l->inbound);
	trace_bpf__destroy(l->skel);
	free(l);
}
