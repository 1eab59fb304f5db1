/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "Did you mean": the known word closest to a mistyped one. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The word of @candidates (NULL-terminated) that @typed most likely meant:
 * the nearest by edit distance (a transposition counts as one edit), if it
 * is near enough to be a typing mistake rather than another word. NULL if
 * none is. */
const char *reserve_suggest (const char *typed, const char *const *candidates);

G_END_DECLS
