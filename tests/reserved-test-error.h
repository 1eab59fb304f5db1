/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a test asserts about a GError beyond its domain and code: that its
 * message names what it is about, in words a person acts on. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Fails unless there is an @error and its message contains @part. */
void reserved_test_assert_message_has (const GError *error, const char *part);

G_END_DECLS
