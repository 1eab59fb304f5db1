/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The D-Bus face of the daemon: the org.reserved.Reserve1 object, a
 * subclass of the generated skeleton whose methods go through one
 * dispatcher (reserved-call.h) driven by this module's method table. It
 * maps each method onto the store's operations and announces committed
 * changes with StockChanged. It knows nothing of SQLite. */
#pragma once

#include <gio/gio.h>

#include "reserve-generated.h"
#include "reserved-authority.h"
#include "reserved-call.h"
#include "reserved-store.h"

G_BEGIN_DECLS

#define RESERVED_TYPE_SERVICE (reserved_service_get_type ())
G_DECLARE_FINAL_TYPE (ReservedService, reserved_service, RESERVED, SERVICE, ReserveReserve1Skeleton)

ReservedService *
reserved_service_new (ReservedStore *store, ReservedAuthority *authority, const char *default_item);

/* MaxHoldSeconds and MaxHoldsPerUid. */
void reserved_service_set_hold_limits (ReservedService *self,
                                       guint32 max_hold_seconds,
                                       guint32 max_holds_per_uid);

gboolean
reserved_service_export (ReservedService *self, GDBusConnection *connection, GError **error);

/* Stops taking calls. Calls already accepted still get their replies; the
 * "drained" signal is emitted once none is left (at once if none is). */
void reserved_service_stop (ReservedService *self);

/* The method table, for tests that check it against the XML and the
 * polkit policy. */
const ReservedMethod *reserved_service_get_methods (guint *n_methods);

G_END_DECLS
