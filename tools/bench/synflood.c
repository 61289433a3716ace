// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * synflood: a paced, bounded SYN flood with spoofed sources, for the flood
 * benchmark of run-bench.sh. hping3 -i u7 does not reach its nominal rate
 * on a VM (its SIGALRM-driven sends top out near 15-25k packets/s here,
 * however many run), and hping3 --flood ignores -c; this sends exactly
 * --count SYNs at --rate packets/s.
 *
 *   cc -O2 -Wall -Wextra -Werror -o synflood synflood.c
 *   synflood --dst 198.18.0.1 --port 8080 --count N --rate PPS [--seconds MAX]
 *
 * Sources are random addresses of 198.18.0.0/15 (RFC 2544 benchmarking
 * space) outside 198.18.0.0/24, where the test namespaces' own addresses
 * live; the destination must be in 198.18.0.0/15 too: nothing else is ever
 * written into a packet. Source ports and sequence numbers are random.
 * Prints one JSON line: {"sent":N,"seconds":S,"pps":R,"errors":E}.
 *
 * Bounded: at most --count packets (at most 100M) and --seconds (default
 * 60) of wall time. Pacing: the sender sleeps 100 µs between bursts and
 * sends what the schedule says is due, so the rate holds on average.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NET 0xc6120000u  /* 198.18.0.0 */
#define BENCH_MASK 0xfffe0000u /* /15 */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64: fast and good enough for addresses and ports. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint16_t csum(const void *data, size_t len, uint32_t sum)
{
	const uint16_t *p = data;

	for (; len > 1; len -= 2)
		sum += *p++;
	if (len)
		sum += *(const uint8_t *)p;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

struct pkt {
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

/* A SYN from src (host order) to dst:port, checksums filled in. */
static void build(struct pkt *p, uint32_t src, uint32_t dst, uint16_t port)
{
	struct {
		uint32_t src, dst;
		uint8_t zero, proto;
		uint16_t len;
		struct tcphdr tcp;
	} __attribute__((packed)) ph;

	memset(p, 0, sizeof(*p));
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.tot_len = htons(sizeof(*p));
	p->ip.id = htons((uint16_t)rnd());
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_TCP;
	p->ip.saddr = htonl(src);
	p->ip.daddr = htonl(dst);
	p->ip.check = csum(&p->ip, sizeof(p->ip), 0);
	p->tcp.source = htons((uint16_t)(1024 + rnd() % 64511));
	p->tcp.dest = htons(port);
	p->tcp.seq = htonl(rnd());
	p->tcp.doff = 5;
	p->tcp.syn = 1;
	p->tcp.window = htons(64240);
	ph.src = p->ip.saddr;
	ph.dst = p->ip.daddr;
	ph.zero = 0;
	ph.proto = IPPROTO_TCP;
	ph.len = htons(sizeof(p->tcp));
	ph.tcp = p->tcp;
	p->tcp.check = csum(&ph, sizeof(ph), 0);
}

static void usage(const char *argv0)
{
	fprintf(stderr, "Usage: %s --dst 198.18.X.Y --port P --count N --rate PPS [--seconds MAX]\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{},
	};
	unsigned long long count = 0, sent = 0, errors = 0, rate = 0;
	double max_s = 60, t0, t;
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct in_addr dst = { 0 };
	const struct timespec pause = { 0, 100000 };
	int port = 0, c, fd, one = 1;
	struct pkt p;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (inet_pton(AF_INET, optarg, &dst) != 1)
				usage(argv[0]);
			break;
		case 'p': port = atoi(optarg); break;
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'r': rate = strtoull(optarg, NULL, 10); break;
		case 's': max_s = atof(optarg); break;
		default: usage(argv[0]);
		}
	}
	if ((ntohl(dst.s_addr) & BENCH_MASK) != BENCH_NET) {
		fprintf(stderr, "synflood: the destination must be in 198.18.0.0/15\n");
		return 2;
	}
	if (port < 1 || port > 65535 || !count || count > 100000000ULL || !rate || rate > 10000000ULL ||
	    !(max_s > 0 && max_s <= 600))
		usage(argv[0]);
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one))) {
		fprintf(stderr, "synflood: raw socket: %s\n", strerror(errno));
		return 1;
	}
	to.sin_addr = dst;
	rng ^= (uint64_t)getpid() << 32 ^ (uint64_t)(now_s() * 1e9);
	t0 = t = now_s();
	while (sent < count && t - t0 < max_s) {
		unsigned long long due = (unsigned long long)((t - t0) * (double)rate) + 1;

		while (sent < due && sent < count) {
			uint32_t src;

			/* anywhere in 198.18.0.0/15 but its first /24 */
			do
				src = BENCH_NET | (rnd() & ~BENCH_MASK);
			while ((src & 0xffffff00u) == BENCH_NET);
			build(&p, src, ntohl(dst.s_addr), (uint16_t)port);
			if (sendto(fd, &p, sizeof(p), 0, (struct sockaddr *)&to, sizeof(to)) != sizeof(p))
				errors++;
			sent++;
		}
		nanosleep(&pause, NULL);
		t = now_s();
	}
	close(fd);
	printf("{\"sent\":%llu,\"seconds\":%.3f,\"pps\":%.0f,\"errors\":%llu}\n", sent, t - t0,
	       t > t0 ? (double)sent / (t - t0) : 0.0, errors);
	return 0;
}
