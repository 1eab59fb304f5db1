/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-call.h"
#include "reserve-command.h"
#include "reserve-names.h"
#include "reserve-output.h"
#include "reserve-text.h"

static gboolean
restock (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autofree char *quantity_text = NULL;
  const GOptionEntry entries[] = { { "quantity", 'q', 0, G_OPTION_ARG_FILENAME, &quantity_text,
                                     N_ ("Units to add, 1 to 1000000 (required)"), "N" },
                                   { NULL } };
  g_auto(ReserveCall) call = { 0 };
  const char *item = NULL;
  guint64 quantity = 0;
  guint remaining = 0;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (!reserve_invocation_get_item (invocation, &item, error) ||
      !reserve_parse_number ("--quantity", quantity_text, 1, RESERVE_RESTOCK_QUANTITY_MAX,
                             &quantity, error) ||
      !reserve_call_connect (&call, invocation, RESERVE_CALL_AS_ADMIN, error) ||
      !reserve_reserve1_call_restock_sync (call.proxy, item, (guint) quantity, call.flags,
                                           call.timeout_msec, &remaining, NULL, error))
    return FALSE;

  if (invocation->json)
    {
      g_autoptr(JsonBuilder) builder = reserve_json_object_new ();

      reserve_json_add_string (builder, "item", item);
      reserve_json_add_int (builder, "quantity", (gint64) quantity);
      reserve_json_add_int (builder, "remaining", remaining);
      reserve_print_json_object (builder);
      return TRUE;
    }
  printf (P_ ("Restocked %s with %llu unit; %u left.\n", "Restocked %s with %llu units; %u left.\n",
              quantity),
          item, (unsigned long long) quantity, remaining);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (restock,
                        "ITEM",
                        RESERVE_WITH_JSON,
                        N_ ("Add units to an item's capacity and remaining stock. Admins only."));
