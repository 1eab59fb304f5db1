/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The words `reserve` prints, as the locale asks for them: translated
 * (gettext, the catalogues of po/), and in plain ASCII where the locale's
 * character set cannot show the typographic quotes, ellipses and signs of
 * the English text (LC_ALL=C). Arguments a message quotes, such as a
 * customer's name, never pass through here: they are printed byte for
 * byte. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Binds the catalogues: $RESERVE_LOCALEDIR if set (to run the built tree
 * in another language, as the tests do), else the installed ones. Call
 * after setlocale(). */
void reserve_text_init (void);

/* @message as the locale shows it. The result lives as long as the
 * process. */
const char *reserve_text (const char *message) G_GNUC_FORMAT (1);

/* The singular or plural form of a message about @n things. */
const char *reserve_text_plural (const char *singular, const char *plural, gulong n)
  G_GNUC_FORMAT (1) G_GNUC_FORMAT (2);

/* The columns @text takes on a terminal: two for a wide (CJK) character,
 * one for any other. */
gsize reserve_text_width (const char *text);

/* @text, already translated (a whole help text) or not to be (a daemon's
 * message), in a form the locale's character set shows, as a new
 * string. */
char *reserve_text_for_locale (const char *text);

#define _(message)                   reserve_text (message)
#define N_(message)                  (message)
#define P_(singular, plural, number) reserve_text_plural (singular, plural, number)

G_END_DECLS
