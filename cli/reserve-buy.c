/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-call.h"
#include "reserve-client.h"
#include "reserve-error.h"
#include "reserve-command.h"
#include "reserve-names.h"
#include "reserve-output.h"
#include "reserve-purchase-flags.h"
#include "reserve-text.h"

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
      builder = reserve_json_object_new ();
      reserve_json_add_int (builder, "order", (gint64) order);
      reserve_json_add_purchase (builder, item, user, quantity);
      reserve_json_add_int (builder, "remaining", remaining);
      reserve_json_add_boolean (builder, "replayed", replayed);
      reserve_json_add_string (builder, "state", state);
      reserve_print_json_object (builder);
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
  g_auto(ReservePurchaseFlags) flags = { 0 };
  const GOptionEntry entries[] = {
    RESERVE_PURCHASE_FLAG_ENTRIES (&flags, N_ ("The customer who buys (required)"),
                                   N_ ("The item to buy (default: the daemon's default item)"),
                                   N_ ("Units to buy, 1 to 10000 (default: 1)")),
    RESERVE_PURCHASE_REQUEST_ID_ENTRY (
      &flags, N_ ("Retry key: a buy that repeats it returns the first order, buying nothing")),
    { NULL }
  };
  g_auto(ReserveCall) call = { 0 };
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  g_autofree char *item = NULL;
  g_autoptr(GVariant) details = NULL;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (!reserve_purchase_flags_check (&flags, error) ||
      !reserve_purchase_flags_check_request_id (&flags, error))
    return FALSE;
  item = reserve_purchase_flags_connect (&flags, &call, invocation, error);
  if (item == NULL)
    return FALSE;

  reserve_purchase_flags_add_options (&flags, &options);
  if (!reserve_reserve1_call_buy_with_details_sync (call.proxy, item, flags.user,
                                                    (guint) flags.quantity,
                                                    g_variant_dict_end (&options), call.flags,
                                                    call.timeout_msec, &details, NULL, error))
    {
      reserve_client_explain_refusal (call.proxy, item, *error);
      return FALSE;
    }

  return report_order (invocation->json, flags.request_id, details, error);
}

RESERVE_DEFINE_COMMAND (
  buy,
  "",
  RESERVE_WITH_JSON,
  N_ ("Buy units of an item for a customer, all or none.\n\n"
      "Prints the order, e.g. “Order 42: alice bought 1 × ticket; 99 left.”"));
