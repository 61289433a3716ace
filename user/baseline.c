// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "portwatch.h"
#include "strutil.h"

#define COMM_MAX (PW_COMM_LEN - 1)
/* A baseline is a few KB; refuse to slurp /dev/zero or a runaway log. */
#define BL_MAX_FILE (16u << 20)
/* Bytes of a bad token echoed in a message (escaped, so up to 4x). */
#define ECHO_MAX 32

struct bl_entry {
	uint32_t key;           /* proto << 16 | port */
	char comm[PW_COMM_LEN]; /* "" approves any process */
};

struct pw_baseline {
	struct bl_entry *e;
	size_t n;
	size_t cap;
};

/* A token of a line: not NUL-terminated. */
struct tok {
	const char *s;
	size_t n;
};

enum comm_verdict {
	COMM_OK,
	COMM_EMPTY,
	COMM_TOO_LONG,
	COMM_SEPARATOR, /* ' ' or '#': would split the line or start a comment */
	COMM_CONTROL,
	COMM_BAD_UTF8,
};

/*
 * The one definition of a comm a baseline line can carry, shared by the
 * parser and the writer so that whatever is written reads back the same:
 * 1 to 15 bytes of valid UTF-8 with no separator, '#' or control character
 * (C0, DEL, C1; the same set pw_term_escape() refuses to print).
 */
static enum comm_verdict comm_check(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;
	uint32_t cp;

	if (n == 0)
		return COMM_EMPTY;
	if (n > COMM_MAX)
		return COMM_TOO_LONG;
	while (i < n) {
		len = pw_utf8_decode(s + i, n - i, &cp);
		if (len == 0)
			return COMM_BAD_UTF8;
		if (cp == ' ' || cp == '#')
			return COMM_SEPARATOR;
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return COMM_CONTROL;
		i += len;
	}
	return COMM_OK;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct bl_entry *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return strncmp(x->comm, y->comm, PW_COMM_LEN);
}

static int proto_of(const struct tok *t)
{
	if (t->n == 3 && memcmp(t->s, "tcp", 3) == 0)
		return PW_PROTO_TCP;
	if (t->n == 3 && memcmp(t->s, "udp", 3) == 0)
		return PW_PROTO_UDP;
	return 0;
}

static int port_of(const struct tok *t, uint16_t *port)
{
	char buf[16];
	uint64_t v;

	if (t->n >= sizeof(buf))
		return -1;
	memcpy(buf, t->s, t->n);
	buf[t->n] = '\0';
	if (pw_parse_u64(buf, 1, 65535, &v))
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* A token from the file, made safe to print in an error message. */
static const char *echo(const struct tok *t, char *out, size_t outsz)
{
	return pw_term_escape(t->s, t->n < ECHO_MAX ? t->n : ECHO_MAX, out, outsz);
}

static int add(struct pw_baseline *b, uint32_t key, const struct tok *comm)
{
	struct bl_entry *ne;
	size_t cap;

	if (b->n == b->cap) {
		cap = b->cap ? b->cap * 2 : 64;
		ne = realloc(b->e, cap * sizeof(*ne));
		if (!ne)
			return -1;
		b->e = ne;
		b->cap = cap;
	}
	ne = &b->e[b->n++];
	memset(ne, 0, sizeof(*ne));
	ne->key = key;
	if (comm)
		memcpy(ne->comm, comm->s, comm->n);
	return 0;
}

/*
 * Parse one line (without its '\n') into b. Returns 0, or -1 with the reason
 * (no "FILE:LINE: " prefix) in why.
 */
static int parse_line(struct pw_baseline *b, const char *p, size_t n, char *why, size_t whylen)
{
	char shown[ECHO_MAX * 4 + 1];
	struct tok t[3];
	const char *end;
	size_t nt = 0;
	uint16_t port;
	int proto;

	if (memchr(p, '\0', n)) {
		snprintf(why, whylen, "NUL byte (not a text file?)");
		return -1;
	}
	/* Tolerate CRLF files: the '\r' is line ending, not part of a comm. */
	if (n && p[n - 1] == '\r')
		n--;
	end = memchr(p, '#', n);
	if (end)
		n = (size_t)(end - p);
	end = p + n;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		if (nt == 3) {
			snprintf(why, whylen, "too many fields (expected: tcp|udp PORT [COMM])");
			return -1;
		}
		t[nt].s = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		t[nt].n = (size_t)(p - t[nt].s);
		nt++;
	}
	if (nt == 0)
		return 0;

	proto = proto_of(&t[0]);
	if (!proto) {
		snprintf(why, whylen, "unknown protocol '%s' (expected tcp or udp)",
			 echo(&t[0], shown, sizeof(shown)));
		return -1;
	}
	if (nt < 2) {
		snprintf(why, whylen, "missing port after '%s'", proto == PW_PROTO_TCP ? "tcp" : "udp");
		return -1;
	}
	if (port_of(&t[1], &port)) {
		snprintf(why, whylen, "bad port '%s' (expected 1-65535)", echo(&t[1], shown, sizeof(shown)));
		return -1;
	}
	if (nt == 3) {
		switch (comm_check(t[2].s, t[2].n)) {
		case COMM_OK:
			break;
		case COMM_TOO_LONG:
			snprintf(why, whylen, "comm '%s' is longer than %d bytes",
				 echo(&t[2], shown, sizeof(shown)), COMM_MAX);
			return -1;
		case COMM_BAD_UTF8:
			snprintf(why, whylen, "comm '%s' is not valid UTF-8",
				 echo(&t[2], shown, sizeof(shown)));
			return -1;
		default: /* the tokenizer leaves no empty comm nor separator */
			snprintf(why, whylen, "comm '%s' contains a control character",
				 echo(&t[2], shown, sizeof(shown)));
			return -1;
		}
	}
	if (add(b, (uint32_t)proto << 16 | port, nt == 3 ? &t[2] : NULL)) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

/* Parse len bytes of text (NULs included, so that they are caught). */
static struct pw_baseline *parse_buf(const char *text, size_t len, const char *name, char *err,
				     size_t errlen)
{
	struct pw_baseline *b = calloc(1, sizeof(*b));
	const char *p = text, *end = text + len, *nl;
	size_t lineno = 0, i, o;
	char why[256];

	if (!b) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (parse_line(b, p, (size_t)(nl - p), why, sizeof(why))) {
			snprintf(err, errlen, "%s:%zu: %s", name, lineno, why);
			pw_baseline_free(b);
			return NULL;
		}
		p = nl + 1;
	}
	/* Sorted for binary search; duplicates are then adjacent, drop them. */
	if (b->n) {
		qsort(b->e, b->n, sizeof(b->e[0]), entry_cmp);
		for (i = 1, o = 1; i < b->n; i++) {
			if (entry_cmp(&b->e[i], &b->e[o - 1]) != 0)
				b->e[o++] = b->e[i];
		}
		b->n = o;
	}
	return b;
}

struct pw_baseline *pw_baseline_parse(const char *text, const char *name, char *err, size_t errlen)
{
	return parse_buf(text, strlen(text), name ? name : "(baseline)", err, errlen);
}

struct pw_baseline *pw_baseline_load(const char *path, char *err, size_t errlen)
{
	struct pw_baseline *b = NULL;
	size_t len = 0, cap = 0, got;
	char *buf = NULL, *nb;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= BL_MAX_FILE) {
				snprintf(err, errlen, "%s: larger than %u MiB, not a baseline", path,
					 BL_MAX_FILE >> 20);
				goto out;
			}
			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	b = parse_buf(buf, len, path, err, errlen);
out:
	free(buf);
	fclose(f);
	return b;
}

void pw_baseline_free(struct pw_baseline *b)
{
	if (!b)
		return;
	free(b->e);
	free(b);
}

/* Index of the first entry not below (key, comm): a lower bound. */
static size_t lower_bound(const struct pw_baseline *b, uint32_t key, const char *comm)
{
	size_t lo = 0, hi = b->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = b->e[mid].key < key ? -1 : b->e[mid].key > key;
		if (c == 0)
			c = strncmp(b->e[mid].comm, comm, PW_COMM_LEN);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * "" sorts first among a port's entries, so a port-wide approval is the
 * lower bound of (port, ""); a comm approval is an exact (port, comm) match.
 * A NULL comm (owner unknown) is approved by port-wide entries only.
 */
bool pw_baseline_allows(const struct pw_baseline *b, int proto, uint16_t port, const char *comm)
{
	uint32_t key = (uint32_t)proto << 16 | port;
	size_t i;

	if (!b || (proto != PW_PROTO_TCP && proto != PW_PROTO_UDP))
		return false;
	i = lower_bound(b, key, "");
	if (i == b->n || b->e[i].key != key)
		return false;
	if (!b->e[i].comm[0])
		return true;
	if (!comm || !comm[0])
		return false;
	i = lower_bound(b, key, comm);
	return i < b->n && b->e[i].key == key && strncmp(b->e[i].comm, comm, PW_COMM_LEN) == 0;
}

/*
 * A comm the parser would reject (a space or '#' would split the line or
 * start a comment; control bytes, invalid UTF-8 and over-long names are
 * refused outright) is not written. Leaving it in would make the whole
 * baseline fail to load; dropping the line would make that listener alert
 * forever. The port-wide line is the closest approval the format can hold,
 * and the comment tells whoever reviews the file that it is broader than
 * what was observed. Returns 0, or -1 (errno set) on a bad proto or port or
 * a write error.
 */
int pw_baseline_write_entry(FILE *f, int proto, uint16_t port, const char *comm)
{
	const char *pname;
	int ret;

	if (proto == PW_PROTO_TCP) {
		pname = "tcp";
	} else if (proto == PW_PROTO_UDP) {
		pname = "udp";
	} else {
		errno = EINVAL;
		return -1;
	}
	if (port == 0) {
		errno = EINVAL;
		return -1;
	}
	if (!comm)
		ret = fprintf(f, "%s %u\n", pname, port);
	else if (comm_check(comm, strnlen(comm, PW_COMM_LEN)) == COMM_OK)
		ret = fprintf(f, "%s %u %s\n", pname, port, comm);
	else
		ret = fprintf(f, "%s %u # comm not representable\n", pname, port);
	return ret < 0 ? -1 : 0;
}
