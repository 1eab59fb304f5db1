/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-admin-call.h"
#include "reserve-client.h"
#include "reserve-command.h"

static gboolean
cancel (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autoptr(ReserveReserve1) proxy = NULL;
  g_auto(ReserveAdminCall) admin = { 0 };
  guint64 order = 0;
  guint remaining = 0;

  if (!reserve_invocation_parse (invocation, NULL, &argc, &argv, error))
    return invocation->help_shown;

  if (!reserve_parse_number ("order", reserve_invocation_get_argument (invocation, 0), 1,
                             G_MAXUINT64, &order, error))
    return FALSE;

  admin = reserve_admin_call ();
  proxy = reserve_client_connect (invocation->bus_type, error);
  if (proxy == NULL)
    return FALSE;
  if (!reserve_reserve1_call_cancel_sync (proxy, order, admin.flags, admin.timeout_msec, &remaining,
                                          NULL, error))
    return FALSE;

  /* Cancel answers only with the stock left; the order's item is not part
   * of the reply, and looking it up would need a listing of every order. */
  printf ("Order %" G_GUINT64_FORMAT " cancelled; its item has %u left.\n", order, remaining);
  return TRUE;
}

const ReserveCommand reserve_cancel_command = {
  .name = "cancel",
  .parameters = "ORDER",
  .summary = "Cancel an order and return its units to stock.\n\n"
             "Allowed for whoever placed the order, and for admins.",
  .min_arguments = 1,
  .max_arguments = 1,
  .has_json = FALSE,
  .run = cancel,
};
