/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The words `reserve` prints, as the locale asks for them: in plain ASCII
 * where its character set cannot show the typographic quotes, ellipses and
 * signs of the English text (LC_ALL=C). Arguments a message quotes, such
 * as a customer's name, never pass through here: they are printed byte for
 * byte. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @message as the locale shows it. The result lives as long as the
 * process. */
const char *reserve_text (const char *message) G_GNUC_FORMAT (1);

/* The singular or plural form of a message about @n things. */
const char *reserve_text_plural (const char *singular, const char *plural, gulong n)
  G_GNUC_FORMAT (1) G_GNUC_FORMAT (2);

/* @text (a whole help text, a table heading) as the locale shows it, as a
 * new string. */
char *reserve_text_for_locale (const char *text);

#define _(message)                   reserve_text (message)
#define N_(message)                  (message)
#define P_(singular, plural, number) reserve_text_plural (singular, plural, number)

G_END_DECLS
