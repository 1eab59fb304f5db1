/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-test-sqlite.h"

sqlite3 *
reserved_test_sql_open (const char *path, int flags)
{
  sqlite3 *db = NULL;

  if (sqlite3_open_v2 (path, &db, flags, NULL) != SQLITE_OK)
    g_error ("cannot open %s: %s", path, sqlite3_errmsg (db));
  return db;
}

void
reserved_test_sql_close (sqlite3 *db)
{
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

void
reserved_test_sql_exec (sqlite3 *db, const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

void
reserved_test_sql_exec_file (const char *path, const char *sql)
{
  sqlite3 *db = reserved_test_sql_open (path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);

  reserved_test_sql_exec (db, sql);
  reserved_test_sql_close (db);
}

void
reserved_test_query_start (ReservedTestQuery *q, sqlite3 *db, const char *sql)
{
  q->db = db;
  if (sqlite3_prepare_v2 (db, sql, -1, &q->stmt, NULL) != SQLITE_OK)
    g_error ("%s: %s", sql, sqlite3_errmsg (db));
}

gboolean
reserved_test_query_next (ReservedTestQuery *q)
{
  int rc = sqlite3_step (q->stmt);

  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc != SQLITE_DONE)
    g_error ("%s: %s", sqlite3_sql (q->stmt), sqlite3_errmsg (q->db));
  sqlite3_finalize (q->stmt);
  q->stmt = NULL;
  return FALSE;
}

gint64
reserved_test_query_int (ReservedTestQuery *q)
{
  g_autofree char *sql = g_strdup (sqlite3_sql (q->stmt));
  gint64 value;

  if (!reserved_test_query_next (q))
    g_error ("%s: no row", sql);
  value = sqlite3_column_int64 (q->stmt, 0);
  sqlite3_finalize (q->stmt);
  q->stmt = NULL;
  return value;
}
