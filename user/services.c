// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "services.h"

#define PROTO_TCP 6
#define PROTO_UDP 17

/*
 * RFC 6335 limits service names to 15 characters; anything longer in
 * /etc/services is not a name we want to print (see cache_fill()).
 */
#define SVC_NAME_MAX 32
/* Distinct (port, proto) pairs remembered from /etc/services. */
#define SVC_CACHE_SIZE 64

/* First member of both tables below, so one comparator serves both. */
struct port_key {
	uint16_t port;
	uint8_t proto;
};

struct svc {
	struct port_key key;
	const char *name;
};

/*
 * Sorted by port, then protocol (TCP before UDP): looked up with bsearch().
 * Names are the ones operators use ("smb", "rdp"), not always the IANA ones
 * /etc/services has ("microsoft-ds", "ms-wbt-server"): this table wins.
 */
static const struct svc services[] = {
	{ { 21, PROTO_TCP }, "ftp" },
	{ { 22, PROTO_TCP }, "ssh" },
	{ { 23, PROTO_TCP }, "telnet" },
	{ { 25, PROTO_TCP }, "smtp" },
	{ { 53, PROTO_TCP }, "domain" },
	{ { 53, PROTO_UDP }, "domain" },
	{ { 80, PROTO_TCP }, "http" },
	{ { 110, PROTO_TCP }, "pop3" },
	{ { 123, PROTO_UDP }, "ntp" },
	{ { 143, PROTO_TCP }, "imap" },
	{ { 161, PROTO_UDP }, "snmp" },
	{ { 389, PROTO_TCP }, "ldap" },
	{ { 443, PROTO_TCP }, "https" },
	{ { 445, PROTO_TCP }, "smb" },
	{ { 514, PROTO_UDP }, "syslog" },
	{ { 587, PROTO_TCP }, "submission" },
	{ { 993, PROTO_TCP }, "imaps" },
	{ { 995, PROTO_TCP }, "pop3s" },
	{ { 1433, PROTO_TCP }, "mssql" },
	{ { 1521, PROTO_TCP }, "oracle" },
	{ { 1883, PROTO_TCP }, "mqtt" },
	{ { 2049, PROTO_TCP }, "nfs" },
	{ { 2181, PROTO_TCP }, "zookeeper" },
	{ { 2375, PROTO_TCP }, "docker" },
	{ { 2376, PROTO_TCP }, "docker-tls" },
	{ { 2379, PROTO_TCP }, "etcd" },
	{ { 2380, PROTO_TCP }, "etcd-peer" },
	{ { 3306, PROTO_TCP }, "mysql" },
	{ { 3389, PROTO_TCP }, "rdp" },
	{ { 5432, PROTO_TCP }, "postgresql" },
	{ { 5672, PROTO_TCP }, "amqp" },
	{ { 5900, PROTO_TCP }, "vnc" },
	{ { 5984, PROTO_TCP }, "couchdb" },
	{ { 6379, PROTO_TCP }, "redis" },
	{ { 6443, PROTO_TCP }, "kube-apiserver" },
	{ { 8000, PROTO_TCP }, "http-alt" },
	{ { 8080, PROTO_TCP }, "http-alt" },
	{ { 8443, PROTO_TCP }, "https-alt" },
	{ { 8500, PROTO_TCP }, "consul" },
	{ { 9042, PROTO_TCP }, "cassandra" },
	{ { 9090, PROTO_TCP }, "prometheus" },
	{ { 9092, PROTO_TCP }, "kafka" },
	{ { 9100, PROTO_TCP }, "node-exporter" },
	{ { 9200, PROTO_TCP }, "elasticsearch" },
	{ { 9300, PROTO_TCP }, "elasticsearch" },
	{ { 10250, PROTO_TCP }, "kubelet" },
	{ { 11211, PROTO_TCP }, "memcached" },
	{ { 11211, PROTO_UDP }, "memcached" },
	{ { 27017, PROTO_TCP }, "mongodb" },
};

/*
 * Listeners that should never be reachable on a wildcard address: they hold
 * data or control a host or cluster, and most ship with no authentication
 * (or one that is off by default). Sorted like services[].
 *
 * Deliberately absent, although some are in services[]: 6443 (the Kubernetes
 * API is meant to be reached by kubectl and the nodes), 2376 (Docker's TLS
 * port exists to be reached remotely with client certificates, like 6443),
 * 9100 (node-exporter serves the local host's read-only metrics and must be
 * reachable by the Prometheus server that scrapes it), message brokers
 * (1883, 5672, 9092: remote clients are their purpose) and file, directory
 * and mail services, which are servers by design.
 */
static const struct port_key sensitive[] = {
	{ 1433, PROTO_TCP },  /* SQL Server: a database */
	{ 1521, PROTO_TCP },  /* Oracle listener: a database */
	{ 2181, PROTO_TCP },  /* ZooKeeper: cluster coordination store, no auth by default */
	{ 2375, PROTO_TCP },  /* Docker API without TLS: root on the host to anyone */
	{ 2379, PROTO_TCP },  /* etcd clients: every Kubernetes secret, often no client auth */
	{ 2380, PROTO_TCP },  /* etcd peers: replication, for cluster members only */
	{ 3306, PROTO_TCP },  /* MySQL/MariaDB: a database */
	{ 3389, PROTO_TCP },  /* RDP (xrdp): a remote desktop login, a brute-force target */
	{ 5432, PROTO_TCP },  /* PostgreSQL: a database */
	{ 5900, PROTO_TCP },  /* VNC: remote desktop, often weak or no password */
	{ 5984, PROTO_TCP },  /* CouchDB: a database with an HTTP admin API */
	{ 6379, PROTO_TCP },  /* Redis: a cache, no auth by default, CONFIG SET writes files */
	{ 8500, PROTO_TCP },  /* Consul HTTP API: ACLs off by default, can run checks (scripts) */
	{ 9042, PROTO_TCP },  /* Cassandra CQL: a database */
	{ 9090, PROTO_TCP },  /* Prometheus: unauthenticated UI/API mapping every scraped host */
	{ 9200, PROTO_TCP },  /* Elasticsearch HTTP: a database, no auth before 8.0 */
	{ 9300, PROTO_TCP },  /* Elasticsearch transport: node-to-node, cluster members only */
	{ 10250, PROTO_TCP }, /* kubelet API: exec into any pod on the node */
	{ 11211, PROTO_TCP }, /* memcached: a cache with no auth */
	{ 11211, PROTO_UDP }, /* memcached UDP: same, plus a DDoS amplifier */
	{ 27017, PROTO_TCP }, /* MongoDB: a database, no auth by default before 3.6 */
};

/*
 * Answers from /etc/services, hit or miss: the file is re-read on every
 * getservbyport() call, and misses (ephemeral ports) are the common case.
 */
struct svc_cache_ent {
	struct port_key key;
	bool used;
	bool found;
	char name[SVC_NAME_MAX];
};

static struct svc_cache_ent svc_cache[SVC_CACHE_SIZE];
static unsigned int svc_cache_next;

static int key_cmp(const void *a, const void *b)
{
	const struct port_key *x = a, *y = b;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (int)x->proto - (int)y->proto;
}

/* A name from the file is printed as is: accept RFC 6335 names only. */
static bool name_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n = strlen(s);

	if (n == 0 || n >= SVC_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (u[i] <= ' ' || u[i] >= 0x7f)
			return false;
	}
	return true;
}

/*
 * Ask the system (/etc/services) about key and store the answer in a cache
 * slot. Slots are reused round robin once all are taken, so a returned name
 * stays valid across at least SVC_CACHE_SIZE - 1 further misses: enough for
 * a caller that looks up a few ports to print one line.
 */
static struct svc_cache_ent *cache_fill(const struct port_key *key)
{
	struct svc_cache_ent *c = &svc_cache[svc_cache_next];
	struct servent se, *res = NULL;
	char buf[1024];

	svc_cache_next = (svc_cache_next + 1) % SVC_CACHE_SIZE;
	c->key = *key;
	c->used = true;
	c->found = false;
	/* The _r variant leaves other users of getservbyport()'s buffer alone. */
	if (getservbyport_r(htons(key->port), key->proto == PROTO_TCP ? "tcp" : "udp", &se, buf,
			    sizeof(buf), &res) == 0 &&
	    res && name_ok(res->s_name)) {
		strcpy(c->name, res->s_name);
		c->found = true;
	}
	return c;
}

const char *pw_service_name(uint16_t port, int proto)
{
	struct port_key key = { .port = port, .proto = (uint8_t)proto };
	struct svc_cache_ent *c = NULL;
	const struct svc *s;
	size_t i;

	if (proto != PROTO_TCP && proto != PROTO_UDP)
		return NULL;
	s = bsearch(&key, services, sizeof(services) / sizeof(services[0]), sizeof(services[0]),
		    key_cmp);
	if (s)
		return s->name;
	for (i = 0; i < SVC_CACHE_SIZE && svc_cache[i].used; i++) {
		if (key_cmp(&svc_cache[i].key, &key) == 0) {
			c = &svc_cache[i];
			break;
		}
	}
	if (!c)
		c = cache_fill(&key);
	return c->found ? c->name : NULL;
}

bool pw_port_sensitive(uint16_t port, int proto)
{
	struct port_key key = { .port = port, .proto = (uint8_t)proto };

	if (proto != PROTO_TCP && proto != PROTO_UDP)
		return false;
	return bsearch(&key, sensitive, sizeof(sensitive) / sizeof(sensitive[0]),
		       sizeof(sensitive[0]), key_cmp) != NULL;
}
