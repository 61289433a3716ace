// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "strutil.h"

#define JW_MAX_DEPTH 16

struct json_writer {
	char *buf;
	size_t len;
	size_t cap;
	int depth;
	bool oom;
	bool need_comma[JW_MAX_DEPTH];
	bool after_key;
};

struct json_writer *jw_new(void)
{
	struct json_writer *jw = calloc(1, sizeof(*jw));

	if (!jw)
		return NULL;
	jw->cap = 512;
	jw->buf = malloc(jw->cap);
	if (!jw->buf) {
		free(jw);
		return NULL;
	}
	jw->buf[0] = '\0';
	return jw;
}

void jw_free(struct json_writer *jw)
{
	if (!jw)
		return;
	free(jw->buf);
	free(jw);
}

void jw_reset(struct json_writer *jw)
{
	jw->len = 0;
	jw->depth = 0;
	jw->oom = false;
	jw->after_key = false;
	jw->need_comma[0] = false;
	jw->buf[0] = '\0';
}

const char *jw_text(struct json_writer *jw, size_t *len)
{
	/* The NUL is written here, not after every append (the hot path). */
	jw->buf[jw->len] = '\0';
	if (len)
		*len = jw->len;
	return jw->buf;
}

int jw_flush_line(struct json_writer *jw, FILE *f)
{
	int ret = 0;

	assert(jw->depth == 0);
	if (jw->oom || fwrite(jw->buf, 1, jw->len, f) != jw->len || fputc('\n', f) == EOF)
		ret = -1;
	jw_reset(jw);
	return ret;
}

/* Make room for n more bytes and the final NUL; false when out of memory. */
static bool grow(struct json_writer *jw, size_t n)
{
	size_t cap = jw->cap;
	char *nb;

	if (jw->oom)
		return false;
	if (jw->len + n + 1 <= cap)
		return true;
	while (jw->len + n + 1 > cap)
		cap *= 2;
	nb = realloc(jw->buf, cap);
	if (!nb) {
		jw->oom = true;
		return false;
	}
	jw->buf = nb;
	jw->cap = cap;
	return true;
}

static inline void put(struct json_writer *jw, const char *s, size_t n)
{
	if (!grow(jw, n))
		return;
	memcpy(jw->buf + jw->len, s, n);
	jw->len += n;
}

/* Separator before a value or key at the current depth. */
static void sep(struct json_writer *jw)
{
	if (jw->after_key) {
		jw->after_key = false;
		return;
	}
	if (jw->need_comma[jw->depth])
		put(jw, ",", 1);
	jw->need_comma[jw->depth] = true;
}

static void open_(struct json_writer *jw, char c)
{
	sep(jw);
	put(jw, &c, 1);
	assert(jw->depth + 1 < JW_MAX_DEPTH);
	jw->depth++;
	jw->need_comma[jw->depth] = false;
}

static void close_(struct json_writer *jw, char c)
{
	assert(jw->depth > 0 && !jw->after_key);
	jw->depth--;
	put(jw, &c, 1);
}

void jw_obj_open(struct json_writer *jw) { open_(jw, '{'); }
void jw_obj_close(struct json_writer *jw) { close_(jw, '}'); }
void jw_arr_open(struct json_writer *jw) { open_(jw, '['); }
void jw_arr_close(struct json_writer *jw) { close_(jw, ']'); }

static void put_escaped(struct json_writer *jw, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len, run;
	char esc[8];
	uint32_t cp;

	put(jw, "\"", 1);
	while (i < n && s[i]) {
		/* Copy runs of plain printable ASCII in one go. */
		for (run = i; run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' &&
			       s[run] != '\\';
		     run++)
			;
		if (run > i) {
			put(jw, str + i, run - i);
			i = run;
			continue;
		}
		len = pw_utf8_decode(s + i, n - i, &cp);
		if (len == 0) {
			put(jw, "\\ufffd", 6);
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\') {
			esc[0] = '\\', esc[1] = (char)cp;
			put(jw, esc, 2);
		} else if (cp == '\n') {
			put(jw, "\\n", 2);
		} else if (cp == '\t') {
			put(jw, "\\t", 2);
		} else if (cp == '\r') {
			put(jw, "\\r", 2);
		} else if (cp < 0x20 || cp == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", cp);
			put(jw, esc, 6);
		} else {
			put(jw, str + i, len);
		}
		i += len;
	}
	put(jw, "\"", 1);
}

/*
 * Keys are nearly always portwatch's own plain-ASCII constants: copy those
 * as they are (escaping them showed up as a tenth of the cost of trace -j)
 * and escape anything else.
 */
void jw_key(struct json_writer *jw, const char *key)
{
	const unsigned char *k = (const unsigned char *)key;
	size_t n;

	for (n = 0; k[n]; n++)
		if (k[n] < 0x20 || k[n] >= 0x7f || k[n] == '"' || k[n] == '\\')
			break;
	sep(jw);
	if (k[n]) {
		put_escaped(jw, key, strlen(key));
		put(jw, ":", 1);
		jw->after_key = true;
		return;
	}
	if (!grow(jw, n + 3))
		return;
	jw->buf[jw->len++] = '"';
	memcpy(jw->buf + jw->len, key, n);
	jw->len += n;
	jw->buf[jw->len++] = '"';
	jw->buf[jw->len++] = ':';
	jw->after_key = true;
}

void jw_strn(struct json_writer *jw, const char *s, size_t n)
{
	sep(jw);
	put_escaped(jw, s, n);
}

void jw_str(struct json_writer *jw, const char *s)
{
	jw_strn(jw, s, strlen(s));
}

/* Decimal digits of v at the end of b (24 bytes); returns where they start. */
static char *utoa(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void jw_int(struct json_writer *jw, int64_t v)
{
	char b[24], *p = utoa(v < 0 ? -(uint64_t)v : (uint64_t)v, b + sizeof(b));

	sep(jw);
	if (v < 0)
		*--p = '-';
	put(jw, p, (size_t)(b + sizeof(b) - p));
}

void jw_uint(struct json_writer *jw, uint64_t v)
{
	char b[24], *p = utoa(v, b + sizeof(b));

	sep(jw);
	put(jw, p, (size_t)(b + sizeof(b) - p));
}

void jw_bool(struct json_writer *jw, bool v)
{
	sep(jw);
	put(jw, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct json_writer *jw)
{
	sep(jw);
	put(jw, "null", 4);
}

void jw_kv_str(struct json_writer *jw, const char *key, const char *s)
{
	jw_key(jw, key);
	if (s)
		jw_str(jw, s);
	else
		jw_null(jw);
}

void jw_kv_int(struct json_writer *jw, const char *key, int64_t v)
{
	jw_key(jw, key);
	jw_int(jw, v);
}

void jw_kv_uint(struct json_writer *jw, const char *key, uint64_t v)
{
	jw_key(jw, key);
	jw_uint(jw, v);
}

void jw_kv_null(struct json_writer *jw, const char *key)
{
	jw_key(jw, key);
	jw_null(jw);
}
