// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hookload: load and attach one named group of the empty counting hooks in
 * hooks.bpf.o, print "hookload: ready" on stderr, wait for SIGINT/SIGTERM,
 * then print the counters as one JSON line on stdout:
 *   {"group":"sys_connect","hits":N,"progs":{"sys_enter_conn":N,"sys_exit_conn":N}}
 *
 *   cc -O2 -Wall -Wextra -Werror -Itools/bench/hooks -o build-bench/hooks/hookload \
 *      tools/bench/hooks/hookload.c -lbpf -lelf -lz
 *   hookload [-v] [-c CGROUP2_DIR] [-t SAFETY_SEC] OBJ GROUP [GROUP...]
 *   hookload -l        list the groups
 *
 * Several groups give the union of their programs. cgroup programs attach
 * (bpf_link) to the cgroup v2 root, found in /proc/self/mounts unless -c
 * is given; detaching happens when the links are destroyed at exit.
 * -t SEC: exit by itself after SEC seconds (default 600) if no signal came,
 * so a crashed driver cannot leave hooks attached for ever.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hooks.h"

static const char *const prog_names[H__MAX] = {
#define HOOK(e, n) [e] = #n,
	HOOK_LIST
#undef HOOK
};

#define MAXP 16
struct group {
	const char *name;
	const char *help;
	int progs[MAXP];
	int n;
};

#define SYS_ALL                                                                             \
	H_ENTER_CONNECT, H_EXIT_CONNECT, H_ENTER_BIND, H_EXIT_BIND, H_ENTER_LISTEN, H_EXIT_LISTEN, \
		H_ENTER_ACCEPT4, H_EXIT_ACCEPT4
#define G(name, help, ...)                                                            \
	{ name, help, { __VA_ARGS__ }, sizeof((int[]){ __VA_ARGS__ }) / sizeof(int) }

static const struct group groups[] = {
	G("sys_unrelated", "tp/syscalls sys_enter+exit_getppid (never called: syscall slow path only)",
	  H_ENTER_GETPPID, H_EXIT_GETPPID),
	G("sys_connect", "tp/syscalls sys_enter+exit_connect", H_ENTER_CONNECT, H_EXIT_CONNECT),
	G("sys_bind", "tp/syscalls sys_enter+exit_bind", H_ENTER_BIND, H_EXIT_BIND),
	G("sys_listen", "tp/syscalls sys_enter+exit_listen", H_ENTER_LISTEN, H_EXIT_LISTEN),
	G("sys_accept4", "tp/syscalls sys_enter+exit_accept4", H_ENTER_ACCEPT4, H_EXIT_ACCEPT4),
	G("syscalls", "the 8 tp/syscalls above (connect, bind, listen, accept4)", SYS_ALL),
	G("set_state", "tp_btf/inet_sock_set_state", H_SET_STATE),
	G("raw_sys_enter", "raw_tp/sys_enter filtered by syscall nr", H_RAW_ENTER),
	G("raw_sys", "raw_tp/sys_enter + raw_tp/sys_exit filtered by syscall nr", H_RAW_ENTER,
	  H_RAW_EXIT),
	G("cgroup", "cgroup/connect4 + bind4 + post_bind4 on the cgroup v2 root", H_CG_CONNECT4,
	  H_CG_BIND4, H_CG_POST_BIND4),
	G("pw_empty", "portwatch trace's hook set, empty: sys_enter+exit bind/listen/connect, "
		      "sys_exit_accept/accept4, tp_btf/inet_sock_set_state",
	  H_ENTER_BIND, H_EXIT_BIND, H_ENTER_LISTEN, H_EXIT_LISTEN, H_ENTER_CONNECT, H_EXIT_CONNECT,
	  H_EXIT_ACCEPT, H_EXIT_ACCEPT4, H_SET_STATE),
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static bool verbose;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || (level == LIBBPF_INFO && !verbose))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: hookload [-v] [-c CGROUP2_DIR] [-t SAFETY_SEC] OBJ GROUP [GROUP...]\n"
		   "       hookload -l\n");
}

static void list_groups(void)
{
	for (size_t g = 0; g < NGROUPS; g++)
		printf("%-14s %s\n", groups[g].name, groups[g].help);
}

static int find_cgroup2(char *buf, size_t len)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(buf, len, "%s", m->mnt_dir);
			ret = 0;
			break;
		}
	}
	endmntent(f);
	return ret;
}

static bool is_cgroup_prog(int idx)
{
	return idx == H_CG_CONNECT4 || idx == H_CG_BIND4 || idx == H_CG_POST_BIND4;
}

int main(int argc, char **argv)
{
	bool want[H__MAX] = {}, need_cg = false, need_tracefs = false;
	struct bpf_link *links[H__MAX] = {};
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	char cgpath[4096] = "", groupname[256] = "";
	int opt, ret = 1, cgfd = -1, map_fd, ncpus, nwant = 0;
	long safety = 600;
	unsigned long long total = 0;
	unsigned long long *vals = NULL;
	sigset_t set;
	siginfo_t si;
	struct timespec tmo;

	while ((opt = getopt(argc, argv, "vlc:t:h")) != -1) {
		switch (opt) {
		case 'v':
			verbose = true;
			break;
		case 'l':
			list_groups();
			return 0;
		case 'c':
			snprintf(cgpath, sizeof(cgpath), "%s", optarg);
			break;
		case 't':
			safety = strtol(optarg, NULL, 10);
			if (safety <= 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	for (int a = optind + 1; a < argc; a++) {
		size_t g;

		for (g = 0; g < NGROUPS; g++)
			if (!strcmp(argv[a], groups[g].name))
				break;
		if (g == NGROUPS) {
			fprintf(stderr, "hookload: unknown group '%s' (hookload -l lists them)\n", argv[a]);
			return 2;
		}
		for (int i = 0; i < groups[g].n; i++)
			want[groups[g].progs[i]] = true;
		snprintf(groupname + strlen(groupname), sizeof(groupname) - strlen(groupname), "%s%s",
			 groupname[0] ? "+" : "", argv[a]);
	}
	for (int i = 0; i < H__MAX; i++) {
		if (!want[i])
			continue;
		nwant++;
		if (is_cgroup_prog(i))
			need_cg = true;
		else if (!strncmp(prog_names[i], "sys_", 4))
			need_tracefs = true;
	}

	/* Block the signals now: they are collected with sigtimedwait() below. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	libbpf_set_print(print_fn);
	if (need_tracefs && access("/sys/kernel/tracing/events", F_OK) != 0 &&
	    access("/sys/kernel/debug/tracing/events", F_OK) != 0 &&
	    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) != 0) {
		fprintf(stderr, "hookload: tracefs missing and mount failed: %s\n", strerror(errno));
		return 1;
	}
	if (need_cg) {
		if (!cgpath[0] && find_cgroup2(cgpath, sizeof(cgpath)) != 0) {
			fprintf(stderr, "hookload: no cgroup2 mount found (use -c DIR)\n");
			return 1;
		}
		cgfd = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgfd < 0) {
			fprintf(stderr, "hookload: open %s: %s\n", cgpath, strerror(errno));
			return 1;
		}
	}

	obj = bpf_object__open_file(argv[optind], NULL);
	if (!obj) {
		fprintf(stderr, "hookload: open %s: %s\n", argv[optind], strerror(errno));
		goto out;
	}
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		bool on = false;

		for (int i = 0; i < H__MAX; i++)
			if (want[i] && !strcmp(name, prog_names[i]))
				on = true;
		bpf_program__set_autoload(prog, on);
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "hookload: load: %s\n", strerror(errno));
		goto out;
	}
	for (int i = 0; i < H__MAX; i++) {
		if (!want[i])
			continue;
		prog = bpf_object__find_program_by_name(obj, prog_names[i]);
		if (!prog) {
			fprintf(stderr, "hookload: program %s not in %s\n", prog_names[i], argv[optind]);
			goto out;
		}
		links[i] = is_cgroup_prog(i) ? bpf_program__attach_cgroup(prog, cgfd)
					     : bpf_program__attach(prog);
		if (!links[i]) {
			fprintf(stderr, "hookload: attach %s: %s\n", prog_names[i], strerror(errno));
			goto out;
		}
	}
	fprintf(stderr, "hookload: ready: %s (%d programs%s%s)\n", groupname, nwant,
		need_cg ? ", cgroup " : "", need_cg ? cgpath : "");

	tmo.tv_sec = safety;
	tmo.tv_nsec = 0;
	if (sigtimedwait(&set, &si, &tmo) < 0 && errno == EAGAIN)
		fprintf(stderr, "hookload: no signal after %ld s, stopping\n", safety);

	/* Detach first so the counters do not move while they are read. */
	for (int i = 0; i < H__MAX; i++) {
		bpf_link__destroy(links[i]);
		links[i] = NULL;
	}
	ncpus = libbpf_num_possible_cpus();
	map_fd = bpf_object__find_map_fd_by_name(obj, "hits");
	vals = calloc(ncpus > 0 ? ncpus : 1, sizeof(*vals));
	if (ncpus <= 0 || map_fd < 0 || !vals) {
		fprintf(stderr, "hookload: cannot read the counters\n");
		goto out;
	}
	printf("{\"group\":\"%s\",", groupname);
	{
		char progs[2048] = "";
		size_t off = 0;

		for (int i = 0; i < H__MAX; i++) {
			__u32 key = i;
			unsigned long long sum = 0;

			if (!want[i])
				continue;
			if (bpf_map_lookup_elem(map_fd, &key, vals) == 0)
				for (int c = 0; c < ncpus; c++)
					sum += vals[c];
			total += sum;
			off += snprintf(progs + off, sizeof(progs) - off, "%s\"%s\":%llu",
					off ? "," : "", prog_names[i], sum);
			if (off >= sizeof(progs))
				off = sizeof(progs) - 1;
		}
		printf("\"hits\":%llu,\"progs\":{%s}}\n", total, progs);
	}
	ret = 0;
out:
	for (int i = 0; i < H__MAX; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	free(vals);
	if (cgfd >= 0)
		close(cgfd);
	return ret;
}
