// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "json.h"
#include "loader.h"

/* Does BTF have a type of this name and kind? */
static bool has_type(const struct btf *btf, const char *name, int kind)
{
	return btf && btf__find_by_name_kind(btf, name, kind) > 0;
}

/* Does the enum (or enum64) have this value name? */
static bool has_enum_value(const struct btf *btf, const char *enum_name, const char *value)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	int id, i;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
	if (id <= 0)
		return false;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, e[i].name_off), value))
			return true;
	return false;
}

/* Does the struct have a member of this name? */
static bool has_member(const struct btf *btf, const char *struct_name, const char *member)
{
	const struct btf_member *m;
	const struct btf_type *t;
	int id, i;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, struct_name, BTF_KIND_STRUCT);
	if (id <= 0)
		return false;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, m[i].name_off), member))
			return true;
	return false;
}

/* Where a filesystem of this type is mounted, or "" when it is not. */
static void mount_point(const char *fstype, char *out, size_t len)
{
	char dev[256], dir[256], type[64];
	FILE *f = fopen("/proc/self/mounts", "r");

	out[0] = '\0';
	if (!f)
		return;
	while (fscanf(f, "%255s %255s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, fstype)) {
			snprintf(out, len, "%s", dir);
			break;
		}
	}
	fclose(f);
}

static struct pw_feature *add(struct pw_features *ft, const char *name, const char *since,
			      const char *used_for, const char *fallback, bool present)
{
	struct pw_feature *f = &ft->f[ft->n++];

	f->name = name;
	f->since = since;
	f->used_for = used_for;
	f->fallback = fallback;
	f->present = present;
	f->detail[0] = '\0';
	return f;
}

static bool tracepoint_btf(const struct btf *btf, const char *tp)
{
	char name[96];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return has_type(btf, name, BTF_KIND_TYPEDEF);
}

/*
 * Does the kfree_skb tracepoint pass a drop reason (v5.17, commit
 * c504e5c2f964 "net: skb: introduce kfree_skb_reason()")? pw_drop reads it as
 * its third argument and relocates SKB_DROP_REASON_NO_SOCKET: both must be
 * there, or the program does not load. The prototype is btf_trace_kfree_skb,
 * a pointer to a function whose first parameter is the context.
 */
static bool drop_reason_btf(const struct btf *btf)
{
	const struct btf_type *t;
	int id;

	if (!has_enum_value(btf, "skb_drop_reason", "SKB_DROP_REASON_NO_SOCKET"))
		return false;
	id = btf__find_by_name_kind(btf, "btf_trace_kfree_skb", BTF_KIND_TYPEDEF);
	if (id <= 0)
		return false;
	t = btf__type_by_id(btf, id);
	while (t && (btf_is_typedef(t) || btf_is_ptr(t)))
		t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) && btf_vlen(t) >= 4; /* ctx, skb, location, reason */
}

void pw_cgroup2_mount(char *out, size_t len)
{
	mount_point("cgroup2", out, len);
}

void pw_load_caps_probe(struct pw_load_caps *c)
{
	struct btf *btf = btf__load_vmlinux_btf();

	memset(c, 0, sizeof(*c));
	if (!libbpf_get_error(btf)) {
		c->tcp_destroy_sock = tracepoint_btf(btf, "tcp_destroy_sock");
		c->task_pt_regs = has_enum_value(btf, "bpf_func_id", "BPF_FUNC_task_pt_regs");
		c->drop_reason = drop_reason_btf(btf);
		btf__free(btf);
	}
}

void pw_features_probe(struct pw_features *ft)
{
	struct btf *btf = btf__load_vmlinux_btf();
	struct pw_feature *f;
	struct utsname u;
	char where[256];

	memset(ft, 0, sizeof(*ft));
	ft->can_run = true; /* until a required feature is missing */
	if (libbpf_get_error(btf))
		btf = NULL;
	if (uname(&u) == 0)
		snprintf(ft->kernel, sizeof(ft->kernel), "%s", u.release);

	add(ft, "btf", "5.2 (CONFIG_DEBUG_INFO_BTF)", "CO-RE relocations, tp_btf programs", NULL,
	    btf != NULL);
	add(ft, "ringbuf", "5.8", "records to userspace", NULL,
	    libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1);
	add(ft, "lru_hash_batch", "5.6", "reading the inbound counters", NULL,
	    has_enum_value(btf, "bpf_cmd", "BPF_MAP_LOOKUP_BATCH"));
	add(ft, "iter_task_file", "5.8", "socket census: owners, holders, listen drops", NULL,
	    has_type(btf, "bpf_iter__task_file", BTF_KIND_STRUCT));
	f = add(ft, "tracefs", "4.1", "attaching the tp/syscalls programs",
		"mounted on /sys/kernel/tracing at start", false);
	mount_point("tracefs", where, sizeof(where));
	f->present = where[0] != '\0';
	snprintf(f->detail, sizeof(f->detail), "%s", where[0] ? where : "not mounted");
	add(ft, "syscall_tracepoints", "4.7 (CONFIG_FTRACE_SYSCALLS)", "bind, listen, connect, accept",
	    NULL, has_type(btf, "trace_event_raw_sys_enter", BTF_KIND_STRUCT));
	add(ft, "tp_inet_sock_set_state", "4.16", "connect outcomes, closes, passive opens", NULL,
	    tracepoint_btf(btf, "inet_sock_set_state"));
	add(ft, "tp_netif_receive_skb", "3.x", "inbound SYNs (open and closed ports)", NULL,
	    tracepoint_btf(btf, "netif_receive_skb"));
	add(ft, "tp_kfree_skb", "3.x", "closed, filtered and refused probes", NULL,
	    tracepoint_btf(btf, "kfree_skb"));
	/* Without a reason argument pw_drop is not loaded at all (loader.c). */
	add(ft, "drop_reason_no_socket", "5.17", "closed-port probes (TCP and UDP), from kfree_skb's drop reason",
	    "closed TCP ports inferred from SYNs and the listening sockets; FIN/NULL/Xmas/ACK/UDP probes "
	    "of closed ports not seen",
	    drop_reason_btf(btf));
	add(ft, "drop_reason_netfilter", "5.18", "filtered probes", "filtered probes not counted",
	    has_enum_value(btf, "skb_drop_reason", "SKB_DROP_REASON_NETFILTER_DROP"));
	add(ft, "drop_reason_tcp_flags", "newer than 5.18", "FIN/NULL/Xmas/ACK refused by open ports",
	    "those probes of open ports not counted",
	    has_enum_value(btf, "skb_drop_reason", "SKB_DROP_REASON_TCP_FLAGS"));
	add(ft, "kfree_skb_rx_sk", "6.12", "namespace of probes refused by a socket",
	    "those probes not counted", has_member(btf, "trace_event_raw_kfree_skb", "rx_sk"));
	add(ft, "tp_tcp_send_reset", "4.15", "resets_out", NULL, tracepoint_btf(btf, "tcp_send_reset"));
	add(ft, "tcp_send_reset_reason", "6.10", "RSTs without a socket (closed ports)",
	    "resets_out misses RSTs answering closed ports", has_type(btf, "sk_rst_reason", BTF_KIND_ENUM));
	add(ft, "tp_tcp_retransmit_synack", "4.15", "half_open", NULL,
	    tracepoint_btf(btf, "tcp_retransmit_synack"));
	add(ft, "tp_tcp_receive_reset", "4.15", "resets_in", NULL, tracepoint_btf(btf, "tcp_receive_reset"));
	add(ft, "tp_tcp_destroy_sock", "before 6.1", "ports freed by closing a bound-only socket",
	    "those ports freed at the next census (10 s)", tracepoint_btf(btf, "tcp_destroy_sock"));
	add(ft, "cgroup_sock_release", "5.9", "UDP ports given back as sockets close",
	    "UDP ports come back at census passes (10 s)",
	    has_enum_value(btf, "bpf_attach_type", "BPF_CGROUP_INET_SOCK_RELEASE"));
	add(ft, "iter_tcp_udp", "5.9", "TIME_WAIT and orphans in the ephemeral pools",
	    "TIME_WAIT inferred from closes only", has_type(btf, "bpf_iter__tcp", BTF_KIND_STRUCT));
	add(ft, "bpf_task_pt_regs", "5.15", "syscall arguments read at exit; failed accepts",
	    "enter programs stash bind/listen/connect arguments; failed accepts not reported",
	    has_enum_value(btf, "bpf_func_id", "BPF_FUNC_task_pt_regs"));
	f = add(ft, "cgroup_v2", "4.5", "--cgroup and owners' cgroup ids", "cgroup ids are 0", false);
	mount_point("cgroup2", where, sizeof(where));
	f->present = where[0] != '\0';
	snprintf(f->detail, sizeof(f->detail), "%s", where[0] ? where : "not mounted");
	f = add(ft, "privileges", "5.8 (CAP_BPF)", "loading BPF", NULL, false);
	f->present = pw_check_privileges(f->detail, sizeof(f->detail)) == 0;
	if (f->present)
		snprintf(f->detail, sizeof(f->detail), geteuid() == 0 ? "root" : "CAP_BPF+CAP_PERFMON");
	/* tracefs is mounted at start when missing: its absence does not stop us. */
	for (int i = 0; i < ft->n; i++)
		if (!ft->f[i].present && !ft->f[i].fallback)
			ft->can_run = false;
	btf__free(btf);
}

void pw_features_print(FILE *out, const struct pw_features *ft, bool json)
{
	struct json_writer *jw;
	int i;

	if (!json) {
		fprintf(out, "kernel %s: portwatch %s\n", ft->kernel, ft->can_run ? "can run" : "cannot run");
		fprintf(out, "%-26s %-4s %-28s %s\n", "FEATURE", "HAS", "SINCE", "USED FOR / WITHOUT IT");
		for (i = 0; i < ft->n; i++) {
			const struct pw_feature *f = &ft->f[i];

			fprintf(out, "%-26s %-4s %-28s %s%s%s%s%s\n", f->name, f->present ? "yes" : "NO",
				f->since, f->used_for, f->detail[0] ? " [" : "", f->detail,
				f->detail[0] ? "]" : "",
				f->present ? "" : (f->fallback ? "; without: " : "; REQUIRED"));
			if (!f->present && f->fallback)
				fprintf(out, "%-26s %-4s %-28s   fallback: %s\n", "", "", "", f->fallback);
		}
		return;
	}
	jw = jw_new();
	if (!jw)
		return;
	jw_obj_open(jw);
	jw_kv_str(jw, "kernel", ft->kernel);
	jw_key(jw, "can_run");
	jw_bool(jw, ft->can_run);
	jw_key(jw, "features");
	jw_arr_open(jw);
	for (i = 0; i < ft->n; i++) {
		const struct pw_feature *f = &ft->f[i];

		jw_obj_open(jw);
		jw_kv_str(jw, "name", f->name);
		jw_key(jw, "present");
		jw_bool(jw, f->present);
		jw_kv_str(jw, "since", f->since);
		jw_kv_str(jw, "used_for", f->used_for);
		jw_kv_str(jw, "fallback", f->fallback);
		jw_kv_str(jw, "detail", f->detail[0] ? f->detail : NULL);
		jw_obj_close(jw);
	}
	jw_arr_close(jw);
	jw_obj_close(jw);
	jw_flush_line(jw, out);
	jw_free(jw);
}

int pw_cmd_check(const struct pw_opts *o)
{
	struct pw_features ft;

	pw_features_probe(&ft);
	pw_features_print(stdout, &ft, o->json);
	return ft.can_run ? 0 : 1;
}
