/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-clock.h"

#include <stdlib.h>

/* The test hook's offsets: the first number of the file moves the
 * daemon's whole time, the second (optional) the wall clock alone. */
static void
test_offsets (gint64 *offset, gint64 *wall_offset)
{
  const char *path = reserved_clock_get_test_file ();
  g_autofree char *text = NULL;
  g_auto(GStrv) numbers = NULL;
  gint64 *targets[] = { offset, wall_offset };
  guint n = 0;

  *offset = *wall_offset = 0;
  if (path == NULL || !g_file_get_contents (path, &text, NULL, NULL))
    return;
  numbers = g_strsplit_set (text, " \t\r\n", -1);
  for (guint i = 0; numbers[i] != NULL; i++)
    {
      if (numbers[i][0] == '\0')
        continue;
      if (n == G_N_ELEMENTS (targets) ||
          !g_ascii_string_to_signed (numbers[i], 10, G_MININT64 / 4, G_MAXINT64 / 4, targets[n],
                                     NULL))
        {
          g_warning ("%s: not one or two numbers of microseconds: %s", path, text);
          *offset = *wall_offset = 0;
          return;
        }
      n++;
    }
}

gint64
reserved_clock_now (void)
{
  static gsize started = 0;
  static gint64 wall_at_start, monotonic_at_start;
  gint64 offset, wall_offset;

  test_offsets (&offset, &wall_offset);
  if (g_once_init_enter (&started))
    {
      /* The wall clock is read here only: a jump of it (the hook's second
       * number) once the daemon runs changes nothing. */
      wall_at_start = g_get_real_time () + wall_offset;
      monotonic_at_start = g_get_monotonic_time ();
      g_once_init_leave (&started, 1);
    }
  return wall_at_start + (g_get_monotonic_time () - monotonic_at_start) + offset;
}

gint64
reserved_clock_wall_shift (void)
{
  gint64 offset, wall_offset;

  test_offsets (&offset, &wall_offset);
  return offset + wall_offset;
}

gint64
reserved_clock_wall_now (void)
{
  return g_get_real_time () + reserved_clock_wall_shift ();
}

const char *
reserved_clock_get_test_file (void)
{
  const char *path = g_getenv ("RESERVED_TEST_CLOCK_FILE");

  return path != NULL && path[0] != '\0' ? path : NULL;
}
