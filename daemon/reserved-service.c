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
  guint            in_flight;  /* calls waiting for their caller's uid */
  gboolean         stopping;
};

G_DEFINE_TYPE (ReservedService, reserved_service, G_TYPE_OBJECT)

enum { SIGNAL_DRAINED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const ReservedOptionSpec buy_options[] = {
  { RESERVE_OPTION_REQUEST_ID, "s" },
  { NULL }
};

static const ReservedOptionSpec create_item_options[] = {
  { RESERVE_OPTION_PER_USER_LIMIT, "u" },
  { NULL }
};

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

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_snprintf (order_text, sizeof order_text, "%" G_GUINT64_FORMAT, order);
  memcpy (with_message, fields, sizeof fields);
  with_message[0].value = message;
  g_log_structured_array (G_LOG_LEVEL_DEBUG, with_message,
                          order != 0 ? G_N_ELEMENTS (fields) : G_N_ELEMENTS (fields) - 1);
}

static void
stock_changed (ReservedService *self, const char *item, guint32 remaining)
{
  reserve_reserve1_emit_stock_changed (self->skeleton, item, remaining);
}

static void
return_error (GDBusMethodInvocation *invocation, GError *error)
{
  g_debug ("%s refused: %s", g_dbus_method_invocation_get_method_name (invocation), error->message);
  g_dbus_method_invocation_return_gerror (invocation, error);
}

/* --- methods that need to know the caller ----------------------------------- */

static void
buy_as (ReservedService *self, GDBusMethodInvocation *invocation, uid_t caller)
{
  const char *item, *user;
  const char *request_id = NULL;
  guint32 quantity;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GError) error = NULL;
  ReservedReceipt receipt = { 0 };

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation),
                 "(&s&su@a{sv})", &item, &user, &quantity, &options);
  if (!reserve_validate_item_name (item, &error) ||
      !reserve_validate_user_name (user, &error) ||
      !reserve_validate_range ("quantity", quantity, 1, RESERVE_BUY_QUANTITY_MAX, &error) ||
      !reserved_options_check (options, buy_options, "Buy", &error) ||
      (g_variant_lookup (options, RESERVE_OPTION_REQUEST_ID, "&s", &request_id) &&
       !reserve_validate_request_id (request_id, &error)))
    { return_error (invocation, error); return; }

  {
    const ReservedPurchase purchase = {
      .item = item,
      .user = user,
      .quantity = quantity,
      .caller = caller,
      .request_id = request_id,
    };
    if (!reserved_store_buy (self->store, &purchase, &receipt, &error))
      { return_error (invocation, error); return; }
  }

  reserve_reserve1_complete_buy (self->skeleton, invocation, receipt.order, receipt.remaining);
  if (receipt.replayed)
    {
      log_change (item, receipt.order, "Order %" G_GUINT64_FORMAT " replayed for request_id %s",
                  receipt.order, request_id);
      return;
    }
  log_change (item, receipt.order, "Order %" G_GUINT64_FORMAT ": %u × %s by uid %u, %u left",
              receipt.order, quantity, item, (guint) caller, receipt.remaining);
  stock_changed (self, item, receipt.remaining);
}

static void
cancel_as (ReservedService *self, GDBusMethodInvocation *invocation, uid_t caller)
{
  guint64 order_id;
  ReservedOrder order = { 0 };
  g_autofree char *item = NULL;
  g_autoptr(GError) error = NULL;
  guint32 remaining = 0;
  gboolean allowed;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(t)", &order_id);
  if (!reserved_store_get_order (self->store, order_id, &order, &error))
    { return_error (invocation, error); return; }
  allowed = reserved_gate_check (self->gate, RESERVED_ACTION_CANCEL, caller, order.caller, &error);
  reserved_order_clear (&order);
  if (!allowed || !reserved_store_cancel (self->store, order_id, &item, &remaining, &error))
    { return_error (invocation, error); return; }

  reserve_reserve1_complete_cancel (self->skeleton, invocation, remaining);
  log_change (item, order_id, "Order %" G_GUINT64_FORMAT " cancelled by uid %u, %s has %u left",
              order_id, (guint) caller, item, remaining);
  stock_changed (self, item, remaining);
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
list_orders_as (ReservedService *self, GDBusMethodInvocation *invocation, uid_t caller)
{
  const char *user;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) orders = NULL;
  gboolean every_customer;
  gboolean admin;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&s)", &user);
  every_customer = user[0] == '\0';
  if (!every_customer && !reserve_validate_user_name (user, &error))
    { return_error (invocation, error); return; }
  if (every_customer &&
      !reserved_gate_check (self->gate, RESERVED_ACTION_LIST_EVERY_CUSTOMER, caller, caller, &error))
    { return_error (invocation, error); return; }

  /* Order ids are not secret, but who bought what is: non-admins see only
   * the orders their own uid placed. */
  admin = reserved_gate_is_admin (self->gate, caller);
  orders = reserved_store_list_orders (self->store, every_customer ? NULL : user,
                                       admin ? NULL : &caller, &error);
  if (orders == NULL)
    { return_error (invocation, error); return; }
  reserve_reserve1_complete_list_orders (self->skeleton, invocation, orders_to_variant (orders));
}

static void
create_item_as (ReservedService *self, GDBusMethodInvocation *invocation, uid_t caller)
{
  const char *item;
  guint32 capacity;
  guint32 per_user_limit = 0;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation),
                 "(&su@a{sv})", &item, &capacity, &options);
  if (!reserve_validate_item_name (item, &error) ||
      !reserve_validate_range ("capacity", capacity, 0, RESERVE_CAPACITY_MAX, &error) ||
      !reserved_options_check (options, create_item_options, "CreateItem", &error))
    { return_error (invocation, error); return; }
  g_variant_lookup (options, RESERVE_OPTION_PER_USER_LIMIT, "u", &per_user_limit);

  if (!reserved_gate_check (self->gate, RESERVED_ACTION_CREATE_ITEM, caller, caller, &error) ||
      !reserved_store_create_item (self->store, item, capacity, per_user_limit, &error))
    { return_error (invocation, error); return; }

  reserve_reserve1_complete_create_item (self->skeleton, invocation);
  g_info ("Item %s created by uid %u with %u units (per-user limit %u)",
          item, (guint) caller, capacity, per_user_limit);
  stock_changed (self, item, capacity);
}

static void
restock_as (ReservedService *self, GDBusMethodInvocation *invocation, uid_t caller)
{
  const char *name;
  guint32 quantity;
  guint32 remaining = 0;
  ReservedItem item = { 0 };
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&su)", &name, &quantity);
  if (!reserve_validate_item_name (name, &error) ||
      !reserve_validate_range ("quantity", quantity, 1, RESERVE_RESTOCK_QUANTITY_MAX, &error))
    { return_error (invocation, error); return; }

  /* API.md ranks NoSuchItem and an overflowing capacity (InvalidArgument)
   * before PermissionDenied, so both are checked before the gate; the
   * store checks the capacity again inside its transaction. */
  if (!reserved_store_get_item (self->store, name, &item, &error))
    { return_error (invocation, error); return; }
  ok = reserve_validate_range ("capacity after the restock", (guint64) item.capacity + quantity,
                               0, RESERVE_CAPACITY_MAX, &error);
  reserved_item_clear (&item);
  if (!ok ||
      !reserved_gate_check (self->gate, RESERVED_ACTION_RESTOCK, caller, caller, &error) ||
      !reserved_store_restock (self->store, name, quantity, &remaining, &error))
    { return_error (invocation, error); return; }

  reserve_reserve1_complete_restock (self->skeleton, invocation, remaining);
  g_info ("Item %s restocked by uid %u with %u units, %u left", name, (guint) caller, quantity, remaining);
  stock_changed (self, name, remaining);
}

/* --- asking the bus who calls ------------------------------------------------ */

typedef void (*CallerHandler) (ReservedService       *self,
                               GDBusMethodInvocation *invocation,
                               uid_t                  caller);

typedef struct {
  ReservedService       *self;        /* owned */
  GDBusMethodInvocation *invocation;  /* owned */
  CallerHandler          handler;
} PendingCall;

static void
pending_call_free (PendingCall *call)
{
  g_object_unref (call->self);
  g_object_unref (call->invocation);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PendingCall, pending_call_free)

static void
call_done (ReservedService *self)
{
  self->in_flight--;
  if (self->stopping && self->in_flight == 0)
    g_signal_emit (self, signals[SIGNAL_DRAINED], 0);
}

static void
on_caller_known (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PendingCall) call = user_data;
  g_autoptr(GError) error = NULL;
  uid_t caller = 0;

  if (reserved_callers_lookup_finish (RESERVED_CALLERS (source), result, &caller, &error))
    call->handler (call->self, call->invocation, caller);
  else
    return_error (call->invocation, error);
  call_done (call->self);
}

static gboolean
with_caller (ReservedService *self, GDBusMethodInvocation *invocation, CallerHandler handler)
{
  PendingCall *call = g_new0 (PendingCall, 1);

  call->self = g_object_ref (self);
  call->invocation = g_object_ref (invocation);
  call->handler = handler;
  self->in_flight++;
  reserved_callers_lookup_async (self->callers, g_dbus_method_invocation_get_sender (invocation),
                                 on_caller_known, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* --- the skeleton's handlers ------------------------------------------------- */

static gboolean
on_handle_buy (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
               const char *item, const char *user, guint quantity, GVariant *options,
               ReservedService *self)
{
  return with_caller (self, invocation, buy_as);
}

static gboolean
on_handle_cancel (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
                  guint64 order, ReservedService *self)
{
  return with_caller (self, invocation, cancel_as);
}

static gboolean
on_handle_list_orders (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
                       const char *user, ReservedService *self)
{
  return with_caller (self, invocation, list_orders_as);
}

static gboolean
on_handle_create_item (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
                       const char *item, guint capacity, GVariant *options,
                       ReservedService *self)
{
  return with_caller (self, invocation, create_item_as);
}

static gboolean
on_handle_restock (ReserveReserve1 *skeleton, GDBusMethodInvocation *invocation,
                   const char *item, guint quantity, ReservedService *self)
{
  return with_caller (self, invocation, restock_as);
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
  self->skeleton = reserve_reserve1_skeleton_new ();
  g_signal_connect (self->skeleton, "handle-buy", G_CALLBACK (on_handle_buy), self);
  g_signal_connect (self->skeleton, "handle-cancel", G_CALLBACK (on_handle_cancel), self);
  g_signal_connect (self->skeleton, "handle-get-item", G_CALLBACK (on_handle_get_item), self);
  g_signal_connect (self->skeleton, "handle-list-items", G_CALLBACK (on_handle_list_items), self);
  g_signal_connect (self->skeleton, "handle-list-orders", G_CALLBACK (on_handle_list_orders), self);
  g_signal_connect (self->skeleton, "handle-create-item", G_CALLBACK (on_handle_create_item), self);
  g_signal_connect (self->skeleton, "handle-restock", G_CALLBACK (on_handle_restock), self);
}
