/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SQL behind the store: one SQLite connection with its prepared
 * statements, the schema and its migrations, and each operation as a body
 * that runs inside a transaction the caller opened. Private to the store:
 * the service never sees it. */
#pragma once

#include <sqlite3.h>

#include "reserved-store.h"

G_BEGIN_DECLS

typedef enum {
  STMT_BEGIN,
  STMT_COMMIT,
  STMT_ROLLBACK,
  STMT_SAVEPOINT,
  STMT_RELEASE,
  STMT_ROLLBACK_TO,
  STMT_FIND_REQUEST,
  STMT_FIND_ITEM_FOR_SALE,
  STMT_ACTIVE_UNITS_OF_CUSTOMER,
  STMT_TAKE_STOCK,
  STMT_INSERT_ORDER,
  STMT_GET_ORDER,
  STMT_MARK_CANCELLED,
  STMT_RETURN_STOCK,
  STMT_GET_ITEM,
  STMT_LIST_ITEMS,
  STMT_LIST_ORDERS_OF_CUSTOMER,
  STMT_LIST_ORDERS_ALL,
  STMT_INSERT_ITEM,
  STMT_RESTOCK,
  STMT_LIST_ORDERS_PAGE,
  STMT_LIST_ITEMS_PAGE,
  STMT_RETIRE_ITEM,
  STMT_SET_PER_USER_LIMIT,
  STMT_SET_SALE_WINDOW,
  STMT_LIST_SALE_WINDOWS,
  N_STMTS
} StoreStmtId;

typedef struct {
  const char *path;      /* borrowed from the store */
  guint busy_timeout_ms; /* set before opening */
  sqlite3 *db;
  sqlite3_stmt *stmts[N_STMTS];
  sqlite3_stmt *hold_stmts[24];     /* reserved-store-holds.c's, prepared on first use */
  sqlite3_stmt *waitlist_stmts[24]; /* reserved-store-waitlist.c's, likewise */
  /* Set by the writer for the operation it runs: holds the operation
   * ended (element-type ReservedEndedHold), kept only if it commits. */
  GArray *ended;
  /* Some statement failed (an I/O error, a damaged page, a lock): this
   * life does not vouch for the file at its end. */
  gboolean failed;
  /* Likewise, the waitlist offers it made (element-type ReservedOffer). */
  GArray *offered;
} StoreConnection;

/* A prepared statement borrowed for one use: reset and unbound when the
 * g_autoptr holding it goes out of scope, so no path can leave it busy. */
typedef sqlite3_stmt StoreStmt;
void store_stmt_release (StoreStmt *stmt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreStmt, store_stmt_release)

/* The statement of @sql kept in @slot, prepared on first use so that a
 * connection pays only for what it runs; NULL with @error set when SQLite
 * refuses it. */
StoreStmt *
store_sql_prepare_lazily (StoreConnection *c, sqlite3_stmt **slot, const char *sql, GError **error);

/* Opens the file for the first connection: a fresh database is first
 * built whole (schema, mark, default item, WAL) and renamed into place; an
 * existing file is checked without writing to it, then migrated. */
gboolean store_connection_open_primary (StoreConnection *c,
                                        const char *default_item,
                                        guint32 default_capacity,
                                        GError **error);
/* Opens a further connection to a database the primary one prepared. */
gboolean store_connection_open_secondary (StoreConnection *c, GError **error);
/* TRUE if it closed, and nothing it ran failed. */
gboolean store_connection_close (StoreConnection *c);
/* fsync()s the file or folder at @path, opened with @flags. */
gboolean store_sql_sync_path (const char *path, int flags, GError **error);

/* Transactions and savepoints. rollback ignores a transaction SQLite
 * already ended itself (after an I/O error, say). */
gboolean store_sql_begin (StoreConnection *c, GError **error);
gboolean store_sql_commit (StoreConnection *c, GError **error);
void store_sql_rollback (StoreConnection *c);
/* After a failed COMMIT: its frames may sit in the write-ahead log with a
 * valid commit mark, where recovery after a crash would find them. This
 * checkpoints what was committed and empties the log. */
gboolean store_sql_clear_log (StoreConnection *c, GError **error);
gboolean store_sql_savepoint (StoreConnection *c, GError **error);
gboolean store_sql_release (StoreConnection *c, GError **error);
gboolean store_sql_rollback_to (StoreConnection *c, GError **error);
gboolean store_sql_in_transaction (StoreConnection *c);

/* Write bodies: run inside a transaction. */
gboolean store_sql_buy (StoreConnection *c,
                        const ReservedPurchase *purchase,
                        ReservedReceipt *receipt,
                        GError **error);
gboolean store_sql_cancel (StoreConnection *c,
                           guint64 order,
                           char **item_out,
                           guint32 *remaining,
                           GError **error);
gboolean store_sql_create_item (StoreConnection *c,
                                const char *name,
                                guint32 capacity,
                                guint32 per_user_limit,
                                const ReservedSaleWindow *window, /* nullable */
                                guint32 offer_seconds,
                                GError **error);
gboolean store_sql_restock (StoreConnection *c,
                            const char *name,
                            guint32 quantity,
                            guint32 *remaining,
                            GError **error);
gboolean store_sql_retire_item (StoreConnection *c, const char *name, GError **error);
gboolean
store_sql_set_per_user_limit (StoreConnection *c, const char *name, guint32 limit, GError **error);
gboolean store_sql_set_sale_window (StoreConnection *c,
                                    const char *name,
                                    const ReservedSaleWindow *window,
                                    GError **error);
/* NotOnSale, with when the sale opens or closed, unless @window holds the
 * wall clock's now (reserved_clock_wall_now()). */
gboolean
store_sql_check_on_sale (const char *name, const ReservedSaleWindow *window, GError **error);
/* (element-type ReservedItem) the items not retired that have a window:
 * name and sale only. */
GArray *store_sql_list_sale_windows (StoreConnection *c, GError **error);
/* Sets the NoSuchItem a retired item is refused with; FALSE. */
gboolean store_sql_retired_item (GError **error, const char *name);

/* Units of @user's orders, live holds and waiting entries of @item_id:
 * what the per-user limit counts. */
gboolean store_sql_units_of_customer (StoreConnection *c,
                                      gint64 item_id,
                                      const char *user,
                                      gint64 *units,
                                      GError **error);
/* LimitExceeded when @user asking for @quantity more of @item would pass
 * @limit (0: none). */
gboolean store_sql_check_per_user_limit (StoreConnection *c,
                                         gint64 item_id,
                                         const char *item,
                                         const char *user,
                                         guint32 quantity,
                                         guint32 limit,
                                         GError **error);

/* An item as a purchase, a hold or a waitlist entry finds it. */
typedef struct {
  gint64 id;
  gint64 capacity;
  guint32 per_user_limit;
  ReservedSaleWindow sale;
} StoreSellableItem;

/* Looks up the item a purchase, a hold or a waitlist entry is for:
 * NoSuchItem when there is none or it is retired. Whether it is on sale
 * now is the caller's next question (store_sql_check_on_sale), asked
 * where the precedence of its other errors puts it. */
gboolean store_sql_find_sellable_item (StoreConnection *c,
                                       const char *name,
                                       StoreSellableItem *item,
                                       GError **error);

/* Reads: each one statement, so each sees one consistent snapshot. */
gboolean
store_sql_get_order (StoreConnection *c, guint64 order, ReservedOrder *out, GError **error);
gboolean
store_sql_get_item (StoreConnection *c, const char *name, ReservedItem *out, GError **error);
GArray *store_sql_list_items (StoreConnection *c, GError **error);
/* At most @max_rows (G_MAXUINT: all) orders, so a caller that bounds its
 * reply can ask for one past the bound and never hold more. */
GArray *store_sql_list_orders (StoreConnection *c,
                               const char *user,
                               const uid_t *only_caller,
                               guint max_rows,
                               GError **error);
GArray *
store_sql_list_orders_page (StoreConnection *c, const ReservedOrderQuery *query, GError **error);
/* At most @limit items named after @after (NULL: from the first), by name. */
GArray *
store_sql_list_items_page (StoreConnection *c, const char *after, guint limit, GError **error);

/* Steps @stmt (bound already) to its end, reading each row with
 * @read_row into a new element of an array of @element_size bytes whose
 * elements @clear frees; at most @max_rows (G_MAXUINT: all). NULL with
 * @error (saying it could not @doing) when SQLite fails. */
typedef void (*StoreReadRow) (sqlite3_stmt *stmt, gpointer element);
GArray *store_sql_read_rows (StoreConnection *c,
                             sqlite3_stmt *stmt,
                             guint element_size,
                             GDestroyNotify clear,
                             StoreReadRow read_row,
                             guint max_rows,
                             const char *doing,
                             GError **error);

/* A repeated request_id, whose first request @stmt is on, with columns
 * (id, item, user, quantity): whether this request is the same one. */
gboolean
store_sql_same_request (sqlite3_stmt *stmt, const char *item, const char *user, guint32 quantity);
/* Sets the InvalidArgument of @request_id reused for another request than
 * its first @what ("order", "hold"), which @stmt is on; FALSE. */
gboolean store_sql_request_reused (sqlite3_stmt *stmt,
                                   const char *request_id,
                                   const char *what,
                                   GError **error);

/* For the bodies in other files: as their static namesakes. */
gboolean store_sql_step_row (StoreConnection *c,
                             sqlite3_stmt *stmt,
                             gboolean *found,
                             GError **error,
                             const char *doing);
gboolean
store_sql_step_done (StoreConnection *c, sqlite3_stmt *stmt, GError **error, const char *doing);
gboolean store_sql_storage_error (StoreConnection *c, GError **error, const char *doing);

G_END_DECLS
