/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-test-fixture.h"

#include "reserved-test-sqlite.h"

void
reserved_test_admin_open (ReservedTestAdmin *admin, ReservedTestDaemon *daemon)
{
  admin->connection = reserved_test_connect (reserved_test_daemon_get_address (daemon));
  admin->client.proxy = reserved_test_proxy_new (admin->connection);
  admin->client.admin = TRUE;
}

void
reserved_test_admin_close (ReservedTestAdmin *admin)
{
  g_clear_object (&admin->client.proxy);
  if (admin->connection != NULL)
    g_dbus_connection_close_sync (admin->connection, NULL, NULL);
  g_clear_object (&admin->connection);
}

void
reserved_test_fixture_connect (ReservedTestFixture *f)
{
  f->connection = reserved_test_connect (reserved_test_daemon_get_address (f->daemon));
  f->proxy = reserved_test_proxy_new (f->connection);
  f->client.proxy = f->proxy;
  f->client.admin = TRUE;
}

void
reserved_test_fixture_disconnect (ReservedTestFixture *f)
{
  g_clear_object (&f->proxy);
  if (f->connection != NULL)
    g_dbus_connection_close_sync (f->connection, NULL, NULL);
  g_clear_object (&f->connection);
  f->client.proxy = NULL;
}

void
reserved_test_fixture_set_up (ReservedTestFixture *f, gconstpointer config)
{
  f->daemon = reserved_test_daemon_new ();
  if (config != NULL)
    reserved_test_daemon_write_config (f->daemon, config);
  reserved_test_daemon_start (f->daemon);
  /* Safe before spawning helpers: they are exec'd, not just forked. */
  reserved_test_fixture_connect (f);
}

static char *
clock_file (ReservedTestFixture *f)
{
  return g_build_filename (reserved_test_daemon_get_tmpdir (f->daemon), "clock", NULL);
}

void
reserved_test_fixture_set_clocks (ReservedTestFixture *f, gint64 seconds, gint64 wall_seconds)
{
  g_autofree char *path = clock_file (f);
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n",
                                           seconds * G_USEC_PER_SEC, wall_seconds * G_USEC_PER_SEC);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

void
reserved_test_fixture_set_clock (ReservedTestFixture *f, gint64 seconds)
{
  reserved_test_fixture_set_clocks (f, seconds, 0);
}

void
reserved_test_fixture_set_up_with_clock (ReservedTestFixture *f, gconstpointer config)
{
  g_autofree char *path = NULL;
  g_autofree char *run = NULL;

  f->daemon = reserved_test_daemon_new ();
  if (config != NULL)
    reserved_test_daemon_write_config (f->daemon, config);
  path = clock_file (f);
  reserved_test_fixture_set_clock (f, 0);
  reserved_test_daemon_set_env (f->daemon, "RESERVED_TEST_CLOCK_FILE", path);
  run = g_build_filename (reserved_test_daemon_get_tmpdir (f->daemon), "run", NULL);
  reserved_test_daemon_set_env (f->daemon, "RUNTIME_DIRECTORY", run);
  reserved_test_daemon_start (f->daemon);
  reserved_test_fixture_connect (f);
}

void
reserved_test_fixture_tear_down (ReservedTestFixture *f, gconstpointer data)
{
  g_clear_pointer (&f->db, reserved_test_sql_close);
  if (!g_test_failed () && f->proxy != NULL)
    reserved_test_assert_law (&f->client);
  reserved_test_fixture_disconnect (f);
  if (reserved_test_daemon_get_process (f->daemon) != NULL)
    reserved_test_daemon_stop (f->daemon);
  g_clear_pointer (&f->daemon, reserved_test_daemon_free);
}

void
reserved_test_fixture_restart (ReservedTestFixture *f)
{
  reserved_test_fixture_disconnect (f);
  reserved_test_daemon_restart (f->daemon);
  reserved_test_fixture_connect (f);
}

void
reserved_test_fixture_open_database (ReservedTestFixture *f)
{
  f->db = reserved_test_sql_open (reserved_test_daemon_get_database (f->daemon),
                                  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
}
