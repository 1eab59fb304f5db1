/* The D-Bus face of the daemon: maps the org.reserved.Reserve1 methods onto
 * the store's operations, asks the gate who may do what, and announces
 * committed changes with StockChanged. It knows nothing of SQLite. */
#pragma once

#include <gio/gio.h>

#include "reserved-gate.h"
#include "reserved-store.h"

G_BEGIN_DECLS

#define RESERVED_TYPE_SERVICE (reserved_service_get_type ())
G_DECLARE_FINAL_TYPE (ReservedService, reserved_service, RESERVED, SERVICE, GObject)

/* Takes ownership of @gate. */
ReservedService *reserved_service_new (ReservedStore *store,
                                       ReservedGate  *gate,
                                       const char    *default_item);

gboolean reserved_service_export (ReservedService *self,
                                  GDBusConnection *connection,
                                  GError         **error);

/* Stops taking calls. Calls already accepted still get their replies; the
 * "drained" signal is emitted once none is left (at once if none is). */
void reserved_service_stop (ReservedService *self);

G_END_DECLS
