/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-bus-signal.h"

#include "reserve-names.h"

typedef struct {
  ReserveBusSignalFunc func;
  gpointer user_data;
} Subscriber;

static void
on_signal (GDBusConnection *connection,
           const char *sender,
           const char *path,
           const char *interface,
           const char *signal,
           GVariant *parameters,
           gpointer user_data)
{
  const Subscriber *subscriber = user_data;

  subscriber->func (parameters, subscriber->user_data);
}

guint
reserve_bus_signal_subscribe (GDBusConnection *connection,
                              const char *signal_name,
                              const char *arg0,
                              ReserveBusSignalFunc func,
                              gpointer user_data)
{
  Subscriber *subscriber = g_new (Subscriber, 1);

  subscriber->func = func;
  subscriber->user_data = user_data;
  return g_dbus_connection_signal_subscribe (connection, RESERVE_BUS_NAME, RESERVE_INTERFACE,
                                             signal_name, RESERVE_OBJECT_PATH, arg0,
                                             G_DBUS_SIGNAL_FLAGS_NONE, on_signal, subscriber,
                                             g_free);
}
