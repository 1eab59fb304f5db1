/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A subcommand's connection to reserved and how its calls are made: with
 * the flags and timeout an administrator's call needs (reserve-admin-call.h)
 * or plainly. A command that talks to reserved does
 *
 *   g_auto(ReserveCall) call = { 0 };
 *
 *   if (!reserve_call_connect (&call, invocation, RESERVE_CALL_AS_ADMIN, error) ||
 *       !reserve_reserve1_call_restock_sync (call.proxy, item, quantity, call.flags,
 *                                            call.timeout_msec, &remaining, NULL, error))
 *     return FALSE;
 */
#pragma once

#include "reserve-admin-call.h"
#include "reserve-command.h"
#include "reserve-generated.h"

G_BEGIN_DECLS

typedef enum {
  RESERVE_CALL_PLAIN,
  RESERVE_CALL_AS_ADMIN, /* may need an administrator: polkit may ask who is at the terminal */
} ReserveCallKind;

typedef struct {
  ReserveReserve1 *proxy;
  GDBusCallFlags flags;
  int timeout_msec;
  ReserveAdminCall admin;
} ReserveCall;

/* Connects to reserved on the invocation's bus (reserve-client.h). */
gboolean reserve_call_connect (ReserveCall *call,
                               const ReserveInvocation *invocation,
                               ReserveCallKind kind,
                               GError **error);
/* Stops the authentication agent, if one was started, and drops the proxy. */
void reserve_call_clear (ReserveCall *call);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ReserveCall, reserve_call_clear)

G_END_DECLS
