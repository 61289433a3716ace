/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Baseline of approved listeners: a plain text file, one listener a line:
 *
 *     # comment
 *     tcp 22 sshd
 *     tcp 443
 *     udp 53 systemd-resolve
 *
 * protocol (tcp|udp), port (1-65535), optionally the process name (comm,
 * at most 15 bytes; when given, only that process is approved on the port).
 * Blank lines and text after '#' are ignored.
 */
#ifndef PW_BASELINE_H
#define PW_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pw_baseline;

/*
 * Parse the file at path. Returns NULL with a one-line reason in err
 * ("FILE:LINE: ...") on a read error or any malformed line: a baseline
 * that is half understood would raise false alerts or hide real ones.
 */
struct pw_baseline *pw_baseline_load(const char *path, char *err, size_t errlen);
/* Same, from a string (for tests); name is used in messages. */
struct pw_baseline *pw_baseline_parse(const char *text, const char *name, char *err, size_t errlen);
void pw_baseline_free(struct pw_baseline *b);
/* Is a listener of comm on port/proto (6 or 17) approved? */
bool pw_baseline_allows(const struct pw_baseline *b, int proto, uint16_t port, const char *comm);

/* Write one baseline line ("tcp 22 sshd\n"); comm may be NULL. */
int pw_baseline_write_entry(FILE *f, int proto, uint16_t port, const char *comm);

#endif /* PW_BASELINE_H */
