/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cmocka fixtures shared by the renderer tests (include after <cmocka.h>). */
#ifndef PW_TEST_FIXTURES_H
#define PW_TEST_FIXTURES_H

#include <stdlib.h>
#include <time.h>

#include "json.h"

/* A JSON writer in *state; TZ pinned to UTC, since text output prints local time. */
static inline int setup_jw(void **state)
{
	setenv("TZ", "UTC", 1);
	tzset();
	*state = jw_new();
	return *state ? 0 : -1;
}

static inline int teardown_jw(void **state)
{
	jw_free(*state);
	return 0;
}

/* A test that gets a JSON writer in *state, with TZ pinned to UTC. */
#define jw_test(f) cmocka_unit_test_setup_teardown(f, setup_jw, teardown_jw)

#endif /* PW_TEST_FIXTURES_H */
