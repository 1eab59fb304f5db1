/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-test-error.h"

#include <string.h>

void
reserved_test_assert_message_has (const GError *error, const char *part)
{
  g_assert_nonnull (error);
  if (strstr (error->message, part) == NULL)
    g_error ("the message “%s” does not mention “%s”", error->message, part);
}

gpointer
reserved_test_ok (gpointer value, GError **error)
{
  g_assert_no_error (*error);
  g_assert_nonnull (value);
  return value;
}
