#define G_LOG_DOMAIN "reserved-service"

#include "config.h"

#include "reserved-service.h"

#include "reserve-error.h"
#include "reserve-generated.h"
#include "reserve-names.h"
#include "reserve-validate.h"
#include "reserved-callers.h"
#include "reserved-options.h"

struct _ReservedService {
  GObject          parent_instance;
  ReserveReserve1 *skeleton;
  ReservedStore   *store;
  ReservedGate    *gate;
  ReservedCallers *callers;
  guint            in_flight;  /* accepted calls not yet answered */
  GHashTable      *callers_in_flight;  /* uid -> CallerLoad, while it has calls held */
  GHashTable      *group_lookups;      /* uid -> GPtrArray of PendingCall waiting for its groups */
  GHashTable      *stock_changes;     /* item -> latest remaining, not yet signalled */
  guint            stock_changes_id;
  gboolean         stopping;
};

G_DEFINE_TYPE (ReservedService, reserved_service, G_TYPE_OBJECT)

enum { SIGNAL_DRAINED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
log_change (const char *item, guint64 order, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Structured so an operator can filter the journal by item or order. */
static void
log_change (const char *item, guint64 order, const char *format, ...)
{
  g_autofree char *message = NULL;
  char order_text[24];
  va_list args;
  const GLogField fields[] = {
    { "MESSAGE", NULL, -1 },
    { "PRIORITY", "7", -1 },
    { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
    { "RESERVED_ITEM", item, -1 },
    { "RESERVED_ORDER", order_text, -1 },
  };
  GLogField with_message[G_N_ELEMENTS (fields)];

  /* Formatting costs more than the rest of a purchase's bookkeeping; skip
   * it unless someone will read it (-v, G_MESSAGES_DEBUG). */
  if (g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    return;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_snprintf (order_text, sizeof order_text, "%" G_GUINT64_FORMAT, order);
  memcpy (with_message, fields, sizeof fields);
  with_message[0].value = message;
  g_log_structured_array (G_LOG_LEVEL_DEBUG, with_message,
                          order != 0 ? G_N_ELEMENTS (fields) : G_N_ELEMENTS (fields) - 1);
}

/* StockChanged is coalesced per main-loop turn: under load one signal per
 * item carries the latest remaining stock instead of one per purchase,
 * which would cost the bus as much as the purchases themselves. */
static gboolean
emit_stock_changes (gpointer user_data)
{
  ReservedService *self = user_data;
  GHashTableIter iter;
  gpointer item, remaining;

  g_hash_table_iter_init (&iter, self->stock_changes);
  while (g_hash_table_iter_next (&iter, &item, &remaining))
    reserve_reserve1_emit_stock_changed (self->skeleton, item, GPOINTER_TO_UINT (remaining));
  g_hash_table_remove_all (self->stock_changes);
  self->stock_changes_id = 0;
  return G_SOURCE_REMOVE;
}

static void
stock_changed (ReservedService *self, const char *item, guint32 remaining)
{
  g_hash_table_insert (self->stock_changes, g_strdup (item), GUINT_TO_POINTER (remaining));
  if (self->stock_changes_id == 0)
    self->stock_changes_id = g_idle_add (emit_stock_changes, self);
}

static void
return_error (GDBusMethodInvocation *invocation, const GError *error)
{
  g_debug ("%s refused: %s", g_dbus_method_invocation_get_method_name (invocation), error->message);
  g_dbus_method_invocation_return_gerror (invocation, error);
}

/* --- calls in flight ------------------------------------------------------------ */

/* A method call from the moment it is accepted until its reply is sent:
 * first while the bus is asked who the caller is, then while the store
 * commits. Freeing it is what lets a stopping daemon exit. */
typedef struct _PendingCall PendingCall;
typedef void (*CallerHandler) (PendingCall *call);

struct _PendingCall {
  ReservedService       *self;        /* owned */
  GDBusMethodInvocation *invocation;  /* owned */
  CallerHandler          handler;
  uid_t                  caller;
  gboolean               counted;     /* in its caller's CallerLoad */
  gboolean               asks_admin;  /* the handler needs to know whether the caller is an admin */
  gboolean               admin;       /* that answer, decided once before the handler runs */
};

/* What one uid has the daemon hold: every held call costs memory (its
 * message, its invocation, its queued write), and a client that sends
 * faster than the disk commits would otherwise grow the daemon without end.
 * So each uid may have RESERVE_CALLS_IN_FLIGHT_MAX calls held at once,
 * counted from the moment its uid is known until the reply.
 *
 * Calls still waiting for the bus to say who sent them are not counted
 * here (their uid is what is being asked). They wait for one round trip to
 * the bus, and the bus bounds them itself: a connection has at most
 * max_replies_per_connection calls awaiting replies, and a uid at most
 * max_connections_per_user connections (128 and 256 on a stock system
 * bus). */
typedef struct {
  guint    calls;
  gboolean refusal_logged;  /* one message per episode, not one per refused call */
} CallerLoad;

/* Counts @call against its caller's limit; FALSE, with @call answered,
 * when the caller is at the limit (the caller then frees @call). */
static gboolean
admit_caller (PendingCall *call)
{
  ReservedService *self = call->self;
  gpointer key = GUINT_TO_POINTER ((guint) call->caller);
  CallerLoad *load = g_hash_table_lookup (self->callers_in_flight, key);
  g_autoptr(GError) error = NULL;

  if (load == NULL)
    {
      load = g_new0 (CallerLoad, 1);
      g_hash_table_insert (self->callers_in_flight, key, load);
    }
  if (load->calls < RESERVE_CALLS_IN_FLIGHT_MAX)
    {
      load->calls++;
      call->counted = TRUE;
      return TRUE;
    }

  if (!load->refusal_logged)
    {
      g_message ("uid %u has %u calls in flight, the limit; its further calls are refused "
                 "until some are answered", (guint) call->caller, load->calls);
      load->refusal_logged = TRUE;
    }
  error = g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_LIMITS_EXCEEDED,
                       "uid %u already has %u calls in flight, and the limit per uid is %u: "
                       "nothing was done; retry once some are answered",
                       (guint) call->caller, load->calls, RESERVE_CALLS_IN_FLIGHT_MAX);
  return_error (call->invocation, error);
  return FALSE;
}

static void
release_caller (PendingCall *call)
{
  ReservedService *self = call->self;
  gpointer key = GUINT_TO_POINTER ((guint) call->caller);
  CallerLoad *load = g_hash_table_lookup (self->callers_in_flight, key);

  g_assert (load != NULL && load->calls > 0);
  /* A uid with nothing held takes no memory either. */
  if (--load->calls == 0)
    g_hash_table_remove (self->callers_in_flight, key);
}

static void
pending_call_free (PendingCall *call)
{
  ReservedService *self = call->self;

  if (call->counted)
    release_caller (call);
  g_object_unref (call->invocation);
  g_free (call);
  self->in_flight--;
  if (self->stopping && self->in_flight == 0)
    g_signal_emit (self, signals[SIGNAL_DRAINED], 0);
  g_object_unref (self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PendingCall, pending_call_free)

static GVariant *
call_parameters (PendingCall *call)
{
  return g_dbus_method_invocation_get_parameters (call->invocation);
}

/* Answers @call with @error and ends it. */
static void
refuse (PendingCall *call, const GError *error)
{
  return_error (call->invocation, error);
  pending_call_free (call);
}

typedef struct {
  ReservedService *self;  /* owned */
  uid_t            caller;
} GroupLookup;

/* The gate's answer is fresh here (asked just now, or known), so asking
 * it does not block. */
static void
run_handler (PendingCall *call)
{
  call->admin = call->asks_admin && reserved_gate_is_admin (call->self->gate, call->caller);
  call->handler (call);
}

static void
on_groups_known (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GroupLookup *lookup = user_data;
  g_autoptr(ReservedService) self = lookup->self;
  g_autoptr(GPtrArray) waiting = NULL;

  g_task_propagate_boolean (G_TASK (result), NULL);
  g_hash_table_steal_extended (self->group_lookups, GUINT_TO_POINTER ((guint) lookup->caller), NULL,
                               (gpointer *) &waiting);
  g_free (lookup);
  for (guint i = 0; i < waiting->len; i++)
    run_handler (g_ptr_array_index (waiting, i));
}

/* The caller is known and admitted. A handler that needs to know whether
 * it is an admin may need its groups from the user database, which is
 * asked in a thread (once per uid however many of its calls wait) so the
 * main loop never waits for it. While that question is out, every call of
 * the uid waits behind it, so a connection's calls still run in the order
 * they were sent (a CreateItem, then a Buy of that item). */
static void
go_on (PendingCall *call)
{
  ReservedService *self = call->self;
  gpointer key = GUINT_TO_POINTER ((guint) call->caller);
  GPtrArray *waiting = g_hash_table_lookup (self->group_lookups, key);
  GroupLookup *lookup;

  if (waiting != NULL)
    {
      g_ptr_array_add (waiting, call);
      return;
    }
  if (!call->asks_admin || !reserved_gate_needs_lookup (self->gate, call->caller))
    {
      run_handler (call);
      return;
    }
  lookup = g_new0 (GroupLookup, 1);
  lookup->self = g_object_ref (self);
  lookup->caller = call->caller;
  waiting = g_ptr_array_new ();
  g_ptr_array_add (waiting, call);
  g_hash_table_insert (self->group_lookups, key, waiting);
  reserved_gate_look_up_async (self->gate, call->caller, on_groups_known, lookup);
}

static void
on_caller_known (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PendingCall) call = user_data;
  g_autoptr(GError) error = NULL;

  if (!reserved_callers_lookup_finish (RESERVED_CALLERS (source), result, &call->caller, &error) ||
      !admit_caller (call))
    {
      if (error != NULL)
        return_error (call->invocation, error);
      return;
    }
  go_on (g_steal_pointer (&call));
}

static gboolean
with_caller (ReservedService      *self,
             GDBusMethodInvocation *invocation,
             CallerHandler          handler,
             gboolean               asks_admin)
{
  PendingCall *call = g_new0 (PendingCall, 1);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);

  call->self = g_object_ref (self);
  call->invocation = g_object_ref (invocation);
  call->handler = handler;
  call->asks_admin = asks_admin;
  self->in_flight++;
  /* A known caller goes straight on; only a new connection waits for the
   * bus to say who it is. */
  if (reserved_callers_lookup_cached (self->callers, sender, &call->caller))
    {
      if (admit_caller (call))
        go_on (call);
      else
        pending_call_free (call);
    }
  else
    reserved_callers_lookup_async (self->callers, sender, on_caller_known, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* --- methods that need to know the caller ----------------------------------- */

static void
on_bought (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(PendingCall) call = user_data;
  ReservedService *self = call->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) options = NULL;
  ReservedReceipt receipt = { 0 };
  const char *item, *user;
  guint32 quantity;

  if (!reserved_store_buy_finish (self->store, result, &receipt, &error))
    {
      return_error (call->invocation, error);
      return;
    }
  reserve_reserve1_complete_buy (self->skeleton, call->invocation, receipt.order, receipt.remaining);

  g_variant_get (call_parameters (call), "(&s&su@a{sv})", &item, &user, &quantity, &options);
  if (receipt.replayed)
    {
      log_change (item, receipt.order, "Order %" G_GUINT64_FORMAT " given again for a repeated request_id",
                  receipt.order);
      return;
    }
  log_change (item, receipt.order, "Order %" G_GUINT64_FORMAT ": %u × %s by uid %u, %u left",
              receipt.order, quantity, item, (guint) call->caller, receipt.remaining);
  stock_changed (self, item, receipt.remaining);
}

static void
buy_as (PendingCall *call)
{
  const char *item, *user;
  const char *request_id = NULL;
  guint32 quantity;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_get (call_parameters (call), "(&s&su@a{sv})", &item, &user, &quantity, &options);
  if (!reserve_validate_item_name (item, &error) ||
      !reserve_validate_user_name (user, &error) ||
      !reserve_validate_range ("quantity", quantity, 1, RESERVE_BUY_QUANTITY_MAX, &error) ||
      !reserved_options_check (options, reserved_buy_options, "Buy", &error) ||
      (g_variant_lookup (options, RESERVE_OPTION_REQUEST_ID, "&s", &request_id) &&
       !reserve_validate_request_id (request_id, &error)))
    {
      refuse (call, error);
      return;
    }

  reserved_store_buy_async (call->self->store,
                            &(ReservedPurchase) {
                              .item = item,
                              .user = user,
                              .quantity = quantity,
                              .caller = call->caller,
                              .request_id = request_id,
                            },
                            on_bought, call);
}

static void
on_cancelled (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(PendingCall) call = user_data;
  ReservedService *self = call->self;
  g_autoptr(GError) error = NULL;
  g_autofree char *item = NULL;
  guint32 remaining = 0;
  guint64 order;

  if (!reserved_store_cancel_finish (self->store, result, &item, &remaining, &error))
    {
      return_error (call->invocation, error);
      return;
    }
  reserve_reserve1_complete_cancel (self->skeleton, call->invocation, remaining);
  g_variant_get (call_parameters (call), "(t)", &order);
  log_change (item, order, "Order %" G_GUINT64_FORMAT " cancelled by uid %u, %s has %u left",
              order, (guint) call->caller, item, remaining);
  stock_changed (self, item, remaining);
}

static void
cancel_as (PendingCall *call)
{
  ReservedService *self = call->self;
  guint64 order_id;
  ReservedOrder order = { 0 };
  g_autoptr(GError) error = NULL;
  gboolean allowed;

  /* The owner is read first because docs/api.md ranks NoSuchOrder and
   * PermissionDenied before AlreadyCancelled; an order's owner never
   * changes, and the cancel itself re-checks its state when it commits. */
  g_variant_get (call_parameters (call), "(t)", &order_id);
  if (!reserved_store_get_order (self->store, order_id, &order, &error))
    {
      refuse (call, error);
      return;
    }
  allowed = reserved_gate_check (RESERVED_ACTION_CANCEL, call->caller, call->admin, order.caller, &error);
  reserved_order_clear (&order);
  if (!allowed)
    {
      refuse (call, error);
      return;
    }
  reserved_store_cancel_async (self->store, order_id, on_cancelled, call);
}

static GVariant *
orders_to_variant (GArray *orders)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(tsuxs)"));
  for (guint i = 0; i < orders->len; i++)
    {
      const ReservedOrder *order = &g_array_index (orders, ReservedOrder, i);
      g_variant_builder_add (&builder, "(tsuxs)", order->id, order->item, order->quantity,
                             order->created,
                             order->cancelled ? RESERVE_ORDER_STATE_CANCELLED : RESERVE_ORDER_STATE_ACTIVE);
    }
  return g_variant_builder_end (&builder);
}

static void
list_orders_as (PendingCall *owned_call)
{
  g_autoptr(PendingCall) call = owned_call;
  ReservedService *self = call->self;
  const char *user;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) orders = NULL;
  gboolean every_customer;

  g_variant_get (call_parameters (call), "(&s)", &user);
  every_customer = user[0] == '\0';
  if ((!every_customer && !reserve_validate_user_name (user, &error)) ||
      (every_customer &&
       !reserved_gate_check (RESERVED_ACTION_LIST_EVERY_CUSTOMER, call->caller, call->admin, call->caller, &error)))
    {
      return_error (call->invocation, error);
      return;
    }

  /* Order ids are not secret, but who bought what is: non-admins see only
   * the orders their own uid placed. */
  orders = reserved_store_list_orders (self->store, every_customer ? NULL : user,
                                       call->admin ? NULL : &call->caller, &error);
  if (orders == NULL)
    {
      return_error (call->invocation, error);
      return;
    }
  reserve_reserve1_complete_list_orders (self->skeleton, call->invocation, orders_to_variant (orders));
}

static void
on_item_created (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(PendingCall) call = user_data;
  ReservedService *self = call->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) options = NULL;
  const char *item;
  guint32 capacity;

  if (!reserved_store_create_item_finish (self->store, result, &error))
    {
      return_error (call->invocation, error);
      return;
    }
  reserve_reserve1_complete_create_item (self->skeleton, call->invocation);
  g_variant_get (call_parameters (call), "(&su@a{sv})", &item, &capacity, &options);
  g_info ("Item %s created by uid %u with capacity %u", item, (guint) call->caller, capacity);
  stock_changed (self, item, capacity);
}

static void
create_item_as (PendingCall *call)
{
  ReservedService *self = call->self;
  const char *item;
  guint32 capacity;
  guint32 per_user_limit = 0;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_get (call_parameters (call), "(&su@a{sv})", &item, &capacity, &options);
  if (!reserve_validate_item_name (item, &error) ||
      !reserve_validate_range ("capacity", capacity, 0, RESERVE_CAPACITY_MAX, &error) ||
      !reserved_options_check (options, reserved_create_item_options, "CreateItem", &error) ||
      !reserved_gate_check (RESERVED_ACTION_CREATE_ITEM, call->caller, call->admin, call->caller, &error))
    {
      refuse (call, error);
      return;
    }
  g_variant_lookup (options, RESERVE_OPTION_PER_USER_LIMIT, "u", &per_user_limit);
  reserved_store_create_item_async (self->store, item, capacity, per_user_limit, on_item_created, call);
}

static void
on_restocked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(PendingCall) call = user_data;
  ReservedService *self = call->self;
  g_autoptr(GError) error = NULL;
  const char *item;
  guint32 quantity;
  guint32 remaining = 0;

  if (!reserved_store_restock_finish (self->store, result, &remaining, &error))
    {
      return_error (call->invocation, error);
      return;
    }
  reserve_reserve1_complete_restock (self->skeleton, call->invocation, remaining);
  g_variant_get (call_parameters (call), "(&su)", &item, &quantity);
  g_info ("Item %s restocked by uid %u with %u units, %u left", item, (guint) call->caller, quantity, remaining);
  stock_changed (self, item, remaining);
}

static void
restock_as (PendingCall *call)
{
  ReservedService *self = call->self;
  const char *name;
  guint32 quantity;
  ReservedItem item = { 0 };
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_variant_get (call_parameters (call), "(&su)", &name, &quantity);
  if (!reserve_validate_item_name (name, &error) ||
      !reserve_validate_range ("quantity", quantity, 1, RESERVE_RESTOCK_QUANTITY_MAX, &error))
    {
      refuse (call, error);
      return;
    }

  /* docs/api.md ranks NoSuchItem and an overflowing capacity (InvalidArgument)
   * before PermissionDenied, so both are checked before the gate; the
   * store checks the capacity again inside its transaction. */
  if (!reserved_store_get_item (self->store, name, &item, &error))
    {
      refuse (call, error);
      return;
    }
  ok = reserve_validate_range ("capacity after the restock", (guint64) item.capacity + quantity,
                               0, RESERVE_CAPACITY_MAX, &error) &&
       reserved_gate_check (RESERVED_ACTION_RESTOCK, call->caller, call->admin, call->caller, &error);
  reserved_item_clear (&item);
  if (!ok)
    {
      refuse (call, error);
      return;
    }
  reserved_store_restock_async (self->store, name, quantity, on_restocked, call);
}

/* --- the skeleton's handlers ------------------------------------------------- */

static gboolean
on_handle_buy (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
               const char *item, const char *user, guint quantity, GVariant *options,
               ReservedService *self)
{
  return with_caller (self, invocation, buy_as, FALSE);
}

static gboolean
on_handle_cancel (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
                  guint64 order, ReservedService *self)
{
  return with_caller (self, invocation, cancel_as, TRUE);
}

static gboolean
on_handle_list_orders (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
                       const char *user, ReservedService *self)
{
  return with_caller (self, invocation, list_orders_as, TRUE);
}

static gboolean
on_handle_create_item (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
                       const char *item, guint capacity, GVariant *options,
                       ReservedService *self)
{
  return with_caller (self, invocation, create_item_as, TRUE);
}

static gboolean
on_handle_restock (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
                   const char *item, guint quantity, ReservedService *self)
{
  return with_caller (self, invocation, restock_as, TRUE);
}

/* Reads need no caller: every item is public. */
static gboolean
on_handle_get_item (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
                    const char *name, ReservedService *self)
{
  g_autoptr(GError) error = NULL;
  ReservedItem item = { 0 };
  GVariantDict info;

  if (!reserve_validate_item_name (name, &error) ||
      !reserved_store_get_item (self->store, name, &item, &error))
    {
      return_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  g_variant_dict_init (&info, NULL);
  g_variant_dict_insert (&info, "name", "s", item.name);
  g_variant_dict_insert (&info, "capacity", "u", item.capacity);
  g_variant_dict_insert (&info, "remaining", "u", item.remaining);
  g_variant_dict_insert (&info, "sold", "u", item.sold);
  g_variant_dict_insert (&info, RESERVE_OPTION_PER_USER_LIMIT, "u", item.per_user_limit);
  reserved_item_clear (&item);
  reserve_reserve1_complete_get_item (skeleton, invocation, g_variant_dict_end (&info));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_list_items (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
                      ReservedService *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = reserved_store_list_items (self->store, &error);
  GVariantBuilder builder;

  if (items == NULL)
    {
      return_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(suu)"));
  for (guint i = 0; i < items->len; i++)
    {
      const ReservedItem *item = &g_array_index (items, ReservedItem, i);
      g_variant_builder_add (&builder, "(suu)", item->name, item->capacity, item->remaining);
    }
  reserve_reserve1_complete_list_items (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_get_statistics (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
                          ReservedService *self)
{
  ReservedStoreStats stats;
  GVariantDict info;

  reserved_store_get_stats (self->store, &stats);
  g_variant_dict_init (&info, NULL);
  g_variant_dict_insert (&info, "commits", "t", stats.commits);
  g_variant_dict_insert (&info, "operations", "t", stats.operations);
  g_variant_dict_insert (&info, "largest_batch", "t", stats.largest_batch);
  g_variant_dict_insert (&info, "calls_in_flight", "u", self->in_flight);
  g_variant_dict_insert (&info, "callers_known", "u", reserved_callers_get_n_cached (self->callers));
  reserve_reserve1_complete_get_statistics (skeleton, invocation, g_variant_dict_end (&info));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* --- life cycle -------------------------------------------------------------- */

ReservedService *
reserved_service_new (ReservedStore *store,
                      ReservedGate  *gate,
                      const char    *default_item)
{
  ReservedService *self = g_object_new (RESERVED_TYPE_SERVICE, NULL);

  self->store = g_object_ref (store);
  self->gate = gate;
  reserve_reserve1_set_version (self->skeleton, RESERVED_VERSION);
  reserve_reserve1_set_default_item (self->skeleton, default_item);
  return self;
}

gboolean
reserved_service_export (ReservedService *self,
                         GDBusConnection *connection,
                         GError         **error)
{
  self->callers = reserved_callers_new (connection);
  return g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton),
                                           connection, RESERVE_OBJECT_PATH, error);
}

void
reserved_service_stop (ReservedService *self)
{
  if (self->stopping)
    return;
  self->stopping = TRUE;
  g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
  if (self->in_flight == 0)
    g_signal_emit (self, signals[SIGNAL_DRAINED], 0);
}

static void
reserved_service_dispose (GObject *object)
{
  ReservedService *self = RESERVED_SERVICE (object);

  if (self->skeleton != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->skeleton, self);
      if (g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->skeleton)))
        g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
    }
  g_clear_handle_id (&self->stock_changes_id, g_source_remove);
  g_clear_pointer (&self->stock_changes, g_hash_table_unref);
  g_clear_pointer (&self->callers_in_flight, g_hash_table_unref);
  g_clear_pointer (&self->group_lookups, g_hash_table_unref);
  g_clear_object (&self->skeleton);
  g_clear_object (&self->callers);
  g_clear_object (&self->store);
  g_clear_pointer (&self->gate, reserved_gate_free);
  G_OBJECT_CLASS (reserved_service_parent_class)->dispose (object);
}

static void
reserved_service_class_init (ReservedServiceClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = reserved_service_dispose;

  signals[SIGNAL_DRAINED] = g_signal_new ("drained", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 0);
}

static void
reserved_service_init (ReservedService *self)
{
  self->stock_changes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->callers_in_flight = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  self->group_lookups = g_hash_table_new (g_direct_hash, g_direct_equal);
  self->skeleton = reserve_reserve1_skeleton_new ();
  g_signal_connect (self->skeleton, "handle-get-statistics", G_CALLBACK (on_handle_get_statistics), self);
  g_signal_connect (self->skeleton, "handle-buy", G_CALLBACK (on_handle_buy), self);
  g_signal_connect (self->skeleton, "handle-cancel", G_CALLBACK (on_handle_cancel), self);
  g_signal_connect (self->skeleton, "handle-get-item", G_CALLBACK (on_handle_get_item), self);
  g_signal_connect (self->skeleton, "handle-list-items", G_CALLBACK (on_handle_list_items), self);
  g_signal_connect (self->skeleton, "handle-list-orders", G_CALLBACK (on_handle_list_orders), self);
  g_signal_connect (self->skeleton, "handle-create-item", G_CALLBACK (on_handle_create_item), self);
  g_signal_connect (self->skeleton, "handle-restock", G_CALLBACK (on_handle_restock), self);
}
