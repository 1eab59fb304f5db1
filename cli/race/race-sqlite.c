/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "race-sqlite.h"
#include "reserve-text.h"

#include <unistd.h>

#include <sqlite3.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3, sqlite3_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* How long a buyer sleeps each time it finds the database locked. Short,
 * so that the count of retries tracks how long it queued. */
#define BUSY_RETRY_USEC 1000

/* WAL and synchronous=FULL, as the daemon runs: the comparison is between
 * ways of sharing, not between durability settings. Every sale is a row,
 * so the check can count what was recorded, not only what is left. */
#define SCHEMA                                       \
  "PRAGMA journal_mode = WAL;"                       \
  "CREATE TABLE stock (remaining INTEGER NOT NULL);" \
  "CREATE TABLE sales (buyer TEXT NOT NULL, pid INTEGER NOT NULL);"

static gboolean
set_error_from_db (GError **error, sqlite3 *db, const char *path, const char *doing)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("cannot %s %s: %s"), _ (doing), path,
               db != NULL ? sqlite3_errmsg (db) : _ ("out of memory"));
  return FALSE;
}

gboolean
race_sqlite_create (const char *path, guint stock, GError **error)
{
  g_autoptr(sqlite3) db = NULL;
  g_autofree char *sql = g_strdup_printf (SCHEMA "INSERT INTO stock VALUES (%u);", stock);

  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
    return set_error_from_db (error, db, path, N_ ("create the database"));
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return set_error_from_db (error, db, path, N_ ("set up the database"));
  return TRUE;
}

static gboolean
query_number (sqlite3 *db, const char *path, const char *sql, gint64 *value, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step (stmt) != SQLITE_ROW)
    return set_error_from_db (error, db, path, "read");
  *value = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gboolean
race_sqlite_count (const char *path, gint64 *sales, gint64 *remaining, GError **error)
{
  g_autoptr(sqlite3) db = NULL;

  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    return set_error_from_db (error, db, path, "open");
  return query_number (db, path, "SELECT count(*) FROM sales", sales, error) &&
         query_number (db, path, "SELECT remaining FROM stock", remaining, error);
}

/* --- the buyer ------------------------------------------------------------- */

typedef struct {
  RaceBuyer *buyer;
  gint64 deadline;
} BusyWait;

/* SQLite's own busy timeout retries silently; this one counts, so the
 * report can show how long the buyers queued. */
static int
retry_when_busy (void *data, int attempt)
{
  BusyWait *wait = data;

  if (g_get_monotonic_time () > wait->deadline)
    return 0;
  wait->buyer->busy_retries++;
  g_usleep (BUSY_RETRY_USEC);
  return 1;
}

/* Ends the buyer's attempt with SQLite's words if @rc is not @expected. */
static gboolean
step_ok (RaceBuyer *buyer, sqlite3 *db, int rc, int expected, const char *doing)
{
  if (rc == expected)
    return TRUE;
  race_buyer_give_up (buyer, RACE_OUTCOME_FAILED, _ ("cannot %s: %s"), _ (doing),
                      sqlite3_errmsg (db));
  return FALSE;
}

static gboolean
run_sql (RaceBuyer *buyer, sqlite3 *db, const char *sql)
{
  return step_ok (buyer, db, sqlite3_exec (db, sql, NULL, NULL, NULL), SQLITE_OK, sql);
}

static void
buy_in_transaction (RaceBuyer *buyer,
                    sqlite3 *db,
                    const RaceSqliteBuyerData *sqlite,
                    sqlite3_stmt *select,
                    sqlite3_stmt *update,
                    sqlite3_stmt *insert)
{
  gint64 remaining;

  if (!step_ok (buyer, db, sqlite3_step (select), SQLITE_ROW, N_ ("read the stock")))
    return;
  remaining = sqlite3_column_int64 (select, 0);
  race_buyer_note_read (buyer, remaining);

  /* The same pause as the file modes, here inside the transaction: the
   * lock is held across it, which is what makes the others queue. */
  g_usleep ((gulong) sqlite->delay_ms * 1000);

  if (remaining > 0)
    {
      if (!step_ok (buyer, db, sqlite3_step (update), SQLITE_DONE, N_ ("update the stock")) ||
          !step_ok (buyer, db, sqlite3_bind_text (insert, 1, buyer->name, -1, SQLITE_STATIC),
                    SQLITE_OK, N_ ("record the sale")) ||
          !step_ok (buyer, db, sqlite3_bind_int64 (insert, 2, getpid ()), SQLITE_OK,
                    N_ ("record the sale")) ||
          !step_ok (buyer, db, sqlite3_step (insert), SQLITE_DONE, N_ ("record the sale")))
        return;
    }

  /* Dying here, its changes written but not committed: SQLite rolls them
   * back and the kernel releases its locks. */
  race_buyer_critical_moment (buyer);

  if (!run_sql (buyer, db, "COMMIT"))
    return;
  if (remaining > 0)
    race_buyer_note_bought (buyer);
  else
    buyer->outcome = RACE_OUTCOME_SOLD_OUT;
}

void
race_sqlite_buyer (RaceBuyer *buyer, gconstpointer data)
{
  const RaceSqliteBuyerData *sqlite = data;
  gint64 timeout_usec = (gint64) sqlite->busy_timeout_ms * 1000;
  BusyWait wait = { buyer, g_get_monotonic_time () + timeout_usec };
  g_autoptr(sqlite3) db = NULL;
  g_autoptr(sqlite3_stmt) select = NULL;
  g_autoptr(sqlite3_stmt) update = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;

  /* Its own connection, opened after the fork: SQLite connections must
   * not cross a fork. */
  if (!step_ok (buyer, db, sqlite3_open_v2 (sqlite->path, &db, SQLITE_OPEN_READWRITE, NULL),
                SQLITE_OK, N_ ("open the database")))
    return;
  sqlite3_busy_handler (db, retry_when_busy, &wait);
  if (!run_sql (buyer, db, "PRAGMA synchronous = FULL") ||
      !step_ok (buyer, db,
                sqlite3_prepare_v2 (db, "SELECT remaining FROM stock", -1, &select, NULL),
                SQLITE_OK, N_ ("prepare")) ||
      !step_ok (buyer, db,
                sqlite3_prepare_v2 (db, "UPDATE stock SET remaining = remaining - 1", -1, &update,
                                    NULL),
                SQLITE_OK, N_ ("prepare")) ||
      !step_ok (buyer, db,
                sqlite3_prepare_v2 (db, "INSERT INTO sales (buyer, pid) VALUES (?, ?)", -1, &insert,
                                    NULL),
                SQLITE_OK, N_ ("prepare")))
    return;

  /* IMMEDIATE takes the write lock before the read. A plain BEGIN would let
   * every buyer read the same count and then fail to upgrade its lock
   * (SQLITE_BUSY): the file race again, only caught instead of lost.
   * The --kill-one victim begins before the release, so that on every run
   * all the others queue behind a transaction about to die. */
  if (buyer->victim && !run_sql (buyer, db, "BEGIN IMMEDIATE"))
    return;
  race_buyer_wait_for_start (buyer);
  wait.deadline = g_get_monotonic_time () + timeout_usec;
  if (!buyer->victim && !run_sql (buyer, db, "BEGIN IMMEDIATE"))
    return;
  buy_in_transaction (buyer, db, sqlite, select, update, insert);
  if (buyer->outcome == RACE_OUTCOME_FAILED && !sqlite3_get_autocommit (db))
    sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
}
