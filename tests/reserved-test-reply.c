/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-test-reply.h"

void
reserved_test_reply_take (ReservedTestReply *reply, GObject *source, GAsyncResult *result)
{
  g_assert_false (reply->done);
  if (G_IS_DBUS_PROXY (source))
    reply->reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &reply->error);
  else
    reply->reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &reply->error);
  reply->answered = g_get_monotonic_time ();
  reply->done = TRUE;
}

void
reserved_test_reply_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  reserved_test_reply_take (user_data, source, result);
}

void
reserved_test_reply_wait (ReservedTestReply *reply)
{
  while (!reply->done)
    g_main_context_iteration (NULL, TRUE);
}

void
reserved_test_reply_clear (ReservedTestReply *reply)
{
  g_clear_pointer (&reply->reply, g_variant_unref);
  g_clear_error (&reply->error);
}
