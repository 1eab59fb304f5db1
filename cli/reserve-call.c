/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-call.h"

#include "reserve-client.h"

gboolean
reserve_call_connect (ReserveCall *call,
                      const ReserveInvocation *invocation,
                      ReserveCallKind kind,
                      GError **error)
{
  if (kind == RESERVE_CALL_AS_ADMIN)
    {
      call->admin = reserve_admin_call ();
      call->flags = call->admin.flags;
      call->timeout_msec = call->admin.timeout_msec;
    }
  else
    {
      call->flags = G_DBUS_CALL_FLAGS_NONE;
      call->timeout_msec = RESERVE_CLIENT_TIMEOUT_MSEC;
    }
  call->proxy = reserve_client_connect (invocation->bus_type, error);
  return call->proxy != NULL;
}

void
reserve_call_clear (ReserveCall *call)
{
  reserve_admin_call_clear (&call->admin);
  g_clear_object (&call->proxy);
}
