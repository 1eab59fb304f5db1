/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-call.h"
#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-give-back.h"
#include "reserve-output.h"
#include "reserve-text.h"

/* What the cancelled order was, for the message: Cancel answers only with
 * the stock left, so the order is read back with GetOrder, which its
 * buyer and administrators (those who may cancel it) may call. */
typedef struct {
  char *item;
  char *user;
  guint quantity;
} CancelledOrder;

static void
cancelled_order_clear (CancelledOrder *order)
{
  g_clear_pointer (&order->item, g_free);
  g_clear_pointer (&order->user, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CancelledOrder, cancelled_order_clear)

static gboolean
read_order (ReserveReserve1 *proxy, guint64 order, CancelledOrder *cancelled)
{
  g_autoptr(GVariant) info = NULL;

  if (!reserve_reserve1_call_get_order_sync (proxy, order, G_DBUS_CALL_FLAGS_NONE,
                                             RESERVE_CLIENT_TIMEOUT_MSEC, &info, NULL, NULL))
    return FALSE;
  return g_variant_lookup (info, "item", "s", &cancelled->item) &&
         g_variant_lookup (info, "user", "s", &cancelled->user) &&
         g_variant_lookup (info, "quantity", "u", &cancelled->quantity);
}

static void
print_cancelled_json (guint64 order, const CancelledOrder *cancelled, guint remaining)
{
  g_autoptr(JsonBuilder) builder = reserve_json_object_new ();

  reserve_json_add_int (builder, "order", (gint64) order);
  /* null where the order could not be read back. */
  reserve_json_add_nullable_string (builder, "item", cancelled->item);
  reserve_json_add_nullable_string (builder, "user", cancelled->user);
  if (cancelled->item != NULL)
    reserve_json_add_int (builder, "quantity", cancelled->quantity);
  else
    reserve_json_add_null (builder, "quantity");
  reserve_json_add_string (builder, "state", "cancelled");
  reserve_json_add_int (builder, "remaining", remaining);
  reserve_print_json_object (builder);
}

static gboolean
cancel (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_auto(ReserveCall) call = { 0 };
  g_auto(CancelledOrder) cancelled = { 0 };
  ReserveGiveBack back = { "order", RESERVE_CALL_AS_ADMIN, reserve_reserve1_call_cancel_sync };

  if (!reserve_give_back (&call, invocation, argc, argv, &back, error))
    return invocation->help_shown;

  /* The cancellation is done and committed: if the order cannot be read
   * back, say so without its item rather than fail. */
  if (!read_order (call.proxy, back.id, &cancelled))
    cancelled_order_clear (&cancelled);
  if (invocation->json)
    print_cancelled_json (back.id, &cancelled, back.remaining);
  else if (cancelled.item == NULL)
    printf (_ ("Order %llu cancelled; its item has %u left.\n"), (unsigned long long) back.id,
            back.remaining);
  else
    printf (P_ ("Order %llu cancelled: %u unit back in stock; %s has %u left.\n",
                "Order %llu cancelled: %u units back in stock; %s has %u left.\n",
                cancelled.quantity),
            (unsigned long long) back.id, cancelled.quantity, cancelled.item, back.remaining);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (cancel,
                        "ORDER",
                        RESERVE_WITH_JSON,
                        N_ ("Cancel an order and return its units to stock.\n\n"
                            "Allowed for whoever placed the order, and for admins."));
