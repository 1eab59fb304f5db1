/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-test-files.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

GBytes *
reserved_test_read_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}

void
reserved_test_write_bytes (const char *path, const void *data, gsize length)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, data, (gssize) length, &error);
  g_assert_no_error (error);
}

static void
removed (int result, const char *path, gboolean must_succeed)
{
  if (result != 0 && must_succeed)
    g_error ("cannot remove %s: %s", path, g_strerror (errno));
}

void
reserved_test_remove_tree (const char *path, gboolean must_succeed)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    {
      removed (-1, path, must_succeed);
      return;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = NULL;
      const char *name;

      g_chmod (path, 0700);
      dir = g_dir_open (path, 0, NULL);
      if (dir == NULL && must_succeed)
        g_error ("cannot read the folder %s", path);
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          reserved_test_remove_tree (child, must_succeed);
        }
      removed (g_rmdir (path), path, must_succeed);
    }
  else
    removed (g_unlink (path), path, must_succeed);
}
