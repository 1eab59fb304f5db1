/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-test-main.h"

#include <locale.h>
#include <string.h>
#include <unistd.h>

#include "reserve-error.h"

static int
run_helper (const ReservedTestHelper *helpers, int argc, char **argv)
{
  for (const ReservedTestHelper *helper = helpers; helper != NULL && helper->name != NULL; helper++)
    if (argc == (int) helper->n_args + 1 && g_str_equal (argv[0], helper->name))
      return helper->run (argv + 1);
  g_printerr ("unknown helper call\n");
  return 2;
}

int
reserved_test_main (int argc,
                    char **argv,
                    void (*add_cases) (void),
                    const ReservedTestHelper *helpers)
{
  setlocale (LC_ALL, "");
  /* Registers the API's D-Bus error names, so that the daemon's errors
   * arrive as RESERVE_ERROR codes, in the tests and in their helpers. */
  reserve_error_quark ();

  if (argc > 1 && g_str_equal (argv[1], RESERVED_TEST_HELPER_ARG))
    return run_helper (helpers, argc - 2, argv + 2);

  g_test_init (&argc, &argv, NULL);
  add_cases ();
  return g_test_run ();
}

guint64
reserved_test_helper_uint (const char *text, guint64 min, guint64 max)
{
  g_autoptr(GError) error = NULL;
  guint64 value = 0;

  if (!g_ascii_string_to_unsigned (text, 10, min, max, &value, &error))
    g_error ("helper argument “%s”: %s", text, error->message);
  return value;
}

guint
reserved_test_env_uint (const char *name, guint fallback, guint max)
{
  const char *value = g_getenv (name);
  guint64 number = 0;

  if (value == NULL || *value == '\0')
    return fallback;
  if (!g_ascii_string_to_unsigned (value, 10, 1, max, &number, NULL))
    g_error ("%s=%s is not a whole number from 1 to %u", name, value, max);
  return (guint) number;
}

void
reserved_test_helper_say (const char *format, ...)
{
  g_autofree char *line = NULL;
  va_list args;
  gsize length;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  length = strlen (line);
  g_assert_cmpint (write (STDOUT_FILENO, line, length), ==, (gssize) length);
}

const char *
reserved_test_binary (const char *variable)
{
  const char *binary = g_getenv (variable);

  if (binary == NULL || *binary == '\0')
    g_error ("%s is not set: run the tests with `meson test`, "
             "or set it to the executable to test",
             variable);
  return binary;
}
