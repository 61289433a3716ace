// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * readywait: how long a tracer took from launch to ready, polled every 2 ms.
 *
 *   cc -O2 -Wall -Wextra -Werror -o readywait readywait.c -lbpf
 *   readywait --pid PID --since EPOCH_US (--progs N | --line FILE --pattern TEXT)
 *             [--timeout-ms MS]
 *
 * --since: the launch time as CLOCK_REALTIME microseconds (bash's
 * $EPOCHREALTIME without the dot, taken just before the tracer was started).
 * --progs N: ready when the process tree under PID holds N distinct BPF
 * programs *attached* to a hook: a perf_event fd that has a program (found
 * with BPF_TASK_FD_QUERY: tracepoints, kprobes, uprobes attached with
 * PERF_EVENT_IOC_SET_BPF or a perf link) or a bpf_link fd of any type but
 * iter (raw/BTF tracepoints, fentry, cgroup...). Loaded but not attached
 * programs, maps and perf-buffer fds do not count. This is the only
 * definition that works for every peer: libbpf-tools, bcc (python) and
 * bpftrace print their header lines at different points.
 * --line: ready when FILE contains a line that holds TEXT (portwatch's
 * "portwatch: ready", printed after attach *and* the start-up census).
 *
 * Prints one line on stdout, "ready_ms=12.3 progs=N", and exits 0; exits 1
 * with a reason on stderr when the process tree died first or after
 * --timeout-ms (default 30000). Bounded: one poll every 2 ms until then.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#define MAX_PIDS 256
#define MAX_PROGS 1024

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * The parent of pid from /proc/PID/stat (after the comm, which may hold
 * ')'); -1 when pid is gone or a zombie (an unreaped child of the driver).
 */
static int parent_of(int pid)
{
	char path[64], buf[512], *p, state = 'Z';
	int ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 2, "%c %d", &state, &ppid);
	fclose(f);
	return state == 'Z' ? -1 : ppid;
}

/* root and every descendant, at most max; returns the count (0: root gone). */
static int tree(int root, int *out, int max)
{
	static int pids[32768], ppids[32768];
	int n = 0, np = 0, i, j, changed;
	struct dirent *de;
	DIR *d;

	if (parent_of(root) < 0)
		return 0;
	out[n++] = root;
	d = opendir("/proc");
	if (!d)
		return n;
	while ((de = readdir(d)) && np < (int)(sizeof(pids) / sizeof(pids[0]))) {
		int pid = atoi(de->d_name);

		if (pid > 1 && pid != root) {
			pids[np] = pid;
			ppids[np++] = parent_of(pid);
		}
	}
	closedir(d);
	do { /* fixed point: at most one pass per generation */
		changed = 0;
		for (i = 0; i < np && n < max; i++) {
			bool parent_in = false, in = false;

			for (j = 0; j < n; j++) {
				in |= out[j] == pids[i];
				parent_in |= out[j] == ppids[i];
			}
			if (parent_in && !in) {
				out[n++] = pids[i];
				changed = 1;
			}
		}
	} while (changed);
	return n;
}

/* Adds id to the set ids[0..*n) unless there. */
static void add_id(uint32_t *ids, int *n, uint32_t id)
{
	int i;

	for (i = 0; i < *n; i++)
		if (ids[i] == id)
			return;
	if (*n < MAX_PROGS)
		ids[(*n)++] = id;
}

/* fdinfo of a bpf_link fd: its prog_id unless an iterator link. */
static uint32_t link_prog(int pid, int fd)
{
	char path[96], line[256];
	uint32_t id = 0;
	bool iter = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "link_type:", 10) && strstr(line, "iter"))
			iter = true;
		sscanf(line, "prog_id: %u", &id);
	}
	fclose(f);
	return iter ? 0 : id;
}

/* Distinct programs attached by the processes pids[0..n). */
static int attached(const int *pids, int n)
{
	uint32_t ids[MAX_PROGS];
	int nids = 0, i;

	for (i = 0; i < n; i++) {
		char dir[64], link[96], target[64];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "/proc/%d/fd", pids[i]);
		d = opendir(dir);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			ssize_t len;
			int fd = atoi(de->d_name);

			if (de->d_name[0] == '.')
				continue;
			snprintf(link, sizeof(link), "/proc/%d/fd/%d", pids[i], fd);
			len = readlink(link, target, sizeof(target) - 1);
			if (len <= 0)
				continue;
			target[len] = 0;
			if (!strcmp(target, "anon_inode:[perf_event]")) {
				char buf[256];
				__u32 buf_len = sizeof(buf), prog_id = 0, fd_type = 0;
				__u64 off = 0, addr = 0;

				if (!bpf_task_fd_query(pids[i], fd, 0, buf, &buf_len, &prog_id,
						       &fd_type, &off, &addr) && prog_id)
					add_id(ids, &nids, prog_id);
			} else if (!strcmp(target, "anon_inode:bpf_link")) {
				uint32_t id = link_prog(pids[i], fd);

				if (id)
					add_id(ids, &nids, id);
			}
		}
		closedir(d);
	}
	return nids;
}

/* Whether FILE has a line containing pattern. */
static bool has_line(const char *file, const char *pattern)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(file, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, pattern) != NULL;
	fclose(f);
	return found;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"Usage: %s --pid PID --since EPOCH_US (--progs N | --line FILE --pattern TEXT)"
		" [--timeout-ms MS]\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "since", required_argument, NULL, 's' },
		{ "progs", required_argument, NULL, 'n' },
		{ "line", required_argument, NULL, 'l' },
		{ "pattern", required_argument, NULL, 'P' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{},
	};
	const char *file = NULL, *pattern = NULL;
	long timeout_ms = 30000, want = 0;
	int pid = 0, c, n = 0, n_tree = 0, pids[MAX_PIDS];
	uint64_t since = 0, deadline;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pid = atoi(optarg); break;
		case 's': since = strtoull(optarg, NULL, 10); break;
		case 'n': want = atol(optarg); break;
		case 'l': file = optarg; break;
		case 'P': pattern = optarg; break;
		case 't': timeout_ms = atol(optarg); break;
		default: usage(argv[0]);
		}
	}
	if (pid <= 1 || !since || (want <= 0) == !(file && pattern) || timeout_ms <= 0 ||
	    timeout_ms > 600000)
		usage(argv[0]);
	deadline = now_us() + (uint64_t)timeout_ms * 1000;
	for (int i = 0;; i++) {
		uint64_t t = now_us();
		int np;

		/* The tree is walked every 50 ms (all of /proc), the fds every 2 ms. */
		if (i % 25 == 0)
			np = tree(pid, pids, MAX_PIDS);
		else
			np = parent_of(pid) < 0 ? 0 : n_tree;
		n_tree = np;
		if (!np) {
			fprintf(stderr, "readywait: process %d exited before it was ready\n", pid);
			return 1;
		}
		n = attached(pids, np);
		if (want ? n >= want : has_line(file, pattern)) {
			printf("ready_ms=%.1f progs=%d\n", t > since ? (double)(t - since) / 1000.0 : 0.0, n);
			return 0;
		}
		if (t >= deadline) {
			fprintf(stderr, "readywait: not ready after %ld ms (%d programs attached)\n",
				timeout_ms, n);
			return 1;
		}
		usleep(2000);
	}
}
