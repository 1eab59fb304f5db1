/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-output.h"
#include "reserve-text.h"

/* ListOrders' empty user name: every customer's orders. */
#define EVERY_CUSTOMER ""

/* One order of ListOrders' answer; the strings are the answer's own. */
typedef struct {
  guint64 order;
  const char *item;
  guint quantity;
  gint64 created; /* microseconds since the Unix epoch */
  const char *state;
} OrderRow;

static gboolean
next_order (GVariantIter *iter, OrderRow *row)
{
  return g_variant_iter_next (iter, "(t&sux&s)", &row->order, &row->item, &row->quantity,
                              &row->created, &row->state);
}

static void
print_orders_table (GVariant *orders, const char *user)
{
  static const ReserveColumn columns[] = {
    { "ORDER", TRUE },    { "ITEM", FALSE },  { "QUANTITY", TRUE },
    { "CREATED", FALSE }, { "STATE", FALSE },
  };
  g_autoptr(ReserveTable) table = reserve_table_new (columns, G_N_ELEMENTS (columns));
  GVariantIter iter;
  OrderRow row;

  if (g_variant_n_children (orders) == 0)
    {
      if (*user == '\0')
        puts (_ ("No orders."));
      else
        printf (_ ("No orders for %s.\n"), user);
      return;
    }

  g_variant_iter_init (&iter, orders);
  while (next_order (&iter, &row))
    {
      reserve_table_add_number (table, row.order);
      reserve_table_add (table, row.item);
      reserve_table_add_number (table, row.quantity);
      reserve_table_take (table, reserve_format_local_time (row.created));
      reserve_table_add (table, row.state);
    }
  reserve_table_print (table);
}

static void
print_orders_json (GVariant *orders)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  GVariantIter iter;
  OrderRow row;

  json_builder_begin_array (builder);
  g_variant_iter_init (&iter, orders);
  while (next_order (&iter, &row))
    {
      json_builder_begin_object (builder);
      reserve_json_add_int (builder, "order", (gint64) row.order);
      reserve_json_add_string (builder, "item", row.item);
      reserve_json_add_int (builder, "quantity", row.quantity);
      reserve_json_add_usec_time (builder, "created", row.created);
      reserve_json_add_string (builder, "state", row.state);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  reserve_print_json (builder);
}

static gboolean
check_whose_orders (const char *user, gboolean all, GError **error)
{
  if (user != NULL && all)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _ ("--user and --all cannot be used together"));
      return FALSE;
    }
  if (user == NULL && !all)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _ ("--user NAME or --all is required"));
      return FALSE;
    }
  return user == NULL || reserve_check_user_name (user, error);
}

static gboolean
orders (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  /* Taken as the bytes typed, like buy's --user, so the names match. */
  g_autofree char *user = NULL;
  gboolean all = FALSE;
  const GOptionEntry entries[] = { { "user", 'u', 0, G_OPTION_ARG_FILENAME, &user,
                                     N_ ("The customer whose orders to list"), "NAME" },
                                   { "all", 'a', 0, G_OPTION_ARG_NONE, &all,
                                     N_ ("List every customer's orders (admins only)"), NULL },
                                   { NULL } };
  g_autoptr(ReserveReserve1) proxy = NULL;
  g_auto(ReserveAdminCall) admin = { 0 };
  g_autoptr(GVariant) order_list = NULL;
  const char *customer;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (!check_whose_orders (user, all, error))
    return FALSE;
  customer = all ? EVERY_CUSTOMER : user;

  admin = reserve_client_admin_call ();
  proxy = reserve_client_connect (invocation->bus_type, error);
  if (proxy == NULL)
    return FALSE;
  if (!reserve_reserve1_call_list_orders_sync (proxy, customer, admin.flags, admin.timeout_msec,
                                               &order_list, NULL, error))
    return FALSE;

  if (invocation->json)
    print_orders_json (order_list);
  else
    print_orders_table (order_list, customer);
  return TRUE;
}

const ReserveCommand reserve_orders_command = {
  .name = "orders",
  .parameters = "",
  .summary = N_ ("List a customer's orders, oldest first, with their local creation time.\n\n"
                 "Admins see every caller's orders for the customer; others see the\n"
                 "orders they placed themselves. --all lists every customer's orders\n"
                 "and is for admins only."),
  .min_arguments = 0,
  .max_arguments = 0,
  .has_json = TRUE,
  .run = orders,
};
