/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whether a caller may do an administrator's action.
 *
 * On the system bus polkit decides, so an administrator grants reserved's
 * rights as every other system daemon's: the package's rule lets members
 * of the group reserved-admin do everything, and rules of one's own in
 * /etc/polkit-1/rules.d can say more (data/org.reserved.Reserve1.policy
 * lists the actions). polkitd is asked over the daemon's own bus
 * connection, asynchronously and with a time limit: a slow or hung polkitd
 * holds up only the call that asked, and when it cannot answer the answer
 * is no.
 *
 * On the session bus, which belongs to one user, the daemon's own uid is
 * the administrator; polkit is not asked. uid 0 is an administrator on
 * either bus without asking anyone, as polkit itself would answer. */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define RESERVED_TYPE_AUTHORITY (reserved_authority_get_type ())
G_DECLARE_FINAL_TYPE (ReservedAuthority, reserved_authority, RESERVED, AUTHORITY, GObject)

/* How long polkitd may take to answer a question that cannot prompt
 * anyone, and one that may wait for a person to type a password. */
#define RESERVED_AUTHORITY_TIMEOUT_MSEC             (10 * 1000)
#define RESERVED_AUTHORITY_INTERACTIVE_TIMEOUT_MSEC (5 * 60 * 1000)

/* Asks polkitd on @connection. */
ReservedAuthority *reserved_authority_new_polkit (GDBusConnection *connection);

/* The session bus: @owner (the daemon's uid) and root are administrators. */
ReservedAuthority *reserved_authority_new_owner (uid_t owner);

/* TRUE when the answer for @caller is known without asking polkitd, with
 * @allowed set to it and, when that is no, @error saying why. */
gboolean reserved_authority_decide_now (ReservedAuthority *self,
                                        uid_t caller,
                                        gboolean *allowed,
                                        GError **error);

/* Asks polkitd whether the connection @sender (uid @caller) may do
 * @action_id. @interactive: polkit may ask the person behind it to
 * authenticate (the caller allowed interactive authorization). */
void reserved_authority_check_async (ReservedAuthority *self,
                                     const char *sender,
                                     uid_t caller,
                                     const char *action_id,
                                     gboolean interactive,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);

/* TRUE when allowed; FALSE with @error saying why not, in words that can
 * follow "uid N may not do X: " (polkit said no, wanted a password the
 * call did not allow it to ask for, did not answer in time, could not be
 * reached). */
gboolean
reserved_authority_check_finish (ReservedAuthority *self, GAsyncResult *result, GError **error);

G_END_DECLS
