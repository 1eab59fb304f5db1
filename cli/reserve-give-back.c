/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-give-back.h"

gboolean
reserve_give_back (ReserveCall *call,
                   ReserveInvocation *invocation,
                   int argc,
                   char **argv,
                   ReserveGiveBack *back,
                   GError **error)
{
  return reserve_invocation_parse (invocation, NULL, &argc, &argv, error) &&
         reserve_invocation_get_id (invocation, back->what, &back->id, error) &&
         reserve_call_connect (call, invocation, back->kind, error) &&
         back->method (call->proxy, back->id, call->flags, call->timeout_msec, &back->remaining,
                       NULL, error);
}
