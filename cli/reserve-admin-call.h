/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* For a call that may need an administrator, run from a terminal: polkit
 * may then ask the person at it to authenticate, and the call waits as long
 * as they take. As systemctl does, polkit's text agent (pkttyagent) is
 * started for the call when no other agent serves the session, so a shell
 * without a desktop prompts too. Elsewhere (a script, a pipe) nobody is
 * asked, and a rule that wants a password refuses. */
typedef struct {
  GDBusCallFlags flags;
  int timeout_msec;
  GPid agent; /* 0: none started */
} ReserveAdminCall;

ReserveAdminCall reserve_admin_call (void);
/* Stops the agent, if one was started. */
void reserve_admin_call_clear (ReserveAdminCall *call);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ReserveAdminCall, reserve_admin_call_clear)

G_END_DECLS
