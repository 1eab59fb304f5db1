/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who is calling: the uid behind a bus connection's unique name, asked of
 * the bus (GetConnectionUnixUser), never taken from the message body. The
 * answer is cached per unique name and dropped when the name vanishes;
 * unique names are never reused, so a cached uid cannot go to another
 * connection. Lookups are asynchronous so the main loop never waits on the
 * bus. */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define RESERVED_TYPE_CALLERS (reserved_callers_get_type ())
G_DECLARE_FINAL_TYPE (ReservedCallers, reserved_callers, RESERVED, CALLERS, GObject)

ReservedCallers *reserved_callers_new (GDBusConnection *connection);

void reserved_callers_lookup_async (ReservedCallers *self,
                                    const char *sender,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean reserved_callers_lookup_finish (ReservedCallers *self,
                                         GAsyncResult *result,
                                         uid_t *uid,
                                         GError **error);

/* TRUE with @uid set when @sender's uid is known already. */
gboolean reserved_callers_lookup_cached (ReservedCallers *self, const char *sender, uid_t *uid);

guint reserved_callers_get_n_cached (ReservedCallers *self);

G_END_DECLS
