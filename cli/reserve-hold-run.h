/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve hold [--wait] -- COMMAND…`: a system-wide counting semaphore.
 * A unit of the item is held through HoldFd, whose descriptor the command
 * does not inherit (it stays with reserve alone, so the hold cannot leak
 * to a process that outlives the wrapper); the command runs with
 * RESERVE_HOLD=ID in its environment; SIGINT and SIGTERM are passed on to
 * it; it is stopped (SIGTERM) if the hold is lost, and also if reserve
 * itself dies (its descriptor then closes, which ends the hold); the hold
 * is released when the command exits.
 *
 * With --wait, when nothing is left, it queues on the item's waitlist
 * (JoinWaitlist, bound to reserve's connection): the units that come back
 * go to the first who asked, and the offer, a hold bound to the same
 * connection, is what the command runs under. A customer already queued
 * (another wrapper of theirs) waits for stock to come back instead. */
#pragma once

#include "reserve-generated.h"

G_BEGIN_DECLS

typedef struct {
  const char *item;
  const char *user;
  guint32 quantity;
  GVariant *options; /* HoldFd's, floating or not */
  gboolean wait;     /* when sold out, wait on the waitlist instead of failing */
  const char *const *argv;
} ReserveHoldRun;

/* Returns the command's exit status (128 + N for a command killed by
 * signal N), or -1 with @error when no hold was taken or the command could
 * not be started. */
int reserve_hold_run (ReserveReserve1 *proxy, const ReserveHoldRun *request, GError **error);

G_END_DECLS
