/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SQL of holds: each body runs inside the writer's transaction, as
 * those of reserved-store-sql.h do, and appends every hold it ends to
 * c->ended. Time is reserved_clock_now(). */
#pragma once

#include "reserved-store-sql.h"

G_BEGIN_DECLS

/* Ends the live holds of @item_id (-1: of every item) whose expiry has
 * come, returning their units. */
gboolean store_holds_end_overdue (StoreConnection *c, gint64 item_id, GError **error);
gboolean store_holds_end_of_holder (StoreConnection *c,
                                    const char *holder,
                                    const char *reason,
                                    GError **error);

gboolean store_holds_hold (StoreConnection *c,
                           const ReservedHoldRequest *request,
                           ReservedHoldReceipt *receipt,
                           GError **error);
/* Takes @request->quantity units of @item_id and records the hold (the
 * item, limits and request_id already checked). @owed: the units may be
 * ones owed to the waitlist (an offer); otherwise only the others. */
gboolean store_holds_insert (StoreConnection *c,
                             gint64 item_id,
                             const ReservedHoldRequest *request,
                             gboolean owed,
                             ReservedHoldReceipt *receipt,
                             GError **error);

/* May succeed with @late set: the hold had expired, which this committed,
 * and the caller is to be told HoldEnded. */
gboolean store_holds_confirm (StoreConnection *c,
                              guint64 hold,
                              gboolean or_buy,
                              guint64 *order,
                              guint32 *remaining,
                              char **item_out,
                              GError **late,
                              GError **error);
gboolean store_holds_release (StoreConnection *c,
                              guint64 hold,
                              guint32 *remaining,
                              GError **late,
                              GError **error);
gboolean store_holds_extend (StoreConnection *c,
                             guint64 hold,
                             guint32 ttl,
                             guint32 max_seconds,
                             gint64 *expires,
                             GError **late,
                             GError **error);

/* At start: no live hold may have more time left than the span it was last
 * granted, so a clock set back while the daemon was stopped cannot
 * lengthen it. */
gboolean store_holds_clamp (StoreConnection *c, GError **error);

gboolean store_holds_get (StoreConnection *c, guint64 hold, ReservedHold *out, GError **error);
GArray *
store_holds_list (StoreConnection *c, const char *user, const uid_t *only_caller, GError **error);
gboolean store_holds_next_expiry (StoreConnection *c, gint64 *expires);

G_END_DECLS
