// SPDX-License-Identifier: LGPL-2.1-or-later
/* What a store backend answers when it refuses an operation: one function
 * per refusal, building its RESERVE_ERROR and message from plain values,
 * so that every backend refuses in the same words. Each returns FALSE. */
#pragma once

#include <sys/types.h>

#include "reserved-store.h"

G_BEGIN_DECLS

gboolean store_refuse_no_such_item (GError **error, const char *name);
gboolean store_refuse_retired (GError **error, const char *name);
/* NotOnSale: @window does not hold @now (the wall clock's). */
gboolean store_refuse_not_on_sale (GError **error,
                                   const char *name,
                                   const ReservedSaleWindow *window,
                                   gint64 now);
/* @units: what @user has already (orders, holds, waiting entries). */
gboolean store_refuse_per_user_limit (GError **error,
                                      const char *item,
                                      const char *user,
                                      guint32 limit,
                                      gint64 units,
                                      guint32 quantity);
/* @owed: of the @left units, those owed to the waitlist. */
gboolean store_refuse_sold_out (GError **error,
                                const char *item,
                                gint64 left,
                                gint64 owed,
                                guint32 quantity);
/* @request_id was first used for @what ("order", "hold", "waitlist
 * entry") @first_id: @first_quantity × @first_item for @first_user. */
gboolean store_refuse_request_reused (GError **error,
                                      const char *request_id,
                                      const char *what,
                                      gint64 first_id,
                                      gint64 first_quantity,
                                      const char *first_item,
                                      const char *first_user);
gboolean store_refuse_no_such_order (GError **error, guint64 order);
gboolean store_refuse_already_cancelled (GError **error, guint64 order);
gboolean store_refuse_item_exists (GError **error, const char *name, gboolean retired);
gboolean
store_refuse_restock (GError **error, const char *name, guint32 quantity, guint32 capacity);
gboolean store_refuse_no_such_hold (GError **error, guint64 hold);
/* HoldEnded, saying why: @reason, and for a confirmed hold its @order. */
gboolean store_refuse_hold_ended (GError **error, guint64 hold, const char *reason, guint64 order);
gboolean store_refuse_max_holds (GError **error, uid_t caller, gint64 live, guint32 max_holds);
gboolean store_refuse_too_big (GError **error, const char *item, guint32 quantity, gint64 capacity);
gboolean store_refuse_one_entry (GError **error, const char *item, const char *user, gint64 entry);
gboolean store_refuse_no_such_entry (GError **error, guint64 entry);
gboolean store_refuse_entry_ended (GError **error, guint64 entry, const char *why);

/* The static string of a hold's end @reason (RESERVED_HOLD_*), as
 * ReservedEndedHold keeps it. */
const char *store_hold_reason (const char *reason);

G_END_DECLS
