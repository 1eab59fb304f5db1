/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-test-client.h"

#include "reserved-test-daemon.h"
#include "reserved-test-signals.h"

#include <string.h>

GVariant *
reserved_test_options (const char *request_id)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  if (request_id != NULL)
    g_variant_builder_add (&builder, "{sv}", RESERVE_OPTION_REQUEST_ID,
                           g_variant_new_string (request_id));
  return g_variant_builder_end (&builder);
}

GVariant *
reserved_test_hold_options (const char *key,
                            GVariant *value,
                            gboolean bound,
                            const char *request_id)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  if (value != NULL)
    g_variant_builder_add (&builder, "{sv}", key, value);
  if (bound)
    g_variant_builder_add (&builder, "{sv}", RESERVE_OPTION_RELEASE_ON_DISCONNECT,
                           g_variant_new_boolean (TRUE));
  if (request_id != NULL)
    g_variant_builder_add (&builder, "{sv}", RESERVE_OPTION_REQUEST_ID,
                           g_variant_new_string (request_id));
  return g_variant_builder_end (&builder);
}

/* (transfer full) The reply of @method with @parameters (floating) on
 * @client's proxy, which must succeed. */
static GVariant *
call_ok (ReservedTestClient *client, const char *method, GVariant *parameters)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (client->proxy), method, parameters,
                                            G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

  if (reply == NULL)
    g_error ("%s failed: %s", method, error->message);
  return reply;
}

/* The one number of a reply "(u)". */
static guint32
reply_u (GVariant *reply)
{
  g_autoptr(GVariant) owned = reply;
  guint32 value = 0;

  g_variant_get (owned, "(u)", &value);
  return value;
}

/* (transfer full) The one value of the reply of @method (@argument, a
 * string), which must succeed. */
static GVariant *
reply_of (ReservedTestClient *client, const char *method, const char *argument)
{
  g_autoptr(GVariant) reply = call_ok (client, method, g_variant_new ("(s)", argument));

  return g_variant_get_child_value (reply, 0);
}

/* @options, or empty options when it is NULL. */
static GVariant *
options_or_empty (GVariant *options)
{
  return options != NULL ? options : reserved_test_options (NULL);
}

void
reserved_test_call_refused (ReservedTestClient *client,
                            const char *method,
                            GVariant *parameters,
                            ReserveError code,
                            const char *in_message)
{
  g_autoptr(GVariant) args = g_variant_ref_sink (parameters);
  g_autoptr(GVariant) before = reserved_test_snapshot (client);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (client->proxy), method, args,
                                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_autofree char *printed = g_variant_print (args, FALSE);

  if (reply != NULL)
    g_error ("%s %s succeeded; expected %s", method, printed, reserve_error_to_name (code));
  reserved_test_assert_api_error (error, code);
  g_assert_nonnull (error->message);
  if (in_message != NULL && strstr (error->message, in_message) == NULL)
    g_error ("%s %s: “%s” does not say “%s”", method, printed, error->message, in_message);
  reserved_test_assert_unchanged (client, before);
}

static void
assert_refused (ReservedTestClient *client,
                const char *method,
                GVariant *parameters,
                ReserveError code)
{
  reserved_test_call_refused (client, method, parameters, code, NULL);
}

guint64
reserved_test_buy (ReservedTestClient *client,
                   const char *item,
                   const char *user,
                   guint32 quantity,
                   const char *request_id,
                   guint32 *remaining_out)
{
  g_autoptr(GVariant) reply =
               call_ok (client, "Buy", reserved_test_buy_args (item, user, quantity, request_id));

  return reserved_test_bought (reply, remaining_out);
}

GVariant *
reserved_test_request_args (const char *item, const char *user, guint32 quantity, GVariant *options)
{
  return g_variant_new ("(ssu@a{sv})", item, user, quantity, options_or_empty (options));
}

GVariant *
reserved_test_buy_args (const char *item,
                        const char *user,
                        guint32 quantity,
                        const char *request_id)
{
  return reserved_test_request_args (item, user, quantity, reserved_test_options (request_id));
}

guint64
reserved_test_bought (GVariant *reply, guint32 *remaining_out)
{
  guint64 order = 0;
  guint32 remaining = 0;

  g_variant_get (reply, "(tu)", &order, &remaining);
  g_assert_cmpuint (order, >, 0);
  if (remaining_out != NULL)
    *remaining_out = remaining;
  return order;
}

void
reserved_test_buy_refused (ReservedTestClient *client,
                           const char *item,
                           const char *user,
                           guint32 quantity,
                           GVariant *options,
                           ReserveError code)
{
  assert_refused (client, "Buy", reserved_test_request_args (item, user, quantity, options), code);
}

guint64
reserved_test_hold (ReservedTestClient *client,
                    const char *item,
                    const char *user,
                    guint32 quantity,
                    GVariant *options,
                    gint64 *expires_out,
                    guint32 *remaining_out)
{
  g_autoptr(GVariant) reply =
               call_ok (client, "Hold", reserved_test_request_args (item, user, quantity, options));
  guint64 hold = 0;
  gint64 expires = 0;
  guint32 remaining = 0;

  g_variant_get (reply, "(txu)", &hold, &expires, &remaining);
  g_assert_cmpuint (hold, >, 0);
  if (expires_out != NULL)
    *expires_out = expires;
  if (remaining_out != NULL)
    *remaining_out = remaining;
  return hold;
}

guint64
reserved_test_confirm (ReservedTestClient *client,
                       guint64 hold,
                       GVariant *options,
                       guint32 *remaining_out)
{
  g_autoptr(GVariant) reply =
               call_ok (client, "Confirm",
                        g_variant_new ("(t@a{sv})", hold, options_or_empty (options)));

  return reserved_test_bought (reply, remaining_out);
}

void
reserved_test_confirm_refused (ReservedTestClient *client,
                               guint64 hold,
                               ReserveError code,
                               const char *in_message)
{
  reserved_test_call_refused (client, "Confirm",
                              g_variant_new ("(t@a{sv})", hold, reserved_test_options (NULL)), code,
                              in_message);
}

/* Release and Cancel: the calls "(t id) → (u remaining)", one that
 * succeeds and one refused with @code and no change. */
#define DEFINE_ID_CALLS(name, method)                                                             \
  guint32 reserved_test_##name (ReservedTestClient *client, guint64 id)                           \
  {                                                                                               \
    return reply_u (call_ok (client, method, g_variant_new ("(t)", id)));                         \
  }                                                                                               \
                                                                                                  \
  void reserved_test_##name##_refused (ReservedTestClient *client, guint64 id, ReserveError code) \
  {                                                                                               \
    assert_refused (client, method, g_variant_new ("(t)", id), code);                             \
  }

DEFINE_ID_CALLS (release, "Release")
DEFINE_ID_CALLS (cancel, "Cancel")

void
reserved_test_leave_waitlist (ReservedTestClient *client, guint64 entry)
{
  g_variant_unref (call_ok (client, "LeaveWaitlist", g_variant_new ("(t)", entry)));
}

void
reserved_test_leave_waitlist_refused (ReservedTestClient *client, guint64 entry, ReserveError code)
{
  assert_refused (client, "LeaveWaitlist", g_variant_new ("(t)", entry), code);
}

guint64
reserved_test_join_waitlist (ReservedTestClient *client,
                             const char *item,
                             const char *user,
                             guint32 quantity,
                             GVariant *options,
                             guint32 *position,
                             guint64 *hold)
{
  g_autoptr(GError) error = NULL;
  guint64 entry = 0, offer = 0;
  guint32 place = 0;

  reserve_reserve1_call_join_waitlist_sync (client->proxy, item, user, quantity,
                                            options != NULL ? options
                                                            : reserved_test_options (NULL),
                                            G_DBUS_CALL_FLAGS_NONE, -1, &entry, &place, &offer,
                                            NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entry, >, 0);
  /* Either it waits somewhere, or it was offered its units. */
  g_assert_true ((place > 0) != (offer > 0));
  if (position != NULL)
    *position = place;
  if (hold != NULL)
    *hold = offer;
  return entry;
}

GVariant *
reserved_test_list_waitlist (ReservedTestClient *client, const char *item)
{
  return reply_of (client, "ListWaitlist", item);
}

GVariant *
reserved_test_list_holds (ReservedTestClient *client, const char *user)
{
  return reply_of (client, "ListHolds", user);
}

GVariant *
reserved_test_get_item_info (ReservedTestClient *client, const char *item)
{
  return reply_of (client, "GetItem", item);
}

GVariant *
reserved_test_assert_waitlist_served (ReservedTestClient *client,
                                      const char *item,
                                      gboolean only_offers_hold)
{
  g_autoptr(GVariant) entries = reserved_test_list_waitlist (client, item);
  ReservedTestItem now = reserved_test_get_item (client, item);
  guint64 offered = 0, waiting = 0;
  guint32 next_position = 1;

  for (gsize i = 0; i < g_variant_n_children (entries); i++)
    {
      guint64 entry = 0, hold = 0;
      guint32 quantity = 0, position = 0;

      g_variant_get_child (entries, i, "(t&s&suuxxt)", &entry, NULL, NULL, &quantity, &position,
                           NULL, NULL, &hold);
      if (hold != 0)
        {
          g_assert_cmpuint (position, ==, 0);
          offered += quantity;
          continue;
        }
      /* In order of arrival, one after another. */
      g_assert_cmpuint (position, ==, next_position);
      next_position++;
      waiting += quantity;
      /* A retired item offers nothing any more, nor one outside its sale
       * window. */
      if (position == 1 && quantity <= now.remaining && !now.retired && now.on_sale)
        g_error ("entry %" G_GUINT64_FORMAT " heads the waitlist of %s for %u units while %u are "
                 "left: it should have been offered them",
                 entry, item, quantity, now.remaining);
    }
  g_assert_cmpuint (now.waiting, ==, waiting);
  g_assert_cmpuint (now.held, >=, offered);
  if (only_offers_hold)
    g_assert_cmpuint (now.held, ==, offered);
  return g_steal_pointer (&entries);
}

void
reserved_test_create_item (ReservedTestClient *client,
                           const char *item,
                           guint32 capacity,
                           guint32 per_user_limit)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  if (per_user_limit > 0)
    g_variant_builder_add (&builder, "{sv}", RESERVE_OPTION_PER_USER_LIMIT,
                           g_variant_new_uint32 (per_user_limit));
  g_variant_unref (
    call_ok (client, "CreateItem",
             g_variant_new ("(su@a{sv})", item, capacity, g_variant_builder_end (&builder))));
}

void
reserved_test_create_item_refused (ReservedTestClient *client,
                                   const char *item,
                                   guint32 capacity,
                                   GVariant *options,
                                   ReserveError code)
{
  assert_refused (client, "CreateItem",
                  g_variant_new ("(su@a{sv})", item, capacity, options_or_empty (options)), code);
}

guint32
reserved_test_restock (ReservedTestClient *client, const char *item, guint32 quantity)
{
  return reply_u (call_ok (client, "Restock", g_variant_new ("(su)", item, quantity)));
}

void
reserved_test_restock_refused (ReservedTestClient *client,
                               const char *item,
                               guint32 quantity,
                               ReserveError code)
{
  assert_refused (client, "Restock", g_variant_new ("(su)", item, quantity), code);
}

void
reserved_test_set_sale_window (ReservedTestClient *client,
                               const char *item,
                               gint64 start,
                               gint64 end)
{
  g_variant_unref (call_ok (client, "SetSaleWindow", g_variant_new ("(sxx)", item, start, end)));
}

void
reserved_test_retire_item (ReservedTestClient *client, const char *item)
{
  g_variant_unref (call_ok (client, "RetireItem", g_variant_new ("(s)", item)));
}

void
reserved_test_retire_item_refused (ReservedTestClient *client, const char *item, ReserveError code)
{
  assert_refused (client, "RetireItem", g_variant_new ("(s)", item), code);
}

void
reserved_test_set_per_user_limit (ReservedTestClient *client, const char *item, guint32 limit)
{
  g_variant_unref (call_ok (client, "SetPerUserLimit", g_variant_new ("(su)", item, limit)));
}

void
reserved_test_set_per_user_limit_refused (ReservedTestClient *client,
                                          const char *item,
                                          guint32 limit,
                                          ReserveError code)
{
  assert_refused (client, "SetPerUserLimit", g_variant_new ("(su)", item, limit), code);
}

static guint32
lookup_u (GVariant *info, const char *key)
{
  guint32 value = 0;

  if (!g_variant_lookup (info, key, "u", &value))
    g_error ("GetItem's answer %s has no key %s of type u", g_variant_print (info, TRUE), key);
  return value;
}

ReservedTestItem
reserved_test_get_item (ReservedTestClient *client, const char *item)
{
  g_autoptr(GVariant) info = reserved_test_get_item_info (client, item);
  g_autofree char *name = NULL;
  ReservedTestItem out = { 0 };

  g_assert_true (g_variant_lookup (info, "name", "s", &name));
  g_assert_cmpstr (name, ==, item);
  out.capacity = lookup_u (info, "capacity");
  out.remaining = lookup_u (info, "remaining");
  out.sold = lookup_u (info, "sold");
  out.per_user_limit = lookup_u (info, "per_user_limit");
  out.held = lookup_u (info, "held");
  out.available = lookup_u (info, "available");
  out.waiting = lookup_u (info, "waiting");
  if (!g_variant_lookup (info, "retired", "b", &out.retired))
    g_error ("GetItem's answer %s has no key retired of type b", g_variant_print (info, TRUE));
  if (!g_variant_lookup (info, "on_sale", "b", &out.on_sale))
    g_error ("GetItem's answer %s has no key on_sale of type b", g_variant_print (info, TRUE));
  /* Each only when set, and never set to 0. */
  if (g_variant_lookup (info, RESERVE_OPTION_SALE_START, "x", &out.sale_start))
    g_assert_cmpint (out.sale_start, >, 0);
  if (g_variant_lookup (info, RESERVE_OPTION_SALE_END, "x", &out.sale_end))
    g_assert_cmpint (out.sale_end, >, 0);
  return out;
}

void
reserved_test_get_item_refused (ReservedTestClient *client, const char *item, ReserveError code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) info = NULL;

  reserve_reserve1_call_get_item_sync (client->proxy, item, G_DBUS_CALL_FLAGS_NONE, -1, &info, NULL,
                                       &error);
  reserved_test_assert_api_error (error, code);
}

static void
order_clear (gpointer data)
{
  ReservedTestOrder *order = data;

  g_clear_pointer (&order->item, g_free);
}

GArray *
reserved_test_list_orders (ReservedTestClient *client, const char *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) orders = NULL;
  GArray *out = g_array_new (FALSE, TRUE, sizeof (ReservedTestOrder));
  GVariantIter iter;
  ReservedTestOrder order = { 0 };
  const char *state = NULL;

  g_array_set_clear_func (out, order_clear);
  reserve_reserve1_call_list_orders_sync (client->proxy, user, G_DBUS_CALL_FLAGS_NONE, -1, &orders,
                                          NULL, &error);
  g_assert_no_error (error);
  g_variant_iter_init (&iter, orders);
  while (g_variant_iter_next (&iter, "(tsux&s)", &order.id, &order.item, &order.quantity,
                              &order.created, &state))
    {
      if (g_strcmp0 (state, RESERVE_ORDER_STATE_ACTIVE) == 0)
        order.active = TRUE;
      else if (g_strcmp0 (state, RESERVE_ORDER_STATE_CANCELLED) == 0)
        order.active = FALSE;
      else
        g_error ("order %" G_GUINT64_FORMAT " has state “%s”, neither “active” nor “cancelled”",
                 order.id, state);
      g_array_append_val (out, order);
    }
  return out;
}

void
reserved_test_list_orders_refused (ReservedTestClient *client, const char *user, ReserveError code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) orders = NULL;

  reserve_reserve1_call_list_orders_sync (client->proxy, user, G_DBUS_CALL_FLAGS_NONE, -1, &orders,
                                          NULL, &error);
  reserved_test_assert_api_error (error, code);
}

GVariant *
reserved_test_snapshot (ReservedTestClient *client)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) items = NULL;
  g_autoptr(GVariant) orders = NULL;
  g_autoptr(GVariant) entries = NULL;

  reserve_reserve1_call_list_items_sync (client->proxy, G_DBUS_CALL_FLAGS_NONE, -1, &items, NULL,
                                         &error);
  g_assert_no_error (error);
  if (client->admin)
    {
      reserve_reserve1_call_list_orders_sync (client->proxy, "", G_DBUS_CALL_FLAGS_NONE, -1,
                                              &orders, NULL, &error);
      g_assert_no_error (error);
      entries = reserved_test_list_waitlist (client, "");
    }
  else
    {
      orders = g_variant_ref_sink (g_variant_new ("a(tsuxs)", NULL));
      entries = g_variant_ref_sink (g_variant_new ("a(tssuuxxt)", NULL));
    }
  return g_variant_ref_sink (
    g_variant_new ("(@a(suu)@a(tsuxs)@a(tssuuxxt))", items, orders, entries));
}

void
reserved_test_assert_unchanged (ReservedTestClient *client, GVariant *before)
{
  g_autoptr(GVariant) after = reserved_test_snapshot (client);

  /* A refused call does nothing: no stock moved, no order appeared or
   * changed state. */
  g_assert_cmpvariant (before, after);
}

void
reserved_test_assert_law (ReservedTestClient *client)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) items = NULL;
  g_autoptr(GArray) orders = NULL;
  g_autoptr(GHashTable) active = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) ids = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GVariant) holds = NULL;
  GVariantIter iter;
  const char *name = NULL;
  guint32 capacity = 0;
  guint32 remaining = 0;

  g_assert_true (client->admin);
  /* Orders first: with nobody else calling, both views are of one state. */
  orders = reserved_test_list_orders (client, "");
  for (guint i = 0; i < orders->len; i++)
    {
      ReservedTestOrder *order = &g_array_index (orders, ReservedTestOrder, i);
      guint64 sum = GPOINTER_TO_SIZE (g_hash_table_lookup (active, order->item));

      g_assert_false (g_hash_table_contains (ids, &order->id));
      g_hash_table_add (ids, &order->id);
      if (order->active)
        g_hash_table_insert (active, order->item, GSIZE_TO_POINTER (sum + order->quantity));
    }

  holds = reserved_test_list_holds (client, "");
  g_variant_iter_init (&iter, holds);
  {
    const char *hold_item = NULL;
    guint32 quantity = 0;

    while (g_variant_iter_next (&iter, "(t&s&suxx)", NULL, &hold_item, NULL, &quantity, NULL, NULL))
      {
        guint64 sum = GPOINTER_TO_SIZE (g_hash_table_lookup (held, hold_item));
        g_hash_table_insert (held, g_strdup (hold_item), GSIZE_TO_POINTER (sum + quantity));
      }
  }

  reserve_reserve1_call_list_items_sync (client->proxy, G_DBUS_CALL_FLAGS_NONE, -1, &items, NULL,
                                         &error);
  g_assert_no_error (error);
  g_variant_iter_init (&iter, items);
  while (g_variant_iter_next (&iter, "(&suu)", &name, &capacity, &remaining))
    {
      guint64 sold = GPOINTER_TO_SIZE (g_hash_table_lookup (active, name));
      ReservedTestItem item = reserved_test_get_item (client, name);

      if ((guint64) remaining + item.held + sold != capacity)
        g_error ("the law is broken for %s: remaining %u + held %u + active orders "
                 "%" G_GUINT64_FORMAT " != capacity %u",
                 name, remaining, item.held, sold, capacity);
      g_assert_cmpuint (item.capacity, ==, capacity);
      g_assert_cmpuint (item.remaining, ==, remaining);
      g_assert_cmpuint (item.sold, ==, sold);
      g_assert_cmpuint (item.held, ==, GPOINTER_TO_SIZE (g_hash_table_lookup (held, name)));
      /* Nothing is for sale outside an item's sale window, and what the
       * waitlist is owed is not available to others. */
      if (item.on_sale)
        {
          g_assert_cmpuint ((guint64) item.available + item.waiting, >=, item.remaining);
          g_assert_cmpuint (item.available, <=, (guint64) item.remaining + item.held);
        }
      else
        g_assert_cmpuint (item.available, ==, 0);
      g_assert_false (item.retired);
      g_hash_table_remove (active, name);
      g_hash_table_remove (held, name);
    }
  /* The rest are of items the listing leaves out: retired ones, whose
   * units still obey the law. */
  {
    GHashTableIter rest;
    gpointer key;

    g_hash_table_iter_init (&rest, held);
    while (g_hash_table_iter_next (&rest, &key, NULL))
      if (!g_hash_table_contains (active, key))
        g_hash_table_insert (active, key, GSIZE_TO_POINTER (0));
    g_hash_table_iter_init (&rest, active);
    while (g_hash_table_iter_next (&rest, &key, NULL))
      {
        guint64 sold = GPOINTER_TO_SIZE (g_hash_table_lookup (active, key));
        ReservedTestItem item = reserved_test_get_item (client, key);

        if (!item.retired)
          g_error ("%s has active orders or live holds but is neither listed nor retired",
                   (const char *) key);
        g_assert_cmpuint ((guint64) item.remaining + item.held + sold, ==, item.capacity);
        g_assert_cmpuint (item.sold, ==, sold);
        g_assert_cmpuint (item.held, ==, GPOINTER_TO_SIZE (g_hash_table_lookup (held, key)));
        g_assert_cmpuint (item.available, ==, 0);
      }
  }
}

guint64
reserved_test_get_statistic (GDBusConnection *connection, const char *key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) stats = NULL;
  guint64 value = 0;
  guint32 small = 0;

  reply = g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                       RESERVE_INTERFACE, "GetStatistics", NULL,
                                       G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
                                       (int) reserved_test_timeout_seconds () * 1000, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(@a{sv})", &stats);
  /* Each value is a t or a u, as the daemon sends it. */
  if (g_variant_lookup (stats, key, "t", &value))
    return value;
  g_assert_true (g_variant_lookup (stats, key, "u", &small));
  return small;
}

#define NAME_MAX_BYTES 64

gboolean
reserved_test_valid_item_name (const char *name)
{
  size_t len = strlen (name);

  if (len == 0 || len > NAME_MAX_BYTES || !g_ascii_isalnum (name[0]))
    return FALSE;
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && strchr ("._:-", name[i]) == NULL)
      return FALSE;
  return TRUE;
}

gboolean
reserved_test_valid_user_name (const char *name)
{
  size_t len = strlen (name);

  if (len == 0 || len > NAME_MAX_BYTES || !g_utf8_validate (name, len, NULL))
    return FALSE;
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c <= 0x1f || (c >= 0x7f && c <= 0x9f))
        return FALSE;
    }
  return TRUE;
}

GArray *
reserved_test_list_acknowledged (ReservedTestClient *client,
                                 guint n_buyers,
                                 const guint *n_acked,
                                 GHashTable *owners)
{
  GArray *all = g_array_new (FALSE, TRUE, sizeof (ReservedTestOrder));

  g_array_set_clear_func (all, order_clear);
  for (guint buyer = 0; buyer < n_buyers; buyer++)
    {
      g_autofree char *user = g_strdup_printf ("buyer%u", buyer);
      g_autoptr(GArray) orders = reserved_test_list_orders (client, user);

      if (orders->len != n_acked[buyer])
        g_error ("%s has %u orders, but was told of %u", user, orders->len, n_acked[buyer]);
      for (guint j = 0; j < orders->len; j++)
        {
          ReservedTestOrder *order = &g_array_index (orders, ReservedTestOrder, j);
          guint owner = GPOINTER_TO_UINT (g_hash_table_lookup (owners, &order->id));

          if (owner != buyer + 1)
            g_error ("order %" G_GUINT64_FORMAT " of %s was not acknowledged to it", order->id,
                     user);
          g_array_append_val (all, *order);
          /* Moved into @all. */
          order->item = NULL;
        }
    }
  return all;
}

typedef struct {
  ReservedTestHoldEndedFunc func;
  gpointer user_data;
} HoldEndedWatch;

static void
on_hold_ended (GVariant *parameters, gpointer user_data)
{
  HoldEndedWatch *watch = user_data;
  guint64 hold = 0;
  const char *item = NULL, *reason = NULL;

  g_variant_get (parameters, "(t&s&s)", &hold, &item, &reason);
  watch->func (hold, item, reason, watch->user_data);
}

guint
reserved_test_watch_hold_ended (GDBusConnection *connection,
                                ReservedTestHoldEndedFunc func,
                                gpointer user_data)
{
  HoldEndedWatch *watch = g_new (HoldEndedWatch, 1);

  *watch = (HoldEndedWatch){ func, user_data };
  return reserved_test_watch_signal (connection, "HoldEnded", on_hold_ended, watch, g_free);
}
