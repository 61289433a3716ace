/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* String helpers: UTF-8 validation, terminal-safe escaping, number parsing. */
#ifndef PW_STRUTIL_H
#define PW_STRUTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode one UTF-8 sequence at s (n bytes available). Returns its length
 * (1-4) and stores the code point, or 0 when the bytes are not valid UTF-8
 * (overlong forms, surrogates and values above U+10FFFF are invalid).
 */
size_t pw_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/*
 * Copy at most n bytes of in (stopping at NUL) to out as text safe for a
 * terminal: control characters, DEL, C1 controls and invalid UTF-8 become
 * \xNN, backslash becomes \\. out always ends in NUL; the result is cut on
 * a character boundary if outsz is too small. Returns out.
 */
char *pw_term_escape(const char *in, size_t n, char *out, size_t outsz);

/*
 * Parse a whole decimal string into [min, max]. Returns 0, or -1 when s is
 * empty, has trailing characters, a sign, or is out of range.
 */
int pw_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif /* PW_STRUTIL_H */
