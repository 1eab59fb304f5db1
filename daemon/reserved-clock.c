/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-clock.h"

#include <stdlib.h>

static gint64
test_offset (void)
{
  const char *path = reserved_clock_get_test_file ();
  g_autofree char *text = NULL;
  gint64 offset = 0;

  if (path == NULL || !g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  g_strstrip (text);
  if (text[0] != '\0' &&
      !g_ascii_string_to_signed (text, 10, G_MININT64 / 2, G_MAXINT64 / 2, &offset, NULL))
    g_warning ("%s: not a number of microseconds: %s", path, text);
  return offset;
}

gint64
reserved_clock_now (void)
{
  static gsize started = 0;
  static gint64 wall_at_start, monotonic_at_start;

  if (g_once_init_enter (&started))
    {
      wall_at_start = g_get_real_time ();
      monotonic_at_start = g_get_monotonic_time ();
      g_once_init_leave (&started, 1);
    }
  return wall_at_start + (g_get_monotonic_time () - monotonic_at_start) + test_offset ();
}

const char *
reserved_clock_get_test_file (void)
{
  const char *path = g_getenv ("RESERVED_TEST_CLOCK_FILE");

  return path != NULL && path[0] != '\0' ? path : NULL;
}
