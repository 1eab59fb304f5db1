// SPDX-License-Identifier: LGPL-2.1-or-later
/* The PostgreSQL backend's reads: each StoreReader is a connection of its
 * own, and each read one statement, so it sees one snapshot. They answer
 * as the SQLite backend's do (reserved-store-sql.c, -holds.c,
 * -waitlist.c): the same rows, in the same order (names by their bytes,
 * as SQLite compares them), and "only the caller's" is the caller's uid on
 * this daemon's node. */
#define G_LOG_DOMAIN "reserved-store"

#include "reserve-error.h"
#include "reserved-clock.h"
#include "reserved-store-answers.h"
#include "reserved-store-pg.h"

struct _StoreReader {
  StorePgLink link;
  StoreBackend *backend;
};

StoreReader *
store_pg_open_reader (StoreBackend *backend, GError **error)
{
  StoreReader *reader = g_new0 (StoreReader, 1);

  reader->backend = backend;
  reader->link.uri = store_pg_backend_uri (backend);
  reader->link.node = store_pg_backend_node (backend);
  reader->link.busy_timeout_ms = store_pg_backend_busy_timeout (backend);
  if (!store_pg_link_connect (&reader->link, error))
    {
      g_free (reader);
      return NULL;
    }
  return reader;
}

void
store_pg_reader_set_busy_timeout (StoreReader *reader, guint milliseconds)
{
  /* Applied by the next read that needs to connect again; reads take no
   * locks that writers hold. */
  reader->link.busy_timeout_ms = milliseconds;
}

gboolean
store_pg_close_reader (StoreReader *reader)
{
  gboolean clean;

  if (reader == NULL)
    return TRUE;
  clean = !reader->link.failed;
  store_pg_link_close (&reader->link);
  g_free (reader);
  return clean;
}

/* --- parameters --------------------------------------------------------------- */

/* The caller's uid on this node, or NULL for anyone: two parameters. */
static void
param_caller (StorePgParams *params, StoreReader *r, const uid_t *only_caller)
{
  if (only_caller != NULL)
    store_pg_params_number (params, *only_caller);
  else
    store_pg_params_text (params, NULL);
  store_pg_params_text (params, r->link.node);
}

static PGresult *
query (StoreReader *r,
       const char *sql,
       const StorePgParams *params,
       const char *doing,
       GError **error)
{
  return store_pg_link_query (&r->link, sql, params->n, params->values, doing, error);
}

typedef void (*ReadRow) (const PGresult *result, int row, gpointer element);

static GArray *
read_rows (StoreReader *r,
           const char *sql,
           const StorePgParams *params,
           guint element_size,
           GDestroyNotify clear,
           ReadRow read_row,
           const char *doing,
           GError **error)
{
  PGresult *result = query (r, sql, params, doing, error);
  GArray *rows;
  int n;

  if (result == NULL)
    return NULL;
  n = PQntuples (result);
  rows = g_array_sized_new (FALSE, TRUE, element_size, (guint) n);
  g_array_set_clear_func (rows, clear);
  g_array_set_size (rows, (guint) n);
  for (int row = 0; row < n; row++)
    read_row (result, row, rows->data + (gsize) row * element_size);
  PQclear (result);
  return rows;
}

/* One row or none: FALSE with @error on failure; *@found says which. */
static PGresult *
read_one (StoreReader *r,
          const char *sql,
          const StorePgParams *params,
          gboolean *found,
          const char *doing,
          GError **error)
{
  PGresult *result = query (r, sql, params, doing, error);

  if (result != NULL)
    *found = PQntuples (result) > 0;
  return result;
}

/* The row of id @id that @sql ($1 the id) reads into @out, or the
 * refusal there is no such row. */
static gboolean
get_one (StoreReader *r,
         const char *sql,
         guint64 id,
         ReadRow read_row,
         gpointer out,
         gboolean (*refuse) (GError **error, guint64 id),
         const char *doing,
         GError **error)
{
  g_auto (StorePgParams) params = { 0 };
  gboolean found = FALSE;
  PGresult *result;

  if (id > G_MAXINT64)
    return refuse (error, id);
  store_pg_params_id (&params, id);
  result = read_one (r, sql, &params, &found, doing, error);
  if (result == NULL)
    return FALSE;
  if (found)
    read_row (result, 0, out);
  PQclear (result);
  return found || refuse (error, id);
}

/* --- orders ---------------------------------------------------------------------- */

#define ORDER_COLUMNS                                                               \
  "o.id, i.name, o.customer, o.quantity, o.created, o.caller_uid, o.cancelled::int" \
  " FROM orders o JOIN items i ON i.id = o.item_id"

static void
read_order (const PGresult *result, int row, gpointer element)
{
  ReservedOrder *out = element;

  out->id = (guint64) store_pg_int (result, row, 0);
  out->item = store_pg_text (result, row, 1);
  out->user = store_pg_text (result, row, 2);
  out->quantity = (guint32) store_pg_int (result, row, 3);
  out->created = store_pg_int (result, row, 4);
  out->caller = (uid_t) store_pg_int (result, row, 5);
  out->cancelled = store_pg_int (result, row, 6) != 0;
}

gboolean
store_pg_get_order (StoreReader *r, guint64 order, ReservedOrder *out, GError **error)
{
  return get_one (r, "SELECT " ORDER_COLUMNS " WHERE o.id = $1", order, read_order, out,
                  store_refuse_no_such_order, "look up the order", error);
}

GArray *
store_pg_list_orders (StoreReader *r,
                      const char *user,
                      const uid_t *only_caller,
                      guint max_rows,
                      GError **error)
{
  g_auto (StorePgParams) params = { 0 };

  store_pg_params_text (&params, user);
  param_caller (&params, r, only_caller);
  if (max_rows != G_MAXUINT)
    store_pg_params_number (&params, max_rows);
  else
    store_pg_params_text (&params, NULL);
  return read_rows (r,
                    "SELECT " ORDER_COLUMNS " WHERE ($1::text IS NULL OR o.customer = $1)"
                    " AND ($2::bigint IS NULL OR (o.caller_uid = $2 AND o.node = $3))"
                    " ORDER BY o.created, o.id LIMIT $4::bigint",
                    &params, sizeof (ReservedOrder), (GDestroyNotify) reserved_order_clear,
                    read_order, "list the orders", error);
}

GArray *
store_pg_list_orders_page (StoreReader *r, const ReservedOrderQuery *q, GError **error)
{
  g_auto (StorePgParams) params = { 0 };

  store_pg_params_number (&params, (gint64) MIN (q->after_order, (guint64) G_MAXINT64));
  store_pg_params_text (&params, q->user);
  store_pg_params_text (&params, q->item);
  if (q->state != RESERVED_ORDER_STATE_ANY)
    store_pg_params_text (&params, q->state == RESERVED_ORDER_STATE_CANCELLED ? "true" : "false");
  else
    store_pg_params_text (&params, NULL);
  param_caller (&params, r, q->only_caller);
  store_pg_params_number (&params, q->created_from);
  store_pg_params_number (&params, q->created_before);
  store_pg_params_number (&params, q->limit);
  return read_rows (r,
                    "SELECT " ORDER_COLUMNS " WHERE o.id > $1"
                    " AND ($2::text IS NULL OR o.customer = $2)"
                    " AND ($3::text IS NULL OR i.name = $3)"
                    " AND ($4::boolean IS NULL OR o.cancelled = $4)"
                    " AND ($5::bigint IS NULL OR (o.caller_uid = $5 AND o.node = $6))"
                    " AND o.created >= $7 AND o.created < $8"
                    " ORDER BY o.id LIMIT $9",
                    &params, sizeof (ReservedOrder), (GDestroyNotify) reserved_order_clear,
                    read_order, "list the orders", error);
}

/* --- items ------------------------------------------------------------------------- */

static void
read_listed_item (const PGresult *result, int row, gpointer element)
{
  ReservedItem *out = element;

  out->name = store_pg_text (result, row, 0);
  out->capacity = (guint32) store_pg_int (result, row, 1);
  out->remaining = (guint32) store_pg_int (result, row, 2);
  out->per_user_limit = (guint32) store_pg_int (result, row, 3);
}

gboolean
store_pg_get_item (StoreReader *r, const char *name, ReservedItem *out, GError **error)
{
  g_auto (StorePgParams) params = { 0 };
  gboolean found = FALSE;
  PGresult *result;

  store_pg_params_text (&params, name);
  store_pg_params_number (&params, reserved_clock_now ());
  result = read_one (r,
                     "SELECT name, capacity, remaining, per_user_limit,"
                     " (SELECT COALESCE(SUM(quantity), 0) FROM orders"
                     "   WHERE item_id = items.id AND NOT cancelled),"
                     " (SELECT COALESCE(SUM(quantity), 0) FROM holds"
                     "   WHERE item_id = items.id AND ended IS NULL),"
                     " (SELECT COALESCE(SUM(quantity), 0) FROM holds"
                     "   WHERE item_id = items.id AND ended IS NULL AND expires > 0"
                     "   AND expires <= $2::bigint),"
                     " retired::int, sale_start, sale_end,"
                     " (SELECT COALESCE(SUM(quantity), 0) FROM waitlist"
                     "   WHERE item_id = items.id AND ended IS NULL AND hold_id IS NULL),"
                     " offer_seconds"
                     " FROM items WHERE name = $1",
                     &params, &found, "look up the item", error);
  if (result == NULL)
    return FALSE;
  if (!found)
    {
      PQclear (result);
      return store_refuse_no_such_item (error, name);
    }
  read_listed_item (result, 0, out);
  out->sold = (guint32) store_pg_int (result, 0, 4);
  out->held = (guint32) store_pg_int (result, 0, 5);
  out->waiting = (guint32) store_pg_int (result, 0, 10);
  out->offer_seconds = (guint32) store_pg_int (result, 0, 11);
  /* Overdue holds are for sale (the next purchase ends them); units owed
   * to the waitlist are not. */
  out->available = out->remaining + (guint32) store_pg_int (result, 0, 6);
  out->available = out->available > out->waiting ? out->available - out->waiting : 0;
  out->retired = store_pg_int (result, 0, 7) != 0;
  out->sale.start = store_pg_int (result, 0, 8);
  out->sale.end = store_pg_int (result, 0, 9);
  out->on_sale = reserved_sale_window_contains (&out->sale, reserved_clock_wall_now ());
  PQclear (result);
  return TRUE;
}

GArray *
store_pg_list_items_page (StoreReader *r, const char *after, guint limit, GError **error)
{
  g_auto (StorePgParams) params = { 0 };

  store_pg_params_text (&params, after);
  if (limit != G_MAXUINT)
    store_pg_params_number (&params, limit);
  else
    store_pg_params_text (&params, NULL);
  return read_rows (r,
                    "SELECT name, capacity, remaining, per_user_limit FROM items"
                    " WHERE NOT retired AND ($1::text IS NULL OR name COLLATE \"C\" > $1)"
                    " ORDER BY name COLLATE \"C\" LIMIT $2::bigint",
                    &params, sizeof (ReservedItem), (GDestroyNotify) reserved_item_clear,
                    read_listed_item, "list the items", error);
}

GArray *
store_pg_list_items (StoreReader *r, GError **error)
{
  return store_pg_list_items_page (r, NULL, G_MAXUINT, error);
}

static void
read_sale_window (const PGresult *result, int row, gpointer element)
{
  ReservedItem *out = element;

  out->name = store_pg_text (result, row, 0);
  out->sale.start = store_pg_int (result, row, 1);
  out->sale.end = store_pg_int (result, row, 2);
}

GArray *
store_pg_list_sale_windows (StoreReader *r, GError **error)
{
  g_auto (StorePgParams) params = { 0 };

  return read_rows (r,
                    "SELECT name, sale_start, sale_end FROM items"
                    " WHERE NOT retired AND (sale_start > 0 OR sale_end > 0)"
                    " ORDER BY name COLLATE \"C\"",
                    &params, sizeof (ReservedItem), (GDestroyNotify) reserved_item_clear,
                    read_sale_window, "list the sale windows", error);
}

/* --- holds --------------------------------------------------------------------------- */

#define HOLD_COLUMNS                                                                             \
  "h.id, i.name, h.customer, h.quantity, h.created, h.expires, h.caller_uid, h.holder, h.ended," \
  " h.order_id FROM holds h JOIN items i ON i.id = h.item_id"

static void
read_hold (const PGresult *result, int row, gpointer element)
{
  ReservedHold *out = element;

  out->id = (guint64) store_pg_int (result, row, 0);
  out->item = store_pg_text (result, row, 1);
  out->user = store_pg_text (result, row, 2);
  out->quantity = (guint32) store_pg_int (result, row, 3);
  out->created = store_pg_int (result, row, 4);
  out->expires = store_pg_int (result, row, 5);
  out->caller = (uid_t) store_pg_int (result, row, 6);
  out->holder = store_pg_text (result, row, 7);
  out->ended = store_pg_text (result, row, 8);
  out->order = (guint64) store_pg_int (result, row, 9);
}

gboolean
store_pg_get_hold (StoreReader *r, guint64 hold, ReservedHold *out, GError **error)
{
  return get_one (r, "SELECT " HOLD_COLUMNS " WHERE h.id = $1", hold, read_hold, out,
                  store_refuse_no_such_hold, "look up the hold", error);
}

GArray *
store_pg_list_holds (StoreReader *r, const char *user, const uid_t *only_caller, GError **error)
{
  g_auto (StorePgParams) params = { 0 };

  store_pg_params_text (&params, user);
  param_caller (&params, r, only_caller);
  return read_rows (r,
                    "SELECT " HOLD_COLUMNS " WHERE h.ended IS NULL"
                    " AND ($1::text IS NULL OR h.customer = $1)"
                    " AND ($2::bigint IS NULL OR (h.caller_uid = $2 AND h.node = $3))"
                    " ORDER BY h.id",
                    &params, sizeof (ReservedHold), (GDestroyNotify) reserved_hold_clear, read_hold,
                    "list the holds", error);
}

gboolean
store_pg_next_expiry (StoreReader *r, gint64 *expires)
{
  g_auto (StorePgParams) params = { 0 };
  g_autoptr(GError) error = NULL;
  gboolean found = FALSE;
  gboolean some = FALSE;
  PGresult *result;

  /* A waiting entry's deadline ends it like an expiry. */
  result = read_one (r,
                     "SELECT LEAST ((SELECT MIN(expires) FROM holds"
                     " WHERE ended IS NULL AND expires > 0),"
                     " (SELECT MIN(deadline) FROM waitlist"
                     " WHERE ended IS NULL AND hold_id IS NULL AND deadline > 0))",
                     &params, &found, "find the next expiry", &error);
  if (result == NULL)
    {
      /* The timer then looks again after its longest wait. */
      g_message ("%s", error->message);
      return FALSE;
    }
  some = found && !PQgetisnull (result, 0, 0);
  if (some)
    *expires = store_pg_int (result, 0, 0);
  PQclear (result);
  return some;
}

/* --- the waitlist ---------------------------------------------------------------------- */

#define ENTRY_COLUMNS                                                                     \
  "w.id, i.name, w.customer, w.quantity, w.created, w.deadline, w.caller_uid, w.hold_id," \
  " w.ended, reserved_position (w) FROM waitlist w JOIN items i ON i.id = w.item_id"

static void
read_entry (const PGresult *result, int row, gpointer element)
{
  ReservedEntry *out = element;

  out->id = (guint64) store_pg_int (result, row, 0);
  out->item = store_pg_text (result, row, 1);
  out->user = store_pg_text (result, row, 2);
  out->quantity = (guint32) store_pg_int (result, row, 3);
  out->created = store_pg_int (result, row, 4);
  out->deadline = store_pg_int (result, row, 5);
  out->caller = (uid_t) store_pg_int (result, row, 6);
  out->hold = (guint64) store_pg_int (result, row, 7);
  out->ended = store_pg_text (result, row, 8);
  out->position = (guint32) store_pg_int (result, row, 9);
}

gboolean
store_pg_get_entry (StoreReader *r, guint64 entry, ReservedEntry *out, GError **error)
{
  return get_one (r, "SELECT " ENTRY_COLUMNS " WHERE w.id = $1", entry, read_entry, out,
                  store_refuse_no_such_entry, "look up the waitlist entry", error);
}

GArray *
store_pg_list_waitlist (StoreReader *r, const char *item, const uid_t *only_caller, GError **error)
{
  g_auto (StorePgParams) params = { 0 };

  store_pg_params_text (&params, item);
  param_caller (&params, r, only_caller);
  return read_rows (r,
                    "SELECT " ENTRY_COLUMNS " WHERE w.ended IS NULL"
                    " AND ($1::text IS NULL OR i.name = $1)"
                    " AND ($2::bigint IS NULL OR (w.caller_uid = $2 AND w.node = $3))"
                    " ORDER BY w.id",
                    &params, sizeof (ReservedEntry), (GDestroyNotify) reserved_entry_clear,
                    read_entry, "list the waitlist", error);
}

GPtrArray *
store_pg_list_waiting_holders (StoreReader *r, GError **error)
{
  g_auto (StorePgParams) params = { 0 };
  GPtrArray *holders;
  PGresult *result;

  /* Only this daemon's: a holder is a connection on its own bus. */
  store_pg_params_text (&params, r->link.node);
  result = query (r,
                  "SELECT DISTINCT holder FROM waitlist WHERE ended IS NULL AND hold_id IS NULL"
                  " AND holder IS NOT NULL AND node = $1",
                  &params, "list the waiters", error);
  if (result == NULL)
    return NULL;
  holders = g_ptr_array_new_with_free_func (g_free);
  for (int row = 0; row < PQntuples (result); row++)
    g_ptr_array_add (holders, store_pg_text (result, row, 0));
  PQclear (result);
  return holders;
}
