/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-test-fixture.h"

#include "reserved-test-sqlite.h"

void
reserved_test_connect_admin (const char *address,
                             GDBusConnection **connection,
                             ReservedTestClient *client)
{
  *connection = reserved_test_connect (address);
  client->proxy = reserved_test_proxy_new (*connection);
  client->admin = TRUE;
}

void
reserved_test_disconnect_admin (GDBusConnection **connection, ReservedTestClient *client)
{
  g_clear_object (&client->proxy);
  if (*connection != NULL)
    g_dbus_connection_close_sync (*connection, NULL, NULL);
  g_clear_object (connection);
}

void
reserved_test_finish (ReservedTestDaemon *daemon,
                      GDBusConnection **connection,
                      ReservedTestClient *client)
{
  if (!g_test_failed () && client->proxy != NULL)
    reserved_test_assert_law (client);
  reserved_test_disconnect_admin (connection, client);
  if (reserved_test_daemon_get_process (daemon) != NULL)
    reserved_test_daemon_stop (daemon);
}

void
reserved_test_admin_open (ReservedTestAdmin *admin, ReservedTestDaemon *daemon)
{
  reserved_test_connect_admin (reserved_test_daemon_get_address (daemon), &admin->connection,
                               &admin->client);
}

void
reserved_test_admin_close (ReservedTestAdmin *admin)
{
  reserved_test_disconnect_admin (&admin->connection, &admin->client);
}

void
reserved_test_admin_start (ReservedTestAdmin *admin, ReservedTestDaemon *daemon)
{
  reserved_test_daemon_start (daemon);
  reserved_test_admin_open (admin, daemon);
}

void
reserved_test_admin_stop (ReservedTestAdmin *admin, ReservedTestDaemon *daemon)
{
  reserved_test_admin_close (admin);
  reserved_test_daemon_stop (daemon);
}

void
reserved_test_fixture_connect (ReservedTestFixture *f)
{
  reserved_test_connect_admin (reserved_test_daemon_get_address (f->daemon), &f->connection,
                               &f->client);
  f->proxy = f->client.proxy;
}

void
reserved_test_fixture_disconnect (ReservedTestFixture *f)
{
  /* f->proxy is f->client.proxy, owned there. */
  f->proxy = NULL;
  reserved_test_disconnect_admin (&f->connection, &f->client);
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
  f->proxy = NULL;
  reserved_test_finish (f->daemon, &f->connection, &f->client);
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
