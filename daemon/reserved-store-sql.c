/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-store"

#include "reserved-store-sql.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserve-validate.h"
#include "reserved-clock.h"
#include "reserved-store-answers.h"
#include "reserved-store-clean.h"
#include "reserved-store-holds.h"
#include "reserved-store-waitlist.h"

/* "RSVD": marks a file as a reserved database, so that another
 * application's SQLite file is refused instead of migrated. */
#define RESERVED_APPLICATION_ID 0x52535644

/* Numbered migrations: entry N takes the schema from user_version N to N+1.
 * Append; never edit one that has shipped. */
static const char *const migrations[] = {
  /* 0 -> 1 */
  "CREATE TABLE items ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  capacity INTEGER NOT NULL CHECK (capacity BETWEEN 0 AND 1000000000),"
  "  remaining INTEGER NOT NULL CHECK (remaining BETWEEN 0 AND capacity),"
  "  per_user_limit INTEGER NOT NULL DEFAULT 0 CHECK (per_user_limit >= 0)"
  ") STRICT;"
  /* AUTOINCREMENT: an order id is never reused, even for the highest id. */
  "CREATE TABLE orders ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  item_id INTEGER NOT NULL REFERENCES items (id),"
  "  customer TEXT NOT NULL,"
  "  quantity INTEGER NOT NULL CHECK (quantity > 0),"
  "  caller_uid INTEGER NOT NULL,"
  "  request_id TEXT,"
  "  created INTEGER NOT NULL,"
  "  cancelled INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1))"
  ") STRICT;"
  "CREATE UNIQUE INDEX orders_by_request ON orders (caller_uid, request_id)"
  "  WHERE request_id IS NOT NULL;"
  "CREATE INDEX orders_by_customer ON orders (customer, created, id);"
  /* Covers both the per-user limit and the units sold of an item. */
  "CREATE INDEX orders_active_by_item ON orders (item_id, customer, quantity)"
  "  WHERE cancelled = 0;",
  /* 1 -> 2: holds. A hold is live while ended is NULL; expires is the
   * daemon's time (reserved-clock.h) at which it ends, 0 for none; ttl is
   * the span last granted, which bounds what is left after a restart. */
  "CREATE TABLE holds ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  item_id INTEGER NOT NULL REFERENCES items (id),"
  "  customer TEXT NOT NULL,"
  "  quantity INTEGER NOT NULL CHECK (quantity > 0),"
  "  caller_uid INTEGER NOT NULL,"
  "  request_id TEXT,"
  "  created INTEGER NOT NULL,"
  "  expires INTEGER NOT NULL CHECK (expires >= 0),"
  "  ttl INTEGER NOT NULL CHECK (ttl >= 0),"
  "  holder TEXT,"
  "  ended TEXT CHECK (ended IN ('confirmed', 'released', 'expired', 'disconnected', 'closed')),"
  "  order_id INTEGER REFERENCES orders (id)"
  ") STRICT;"
  "CREATE UNIQUE INDEX holds_by_request ON holds (caller_uid, request_id)"
  "  WHERE request_id IS NOT NULL;"
  "CREATE INDEX holds_live_by_item ON holds (item_id, customer, quantity) WHERE ended IS NULL;"
  "CREATE INDEX holds_live_by_expiry ON holds (expires) WHERE ended IS NULL AND expires > 0;"
  "CREATE INDEX holds_live_by_caller ON holds (caller_uid) WHERE ended IS NULL;"
  "CREATE INDEX holds_live_by_holder ON holds (holder) WHERE ended IS NULL AND holder IS NOT NULL;",
  /* 2 -> 3: retired items. A retired item is sold no more and left out of
   * the listings; its row stays for the orders and holds that name it, and
   * so does its name, which is never reused. */
  "ALTER TABLE items ADD COLUMN retired INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1));",
  /* 3 -> 4: sale windows. Calendar times in microseconds since the Unix
   * epoch; 0 is no bound. Outside [sale_start, sale_end) the item is not
   * sold or held; the daemon checks that start comes before end. */
  /* In parentheses: one entry of two statements, not two entries. */
  ("ALTER TABLE items ADD COLUMN sale_start INTEGER NOT NULL DEFAULT 0 CHECK (sale_start >= 0);"
   "ALTER TABLE items ADD COLUMN sale_end INTEGER NOT NULL DEFAULT 0 CHECK (sale_end >= 0);"),
  /* 4 -> 5: the waitlist. An entry is live while ended is NULL: waiting
   * while hold_id is NULL, offered once the head of its queue was given
   * a hold (hold_id), which ends it when the hold does. deadline is the
   * daemon's time at which a waiting entry gives up, 0 for none; holder
   * the waiter's connection under release_on_disconnect. offer_seconds
   * is how long an item's offers last. */
  "ALTER TABLE items ADD COLUMN offer_seconds INTEGER NOT NULL DEFAULT 3600"
  "  CHECK (offer_seconds > 0);"
  "CREATE TABLE waitlist ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  item_id INTEGER NOT NULL REFERENCES items (id),"
  "  customer TEXT NOT NULL,"
  "  quantity INTEGER NOT NULL CHECK (quantity > 0),"
  "  caller_uid INTEGER NOT NULL,"
  "  request_id TEXT,"
  "  created INTEGER NOT NULL,"
  "  deadline INTEGER NOT NULL CHECK (deadline >= 0),"
  "  holder TEXT,"
  "  hold_id INTEGER REFERENCES holds (id),"
  "  ended TEXT CHECK (ended IN ('served', 'lapsed', 'left', 'expired', 'disconnected',"
  "    'over_limit'))"
  ") STRICT;"
  "CREATE UNIQUE INDEX waitlist_by_request ON waitlist (caller_uid, request_id)"
  "  WHERE request_id IS NOT NULL;"
  /* One live entry per (uid, customer, item): a queue is not hoarded. */
  "CREATE UNIQUE INDEX waitlist_live_per_customer ON waitlist (caller_uid, customer, item_id)"
  "  WHERE ended IS NULL;"
  "CREATE INDEX waitlist_waiting_by_item ON waitlist (item_id, id, customer, quantity)"
  "  WHERE ended IS NULL AND hold_id IS NULL;"
  "CREATE INDEX waitlist_live_by_hold ON waitlist (hold_id) WHERE ended IS NULL;"
  "CREATE INDEX waitlist_waiting_by_deadline ON waitlist (deadline)"
  "  WHERE ended IS NULL AND hold_id IS NULL AND deadline > 0;"
  "CREATE INDEX waitlist_waiting_by_holder ON waitlist (holder)"
  "  WHERE ended IS NULL AND hold_id IS NULL AND holder IS NOT NULL;",
};


static const char *const statement_sql[N_STMTS] = {
  [STMT_BEGIN] = "BEGIN IMMEDIATE",
  [STMT_COMMIT] = "COMMIT",
  [STMT_ROLLBACK] = "ROLLBACK",
  /* One savepoint per operation in a batch: a refused purchase is undone
   * alone while the others in its transaction stand. */
  [STMT_SAVEPOINT] = "SAVEPOINT operation",
  [STMT_RELEASE] = "RELEASE operation",
  [STMT_ROLLBACK_TO] = "ROLLBACK TO operation",
  [STMT_FIND_REQUEST] = "SELECT o.id, i.name, o.customer, o.quantity, i.remaining"
                        " FROM orders o JOIN items i ON i.id = o.item_id"
                        " WHERE o.caller_uid = ?1 AND o.request_id = ?2",
  [STMT_FIND_ITEM_FOR_SALE] = "SELECT id, capacity, per_user_limit, retired, sale_start, sale_end"
                              " FROM items WHERE name = ?1",
  /* The per-user limit counts live holds and waiting entries with the
   * orders: a hold is a purchase not yet paid for, an entry one asked for. */
  [STMT_ACTIVE_UNITS_OF_CUSTOMER] = STORE_SQL_UNITS_OF_CUSTOMER,
  /* Only units not owed to the entries waiting for the item. */
  [STMT_TAKE_STOCK] = STORE_SQL_TAKE_UNOWED_STOCK,
  [STMT_INSERT_ORDER] =
    "INSERT INTO orders (item_id, customer, quantity, caller_uid, request_id, created)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  [STMT_GET_ORDER] =
    "SELECT o.id, i.name, o.customer, o.quantity, o.created, o.caller_uid, o.cancelled, o.item_id"
    " FROM orders o JOIN items i ON i.id = o.item_id WHERE o.id = ?1",
  [STMT_MARK_CANCELLED] = "UPDATE orders SET cancelled = 1 WHERE id = ?1 AND cancelled = 0",
  [STMT_RETURN_STOCK] =
    "UPDATE items SET remaining = remaining + ?2 WHERE id = ?1 RETURNING remaining",
  [STMT_GET_ITEM] = "SELECT name, capacity, remaining, per_user_limit,"
                    " (SELECT COALESCE(SUM(quantity), 0) FROM orders"
                    "   WHERE item_id = items.id AND cancelled = 0),"
                    " (SELECT COALESCE(SUM(quantity), 0) FROM holds"
                    "   WHERE item_id = items.id AND ended IS NULL),"
                    " (SELECT COALESCE(SUM(quantity), 0) FROM holds"
                    "   WHERE item_id = items.id AND ended IS NULL AND expires > 0"
                    "   AND expires <= ?2),"
                    " retired, sale_start, sale_end,"
                    " (SELECT COALESCE(SUM(quantity), 0) FROM waitlist"
                    "   WHERE item_id = items.id AND ended IS NULL AND hold_id IS NULL),"
                    " offer_seconds"
                    " FROM items WHERE name = ?1",
  [STMT_LIST_ITEMS] = "SELECT name, capacity, remaining, per_user_limit FROM items"
                      " WHERE retired = 0 ORDER BY name",
  [STMT_LIST_ORDERS_OF_CUSTOMER] =
    "SELECT o.id, i.name, o.customer, o.quantity, o.created, o.caller_uid, o.cancelled"
    " FROM orders o JOIN items i ON i.id = o.item_id"
    " WHERE o.customer = ?1 AND (?2 IS NULL OR o.caller_uid = ?2)"
    " ORDER BY o.created, o.id",
  [STMT_LIST_ORDERS_ALL] =
    "SELECT o.id, i.name, o.customer, o.quantity, o.created, o.caller_uid, o.cancelled"
    " FROM orders o JOIN items i ON i.id = o.item_id"
    " WHERE ?2 IS NULL OR o.caller_uid = ?2"
    " ORDER BY o.created, o.id",
  [STMT_INSERT_ITEM] =
    "INSERT INTO items (name, capacity, remaining, per_user_limit, sale_start, sale_end)"
    " VALUES (?1, ?2, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
  [STMT_RESTOCK] = "UPDATE items SET capacity = capacity + ?2, remaining = remaining + ?2"
                   " WHERE name = ?1 AND capacity + ?2 <= 1000000000"
                   " RETURNING remaining, id",
  /* In order of id, which is the order orders were made in, so that the
   * last id of a page is where the next one starts whatever is bought in
   * between. */
  [STMT_LIST_ORDERS_PAGE] =
    "SELECT o.id, i.name, o.customer, o.quantity, o.created, o.caller_uid, o.cancelled"
    " FROM orders o JOIN items i ON i.id = o.item_id"
    " WHERE o.id > ?1"
    " AND (?2 IS NULL OR o.customer = ?2)"
    " AND (?3 IS NULL OR i.name = ?3)"
    " AND (?4 IS NULL OR o.cancelled = ?4)"
    " AND (?5 IS NULL OR o.caller_uid = ?5)"
    " AND o.created >= ?6 AND o.created < ?7"
    " ORDER BY o.id LIMIT ?8",
  [STMT_LIST_ITEMS_PAGE] = "SELECT name, capacity, remaining, per_user_limit FROM items"
                           " WHERE retired = 0 AND (?1 IS NULL OR name > ?1)"
                           " ORDER BY name LIMIT ?2",
  [STMT_RETIRE_ITEM] = "UPDATE items SET retired = 1 WHERE name = ?1 RETURNING id",
  [STMT_SET_PER_USER_LIMIT] =
    "UPDATE items SET per_user_limit = ?2 WHERE name = ?1 AND retired = 0 RETURNING id",
  [STMT_SET_SALE_WINDOW] = "UPDATE items SET sale_start = ?2, sale_end = ?3"
                           " WHERE name = ?1 AND retired = 0 RETURNING id",
  [STMT_LIST_SALE_WINDOWS] =
    "SELECT name, sale_start, sale_end FROM items"
    " WHERE retired = 0 AND (sale_start > 0 OR sale_end > 0) ORDER BY name",
};

void
store_stmt_release (StoreStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

StoreStmt *
store_sql_prepare_lazily (StoreConnection *c, sqlite3_stmt **slot, const char *sql, GError **error)
{
  if (*slot == NULL &&
      sqlite3_prepare_v3 (c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK)
    {
      store_sql_storage_error (c, error, "prepare a statement");
      return NULL;
    }
  return *slot;
}

static StoreStmt *
store_stmt (StoreConnection *c, StoreStmtId id)
{
  return c->stmts[id];
}

void
reserved_item_clear (ReservedItem *item)
{
  g_clear_pointer (&item->name, g_free);
}

void
reserved_order_clear (ReservedOrder *order)
{
  g_clear_pointer (&order->item, g_free);
  g_clear_pointer (&order->user, g_free);
}

/* SQLite's own words ("disk I/O error") do not say what an operator must
 * fix; the operating system's error behind them does ("No space left on
 * device"), so it is added whenever SQLite kept one. */
static char *
describe_sqlite_error (sqlite3 *db)
{
  int system_errno = sqlite3_system_errno (db);
  int code = sqlite3_extended_errcode (db);

  if ((code & 0xff) == SQLITE_FULL || system_errno == ENOSPC || system_errno == EDQUOT)
    return g_strdup_printf ("%s: the disk is full (%s)", sqlite3_errmsg (db),
                            g_strerror (system_errno != 0 ? system_errno : ENOSPC));
  if (system_errno != 0 && ((code & 0xff) == SQLITE_IOERR || (code & 0xff) == SQLITE_CANTOPEN ||
                            (code & 0xff) == SQLITE_READONLY))
    return g_strdup_printf ("%s (%s)", sqlite3_errmsg (db), g_strerror (system_errno));
  return g_strdup (sqlite3_errmsg (db));
}

static gboolean
set_storage_error (StoreConnection *c, GError **error, const char *doing)
{
  int code = sqlite3_extended_errcode (c->db);
  g_autofree char *why = describe_sqlite_error (c->db);

  c->failed = TRUE;
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
               "could not %s in %s: %s (SQLite error %d)", doing, c->path, why, code);
  return FALSE;
}

/* Steps a statement that must finish without returning rows. */
static gboolean
step_done (StoreConnection *c, StoreStmt *stmt, GError **error, const char *doing)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return set_storage_error (c, error, doing);
  return TRUE;
}

/* Steps a statement that returns at most one row: TRUE with *found set. */
static gboolean
step_row (StoreConnection *c, StoreStmt *stmt, gboolean *found, GError **error, const char *doing)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    {
      *found = TRUE;
      return TRUE;
    }
  if (rc == SQLITE_DONE)
    {
      *found = FALSE;
      return TRUE;
    }
  return set_storage_error (c, error, doing);
}

static char *
column_strdup (sqlite3_stmt *stmt, int column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

/* --- transactions ---------------------------------------------------------- */

static gboolean
step_control (StoreConnection *c, StoreStmtId id, GError **error, const char *doing)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, id);

  return step_done (c, stmt, error, doing);
}

gboolean
store_sql_begin (StoreConnection *c, GError **error)
{
  return step_control (c, STMT_BEGIN, error, "start a write transaction");
}

gboolean
store_sql_in_transaction (StoreConnection *c)
{
  return !sqlite3_get_autocommit (c->db);
}

void
store_sql_rollback (StoreConnection *c)
{
  g_autoptr(GError) error = NULL;

  /* A failed COMMIT or an I/O error may already have ended the
   * transaction; rolling back then would only report a spurious error. */
  if (!store_sql_in_transaction (c))
    return;
  if (!step_control (c, STMT_ROLLBACK, &error, "roll back"))
    g_message ("%s", error->message);
}

gboolean
store_sql_commit (StoreConnection *c, GError **error)
{
  if (!step_control (c, STMT_COMMIT, error, "commit"))
    {
      store_sql_rollback (c);
      return FALSE;
    }
  return TRUE;
}

gboolean
store_sql_sync_path (const char *path, int flags, GError **error)
{
  int fd = open (path, flags | O_CLOEXEC);

  if (fd < 0 || fsync (fd) != 0)
    {
      int saved = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                   "cannot write %s to disk: %s", path, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

gboolean
store_sql_clear_log (StoreConnection *c, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  /* TRUNCATE copies every committed frame into the database and then cuts
   * the log to nothing, taking the frames of a failed commit with it. */
  if (sqlite3_prepare_v2 (c->db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    {
      ok = sqlite3_column_int (stmt, 0) == 0;
      if (!ok)
        g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                     "could not clear the write-ahead log of %s: another connection is using it",
                     c->path);
    }
  else
    set_storage_error (c, error, "clear the write-ahead log");
  sqlite3_finalize (stmt);
  /* SQLite cuts the log without syncing it; until that reaches the disk, a
   * power loss could bring the failed commit's frames back. */
  if (ok)
    {
      g_autofree char *log = g_strconcat (c->path, "-wal", NULL);
      ok = store_sql_sync_path (log, O_RDONLY, error);
    }
  return ok;
}

gboolean
store_sql_savepoint (StoreConnection *c, GError **error)
{
  return step_control (c, STMT_SAVEPOINT, error, "start an operation");
}

gboolean
store_sql_release (StoreConnection *c, GError **error)
{
  return step_control (c, STMT_RELEASE, error, "finish an operation");
}

gboolean
store_sql_rollback_to (StoreConnection *c, GError **error)
{
  return step_control (c, STMT_ROLLBACK_TO, error, "undo a refused operation");
}

/* --- opening --------------------------------------------------------------- */

static gboolean
exec_sql (StoreConnection *c, const char *sql, GError **error, const char *doing)
{
  if (sqlite3_exec (c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return set_storage_error (c, error, doing);
  return TRUE;
}

static gboolean
query_int (StoreConnection *c, const char *sql, gint64 *value, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (c->db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      g_autofree char *why = describe_sqlite_error (c->db);

      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                   "%s: cannot read the database (%s): %s", c->path, sql, why);
      sqlite3_finalize (stmt);
      return FALSE;
    }
  *value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return TRUE;
}

/* A fresh database is a file that does not exist or is empty; anything else
 * must prove it is ours before the store writes a byte to it. */
static gboolean
probe_file (const char *path, gboolean *fresh, GError **error)
{
  struct stat st;
  g_autofree char *folder = g_path_get_dirname (path);
  char header[16];
  int fd;
  ssize_t got;

  if (stat (folder, &st) != 0 || !S_ISDIR (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: the folder %s does not exist",
                   path, folder);
      return FALSE;
    }
  /* SQLite keeps the -wal and -shm files next to the database, so a
   * writable file in a folder the daemon cannot write still cannot be used;
   * said here, the cause is named instead of "unable to open database
   * file". */
  if (faccessat (AT_FDCWD, folder, W_OK, AT_EACCESS) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s: the folder %s is not writable for reserved (uid %u): %s; reserved "
                   "keeps its write-ahead log next to the database, so it must be able to "
                   "create files there",
                   path, folder, (guint) geteuid (),
                   saved == EROFS ? "it is on a read-only file system" : g_strerror (saved));
      return FALSE;
    }
  if (stat (path, &st) != 0)
    {
      int saved = errno;
      if (saved == ENOENT)
        {
          *fresh = TRUE;
          return TRUE;
        }
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a regular file", path);
      return FALSE;
    }
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s cannot be read: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  got = read (fd, header, sizeof header);
  close (fd);
  if (st.st_size == 0 || got == 0)
    {
      *fresh = TRUE;
      return TRUE;
    }
  if (got != (ssize_t) sizeof header || memcmp (header, "SQLite format 3", 16) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is not a reserved database: it is not an SQLite file", path);
      return FALSE;
    }
  *fresh = FALSE;
  return TRUE;
}

/* Checks an existing file without writing to it: ours, not from a newer
 * reserved, and structurally sound: every page of it when @full, else
 * what opening it reads (its header and schema) and the table of items,
 * which every purchase reads. */
static gboolean
check_existing (StoreConnection *c, gboolean full, GError **error)
{
  gint64 application_id = 0;
  gint64 version = 0;
  sqlite3_stmt *stmt = NULL;
  g_autoptr(GString) problems = g_string_new (NULL);
  int rc;

  if (!query_int (c, "PRAGMA application_id", &application_id, error))
    return FALSE;
  if (application_id != RESERVED_APPLICATION_ID)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is not a reserved database: it belongs to another application "
                   "(SQLite application_id %" G_GINT64_FORMAT ")",
                   c->path, application_id);
      return FALSE;
    }
  if (!query_int (c, "PRAGMA user_version", &version, error))
    return FALSE;
  if (version > (gint64) G_N_ELEMENTS (migrations))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "%s has schema version %" G_GINT64_FORMAT
                   ", newer than this reserved understands (%u)",
                   c->path, version, (guint) G_N_ELEMENTS (migrations));
      return FALSE;
    }

  rc = sqlite3_prepare_v2 (c->db, full ? "PRAGMA quick_check" : "PRAGMA quick_check(items)", -1,
                           &stmt, NULL);
  while (rc == SQLITE_OK || rc == SQLITE_ROW)
    {
      if ((rc = sqlite3_step (stmt)) != SQLITE_ROW)
        break;
      const char *line = (const char *) sqlite3_column_text (stmt, 0);
      if (g_strcmp0 (line, "ok") != 0 && problems->len < 512)
        g_string_append_printf (problems, "%s%s", problems->len ? "; " : "", line);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s failed its integrity check: %s",
                   c->path, sqlite3_errmsg (c->db));
      return FALSE;
    }
  if (problems->len > 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s failed its integrity check: %s",
                   c->path, problems->str);
      return FALSE;
    }
  return TRUE;
}

static gboolean insert_item (StoreConnection *c,
                             const char *name,
                             guint32 capacity,
                             guint32 per_user_limit,
                             const ReservedSaleWindow *window,
                             GError **error);

/* Runs the migrations the file lacks in one transaction, so a crash
 * leaves either the old schema or the new one. On a fresh database the
 * default item is created in the same transaction. */
static gboolean
migrate (StoreConnection *c,
         gboolean fresh,
         const char *default_item,
         guint32 default_capacity,
         GError **error)
{
  gint64 version = 0;
  gboolean ok = TRUE;

  if (!exec_sql (c, "BEGIN IMMEDIATE", error, "start the schema migration"))
    return FALSE;
  ok = query_int (c, "PRAGMA user_version", &version, error);
  for (gint64 v = version; ok && v < (gint64) G_N_ELEMENTS (migrations); v++)
    {
      g_autofree char *doing =
        g_strdup_printf ("migrate the schema to version %" G_GINT64_FORMAT, v + 1);
      g_autofree char *set_version =
        g_strdup_printf ("PRAGMA user_version = %" G_GINT64_FORMAT, v + 1);

      ok = exec_sql (c, migrations[v], error, doing) && exec_sql (c, set_version, error, doing);
      if (ok)
        g_info ("Migrated %s to schema version %" G_GINT64_FORMAT, c->path, v + 1);
    }
  if (ok && fresh)
    {
      g_autofree char *set_id =
        g_strdup_printf ("PRAGMA application_id = %d", RESERVED_APPLICATION_ID);
      ok = exec_sql (c, set_id, error, "mark the database as reserved's") &&
           insert_item (c, default_item, default_capacity, 0, NULL, error);
    }
  if (!ok)
    {
      sqlite3_exec (c->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return exec_sql (c, "COMMIT", error, "commit the schema migration");
}

static gboolean
configure_connection (StoreConnection *c, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  g_autofree char *mode = NULL;

  /* WAL lets readers go on while a purchase commits; FULL syncs the WAL on
   * every commit, so an acknowledged order survives power loss. */
  if (sqlite3_prepare_v2 (c->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    mode = column_strdup (stmt, 0);
  sqlite3_finalize (stmt);
  if (g_strcmp0 (mode, "wal") != 0)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                   "%s: cannot switch to write-ahead logging (the folder must be "
                   "writable for the -wal and -shm files): %s",
                   c->path, sqlite3_errmsg (c->db));
      return FALSE;
    }
  return exec_sql (c, "PRAGMA synchronous = FULL", error, "set synchronous=FULL") &&
         exec_sql (c, "PRAGMA foreign_keys = ON", error, "enable foreign keys");
}

static gboolean
prepare_statements (StoreConnection *c, GError **error)
{
  for (guint i = 0; i < N_STMTS; i++)
    {
      if (sqlite3_prepare_v3 (c->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[i],
                              NULL) != SQLITE_OK)
        return set_storage_error (c, error, "prepare a statement");
    }
  return TRUE;
}

static gboolean
open_connection (StoreConnection *c, int flags, GError **error)
{
  int rc =
    sqlite3_open_v2 (c->path, &c->db,
                     flags | SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                     NULL);

  if (rc != SQLITE_OK)
    {
      g_autofree char *why = c->db ? describe_sqlite_error (c->db) : g_strdup (sqlite3_errstr (rc));

      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE, "cannot open %s: %s",
                   c->path, why);
      return FALSE;
    }
  sqlite3_extended_result_codes (c->db, 1);
  sqlite3_busy_timeout (c->db, (int) MIN (c->busy_timeout_ms, (guint) G_MAXINT));
  if (sqlite3_db_readonly (c->db, "main") == 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s is read-only: reserved must be able to write it", c->path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
remove_file (const char *path, const char *why, GError **error)
{
  if (unlink (path) != 0 && errno != ENOENT)
    {
      int saved = errno;

      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE, "cannot remove %s, %s: %s",
                   path, why, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* Opens and locks (flock) the file a new database is built in, so two
 * daemons starting at once on a fresh path take turns. Returns -1 with
 * @error set on failure. The lock holder may rename or remove the file,
 * so the lock counts only if the path still names the locked file. */
static int
lock_building_file (const char *building, GError **error)
{
  for (;;)
    {
      int fd = open (building, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      struct stat locked, named;

      if (fd < 0 || flock (fd, LOCK_EX) != 0 || fstat (fd, &locked) != 0)
        {
          int saved = errno;

          if (fd >= 0)
            close (fd);
          g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                       "cannot create and lock %s to build a new database in: %s", building,
                       g_strerror (saved));
          return -1;
        }
      if (stat (building, &named) == 0 && named.st_dev == locked.st_dev &&
          named.st_ino == locked.st_ino)
        return fd;
      close (fd);
    }
}

/* A new database is built whole under a name of its own (the database's
 * name plus "-new", as SQLite names its -wal and -journal files), written
 * to disk, and only then renamed into place. A crash at any point leaves
 * either no database (fresh again) or a complete one: never a half-made
 * file that the start-up check would refuse, or a hot journal that SQLite
 * would have to roll back before anyone could tell whose file it is.
 * Returns TRUE also when another daemon created the database meanwhile. */
static gboolean
create_database (const char *path,
                 guint busy_timeout_ms,
                 const char *default_item,
                 guint32 default_capacity,
                 GError **error)
{
  g_autofree char *building = g_strconcat (path, "-new", NULL);
  g_autofree char *folder = g_path_get_dirname (path);
  const char *building_leftovers[] = { "-journal", "-wal", "-shm" };
  const char *stale[] = { "-wal", "-shm", "-journal" };
  StoreConnection c = { .path = building, .busy_timeout_ms = busy_timeout_ms };
  gboolean fresh = FALSE;
  gboolean ok;
  struct stat st;
  int lock;

  if (lstat (path, &st) == 0 && S_ISLNK (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s is a symbolic link to a missing or empty file: a new database is renamed "
                   "into place, which would replace the link; name its target instead",
                   path);
      return FALSE;
    }
  lock = lock_building_file (building, error);
  if (lock < 0)
    return FALSE;
  /* Another daemon may have made it while this one waited for the lock. */
  if (!probe_file (path, &fresh, error))
    {
      close (lock);
      return FALSE;
    }
  if (!fresh)
    {
      unlink (building);
      close (lock);
      return TRUE;
    }

  /* What a creation that a crash interrupted left, and what a database
   * that is gone left beside it: SQLite would replay a -wal or -journal
   * found next to the new file, whichever database it came from. */
  ok = ftruncate (lock, 0) == 0;
  if (!ok)
    {
      int saved = errno;

      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                   "cannot empty %s to build a new database in: %s", building, g_strerror (saved));
    }
  for (guint i = 0; ok && i < G_N_ELEMENTS (building_leftovers); i++)
    {
      g_autofree char *leftover = g_strconcat (building, building_leftovers[i], NULL);
      ok = remove_file (leftover, "left by an interrupted creation", error);
    }
  for (guint i = 0; ok && i < G_N_ELEMENTS (stale); i++)
    {
      g_autofree char *leftover = g_strconcat (path, stale[i], NULL);
      ok = remove_file (leftover, "left by a database that is gone", error);
    }

  ok = ok && open_connection (&c, SQLITE_OPEN_CREATE, error) &&
       exec_sql (&c, "PRAGMA synchronous = FULL", error, "set synchronous=FULL") &&
       migrate (&c, TRUE, default_item, default_capacity, error) &&
       configure_connection (&c, error);
  /* Everything was committed with the rollback journal before the switch
   * to WAL, so closing leaves the one file holding all of it. */
  store_connection_close (&c);
  ok = ok && store_sql_sync_path (building, O_RDONLY, error);
  if (ok && rename (building, path) != 0)
    {
      int saved = errno;

      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                   "cannot rename %s to %s: %s", building, path, g_strerror (saved));
      ok = FALSE;
    }
  /* The rename, and the removals, must reach the disk before the first
   * order does. */
  ok = ok && store_sql_sync_path (folder, O_RDONLY | O_DIRECTORY, error);
  close (lock);
  return ok;
}

gboolean
store_connection_open_primary (StoreConnection *c,
                               const char *default_item,
                               guint32 default_capacity,
                               GError **error)
{
  gboolean fresh = FALSE;
  gboolean clean = FALSE;
  g_autofree char *unclean = NULL;
  gint64 started;

  if (!probe_file (c->path, &fresh, error))
    return FALSE;
  if (fresh &&
      !create_database (c->path, c->busy_timeout_ms, default_item, default_capacity, error))
    return FALSE;
  if (!store_clean_take (c->path, &clean, &unclean, error))
    return FALSE;
  /* Reading every page of a large file takes long, and after a clean stop
   * it finds what the last one found; after any other it is the one way
   * to tell that a crash or a disk left the file whole. */
  started = g_get_monotonic_time ();
  if (!open_connection (c, 0, error) || !check_existing (c, fresh || !clean, error))
    return FALSE;
  if (clean)
    g_message ("Checked the structure of %s: it was closed cleanly and not changed since", c->path);
  else if (!fresh)
    g_message ("Checked every page of %s in %" G_GINT64_FORMAT " ms: %s", c->path,
               (g_get_monotonic_time () - started) / 1000, unclean);
  if (!migrate (c, FALSE, default_item, default_capacity, error) ||
      !configure_connection (c, error) || !prepare_statements (c, error))
    return FALSE;
  g_debug ("Opened %s%s", c->path, fresh ? " (new)" : "");
  return TRUE;
}

gboolean
store_connection_open_secondary (StoreConnection *c, GError **error)
{
  return open_connection (c, 0, error) && configure_connection (c, error) &&
         prepare_statements (c, error);
}

gboolean
store_connection_close (StoreConnection *c)
{
  gboolean closed = TRUE;

  for (guint i = 0; i < N_STMTS; i++)
    g_clear_pointer (&c->stmts[i], sqlite3_finalize);
  for (guint i = 0; i < G_N_ELEMENTS (c->hold_stmts); i++)
    g_clear_pointer (&c->hold_stmts[i], sqlite3_finalize);
  for (guint i = 0; i < G_N_ELEMENTS (c->waitlist_stmts); i++)
    g_clear_pointer (&c->waitlist_stmts[i], sqlite3_finalize);
  if (c->db != NULL && sqlite3_close (c->db) != SQLITE_OK)
    {
      g_message ("Could not close %s cleanly: %s", c->path, sqlite3_errmsg (c->db));
      closed = FALSE;
    }
  c->db = NULL;
  return closed && !c->failed;
}

/* --- buying ---------------------------------------------------------------- */

/* A repeated request_id: the same purchase is answered with its first
 * order; a different one is refused so a reused key cannot buy twice. */
static gboolean
find_request (StoreConnection *c,
              const ReservedPurchase *purchase,
              ReservedReceipt *receipt,
              gboolean *found,
              GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_FIND_REQUEST);

  sqlite3_bind_int64 (stmt, 1, purchase->caller);
  sqlite3_bind_text (stmt, 2, purchase->request_id, -1, SQLITE_STATIC);
  if (!step_row (c, stmt, found, error, "look up the request_id"))
    return FALSE;
  if (!*found)
    return TRUE;

  if (!store_sql_same_request (stmt, purchase->item, purchase->user, purchase->quantity))
    return store_sql_request_reused (stmt, purchase->request_id, "order", error);
  receipt->order = (guint64) sqlite3_column_int64 (stmt, 0);
  receipt->remaining = (guint32) sqlite3_column_int64 (stmt, 4);
  receipt->replayed = TRUE;
  return TRUE;
}

gboolean
store_sql_units_of_customer (StoreConnection *c,
                             gint64 item_id,
                             const char *user,
                             gint64 *units,
                             GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_ACTIVE_UNITS_OF_CUSTOMER);
  gboolean found = FALSE;

  sqlite3_bind_int64 (stmt, 1, item_id);
  sqlite3_bind_text (stmt, 2, user, -1, SQLITE_STATIC);
  if (!step_row (c, stmt, &found, error, "count the customer's units"))
    return FALSE;
  *units = found ? sqlite3_column_int64 (stmt, 0) : 0;
  return TRUE;
}

gboolean
store_sql_check_per_user_limit (StoreConnection *c,
                                gint64 item_id,
                                const char *item,
                                const char *user,
                                guint32 quantity,
                                guint32 limit,
                                GError **error)
{
  gint64 units = 0;

  if (limit == 0)
    return TRUE;
  if (!store_sql_units_of_customer (c, item_id, user, &units, error))
    return FALSE;
  if (units + quantity > limit)
    return store_refuse_per_user_limit (error, item, user, limit, units, quantity);
  return TRUE;
}

gboolean
store_sql_find_sellable_item (StoreConnection *c,
                              const char *name,
                              StoreSellableItem *item,
                              GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_FIND_ITEM_FOR_SALE);
  gboolean found = FALSE;

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  if (!step_row (c, stmt, &found, error, "look up the item"))
    return FALSE;
  if (!found)
    return store_refuse_no_such_item (error, name);
  if (sqlite3_column_int64 (stmt, 3) != 0)
    return store_sql_retired_item (error, name);
  *item = (StoreSellableItem){
    .id = sqlite3_column_int64 (stmt, 0),
    .capacity = sqlite3_column_int64 (stmt, 1),
    .per_user_limit = (guint32) sqlite3_column_int64 (stmt, 2),
    .sale = { .start = sqlite3_column_int64 (stmt, 4), .end = sqlite3_column_int64 (stmt, 5) },
  };
  return TRUE;
}

gboolean
store_sql_buy (StoreConnection *c,
               const ReservedPurchase *purchase,
               ReservedReceipt *receipt,
               GError **error)
{
  g_autoptr(StoreStmt) take = store_stmt (c, STMT_TAKE_STOCK);
  g_autoptr(StoreStmt) insert = store_stmt (c, STMT_INSERT_ORDER);
  StoreSellableItem item;
  gboolean found = FALSE;
  gint64 item_id;
  guint32 limit;

  if (purchase->request_id != NULL)
    {
      if (!find_request (c, purchase, receipt, &found, error))
        return FALSE;
      if (found)
        return TRUE;
    }

  if (!store_sql_find_sellable_item (c, purchase->item, &item, error) ||
      !store_sql_check_on_sale (purchase->item, &item.sale, error))
    return FALSE;
  item_id = item.id;
  limit = item.per_user_limit;

  if (!store_holds_end_overdue (c, item_id, error))
    return FALSE;
  if (!store_sql_check_per_user_limit (c, item_id, purchase->item, purchase->user,
                                       purchase->quantity, limit, error))
    return FALSE;

  /* The conditional update is what makes overselling impossible: the
   * check and the decrement are one statement inside the transaction. */
  sqlite3_bind_int64 (take, 1, item_id);
  sqlite3_bind_int64 (take, 2, purchase->quantity);
  if (!step_row (c, take, &found, error, "take the stock"))
    return FALSE;
  /* What is left is read again: overdue holds this purchase ended, and
   * the offers their units went to, changed it since the item was read. */
  if (!found)
    return store_waitlist_sold_out (c, item_id, purchase->item, purchase->quantity, error);
  receipt->remaining = (guint32) sqlite3_column_int64 (take, 0);

  sqlite3_bind_int64 (insert, 1, item_id);
  sqlite3_bind_text (insert, 2, purchase->user, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 3, purchase->quantity);
  sqlite3_bind_int64 (insert, 4, purchase->caller);
  if (purchase->request_id != NULL)
    sqlite3_bind_text (insert, 5, purchase->request_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 6, g_get_real_time ());
  if (!step_done (c, insert, error, "record the order"))
    return FALSE;
  receipt->order = (guint64) sqlite3_last_insert_rowid (c->db);
  receipt->replayed = FALSE;
  return TRUE;
}


/* --- orders ---------------------------------------------------------------- */

/* A StoreReadRow. */
static void
read_order_row (sqlite3_stmt *stmt, gpointer element)
{
  ReservedOrder *out = element;

  out->id = (guint64) sqlite3_column_int64 (stmt, 0);
  out->item = column_strdup (stmt, 1);
  out->user = column_strdup (stmt, 2);
  out->quantity = (guint32) sqlite3_column_int64 (stmt, 3);
  out->created = sqlite3_column_int64 (stmt, 4);
  out->caller = (uid_t) sqlite3_column_int64 (stmt, 5);
  out->cancelled = sqlite3_column_int64 (stmt, 6) != 0;
}

gboolean
store_sql_get_order (StoreConnection *c, guint64 order, ReservedOrder *out, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_GET_ORDER);
  gboolean found = FALSE;

  if (order > G_MAXINT64)
    return store_refuse_no_such_order (error, order);
  sqlite3_bind_int64 (stmt, 1, (gint64) order);
  if (!step_row (c, stmt, &found, error, "look up the order"))
    return FALSE;
  if (!found)
    return store_refuse_no_such_order (error, order);
  read_order_row (stmt, out);
  return TRUE;
}

gboolean
store_sql_cancel (StoreConnection *c,
                  guint64 order,
                  char **item_out,
                  guint32 *remaining,
                  GError **error)
{
  g_autoptr(StoreStmt) get = store_stmt (c, STMT_GET_ORDER);
  g_autoptr(StoreStmt) mark = store_stmt (c, STMT_MARK_CANCELLED);
  g_autoptr(StoreStmt) give_back = store_stmt (c, STMT_RETURN_STOCK);
  gboolean found = FALSE;

  if (order > G_MAXINT64)
    return store_refuse_no_such_order (error, order);
  sqlite3_bind_int64 (get, 1, (gint64) order);
  if (!step_row (c, get, &found, error, "look up the order"))
    return FALSE;
  if (!found)
    return store_refuse_no_such_order (error, order);
  if (sqlite3_column_int64 (get, 6) != 0)
    return store_refuse_already_cancelled (error, order);

  sqlite3_bind_int64 (mark, 1, (gint64) order);
  if (!step_done (c, mark, error, "mark the order cancelled"))
    return FALSE;
  sqlite3_bind_int64 (give_back, 1, sqlite3_column_int64 (get, 7));
  sqlite3_bind_int64 (give_back, 2, sqlite3_column_int64 (get, 3));
  if (!step_row (c, give_back, &found, error, "return the units to stock"))
    return FALSE;
  if (!found)
    return set_storage_error (c, error, "find the order's item");
  *remaining = (guint32) sqlite3_column_int64 (give_back, 0);
  *item_out = column_strdup (get, 1);
  /* The units go to whoever waits for them first, in this transaction:
   * a crash can lose neither them nor the offer. */
  return store_waitlist_promote (c, sqlite3_column_int64 (get, 7), remaining, error);
}


GArray *
store_sql_read_rows (StoreConnection *c,
                     sqlite3_stmt *stmt,
                     guint element_size,
                     GDestroyNotify clear,
                     StoreReadRow read_row,
                     guint max_rows,
                     const char *doing,
                     GError **error)
{
  g_autoptr(GArray) rows = g_array_new (FALSE, TRUE, element_size);
  int rc = SQLITE_DONE;

  g_array_set_clear_func (rows, clear);
  while (rows->len < max_rows && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_array_set_size (rows, rows->len + 1);
      read_row (stmt, rows->data + (gsize) (rows->len - 1) * element_size);
    }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      set_storage_error (c, error, doing);
      return NULL;
    }
  return g_steal_pointer (&rows);
}

static GArray *
read_orders (StoreConnection *c, sqlite3_stmt *stmt, guint max_rows, GError **error)
{
  return store_sql_read_rows (c, stmt, sizeof (ReservedOrder),
                              (GDestroyNotify) reserved_order_clear, read_order_row, max_rows,
                              "list the orders", error);
}

GArray *
store_sql_list_orders (StoreConnection *c,
                       const char *user,
                       const uid_t *only_caller,
                       guint max_rows,
                       GError **error)
{
  g_autoptr(StoreStmt) stmt =
               store_stmt (c, user != NULL ? STMT_LIST_ORDERS_OF_CUSTOMER : STMT_LIST_ORDERS_ALL);

  if (user != NULL)
    sqlite3_bind_text (stmt, 1, user, -1, SQLITE_STATIC);
  if (only_caller != NULL)
    sqlite3_bind_int64 (stmt, 2, *only_caller);
  return read_orders (c, stmt, max_rows, error);
}

GArray *
store_sql_list_orders_page (StoreConnection *c, const ReservedOrderQuery *query, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_LIST_ORDERS_PAGE);

  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) MIN (query->after_order, (guint64) G_MAXINT64));
  if (query->user != NULL)
    sqlite3_bind_text (stmt, 2, query->user, -1, SQLITE_STATIC);
  if (query->item != NULL)
    sqlite3_bind_text (stmt, 3, query->item, -1, SQLITE_STATIC);
  if (query->state != RESERVED_ORDER_STATE_ANY)
    sqlite3_bind_int64 (stmt, 4, query->state == RESERVED_ORDER_STATE_CANCELLED);
  if (query->only_caller != NULL)
    sqlite3_bind_int64 (stmt, 5, *query->only_caller);
  sqlite3_bind_int64 (stmt, 6, query->created_from);
  sqlite3_bind_int64 (stmt, 7, query->created_before);
  sqlite3_bind_int64 (stmt, 8, query->limit);
  return read_orders (c, stmt, G_MAXUINT, error);
}

/* --- items ----------------------------------------------------------------- */

gboolean
store_sql_get_item (StoreConnection *c, const char *name, ReservedItem *out, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_GET_ITEM);
  gboolean found = FALSE;

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, reserved_clock_now ());
  if (!step_row (c, stmt, &found, error, "look up the item"))
    return FALSE;
  if (!found)
    return store_refuse_no_such_item (error, name);
  out->name = column_strdup (stmt, 0);
  out->capacity = (guint32) sqlite3_column_int64 (stmt, 1);
  out->remaining = (guint32) sqlite3_column_int64 (stmt, 2);
  out->per_user_limit = (guint32) sqlite3_column_int64 (stmt, 3);
  out->sold = (guint32) sqlite3_column_int64 (stmt, 4);
  out->held = (guint32) sqlite3_column_int64 (stmt, 5);
  /* Holds past their expiry that no transaction has ended yet: any
   * purchase or hold of the item ends them first, so they are for sale. */
  out->waiting = (guint32) sqlite3_column_int64 (stmt, 10);
  out->offer_seconds = (guint32) sqlite3_column_int64 (stmt, 11);
  /* Units owed to the waitlist are not for sale to anyone else. */
  out->available = out->remaining + (guint32) sqlite3_column_int64 (stmt, 6);
  out->available = out->available > out->waiting ? out->available - out->waiting : 0;
  out->retired = sqlite3_column_int64 (stmt, 7) != 0;
  out->sale.start = sqlite3_column_int64 (stmt, 8);
  out->sale.end = sqlite3_column_int64 (stmt, 9);
  out->on_sale = reserved_sale_window_contains (&out->sale, reserved_clock_wall_now ());
  return TRUE;
}

static GArray *
read_items (StoreConnection *c, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr(GArray) items = g_array_new (FALSE, TRUE, sizeof (ReservedItem));
  int rc;

  g_array_set_clear_func (items, (GDestroyNotify) reserved_item_clear);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      ReservedItem item = {
        .name = column_strdup (stmt, 0),
        .capacity = (guint32) sqlite3_column_int64 (stmt, 1),
        .remaining = (guint32) sqlite3_column_int64 (stmt, 2),
        .per_user_limit = (guint32) sqlite3_column_int64 (stmt, 3),
      };
      g_array_append_val (items, item);
    }
  if (rc != SQLITE_DONE)
    {
      set_storage_error (c, error, "list the items");
      return NULL;
    }
  return g_steal_pointer (&items);
}

GArray *
store_sql_list_items (StoreConnection *c, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_LIST_ITEMS);

  return read_items (c, stmt, error);
}

GArray *
store_sql_list_items_page (StoreConnection *c, const char *after, guint limit, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_LIST_ITEMS_PAGE);

  if (after != NULL)
    sqlite3_bind_text (stmt, 1, after, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, limit);
  return read_items (c, stmt, error);
}

static gboolean
insert_item (StoreConnection *c,
             const char *name,
             guint32 capacity,
             guint32 per_user_limit,
             const ReservedSaleWindow *window,
             GError **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  /* Not one of the kept statements: the fresh-database path runs this
   * before they are prepared. */
  if (sqlite3_prepare_v2 (c->db, statement_sql[STMT_INSERT_ITEM], -1, &stmt, NULL) != SQLITE_OK)
    return set_storage_error (c, error, "prepare the new item");
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, capacity);
  sqlite3_bind_int64 (stmt, 3, per_user_limit);
  sqlite3_bind_int64 (stmt, 4, window != NULL ? window->start : 0);
  sqlite3_bind_int64 (stmt, 5, window != NULL ? window->end : 0);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    set_storage_error (c, error, "create the item");
  else if (sqlite3_changes (c->db) == 0)
    {
      ReservedItem item = { 0 };
      g_autoptr(GError) local_error = NULL;

      /* Only a kept statement may be used to read it, and none of them
       * is prepared on the fresh-database path, where no name exists. */
      store_refuse_item_exists (error, name,
                                c->stmts[STMT_GET_ITEM] != NULL &&
                                  store_sql_get_item (c, name, &item, &local_error) &&
                                  item.retired);
      reserved_item_clear (&item);
    }
  else
    ok = TRUE;
  sqlite3_finalize (stmt);
  return ok;
}


gboolean
store_sql_restock (StoreConnection *c,
                   const char *name,
                   guint32 quantity,
                   guint32 *remaining,
                   GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_RESTOCK);
  ReservedItem item = { 0 };
  gboolean found = FALSE;

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, quantity);
  if (!step_row (c, stmt, &found, error, "restock the item"))
    return FALSE;
  if (found)
    {
      *remaining = (guint32) sqlite3_column_int64 (stmt, 0);
      return store_waitlist_promote (c, sqlite3_column_int64 (stmt, 1), remaining, error);
    }

  /* No row updated: either there is no such item or its capacity would
   * pass the limit; say which. */
  if (!store_sql_get_item (c, name, &item, error))
    return FALSE;
  store_refuse_restock (error, name, quantity, item.capacity);
  reserved_item_clear (&item);
  return FALSE;
}


gboolean
store_sql_create_item (StoreConnection *c,
                       const char *name,
                       guint32 capacity,
                       guint32 per_user_limit,
                       const ReservedSaleWindow *window,
                       guint32 offer_seconds,
                       GError **error)
{
  return insert_item (c, name, capacity, per_user_limit, window, error) &&
         (offer_seconds == 0 || store_waitlist_set_offer_seconds (c, name, offer_seconds, error));
}

gboolean
store_sql_retired_item (GError **error, const char *name)
{
  return store_refuse_retired (error, name);
}

/* Retiring a retired item changes nothing and succeeds. */
gboolean
store_sql_retire_item (StoreConnection *c, const char *name, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_RETIRE_ITEM);
  gboolean found = FALSE;

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  if (!step_row (c, stmt, &found, error, "retire the item"))
    return FALSE;
  if (!found)
    return store_refuse_no_such_item (error, name);
  return TRUE;
}

/* An update of a live item changed no row: there is no such item, or it
 * was retired; says which. FALSE. */
static gboolean
refuse_unchanged_item (StoreConnection *c, const char *name, GError **error)
{
  ReservedItem item = { 0 };

  if (!store_sql_get_item (c, name, &item, error))
    return FALSE;
  reserved_item_clear (&item);
  return store_sql_retired_item (error, name);
}

gboolean
store_sql_set_per_user_limit (StoreConnection *c, const char *name, guint32 limit, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_SET_PER_USER_LIMIT);
  gboolean found = FALSE;

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, limit);
  if (!step_row (c, stmt, &found, error, "set the per-user limit"))
    return FALSE;
  return found || refuse_unchanged_item (c, name, error);
}

/* --- sale windows -------------------------------------------------------------- */

gboolean
reserved_sale_window_contains (const ReservedSaleWindow *window, gint64 when)
{
  return (window->start == 0 || when >= window->start) && (window->end == 0 || when < window->end);
}

gboolean
store_sql_check_on_sale (const char *name, const ReservedSaleWindow *window, GError **error)
{
  gint64 now = reserved_clock_wall_now ();

  return reserved_sale_window_contains (window, now) ||
         store_refuse_not_on_sale (error, name, window, now);
}

gboolean
store_sql_set_sale_window (StoreConnection *c,
                           const char *name,
                           const ReservedSaleWindow *window,
                           GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_SET_SALE_WINDOW);
  gboolean found = FALSE;

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, window->start);
  sqlite3_bind_int64 (stmt, 3, window->end);
  if (!step_row (c, stmt, &found, error, "set the sale window"))
    return FALSE;
  return found || refuse_unchanged_item (c, name, error);
}

GArray *
store_sql_list_sale_windows (StoreConnection *c, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (c, STMT_LIST_SALE_WINDOWS);
  g_autoptr(GArray) items = g_array_new (FALSE, TRUE, sizeof (ReservedItem));
  int rc;

  g_array_set_clear_func (items, (GDestroyNotify) reserved_item_clear);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      ReservedItem item = {
        .name = column_strdup (stmt, 0),
        .sale = { .start = sqlite3_column_int64 (stmt, 1), .end = sqlite3_column_int64 (stmt, 2) },
      };
      g_array_append_val (items, item);
    }
  if (rc != SQLITE_DONE)
    {
      set_storage_error (c, error, "list the sale windows");
      return NULL;
    }
  return g_steal_pointer (&items);
}

/* --- for the other bodies (reserved-store-holds.c) ---------------------------- */

gboolean
store_sql_same_request (sqlite3_stmt *stmt, const char *item, const char *user, guint32 quantity)
{
  return g_strcmp0 ((const char *) sqlite3_column_text (stmt, 1), item) == 0 &&
         g_strcmp0 ((const char *) sqlite3_column_text (stmt, 2), user) == 0 &&
         (guint32) sqlite3_column_int64 (stmt, 3) == quantity;
}

/* A reused key is refused so that it cannot buy (or hold, or queue) twice. */
gboolean
store_sql_request_reused (sqlite3_stmt *stmt,
                          const char *request_id,
                          const char *what,
                          GError **error)
{
  return store_refuse_request_reused (error, request_id, what, sqlite3_column_int64 (stmt, 0),
                                      sqlite3_column_int64 (stmt, 3),
                                      (const char *) sqlite3_column_text (stmt, 1),
                                      (const char *) sqlite3_column_text (stmt, 2));
}

gboolean
store_sql_step_row (StoreConnection *c,
                    sqlite3_stmt *stmt,
                    gboolean *found,
                    GError **error,
                    const char *doing)
{
  return step_row (c, stmt, found, error, doing);
}

gboolean
store_sql_step_done (StoreConnection *c, sqlite3_stmt *stmt, GError **error, const char *doing)
{
  return step_done (c, stmt, error, doing);
}

gboolean
store_sql_storage_error (StoreConnection *c, GError **error, const char *doing)
{
  return set_storage_error (c, error, doing);
}
