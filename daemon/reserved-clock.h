/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's time: microseconds since the Unix epoch, read from the wall
 * clock once at start and carried forward on the monotonic clock, so that
 * setting the system clock while the daemon runs neither lengthens nor
 * shortens a hold.
 *
 * Test hook: when $RESERVED_TEST_CLOCK_FILE names a file, it holds one or
 * two signed numbers of microseconds (absent or empty: 0). The first is
 * added to every reading, at start as while running: it moves the
 * daemon's whole time. The second is added to the wall clock alone, as
 * if the system clock had been set: reserved_clock_now() reads it at
 * start only, so a change while it runs does not move holds, which is
 * what the tests show; reserved_clock_wall_now() follows it.
 * Tests move time by writing that file instead of sleeping; the daemon
 * watches it (reserved-holds.c). It is not a configuration: nothing in a
 * package sets it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Thread-safe. */
gint64 reserved_clock_now (void);

/* The wall clock as it reads now, for calendar times such as a sale
 * window, which must follow the system clock when it is set: unlike
 * reserved_clock_now(), it is read afresh each time, and both numbers of
 * the test hook move it, as they are at the moment. Thread-safe. */
gint64 reserved_clock_wall_now (void);

/* What the test hook adds to the system's wall clock now (0 without it). */
gint64 reserved_clock_wall_shift (void);

/* The test hook's file, or NULL when time is the system's. */
const char *reserved_clock_get_test_file (void);

G_END_DECLS
