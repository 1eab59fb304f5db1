/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-text.h"

#include <string.h>

/* The non-ASCII characters of the English messages, and what stands for
 * each in ASCII. */
static const struct {
  const char *utf8;
  const char *ascii;
} ascii_forms[] = {
  { "“", "\"" }, { "”", "\"" }, { "‘", "'" }, { "’", "'" }, { "…", "..." },
  { "×", "x" },  { "µ", "u" },  { "—", "-" }, { "–", "-" },
};

static gboolean
locale_is_utf8 (void)
{
  return g_get_charset (NULL);
}

static char *
to_ascii (const char *text)
{
  GString *result = g_string_new (NULL);

  while (*text != '\0')
    {
      gboolean replaced = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (ascii_forms) && !replaced; i++)
        if (g_str_has_prefix (text, ascii_forms[i].utf8))
          {
            g_string_append (result, ascii_forms[i].ascii);
            text += strlen (ascii_forms[i].utf8);
            replaced = TRUE;
          }
      if (!replaced)
        g_string_append_c (result, *text++);
    }
  return g_string_free (result, FALSE);
}

char *
reserve_text_for_locale (const char *text)
{
  return locale_is_utf8 () ? g_strdup (text) : to_ascii (text);
}

const char *
reserve_text (const char *message)
{
  g_autofree char *shown = NULL;

  if (locale_is_utf8 ())
    return message;
  /* Interned: a message is made once however often it is printed. */
  shown = to_ascii (message);
  return g_intern_string (shown);
}

const char *
reserve_text_plural (const char *singular, const char *plural, gulong n)
{
  return reserve_text (n == 1 ? singular : plural);
}
