/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A streaming JSON writer into a growable buffer, in the shape of bpftool's
 * json_writer but always producing valid JSON: every byte below 0x20 and DEL
 * is escaped and invalid UTF-8 becomes U+FFFD, so hostile process names
 * cannot break a consumer. Commas are placed automatically.
 */
#ifndef PW_JSON_H
#define PW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json_writer;

/* A new empty writer, or NULL when out of memory. */
struct json_writer *jw_new(void);
void jw_free(struct json_writer *jw);
/* Forget the text written so far (keeps the buffer). */
void jw_reset(struct json_writer *jw);
/* The text so far, NUL-terminated; owned by jw. */
const char *jw_text(struct json_writer *jw, size_t *len);
/* Write the text and a newline to f, then reset. Returns 0 or -1. */
int jw_flush_line(struct json_writer *jw, FILE *f);

void jw_obj_open(struct json_writer *jw);
void jw_obj_close(struct json_writer *jw);
void jw_arr_open(struct json_writer *jw);
void jw_arr_close(struct json_writer *jw);
/* The next value's key; only inside an object. */
void jw_key(struct json_writer *jw, const char *key);

/* Values: a string of at most n bytes (stops at NUL), numbers, null. */
void jw_strn(struct json_writer *jw, const char *s, size_t n);
void jw_str(struct json_writer *jw, const char *s);
void jw_int(struct json_writer *jw, int64_t v);
void jw_uint(struct json_writer *jw, uint64_t v);
void jw_bool(struct json_writer *jw, bool v);
void jw_null(struct json_writer *jw);

/* Key and value in one call. jw_kv_str with s == NULL writes null. */
void jw_kv_str(struct json_writer *jw, const char *key, const char *s);
void jw_kv_int(struct json_writer *jw, const char *key, int64_t v);
void jw_kv_uint(struct json_writer *jw, const char *key, uint64_t v);
void jw_kv_null(struct json_writer *jw, const char *key);

#endif /* PW_JSON_H */
