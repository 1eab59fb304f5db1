/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Files as the tests see them: whole contents in and out, and a folder
 * tree removed at the end of a case. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* (transfer full) Everything in @path; asserts it can be read. */
GBytes *reserved_test_read_bytes (const char *path);
/* Replaces @path with @length bytes of @data; asserts success. */
void reserved_test_write_bytes (const char *path, const void *data, gsize length);

/* Removes @path and, if it is a folder, everything below it (a link, not
 * what it points to), giving each folder back the permissions a case may
 * have taken away. With @must_succeed, anything that cannot be removed
 * fails the test; without, it is left (a folder a daemon may still use,
 * after a failed case). */
void reserved_test_remove_tree (const char *path, gboolean must_succeed);

G_END_DECLS
