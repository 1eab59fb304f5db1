/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-store"

#include "reserved-store-waitlist.h"

#include "reserve-error.h"
#include "reserve-validate.h"
#include "reserved-clock.h"
#include "reserved-store-answers.h"
#include "reserved-store-holds.h"

typedef enum {
  WL_FIND_REQUEST,
  WL_ITEM_ID,
  WL_LIVE_OF_CUSTOMER,
  WL_INSERT,
  WL_HEAD,
  WL_END,
  WL_OFFER,
  WL_END_OF_HOLD,
  WL_OVERDUE,
  WL_OF_HOLDER,
  WL_GET,
  WL_LIST,
  WL_SET_OFFER_SECONDS,
  WL_SOLD_OUT,
  WL_WAITING_HOLDERS,
  N_WL_STMTS
} WaitlistStmtId;

G_STATIC_ASSERT (N_WL_STMTS <= G_N_ELEMENTS (((StoreConnection *) NULL)->waitlist_stmts));

/* A waiting entry's place: 1 + the live waiting entries of its item that
 * came before it. */
#define ENTRY_COLUMNS                                                                      \
  "w.id, i.name, w.customer, w.quantity, w.created, w.deadline, w.caller_uid, w.hold_id,"  \
  " w.ended, CASE WHEN w.ended IS NULL AND w.hold_id IS NULL THEN (SELECT COUNT(*)"        \
  " FROM waitlist v WHERE v.item_id = w.item_id AND v.ended IS NULL AND v.hold_id IS NULL" \
  " AND v.id <= w.id) ELSE 0 END, w.item_id"

static const char *const waitlist_sql[N_WL_STMTS] = {
  [WL_FIND_REQUEST] = "SELECT w.id, i.name, w.customer, w.quantity, i.remaining"
                      " FROM waitlist w JOIN items i ON i.id = w.item_id"
                      " WHERE w.caller_uid = ?1 AND w.request_id = ?2",
  /* Retired or not: promotion itself offers nothing for a retired item. */
  [WL_ITEM_ID] = "SELECT id FROM items WHERE name = ?1",
  [WL_LIVE_OF_CUSTOMER] = "SELECT id FROM waitlist"
                          " WHERE caller_uid = ?1 AND customer = ?2 AND item_id = ?3"
                          " AND ended IS NULL",
  [WL_INSERT] = "INSERT INTO waitlist (item_id, customer, quantity, caller_uid, request_id,"
                " created, deadline, holder) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
  /* The item, and the first entry waiting for it if any. */
  [WL_HEAD] = "SELECT w.id, w.customer, w.quantity, w.caller_uid, w.holder, i.remaining,"
              " i.per_user_limit, i.offer_seconds, i.retired, i.name, i.sale_start, i.sale_end"
              " FROM items i LEFT JOIN waitlist w ON w.id = (SELECT id FROM waitlist"
              " WHERE item_id = i.id AND ended IS NULL AND hold_id IS NULL ORDER BY id LIMIT 1)"
              " WHERE i.id = ?1",
  [WL_END] = "UPDATE waitlist SET ended = ?2 WHERE id = ?1 AND ended IS NULL",
  [WL_OFFER] = "UPDATE waitlist SET hold_id = ?2 WHERE id = ?1",
  [WL_END_OF_HOLD] = "UPDATE waitlist SET ended = ?2 WHERE hold_id = ?1 AND ended IS NULL",
  /* RETURNING rows come once every row is updated, so the items can be
   * promoted after the statement is done. */
  [WL_OVERDUE] = "UPDATE waitlist SET ended = 'expired'"
                 " WHERE ended IS NULL AND hold_id IS NULL AND deadline > 0 AND deadline <= ?1"
                 " AND (?2 < 0 OR item_id = ?2) RETURNING item_id",
  [WL_OF_HOLDER] = "UPDATE waitlist SET ended = 'disconnected'"
                   " WHERE ended IS NULL AND hold_id IS NULL AND holder = ?1 RETURNING item_id",
  [WL_GET] = "SELECT " ENTRY_COLUMNS " FROM waitlist w JOIN items i ON i.id = w.item_id"
             " WHERE w.id = ?1",
  [WL_LIST] = "SELECT " ENTRY_COLUMNS " FROM waitlist w JOIN items i ON i.id = w.item_id"
              " WHERE w.ended IS NULL AND (?1 IS NULL OR i.name = ?1)"
              " AND (?2 IS NULL OR w.caller_uid = ?2) ORDER BY w.id",
  [WL_SET_OFFER_SECONDS] = "UPDATE items SET offer_seconds = ?2 WHERE name = ?1",
  [WL_SOLD_OUT] = "SELECT remaining, (SELECT COALESCE(SUM(quantity), 0) FROM waitlist"
                  " WHERE item_id = ?1 AND ended IS NULL AND hold_id IS NULL)"
                  " FROM items WHERE id = ?1",
  [WL_WAITING_HOLDERS] = "SELECT DISTINCT holder FROM waitlist"
                         " WHERE ended IS NULL AND hold_id IS NULL AND holder IS NOT NULL",
};

static StoreStmt *
waitlist_stmt (StoreConnection *c, WaitlistStmtId id, GError **error)
{
  return store_sql_prepare_lazily (c, &c->waitlist_stmts[id], waitlist_sql[id], error);
}

void
reserved_entry_clear (ReservedEntry *entry)
{
  g_clear_pointer (&entry->item, g_free);
  g_clear_pointer (&entry->user, g_free);
  g_clear_pointer (&entry->ended, g_free);
}

void
reserved_offer_clear (ReservedOffer *offer)
{
  g_clear_pointer (&offer->item, g_free);
  g_clear_pointer (&offer->holder, g_free);
}

static char *
column_text (sqlite3_stmt *stmt, int column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

static gboolean
end_entry (StoreConnection *c, guint64 entry, const char *reason, GError **error)
{
  g_autoptr(StoreStmt) end = waitlist_stmt (c, WL_END, error);

  if (end == NULL)
    return FALSE;
  sqlite3_bind_int64 (end, 1, (gint64) entry);
  sqlite3_bind_text (end, 2, reason, -1, SQLITE_STATIC);
  return store_sql_step_done (c, end, error, "end the waitlist entry");
}

/* --- promotion ------------------------------------------------------------- */

/* The head of an item's queue and what the item has, as WL_HEAD reads it. */
typedef struct {
  guint64 entry; /* 0: nobody waits */
  char *user;
  guint32 quantity;
  uid_t caller;
  char *holder;
  guint32 remaining;
  guint32 limit;
  guint32 offer_seconds;
  gboolean retired;
  char *item;
  ReservedSaleWindow sale;
} Head;

static void
head_clear (Head *head)
{
  g_free (head->user);
  g_free (head->holder);
  g_free (head->item);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Head, head_clear)

static gboolean
read_head (StoreConnection *c, gint64 item_id, Head *head, GError **error)
{
  g_autoptr(StoreStmt) stmt = waitlist_stmt (c, WL_HEAD, error);
  gboolean found = FALSE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, item_id);
  if (!store_sql_step_row (c, stmt, &found, error, "find the head of the waitlist"))
    return FALSE;
  if (!found)
    return store_sql_storage_error (c, error, "find the waitlist's item");
  head->entry = (guint64) sqlite3_column_int64 (stmt, 0);
  head->user = column_text (stmt, 1);
  head->quantity = (guint32) sqlite3_column_int64 (stmt, 2);
  head->caller = (uid_t) sqlite3_column_int64 (stmt, 3);
  head->holder = column_text (stmt, 4);
  head->remaining = (guint32) sqlite3_column_int64 (stmt, 5);
  head->limit = (guint32) sqlite3_column_int64 (stmt, 6);
  head->offer_seconds = (guint32) sqlite3_column_int64 (stmt, 7);
  head->retired = sqlite3_column_int64 (stmt, 8) != 0;
  head->item = column_text (stmt, 9);
  head->sale.start = sqlite3_column_int64 (stmt, 10);
  head->sale.end = sqlite3_column_int64 (stmt, 11);
  return TRUE;
}

/* Gives the head its hold and records the offer. */
static gboolean
offer (StoreConnection *c, gint64 item_id, const Head *head, guint32 *remaining, GError **error)
{
  g_autoptr(StoreStmt) mark = waitlist_stmt (c, WL_OFFER, error);
  const ReservedHoldRequest request = {
    .item = head->item,
    .user = head->user,
    .quantity = head->quantity,
    .caller = head->caller,
    /* Bound to the waiter's connection, the offer lasts as long as it:
     * the waiter is there to take it. */
    .ttl = head->holder != NULL ? 0 : head->offer_seconds,
    .holder = head->holder,
  };
  ReservedHoldReceipt receipt = { 0 };
  ReservedOffer made = { 0 };

  if (mark == NULL || !store_holds_insert (c, item_id, &request, TRUE, &receipt, error))
    return FALSE;
  sqlite3_bind_int64 (mark, 1, (gint64) head->entry);
  sqlite3_bind_int64 (mark, 2, (gint64) receipt.hold);
  if (!store_sql_step_done (c, mark, error, "record the offer"))
    return FALSE;
  *remaining = receipt.remaining;
  made.entry = head->entry;
  made.hold = receipt.hold;
  made.item = g_strdup (head->item);
  made.expires = receipt.expires;
  made.remaining = receipt.remaining;
  made.holder = g_strdup (head->holder);
  if (c->offered != NULL)
    g_array_append_val (c->offered, made);
  else
    reserved_offer_clear (&made);
  return TRUE;
}

gboolean
store_waitlist_promote (StoreConnection *c, gint64 item_id, guint32 *remaining, GError **error)
{
  guint32 left = 0;

  for (;;)
    {
      g_auto(Head) head = { 0 };
      gint64 units = 0;

      if (!read_head (c, item_id, &head, error))
        return FALSE;
      left = head.remaining;
      /* A retired item is sold no more, to its waiters neither; outside
       * its sale window they wait for it to open (which promotes them). */
      if (head.entry == 0 || head.retired ||
          !reserved_sale_window_contains (&head.sale, reserved_clock_wall_now ()))
        break;
      /* The limit may have been lowered, or the customer bought
       * elsewhere, since the entry joined: the entry's own units are
       * counted already, and the offer keeps them counted. */
      if (head.limit > 0)
        {
          if (!store_sql_units_of_customer (c, item_id, head.user, &units, error))
            return FALSE;
          if (units > head.limit)
            {
              if (!end_entry (c, head.entry, RESERVED_ENTRY_OVER_LIMIT, error))
                return FALSE;
              continue;
            }
        }
      /* All or nothing, and never past the head for a smaller entry. */
      if (head.remaining < head.quantity)
        break;
      if (!offer (c, item_id, &head, &left, error))
        return FALSE;
    }
  if (remaining != NULL)
    *remaining = left;
  return TRUE;
}

gboolean
store_waitlist_promote_item (StoreConnection *c,
                             const char *item,
                             guint32 *remaining,
                             GError **error)
{
  g_autoptr(StoreStmt) stmt = waitlist_stmt (c, WL_ITEM_ID, error);
  gboolean found = FALSE;
  gint64 item_id;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, item, -1, SQLITE_STATIC);
  if (!store_sql_step_row (c, stmt, &found, error, "look up the item"))
    return FALSE;
  if (!found)
    return store_refuse_no_such_item (error, item);
  item_id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return store_waitlist_promote (c, item_id, remaining, error);
}

gboolean
store_waitlist_hold_ended (StoreConnection *c, guint64 hold, gboolean confirmed, GError **error)
{
  g_autoptr(StoreStmt) stmt = waitlist_stmt (c, WL_END_OF_HOLD, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (gint64) hold);
  sqlite3_bind_text (stmt, 2, confirmed ? RESERVED_ENTRY_SERVED : RESERVED_ENTRY_LAPSED, -1,
                     SQLITE_STATIC);
  return store_sql_step_done (c, stmt, error, "end the offer's entry");
}

/* Runs @stmt (bound already), an UPDATE returning the item of each entry
 * it ended, then promotes each of those items once. */
static gboolean
end_and_promote (StoreConnection *c, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr(GArray) items = g_array_new (FALSE, FALSE, sizeof (gint64));
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 item_id = sqlite3_column_int64 (stmt, 0);
      gboolean seen = FALSE;

      for (guint i = 0; i < items->len && !seen; i++)
        seen = g_array_index (items, gint64, i) == item_id;
      if (!seen)
        g_array_append_val (items, item_id);
    }
  if (rc != SQLITE_DONE)
    return store_sql_storage_error (c, error, "end the waitlist entries");
  sqlite3_reset (stmt);
  for (guint i = 0; i < items->len; i++)
    if (!store_waitlist_promote (c, g_array_index (items, gint64, i), NULL, error))
      return FALSE;
  return TRUE;
}

gboolean
store_waitlist_end_overdue (StoreConnection *c, gint64 item_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = waitlist_stmt (c, WL_OVERDUE, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, reserved_clock_now ());
  sqlite3_bind_int64 (stmt, 2, item_id);
  return end_and_promote (c, stmt, error);
}

gboolean
store_waitlist_end_of_holder (StoreConnection *c, const char *holder, GError **error)
{
  g_autoptr(StoreStmt) stmt = waitlist_stmt (c, WL_OF_HOLDER, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, holder, -1, SQLITE_STATIC);
  return end_and_promote (c, stmt, error);
}

gboolean
store_waitlist_sold_out (StoreConnection *c,
                         gint64 item_id,
                         const char *item,
                         guint32 quantity,
                         GError **error)
{
  g_autoptr(StoreStmt) stmt = waitlist_stmt (c, WL_SOLD_OUT, error);
  gboolean found = FALSE;
  gint64 left, owed;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, item_id);
  if (!store_sql_step_row (c, stmt, &found, error, "count what is left"))
    return FALSE;
  left = found ? sqlite3_column_int64 (stmt, 0) : 0;
  owed = found ? sqlite3_column_int64 (stmt, 1) : 0;
  return store_refuse_sold_out (error, item, left, owed, quantity);
}

gboolean
store_waitlist_set_offer_seconds (StoreConnection *c,
                                  const char *item,
                                  guint32 offer_seconds,
                                  GError **error)
{
  g_autoptr(StoreStmt) stmt = waitlist_stmt (c, WL_SET_OFFER_SECONDS, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, item, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, offer_seconds);
  return store_sql_step_done (c, stmt, error, "set how long an offer lasts");
}

/* --- JoinWaitlist, LeaveWaitlist ------------------------------------------------ */

/* A StoreReadRow. */
static void
read_entry (sqlite3_stmt *stmt, gpointer element)
{
  ReservedEntry *out = element;

  out->id = (guint64) sqlite3_column_int64 (stmt, 0);
  out->item = column_text (stmt, 1);
  out->user = column_text (stmt, 2);
  out->quantity = (guint32) sqlite3_column_int64 (stmt, 3);
  out->created = sqlite3_column_int64 (stmt, 4);
  out->deadline = sqlite3_column_int64 (stmt, 5);
  out->caller = (uid_t) sqlite3_column_int64 (stmt, 6);
  out->hold = (guint64) sqlite3_column_int64 (stmt, 7);
  out->ended = column_text (stmt, 8);
  out->position = (guint32) sqlite3_column_int64 (stmt, 9);
}


/* @item_id (nullable) is set to the entry's item. */
static gboolean
get_entry (StoreConnection *c, guint64 entry, ReservedEntry *out, gint64 *item_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = waitlist_stmt (c, WL_GET, error);
  gboolean found = FALSE;

  if (stmt == NULL)
    return FALSE;
  if (entry > G_MAXINT64)
    return store_refuse_no_such_entry (error, entry);
  sqlite3_bind_int64 (stmt, 1, (gint64) entry);
  if (!store_sql_step_row (c, stmt, &found, error, "look up the waitlist entry"))
    return FALSE;
  if (!found)
    return store_refuse_no_such_entry (error, entry);
  read_entry (stmt, out);
  if (item_id != NULL)
    *item_id = sqlite3_column_int64 (stmt, 10);
  return TRUE;
}

gboolean
store_waitlist_get (StoreConnection *c, guint64 entry, ReservedEntry *out, GError **error)
{
  return get_entry (c, entry, out, NULL, error);
}

/* The receipt of @entry as it stands now. */
static gboolean
answer_join (StoreConnection *c, guint64 entry, ReservedJoinReceipt *receipt, GError **error)
{
  g_auto(ReservedEntry) now = { 0 };
  g_auto(ReservedHold) offer_hold = { 0 };
  ReservedItem item = { 0 };

  if (!get_entry (c, entry, &now, NULL, error) || !store_sql_get_item (c, now.item, &item, error))
    return FALSE;
  receipt->entry = entry;
  receipt->position = now.position;
  receipt->hold = now.hold;
  receipt->remaining = item.remaining;
  reserved_item_clear (&item);
  if (now.hold != 0)
    {
      if (!store_holds_get (c, now.hold, &offer_hold, error))
        return FALSE;
      receipt->expires = offer_hold.expires;
    }
  return TRUE;
}

/* A repeated request_id: the same request is answered with its entry as
 * it stands now; a different one is refused. */
static gboolean
find_join_request (StoreConnection *c,
                   const ReservedJoinRequest *request,
                   ReservedJoinReceipt *receipt,
                   gboolean *found,
                   GError **error)
{
  g_autoptr(StoreStmt) stmt = waitlist_stmt (c, WL_FIND_REQUEST, error);
  guint64 entry;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, request->caller);
  sqlite3_bind_text (stmt, 2, request->request_id, -1, SQLITE_STATIC);
  if (!store_sql_step_row (c, stmt, found, error, "look up the request_id"))
    return FALSE;
  if (!*found)
    return TRUE;
  if (!store_sql_same_request (stmt, request->item, request->user, request->quantity))
    return store_sql_request_reused (stmt, request->request_id, "waitlist entry", error);
  entry = (guint64) sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (!answer_join (c, entry, receipt, error))
    return FALSE;
  receipt->replayed = TRUE;
  return TRUE;
}

static gboolean
check_one_entry (StoreConnection *c,
                 const ReservedJoinRequest *request,
                 gint64 item_id,
                 GError **error)
{
  g_autoptr(StoreStmt) stmt = waitlist_stmt (c, WL_LIVE_OF_CUSTOMER, error);
  gboolean found = FALSE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, request->caller);
  sqlite3_bind_text (stmt, 2, request->user, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, item_id);
  if (!store_sql_step_row (c, stmt, &found, error, "look for the customer's entry"))
    return FALSE;
  if (found)
    return store_refuse_one_entry (error, request->item, request->user,
                                   sqlite3_column_int64 (stmt, 0));
  return TRUE;
}

gboolean
store_waitlist_join (StoreConnection *c,
                     const ReservedJoinRequest *request,
                     ReservedJoinReceipt *receipt,
                     GError **error)
{
  g_autoptr(StoreStmt) insert = waitlist_stmt (c, WL_INSERT, error);
  StoreSellableItem item;
  gboolean found = FALSE;
  gint64 item_id, capacity;
  guint32 limit;
  guint64 entry;

  if (insert == NULL)
    return FALSE;
  if (request->request_id != NULL)
    {
      if (!find_join_request (c, request, receipt, &found, error))
        return FALSE;
      if (found)
        return TRUE;
    }

  if (!store_sql_find_sellable_item (c, request->item, &item, error))
    return FALSE;
  item_id = item.id;
  capacity = item.capacity;
  limit = item.per_user_limit;
  /* An entry no restock short of a larger capacity could ever serve would
   * block the queue behind it for good. */
  if (request->quantity > capacity)
    return store_refuse_too_big (error, request->item, request->quantity, capacity);
  /* Queueing is part of buying: outside the window there is no sale to
   * wait for. Entries that joined while it was open keep waiting through
   * a closed spell, and are served when it opens again. */
  if (!store_sql_check_on_sale (request->item, &item.sale, error))
    return FALSE;

  /* Those before it first: what overdue holds give back goes to them. */
  if (!store_holds_end_overdue (c, item_id, error) || !check_one_entry (c, request, item_id, error))
    return FALSE;
  if (!store_sql_check_per_user_limit (c, item_id, request->item, request->user, request->quantity,
                                       limit, error))
    return FALSE;

  sqlite3_bind_int64 (insert, 1, item_id);
  sqlite3_bind_text (insert, 2, request->user, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 3, request->quantity);
  sqlite3_bind_int64 (insert, 4, request->caller);
  if (request->request_id != NULL)
    sqlite3_bind_text (insert, 5, request->request_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 6, reserved_clock_now ());
  sqlite3_bind_int64 (insert, 7, request->deadline);
  if (request->holder != NULL)
    sqlite3_bind_text (insert, 8, request->holder, -1, SQLITE_STATIC);
  if (!store_sql_step_done (c, insert, error, "record the waitlist entry"))
    return FALSE;
  entry = (guint64) sqlite3_last_insert_rowid (c->db);
  /* Served at once when its units are free and nobody waits before it:
   * the promotion every other entry gets. */
  if (!store_waitlist_promote (c, item_id, NULL, error) || !answer_join (c, entry, receipt, error))
    return FALSE;
  receipt->replayed = FALSE;
  return TRUE;
}

gboolean
store_waitlist_leave (StoreConnection *c, guint64 entry, GError **error)
{
  g_auto(ReservedEntry) e = { 0 };
  g_autoptr(GError) late = NULL;
  gint64 item_id = 0;
  guint32 remaining = 0;

  if (!get_entry (c, entry, &e, &item_id, error))
    return FALSE;
  if (e.ended != NULL)
    return store_refuse_entry_ended (error, entry, e.ended);
  if (!end_entry (c, entry, RESERVED_ENTRY_LEFT, error))
    return FALSE;
  /* An offered entry gives its hold back, which passes the units on; a
   * waiting one may have been what held the queue up. */
  if (e.hold != 0)
    return store_holds_release (c, e.hold, &remaining, &late, error);
  return store_waitlist_promote (c, item_id, NULL, error);
}

GArray *
store_waitlist_list (StoreConnection *c, const char *item, const uid_t *only_caller, GError **error)
{
  g_autoptr(StoreStmt) stmt = waitlist_stmt (c, WL_LIST, error);

  if (stmt == NULL)
    return NULL;
  if (item != NULL)
    sqlite3_bind_text (stmt, 1, item, -1, SQLITE_STATIC);
  if (only_caller != NULL)
    sqlite3_bind_int64 (stmt, 2, *only_caller);
  return store_sql_read_rows (c, stmt, sizeof (ReservedEntry),
                              (GDestroyNotify) reserved_entry_clear, read_entry, G_MAXUINT,
                              "list the waitlist", error);
}

GPtrArray *
store_waitlist_waiting_holders (StoreConnection *c, GError **error)
{
  g_autoptr(StoreStmt) stmt = waitlist_stmt (c, WL_WAITING_HOLDERS, error);
  g_autoptr(GPtrArray) holders = g_ptr_array_new_with_free_func (g_free);
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (holders, column_text (stmt, 0));
  if (rc != SQLITE_DONE)
    {
      store_sql_storage_error (c, error, "list the waiters");
      return NULL;
    }
  return g_steal_pointer (&holders);
}
