/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's time: microseconds since the Unix epoch, read from the wall
 * clock once at start and carried forward on the monotonic clock, so that
 * setting the system clock while the daemon runs neither lengthens nor
 * shortens a hold.
 *
 * Test hook: when $RESERVED_TEST_CLOCK_FILE names a file, the signed
 * number of microseconds it holds (absent or empty: 0) is added to every
 * reading, at start as while running. Tests move time by writing that
 * file instead of sleeping; the daemon watches it (reserved-expiry.c). It
 * is not a configuration: nothing in a package sets it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Thread-safe. */
gint64 reserved_clock_now (void);

/* The test hook's file, or NULL when time is the system's. */
const char *reserved_clock_get_test_file (void);

G_END_DECLS
