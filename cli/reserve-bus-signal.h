/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Waiting for what reserved announces: a subscription to one of its
 * signals (from its name, object and interface), whose callback gets only
 * what it needs, the signal's parameters. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef void (*ReserveBusSignalFunc) (GVariant *parameters, gpointer user_data);

/* Subscribes to reserved's @signal_name, for @arg0 only unless NULL.
 * Returns the id for g_dbus_connection_signal_unsubscribe(). */
guint reserve_bus_signal_subscribe (GDBusConnection *connection,
                                    const char *signal_name,
                                    const char *arg0,
                                    ReserveBusSignalFunc func,
                                    gpointer user_data);

G_END_DECLS
