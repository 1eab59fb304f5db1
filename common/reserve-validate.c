/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-validate.h"

#include <string.h>

#include "reserve-error.h"
#include "reserve-names.h"

#define DESCRIBE_MAX_CHARS 80

static gboolean
is_control_character (gunichar c)
{
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f);
}

char *
reserve_describe_text (const char *text)
{
  GString *out = g_string_new ("“");
  const char *p = text;
  const char *end = text + strlen (text);
  guint chars = 0;

  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (chars++ == DESCRIBE_MAX_CHARS)
        {
          g_string_append (out, "…");
          break;
        }
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guchar) *p);
          p++;
          continue;
        }
      if (is_control_character (c))
        g_string_append_printf (out, "\\x%02x", (guint) c);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  g_string_append (out, "”");
  return g_string_free (out, FALSE);
}

static gboolean
fail (GError **error, const char *what, const char *value, const char *allowed)
{
  g_autofree char *described = reserve_describe_text (value);

  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT, "%s %s is not valid: %s", what,
               described, allowed);
  return FALSE;
}

gboolean
reserve_validate_item_name (const char *item, GError **error)
{
  static const char allowed[] =
    "an item name is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-', "
    "starting with a letter or digit";
  size_t len = strlen (item);

  if (len == 0 || len > RESERVE_NAME_MAX_BYTES || !g_ascii_isalnum (item[0]))
    return fail (error, "item name", item, allowed);
  for (size_t i = 0; i < len; i++)
    {
      char c = item[i];
      if (!g_ascii_isalnum (c) && c != '.' && c != '_' && c != ':' && c != '-')
        return fail (error, "item name", item, allowed);
    }
  return TRUE;
}

gboolean
reserve_validate_user_name (const char *user, GError **error)
{
  static const char allowed[] =
    "a user name is 1 to 64 bytes of UTF-8 text without control characters";
  size_t len = strlen (user);
  const char *end = user + len;

  if (len == 0 || len > RESERVE_NAME_MAX_BYTES || !g_utf8_validate (user, len, NULL))
    return fail (error, "user name", user, allowed);
  for (const char *p = user; p < end; p = g_utf8_next_char (p))
    if (is_control_character (g_utf8_get_char (p)))
      return fail (error, "user name", user, allowed);
  return TRUE;
}

gboolean
reserve_validate_request_id (const char *request_id, GError **error)
{
  size_t len = strlen (request_id);

  if (len == 0 || len > RESERVE_REQUEST_ID_MAX_BYTES || !g_utf8_validate (request_id, len, NULL))
    return fail (error, "request_id", request_id, "a request_id is 1 to 128 bytes of UTF-8 text");
  return TRUE;
}

gboolean
reserve_validate_range (const char *what, guint64 value, guint64 min, guint64 max, GError **error)
{
  if (value >= min && value <= max)
    return TRUE;
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
               "%s %" G_GUINT64_FORMAT " is out of range: allowed is %" G_GUINT64_FORMAT
               " to %" G_GUINT64_FORMAT,
               what, value, min, max);
  return FALSE;
}
