/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Port knowledge: service names (a built-in table, then /etc/services) and
 * which ports must never listen on a wildcard address (databases, caches,
 * admin and orchestration APIs).
 */
#ifndef PW_SERVICES_H
#define PW_SERVICES_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Name of the service on port/proto (proto 6 TCP, 17 UDP), e.g. "http",
 * "redis", "postgresql"; NULL when unknown. The built-in table wins over
 * /etc/services (which may be absent: Debian's netbase is optional). The
 * returned string is static or cached; never free it.
 */
const char *pw_service_name(uint16_t port, int proto);

/*
 * True when a listener on port/proto is sensitive: it should not be
 * reachable on a wildcard address. At least 3306, 5432, 6379, 27017, 9200,
 * 11211, 2375, 2379, 5984, 9042 (TCP).
 */
bool pw_port_sensitive(uint16_t port, int proto);

#endif /* PW_SERVICES_H */
