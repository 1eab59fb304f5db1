/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The answer to one asynchronous D-Bus call, for the tests that send many
 * calls before the first answer comes (pipelining, floods, calls queued
 * behind a lock): the reply or the error, and when it came. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  GVariant *reply; /* NULL when the call failed */
  GError *error;
  gint64 answered; /* g_get_monotonic_time () when the answer came */
  gboolean done;
} ReservedTestReply;

/* Stores the answer @result of g_dbus_connection_call () or
 * g_dbus_proxy_call () (@source tells which) in @reply. */
void reserved_test_reply_take (ReservedTestReply *reply, GObject *source, GAsyncResult *result);
/* A GAsyncReadyCallback that stores the answer in @user_data, a
 * ReservedTestReply. */
void reserved_test_reply_ready (GObject *source, GAsyncResult *result, gpointer user_data);
/* Iterates the global default main context until the answer came. */
void reserved_test_reply_wait (ReservedTestReply *reply);
void reserved_test_reply_clear (ReservedTestReply *reply);

G_END_DECLS
