/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A real polkitd (Debian's polkitd package) on a test's private bus, with
 * reserved's own policy and rule as the package installs them, and rules
 * of the test's own.
 *
 * polkitd reads its actions and rules from fixed folders, so this mounts
 * folders of the test's over /usr/share/polkit-1/actions,
 * /usr/share/polkit-1/rules.d and /etc/polkit-1/rules.d: the caller must
 * already be in a private mount namespace (root), and nothing outside it
 * sees them. The policy's owner annotation names @daemon_user instead of
 * _reserved, so the daemon under test may ask about its callers. */
#pragma once

#include "reserved-test-daemon.h"

G_BEGIN_DECLS

typedef struct _ReservedTestPolkit ReservedTestPolkit;

/* @extra_rules: JavaScript for /etc/polkit-1/rules.d, or NULL. Mounts the
 * folders; polkitd is not started yet. */
ReservedTestPolkit *reserved_test_polkit_new (ReservedTestDaemon *daemon,
                                              const char *daemon_user,
                                              const char *extra_rules);
/* Starts polkitd and waits until it owns org.freedesktop.PolicyKit1. */
void reserved_test_polkit_start (ReservedTestPolkit *self);
/* The running polkitd, or NULL. */
ReservedTestProcess *reserved_test_polkit_get_process (ReservedTestPolkit *self);
/* Stops polkitd if it runs (resuming it first if it was stopped) and
 * unmounts the folders. */
void reserved_test_polkit_free (ReservedTestPolkit *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReservedTestPolkit, reserved_test_polkit_free)

G_END_DECLS
