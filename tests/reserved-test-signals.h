// SPDX-License-Identifier: LGPL-2.1-or-later
/* What the daemon announces, as a test waits on it: a subscription to one
 * of its signals whose callback gets only the parameters, and a record of
 * the signals seen, keyed by what they are about (an item, an entry, a
 * hold), that a test waits on without sleeping. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef void (*ReservedTestSignalFunc) (GVariant *parameters, gpointer user_data);

/* Calls @func with the parameters of every @signal that @connection
 * receives from the daemon's object; @destroy (nullable) frees @user_data
 * with the subscription. Returns the subscription, for
 * g_dbus_connection_signal_unsubscribe (). */
guint reserved_test_watch_signal (GDBusConnection *connection,
                                  const char *signal,
                                  ReservedTestSignalFunc func,
                                  gpointer user_data,
                                  GDestroyNotify destroy);

/* The signals seen so far: @record (the test's) files each one with
 * reserved_test_signals_put() under a key of what it is about. */
typedef struct {
  GDBusConnection *connection;
  guint id;
  GHashTable *seen; /* GVariant key -> GVariant value */
} ReservedTestSignals;

/* Starts recording @signal on @connection: @record gets the parameters and
 * @signals. */
void reserved_test_signals_watch (ReservedTestSignals *signals,
                                  GDBusConnection *connection,
                                  const char *signal,
                                  ReservedTestSignalFunc record);
void reserved_test_signals_clear (ReservedTestSignals *signals);
/* Files @value under @key (each floating or not), replacing what was
 * there. */
void reserved_test_signals_put (ReservedTestSignals *signals, GVariant *key, GVariant *value);
/* (nullable) (transfer none) The value under @key (floating or not). */
GVariant *reserved_test_signals_get (ReservedTestSignals *signals, GVariant *key);
/* Waits (bounded) until there is a value under @key (floating or not);
 * returns it (transfer none). Fails naming @what when it does not come. */
GVariant *
reserved_test_signals_wait (ReservedTestSignals *signals, GVariant *key, const char *what);

G_END_DECLS
