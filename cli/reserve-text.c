/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "reserve-text.h"

#include <libintl.h>
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

gsize
reserve_text_width (const char *text)
{
  gsize width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    width += g_unichar_iswide (g_utf8_get_char (p)) ? 2 : 1;
  return width;
}

void
reserve_text_init (void)
{
  const char *localedir = g_getenv ("RESERVE_LOCALEDIR");

  bindtextdomain (GETTEXT_PACKAGE,
                  localedir != NULL && *localedir != '\0' ? localedir : RESERVE_LOCALEDIR);
  /* The catalogues are UTF-8, as is every string GLib handles; what the
   * locale cannot show is made ASCII here, not by gettext. */
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
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

  message = g_dgettext (GETTEXT_PACKAGE, message);
  if (locale_is_utf8 ())
    return message;
  /* Interned: a message is made once however often it is printed. */
  shown = to_ascii (message);
  return g_intern_string (shown);
}

const char *
reserve_text_plural (const char *singular, const char *plural, gulong n)
{
  g_autofree char *shown = NULL;
  const char *message = g_dngettext (GETTEXT_PACKAGE, singular, plural, n);

  if (locale_is_utf8 ())
    return message;
  shown = to_ascii (message);
  return g_intern_string (shown);
}
