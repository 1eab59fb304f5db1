/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-store"

#include "reserved-store-holds.h"

#include "reserve-error.h"
#include "reserve-validate.h"
#include "reserved-clock.h"
#include "reserved-store-answers.h"
#include "reserved-store-waitlist.h"

typedef enum {
  HOLD_FIND_REQUEST,
  HOLD_OVERDUE,
  HOLD_OF_HOLDER,
  HOLD_END,
  HOLD_RETURN_STOCK,
  HOLD_TAKE_STOCK,
  HOLD_TAKE_OWED,
  HOLD_LIVE_OF_CALLER,
  HOLD_INSERT,
  HOLD_GET,
  HOLD_INSERT_ORDER,
  HOLD_SET_EXPIRY,
  HOLD_LIST,
  HOLD_NEXT_EXPIRY,
  HOLD_CLAMP,
  N_HOLD_STMTS
} HoldStmtId;

G_STATIC_ASSERT (N_HOLD_STMTS <= G_N_ELEMENTS (((StoreConnection *) NULL)->hold_stmts));

/* The columns HOLD_GET and HOLD_LIST share, read by read_hold(). */
#define HOLD_COLUMNS                                                                             \
  "h.id, i.name, h.customer, h.quantity, h.created, h.expires, h.caller_uid, h.holder, h.ended," \
  " h.order_id, h.item_id, i.remaining, h.ttl"

static const char *const hold_sql[N_HOLD_STMTS] = {
  [HOLD_FIND_REQUEST] = "SELECT h.id, i.name, h.customer, h.quantity, i.remaining, h.expires"
                        " FROM holds h JOIN items i ON i.id = h.item_id"
                        " WHERE h.caller_uid = ?1 AND h.request_id = ?2",
  [HOLD_OVERDUE] = "SELECT h.id, h.quantity, h.item_id, i.name"
                   " FROM holds h JOIN items i ON i.id = h.item_id"
                   " WHERE h.ended IS NULL AND h.expires > 0 AND h.expires <= ?1"
                   " AND (?2 < 0 OR h.item_id = ?2) ORDER BY h.id",
  [HOLD_OF_HOLDER] = "SELECT h.id, h.quantity, h.item_id, i.name"
                     " FROM holds h JOIN items i ON i.id = h.item_id"
                     " WHERE h.ended IS NULL AND h.holder = ?1 ORDER BY h.id",
  [HOLD_END] = "UPDATE holds SET ended = ?2, order_id = ?3 WHERE id = ?1 AND ended IS NULL",
  [HOLD_RETURN_STOCK] =
    "UPDATE items SET remaining = remaining + ?2 WHERE id = ?1 RETURNING remaining",
  /* Anyone's hold takes only units not owed to the waitlist; an offer
   * takes the units owed to its entry. */
  [HOLD_TAKE_STOCK] = STORE_SQL_TAKE_UNOWED_STOCK,
  [HOLD_TAKE_OWED] = "UPDATE items SET remaining = remaining - ?2"
                     " WHERE id = ?1 AND remaining >= ?2 RETURNING remaining",
  [HOLD_LIVE_OF_CALLER] = "SELECT COUNT(*) FROM holds WHERE caller_uid = ?1 AND ended IS NULL",
  [HOLD_INSERT] = "INSERT INTO holds (item_id, customer, quantity, caller_uid, request_id,"
                  " created, expires, ttl, holder) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
  [HOLD_GET] = "SELECT " HOLD_COLUMNS " FROM holds h JOIN items i ON i.id = h.item_id"
               " WHERE h.id = ?1",
  [HOLD_INSERT_ORDER] =
    "INSERT INTO orders (item_id, customer, quantity, caller_uid, request_id, created)"
    " VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
  [HOLD_SET_EXPIRY] = "UPDATE holds SET expires = ?2, ttl = ?3 WHERE id = ?1",
  [HOLD_LIST] = "SELECT " HOLD_COLUMNS " FROM holds h JOIN items i ON i.id = h.item_id"
                " WHERE h.ended IS NULL AND (?1 IS NULL OR h.customer = ?1)"
                " AND (?2 IS NULL OR h.caller_uid = ?2) ORDER BY h.id",
  /* A waiting entry's deadline ends it like an expiry. */
  [HOLD_NEXT_EXPIRY] = "SELECT MIN(t) FROM (SELECT MIN(expires) AS t FROM holds"
                       " WHERE ended IS NULL AND expires > 0"
                       " UNION ALL SELECT MIN(deadline) FROM waitlist"
                       " WHERE ended IS NULL AND hold_id IS NULL AND deadline > 0)",
  [HOLD_CLAMP] = "UPDATE holds SET expires = ?1 + ttl"
                 " WHERE ended IS NULL AND expires > 0 AND expires > ?1 + ttl",
};

static StoreStmt *
hold_stmt (StoreConnection *c, HoldStmtId id, GError **error)
{
  return store_sql_prepare_lazily (c, &c->hold_stmts[id], hold_sql[id], error);
}

void
reserved_hold_clear (ReservedHold *hold)
{
  g_clear_pointer (&hold->item, g_free);
  g_clear_pointer (&hold->user, g_free);
  g_clear_pointer (&hold->holder, g_free);
  g_clear_pointer (&hold->ended, g_free);
}

void
reserved_ended_hold_clear (ReservedEndedHold *ended)
{
  g_clear_pointer (&ended->item, g_free);
}

static char *
column_text (sqlite3_stmt *stmt, int column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

/* A StoreReadRow. */
static void
read_hold (sqlite3_stmt *stmt, gpointer element)
{
  ReservedHold *out = element;

  out->id = (guint64) sqlite3_column_int64 (stmt, 0);
  out->item = column_text (stmt, 1);
  out->user = column_text (stmt, 2);
  out->quantity = (guint32) sqlite3_column_int64 (stmt, 3);
  out->created = sqlite3_column_int64 (stmt, 4);
  out->expires = sqlite3_column_int64 (stmt, 5);
  out->caller = (uid_t) sqlite3_column_int64 (stmt, 6);
  out->holder = column_text (stmt, 7);
  out->ended = column_text (stmt, 8);
  out->order = (guint64) sqlite3_column_int64 (stmt, 9);
}

/* Marks one live hold ended and, unless it became an order, gives its
 * units back; records it for the HoldEnded signal. */
static gboolean
end_hold (StoreConnection *c,
          guint64 hold,
          gint64 item_id,
          const char *item,
          guint32 quantity,
          const char *reason,
          guint64 order,
          guint32 *remaining_out,
          GError **error)
{
  g_autoptr(StoreStmt) end = hold_stmt (c, HOLD_END, error);
  g_autoptr(StoreStmt) give_back = hold_stmt (c, HOLD_RETURN_STOCK, error);
  ReservedEndedHold ended = { 0 };
  gboolean found = FALSE;

  if (end == NULL || give_back == NULL)
    return FALSE;
  sqlite3_bind_int64 (end, 1, (gint64) hold);
  sqlite3_bind_text (end, 2, reason, -1, SQLITE_STATIC);
  if (order != 0)
    sqlite3_bind_int64 (end, 3, (gint64) order);
  if (!store_sql_step_done (c, end, error, "end the hold"))
    return FALSE;
  /* A confirmed hold's units stay taken: they are the order's now. */
  sqlite3_bind_int64 (give_back, 1, item_id);
  sqlite3_bind_int64 (give_back, 2, order != 0 ? 0 : quantity);
  if (!store_sql_step_row (c, give_back, &found, error, "return the held units"))
    return FALSE;
  if (!found)
    return store_sql_storage_error (c, error, "find the hold's item");
  ended.remaining = (guint32) sqlite3_column_int64 (give_back, 0);
  /* An offer's entry ends with its hold; the units that came back go to
   * the next in line in this same transaction. */
  if (!store_waitlist_hold_ended (c, hold, order != 0, error) ||
      (order == 0 && !store_waitlist_promote (c, item_id, &ended.remaining, error)))
    return FALSE;
  ended.hold = hold;
  ended.item = g_strdup (item);
  ended.reason = store_hold_reason (reason);
  if (remaining_out != NULL)
    *remaining_out = ended.remaining;
  if (c->ended != NULL)
    g_array_append_val (c->ended, ended);
  else
    reserved_ended_hold_clear (&ended);
  return TRUE;
}

/* Ends every hold @stmt (bound already) yields as (id, quantity, item_id,
 * item name). The rows are read first: ending one changes the table the
 * statement walks. */
static gboolean
end_each (StoreConnection *c, sqlite3_stmt *stmt, const char *reason, GError **error)
{
  g_autoptr(GArray) found = g_array_new (FALSE, FALSE, sizeof (ReservedHold));
  gboolean ok = TRUE;
  int rc;

  g_array_set_clear_func (found, (GDestroyNotify) reserved_hold_clear);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      ReservedHold hold = {
        .id = (guint64) sqlite3_column_int64 (stmt, 0),
        .quantity = (guint32) sqlite3_column_int64 (stmt, 1),
        .order = (guint64) sqlite3_column_int64 (stmt, 2), /* here: the item's row id */
        .item = column_text (stmt, 3),
      };
      g_array_append_val (found, hold);
    }
  if (rc != SQLITE_DONE)
    return store_sql_storage_error (c, error, "find the holds to end");
  sqlite3_reset (stmt);
  for (guint i = 0; ok && i < found->len; i++)
    {
      ReservedHold *hold = &g_array_index (found, ReservedHold, i);
      ok = end_hold (c, hold->id, (gint64) hold->order, hold->item, hold->quantity, reason, 0, NULL,
                     error);
    }
  return ok;
}

gboolean
store_holds_end_overdue (StoreConnection *c, gint64 item_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = hold_stmt (c, HOLD_OVERDUE, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, reserved_clock_now ());
  sqlite3_bind_int64 (stmt, 2, item_id);
  return end_each (c, stmt, RESERVED_HOLD_EXPIRED, error) &&
         store_waitlist_end_overdue (c, item_id, error);
}

gboolean
store_holds_end_of_holder (StoreConnection *c,
                           const char *holder,
                           const char *reason,
                           GError **error)
{
  g_autoptr(StoreStmt) stmt = hold_stmt (c, HOLD_OF_HOLDER, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, holder, -1, SQLITE_STATIC);
  return end_each (c, stmt, reason, error) && store_waitlist_end_of_holder (c, holder, error);
}

/* --- Hold ------------------------------------------------------------------ */

static gboolean
find_hold_request (StoreConnection *c,
                   const ReservedHoldRequest *request,
                   ReservedHoldReceipt *receipt,
                   gboolean *found,
                   GError **error)
{
  g_autoptr(StoreStmt) stmt = hold_stmt (c, HOLD_FIND_REQUEST, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, request->caller);
  sqlite3_bind_text (stmt, 2, request->request_id, -1, SQLITE_STATIC);
  if (!store_sql_step_row (c, stmt, found, error, "look up the request_id"))
    return FALSE;
  if (!*found)
    return TRUE;
  if (!store_sql_same_request (stmt, request->item, request->user, request->quantity))
    return store_sql_request_reused (stmt, request->request_id, "hold", error);
  receipt->hold = (guint64) sqlite3_column_int64 (stmt, 0);
  receipt->remaining = (guint32) sqlite3_column_int64 (stmt, 4);
  receipt->expires = sqlite3_column_int64 (stmt, 5);
  receipt->replayed = TRUE;
  return TRUE;
}

static gboolean
count_live_holds_of_caller (StoreConnection *c, uid_t caller, gint64 *count, GError **error)
{
  g_autoptr(StoreStmt) stmt = hold_stmt (c, HOLD_LIVE_OF_CALLER, error);
  gboolean found = FALSE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, caller);
  if (!store_sql_step_row (c, stmt, &found, error, "count the caller's holds"))
    return FALSE;
  *count = found ? sqlite3_column_int64 (stmt, 0) : 0;
  return TRUE;
}

gboolean
store_holds_hold (StoreConnection *c,
                  const ReservedHoldRequest *request,
                  ReservedHoldReceipt *receipt,
                  GError **error)
{
  StoreSellableItem item;
  gboolean found = FALSE;
  gint64 item_id, live;
  guint32 limit;

  if (request->request_id != NULL)
    {
      if (!find_hold_request (c, request, receipt, &found, error))
        return FALSE;
      if (found)
        return TRUE;
    }

  if (!store_sql_find_sellable_item (c, request->item, &item, error) ||
      !store_sql_check_on_sale (request->item, &item.sale, error))
    return FALSE;
  item_id = item.id;
  limit = item.per_user_limit;

  if (!store_holds_end_overdue (c, item_id, error))
    return FALSE;
  if (!store_sql_check_per_user_limit (c, item_id, request->item, request->user, request->quantity,
                                       limit, error))
    return FALSE;
  if (!count_live_holds_of_caller (c, request->caller, &live, error))
    return FALSE;
  if (live >= request->max_holds)
    return store_refuse_max_holds (error, request->caller, live, request->max_holds);

  return store_holds_insert (c, item_id, request, FALSE, receipt, error);
}

gboolean
store_holds_insert (StoreConnection *c,
                    gint64 item_id,
                    const ReservedHoldRequest *request,
                    gboolean owed,
                    ReservedHoldReceipt *receipt,
                    GError **error)
{
  g_autoptr(StoreStmt) take = hold_stmt (c, owed ? HOLD_TAKE_OWED : HOLD_TAKE_STOCK, error);
  g_autoptr(StoreStmt) insert = hold_stmt (c, HOLD_INSERT, error);
  gboolean found = FALSE;
  gint64 now;

  if (take == NULL || insert == NULL)
    return FALSE;
  sqlite3_bind_int64 (take, 1, item_id);
  sqlite3_bind_int64 (take, 2, request->quantity);
  if (!store_sql_step_row (c, take, &found, error, "take the stock"))
    return FALSE;
  if (!found)
    return store_waitlist_sold_out (c, item_id, request->item, request->quantity, error);
  receipt->remaining = (guint32) sqlite3_column_int64 (take, 0);

  now = reserved_clock_now ();
  receipt->expires = request->ttl > 0 ? now + (gint64) request->ttl * G_USEC_PER_SEC : 0;
  sqlite3_bind_int64 (insert, 1, item_id);
  sqlite3_bind_text (insert, 2, request->user, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 3, request->quantity);
  sqlite3_bind_int64 (insert, 4, request->caller);
  if (request->request_id != NULL)
    sqlite3_bind_text (insert, 5, request->request_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 6, now);
  sqlite3_bind_int64 (insert, 7, receipt->expires);
  sqlite3_bind_int64 (insert, 8, (gint64) request->ttl * G_USEC_PER_SEC);
  if (request->holder != NULL)
    sqlite3_bind_text (insert, 9, request->holder, -1, SQLITE_STATIC);
  if (!store_sql_step_done (c, insert, error, "record the hold"))
    return FALSE;
  receipt->hold = (guint64) sqlite3_last_insert_rowid (c->db);
  receipt->replayed = FALSE;
  return TRUE;
}

/* --- one hold: Confirm, Release, Extend --------------------------------------- */

/* Reads @hold into @out with its item's row id. An overdue hold is ended
 * here (reason expired) and reported through @late, so the caller hears
 * HoldEnded only once the expiry is committed. Returns FALSE with @error
 * when there is no such hold. */
static gboolean
load_hold (StoreConnection *c,
           guint64 hold,
           ReservedHold *out,
           gint64 *item_id,
           gboolean *overdue,
           GError **error)
{
  g_autoptr(StoreStmt) stmt = hold_stmt (c, HOLD_GET, error);
  gboolean found = FALSE;

  if (stmt == NULL)
    return FALSE;
  if (hold > G_MAXINT64)
    return store_refuse_no_such_hold (error, hold);
  sqlite3_bind_int64 (stmt, 1, (gint64) hold);
  if (!store_sql_step_row (c, stmt, &found, error, "look up the hold"))
    return FALSE;
  if (!found)
    return store_refuse_no_such_hold (error, hold);
  read_hold (stmt, out);
  *item_id = sqlite3_column_int64 (stmt, 10);
  sqlite3_reset (stmt);
  *overdue = FALSE;
  if (out->ended == NULL && out->expires > 0 && out->expires <= reserved_clock_now ())
    {
      if (!end_hold (c, out->id, *item_id, out->item, out->quantity, RESERVED_HOLD_EXPIRED, 0, NULL,
                     error))
        return FALSE;
      out->ended = g_strdup (RESERVED_HOLD_EXPIRED);
      *overdue = TRUE;
    }
  return TRUE;
}

/* A hold that had ended before this operation is refused (nothing
 * changed); one that load_hold() just found overdue was ended here, which
 * must commit, so the operation succeeds and the caller is told late. */
static gboolean
answer_ended (const ReservedHold *h, gboolean overdue, GError **late, GError **error)
{
  if (!overdue)
    return store_refuse_hold_ended (error, h->id, h->ended, h->order);
  store_refuse_hold_ended (late, h->id, h->ended, h->order);
  return TRUE;
}

gboolean
store_holds_confirm (StoreConnection *c,
                     guint64 hold,
                     gboolean or_buy,
                     guint64 *order,
                     guint32 *remaining,
                     char **item_out,
                     GError **late,
                     GError **error)
{
  g_auto(ReservedHold) h = { 0 };
  gint64 item_id = 0;
  gboolean overdue = FALSE;

  if (!load_hold (c, hold, &h, &item_id, &overdue, error))
    return FALSE;
  if (g_strcmp0 (h.ended, RESERVED_HOLD_CONFIRMED) == 0)
    {
      ReservedItem item = { 0 };

      /* Confirming again answers with the same order, as a repeated
       * request_id does for Buy. */
      if (!store_sql_get_item (c, h.item, &item, error))
        return FALSE;
      *order = h.order;
      *remaining = item.remaining;
      *item_out = g_steal_pointer (&h.item);
      reserved_item_clear (&item);
      return TRUE;
    }
  if (h.ended != NULL && or_buy)
    {
      const ReservedPurchase purchase = {
        .item = h.item,
        .user = h.user,
        .quantity = h.quantity,
        .caller = h.caller,
      };
      ReservedReceipt receipt = { 0 };

      if (!store_sql_buy (c, &purchase, &receipt, error))
        return FALSE;
      *order = receipt.order;
      *remaining = receipt.remaining;
      *item_out = g_steal_pointer (&h.item);
      return TRUE;
    }
  if (h.ended != NULL)
    return answer_ended (&h, overdue, late, error);

  {
    g_autoptr(StoreStmt) insert = hold_stmt (c, HOLD_INSERT_ORDER, error);

    if (insert == NULL)
      return FALSE;
    sqlite3_bind_int64 (insert, 1, item_id);
    sqlite3_bind_text (insert, 2, h.user, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (insert, 3, h.quantity);
    sqlite3_bind_int64 (insert, 4, h.caller);
    sqlite3_bind_int64 (insert, 5, reserved_clock_now ());
    if (!store_sql_step_done (c, insert, error, "record the order"))
      return FALSE;
    *order = (guint64) sqlite3_last_insert_rowid (c->db);
  }
  if (!end_hold (c, hold, item_id, h.item, h.quantity, RESERVED_HOLD_CONFIRMED, *order, remaining,
                 error))
    return FALSE;
  *item_out = g_steal_pointer (&h.item);
  return TRUE;
}

gboolean
store_holds_release (StoreConnection *c,
                     guint64 hold,
                     guint32 *remaining,
                     GError **late,
                     GError **error)
{
  g_auto(ReservedHold) h = { 0 };
  gint64 item_id = 0;
  gboolean overdue = FALSE;

  if (!load_hold (c, hold, &h, &item_id, &overdue, error))
    return FALSE;
  if (h.ended != NULL)
    return answer_ended (&h, overdue, late, error);
  return end_hold (c, hold, item_id, h.item, h.quantity, RESERVED_HOLD_RELEASED, 0, remaining,
                   error);
}

gboolean
store_holds_extend (StoreConnection *c,
                    guint64 hold,
                    guint32 ttl,
                    guint32 max_seconds,
                    gint64 *expires,
                    GError **late,
                    GError **error)
{
  g_autoptr(StoreStmt) set = hold_stmt (c, HOLD_SET_EXPIRY, error);
  g_auto(ReservedHold) h = { 0 };
  gint64 item_id = 0;
  gboolean overdue = FALSE;
  gint64 now;

  if (set == NULL || !load_hold (c, hold, &h, &item_id, &overdue, error))
    return FALSE;
  if (h.ended != NULL)
    return answer_ended (&h, overdue, late, error);
  now = reserved_clock_now ();
  /* No hold outlives its creation by more than MaxHoldSeconds, however
   * often it is extended. */
  *expires =
    MIN (now + (gint64) ttl * G_USEC_PER_SEC, h.created + (gint64) max_seconds * G_USEC_PER_SEC);
  sqlite3_bind_int64 (set, 1, (gint64) hold);
  sqlite3_bind_int64 (set, 2, *expires);
  sqlite3_bind_int64 (set, 3, *expires - now);
  return store_sql_step_done (c, set, error, "extend the hold");
}

/* --- start and reads ----------------------------------------------------------- */

gboolean
store_holds_clamp (StoreConnection *c, GError **error)
{
  g_autoptr(StoreStmt) stmt = hold_stmt (c, HOLD_CLAMP, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, reserved_clock_now ());
  if (!store_sql_step_done (c, stmt, error, "bound the holds' expiry"))
    return FALSE;
  if (sqlite3_changes (c->db) > 0)
    g_message ("%d holds expired later than the time they were granted allows: the clock was "
               "set back; each now ends when its last granted time is up",
               sqlite3_changes (c->db));
  return TRUE;
}

gboolean
store_holds_get (StoreConnection *c, guint64 hold, ReservedHold *out, GError **error)
{
  g_autoptr(StoreStmt) stmt = hold_stmt (c, HOLD_GET, error);
  gboolean found = FALSE;

  if (stmt == NULL)
    return FALSE;
  if (hold > G_MAXINT64)
    return store_refuse_no_such_hold (error, hold);
  sqlite3_bind_int64 (stmt, 1, (gint64) hold);
  if (!store_sql_step_row (c, stmt, &found, error, "look up the hold"))
    return FALSE;
  if (!found)
    return store_refuse_no_such_hold (error, hold);
  read_hold (stmt, out);
  return TRUE;
}

GArray *
store_holds_list (StoreConnection *c, const char *user, const uid_t *only_caller, GError **error)
{
  g_autoptr(StoreStmt) stmt = hold_stmt (c, HOLD_LIST, error);

  if (stmt == NULL)
    return NULL;
  if (user != NULL)
    sqlite3_bind_text (stmt, 1, user, -1, SQLITE_STATIC);
  if (only_caller != NULL)
    sqlite3_bind_int64 (stmt, 2, *only_caller);
  return store_sql_read_rows (c, stmt, sizeof (ReservedHold), (GDestroyNotify) reserved_hold_clear,
                              read_hold, G_MAXUINT, "list the holds", error);
}

gboolean
store_holds_next_expiry (StoreConnection *c, gint64 *expires)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StoreStmt) stmt = hold_stmt (c, HOLD_NEXT_EXPIRY, &error);
  gboolean found = FALSE;

  if (stmt == NULL || !store_sql_step_row (c, stmt, &found, &error, "find the next expiry"))
    {
      /* The timer then looks again after its longest wait. */
      g_message ("%s", error->message);
      return FALSE;
    }
  if (!found || sqlite3_column_type (stmt, 0) == SQLITE_NULL)
    return FALSE;
  *expires = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}
