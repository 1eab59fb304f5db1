/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-test-polkit.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>

#include <glib/gstdio.h>

#define POLKITD "/usr/lib/polkit-1/polkitd"

static const char *const mount_points[] = {
  "/usr/share/polkit-1/actions",
  "/usr/share/polkit-1/rules.d",
  "/etc/polkit-1/rules.d",
};

struct _ReservedTestPolkit {
  ReservedTestDaemon *daemon;   /* not owned */
  ReservedTestProcess *polkitd; /* nullable */
  gboolean mounted[G_N_ELEMENTS (mount_points)];
};

static char *
read_data_file (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

/* A folder readable by polkitd's own user, holding @file_name with
 * @contents (none when @contents is NULL), mounted over @mount_point. */
static void
mount_folder (ReservedTestPolkit *self, guint index, const char *file_name, const char *contents)
{
  const char *mount_point = mount_points[index];
  g_autofree char *name = g_strdup_printf ("polkit-%u", index);
  g_autofree char *folder =
    g_build_filename (reserved_test_daemon_get_tmpdir (self->daemon), name, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  g_assert_cmpint (g_chmod (folder, 0755), ==, 0);
  if (contents != NULL)
    {
      g_autofree char *path = g_build_filename (folder, file_name, NULL);

      g_file_set_contents (path, contents, -1, &error);
      g_assert_no_error (error);
      g_assert_cmpint (g_chmod (path, 0644), ==, 0);
    }
  if (mount (folder, mount_point, NULL, MS_BIND, NULL) != 0)
    g_error ("bind-mounting %s over %s: %s (is polkitd installed? apt-get install polkitd)", folder,
             mount_point, g_strerror (errno));
  self->mounted[index] = TRUE;
}

static char *
replace_all (const char *text, const char *old, const char *new)
{
  g_auto(GStrv) parts = g_strsplit (text, old, -1);

  g_assert_cmpuint (g_strv_length (parts), >, 1);
  return g_strjoinv (new, parts);
}

ReservedTestPolkit *
reserved_test_polkit_new (ReservedTestDaemon *daemon,
                          const char *daemon_user,
                          const char *extra_rules)
{
  ReservedTestPolkit *self = g_new0 (ReservedTestPolkit, 1);
  g_autofree char *policy = read_data_file ("org.reserved.Reserve1.policy");
  g_autofree char *rules = read_data_file ("org.reserved.Reserve1.rules");
  g_autofree char *owner = g_strdup_printf ("unix-user:%s", daemon_user);
  g_autofree char *test_policy = replace_all (policy, "unix-user:_reserved", owner);

  if (!g_file_test (POLKITD, G_FILE_TEST_IS_EXECUTABLE))
    g_error ("%s is missing: the authorization tests need a real polkitd (apt-get install polkitd)",
             POLKITD);
  self->daemon = daemon;
  mount_folder (self, 0, "org.reserved.Reserve1.policy", test_policy);
  mount_folder (self, 1, "org.reserved.Reserve1.rules", rules);
  mount_folder (self, 2, "50-reserved-test.rules", extra_rules);
  return self;
}

void
reserved_test_polkit_start (ReservedTestPolkit *self)
{
  const char *argv[] = { POLKITD, "--no-debug", NULL };

  g_assert_null (self->polkitd);
  self->polkitd = reserved_test_daemon_spawn_service (self->daemon, argv,
                                                      "org.freedesktop.PolicyKit1", "polkitd.log");
}

ReservedTestProcess *
reserved_test_polkit_get_process (ReservedTestPolkit *self)
{
  return self->polkitd;
}

void
reserved_test_polkit_free (ReservedTestPolkit *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->polkitd, reserved_test_process_free);
  for (guint i = 0; i < G_N_ELEMENTS (mount_points); i++)
    if (self->mounted[i] && umount2 (mount_points[i], MNT_DETACH) != 0)
      g_error ("unmounting %s: %s", mount_points[i], g_strerror (errno));
  g_free (self);
}
