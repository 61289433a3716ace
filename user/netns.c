// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "netns.h"

/*
 * ip_local_reserved_ports at its longest (every other port) prints about
 * 200 KB, and proc_do_large_bitmap() answers only a read at offset 0, so
 * the whole value has to come in one read().
 */
#define RESERVED_TEXT_MAX (256 * 1024)

uint32_t pw_netns_self(void)
{
	static uint32_t self;
	struct stat st;

	if (!self && !stat("/proc/self/ns/net", &st))
		self = (uint32_t)st.st_ino;
	return self;
}

/*
 * Enter the namespace at path if it is netns: 1 entered, 0 not that one
 * (or gone), -errno when it was and setns() failed.
 */
static int try_enter(const char *path, uint32_t netns, const struct stat *here, int *err)
{
	struct stat st;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* ENOENT: it exited. EACCES: worth saying if no one else fits. */
		if (errno != ENOENT && errno != ESRCH && *err == -ESRCH)
			*err = -errno;
		return 0;
	}
	/* The fd pins the namespace: whatever the pid does now, this is the check. */
	if (!fstat(fd, &st) && st.st_ino == netns && st.st_dev == here->st_dev)
		ret = setns(fd, CLONE_NEWNET) ? -errno : 1;
	close(fd);
	return ret;
}

/* Namespaces kept by `ip netns add` may have no process in them at all. */
static int enter_by_name(uint32_t netns, const struct stat *here, int *err)
{
	char path[300];
	struct dirent *d;
	DIR *dir = opendir("/run/netns");
	int ret = 0;

	if (!dir)
		return 0;
	while (!ret && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", d->d_name);
		ret = try_enter(path, netns, here, err);
	}
	closedir(dir);
	return ret;
}

int pw_netns_enter(uint32_t netns, const uint32_t *pids, size_t npids)
{
	struct stat here;
	int saved, r, ret = -ESRCH;
	char path[40];
	size_t i;

	pw_netns_self(); /* cache it while the thread is still at home */
	/* thread-self, not self: setns() moves only this thread. */
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0)
		return -errno;
	if (fstat(saved, &here)) {
		ret = -errno;
		goto fail;
	}
	if (here.st_ino == netns)
		return saved;
	for (i = 0, r = 0; i < npids && !r; i++) {
		snprintf(path, sizeof(path), "/proc/%u/ns/net", pids[i]);
		r = try_enter(path, netns, &here, &ret);
	}
	if (!r)
		r = enter_by_name(netns, &here, &ret);
	if (r > 0)
		return saved;
	if (r < 0)
		ret = r;
fail:
	close(saved);
	return ret;
}

int pw_netns_find_pid(uint32_t netns, uint32_t *pid)
{
	struct stat here, st;
	char path[300];
	struct dirent *d;
	DIR *dir;
	int ret = -ESRCH;

	if (stat("/proc/self/ns/net", &here))
		return -errno;
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", d->d_name);
		/* stat() follows the link to the namespace's own inode; the device tells nsfs apart. */
		if (!stat(path, &st) && st.st_ino == netns && st.st_dev == here.st_dev) {
			*pid = (uint32_t)strtoul(d->d_name, NULL, 10);
			ret = 0;
			break;
		}
	}
	closedir(dir);
	return ret;
}

int pw_netns_leave(int saved_fd)
{
	struct stat want, here;
	int ret = 0;

	if (saved_fd < 0)
		return -EBADF;
	/* When enter did not move, staying needs no setns() (nor CAP_SYS_ADMIN). */
	if (fstat(saved_fd, &want) || stat("/proc/thread-self/ns/net", &here) ||
	    want.st_ino != here.st_ino || want.st_dev != here.st_dev) {
		if (setns(saved_fd, CLONE_NEWNET))
			ret = -errno;
	}
	close(saved_fd);
	return ret;
}

/*
 * Read a /proc/sys file of the current thread's namespace (resolved at
 * open) in one read() into buf, NUL-terminated. Returns the length or -errno.
 */
static ssize_t read_sysctl(const char *name, char *buf, size_t size)
{
	char path[96];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

int pw_netns_read_ports(struct pw_port_range *r)
{
	unsigned lo, hi, reuse;
	char small[64], *text = NULL;
	ssize_t n;
	int ret;

	memset(r, 0, sizeof(*r));
	n = read_sysctl("ip_local_port_range", small, sizeof(small));
	if (n < 0) {
		ret = (int)n;
		goto out;
	}
	ret = -EINVAL;
	if (sscanf(small, "%u %u", &lo, &hi) != 2 || lo > 65535 || hi > 65535)
		goto out;
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	n = read_sysctl("tcp_tw_reuse", small, sizeof(small));
	if (n < 0) {
		ret = (int)n;
		goto out;
	}
	if (sscanf(small, "%u", &reuse) != 1 || reuse > 255)
		goto out;
	r->tw_reuse = (uint8_t)reuse;
	ret = -ENOMEM;
	text = malloc(RESERVED_TEXT_MAX);
	if (!text)
		goto out;
	n = read_sysctl("ip_local_reserved_ports", text, RESERVED_TEXT_MAX);
	ret = n < 0 ? (int)n : pw_netns_parse_reserved(text, r);
out:
	free(text);
	return ret;
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A port number at *p (digits only: strtoul would take signs and spaces). */
static int parse_port(const char **p, unsigned *port)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno || v > 65535)
		return -EINVAL;
	*port = (unsigned)v;
	*p = end;
	return 0;
}

int pw_netns_parse_reserved(const char *text, struct pw_port_range *r)
{
	const char *p = text;
	unsigned a, b, port;
	int ret = 0;

	memset(r->reserved, 0, sizeof(r->reserved));
	r->reserved_in_range = 0;
	p = skip_blanks(p);
	/* "" or "\n": nothing reserved. Otherwise items, each after a comma but the first. */
	while (*p && *p != '\n') {
		ret = parse_port(&p, &a);
		b = a;
		if (!ret && *p == '-') {
			p++;
			ret = parse_port(&p, &b);
			if (!ret && b < a)
				ret = -EINVAL;
		}
		if (ret)
			break;
		for (port = a; port <= b; port++)
			r->reserved[port / 64] |= 1ULL << (port % 64);
		p = skip_blanks(p);
		if (*p != ',')
			break;
		p = skip_blanks(p + 1);
		if (!*p || *p == '\n')
			ret = -EINVAL; /* a trailing comma */
	}
	if (*p == '\n')
		p++;
	if (ret || *p) {
		memset(r->reserved, 0, sizeof(r->reserved));
		return -EINVAL;
	}
	for (port = r->lo; port <= r->hi; port++)
		if (r->reserved[port / 64] & (1ULL << (port % 64)))
			r->reserved_in_range++;
	return 0;
}

int pw_netns_read_sockstat(uint32_t *tcp_tw, uint32_t *tcp_orphans)
{
	/* thread-self: /proc/net is the thread group leader's namespace. */
	FILE *f = fopen("/proc/thread-self/net/sockstat", "re");
	char line[256];
	unsigned inuse, orphan, tw;
	int ret = -EINVAL;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "TCP: inuse %u orphan %u tw %u", &inuse, &orphan, &tw) == 3) {
			*tcp_tw = tw;
			*tcp_orphans = orphan;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}
