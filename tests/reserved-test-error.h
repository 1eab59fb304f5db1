/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a test asserts about a GError beyond its domain and code: that its
 * message names what it is about, in words a person acts on. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Fails unless there is an @error and its message contains @part. */
void reserved_test_assert_message_has (const GError *error, const char *part);

/* @value, what a call that reports failure in @error returned: fails,
 * with the error's message, unless the call succeeded (no error and a
 * value), as in `return reserved_test_ok (f (..., &error), &error);`. */
gpointer reserved_test_ok (gpointer value, GError **error);

G_END_DECLS
