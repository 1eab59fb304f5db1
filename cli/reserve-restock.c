/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-admin-call.h"
#include "reserve-client.h"
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
  g_autoptr(ReserveReserve1) proxy = NULL;
  g_auto(ReserveAdminCall) admin = { 0 };
  const char *item = NULL;
  guint64 quantity = 0;
  guint remaining = 0;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;

  item = reserve_invocation_get_argument (invocation, 0);
  if (!reserve_check_item_name (item, error) ||
      !reserve_parse_number ("--quantity", quantity_text, 1, RESERVE_RESTOCK_QUANTITY_MAX,
                             &quantity, error))
    return FALSE;

  admin = reserve_admin_call ();
  proxy = reserve_client_connect (invocation->bus_type, error);
  if (proxy == NULL)
    return FALSE;
  if (!reserve_reserve1_call_restock_sync (proxy, item, (guint) quantity, admin.flags,
                                           admin.timeout_msec, &remaining, NULL, error))
    return FALSE;

  if (invocation->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      reserve_json_add_string (builder, "item", item);
      reserve_json_add_int (builder, "quantity", (gint64) quantity);
      reserve_json_add_int (builder, "remaining", remaining);
      json_builder_end_object (builder);
      reserve_print_json (builder);
      return TRUE;
    }
  printf (P_ ("Restocked %s with %llu unit; %u left.\n", "Restocked %s with %llu units; %u left.\n",
              quantity),
          item, (unsigned long long) quantity, remaining);
  return TRUE;
}

const ReserveCommand reserve_restock_command = {
  .name = "restock",
  .parameters = "ITEM",
  .summary = N_ ("Add units to an item's capacity and remaining stock. Admins only."),
  .min_arguments = 1,
  .max_arguments = 1,
  .has_json = TRUE,
  .run = restock,
};
