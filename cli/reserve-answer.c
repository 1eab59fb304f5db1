/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-answer.h"

#include "reserve-text.h"

#include <gio/gio.h>

gboolean
reserve_answer_lookup_u32 (GVariant *answer,
                           const char *method,
                           const char *key,
                           guint32 *value,
                           GError **error)
{
  if (g_variant_lookup (answer, key, "u", value))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _ ("reserved's answer to %s lacks “%s” as a number"), method, key);
  return FALSE;
}
