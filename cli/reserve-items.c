/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-call.h"
#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-output.h"
#include "reserve-sale-window.h"
#include "reserve-text.h"

typedef struct {
  gint64 start;
  gint64 end;
  gboolean on_sale;
} SaleWindow;

/* The sale window of each item, which ListItems does not carry: item
 * name -> SaleWindow, from GetItem. */
static GHashTable *
read_sale_windows (ReserveReserve1 *proxy, GVariant *items, GError **error)
{
  g_autoptr(GHashTable) windows = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  GVariantIter iter;
  const char *name;

  g_variant_iter_init (&iter, items);
  while (g_variant_iter_next (&iter, "(&suu)", &name, NULL, NULL))
    {
      g_autoptr(GVariant) info = NULL;
      SaleWindow *window = g_new0 (SaleWindow, 1);

      g_hash_table_insert (windows, (gpointer) name, window);
      if (!reserve_reserve1_call_get_item_sync (proxy, name, G_DBUS_CALL_FLAGS_NONE,
                                                RESERVE_CLIENT_TIMEOUT_MSEC, &info, NULL, error))
        return NULL;
      reserve_sale_window_from_info (info, &window->start, &window->end, &window->on_sale);
    }
  return g_steal_pointer (&windows);
}

static gboolean
any_window (GHashTable *windows)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, windows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((SaleWindow *) value)->start != 0 || ((SaleWindow *) value)->end != 0)
      return TRUE;
  return FALSE;
}

/* The columns of sale windows only when an item has one. */
static void
print_items_table (GVariant *items, GHashTable *windows)
{
  static const ReserveColumn columns[] = {
    { N_ ("ITEM"), FALSE },    { N_ ("CAPACITY"), TRUE },     { N_ ("REMAINING"), TRUE },
    { N_ ("ON SALE"), FALSE }, { N_ ("SALE WINDOW"), FALSE },
  };
  gboolean with_windows = any_window (windows);
  g_autoptr(ReserveTable) table =
               reserve_table_new (columns, with_windows ? G_N_ELEMENTS (columns) : 3);
  GVariantIter iter;
  const char *name;
  guint capacity;
  guint remaining;

  if (g_variant_n_children (items) == 0)
    {
      puts (_ ("No items."));
      return;
    }

  g_variant_iter_init (&iter, items);
  while (g_variant_iter_next (&iter, "(&suu)", &name, &capacity, &remaining))
    {
      reserve_table_add (table, name);
      reserve_table_add_number (table, capacity);
      reserve_table_add_number (table, remaining);
      if (with_windows)
        {
          const SaleWindow *window = g_hash_table_lookup (windows, name);
          g_autofree char *described = reserve_describe_sale_window (window->start, window->end);

          reserve_table_add (table, window->on_sale ? _ ("yes") : _ ("no"));
          reserve_table_add (table, described != NULL ? described : "-");
        }
    }
  reserve_table_print (table);
}

static void
print_items_json (GVariant *items, GHashTable *windows)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  GVariantIter iter;
  const char *name;
  guint capacity;
  guint remaining;

  json_builder_begin_array (builder);
  g_variant_iter_init (&iter, items);
  while (g_variant_iter_next (&iter, "(&suu)", &name, &capacity, &remaining))
    {
      const SaleWindow *window = g_hash_table_lookup (windows, name);

      json_builder_begin_object (builder);
      reserve_json_add_string (builder, "item", name);
      reserve_json_add_int (builder, "capacity", capacity);
      reserve_json_add_int (builder, "remaining", remaining);
      reserve_json_add_sale_window (builder, window->start, window->end, window->on_sale);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  reserve_print_json (builder);
}

static gboolean
items (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_auto(ReserveCall) call = { 0 };
  g_autoptr(GVariant) item_list = NULL;
  g_autoptr(GHashTable) windows = NULL;

  if (!reserve_invocation_parse (invocation, NULL, &argc, &argv, error))
    return invocation->help_shown;
  if (!reserve_call_connect (&call, invocation, RESERVE_CALL_PLAIN, error) ||
      !reserve_reserve1_call_list_items_sync (call.proxy, call.flags, call.timeout_msec, &item_list,
                                              NULL, error))
    return FALSE;
  windows = read_sale_windows (call.proxy, item_list, error);
  if (windows == NULL)
    return FALSE;

  if (invocation->json)
    print_items_json (item_list, windows);
  else
    print_items_table (item_list, windows);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (
  items,
  "",
  RESERVE_WITH_JSON,
  N_ ("List every item with its capacity and remaining stock, sorted by name."));
