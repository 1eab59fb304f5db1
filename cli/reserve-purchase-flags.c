/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-purchase-flags.h"

#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-names.h"

void
reserve_purchase_flags_clear (ReservePurchaseFlags *flags)
{
  g_clear_pointer (&flags->user, g_free);
  g_clear_pointer (&flags->item, g_free);
  g_clear_pointer (&flags->quantity_text, g_free);
  g_clear_pointer (&flags->request_id, g_free);
}

gboolean
reserve_purchase_flags_check (ReservePurchaseFlags *flags, GError **error)
{
  return reserve_require_flag ("--user", flags->user, error) &&
         reserve_check_user_name (flags->user, error) &&
         (flags->item == NULL || reserve_check_item_name (flags->item, error)) &&
         reserve_parse_optional_number ("--quantity", flags->quantity_text, 1,
                                        RESERVE_BUY_QUANTITY_MAX, 1, &flags->quantity, error);
}

gboolean
reserve_purchase_flags_check_request_id (const ReservePurchaseFlags *flags, GError **error)
{
  return flags->request_id == NULL || reserve_check_request_id (flags->request_id, error);
}

void
reserve_purchase_flags_add_options (const ReservePurchaseFlags *flags, GVariantDict *options)
{
  if (flags->request_id != NULL)
    g_variant_dict_insert (options, RESERVE_OPTION_REQUEST_ID, "s", flags->request_id);
}

char *
reserve_purchase_flags_connect (const ReservePurchaseFlags *flags,
                                ReserveCall *call,
                                const ReserveInvocation *invocation,
                                GError **error)
{
  if (!reserve_call_connect (call, invocation, RESERVE_CALL_PLAIN, error))
    return NULL;
  return reserve_client_resolve_item (call->proxy, flags->item, error);
}
