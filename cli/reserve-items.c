/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-call.h"
#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-output.h"
#include "reserve-text.h"

static void
print_items_table (GVariant *items)
{
  static const ReserveColumn columns[] = {
    { N_ ("ITEM"), FALSE },
    { N_ ("CAPACITY"), TRUE },
    { N_ ("REMAINING"), TRUE },
  };
  g_autoptr(ReserveTable) table = reserve_table_new (columns, G_N_ELEMENTS (columns));
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
    }
  reserve_table_print (table);
}

static void
print_items_json (GVariant *items)
{
  static const char *const names[] = { "item", "capacity", "remaining", NULL };

  reserve_print_json_rows (items, names);
}

static gboolean
items (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_auto(ReserveCall) call = { 0 };
  g_autoptr(GVariant) item_list = NULL;

  if (!reserve_invocation_parse (invocation, NULL, &argc, &argv, error))
    return invocation->help_shown;
  if (!reserve_call_connect (&call, invocation, RESERVE_CALL_PLAIN, error) ||
      !reserve_reserve1_call_list_items_sync (call.proxy, call.flags, call.timeout_msec, &item_list,
                                              NULL, error))
    return FALSE;

  if (invocation->json)
    print_items_json (item_list);
  else
    print_items_table (item_list);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (
  items,
  "",
  RESERVE_WITH_JSON,
  N_ ("List every item with its capacity and remaining stock, sorted by name."));
