/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ends of holds that no call asks for: expiry, on a timer set for the
 * earliest deadline, and the departure of a holder bound with
 * release_on_disconnect, seen as NameOwnerChanged (and, at start, as a
 * holder from another bus or a name no longer on this one). Each end goes
 * through the store's writer, so it is batched and committed like any
 * write before "ended" tells anyone. */
#pragma once

#include <gio/gio.h>

#include "reserved-store.h"

G_BEGIN_DECLS

#define RESERVED_TYPE_HOLDS (reserved_holds_get_type ())
G_DECLARE_FINAL_TYPE (ReservedHolds, reserved_holds, RESERVED, HOLDS, GObject)

/* Signal "ended" (GArray of ReservedEndedHold): holds this module ended,
 * once committed. */
ReservedHolds *reserved_holds_new (ReservedStore *store, GDBusConnection *connection);

/* What a hold bound to @sender records as its holder: the bus's id and the
 * unique name, which no other connection of that bus will ever have.
 * (transfer full) */
char *reserved_holds_holder_of (ReservedHolds *self, const char *sender);

/* Called when a bound hold for @holder is about to be written: from now
 * on its departure ends its holds. */
void reserved_holds_watch (ReservedHolds *self, const char *holder);

/* A bound hold of @holder committed: ends it at once should its
 * connection have gone in the meantime. */
void reserved_holds_check_holder (ReservedHolds *self, const char *holder);

/* HoldFd: makes a FIFO under $RUNTIME_DIRECTORY (else
 * $XDG_RUNTIME_DIR/reserved) and watches its read end; returns the write
 * end for the caller, or -1 with @error. @holder_out (transfer full) is
 * what the hold records. Once every copy of the write end is closed, the
 * holds of @holder end (reason closed), before or after a restart: the
 * FIFO stays when the daemon stops. */
int reserved_holds_open_fifo (ReservedHolds *self, char **holder_out, GError **error);
/* The hold @hold was committed for the FIFO of @holder. */
void reserved_holds_fifo_bind (ReservedHolds *self, const char *holder, guint64 hold);
/* The hold was refused: the FIFO goes. */
void reserved_holds_fifo_abandon (ReservedHolds *self, const char *holder);
/* @hold has ended: its FIFO, if it has one, goes. */
void reserved_holds_forget (ReservedHolds *self, guint64 hold);

/* A hold was made or its expiry moved: the timer is set again. */
void reserved_holds_reschedule (ReservedHolds *self);

G_END_DECLS
