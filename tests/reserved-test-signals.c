// SPDX-License-Identifier: LGPL-2.1-or-later
#include "reserved-test-signals.h"

#include "reserved-test-daemon.h"

typedef struct {
  ReservedTestSignalFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} Subscriber;

static void
subscriber_free (gpointer data)
{
  Subscriber *subscriber = data;

  if (subscriber->destroy != NULL)
    subscriber->destroy (subscriber->user_data);
  g_free (subscriber);
}

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
reserved_test_watch_signal (GDBusConnection *connection,
                            const char *signal,
                            ReservedTestSignalFunc func,
                            gpointer user_data,
                            GDestroyNotify destroy)
{
  Subscriber *subscriber = g_new (Subscriber, 1);

  *subscriber = (Subscriber){ func, user_data, destroy };
  return g_dbus_connection_signal_subscribe (connection, NULL, RESERVE_INTERFACE, signal,
                                             RESERVE_OBJECT_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                             on_signal, subscriber, subscriber_free);
}

void
reserved_test_signals_watch (ReservedTestSignals *signals,
                             GDBusConnection *connection,
                             const char *signal,
                             ReservedTestSignalFunc record)
{
  signals->connection = g_object_ref (connection);
  signals->seen =
    g_hash_table_new_full (g_variant_hash, g_variant_equal, (GDestroyNotify) g_variant_unref,
                           (GDestroyNotify) g_variant_unref);
  signals->id = reserved_test_watch_signal (connection, signal, record, signals, NULL);
}

void
reserved_test_signals_clear (ReservedTestSignals *signals)
{
  g_dbus_connection_signal_unsubscribe (signals->connection, signals->id);
  g_clear_object (&signals->connection);
  g_clear_pointer (&signals->seen, g_hash_table_unref);
}

void
reserved_test_signals_put (ReservedTestSignals *signals, GVariant *key, GVariant *value)
{
  g_hash_table_insert (signals->seen, g_variant_ref_sink (key), g_variant_ref_sink (value));
}

GVariant *
reserved_test_signals_get (ReservedTestSignals *signals, GVariant *key)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (key);

  return g_hash_table_lookup (signals->seen, owned);
}

typedef struct {
  ReservedTestSignals *signals;
  GVariant *key;
} Awaited;

static gboolean
is_seen (gpointer data)
{
  const Awaited *awaited = data;

  return g_hash_table_contains (awaited->signals->seen, awaited->key);
}

GVariant *
reserved_test_signals_wait (ReservedTestSignals *signals, GVariant *key, const char *what)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (key);
  Awaited awaited = { signals, owned };

  reserved_test_iterate_until (is_seen, &awaited, what);
  return g_hash_table_lookup (signals->seen, owned);
}
