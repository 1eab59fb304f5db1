/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ctrl-C (SIGINT) and SIGTERM while a command waits in its main loop:
 * handled there, so the command can end its work in order (or pass them on
 * to a child) instead of dying at once. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef void (*ReserveInterruptFunc) (int signal_number, gpointer user_data);

typedef struct {
  guint sources[2];
} ReserveInterrupts;

/* Calls @func for each SIGINT and SIGTERM until reserve_interrupts_remove(). */
void reserve_interrupts_add (ReserveInterrupts *interrupts,
                             ReserveInterruptFunc func,
                             gpointer user_data);
void reserve_interrupts_remove (ReserveInterrupts *interrupts);

G_END_DECLS
