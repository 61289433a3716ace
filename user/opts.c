// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "opts.h"
#include "strutil.h"

enum {
	OPT_DURATION = 0x100,
	OPT_NETNS,
	OPT_CGROUP,
	OPT_TCP,
	OPT_UDP,
	OPT_FAILED,
	OPT_RINGBUF_KB,
	OPT_INTERVAL,
	OPT_BASELINE,
	OPT_WRITE_BASELINE,
	OPT_ALLOW,
};

#define PW_RINGBUF_KB_DEFAULT 1024
#define SHORT_OPTS ":jp:c:P:46vhV"

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "pid", required_argument, NULL, 'p' },
	{ "comm", required_argument, NULL, 'c' },
	{ "port", required_argument, NULL, 'P' },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "tcp", no_argument, NULL, OPT_TCP },
	{ "udp", no_argument, NULL, OPT_UDP },
	{ "failed", no_argument, NULL, OPT_FAILED },
	{ "ringbuf-kb", required_argument, NULL, OPT_RINGBUF_KB },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "baseline", required_argument, NULL, OPT_BASELINE },
	{ "write-baseline", required_argument, NULL, OPT_WRITE_BASELINE },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

void pw_usage(FILE *f)
{
	fputs("Usage: portwatch [COMMAND] [OPTIONS]\n"
	      "Which process binds, listens on, connects from, accepts on and closes each port;\n"
	      "what knocks on them; which are exposed.\n"
	      "\n"
	      "Commands:\n"
	      "  trace              live stream of port events\n"
	      "  ports              snapshot of every bound and listening port, and the ephemeral pools\n"
	      "  pools              snapshot of every namespace's ephemeral-port pools\n"
	      "  top                live per-port table (plain tables when not on a terminal)\n"
	      "  watch              long-running detector: alerts and periodic port records\n"
	      "  check              what this kernel offers portwatch; exit 0 if it can run\n"
	      "  (none)             top on a terminal, watch otherwise\n"
	      "\n"	      "Options:\n"
	      "  -j, --json         JSON Lines on stdout: one object per event, port, pool or alert\n"
	      "      --duration SEC stop after SEC seconds\n"
	      "  -p, --pid PID      only events of process PID\n"
	      "  -c, --comm COMM    only events of processes named COMM (exact)\n"
	      "  -P, --port PORT    only events on PORT (local, remote or requested)\n"
	      "      --netns NS     only network namespace NS: inode number, path, or name in /run/netns\n"
	      "      --cgroup CG    only cgroup v2 CG: id or path\n"
	      "  -4, --ipv4         only IPv4 (including IPv4-mapped IPv6)\n"
	      "  -6, --ipv6         only IPv6\n"
	      "      --tcp          only TCP\n"
	      "      --udp          only UDP\n"
	      "      --failed       only failed calls\n"
	      "      --ringbuf-kb KB ring buffer size in KiB: a power of two, 4 to 1048576 (default 1024)\n"
	      "      --interval SEC watch: port and pool records every SEC (default 10); top: refresh (default 1)\n"
	      "      --baseline FILE approved listeners (\"tcp 22 sshd\" per line): alert on others\n"
	      "      --write-baseline FILE ports: write the current listeners as a baseline (- : stdout)\n"
	      "      --allow CIDR   watch, top: never report scans from CIDR (repeatable)\n"
	      "  -v, --verbose      more diagnostics on stderr; -vv adds libbpf's log, -vvv its debug log\n"
	      "  -h, --help         show this help\n"
	      "  -V, --version      show the version\n"
	      "\n"
	      "Exit status: 0 success, 1 runtime failure, 2 usage error.\n",
	      f);
}

/* An inode number given as a number or as the path of a file. */
static int parse_inode(const char *arg, const char *run_dir, uint64_t *out)
{
	char path[PATH_MAX];
	struct stat st;

	if (pw_parse_u64(arg, 1, UINT64_MAX, out) == 0)
		return 0;
	if (stat(arg, &st) == 0) {
		*out = st.st_ino;
		return 0;
	}
	if (run_dir && !strchr(arg, '/')) {
		snprintf(path, sizeof(path), "%s/%s", run_dir, arg);
		if (stat(path, &st) == 0) {
			*out = st.st_ino;
			return 0;
		}
	}
	return -1;
}

static int parse_duration(const char *arg, double *out)
{
	char *end;
	double v;

	v = strtod(arg, &end);
	if (end == arg || *end || !isfinite(v) || v <= 0 || v > 1e7)
		return -1;
	*out = v;
	return 0;
}

int pw_opts_parse(int argc, char **argv, struct pw_opts *o, char *err, size_t errlen)
{
	struct pw_filter *f = &o->filter;
	uint64_t v;
	int c, ret = 2;

	memset(o, 0, sizeof(*o));
	o->ringbuf_kb = PW_RINGBUF_KB_DEFAULT;
	/* 0, not 1: glibc then also forgets its place inside "-abc" groups. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, SHORT_OPTS, long_opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case OPT_DURATION:
			if (parse_duration(optarg, &o->duration)) {
				snprintf(err, errlen, "invalid --duration '%s': a number of seconds > 0", optarg);
				goto out;
			}
			break;
		case 'p':
			if (pw_parse_u64(optarg, 1, INT_MAX, &v)) {
				snprintf(err, errlen, "invalid pid '%s'", optarg);
				goto out;
			}
			f->pid = (uint32_t)v;
			break;
		case 'c':
			if (!optarg[0] || strlen(optarg) > PW_COMM_LEN - 1) {
				snprintf(err, errlen, "invalid comm '%s': 1 to %d characters", optarg,
					 PW_COMM_LEN - 1);
				goto out;
			}
			snprintf(f->comm, sizeof(f->comm), "%s", optarg);
			break;
		case 'P':
			if (pw_parse_u64(optarg, 1, 65535, &v)) {
				snprintf(err, errlen, "invalid port '%s': 1 to 65535", optarg);
				goto out;
			}
			f->port = (uint16_t)v;
			break;
		case OPT_NETNS:
			if (parse_inode(optarg, "/run/netns", &v) || v > UINT32_MAX) {
				snprintf(err, errlen, "invalid --netns '%s': not an inode number, path or /run/netns name", optarg);
				goto out;
			}
			f->netns = (uint32_t)v;
			break;
		case OPT_CGROUP:
			if (parse_inode(optarg, NULL, &v)) {
				snprintf(err, errlen, "invalid --cgroup '%s': not a cgroup id or path", optarg);
				goto out;
			}
			f->cgroup_id = v;
			break;
		case '4':
		case '6':
			if (f->family) {
				snprintf(err, errlen, "-4 and -6 exclude each other");
				goto out;
			}
			f->family = c - '0';
			break;
		case OPT_TCP:
		case OPT_UDP:
			if (f->proto) {
				snprintf(err, errlen, "--tcp and --udp exclude each other");
				goto out;
			}
			f->proto = c == OPT_TCP ? 6 : 17;
			break;
		case OPT_FAILED:
			f->failed_only = true;
			break;
		case OPT_RINGBUF_KB:
			if (pw_parse_u64(optarg, 4, 1 << 20, &v) || (v & (v - 1))) {
				snprintf(err, errlen, "invalid --ringbuf-kb '%s': a power of two from 4 to 1048576", optarg);
				goto out;
			}
			o->ringbuf_kb = (unsigned)v;
			break;
		case OPT_INTERVAL:
			if (parse_duration(optarg, &o->interval) || o->interval < 0.1) {
				snprintf(err, errlen, "invalid --interval '%s': seconds, at least 0.1", optarg);
				goto out;
			}
			break;
		case OPT_BASELINE:
			o->baseline = optarg;
			break;
		case OPT_WRITE_BASELINE:
			o->write_baseline = optarg;
			break;
		case OPT_ALLOW:
			if (o->n_allow == (int)(sizeof(o->allow) / sizeof(o->allow[0]))) {
				snprintf(err, errlen, "at most %zu --allow ranges", sizeof(o->allow) / sizeof(o->allow[0]));
				goto out;
			}
			o->allow[o->n_allow++] = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			o->cmd = PW_CMD_HELP;
			break;
		case 'V':
			o->cmd = PW_CMD_VERSION;
			break;
		case ':':
			snprintf(err, errlen, "option '%s' needs an argument", argv[optind - 1]);
			goto out;
		default:
			/* For "--flag=value" glibc puts the long option's code in optopt. */
			if (optopt > 0 && optopt < 0x100 && !strchr(SHORT_OPTS, optopt))
				snprintf(err, errlen, "unknown option '-%c'", optopt);
			else
				snprintf(err, errlen, "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (o->cmd == PW_CMD_DEFAULT && optind < argc) {
		static const struct {
			const char *name;
			enum pw_cmd cmd;
		} cmds[] = { { "trace", PW_CMD_TRACE }, { "ports", PW_CMD_PORTS },
			     { "top", PW_CMD_TOP }, { "watch", PW_CMD_WATCH },
			     { "check", PW_CMD_CHECK }, { "pools", PW_CMD_POOLS } };
		size_t i;

		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (strcmp(argv[optind], cmds[i].name) == 0)
				o->cmd = cmds[i].cmd;
		if (o->cmd == PW_CMD_DEFAULT) {
			snprintf(err, errlen, "unknown command '%s'", argv[optind]);
			goto out;
		}
		optind++;
	}
	if (o->write_baseline && o->cmd != PW_CMD_PORTS) {
		snprintf(err, errlen, "--write-baseline goes with the ports command");
		goto out;
	}
	if (o->cmd != PW_CMD_HELP && o->cmd != PW_CMD_VERSION && optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	ret = 0;
out:
	return ret;
}
