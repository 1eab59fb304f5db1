/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The dbus mode of `reserve race`: every buyer sends its purchase as one
 * Buy message to the daemon, the one owner of the stock, which decides in a
 * transaction. Correct, and the buyers do not take turns.
 *
 * Each buyer opens its own bus connection after the fork. The parent's own
 * questions (create the item, look at it afterwards) go through short-lived
 * children too, so the parent, which keeps forking buyers, never starts
 * GDBus (see race-pool.h). */
#pragma once

#include "race-pool.h"

G_BEGIN_DECLS

typedef struct {
  guint capacity;
  guint remaining;
  guint sold;
} RaceItemState;

typedef struct {
  GBusType bus_type;
  const char *item;
  guint delay_ms;
} RaceDbusBuyerData;

/* With @item NULL, creates a fresh item "race-…" with @stock units and sets
 * @item_out to its name; else looks @item up. Sets @state either way. An
 * error the daemon gives (no such item, permission) becomes a G_IO_ERROR
 * that says what to do; bus errors stay as they are. */
gboolean race_dbus_prepare_item (GBusType bus_type,
                                 const char *item,
                                 guint stock,
                                 char **item_out,
                                 RaceItemState *state,
                                 GError **error);

/* GetItem, asked from a child process. */
gboolean
race_dbus_get_item (GBusType bus_type, const char *item, RaceItemState *state, GError **error);

/* RetireItem, asked from a child process. */
gboolean race_dbus_retire_item (GBusType bus_type, const char *item, GError **error);

/* The buyer's body, for RacePoolSpec; @data is a RaceDbusBuyerData. */
void race_dbus_buyer (RaceBuyer *buyer, gconstpointer data);

G_END_DECLS
