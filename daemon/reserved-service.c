/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-service"

#include "config.h"

#include "reserved-service.h"

#include <gio/gunixfdlist.h>
#include <unistd.h>

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserve-validate.h"
#include "reserved-audit.h"
#include "reserved-call.h"
#include "reserved-callers.h"
#include "reserved-clock.h"
#include "reserved-holds.h"
#include "reserved-options.h"
#include "reserved-sale.h"

/* The polkit actions, one per thing only an administrator may do; their
 * defaults and texts are in data/org.reserved.Reserve1.policy. */
#define ACTION_CANCEL_ANY_ORDER "org.reserved.Reserve1.cancel-any-order"
#define ACTION_LIST_ALL_ORDERS  "org.reserved.Reserve1.list-all-orders"
#define ACTION_CREATE_ITEM      "org.reserved.Reserve1.create-item"
#define ACTION_RESTOCK          "org.reserved.Reserve1.restock"
#define ACTION_RETIRE_ITEM      "org.reserved.Reserve1.retire-item"
#define ACTION_SET_LIMIT        "org.reserved.Reserve1.set-per-user-limit"
#define ACTION_SET_SALE_WINDOW  "org.reserved.Reserve1.set-sale-window"

struct _ReservedService {
  ReserveReserve1Skeleton parent_instance;
  ReservedStore *store;
  ReservedAuthority *authority;
  ReservedDispatcher *dispatcher; /* from export on */
  GHashTable *stock_changes;      /* item -> latest remaining, not yet signalled */
  /* A shared store: item -> the newest version of its stock reported. */
  GHashTable *stock_versions;
  guint stock_changes_id;
  gint64 stock_changes_sent; /* monotonic µs of the last StockChanged */
  gboolean stopping;
  ReservedHolds *holds; /* from export on */
  guint32 max_hold_seconds;
  guint32 max_holds_per_uid;
  ReservedSale *sale; /* from export on */
};

G_DEFINE_TYPE (ReservedService, reserved_service, RESERVE_TYPE_RESERVE1_SKELETON)

enum { SIGNAL_DRAINED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* StockChanged is coalesced: a change after a quiet spell is sent at the
 * end of the main loop's turn, and the changes that follow within
 * STOCK_CHANGED_INTERVAL_US are merged into one signal per item with the
 * latest remaining stock. A signal per purchase would cost the daemon about
 * as much as the reply, and the bus as much as the purchases themselves. */
#define STOCK_CHANGED_INTERVAL_US (50 * 1000)

static gboolean
emit_stock_changes (gpointer user_data)
{
  ReservedService *self = user_data;
  GHashTableIter iter;
  gpointer item, remaining;

  g_hash_table_iter_init (&iter, self->stock_changes);
  while (g_hash_table_iter_next (&iter, &item, &remaining))
    reserve_reserve1_emit_stock_changed (RESERVE_RESERVE1 (self), item,
                                         GPOINTER_TO_UINT (remaining));
  g_hash_table_remove_all (self->stock_changes);
  self->stock_changes_id = 0;
  self->stock_changes_sent = g_get_monotonic_time ();
  return G_SOURCE_REMOVE;
}

static void
announce_stock (ReservedService *self, const char *item, guint32 remaining)
{
  gint64 wait_us = self->stock_changes_sent + STOCK_CHANGED_INTERVAL_US - g_get_monotonic_time ();

  g_hash_table_insert (self->stock_changes, g_strdup (item), GUINT_TO_POINTER (remaining));
  if (self->stock_changes_id != 0)
    return;
  self->stock_changes_id =
    wait_us <= 0 ? g_idle_add (emit_stock_changes, self)
                 : g_timeout_add ((guint) ((wait_us + 999) / 1000), emit_stock_changes, self);
}

/* After a write of this daemon's. When other daemons share the database,
 * the store reports every change in the order of its versions, this
 * daemon's own among them (on_store_stock_changed), and that report
 * alone is announced, so an older figure never follows a newer one. */
static void
stock_changed (ReservedService *self, const char *item, guint32 remaining)
{
  if (!reserved_store_is_shared (self->store))
    announce_stock (self, item, remaining);
}

static void
on_store_stock_changed (ReservedStore *store,
                        const char *item,
                        guint remaining,
                        guint64 version,
                        ReservedService *self)
{
  gpointer known = NULL;

  if (g_hash_table_lookup_extended (self->stock_versions, item, NULL, &known) &&
      *(guint64 *) known >= version)
    return;
  g_hash_table_insert (self->stock_versions, g_strdup (item), g_memdup2 (&version, sizeof version));
  announce_stock (self, item, remaining);
}

/* What is still to be said goes out before the object leaves the bus. */
static void
flush_stock_changes (ReservedService *self)
{
  if (self->stock_changes_id == 0)
    return;
  g_clear_handle_id (&self->stock_changes_id, g_source_remove);
  emit_stock_changes (self);
}

static void take_ended (ReservedService *self, GAsyncResult *result);
static gboolean check_offer_seconds (GVariant *options, GError **error);

static ReservedService *
service_of (ReservedCall *call)
{
  return reserved_call_get_handler_data (call);
}

/* --- Buy(s item, s user, u quantity, a{sv} options) ------------------------------ */

/* Buy's and Hold's (s item, s user, u quantity, a{sv} options). */
static gboolean
check_buy_arguments (const ReservedArg *args,
                     const ReservedOptionSpec *options,
                     const char *method,
                     GError **error)
{
  const char *request_id;

  return reserve_validate_item_name (args[0].s, error) &&
         reserve_validate_user_name (args[1].s, error) &&
         reserve_validate_range ("quantity", args[2].u, 1, RESERVE_BUY_QUANTITY_MAX, error) &&
         reserved_options_check (args[3].v, options, method, error) &&
         (!g_variant_lookup (args[3].v, RESERVE_OPTION_REQUEST_ID, "&s", &request_id) ||
          reserve_validate_request_id (request_id, error));
}

static gboolean
check_buy (const ReservedArg *args, GError **error)
{
  return check_buy_arguments (args, reserved_buy_options, "Buy", error);
}

/* What Buy and BuyWithDetails share once the store has answered: FALSE
 * when the call was ended with the store's refusal. */
static gboolean
finish_purchase (ReservedCall *call, GAsyncResult *result, ReservedReceipt *receipt)
{
  ReservedService *self = service_of (call);
  const ReservedArg *args = reserved_call_get_args (call);
  g_autoptr(GError) error = NULL;
  const char *request_id = NULL;
  ReservedAuditRecord record;

  /* Holds the purchase found overdue ended in its transaction, whatever
   * became of the purchase itself. */
  take_ended (self, result);
  g_variant_lookup (args[3].v, RESERVE_OPTION_REQUEST_ID, "&s", &request_id);
  if (!reserved_store_buy_finish (self->store, result, receipt, &error))
    {
      reserved_call_fail (call, error);
      return FALSE;
    }
  record = (ReservedAuditRecord){
    .customer = args[1].s,
    .uid = reserved_call_get_caller (call),
    .item = args[0].s,
    .order = receipt->order,
    .request_id = request_id,
    .quantity = args[2].u,
  };
  if (receipt->replayed)
    reserved_audit (RESERVED_AUDIT_REPLAY, &record,
                    "Order %" G_GUINT64_FORMAT " answered again for request_id %s of uid %u; "
                    "nothing taken",
                    receipt->order, request_id, (guint) record.uid);
  else
    {
      reserved_audit (RESERVED_AUDIT_PURCHASE, &record,
                      "Order %" G_GUINT64_FORMAT ": %s bought %u × %s (uid %u); %u left",
                      receipt->order, args[1].s, args[2].u, args[0].s, (guint) record.uid,
                      receipt->remaining);
      stock_changed (self, args[0].s, receipt->remaining);
    }
  return TRUE;
}

static void
on_bought (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  /* Taken before reserved_call_end(), which may drop the call's hold on it. */
  ReservedService *self = service_of (call);
  ReservedReceipt receipt = { 0 };

  if (finish_purchase (call, result, &receipt))
    reserve_reserve1_complete_buy (RESERVE_RESERVE1 (self), reserved_call_end (call), receipt.order,
                                   receipt.remaining);
}

static void
start_purchase (ReservedCall *call, const ReservedArg *args, GAsyncReadyCallback callback)
{
  const char *request_id = NULL;

  g_variant_lookup (args[3].v, RESERVE_OPTION_REQUEST_ID, "&s", &request_id);
  reserved_store_buy_async (service_of (call)->store,
                            &(ReservedPurchase){
                              .item = args[0].s,
                              .user = args[1].s,
                              .quantity = args[2].u,
                              .caller = reserved_call_get_caller (call),
                              .request_id = request_id,
                            },
                            callback, call);
}

static void
buy (ReservedCall *call, const ReservedArg *args)
{
  start_purchase (call, args, on_bought);
}

/* --- BuyWithDetails(s item, s user, u quantity, a{sv} options) ------------------ */

/* Buy answers a repeated request_id with the first order's id whatever
 * became of it, which a client cannot tell from a sale. This one says
 * whether the answer is a replay and what state the order is in now. */
static gboolean
check_buy_with_details (const ReservedArg *args, GError **error)
{
  return check_buy_arguments (args, reserved_buy_options, "BuyWithDetails", error);
}

typedef struct {
  ReservedCall *call;
  ReservedReceipt receipt;
} DetailsRead;

static void
on_details_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree DetailsRead *read = user_data;
  ReservedCall *call = read->call;
  ReservedService *self = service_of (call);
  const ReservedArg *args = reserved_call_get_args (call);
  ReservedOrder order = { 0 };
  g_autoptr(GError) error = NULL;
  GVariantDict details;

  if (!reserved_store_get_order_finish (self->store, result, &order, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  g_variant_dict_init (&details, NULL);
  g_variant_dict_insert (&details, "order", "t", read->receipt.order);
  g_variant_dict_insert (&details, "remaining", "u", read->receipt.remaining);
  g_variant_dict_insert (&details, "replayed", "b", read->receipt.replayed);
  g_variant_dict_insert (&details, "state", "s",
                         order.cancelled ? RESERVE_ORDER_STATE_CANCELLED
                                         : RESERVE_ORDER_STATE_ACTIVE);
  g_variant_dict_insert (&details, "item", "s", args[0].s);
  g_variant_dict_insert (&details, "user", "s", args[1].s);
  g_variant_dict_insert (&details, "quantity", "u", args[2].u);
  g_variant_dict_insert (&details, "created", "x", order.created);
  reserved_order_clear (&order);
  reserve_reserve1_complete_buy_with_details (RESERVE_RESERVE1 (self), reserved_call_end (call),
                                              g_variant_dict_end (&details));
}

static void
on_bought_with_details (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  DetailsRead *read = g_new0 (DetailsRead, 1);

  if (!finish_purchase (call, result, &read->receipt))
    {
      g_free (read);
      return;
    }
  /* The order exists (the store just found or made it) and orders are
   * never deleted; only its state may have moved on since, and its
   * creation time is the store's to say. */
  read->call = call;
  reserved_store_get_order_async (service_of (call)->store, read->receipt.order, on_details_read,
                                  read);
}

static void
buy_with_details (ReservedCall *call, const ReservedArg *args)
{
  start_purchase (call, args, on_bought_with_details);
}

/* --- Cancel(t order) ----------------------------------------------------------------- */

/* The owner is read before anything is decided because docs/api.md ranks
 * NoSuchOrder before PermissionDenied; an order's owner never changes, and
 * the cancel itself re-checks its state when it commits. */
static void
on_order_owner_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  g_autoptr(GError) error = NULL;
  ReservedOrder order = { 0 };
  gboolean found =
    reserved_store_get_order_finish (service_of (call)->store, result, &order, &error);

  reserved_call_owner_known (call, found && order.caller == reserved_call_get_caller (call), error);
  reserved_order_clear (&order);
}

static void
owns_order (ReservedCall *call)
{
  reserved_store_get_order_async (service_of (call)->store, reserved_call_get_args (call)[0].t,
                                  on_order_owner_read, call);
}

typedef struct {
  ReservedCall *call;
  char *item;
  guint32 remaining;
} Cancellation;

static void
on_cancelled_order_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree Cancellation *cancellation = user_data;
  ReservedCall *call = cancellation->call;
  ReservedService *self = service_of (call);
  guint64 order = reserved_call_get_args (call)[0].t;
  g_autofree char *item = cancellation->item;
  guint32 remaining = cancellation->remaining;
  ReservedOrder cancelled = { 0 };

  reserved_store_get_order_finish (self->store, result, &cancelled, NULL);
  reserved_audit (RESERVED_AUDIT_CANCELLATION,
                  &(ReservedAuditRecord){
                    .customer = cancelled.user,
                    .uid = reserved_call_get_caller (call),
                    .item = item,
                    .order = order,
                    .quantity = cancelled.quantity,
                  },
                  "Order %" G_GUINT64_FORMAT " cancelled by uid %u; %s has %u left", order,
                  (guint) reserved_call_get_caller (call), item, remaining);
  reserved_order_clear (&cancelled);
  reserve_reserve1_complete_cancel (RESERVE_RESERVE1 (self), reserved_call_end (call), remaining);
}

static void
on_cancelled (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;
  Cancellation *cancellation = g_new0 (Cancellation, 1);

  /* The offers the returned units went to. */
  take_ended (self, result);
  if (!reserved_store_cancel_finish (self->store, result, &cancellation->item,
                                     &cancellation->remaining, &error))
    {
      g_free (cancellation);
      reserved_call_fail (call, error);
      return;
    }
  stock_changed (self, cancellation->item, cancellation->remaining);
  /* The customer, for the audit trail, before the reply: an order's
   * customer never changes. */
  cancellation->call = call;
  reserved_store_get_order_async (self->store, reserved_call_get_args (call)[0].t,
                                  on_cancelled_order_read, cancellation);
}

static void
cancel (ReservedCall *call, const ReservedArg *args)
{
  reserved_store_cancel_async (service_of (call)->store, args[0].t, on_cancelled, call);
}

/* --- GetOrder(t order) ---------------------------------------------------------------- */

static void
on_order_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;
  ReservedOrder order = { 0 };
  GVariantDict info;

  if (!reserved_store_get_order_finish (self->store, result, &order, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  g_variant_dict_init (&info, NULL);
  g_variant_dict_insert (&info, "order", "t", order.id);
  g_variant_dict_insert (&info, "item", "s", order.item);
  g_variant_dict_insert (&info, "user", "s", order.user);
  g_variant_dict_insert (&info, "quantity", "u", order.quantity);
  g_variant_dict_insert (&info, "created", "x", order.created);
  g_variant_dict_insert (&info, "state", "s",
                         order.cancelled ? RESERVE_ORDER_STATE_CANCELLED
                                         : RESERVE_ORDER_STATE_ACTIVE);
  reserved_order_clear (&order);
  reserve_reserve1_complete_get_order (RESERVE_RESERVE1 (self), reserved_call_end (call),
                                       g_variant_dict_end (&info));
}

static void
get_order (ReservedCall *call, const ReservedArg *args)
{
  reserved_store_get_order_async (service_of (call)->store, args[0].t, on_order_read, call);
}

/* --- GetItem(s item), ListItems(), GetStatistics(): public reads ------------------- */

static gboolean
check_item_name (const ReservedArg *args, GError **error)
{
  return reserve_validate_item_name (args[0].s, error);
}

static void
on_item_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;
  ReservedItem item = { 0 };
  GVariantDict info;

  if (!reserved_store_get_item_finish (self->store, result, &item, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  g_variant_dict_init (&info, NULL);
  g_variant_dict_insert (&info, "name", "s", item.name);
  g_variant_dict_insert (&info, "capacity", "u", item.capacity);
  g_variant_dict_insert (&info, "remaining", "u", item.remaining);
  g_variant_dict_insert (&info, "sold", "u", item.sold);
  g_variant_dict_insert (&info, RESERVE_OPTION_PER_USER_LIMIT, "u", item.per_user_limit);
  g_variant_dict_insert (&info, "held", "u", item.held);
  /* A retired item, or one not on sale now, has nothing a Buy could take. */
  g_variant_dict_insert (&info, "available", "u",
                         item.retired || !item.on_sale ? 0 : item.available);
  g_variant_dict_insert (&info, "retired", "b", item.retired);
  g_variant_dict_insert (&info, "on_sale", "b", item.on_sale);
  if (item.sale.start != 0)
    g_variant_dict_insert (&info, RESERVE_OPTION_SALE_START, "x", item.sale.start);
  if (item.sale.end != 0)
    g_variant_dict_insert (&info, RESERVE_OPTION_SALE_END, "x", item.sale.end);
  g_variant_dict_insert (&info, "waiting", "u", item.waiting);
  g_variant_dict_insert (&info, RESERVE_OPTION_OFFER_SECONDS, "u", item.offer_seconds);
  reserved_item_clear (&item);
  reserve_reserve1_complete_get_item (RESERVE_RESERVE1 (self), reserved_call_end (call),
                                      g_variant_dict_end (&info));
}

static void
get_item (ReservedCall *call, const ReservedArg *args)
{
  reserved_store_get_item_async (service_of (call)->store, args[0].s, on_item_read, call);
}

/* Refuses a listing the daemon would otherwise build past its bound: the
 * bus drops a daemon whose reply passes its message limit. */
static gboolean
check_listing_size (guint n_rows,
                    const char *what,
                    const char *method,
                    const char *pager,
                    GError **error)
{
  if (n_rows <= RESERVE_LIST_REPLY_MAX)
    return TRUE;
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_LIMITS_EXCEEDED,
               "there are more than %u %s, the most one %s reply carries: read them in pages "
               "with %s",
               RESERVE_LIST_REPLY_MAX, what, method, pager);
  return FALSE;
}

static GVariant *
items_to_variant (GArray *items, guint n_items, gboolean with_limit)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE (with_limit ? "a(suuu)" : "a(suu)"));
  for (guint i = 0; i < n_items; i++)
    {
      const ReservedItem *item = &g_array_index (items, ReservedItem, i);

      if (with_limit)
        g_variant_builder_add (&builder, "(suuu)", item->name, item->capacity, item->remaining,
                               item->per_user_limit);
      else
        g_variant_builder_add (&builder, "(suu)", item->name, item->capacity, item->remaining);
    }
  return g_variant_builder_end (&builder);
}

static void
on_items_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = reserved_store_list_finish (self->store, result, &error);

  if (items == NULL ||
      !check_listing_size (items->len, "items", "ListItems", "ListItemsPage", &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  reserve_reserve1_complete_list_items (RESERVE_RESERVE1 (self), reserved_call_end (call),
                                        items_to_variant (items, items->len, FALSE));
}

static void
list_items (ReservedCall *call, const ReservedArg *args)
{
  reserved_store_list_items_page_async (service_of (call)->store, NULL, RESERVE_LIST_REPLY_MAX + 1,
                                        on_items_listed, call);
}

static void
get_statistics (ReservedCall *call, const ReservedArg *args)
{
  ReservedService *self = service_of (call);
  ReservedStoreStats stats;
  GVariantDict info;

  reserved_store_get_stats (self->store, &stats);
  g_variant_dict_init (&info, NULL);
  g_variant_dict_insert (&info, "commits", "t", stats.commits);
  g_variant_dict_insert (&info, "operations", "t", stats.operations);
  g_variant_dict_insert (&info, "largest_batch", "t", stats.largest_batch);
  /* Other calls than this one. */
  g_variant_dict_insert (&info, "calls_in_flight", "u",
                         reserved_dispatcher_get_in_flight (self->dispatcher) - 1);
  g_variant_dict_insert (&info, "callers_known", "u",
                         reserved_callers_get_n_cached (
                           reserved_dispatcher_get_callers (self->dispatcher)));
  reserve_reserve1_complete_get_statistics (RESERVE_RESERVE1 (self), reserved_call_end (call),
                                            g_variant_dict_end (&info));
}

/* --- ListOrders(s user) ----------------------------------------------------------------- */

static gboolean
check_list_orders (const ReservedArg *args, GError **error)
{
  return args[0].s[0] == '\0' || reserve_validate_user_name (args[0].s, error);
}

/* Anyone may list a customer's orders that they placed themselves; the
 * orders of every customer belong to no caller. */
static void
lists_own_orders (ReservedCall *call)
{
  reserved_call_owner_known (call, reserved_call_get_args (call)[0].s[0] != '\0', NULL);
}

static GVariant *
orders_to_variant (GArray *orders, guint n_orders, gboolean with_user)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE (with_user ? "a(tssuxs)" : "a(tsuxs)"));
  for (guint i = 0; i < n_orders; i++)
    {
      const ReservedOrder *order = &g_array_index (orders, ReservedOrder, i);
      const char *state =
        order->cancelled ? RESERVE_ORDER_STATE_CANCELLED : RESERVE_ORDER_STATE_ACTIVE;

      if (with_user)
        g_variant_builder_add (&builder, "(tssuxs)", order->id, order->item, order->user,
                               order->quantity, order->created, state);
      else
        g_variant_builder_add (&builder, "(tsuxs)", order->id, order->item, order->quantity,
                               order->created, state);
    }
  return g_variant_builder_end (&builder);
}

static void
on_orders_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) orders = reserved_store_list_orders_finish (self->store, result, &error);

  if (orders == NULL || !check_listing_size (orders->len, "orders in this listing", "ListOrders",
                                             "ListOrdersPage", &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  reserve_reserve1_complete_list_orders (RESERVE_RESERVE1 (self), reserved_call_end (call),
                                         orders_to_variant (orders, orders->len, FALSE));
}

static void
list_orders (ReservedCall *call, const ReservedArg *args)
{
  ReservedService *self = service_of (call);
  const char *user = args[0].s;
  uid_t caller = reserved_call_get_caller (call);

  /* Order ids are not secret, but who bought what is: a caller not allowed
   * to see everyone's sees only the orders its own uid placed. One row
   * past the bound says the listing is too long without reading it all. */
  reserved_store_list_orders_async (self->store, user[0] != '\0' ? user : NULL,
                                    reserved_call_is_admin (call) ? NULL : &caller,
                                    RESERVE_LIST_REPLY_MAX + 1, on_orders_listed, call);
}

/* --- ListOrdersPage(a{sv} query), ListItemsPage(a{sv} query) ---------------------- */

static gboolean
check_page_limit (GVariant *query, GError **error)
{
  guint32 limit;

  return !g_variant_lookup (query, RESERVE_QUERY_LIMIT, "u", &limit) ||
         reserve_validate_range ("limit", limit, 1, RESERVE_PAGE_LIMIT_MAX, error);
}

/* A cursor is the last order id of the page before it, as text: opaque to
 * clients, which only hand back what they were given. */
static gboolean
parse_order_cursor (const char *cursor, guint64 *after, GError **error)
{
  if (cursor[0] == '\0')
    {
      *after = 0;
      return TRUE;
    }
  if (g_ascii_string_to_unsigned (cursor, 10, 1, G_MAXINT64, after, NULL))
    return TRUE;
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
               "cursor “%s” was not given by ListOrdersPage: pass the next_cursor of the page "
               "before, or none for the first page",
               cursor);
  return FALSE;
}

static gboolean
check_list_orders_page (const ReservedArg *args, GError **error)
{
  GVariant *query = args[0].v;
  const char *text;
  guint64 after;

  if (!reserved_options_check (query, reserved_list_orders_page_query, "ListOrdersPage", error) ||
      !check_page_limit (query, error))
    return FALSE;
  if (g_variant_lookup (query, RESERVE_QUERY_CURSOR, "&s", &text) &&
      !parse_order_cursor (text, &after, error))
    return FALSE;
  if (g_variant_lookup (query, RESERVE_QUERY_USER, "&s", &text) &&
      !reserve_validate_user_name (text, error))
    return FALSE;
  if (g_variant_lookup (query, RESERVE_QUERY_ITEM, "&s", &text) &&
      !reserve_validate_item_name (text, error))
    return FALSE;
  if (g_variant_lookup (query, RESERVE_QUERY_STATE, "&s", &text) &&
      g_strcmp0 (text, RESERVE_ORDER_STATE_ACTIVE) != 0 &&
      g_strcmp0 (text, RESERVE_ORDER_STATE_CANCELLED) != 0)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
                   "state “%s” is not an order state: it must be “%s” or “%s”", text,
                   RESERVE_ORDER_STATE_ACTIVE, RESERVE_ORDER_STATE_CANCELLED);
      return FALSE;
    }
  return TRUE;
}

/* As ListOrders: naming a customer lists the orders the caller placed for
 * them; every customer's orders belong to no caller. */
static void
lists_own_orders_page (ReservedCall *call)
{
  reserved_call_owner_known (call,
                             g_variant_lookup (reserved_call_get_args (call)[0].v,
                                               RESERVE_QUERY_USER, "&s", NULL),
                             NULL);
}

typedef struct {
  ReservedCall *call;
  guint limit;
} PageRead;

static void
on_orders_page_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree PageRead *read = user_data;
  ReservedCall *call = read->call;
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) orders = reserved_store_list_orders_finish (self->store, result, &error);
  g_autofree char *next_cursor = NULL;
  guint n_orders;

  if (orders == NULL)
    {
      reserved_call_fail (call, error);
      return;
    }
  /* The page was read one row long: that row says there is more. */
  n_orders = MIN (orders->len, read->limit);
  next_cursor = orders->len > read->limit
                  ? g_strdup_printf ("%" G_GUINT64_FORMAT,
                                     g_array_index (orders, ReservedOrder, n_orders - 1).id)
                  : g_strdup ("");
  reserve_reserve1_complete_list_orders_page (RESERVE_RESERVE1 (self), reserved_call_end (call),
                                              orders_to_variant (orders, n_orders, TRUE),
                                              next_cursor);
}

static void
list_orders_page (ReservedCall *call, const ReservedArg *args)
{
  ReservedService *self = service_of (call);
  GVariant *query = args[0].v;
  uid_t caller = reserved_call_get_caller (call);
  PageRead *read = g_new0 (PageRead, 1);
  ReservedOrderQuery page = {
    .limit = RESERVE_PAGE_LIMIT_DEFAULT,
    .created_from = G_MININT64,
    .created_before = G_MAXINT64,
    .only_caller = reserved_call_is_admin (call) ? NULL : &caller,
  };
  const char *text;

  g_variant_lookup (query, RESERVE_QUERY_LIMIT, "u", &page.limit);
  if (g_variant_lookup (query, RESERVE_QUERY_CURSOR, "&s", &text))
    parse_order_cursor (text, &page.after_order, NULL);
  g_variant_lookup (query, RESERVE_QUERY_USER, "&s", &page.user);
  g_variant_lookup (query, RESERVE_QUERY_ITEM, "&s", &page.item);
  if (g_variant_lookup (query, RESERVE_QUERY_STATE, "&s", &text))
    page.state = g_str_equal (text, RESERVE_ORDER_STATE_ACTIVE) ? RESERVED_ORDER_STATE_ACTIVE
                                                                : RESERVED_ORDER_STATE_CANCELLED;
  g_variant_lookup (query, RESERVE_QUERY_CREATED_FROM, "x", &page.created_from);
  g_variant_lookup (query, RESERVE_QUERY_CREATED_BEFORE, "x", &page.created_before);

  read->call = call;
  read->limit = page.limit;
  page.limit++;
  reserved_store_list_orders_page_async (self->store, &page, on_orders_page_listed, read);
}

static gboolean
check_list_items_page (const ReservedArg *args, GError **error)
{
  GVariant *query = args[0].v;
  const char *cursor;

  if (!reserved_options_check (query, reserved_list_items_page_query, "ListItemsPage", error) ||
      !check_page_limit (query, error))
    return FALSE;
  if (g_variant_lookup (query, RESERVE_QUERY_CURSOR, "&s", &cursor) && cursor[0] != '\0' &&
      !reserve_validate_item_name (cursor, NULL))
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
                   "cursor “%s” was not given by ListItemsPage: pass the next_cursor of the page "
                   "before, or none for the first page",
                   cursor);
      return FALSE;
    }
  return TRUE;
}

static void
on_items_page_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  guint32 limit = RESERVE_PAGE_LIMIT_DEFAULT;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = reserved_store_list_finish (self->store, result, &error);
  guint n_items;

  g_variant_lookup (reserved_call_get_args (call)[0].v, RESERVE_QUERY_LIMIT, "u", &limit);
  if (items == NULL)
    {
      reserved_call_fail (call, error);
      return;
    }
  n_items = MIN (items->len, limit);
  reserve_reserve1_complete_list_items_page (RESERVE_RESERVE1 (self), reserved_call_end (call),
                                             items_to_variant (items, n_items, TRUE),
                                             items->len > limit
                                               ? g_array_index (items, ReservedItem, n_items - 1)
                                                   .name
                                               : "");
}

/* The page is read one row long: that row says there is more. */
static void
list_items_page (ReservedCall *call, const ReservedArg *args)
{
  GVariant *query = args[0].v;
  guint32 limit = RESERVE_PAGE_LIMIT_DEFAULT;
  const char *cursor = "";

  g_variant_lookup (query, RESERVE_QUERY_LIMIT, "u", &limit);
  g_variant_lookup (query, RESERVE_QUERY_CURSOR, "&s", &cursor);
  reserved_store_list_items_page_async (service_of (call)->store, cursor[0] != '\0' ? cursor : NULL,
                                        limit + 1, on_items_page_listed, call);
}

/* --- CreateItem(s item, u capacity, a{sv} options) --------------------------------- */

/* --- sale windows ------------------------------------------------------------------ */

static gboolean
check_sale_time (const char *name, gint64 value, const char *unbounded, GError **error)
{
  if (value >= 0 && value <= RESERVE_SALE_TIME_MAX)
    return TRUE;
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
               "%s %" G_GINT64_FORMAT " is not a time of a sale window: it must be 0 (%s) or "
               "microseconds since the Unix epoch, 1 to %" G_GINT64_FORMAT
               " (the end of year 9999)",
               name, value, unbounded, RESERVE_SALE_TIME_MAX);
  return FALSE;
}

/* CreateItem's options and SetSaleWindow's arguments alike. */
static gboolean
check_sale_window (const ReservedSaleWindow *window,
                   const char *start_name,
                   const char *end_name,
                   GError **error)
{
  if (!check_sale_time (start_name, window->start, "no start", error) ||
      !check_sale_time (end_name, window->end, "no end", error))
    return FALSE;
  if (window->start != 0 && window->end != 0 && window->start >= window->end)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
                   "%s %" G_GINT64_FORMAT " is not before %s %" G_GINT64_FORMAT
                   ": a sale window opens before it closes (0 leaves either bound open)",
                   start_name, window->start, end_name, window->end);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  ReservedService *self; /* owned */
  char *item;
} Opening;

static Opening *
opening_new (ReservedService *self, const char *item)
{
  Opening *opening = g_new0 (Opening, 1);

  opening->self = g_object_ref (self);
  opening->item = g_strdup (item);
  return opening;
}

static void
opening_free (Opening *opening)
{
  g_object_unref (opening->self);
  g_free (opening->item);
  g_free (opening);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Opening, opening_free)

/* StockChanged of an item whose window opened or closed, with its stock
 * as read now. */
static void
on_stock_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(Opening) opening = user_data;
  ReservedItem now = { 0 };

  if (reserved_store_get_item_finish (opening->self->store, result, &now, NULL))
    announce_stock (opening->self, opening->item, now.remaining);
  reserved_item_clear (&now);
}

static void
on_promoted_at_opening (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Opening *opening = user_data;
  ReservedService *self = opening->self;
  g_autoptr(GError) error = NULL;
  guint32 remaining = 0;

  take_ended (self, result);
  if (!reserved_store_promote_waitlist_finish (self->store, result, &remaining, &error))
    g_message ("Could not offer the opened sale of %s to its waitlist: %s", opening->item,
               error->message);
  /* StockChanged as before an opening, with what the offers left. */
  reserved_store_get_item_async (self->store, opening->item, on_stock_read, opening);
}

/* The hook every opening of a sale window goes through: the window's
 * start passed (on the timer, or the wall clock was set forward), a
 * change of the window made the item on sale now, or the daemon started
 * while it was open. Clients watching the item learn it is on sale from
 * StockChanged, after the entries waiting for the item were offered
 * what its stock allows, in one write. */
static void
on_sale_window_opened (ReservedService *self, const char *item)
{
  /* Those who waited for the sale are served first, in one write. */
  reserved_store_promote_waitlist_async (self->store, item, on_promoted_at_opening,
                                         opening_new (self, item));
}

/* A window closed: its remaining stock is as it was, but watchers learn
 * that it can no longer be bought. */
static void
on_sale_window_closed (ReservedService *self, const char *item)
{
  reserved_store_get_item_async (self->store, item, on_stock_read, opening_new (self, item));
}

static void
sale_window_from_options (GVariant *options, ReservedSaleWindow *window)
{
  *window = (ReservedSaleWindow){ 0 };
  g_variant_lookup (options, RESERVE_OPTION_SALE_START, "x", &window->start);
  g_variant_lookup (options, RESERVE_OPTION_SALE_END, "x", &window->end);
}

static gboolean
check_set_sale_window (const ReservedArg *args, GError **error)
{
  return reserve_validate_item_name (args[0].s, error) &&
         check_sale_window (&(ReservedSaleWindow){ .start = args[1].x, .end = args[2].x }, "start",
                            "end", error);
}

/* The reply to SetSaleWindow comes once the windows were looked at again:
 * a window that opened has had its waitlist's offers queued before. */
static void
on_sale_window_looked_at (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);

  reserved_sale_check_finish (RESERVED_SALE (source), result);
  reserve_reserve1_complete_set_sale_window (RESERVE_RESERVE1 (self), reserved_call_end (call));
}

static void
on_sale_window_set (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  const ReservedArg *args = reserved_call_get_args (call);
  g_autoptr(GError) error = NULL;

  if (!reserved_store_set_sale_window_finish (self->store, result, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  reserved_audit (RESERVED_AUDIT_SALE_WINDOW_SET,
                  &(ReservedAuditRecord){
                    .uid = reserved_call_get_caller (call),
                    .item = args[0].s,
                  },
                  "Sale window of %s set to [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") by uid %u",
                  args[0].s, args[1].x, args[2].x, (guint) reserved_call_get_caller (call));
  reserved_sale_check_async (self->sale, on_sale_window_looked_at, call);
}

static void
set_sale_window (ReservedCall *call, const ReservedArg *args)
{
  reserved_store_set_sale_window_async (service_of (call)->store, args[0].s,
                                        &(ReservedSaleWindow){ .start = args[1].x,
                                                               .end = args[2].x },
                                        on_sale_window_set, call);
}

static gboolean
check_create_item (const ReservedArg *args, GError **error)
{
  ReservedSaleWindow window;

  if (!reserve_validate_item_name (args[0].s, error) ||
      !reserve_validate_range ("capacity", args[1].u, 0, RESERVE_CAPACITY_MAX, error) ||
      !reserved_options_check (args[2].v, reserved_create_item_options, "CreateItem", error) ||
      !check_offer_seconds (args[2].v, error))
    return FALSE;
  sale_window_from_options (args[2].v, &window);
  return check_sale_window (&window, RESERVE_OPTION_SALE_START, RESERVE_OPTION_SALE_END, error);
}

/* As for SetSaleWindow: the reply comes once its window was looked at. */
static void
on_created_item_looked_at (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);

  reserved_sale_check_finish (RESERVED_SALE (source), result);
  reserve_reserve1_complete_create_item (RESERVE_RESERVE1 (self), reserved_call_end (call));
}

static void
on_item_created (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  const ReservedArg *args = reserved_call_get_args (call);
  g_autoptr(GError) error = NULL;

  if (!reserved_store_create_item_finish (self->store, result, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  reserved_audit (RESERVED_AUDIT_ITEM_CREATED,
                  &(ReservedAuditRecord){
                    .uid = reserved_call_get_caller (call),
                    .item = args[0].s,
                    .quantity = args[1].u,
                  },
                  "Item %s created by uid %u with capacity %u", args[0].s,
                  (guint) reserved_call_get_caller (call), args[1].u);
  stock_changed (self, args[0].s, args[1].u);
  reserved_sale_check_async (self->sale, on_created_item_looked_at, call);
}

static void
create_item (ReservedCall *call, const ReservedArg *args)
{
  guint32 per_user_limit = 0;
  ReservedSaleWindow window;
  guint32 offer_seconds = 0;

  g_variant_lookup (args[2].v, RESERVE_OPTION_PER_USER_LIMIT, "u", &per_user_limit);
  g_variant_lookup (args[2].v, RESERVE_OPTION_OFFER_SECONDS, "u", &offer_seconds);
  sale_window_from_options (args[2].v, &window);
  reserved_store_create_item_async (service_of (call)->store, args[0].s, args[1].u, per_user_limit,
                                    &window, offer_seconds, on_item_created, call);
}

/* --- Restock(s item, u quantity) --------------------------------------------------- */

static gboolean
check_restock (const ReservedArg *args, GError **error)
{
  return reserve_validate_item_name (args[0].s, error) &&
         reserve_validate_range ("quantity", args[1].u, 1, RESERVE_RESTOCK_QUANTITY_MAX, error);
}

static void
on_restocked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  const ReservedArg *args = reserved_call_get_args (call);
  g_autoptr(GError) error = NULL;
  guint32 remaining = 0;

  take_ended (self, result);
  if (!reserved_store_restock_finish (self->store, result, &remaining, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  reserved_audit (RESERVED_AUDIT_RESTOCKED,
                  &(ReservedAuditRecord){
                    .uid = reserved_call_get_caller (call),
                    .item = args[0].s,
                    .quantity = args[1].u,
                  },
                  "Item %s restocked by uid %u with %u units; %u left", args[0].s,
                  (guint) reserved_call_get_caller (call), args[1].u, remaining);
  stock_changed (self, args[0].s, remaining);
  reserve_reserve1_complete_restock (RESERVE_RESERVE1 (self), reserved_call_end (call), remaining);
}

/* Whether the item exists and the capacity stays in range is the store's
 * to say, inside its transaction, once the caller has been allowed. */
static void
restock (ReservedCall *call, const ReservedArg *args)
{
  reserved_store_restock_async (service_of (call)->store, args[0].s, args[1].u, on_restocked, call);
}

/* --- RetireItem(s item) ------------------------------------------------------------- */

static void
on_item_retired (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  const ReservedArg *args = reserved_call_get_args (call);
  g_autoptr(GError) error = NULL;

  if (!reserved_store_retire_item_finish (self->store, result, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  reserved_audit (RESERVED_AUDIT_ITEM_RETIRED,
                  &(ReservedAuditRecord){
                    .uid = reserved_call_get_caller (call),
                    .item = args[0].s,
                  },
                  "Item %s retired by uid %u", args[0].s, (guint) reserved_call_get_caller (call));
  /* Nothing of it is for sale any more. */
  stock_changed (self, args[0].s, 0);
  reserve_reserve1_complete_retire_item (RESERVE_RESERVE1 (self), reserved_call_end (call));
}

static void
retire_item (ReservedCall *call, const ReservedArg *args)
{
  reserved_store_retire_item_async (service_of (call)->store, args[0].s, on_item_retired, call);
}

/* --- SetPerUserLimit(s item, u limit) ------------------------------------------------ */

static gboolean
check_set_per_user_limit (const ReservedArg *args, GError **error)
{
  return reserve_validate_item_name (args[0].s, error) &&
         reserve_validate_range ("limit", args[1].u, 0, RESERVE_CAPACITY_MAX, error);
}

static void
on_per_user_limit_set (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  const ReservedArg *args = reserved_call_get_args (call);
  g_autoptr(GError) error = NULL;

  if (!reserved_store_set_per_user_limit_finish (self->store, result, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  reserved_audit (RESERVED_AUDIT_LIMIT_SET,
                  &(ReservedAuditRecord){
                    .uid = reserved_call_get_caller (call),
                    .item = args[0].s,
                    .quantity = args[1].u,
                  },
                  "Per-user limit of %s set to %u by uid %u", args[0].s, args[1].u,
                  (guint) reserved_call_get_caller (call));
  reserve_reserve1_complete_set_per_user_limit (RESERVE_RESERVE1 (self), reserved_call_end (call));
}

static void
set_per_user_limit (ReservedCall *call, const ReservedArg *args)
{
  reserved_store_set_per_user_limit_async (service_of (call)->store, args[0].s, args[1].u,
                                           on_per_user_limit_set, call);
}

/* --- holds ------------------------------------------------------------------------------ */

/* Each hold that a committed write ended is announced once, with the
 * stock its units went back to. */
static void
holds_ended (ReservedService *self, GArray *ended)
{
  for (guint i = 0; i < ended->len; i++)
    {
      const ReservedEndedHold *end = &g_array_index (ended, ReservedEndedHold, i);

      g_debug ("Hold %" G_GUINT64_FORMAT " of %s ended (%s), %u left", end->hold, end->item,
               end->reason, end->remaining);
      reserved_holds_forget (self->holds, end->hold);
      reserve_reserve1_emit_hold_ended (RESERVE_RESERVE1 (self), end->hold, end->item, end->reason);
      stock_changed (self, end->item, end->remaining);
    }
}

/* Each offer a committed write made to the head of a waitlist is
 * announced once; its hold has an expiry the timer must know. */
static void
waitlist_offered (ReservedService *self, GArray *offers)
{
  for (guint i = 0; i < offers->len; i++)
    {
      const ReservedOffer *offer = &g_array_index (offers, ReservedOffer, i);

      g_debug ("Entry %" G_GUINT64_FORMAT " offered hold %" G_GUINT64_FORMAT " of %s, %u left",
               offer->entry, offer->hold, offer->item, offer->remaining);
      reserve_reserve1_emit_waitlist_offered (RESERVE_RESERVE1 (self), offer->entry, offer->hold,
                                              offer->item, offer->expires);
      stock_changed (self, offer->item, offer->remaining);
    }
  if (offers->len > 0 && self->holds != NULL)
    reserved_holds_reschedule (self->holds);
}

/* What any write ended and offered, once it is committed. */
static void
take_ended (ReservedService *self, GAsyncResult *result)
{
  g_autoptr(GArray) ended = reserved_store_take_ended_holds (self->store, result);
  g_autoptr(GArray) offers = reserved_store_take_offers (self->store, result);

  holds_ended (self, ended);
  waitlist_offered (self, offers);
}

static void
on_holds_ended (ReservedHolds *holds, GArray *ended, ReservedService *self)
{
  holds_ended (self, ended);
}

static void
on_waitlist_offered (ReservedHolds *holds, GArray *offers, ReservedService *self)
{
  waitlist_offered (self, offers);
}

/* MaxHoldSeconds, for the argument checks, which run before anything of
 * the call's service is at hand: InvalidArgument comes before every other
 * error (docs/api.md), so a ttl past it must be refused there. Set from
 * the configuration before the service is exported. */
static guint32 max_hold_seconds_for_checks = RESERVE_MAX_HOLD_SECONDS_DEFAULT;

static gboolean
check_ttl_in_range (guint32 ttl, GError **error)
{
  if (ttl <= max_hold_seconds_for_checks)
    return TRUE;
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
               "ttl %u is too long: a hold lasts 1 to %u seconds (MaxHoldSeconds)", ttl,
               max_hold_seconds_for_checks);
  return FALSE;
}

static gboolean
check_offer_seconds (GVariant *options, GError **error)
{
  guint32 seconds;

  if (!g_variant_lookup (options, RESERVE_OPTION_OFFER_SECONDS, "u", &seconds))
    return TRUE;
  if (seconds == 0)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
                   "offer_seconds 0 is too short: an offer lasts 1 to %u seconds "
                   "(MaxHoldSeconds)",
                   max_hold_seconds_for_checks);
      return FALSE;
    }
  if (seconds > max_hold_seconds_for_checks)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
                   "offer_seconds %u is too long: an offer lasts 1 to %u seconds "
                   "(MaxHoldSeconds)",
                   seconds, max_hold_seconds_for_checks);
      return FALSE;
    }
  return TRUE;
}

/* Hold(s item, s user, u quantity, a{sv} options) */

static gboolean
check_hold (const ReservedArg *args, GError **error)
{
  guint32 ttl = 0;
  gboolean bound = FALSE;

  if (!check_buy_arguments (args, reserved_hold_options, "Hold", error))
    return FALSE;
  g_variant_lookup (args[3].v, RESERVE_OPTION_TTL, "u", &ttl);
  g_variant_lookup (args[3].v, RESERVE_OPTION_RELEASE_ON_DISCONNECT, "b", &bound);
  if (!check_ttl_in_range (ttl, error))
    return FALSE;
  /* A hold with neither would never come back by itself. */
  if (ttl == 0 && !bound)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
                   "a hold needs a ttl of 1 second or more, or release_on_disconnect: "
                   "otherwise nothing would ever end it (ttl was %u)",
                   ttl);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  ReservedCall *call;
  char *holder; /* nullable */
  int fifo;     /* HoldFd: the write end for the caller, else -1 */
} HoldCall;

static void
on_held (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HoldCall *hold_call = user_data;
  ReservedCall *call = hold_call->call;
  g_autofree char *holder = hold_call->holder;
  ReservedService *self = service_of (call);
  const ReservedArg *args = reserved_call_get_args (call);
  g_autoptr(GError) error = NULL;
  ReservedHoldReceipt receipt = { 0 };

  int fifo = hold_call->fifo;

  g_free (hold_call);
  take_ended (self, result);
  if (!reserved_store_hold_finish (self->store, result, &receipt, &error))
    {
      if (fifo >= 0)
        {
          close (fifo);
          reserved_holds_fifo_abandon (self->holds, holder);
        }
      reserved_call_fail (call, error);
      return;
    }
  if (!receipt.replayed)
    {
      g_debug ("Hold %" G_GUINT64_FORMAT ": %u × %s by uid %u, %u left, expires %" G_GINT64_FORMAT,
               receipt.hold, args[2].u, args[0].s, (guint) reserved_call_get_caller (call),
               receipt.remaining, receipt.expires);
      stock_changed (self, args[0].s, receipt.remaining);
    }
  reserved_holds_reschedule (self->holds);
  if (fifo >= 0)
    {
      g_autoptr(GUnixFDList) fds = g_unix_fd_list_new_from_array (&fifo, 1);

      /* A replayed request_id answers with a new descriptor for a hold
       * bound to another: that one, not this, keeps the hold. */
      if (!receipt.replayed)
        reserved_holds_fifo_bind (self->holds, holder, receipt.hold);
      reserve_reserve1_complete_hold_fd (RESERVE_RESERVE1 (self), reserved_call_end (call), fds,
                                         receipt.hold, g_variant_new_handle (0), receipt.expires,
                                         receipt.remaining);
      /* Sent: the caller's copies alone keep the FIFO open now. */
      if (receipt.replayed)
        reserved_holds_fifo_abandon (self->holds, holder);
      return;
    }
  if (holder != NULL)
    reserved_holds_check_holder (self->holds, holder);
  reserve_reserve1_complete_hold (RESERVE_RESERVE1 (self), reserved_call_end (call), receipt.hold,
                                  receipt.expires, receipt.remaining);
}

static void
start_hold (ReservedCall *call, const ReservedArg *args, gboolean with_fd)
{
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;
  const char *request_id = NULL;
  guint32 ttl = 0;
  gboolean bound = FALSE;
  HoldCall *hold_call;
  g_autofree char *fifo_holder = NULL;
  int fifo = -1;

  g_variant_lookup (args[3].v, RESERVE_OPTION_REQUEST_ID, "&s", &request_id);
  g_variant_lookup (args[3].v, RESERVE_OPTION_TTL, "u", &ttl);
  g_variant_lookup (args[3].v, RESERVE_OPTION_RELEASE_ON_DISCONNECT, "b", &bound);
  if (with_fd && (fifo = reserved_holds_open_fifo (self->holds, &fifo_holder, &error)) < 0)
    {
      reserved_call_fail (call, error);
      return;
    }
  hold_call = g_new0 (HoldCall, 1);
  hold_call->call = call;
  hold_call->fifo = fifo;
  /* A descriptor binds the hold; release_on_disconnect is then moot. */
  if (with_fd)
    hold_call->holder = g_steal_pointer (&fifo_holder);
  else if (bound)
    {
      /* Watched before the write is queued: a departure seen from now on
       * is queued behind it, and ends it. */
      hold_call->holder = reserved_holds_holder_of (self->holds, reserved_call_get_sender (call));
      reserved_holds_watch (self->holds, hold_call->holder);
    }
  reserved_store_hold_async (self->store,
                             &(ReservedHoldRequest){
                               .item = args[0].s,
                               .user = args[1].s,
                               .quantity = args[2].u,
                               .caller = reserved_call_get_caller (call),
                               .request_id = request_id,
                               .ttl = ttl,
                               .holder = hold_call->holder,
                               .max_holds = self->max_holds_per_uid,
                             },
                             on_held, hold_call);
}

static void
hold (ReservedCall *call, const ReservedArg *args)
{
  start_hold (call, args, FALSE);
}

/* HoldFd(s item, s user, u quantity, a{sv} options): the same as Hold, and
 * ttl may be left out, since the descriptor ends it. */
static gboolean
check_hold_fd (const ReservedArg *args, GError **error)
{
  guint32 ttl = 0;

  g_variant_lookup (args[3].v, RESERVE_OPTION_TTL, "u", &ttl);
  return check_buy_arguments (args, reserved_hold_options, "HoldFd", error) &&
         check_ttl_in_range (ttl, error);
}

static void
hold_fd (ReservedCall *call, const ReservedArg *args)
{
  start_hold (call, args, TRUE);
}

/* Confirm, Release, Extend (t hold, ...): the hold's maker, or an
 * administrator. Hold ids only grow and are not secret, as order ids are
 * not, so another caller's hold is PermissionDenied, not NoSuchHold:
 * nothing is hidden by pretending it does not exist. */
static void
on_hold_owner_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(ReservedHold) hold = { 0 };
  gboolean found = reserved_store_get_hold_finish (service_of (call)->store, result, &hold, &error);

  reserved_call_owner_known (call, found && hold.caller == reserved_call_get_caller (call), error);
}

static void
owns_hold (ReservedCall *call)
{
  reserved_store_get_hold_async (service_of (call)->store, reserved_call_get_args (call)[0].t,
                                 on_hold_owner_read, call);
}

static gboolean
check_confirm (const ReservedArg *args, GError **error)
{
  return reserved_options_check (args[1].v, reserved_confirm_options, "Confirm", error);
}

static void
on_confirmed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;
  g_autofree char *item = NULL;
  guint64 order = 0;
  guint32 remaining = 0;

  take_ended (self, result);
  if (!reserved_store_confirm_finish (self->store, result, &order, &remaining, &item, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  stock_changed (self, item, remaining);
  reserved_holds_reschedule (self->holds);
  reserve_reserve1_complete_confirm (RESERVE_RESERVE1 (self), reserved_call_end (call), order,
                                     remaining);
}

static void
confirm (ReservedCall *call, const ReservedArg *args)
{
  gboolean or_buy = FALSE;

  g_variant_lookup (args[1].v, RESERVE_OPTION_OR_BUY, "b", &or_buy);
  reserved_store_confirm_async (service_of (call)->store, args[0].t, or_buy, on_confirmed, call);
}

static void
on_released (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;
  guint32 remaining = 0;

  take_ended (self, result);
  if (!reserved_store_release_finish (self->store, result, &remaining, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  reserved_holds_reschedule (self->holds);
  reserve_reserve1_complete_release (RESERVE_RESERVE1 (self), reserved_call_end (call), remaining);
}

static void
release (ReservedCall *call, const ReservedArg *args)
{
  reserved_store_release_async (service_of (call)->store, args[0].t, on_released, call);
}

static gboolean
check_extend (const ReservedArg *args, GError **error)
{
  if (args[1].u == 0)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
                   "ttl 0 is too short: a hold is extended by 1 second or more");
      return FALSE;
    }
  return check_ttl_in_range (args[1].u, error);
}

static void
on_extended (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;
  gint64 expires = 0;

  take_ended (self, result);
  if (!reserved_store_extend_finish (self->store, result, &expires, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  reserved_holds_reschedule (self->holds);
  reserve_reserve1_complete_extend (RESERVE_RESERVE1 (self), reserved_call_end (call), expires);
}

static void
extend (ReservedCall *call, const ReservedArg *args)
{
  ReservedService *self = service_of (call);

  reserved_store_extend_async (self->store, args[0].t, args[1].u, self->max_hold_seconds,
                               on_extended, call);
}

/* ListHolds(s user): everyone may list the holds they made. */
static void
lists_own_holds (ReservedCall *call)
{
  reserved_call_owner_known (call, TRUE, NULL);
}

static void
on_holds_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) holds = reserved_store_list_finish (self->store, result, &error);
  GVariantBuilder builder;

  if (holds == NULL)
    {
      reserved_call_fail (call, error);
      return;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(tssuxx)"));
  for (guint i = 0; i < holds->len; i++)
    {
      const ReservedHold *hold = &g_array_index (holds, ReservedHold, i);
      g_variant_builder_add (&builder, "(tssuxx)", hold->id, hold->item, hold->user, hold->quantity,
                             hold->created, hold->expires);
    }
  reserve_reserve1_complete_list_holds (RESERVE_RESERVE1 (self), reserved_call_end (call),
                                        g_variant_builder_end (&builder));
}

static void
list_holds (ReservedCall *call, const ReservedArg *args)
{
  const char *user = args[0].s;
  uid_t caller = reserved_call_get_caller (call);

  reserved_store_list_holds_async (service_of (call)->store, user[0] != '\0' ? user : NULL,
                                   reserved_call_is_admin (call) ? NULL : &caller, on_holds_listed,
                                   call);
}

/* --- the waitlist ---------------------------------------------------------------------- */

/* JoinWaitlist(s item, s user, u quantity, a{sv} options) */
static gboolean
check_join_waitlist (const ReservedArg *args, GError **error)
{
  gint64 deadline = 0;
  gint64 now = reserved_clock_now ();

  if (!check_buy_arguments (args, reserved_join_waitlist_options, "JoinWaitlist", error))
    return FALSE;
  if (g_variant_lookup (args[3].v, RESERVE_OPTION_DEADLINE, "x", &deadline) && deadline <= now)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
                   "deadline %" G_GINT64_FORMAT " is not in the future (now is %" G_GINT64_FORMAT
                   "): it is in microseconds since the Unix epoch, and an entry must be able to "
                   "wait",
                   deadline, now);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  ReservedCall *call;
  char *holder; /* nullable */
} JoinCall;

static void
on_joined (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree JoinCall *join_call = user_data;
  ReservedCall *call = join_call->call;
  g_autofree char *holder = join_call->holder;
  ReservedService *self = service_of (call);
  const ReservedArg *args = reserved_call_get_args (call);
  g_autoptr(GError) error = NULL;
  ReservedJoinReceipt receipt = { 0 };

  take_ended (self, result);
  if (!reserved_store_join_waitlist_finish (self->store, result, &receipt, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  if (!receipt.replayed)
    g_debug ("Waitlist entry %" G_GUINT64_FORMAT
             ": %u × %s for uid %u, position %u, offer %" G_GUINT64_FORMAT,
             receipt.entry, args[2].u, args[0].s, (guint) reserved_call_get_caller (call),
             receipt.position, receipt.hold);
  /* A deadline is a time the timer must wake for. */
  reserved_holds_reschedule (self->holds);
  if (holder != NULL)
    reserved_holds_check_holder (self->holds, holder);
  reserve_reserve1_complete_join_waitlist (RESERVE_RESERVE1 (self), reserved_call_end (call),
                                           receipt.entry, receipt.position, receipt.hold);
}

static void
join_waitlist (ReservedCall *call, const ReservedArg *args)
{
  ReservedService *self = service_of (call);
  JoinCall *join_call = g_new0 (JoinCall, 1);
  const char *request_id = NULL;
  gint64 deadline = 0;
  gboolean bound = FALSE;

  g_variant_lookup (args[3].v, RESERVE_OPTION_REQUEST_ID, "&s", &request_id);
  g_variant_lookup (args[3].v, RESERVE_OPTION_DEADLINE, "x", &deadline);
  g_variant_lookup (args[3].v, RESERVE_OPTION_RELEASE_ON_DISCONNECT, "b", &bound);
  join_call->call = call;
  if (bound)
    {
      /* Watched before the write is queued, as for Hold. */
      join_call->holder = reserved_holds_holder_of (self->holds, reserved_call_get_sender (call));
      reserved_holds_watch (self->holds, join_call->holder);
    }
  reserved_store_join_waitlist_async (self->store,
                                      &(ReservedJoinRequest){
                                        .item = args[0].s,
                                        .user = args[1].s,
                                        .quantity = args[2].u,
                                        .caller = reserved_call_get_caller (call),
                                        .request_id = request_id,
                                        .deadline = deadline,
                                        .holder = join_call->holder,
                                      },
                                      on_joined, join_call);
}

/* LeaveWaitlist(t entry): the entry's maker, or an administrator. */
static void
on_entry_owner_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(ReservedEntry) entry = { 0 };
  gboolean found =
    reserved_store_get_entry_finish (service_of (call)->store, result, &entry, &error);

  reserved_call_owner_known (call, found && entry.caller == reserved_call_get_caller (call), error);
}

static void
owns_entry (ReservedCall *call)
{
  reserved_store_get_entry_async (service_of (call)->store, reserved_call_get_args (call)[0].t,
                                  on_entry_owner_read, call);
}

static void
on_left (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;

  take_ended (self, result);
  if (!reserved_store_leave_waitlist_finish (self->store, result, &error))
    {
      reserved_call_fail (call, error);
      return;
    }
  reserved_holds_reschedule (self->holds);
  reserve_reserve1_complete_leave_waitlist (RESERVE_RESERVE1 (self), reserved_call_end (call));
}

static void
leave_waitlist (ReservedCall *call, const ReservedArg *args)
{
  reserved_store_leave_waitlist_async (service_of (call)->store, args[0].t, on_left, call);
}

/* ListWaitlist(s item): everyone may list the entries they made. */
static gboolean
check_list_waitlist (const ReservedArg *args, GError **error)
{
  return args[0].s[0] == '\0' || reserve_validate_item_name (args[0].s, error);
}

static void
on_waitlist_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  ReservedService *self = service_of (call);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) entries = reserved_store_list_finish (self->store, result, &error);
  GVariantBuilder builder;

  if (entries == NULL)
    {
      reserved_call_fail (call, error);
      return;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(tssuuxxt)"));
  for (guint i = 0; i < entries->len; i++)
    {
      const ReservedEntry *entry = &g_array_index (entries, ReservedEntry, i);
      g_variant_builder_add (&builder, "(tssuuxxt)", entry->id, entry->item, entry->user,
                             entry->quantity, entry->position, entry->created, entry->deadline,
                             entry->hold);
    }
  reserve_reserve1_complete_list_waitlist (RESERVE_RESERVE1 (self), reserved_call_end (call),
                                           g_variant_builder_end (&builder));
}

static void
list_waitlist (ReservedCall *call, const ReservedArg *args)
{
  uid_t caller = reserved_call_get_caller (call);

  reserved_store_list_waitlist_async (service_of (call)->store,
                                      args[0].s[0] != '\0' ? args[0].s : NULL,
                                      reserved_call_is_admin (call) ? NULL : &caller,
                                      on_waitlist_listed, call);
}

/* --- the table ------------------------------------------------------------------------- */

static const ReservedMethod methods[] = {
  { "Buy", RESERVED_ACCESS_CALLER, .check = check_buy, .handler = buy },
  { "Cancel", RESERVED_ACCESS_OWNER, ACTION_CANCEL_ANY_ORDER,
    "cancel an order placed by another user (only its buyer or an administrator may)",
    .is_owner = owns_order, .handler = cancel },
  { "GetOrder", RESERVED_ACCESS_OWNER, ACTION_LIST_ALL_ORDERS,
    "see an order placed by another user (only its buyer or an administrator may)",
    .is_owner = owns_order, .handler = get_order },
  { "GetItem", RESERVED_ACCESS_ANYONE, .check = check_item_name, .handler = get_item },
  { "ListItems", RESERVED_ACCESS_ANYONE, .handler = list_items },
  { "ListOrders", RESERVED_ACCESS_OWNER, ACTION_LIST_ALL_ORDERS,
    "list the orders of every customer (administrators only; name a user instead)",
    .check = check_list_orders, .is_owner = lists_own_orders, .owner_sees_own = TRUE,
    .handler = list_orders },
  { "CreateItem", RESERVED_ACCESS_ADMIN, ACTION_CREATE_ITEM, "create items (administrators only)",
    .check = check_create_item, .handler = create_item },
  { "Restock", RESERVED_ACCESS_ADMIN, ACTION_RESTOCK, "restock items (administrators only)",
    .check = check_restock, .handler = restock },
  { "GetStatistics", RESERVED_ACCESS_ANYONE, .handler = get_statistics },
  { "BuyWithDetails", RESERVED_ACCESS_CALLER, .check = check_buy_with_details,
    .handler = buy_with_details },
  { "ListOrdersPage", RESERVED_ACCESS_OWNER, ACTION_LIST_ALL_ORDERS,
    "list the orders of every customer (administrators only; name a user instead)",
    .check = check_list_orders_page, .is_owner = lists_own_orders_page, .owner_sees_own = TRUE,
    .handler = list_orders_page },
  { "ListItemsPage", RESERVED_ACCESS_ANYONE, .check = check_list_items_page,
    .handler = list_items_page },
  { "Hold", RESERVED_ACCESS_CALLER, .check = check_hold, .handler = hold },
  { "HoldFd", RESERVED_ACCESS_CALLER, .check = check_hold_fd, .handler = hold_fd },
  { "Confirm", RESERVED_ACCESS_OWNER, ACTION_CANCEL_ANY_ORDER,
    "confirm a hold made by another user (only its maker or an administrator may)",
    .check = check_confirm, .is_owner = owns_hold, .handler = confirm },
  { "Release", RESERVED_ACCESS_OWNER, ACTION_CANCEL_ANY_ORDER,
    "release a hold made by another user (only its maker or an administrator may)",
    .is_owner = owns_hold, .handler = release },
  { "Extend", RESERVED_ACCESS_OWNER, ACTION_CANCEL_ANY_ORDER,
    "extend a hold made by another user (only its maker or an administrator may)",
    .check = check_extend, .is_owner = owns_hold, .handler = extend },
  { "ListHolds", RESERVED_ACCESS_OWNER, ACTION_LIST_ALL_ORDERS, "list the holds of every caller",
    .check = check_list_orders, .is_owner = lists_own_holds, .owner_sees_own = TRUE,
    .handler = list_holds },
  { "RetireItem", RESERVED_ACCESS_ADMIN, ACTION_RETIRE_ITEM, "retire items (administrators only)",
    .check = check_item_name, .handler = retire_item },
  { "SetPerUserLimit", RESERVED_ACCESS_ADMIN, ACTION_SET_LIMIT,
    "change an item's per-user limit (administrators only)", .check = check_set_per_user_limit,
    .handler = set_per_user_limit },
  { "SetSaleWindow", RESERVED_ACCESS_ADMIN, ACTION_SET_SALE_WINDOW,
    "change when an item is on sale (administrators only)", .check = check_set_sale_window,
    .handler = set_sale_window },
  { "JoinWaitlist", RESERVED_ACCESS_CALLER, .check = check_join_waitlist,
    .handler = join_waitlist },
  { "LeaveWaitlist", RESERVED_ACCESS_OWNER, ACTION_CANCEL_ANY_ORDER,
    "remove another user's waitlist entry (only its maker or an administrator may)",
    .is_owner = owns_entry, .handler = leave_waitlist },
  { "ListWaitlist", RESERVED_ACCESS_OWNER, ACTION_LIST_ALL_ORDERS,
    "list the waitlist entries of every caller", .check = check_list_waitlist,
    .is_owner = lists_own_holds, .owner_sees_own = TRUE, .handler = list_waitlist },
};

const ReservedMethod *
reserved_service_get_methods (guint *n_methods)
{
  *n_methods = G_N_ELEMENTS (methods);
  return methods;
}

/* --- life cycle -------------------------------------------------------------------- */

static void
on_method_call (GDBusConnection *connection,
                const char *sender,
                const char *object_path,
                const char *interface_name,
                const char *method_name,
                GVariant *parameters,
                GDBusMethodInvocation *invocation,
                gpointer user_data)
{
  ReservedService *self = user_data;

  reserved_dispatcher_dispatch (self->dispatcher, invocation);
}

/* The generated skeleton's own dispatch turns every argument into a
 * GValue and emits a signal per call; the dispatcher takes them from the
 * message instead. Properties stay the skeleton's. */
static GDBusInterfaceVTable dispatch_vtable;

static GDBusInterfaceVTable *
reserved_service_get_vtable (GDBusInterfaceSkeleton *skeleton)
{
  return &dispatch_vtable;
}

static void
on_drained (ReservedDispatcher *dispatcher, ReservedService *self)
{
  g_signal_emit (self, signals[SIGNAL_DRAINED], 0);
}

ReservedService *
reserved_service_new (ReservedStore *store, ReservedAuthority *authority, const char *default_item)
{
  ReservedService *self = g_object_new (RESERVED_TYPE_SERVICE, NULL);

  self->store = g_object_ref (store);
  self->authority = g_object_ref (authority);
  g_signal_connect_object (store, "stock-changed", G_CALLBACK (on_store_stock_changed), self, 0);
  reserve_reserve1_set_version (RESERVE_RESERVE1 (self), RESERVED_VERSION);
  reserve_reserve1_set_default_item (RESERVE_RESERVE1 (self), default_item);
  self->max_hold_seconds = RESERVE_MAX_HOLD_SECONDS_DEFAULT;
  self->max_holds_per_uid = RESERVE_MAX_HOLDS_PER_UID_DEFAULT;
  return self;
}

void
reserved_service_set_hold_limits (ReservedService *self,
                                  guint32 max_hold_seconds,
                                  guint32 max_holds_per_uid)
{
  self->max_hold_seconds = max_hold_seconds;
  max_hold_seconds_for_checks = max_hold_seconds;
  self->max_holds_per_uid = max_holds_per_uid;
}

gboolean
reserved_service_export (ReservedService *self, GDBusConnection *connection, GError **error)
{
  g_autoptr(ReservedCallers) callers = reserved_callers_new (connection);

  g_return_val_if_fail (self->dispatcher == NULL, FALSE);
  self->dispatcher =
    reserved_dispatcher_new (reserve_reserve1_interface_info (), methods, G_N_ELEMENTS (methods),
                             callers, self->authority, G_OBJECT (self));
  g_signal_connect (self->dispatcher, "drained", G_CALLBACK (on_drained), self);
  self->holds = reserved_holds_new (self->store, connection);
  g_signal_connect (self->holds, "ended", G_CALLBACK (on_holds_ended), self);
  g_signal_connect (self->holds, "offered", G_CALLBACK (on_waitlist_offered), self);
  self->sale = reserved_sale_new (self->store);
  g_signal_connect_swapped (self->sale, "opened", G_CALLBACK (on_sale_window_opened), self);
  g_signal_connect_swapped (self->sale, "closed", G_CALLBACK (on_sale_window_closed), self);
  reserved_sale_check (self->sale);
  return g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self), connection,
                                           RESERVE_OBJECT_PATH, error);
}

void
reserved_service_stop (ReservedService *self)
{
  if (self->stopping)
    return;
  self->stopping = TRUE;
  flush_stock_changes (self);
  if (g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self)) != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self));
  if (self->dispatcher != NULL)
    reserved_dispatcher_stop (self->dispatcher);
  else
    g_signal_emit (self, signals[SIGNAL_DRAINED], 0);
}

static void
reserved_service_dispose (GObject *object)
{
  ReservedService *self = RESERVED_SERVICE (object);

  if (g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self)) != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self));
  if (self->dispatcher != NULL)
    g_signal_handlers_disconnect_by_data (self->dispatcher, self);
  if (self->holds != NULL)
    g_signal_handlers_disconnect_by_data (self->holds, self);
  g_clear_object (&self->holds);
  if (self->sale != NULL)
    g_signal_handlers_disconnect_by_data (self->sale, self);
  g_clear_object (&self->sale);
  /* A shared store's reports may still come: none reaches a service gone. */
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_data (self->store, self);
  g_clear_handle_id (&self->stock_changes_id, g_source_remove);
  g_clear_pointer (&self->stock_changes, g_hash_table_unref);
  g_clear_pointer (&self->stock_versions, g_hash_table_unref);
  g_clear_object (&self->dispatcher);
  g_clear_object (&self->authority);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (reserved_service_parent_class)->dispose (object);
}

static void
reserved_service_class_init (ReservedServiceClass *klass)
{
  GDBusInterfaceSkeletonClass *skeleton_class = G_DBUS_INTERFACE_SKELETON_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = reserved_service_dispose;
  /* The generated get_vtable looks at nothing of its instance. */
  dispatch_vtable = *skeleton_class->get_vtable (NULL);
  dispatch_vtable.method_call = on_method_call;
  skeleton_class->get_vtable = reserved_service_get_vtable;

  signals[SIGNAL_DRAINED] = g_signal_new ("drained", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
reserved_service_init (ReservedService *self)
{
  self->stock_changes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->stock_versions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}
