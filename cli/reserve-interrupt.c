/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-interrupt.h"

#include <signal.h>

#include <glib-unix.h>

typedef struct {
  int signal_number;
  ReserveInterruptFunc func;
  gpointer user_data;
} Handler;

static gboolean
on_unix_signal (gpointer user_data)
{
  const Handler *handler = user_data;

  handler->func (handler->signal_number, handler->user_data);
  return G_SOURCE_CONTINUE;
}

void
reserve_interrupts_add (ReserveInterrupts *interrupts,
                        ReserveInterruptFunc func,
                        gpointer user_data)
{
  static const int signal_numbers[] = { SIGINT, SIGTERM };

  for (guint i = 0; i < G_N_ELEMENTS (signal_numbers); i++)
    {
      Handler *handler = g_new (Handler, 1);

      handler->signal_number = signal_numbers[i];
      handler->func = func;
      handler->user_data = user_data;
      interrupts->sources[i] = g_unix_signal_add_full (G_PRIORITY_DEFAULT, signal_numbers[i],
                                                       on_unix_signal, handler, g_free);
    }
}

void
reserve_interrupts_remove (ReserveInterrupts *interrupts)
{
  for (guint i = 0; i < G_N_ELEMENTS (interrupts->sources); i++)
    g_clear_handle_id (&interrupts->sources[i], g_source_remove);
}
