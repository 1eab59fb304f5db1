/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sale windows as time passes: a timer on the wall clock for the next
 * opening or closing of an item's window, which announces each item whose
 * window opened ("opened") or closed ("closed"). A window is a calendar
 * time, so unlike the expiry of holds it follows the system clock: the
 * timer is a timerfd on CLOCK_REALTIME that is cancelled when the clock is
 * set, and then every window is looked at again. The test hook of
 * reserved-clock.h moves it the same way. */
#pragma once

#include <gio/gio.h>

#include "reserved-store.h"

G_BEGIN_DECLS

#define RESERVED_TYPE_SALE (reserved_sale_get_type ())
G_DECLARE_FINAL_TYPE (ReservedSale, reserved_sale, RESERVED, SALE, GObject)

/* Signals "opened" and "closed" (const char *item). The first
 * reserved_sale_check() announces every item whose window is open as
 * opened: what waited for it while the daemon was stopped is due now. */
ReservedSale *reserved_sale_new (ReservedStore *store);

/* Looks at every window again, announces what opened or closed since the
 * last look, and sets the timer for the next bound: after a window was
 * set, or an item created with one. The windows are read off the main
 * loop; the callback runs once all is announced. */
void
reserved_sale_check_async (ReservedSale *self, GAsyncReadyCallback callback, gpointer user_data);
void reserved_sale_check_finish (ReservedSale *self, GAsyncResult *result);
/* The same, for a caller that need not know when it is done. */
void reserved_sale_check (ReservedSale *self);

G_END_DECLS
