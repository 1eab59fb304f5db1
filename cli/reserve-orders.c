/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-call.h"
#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-names.h"
#include "reserve-output.h"
#include "reserve-text.h"

/* One order of a ListOrdersPage page; the strings are the page's own. */
typedef struct {
  guint64 order;
  const char *item;
  const char *user;
  guint quantity;
  gint64 created; /* microseconds since the Unix epoch */
  const char *state;
} OrderRow;

/* The pages of a listing, read in turn; rows come out in order. */
typedef struct {
  GPtrArray *pages; /* of GVariant a(tssuxs) */
  guint page;
  GVariantIter iter;
} OrderCursor;

static void
order_cursor_init (OrderCursor *cursor, GPtrArray *pages)
{
  cursor->pages = pages;
  cursor->page = 0;
  if (pages->len > 0)
    g_variant_iter_init (&cursor->iter, g_ptr_array_index (pages, 0));
}

static gboolean
next_order (OrderCursor *cursor, OrderRow *row)
{
  while (cursor->page < cursor->pages->len)
    {
      if (g_variant_iter_next (&cursor->iter, "(t&s&sux&s)", &row->order, &row->item, &row->user,
                               &row->quantity, &row->created, &row->state))
        return TRUE;
      if (++cursor->page < cursor->pages->len)
        g_variant_iter_init (&cursor->iter, g_ptr_array_index (cursor->pages, cursor->page));
    }
  return FALSE;
}

static guint
count_orders (GPtrArray *pages)
{
  guint n = 0;

  for (guint i = 0; i < pages->len; i++)
    n += g_variant_n_children (g_ptr_array_index (pages, i));
  return n;
}

static void
print_orders_table (GPtrArray *pages, const char *user)
{
  /* USER only for every customer's orders: a listing of one names them. */
  static const ReserveColumn every_customer[] = {
    { N_ ("ORDER"), TRUE },    { N_ ("ITEM"), FALSE },    { N_ ("USER"), FALSE },
    { N_ ("QUANTITY"), TRUE }, { N_ ("CREATED"), FALSE }, { N_ ("STATE"), FALSE },
  };
  static const ReserveColumn one_customer[] = {
    { N_ ("ORDER"), TRUE },    { N_ ("ITEM"), FALSE },  { N_ ("QUANTITY"), TRUE },
    { N_ ("CREATED"), FALSE }, { N_ ("STATE"), FALSE },
  };
  g_autoptr(ReserveTable) table =
               user == NULL ? reserve_table_new (every_customer, G_N_ELEMENTS (every_customer))
                            : reserve_table_new (one_customer, G_N_ELEMENTS (one_customer));
  OrderCursor cursor;
  OrderRow row;

  if (count_orders (pages) == 0)
    {
      if (user == NULL)
        puts (_ ("No orders."));
      else
        printf (_ ("No orders for %s.\n"), user);
      return;
    }

  order_cursor_init (&cursor, pages);
  while (next_order (&cursor, &row))
    {
      reserve_table_add_number (table, row.order);
      reserve_table_add (table, row.item);
      if (user == NULL)
        reserve_table_add (table, row.user);
      reserve_table_add_number (table, row.quantity);
      reserve_table_take (table, reserve_format_local_time (row.created));
      reserve_table_add (table, row.state);
    }
  reserve_table_print (table);
}

static void
print_orders_json (GPtrArray *pages)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  OrderCursor cursor;
  OrderRow row;

  json_builder_begin_array (builder);
  order_cursor_init (&cursor, pages);
  while (next_order (&cursor, &row))
    {
      json_builder_begin_object (builder);
      reserve_json_add_int (builder, "order", (gint64) row.order);
      reserve_json_add_string (builder, "item", row.item);
      reserve_json_add_string (builder, "user", row.user);
      reserve_json_add_int (builder, "quantity", row.quantity);
      reserve_json_add_usec_time (builder, "created", row.created);
      reserve_json_add_string (builder, "state", row.state);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  reserve_print_json (builder);
}

/* Every page of the listing (@user NULL: every customer's), read in
 * bounded replies so that no listing is too long for the daemon to send. */
static GPtrArray *
read_orders (const ReserveCall *call, const char *user, GError **error)
{
  g_autoptr(GPtrArray) pages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autofree char *cursor = g_strdup ("");

  do
    {
      g_auto(GVariantDict) query = G_VARIANT_DICT_INIT (NULL);
      GVariant *page = NULL;
      g_autofree char *next_cursor = NULL;

      g_variant_dict_insert (&query, RESERVE_QUERY_LIMIT, "u", RESERVE_PAGE_LIMIT_MAX);
      g_variant_dict_insert (&query, RESERVE_QUERY_CURSOR, "s", cursor);
      if (user != NULL)
        g_variant_dict_insert (&query, RESERVE_QUERY_USER, "s", user);
      if (!reserve_reserve1_call_list_orders_page_sync (call->proxy, g_variant_dict_end (&query),
                                                        call->flags, call->timeout_msec, &page,
                                                        &next_cursor, NULL, error))
        return NULL;
      g_ptr_array_add (pages, page);
      g_free (cursor);
      cursor = g_steal_pointer (&next_cursor);
    }
  while (cursor[0] != '\0');
  return g_steal_pointer (&pages);
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
  g_auto(ReserveCall) call = { 0 };
  g_autoptr(GPtrArray) pages = NULL;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (!check_whose_orders (user, all, error) ||
      !reserve_call_connect (&call, invocation, RESERVE_CALL_AS_ADMIN, error))
    return FALSE;
  pages = read_orders (&call, user, error);
  if (pages == NULL)
    return FALSE;

  if (invocation->json)
    print_orders_json (pages);
  else
    print_orders_table (pages, user);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (
  orders,
  "",
  RESERVE_WITH_JSON,
  N_ ("List a customer's orders, oldest first, with their local creation time.\n\n"
      "Admins see every caller's orders for the customer; others see the\n"
      "orders they placed themselves. --all lists every customer's orders\n"
      "and is for admins only, with a USER column."));
