/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-names.h"
#include "reserve-output.h"
#include "reserve-text.h"

static GVariant *
buy_options (const char *request_id)
{
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);

  if (request_id != NULL)
    g_variant_dict_insert (&options, RESERVE_OPTION_REQUEST_ID, "s", request_id);
  return g_variant_dict_end (&options);
}

static void
print_order (gboolean json,
             guint64 order,
             const char *item,
             const char *user,
             guint64 quantity,
             guint remaining)
{
  g_autoptr(JsonBuilder) builder = NULL;

  if (!json)
    {
      printf (_ ("Order %llu: %s bought %llu × %s; %u left.\n"), (unsigned long long) order, user,
              (unsigned long long) quantity, item, remaining);
      return;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  reserve_json_add_int (builder, "order", (gint64) order);
  reserve_json_add_string (builder, "item", item);
  reserve_json_add_string (builder, "user", user);
  reserve_json_add_int (builder, "quantity", (gint64) quantity);
  reserve_json_add_int (builder, "remaining", remaining);
  json_builder_end_object (builder);
  reserve_print_json (builder);
}

static gboolean
buy (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  /* Values are taken as the bytes typed (G_OPTION_ARG_FILENAME), not
   * converted from the locale's charset, so a UTF-8 name works even under
   * LC_ALL=C and the checks below, with the daemon's words, judge them. */
  g_autofree char *user = NULL;
  g_autofree char *item_flag = NULL;
  g_autofree char *quantity_text = NULL;
  g_autofree char *request_id = NULL;
  const GOptionEntry entries[] = {
    { "user", 'u', 0, G_OPTION_ARG_FILENAME, &user, N_ ("The customer who buys (required)"),
      "NAME" },
    { "item", 'i', 0, G_OPTION_ARG_FILENAME, &item_flag,
      N_ ("The item to buy (default: the daemon's default item)"), "ITEM" },
    { "quantity", 'q', 0, G_OPTION_ARG_FILENAME, &quantity_text,
      N_ ("Units to buy, 1 to 10000 (default: 1)"), "N" },
    { "request-id", 0, 0, G_OPTION_ARG_FILENAME, &request_id,
      N_ ("Retry key: a buy that repeats it returns the first order, buying nothing"), "ID" },
    { NULL }
  };
  g_autoptr(ReserveReserve1) proxy = NULL;
  g_autofree char *item = NULL;
  guint64 quantity = 1;
  guint64 order = 0;
  guint remaining = 0;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;

  if (!reserve_require_flag ("--user", user, error) || !reserve_check_user_name (user, error) ||
      (item_flag != NULL && !reserve_check_item_name (item_flag, error)) ||
      (quantity_text != NULL &&
       !reserve_parse_number ("--quantity", quantity_text, 1, RESERVE_BUY_QUANTITY_MAX, &quantity,
                              error)) ||
      (request_id != NULL && !reserve_check_request_id (request_id, error)))
    return FALSE;

  proxy = reserve_client_connect (invocation->bus_type, error);
  if (proxy == NULL)
    return FALSE;
  item = reserve_client_resolve_item (proxy, item_flag, error);
  if (item == NULL)
    return FALSE;

  if (!reserve_reserve1_call_buy_sync (proxy, item, user, (guint) quantity,
                                       buy_options (request_id), G_DBUS_CALL_FLAGS_NONE,
                                       RESERVE_CLIENT_TIMEOUT_MSEC, &order, &remaining, NULL,
                                       error))
    {
      reserve_client_explain_refusal (proxy, item, *error);
      return FALSE;
    }

  print_order (invocation->json, order, item, user, quantity, remaining);
  return TRUE;
}

const ReserveCommand reserve_buy_command = {
  .name = "buy",
  .parameters = "",
  .summary = N_ ("Buy units of an item for a customer, all or none.\n\n"
                 "Prints the order, e.g. “Order 42: alice bought 1 × ticket; 99 left.”"),
  .min_arguments = 0,
  .max_arguments = 0,
  .has_json = TRUE,
  .run = buy,
};
