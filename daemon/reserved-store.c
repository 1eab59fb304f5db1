#define G_LOG_DOMAIN "reserved-store"

#include "reserved-store.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserve-validate.h"

/* "RSVD": marks a file as a reserved database, so that another
 * application's SQLite file is refused instead of migrated. */
#define RESERVED_APPLICATION_ID 0x52535644
#define DEFAULT_BUSY_TIMEOUT_MS 2000

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
};

typedef enum {
  STMT_BEGIN,
  STMT_COMMIT,
  STMT_ROLLBACK,
  STMT_FIND_REQUEST,
  STMT_FIND_ITEM_FOR_SALE,
  STMT_ACTIVE_UNITS_OF_CUSTOMER,
  STMT_TAKE_STOCK,
  STMT_INSERT_ORDER,
  STMT_ITEM_REMAINING,
  STMT_GET_ORDER,
  STMT_MARK_CANCELLED,
  STMT_RETURN_STOCK,
  STMT_GET_ITEM,
  STMT_LIST_ITEMS,
  STMT_LIST_ORDERS_OF_CUSTOMER,
  STMT_LIST_ORDERS_ALL,
  STMT_INSERT_ITEM,
  STMT_RESTOCK,
  N_STMTS
} StoreStmtId;

static const char *const statement_sql[N_STMTS] = {
  [STMT_BEGIN] = "BEGIN IMMEDIATE",
  [STMT_COMMIT] = "COMMIT",
  [STMT_ROLLBACK] = "ROLLBACK",
  [STMT_FIND_REQUEST] =
    "SELECT o.id, i.name, o.customer, o.quantity, i.remaining"
    " FROM orders o JOIN items i ON i.id = o.item_id"
    " WHERE o.caller_uid = ?1 AND o.request_id = ?2",
  [STMT_FIND_ITEM_FOR_SALE] =
    "SELECT id, remaining, per_user_limit FROM items WHERE name = ?1",
  [STMT_ACTIVE_UNITS_OF_CUSTOMER] =
    "SELECT COALESCE(SUM(quantity), 0) FROM orders"
    " WHERE item_id = ?1 AND customer = ?2 AND cancelled = 0",
  [STMT_TAKE_STOCK] =
    "UPDATE items SET remaining = remaining - ?2"
    " WHERE id = ?1 AND remaining >= ?2 RETURNING remaining",
  [STMT_INSERT_ORDER] =
    "INSERT INTO orders (item_id, customer, quantity, caller_uid, request_id, created)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  [STMT_ITEM_REMAINING] = "SELECT remaining FROM items WHERE name = ?1",
  [STMT_GET_ORDER] =
    "SELECT o.id, i.name, o.customer, o.quantity, o.created, o.caller_uid, o.cancelled, o.item_id"
    " FROM orders o JOIN items i ON i.id = o.item_id WHERE o.id = ?1",
  [STMT_MARK_CANCELLED] =
    "UPDATE orders SET cancelled = 1 WHERE id = ?1 AND cancelled = 0",
  [STMT_RETURN_STOCK] =
    "UPDATE items SET remaining = remaining + ?2 WHERE id = ?1 RETURNING remaining",
  [STMT_GET_ITEM] =
    "SELECT name, capacity, remaining, per_user_limit,"
    " (SELECT COALESCE(SUM(quantity), 0) FROM orders"
    "   WHERE item_id = items.id AND cancelled = 0)"
    " FROM items WHERE name = ?1",
  [STMT_LIST_ITEMS] =
    "SELECT name, capacity, remaining, per_user_limit FROM items ORDER BY name",
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
    "INSERT INTO items (name, capacity, remaining, per_user_limit)"
    " VALUES (?1, ?2, ?2, ?3) ON CONFLICT (name) DO NOTHING",
  [STMT_RESTOCK] =
    "UPDATE items SET capacity = capacity + ?2, remaining = remaining + ?2"
    " WHERE name = ?1 AND capacity + ?2 <= " G_STRINGIFY (1000000000)
    " RETURNING remaining",
};

struct _ReservedStore {
  GObject       parent_instance;
  char         *path;
  sqlite3      *db;
  sqlite3_stmt *stmts[N_STMTS];
};

G_DEFINE_TYPE (ReservedStore, reserved_store, G_TYPE_OBJECT)

/* A prepared statement borrowed for one use: reset and unbound when the
 * g_autoptr holding it goes out of scope, so no path can leave it busy. */
typedef sqlite3_stmt StoreStmt;

static void
store_stmt_release (StoreStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreStmt, store_stmt_release)

static StoreStmt *
store_stmt (ReservedStore *self, StoreStmtId id)
{
  return self->stmts[id];
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

static gboolean
set_storage_error (ReservedStore *self, GError **error, const char *doing)
{
  int code = sqlite3_extended_errcode (self->db);

  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
               "could not %s in %s: %s (SQLite error %d)",
               doing, self->path, sqlite3_errmsg (self->db), code);
  return FALSE;
}

/* Steps a statement that must finish without returning rows. */
static gboolean
step_done (ReservedStore *self, StoreStmt *stmt, GError **error, const char *doing)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return set_storage_error (self, error, doing);
  return TRUE;
}

/* Steps a statement that returns at most one row: TRUE with *found set. */
static gboolean
step_row (ReservedStore   *self,
          StoreStmt       *stmt,
          gboolean        *found,
          GError         **error,
          const char      *doing)
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
  return set_storage_error (self, error, doing);
}

static char *
column_strdup (sqlite3_stmt *stmt, int column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

/* --- transactions ---------------------------------------------------------- */

static gboolean
transaction_begin (ReservedStore *self, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (self, STMT_BEGIN);

  return step_done (self, stmt, error, "start a write transaction");
}

static void
transaction_rollback (ReservedStore *self)
{
  g_autoptr(StoreStmt) stmt = NULL;

  /* A failed COMMIT or an I/O error may already have ended the
   * transaction; rolling back then would only log a spurious error. */
  if (sqlite3_get_autocommit (self->db))
    return;
  stmt = store_stmt (self, STMT_ROLLBACK);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    g_warning ("Could not roll back a transaction in %s: %s",
               self->path, sqlite3_errmsg (self->db));
}

static gboolean
transaction_commit (ReservedStore *self, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (self, STMT_COMMIT);

  if (!step_done (self, stmt, error, "commit"))
    {
      transaction_rollback (self);
      return FALSE;
    }
  return TRUE;
}

/* Ends a write transaction: commits when the body succeeded, otherwise
 * rolls back and passes the body's error on. */
static gboolean
transaction_finish (ReservedStore *self, gboolean body_ok, GError **error)
{
  if (!body_ok)
    {
      transaction_rollback (self);
      return FALSE;
    }
  return transaction_commit (self, error);
}

/* --- opening --------------------------------------------------------------- */

static gboolean
exec_sql (ReservedStore *self, const char *sql, GError **error, const char *doing)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return set_storage_error (self, error, doing);
  return TRUE;
}

static gboolean
query_int (ReservedStore *self, const char *sql, gint64 *value, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                   "%s: cannot read the database (%s): %s",
                   self->path, sql, sqlite3_errmsg (self->db));
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
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "%s: the folder %s does not exist", path, folder);
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
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is not a regular file", path);
      return FALSE;
    }
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s cannot be read: %s", path, g_strerror (saved));
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
 * reserved, and structurally sound. */
static gboolean
check_existing (ReservedStore *self, GError **error)
{
  gint64 application_id = 0;
  gint64 version = 0;
  sqlite3_stmt *stmt = NULL;
  g_autoptr(GString) problems = g_string_new (NULL);
  int rc;

  if (!query_int (self, "PRAGMA application_id", &application_id, error))
    return FALSE;
  if (application_id != RESERVED_APPLICATION_ID)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is not a reserved database: it belongs to another application "
                   "(SQLite application_id %" G_GINT64_FORMAT ")",
                   self->path, application_id);
      return FALSE;
    }
  if (!query_int (self, "PRAGMA user_version", &version, error))
    return FALSE;
  if (version > (gint64) G_N_ELEMENTS (migrations))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "%s has schema version %" G_GINT64_FORMAT
                   ", newer than this reserved understands (%u)",
                   self->path, version, (guint) G_N_ELEMENTS (migrations));
      return FALSE;
    }

  rc = sqlite3_prepare_v2 (self->db, "PRAGMA quick_check", -1, &stmt, NULL);
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
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s failed its integrity check: %s", self->path, sqlite3_errmsg (self->db));
      return FALSE;
    }
  if (problems->len > 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s failed its integrity check: %s", self->path, problems->str);
      return FALSE;
    }
  return TRUE;
}

static gboolean
insert_item (ReservedStore *self,
             const char    *name,
             guint32        capacity,
             guint32        per_user_limit,
             GError       **error);

/* Runs the migrations the file lacks in one transaction, so a crash
 * leaves either the old schema or the new one. On a fresh database the
 * default item is created in the same transaction. */
static gboolean
migrate (ReservedStore *self,
         gboolean       fresh,
         const char    *default_item,
         guint32        default_capacity,
         GError       **error)
{
  gint64 version = 0;
  gboolean ok = TRUE;

  if (!exec_sql (self, "BEGIN IMMEDIATE", error, "start the schema migration"))
    return FALSE;
  ok = query_int (self, "PRAGMA user_version", &version, error);
  for (gint64 v = version; ok && v < (gint64) G_N_ELEMENTS (migrations); v++)
    {
      g_autofree char *doing = g_strdup_printf ("migrate the schema to version %" G_GINT64_FORMAT, v + 1);
      g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %" G_GINT64_FORMAT, v + 1);

      ok = exec_sql (self, migrations[v], error, doing) &&
           exec_sql (self, set_version, error, doing);
      if (ok)
        g_info ("Migrated %s to schema version %" G_GINT64_FORMAT, self->path, v + 1);
    }
  if (ok && fresh)
    {
      g_autofree char *set_id = g_strdup_printf ("PRAGMA application_id = %d", RESERVED_APPLICATION_ID);
      ok = exec_sql (self, set_id, error, "mark the database as reserved's") &&
           insert_item (self, default_item, default_capacity, 0, error);
    }
  if (!ok)
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return exec_sql (self, "COMMIT", error, "commit the schema migration");
}

static gboolean
configure_connection (ReservedStore *self, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  g_autofree char *mode = NULL;

  /* WAL lets readers go on while a purchase commits; FULL syncs the WAL on
   * every commit, so an acknowledged order survives power loss. */
  if (sqlite3_prepare_v2 (self->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    mode = column_strdup (stmt, 0);
  sqlite3_finalize (stmt);
  if (g_strcmp0 (mode, "wal") != 0)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                   "%s: cannot switch to write-ahead logging (the folder must be "
                   "writable for the -wal and -shm files): %s",
                   self->path, sqlite3_errmsg (self->db));
      return FALSE;
    }
  return exec_sql (self, "PRAGMA synchronous = FULL", error, "set synchronous=FULL") &&
         exec_sql (self, "PRAGMA foreign_keys = ON", error, "enable foreign keys");
}

static gboolean
prepare_statements (ReservedStore *self, GError **error)
{
  for (guint i = 0; i < N_STMTS; i++)
    {
      if (sqlite3_prepare_v3 (self->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                              &self->stmts[i], NULL) != SQLITE_OK)
        return set_storage_error (self, error, "prepare a statement");
    }
  return TRUE;
}

ReservedStore *
reserved_store_open (const char *path,
                     const char *default_item,
                     guint32     default_capacity,
                     GError    **error)
{
  g_autoptr(ReservedStore) self = g_object_new (RESERVED_TYPE_STORE, NULL);
  gboolean fresh = FALSE;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  self->path = g_strdup (path);
  if (!probe_file (path, &fresh, error))
    return NULL;
  if (fresh)
    flags |= SQLITE_OPEN_CREATE;

  rc = sqlite3_open_v2 (path, &self->db, flags, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                   "cannot open %s: %s", path,
                   self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, DEFAULT_BUSY_TIMEOUT_MS);

  if (sqlite3_db_readonly (self->db, "main") == 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s is read-only: reserved must be able to write it", path);
      return NULL;
    }
  if (!fresh && !check_existing (self, error))
    return NULL;
  /* Migrate before switching to WAL: a new file then stays empty until
   * the first transaction commits, so a crash leaves a fresh database
   * instead of an unmarked one that would be refused. */
  if (!migrate (self, fresh, default_item, default_capacity, error))
    return NULL;
  if (!configure_connection (self, error) || !prepare_statements (self, error))
    return NULL;

  g_debug ("Opened %s%s", path, fresh ? " (new)" : "");
  return g_steal_pointer (&self);
}

const char *
reserved_store_get_path (ReservedStore *self)
{
  return self->path;
}

void
reserved_store_set_busy_timeout (ReservedStore *self, guint milliseconds)
{
  sqlite3_busy_timeout (self->db, (int) MIN (milliseconds, (guint) G_MAXINT));
}

/* --- buying ---------------------------------------------------------------- */

/* A repeated request_id: the same purchase is answered with its first
 * order; a different one is refused so a reused key cannot buy twice. */
static gboolean
find_request (ReservedStore          *self,
              const ReservedPurchase *purchase,
              ReservedReceipt        *receipt,
              gboolean               *found,
              GError                **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (self, STMT_FIND_REQUEST);

  sqlite3_bind_int64 (stmt, 1, purchase->caller);
  sqlite3_bind_text (stmt, 2, purchase->request_id, -1, SQLITE_STATIC);
  if (!step_row (self, stmt, found, error, "look up the request_id"))
    return FALSE;
  if (!*found)
    return TRUE;

  if (g_strcmp0 ((const char *) sqlite3_column_text (stmt, 1), purchase->item) != 0 ||
      g_strcmp0 ((const char *) sqlite3_column_text (stmt, 2), purchase->user) != 0 ||
      (guint32) sqlite3_column_int64 (stmt, 3) != purchase->quantity)
    {
      g_autofree char *id = reserve_describe_text (purchase->request_id);
      g_autofree char *user = reserve_describe_text ((const char *) sqlite3_column_text (stmt, 2));

      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
                   "request_id %s was already used for order %" G_GINT64_FORMAT
                   " (%" G_GINT64_FORMAT " × %s for %s); a retry must repeat the same item, user and quantity",
                   id, (gint64) sqlite3_column_int64 (stmt, 0), (gint64) sqlite3_column_int64 (stmt, 3),
                   (const char *) sqlite3_column_text (stmt, 1), user);
      return FALSE;
    }
  receipt->order = (guint64) sqlite3_column_int64 (stmt, 0);
  receipt->remaining = (guint32) sqlite3_column_int64 (stmt, 4);
  receipt->replayed = TRUE;
  return TRUE;
}

static gboolean
check_per_user_limit (ReservedStore          *self,
                      const ReservedPurchase *purchase,
                      gint64                  item_id,
                      guint32                 limit,
                      GError                **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (self, STMT_ACTIVE_UNITS_OF_CUSTOMER);
  gboolean found = FALSE;
  gint64 held;

  sqlite3_bind_int64 (stmt, 1, item_id);
  sqlite3_bind_text (stmt, 2, purchase->user, -1, SQLITE_STATIC);
  if (!step_row (self, stmt, &found, error, "count the customer's units"))
    return FALSE;
  held = found ? sqlite3_column_int64 (stmt, 0) : 0;
  if (held + purchase->quantity > limit)
    {
      g_autofree char *user = reserve_describe_text (purchase->user);

      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_LIMIT_EXCEEDED,
                   "%s may hold at most %u × %s; %s already holds %" G_GINT64_FORMAT
                   " and asked for %u more",
                   user, limit, purchase->item, user, held, purchase->quantity);
      return FALSE;
    }
  return TRUE;
}

static gboolean
buy_in_transaction (ReservedStore          *self,
                    const ReservedPurchase *purchase,
                    ReservedReceipt        *receipt,
                    GError                **error)
{
  g_autoptr(StoreStmt) item = store_stmt (self, STMT_FIND_ITEM_FOR_SALE);
  g_autoptr(StoreStmt) take = store_stmt (self, STMT_TAKE_STOCK);
  g_autoptr(StoreStmt) insert = store_stmt (self, STMT_INSERT_ORDER);
  gboolean found = FALSE;
  gint64 item_id;
  guint32 limit;

  if (purchase->request_id != NULL)
    {
      if (!find_request (self, purchase, receipt, &found, error))
        return FALSE;
      if (found)
        return TRUE;
    }

  sqlite3_bind_text (item, 1, purchase->item, -1, SQLITE_STATIC);
  if (!step_row (self, item, &found, error, "look up the item"))
    return FALSE;
  if (!found)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ITEM,
                   "there is no item named “%s”", purchase->item);
      return FALSE;
    }
  item_id = sqlite3_column_int64 (item, 0);
  limit = (guint32) sqlite3_column_int64 (item, 2);

  if (limit > 0 && !check_per_user_limit (self, purchase, item_id, limit, error))
    return FALSE;

  /* The conditional update is what makes overselling impossible: the
   * check and the decrement are one statement inside the transaction. */
  sqlite3_bind_int64 (take, 1, item_id);
  sqlite3_bind_int64 (take, 2, purchase->quantity);
  if (!step_row (self, take, &found, error, "take the stock"))
    return FALSE;
  if (!found)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_SOLD_OUT,
                   "%s is sold out: %" G_GINT64_FORMAT " left, %u asked for",
                   purchase->item, (gint64) sqlite3_column_int64 (item, 1), purchase->quantity);
      return FALSE;
    }
  receipt->remaining = (guint32) sqlite3_column_int64 (take, 0);

  sqlite3_bind_int64 (insert, 1, item_id);
  sqlite3_bind_text (insert, 2, purchase->user, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 3, purchase->quantity);
  sqlite3_bind_int64 (insert, 4, purchase->caller);
  if (purchase->request_id != NULL)
    sqlite3_bind_text (insert, 5, purchase->request_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 6, g_get_real_time ());
  if (!step_done (self, insert, error, "record the order"))
    return FALSE;
  receipt->order = (guint64) sqlite3_last_insert_rowid (self->db);
  receipt->replayed = FALSE;
  return TRUE;
}

gboolean
reserved_store_buy (ReservedStore          *self,
                    const ReservedPurchase *purchase,
                    ReservedReceipt        *receipt,
                    GError                **error)
{
  gboolean ok;

  g_return_val_if_fail (RESERVED_IS_STORE (self), FALSE);

  if (!transaction_begin (self, error))
    return FALSE;
  ok = buy_in_transaction (self, purchase, receipt, error);
  return transaction_finish (self, ok, error);
}

/* --- orders ---------------------------------------------------------------- */

static void
read_order_row (sqlite3_stmt *stmt, ReservedOrder *out)
{
  out->id = (guint64) sqlite3_column_int64 (stmt, 0);
  out->item = column_strdup (stmt, 1);
  out->user = column_strdup (stmt, 2);
  out->quantity = (guint32) sqlite3_column_int64 (stmt, 3);
  out->created = sqlite3_column_int64 (stmt, 4);
  out->caller = (uid_t) sqlite3_column_int64 (stmt, 5);
  out->cancelled = sqlite3_column_int64 (stmt, 6) != 0;
}

static gboolean
no_such_order (GError **error, guint64 order)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ORDER,
               "there is no order %" G_GUINT64_FORMAT, order);
  return FALSE;
}

gboolean
reserved_store_get_order (ReservedStore *self,
                          guint64        order,
                          ReservedOrder *out,
                          GError       **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (self, STMT_GET_ORDER);
  gboolean found = FALSE;

  if (order > G_MAXINT64)
    return no_such_order (error, order);
  sqlite3_bind_int64 (stmt, 1, (gint64) order);
  if (!step_row (self, stmt, &found, error, "look up the order"))
    return FALSE;
  if (!found)
    return no_such_order (error, order);
  read_order_row (stmt, out);
  return TRUE;
}

static gboolean
cancel_in_transaction (ReservedStore *self,
                       guint64        order,
                       char         **item_out,
                       guint32       *remaining,
                       GError       **error)
{
  g_autoptr(StoreStmt) get = store_stmt (self, STMT_GET_ORDER);
  g_autoptr(StoreStmt) mark = store_stmt (self, STMT_MARK_CANCELLED);
  g_autoptr(StoreStmt) give_back = store_stmt (self, STMT_RETURN_STOCK);
  gboolean found = FALSE;

  if (order > G_MAXINT64)
    return no_such_order (error, order);
  sqlite3_bind_int64 (get, 1, (gint64) order);
  if (!step_row (self, get, &found, error, "look up the order"))
    return FALSE;
  if (!found)
    return no_such_order (error, order);
  if (sqlite3_column_int64 (get, 6) != 0)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_ALREADY_CANCELLED,
                   "order %" G_GUINT64_FORMAT " is already cancelled", order);
      return FALSE;
    }

  sqlite3_bind_int64 (mark, 1, (gint64) order);
  if (!step_done (self, mark, error, "mark the order cancelled"))
    return FALSE;
  sqlite3_bind_int64 (give_back, 1, sqlite3_column_int64 (get, 7));
  sqlite3_bind_int64 (give_back, 2, sqlite3_column_int64 (get, 3));
  if (!step_row (self, give_back, &found, error, "return the units to stock"))
    return FALSE;
  if (!found)
    return set_storage_error (self, error, "find the order's item");
  *remaining = (guint32) sqlite3_column_int64 (give_back, 0);
  *item_out = column_strdup (get, 1);
  return TRUE;
}

gboolean
reserved_store_cancel (ReservedStore *self,
                       guint64        order,
                       char         **item_out,
                       guint32       *remaining,
                       GError       **error)
{
  g_autofree char *item = NULL;
  gboolean ok;

  if (!transaction_begin (self, error))
    return FALSE;
  ok = cancel_in_transaction (self, order, &item, remaining, error);
  if (!transaction_finish (self, ok, error))
    return FALSE;
  *item_out = g_steal_pointer (&item);
  return TRUE;
}

GArray *
reserved_store_list_orders (ReservedStore *self,
                            const char    *user,
                            const uid_t   *only_caller,
                            GError       **error)
{
  g_autoptr(StoreStmt) stmt =
    store_stmt (self, user != NULL ? STMT_LIST_ORDERS_OF_CUSTOMER : STMT_LIST_ORDERS_ALL);
  g_autoptr(GArray) orders = g_array_new (FALSE, TRUE, sizeof (ReservedOrder));
  int rc;

  g_array_set_clear_func (orders, (GDestroyNotify) reserved_order_clear);
  if (user != NULL)
    sqlite3_bind_text (stmt, 1, user, -1, SQLITE_STATIC);
  if (only_caller != NULL)
    sqlite3_bind_int64 (stmt, 2, *only_caller);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      ReservedOrder order = { 0 };
      read_order_row (stmt, &order);
      g_array_append_val (orders, order);
    }
  if (rc != SQLITE_DONE)
    {
      set_storage_error (self, error, "list the orders");
      return NULL;
    }
  return g_steal_pointer (&orders);
}

/* --- items ----------------------------------------------------------------- */

static gboolean
no_such_item (GError **error, const char *name)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ITEM,
               "there is no item named “%s”", name);
  return FALSE;
}

gboolean
reserved_store_get_item (ReservedStore *self,
                         const char    *name,
                         ReservedItem  *out,
                         GError       **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (self, STMT_GET_ITEM);
  gboolean found = FALSE;

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  if (!step_row (self, stmt, &found, error, "look up the item"))
    return FALSE;
  if (!found)
    return no_such_item (error, name);
  out->name = column_strdup (stmt, 0);
  out->capacity = (guint32) sqlite3_column_int64 (stmt, 1);
  out->remaining = (guint32) sqlite3_column_int64 (stmt, 2);
  out->per_user_limit = (guint32) sqlite3_column_int64 (stmt, 3);
  out->sold = (guint32) sqlite3_column_int64 (stmt, 4);
  return TRUE;
}

GArray *
reserved_store_list_items (ReservedStore *self,
                           GError       **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (self, STMT_LIST_ITEMS);
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
      set_storage_error (self, error, "list the items");
      return NULL;
    }
  return g_steal_pointer (&items);
}

static gboolean
insert_item (ReservedStore *self,
             const char    *name,
             guint32        capacity,
             guint32        per_user_limit,
             GError       **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  /* Not one of the kept statements: the fresh-database path runs this
   * before they are prepared. */
  if (sqlite3_prepare_v2 (self->db, statement_sql[STMT_INSERT_ITEM], -1, &stmt, NULL) != SQLITE_OK)
    return set_storage_error (self, error, "prepare the new item");
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, capacity);
  sqlite3_bind_int64 (stmt, 3, per_user_limit);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    set_storage_error (self, error, "create the item");
  else if (sqlite3_changes (self->db) == 0)
    g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_ITEM_EXISTS,
                 "an item named “%s” already exists", name);
  else
    ok = TRUE;
  sqlite3_finalize (stmt);
  return ok;
}

gboolean
reserved_store_create_item (ReservedStore *self,
                            const char    *name,
                            guint32        capacity,
                            guint32        per_user_limit,
                            GError       **error)
{
  gboolean ok;

  if (!transaction_begin (self, error))
    return FALSE;
  ok = insert_item (self, name, capacity, per_user_limit, error);
  return transaction_finish (self, ok, error);
}

static gboolean
restock_in_transaction (ReservedStore *self,
                        const char    *name,
                        guint32        quantity,
                        guint32       *remaining,
                        GError       **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt (self, STMT_RESTOCK);
  ReservedItem item = { 0 };
  gboolean found = FALSE;

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, quantity);
  if (!step_row (self, stmt, &found, error, "restock the item"))
    return FALSE;
  if (found)
    {
      *remaining = (guint32) sqlite3_column_int64 (stmt, 0);
      return TRUE;
    }

  /* No row updated: either there is no such item or its capacity would
   * pass the limit; say which. */
  if (!reserved_store_get_item (self, name, &item, error))
    return FALSE;
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
               "restocking %s by %u would take its capacity from %u to %" G_GUINT64_FORMAT
               "; allowed is at most %u",
               name, quantity, item.capacity, (guint64) item.capacity + quantity,
               RESERVE_CAPACITY_MAX);
  reserved_item_clear (&item);
  return FALSE;
}

gboolean
reserved_store_restock (ReservedStore *self,
                        const char    *name,
                        guint32        quantity,
                        guint32       *remaining,
                        GError       **error)
{
  gboolean ok;

  if (!transaction_begin (self, error))
    return FALSE;
  ok = restock_in_transaction (self, name, quantity, remaining, error);
  return transaction_finish (self, ok, error);
}

/* --- life cycle ------------------------------------------------------------ */

static void
reserved_store_finalize (GObject *object)
{
  ReservedStore *self = RESERVED_STORE (object);

  for (guint i = 0; i < N_STMTS; i++)
    sqlite3_finalize (self->stmts[i]);
  if (self->db != NULL && sqlite3_close (self->db) != SQLITE_OK)
    g_warning ("Could not close %s cleanly: %s", self->path, sqlite3_errmsg (self->db));
  g_free (self->path);

  G_OBJECT_CLASS (reserved_store_parent_class)->finalize (object);
}

static void
reserved_store_class_init (ReservedStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = reserved_store_finalize;
}

static void
reserved_store_init (ReservedStore *self)
{
}
