/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tests' own view of a database file, through SQLite as another
 * program would read or write it: every call asserts success and names
 * the statement and SQLite's message when it fails. */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* Opens @path with @flags (SQLITE_OPEN_*). */
sqlite3 *reserved_test_sql_open (const char *path, int flags);
/* Closes @db, which must have no statement left. */
void reserved_test_sql_close (sqlite3 *db);
/* Runs @sql (one statement or several) and ignores what it returns. */
void reserved_test_sql_exec (sqlite3 *db, const char *sql);
/* Runs @sql on @path, created if need be, and closes it again. */
void reserved_test_sql_exec_file (const char *path, const char *sql);

/* A statement read row by row:
 *   reserved_test_query_start (&q, db, "SELECT ...");
 *   while (reserved_test_query_next (&q))
 *     ... sqlite3_column_*(q.stmt, N) ...
 * Parameters can be bound to q.stmt before the first row. */
typedef struct {
  sqlite3 *db;
  sqlite3_stmt *stmt;
} ReservedTestQuery;

void reserved_test_query_start (ReservedTestQuery *q, sqlite3 *db, const char *sql);
/* TRUE with the next row in q->stmt, or FALSE (and the statement
 * finalized) after the last. */
gboolean reserved_test_query_next (ReservedTestQuery *q);
/* The first column of the first row, which there must be; finalizes the
 * statement. */
gint64 reserved_test_query_int (ReservedTestQuery *q);

G_END_DECLS
