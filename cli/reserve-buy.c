/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-client.h"
#include "reserve-error.h"
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

/* A replay buys nothing: it is told apart from a sale, and one whose order
 * is no longer active is a failure, since the customer holds nothing. */
static gboolean
report_order (gboolean json, const char *request_id, GVariant *details, GError **error)
{
  g_autoptr(JsonBuilder) builder = NULL;
  guint64 order = 0;
  guint32 quantity = 0;
  guint32 remaining = 0;
  gboolean replayed = FALSE;
  const char *state = RESERVE_ORDER_STATE_ACTIVE;
  const char *item = "";
  const char *user = "";
  gboolean active;

  g_variant_lookup (details, "order", "t", &order);
  g_variant_lookup (details, "item", "&s", &item);
  g_variant_lookup (details, "user", "&s", &user);
  g_variant_lookup (details, "quantity", "u", &quantity);
  g_variant_lookup (details, "remaining", "u", &remaining);
  g_variant_lookup (details, "replayed", "b", &replayed);
  g_variant_lookup (details, "state", "&s", &state);
  active = g_strcmp0 (state, RESERVE_ORDER_STATE_ACTIVE) == 0;

  if (json)
    {
      builder = json_builder_new ();
      json_builder_begin_object (builder);
      reserve_json_add_int (builder, "order", (gint64) order);
      reserve_json_add_string (builder, "item", item);
      reserve_json_add_string (builder, "user", user);
      reserve_json_add_int (builder, "quantity", quantity);
      reserve_json_add_int (builder, "remaining", remaining);
      json_builder_set_member_name (builder, "replayed");
      json_builder_add_boolean_value (builder, replayed);
      reserve_json_add_string (builder, "state", state);
      json_builder_end_object (builder);
      reserve_print_json (builder);
    }
  else if (!replayed)
    printf (_ ("Order %llu: %s bought %llu × %s; %u left.\n"), (unsigned long long) order, user,
            (unsigned long long) quantity, item, remaining);
  else if (active)
    printf (_ ("Order %llu: request id %s was used before; nothing new bought, "
               "%s still holds %u × %s; %u left.\n"),
            (unsigned long long) order, request_id, user, quantity, item, remaining);

  if (replayed && !active)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_ALREADY_CANCELLED,
                   _ ("request id %s was used before by order %llu, which is %s: nothing was "
                      "bought and %s holds none of it (buy with another request id to buy again)"),
                   request_id, (unsigned long long) order, state, user);
      return FALSE;
    }
  return TRUE;
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
  g_autoptr(GVariant) details = NULL;

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

  if (!reserve_reserve1_call_buy_with_details_sync (proxy, item, user, (guint) quantity,
                                                    buy_options (request_id),
                                                    G_DBUS_CALL_FLAGS_NONE,
                                                    RESERVE_CLIENT_TIMEOUT_MSEC, &details, NULL,
                                                    error))
    {
      reserve_client_explain_refusal (proxy, item, *error);
      return FALSE;
    }

  return report_order (invocation->json, request_id, details, error);
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
