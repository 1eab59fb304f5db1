/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SQL of the waitlist: each body runs inside the writer's transaction,
 * as those of reserved-store-sql.h do, and appends every offer it makes to
 * c->offered.
 *
 * Units that come back to an item (a cancel, a release, an expiry, a
 * holder's departure, a restock) are offered, in the transaction that
 * freed them, to the entries waiting for the item: strictly in order of
 * arrival, all of an entry's quantity or nothing, the first entry never
 * passed over for a later one that would fit. An offer is an ordinary hold
 * lasting the item's offer_seconds, or, under release_on_disconnect, bound
 * to the waiter's connection instead; confirming it serves the entry, any other
 * end lapses the entry and its units pass on at once. Buy and Hold take
 * only units not owed to waiting entries. */
#pragma once

#include "reserved-store-sql.h"

G_BEGIN_DECLS

/* The units a customer has of an item, counted against its per-user
 * limit: orders, live holds (offers among them) and waiting entries. */
#define STORE_SQL_UNITS_OF_CUSTOMER                          \
  "SELECT (SELECT COALESCE(SUM(quantity), 0) FROM orders"    \
  " WHERE item_id = ?1 AND customer = ?2 AND cancelled = 0)" \
  " + (SELECT COALESCE(SUM(quantity), 0) FROM holds"         \
  " WHERE item_id = ?1 AND customer = ?2 AND ended IS NULL)" \
  " + (SELECT COALESCE(SUM(quantity), 0) FROM waitlist"      \
  " WHERE item_id = ?1 AND customer = ?2 AND ended IS NULL AND hold_id IS NULL)"

/* Takes ?2 units of item ?1 if that many are left beside those owed to
 * its waiting entries: nobody jumps the queue. */
#define STORE_SQL_TAKE_UNOWED_STOCK                                                 \
  "UPDATE items SET remaining = remaining - ?2"                                     \
  " WHERE id = ?1 AND remaining - (SELECT COALESCE(SUM(quantity), 0) FROM waitlist" \
  " WHERE item_id = ?1 AND ended IS NULL AND hold_id IS NULL) >= ?2"                \
  " RETURNING remaining"

/* Offers what item @item_id has left to the entries waiting for it, in
 * order, until the first one whose quantity is not there. Ends the
 * entries it finds past their deadline first, and an entry the per-user
 * limit now refuses (reason over_limit). Offers nothing for a retired
 * item, or outside its sale window. @remaining (nullable) is set to the
 * item's stock afterwards. Every write that gives units back calls it, and
 * reserved_store_promote_waitlist_async() when a sale window opens. */
gboolean
store_waitlist_promote (StoreConnection *c, gint64 item_id, guint32 *remaining, GError **error);

/* The same for the item named @item (NoSuchItem if none). */
gboolean store_waitlist_promote_item (StoreConnection *c,
                                      const char *item,
                                      guint32 *remaining,
                                      GError **error);

/* Hold @hold ended: if it was an offer, its entry ends, served when
 * @confirmed, else lapsed. The caller gives the units back and promotes. */
gboolean
store_waitlist_hold_ended (StoreConnection *c, guint64 hold, gboolean confirmed, GError **error);

/* Ends the waiting entries of @item_id (-1: of every item) whose deadline
 * has come (reason expired), then promotes each item they waited for. */
gboolean store_waitlist_end_overdue (StoreConnection *c, gint64 item_id, GError **error);
/* Ends the waiting entries of a waiter that left (reason disconnected). */
gboolean store_waitlist_end_of_holder (StoreConnection *c, const char *holder, GError **error);

/* Sets the SoldOut of a Buy or Hold of @quantity × @item that could not
 * take its units, saying how many are left and how many of those are owed
 * to the waitlist; FALSE. */
gboolean store_waitlist_sold_out (StoreConnection *c,
                                  gint64 item_id,
                                  const char *item,
                                  guint32 quantity,
                                  GError **error);

gboolean store_waitlist_set_offer_seconds (StoreConnection *c,
                                           const char *item,
                                           guint32 offer_seconds,
                                           GError **error);

gboolean store_waitlist_join (StoreConnection *c,
                              const ReservedJoinRequest *request,
                              ReservedJoinReceipt *receipt,
                              GError **error);
gboolean store_waitlist_leave (StoreConnection *c, guint64 entry, GError **error);

gboolean store_waitlist_get (StoreConnection *c, guint64 entry, ReservedEntry *out, GError **error);
GArray *store_waitlist_list (StoreConnection *c,
                             const char *item,
                             const uid_t *only_caller,
                             GError **error);

GPtrArray *store_waitlist_waiting_holders (StoreConnection *c, GError **error);

G_END_DECLS
