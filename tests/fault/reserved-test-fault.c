/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-test-fault.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "reserved-test-sqlite.h"

/* --- knobs ------------------------------------------------------------------ */

GRand *
reserved_test_fault_rand_new (void)
{
  guint32 seed = reserved_test_env_uint ("RESERVED_TEST_SEED", 0, G_MAXUINT32);

  if (seed == 0)
    seed = g_random_int_range (1, G_MAXINT32);
  g_test_message ("seed %u (RESERVED_TEST_SEED=%u replays this run)", seed, seed);
  return g_rand_new_with_seed (seed);
}

/* --- clients ------------------------------------------------------------------ */

gboolean
reserved_test_fault_buy (GDBusConnection *connection,
                         const char *user,
                         const char *request_id,
                         guint64 *order_out,
                         GError **error)
{
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                       RESERVE_INTERFACE, "Buy",
                                       g_variant_new ("(ssu@a{sv})", RESERVE_DEFAULT_ITEM, user, 1u,
                                                      reserved_test_options (request_id)),
                                       G_VARIANT_TYPE ("(tu)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       (int) reserved_test_timeout_seconds () * 1000, NULL, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(tu)", order_out, NULL);
  return TRUE;
}

/* --- the shim ---------------------------------------------------------------- */

struct _ReservedTestFaultShim {
  ReservedTestDaemon *daemon; /* not owned */
  char *path;
  ReservedFaultControl *control;
  char *preload; /* LD_PRELOAD, worked out once */
};

ReservedTestFaultShim *
reserved_test_fault_shim_new (ReservedTestDaemon *daemon)
{
  ReservedTestFaultShim *shim = g_new0 (ReservedTestFaultShim, 1);
  int fd;

  shim->daemon = daemon;
  shim->path = g_build_filename (reserved_test_daemon_get_tmpdir (daemon), "fault-control", NULL);
  fd = open (shim->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, sizeof (ReservedFaultControl)), ==, 0);
  shim->control =
    mmap (NULL, sizeof (ReservedFaultControl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close (fd);
  g_assert_true (shim->control != MAP_FAILED);
  reserved_test_fault_shim_reset (shim);
  return shim;
}

void
reserved_test_fault_shim_free (ReservedTestFaultShim *shim)
{
  if (shim == NULL)
    return;
  munmap (shim->control, sizeof (ReservedFaultControl));
  g_free (shim->path);
  g_free (shim->preload);
  g_free (shim);
}

ReservedFaultControl *
reserved_test_fault_shim_control (ReservedTestFaultShim *shim)
{
  return shim->control;
}

void
reserved_test_fault_shim_reset (ReservedTestFaultShim *shim)
{
  ReservedFaultControl fresh = { .magic = RESERVED_FAULT_MAGIC, .mode = RESERVED_FAULT_MODE_PASS };

  __atomic_store_n (&shim->control->mode, RESERVED_FAULT_MODE_PASS, __ATOMIC_SEQ_CST);
  memcpy (shim->control, &fresh, sizeof fresh);
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
}

void
reserved_test_fault_shim_attach (ReservedTestFaultShim *shim, gboolean attached)
{
  const char *library = g_getenv ("RESERVED_FAULT_SHIM");
  const char *binary = g_getenv ("RESERVED_BINARY");
  g_autofree char *database = NULL;

  if (!attached)
    {
      reserved_test_daemon_set_env (shim->daemon, "LD_PRELOAD", NULL);
      reserved_test_daemon_set_env (shim->daemon, "RESERVED_FAULT_CONTROL", NULL);
      reserved_test_daemon_set_env (shim->daemon, "RESERVED_FAULT_DATABASE", NULL);
      return;
    }
  if (library == NULL || binary == NULL)
    g_error (
      "RESERVED_FAULT_SHIM and RESERVED_BINARY must be set: run the tests with `meson test`");
  if (shim->preload == NULL)
    {
      /* An ASan-built daemon or shim needs the ASan runtime first of all
       * libraries, or it refuses to start. */
      g_autofree char *runtime = reserved_test_asan_runtime (binary);

      if (runtime == NULL)
        runtime = reserved_test_asan_runtime (library);
      shim->preload =
        runtime != NULL ? g_strdup_printf ("%s:%s", runtime, library) : g_strdup (library);
      g_test_message ("the daemon runs with LD_PRELOAD=%s", shim->preload);
    }
  database = realpath (reserved_test_daemon_get_database (shim->daemon), NULL);
  if (database == NULL)
    {
      /* Not created yet: its folder exists. */
      g_autofree char *folder =
        g_path_get_dirname (reserved_test_daemon_get_database (shim->daemon));
      g_autofree char *base =
        g_path_get_basename (reserved_test_daemon_get_database (shim->daemon));
      g_autofree char *real_folder = realpath (folder, NULL);

      g_assert_nonnull (real_folder);
      database = g_build_filename (real_folder, base, NULL);
    }
  reserved_test_daemon_set_env (shim->daemon, "LD_PRELOAD", shim->preload);
  reserved_test_daemon_set_env (shim->daemon, "RESERVED_FAULT_CONTROL", shim->path);
  reserved_test_daemon_set_env (shim->daemon, "RESERVED_FAULT_DATABASE", database);
}

/* --- the file ---------------------------------------------------------------- */

GHashTable *
reserved_test_fault_orders_new (void)
{
  return g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
}

void
reserved_test_fault_orders_set (GHashTable *orders, guint64 id, ReservedTestOrderState state)
{
  g_hash_table_insert (orders, g_memdup2 (&id, sizeof id), GINT_TO_POINTER (state));
}

GHashTable *
reserved_test_fault_check_file (const char *path)
{
  g_autoptr(GHashTable) orders = reserved_test_fault_orders_new ();
  g_autoptr(GString) problems = g_string_new (NULL);
  sqlite3 *db = reserved_test_sql_open (path, SQLITE_OPEN_READWRITE);
  ReservedTestQuery q;

  /* Leave the log as it is: the next daemon is the one to recover from it. */
  sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  sqlite3_busy_timeout (db, 5000);

  reserved_test_query_start (&q, db, "PRAGMA integrity_check");
  while (reserved_test_query_next (&q))
    {
      const char *line = (const char *) sqlite3_column_text (q.stmt, 0);
      if (g_strcmp0 (line, "ok") != 0)
        g_string_append_printf (problems, "\n  %s", line);
    }
  if (problems->len > 0)
    g_error ("%s fails PRAGMA integrity_check:%s", path, problems->str);

  /* One snapshot for all of it. */
  reserved_test_query_start (&q, db, "BEGIN");
  reserved_test_query_next (&q);
  reserved_test_query_start (&q, db,
                             "SELECT i.name, i.capacity, i.remaining,"
                             "  (SELECT COALESCE(SUM(quantity), 0) FROM orders o"
                             "   WHERE o.item_id = i.id AND o.cancelled = 0),"
                             "  (SELECT COALESCE(SUM(quantity), 0) FROM holds h"
                             "   WHERE h.item_id = i.id AND h.ended IS NULL)"
                             " FROM items i");
  while (reserved_test_query_next (&q))
    {
      gint64 capacity = sqlite3_column_int64 (q.stmt, 1);
      gint64 remaining = sqlite3_column_int64 (q.stmt, 2);
      gint64 sold = sqlite3_column_int64 (q.stmt, 3);
      gint64 held = sqlite3_column_int64 (q.stmt, 4);

      if (remaining + held + sold != capacity)
        g_error ("the law is broken in %s for %s: remaining %" G_GINT64_FORMAT
                 " + held %" G_GINT64_FORMAT " + active orders %" G_GINT64_FORMAT
                 " != capacity %" G_GINT64_FORMAT,
                 path, sqlite3_column_text (q.stmt, 0), remaining, held, sold, capacity);
    }
  reserved_test_query_start (
    &q, db, "SELECT count(*) FROM orders WHERE item_id NOT IN (SELECT id FROM items)");
  g_assert_cmpint (reserved_test_query_int (&q), ==, 0);
  reserved_test_query_start (
    &q, db,
    "SELECT caller_uid, request_id, count(*) FROM orders WHERE request_id IS NOT NULL"
    " GROUP BY caller_uid, request_id HAVING count(*) > 1");
  while (reserved_test_query_next (&q))
    g_error ("%s: request_id %s of uid %" G_GINT64_FORMAT " bought %" G_GINT64_FORMAT " orders",
             path, sqlite3_column_text (q.stmt, 1), (gint64) sqlite3_column_int64 (q.stmt, 0),
             (gint64) sqlite3_column_int64 (q.stmt, 2));
  reserved_test_query_start (&q, db, "SELECT id, cancelled FROM orders");
  while (reserved_test_query_next (&q))
    reserved_test_fault_orders_set (orders, (guint64) sqlite3_column_int64 (q.stmt, 0),
                                    sqlite3_column_int64 (q.stmt, 1) ? RESERVED_TEST_ORDER_CANCELLED
                                                                     : RESERVED_TEST_ORDER_ACTIVE);
  reserved_test_query_start (&q, db, "COMMIT");
  reserved_test_query_next (&q);
  reserved_test_sql_close (db);
  return g_steal_pointer (&orders);
}

static const char *const order_state_names[] = {
  [RESERVED_TEST_ORDER_ACTIVE] = "active",
  [RESERVED_TEST_ORDER_CANCELLED] = "cancelled",
};

/* Every row of @expected (id -> state) is in @in_file, in its state; @kind
 * ("order", "hold") and @state_names for the messages. */
static void
assert_rows (GHashTable *in_file,
             GHashTable *expected,
             const char *kind,
             const char *const *state_names,
             const char *what)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, expected);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      guint64 id = *(guint64 *) key;
      int state = GPOINTER_TO_INT (g_hash_table_lookup (in_file, &id));

      if (state == 0)
        g_error ("%s: acknowledged %s %" G_GUINT64_FORMAT " is not in the database", what, kind,
                 id);
      if (state != GPOINTER_TO_INT (value))
        g_error ("%s: %s %" G_GUINT64_FORMAT " is %s in the database, but the test made it %s",
                 what, kind, id, state_names[state], state_names[GPOINTER_TO_INT (value)]);
    }
}

void
reserved_test_fault_assert_orders (GHashTable *in_file, GHashTable *expected, const char *what)
{
  assert_rows (in_file, expected, "order", order_state_names, what);
}

static const char *const hold_state_names[] = {
  [RESERVED_TEST_HOLD_LIVE] = "live",
  [RESERVED_TEST_HOLD_CONFIRMED] = "confirmed",
  [RESERVED_TEST_HOLD_RELEASED] = "released",
  [RESERVED_TEST_HOLD_EXPIRED] = "expired",
  [RESERVED_TEST_HOLD_DISCONNECTED] = "disconnected",
  [RESERVED_TEST_HOLD_CLOSED] = "closed",
};

GHashTable *
reserved_test_fault_holds_in_file (const char *path)
{
  g_autoptr(GHashTable) holds = reserved_test_fault_orders_new ();
  sqlite3 *db = reserved_test_sql_open (path, SQLITE_OPEN_READWRITE);
  ReservedTestQuery q;

  sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  sqlite3_busy_timeout (db, 5000);
  reserved_test_query_start (&q, db,
                             "SELECT h.id, h.ended, h.order_id, o.id FROM holds h"
                             " LEFT JOIN orders o ON o.id = h.order_id");
  while (reserved_test_query_next (&q))
    {
      gint64 id = sqlite3_column_int64 (q.stmt, 0);
      const char *ended = (const char *) sqlite3_column_text (q.stmt, 1);
      int state = RESERVED_TEST_HOLD_LIVE;

      for (int s = RESERVED_TEST_HOLD_CONFIRMED; ended != NULL && s <= RESERVED_TEST_HOLD_CLOSED;
           s++)
        if (g_str_equal (ended, hold_state_names[s]))
          state = s;
      if (ended != NULL && state == RESERVED_TEST_HOLD_LIVE)
        g_error ("%s: hold %" G_GINT64_FORMAT " ended for an unknown reason: %s", path, id, ended);
      if (state == RESERVED_TEST_HOLD_CONFIRMED && sqlite3_column_type (q.stmt, 3) == SQLITE_NULL)
        g_error ("%s: hold %" G_GINT64_FORMAT " is confirmed, but its order is not in the file",
                 path, id);
      reserved_test_fault_orders_set (holds, (guint64) id, (ReservedTestOrderState) state);
    }
  reserved_test_sql_close (db);
  return g_steal_pointer (&holds);
}

void
reserved_test_fault_assert_holds (GHashTable *in_file, GHashTable *expected, const char *what)
{
  assert_rows (in_file, expected, "hold", hold_state_names, what);
}

gint64
reserved_test_fault_count_request_id (const char *path, const char *table, const char *request_id)
{
  g_autofree char *sql = NULL;
  sqlite3 *db = reserved_test_sql_open (path, SQLITE_OPEN_READONLY);
  ReservedTestQuery q;
  gint64 n;

  g_assert_true (g_str_equal (table, "orders") || g_str_equal (table, "holds"));
  sql = g_strdup_printf ("SELECT count(*) FROM %s WHERE request_id = ?1", table);
  reserved_test_query_start (&q, db, sql);
  sqlite3_bind_text (q.stmt, 1, request_id, -1, SQLITE_STATIC);
  n = reserved_test_query_int (&q);
  sqlite3_close (db);
  return n;
}
