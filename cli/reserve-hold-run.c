/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-hold-run.h"

#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reserve-bus-signal.h"
#include "reserve-error.h"
#include "reserve-interrupt.h"
#include "reserve-names.h"
#include "reserve-text.h"

typedef struct {
  GMainLoop *loop;
  const char *item;
  guint64 hold; /* 0 until taken */
  gboolean stock_moved;
  GPid child;
  gboolean exited;
  int status;
} Run;

static void
on_stock_changed (GVariant *parameters, gpointer user_data)
{
  Run *run = user_data;

  run->stock_moved = TRUE;
  g_main_loop_quit (run->loop);
}

static void
on_hold_ended (GVariant *parameters, gpointer user_data)
{
  Run *run = user_data;
  guint64 hold = 0;
  const char *reason = NULL;

  g_variant_get (parameters, "(t&s&s)", &hold, NULL, &reason);
  if (hold == 0 || hold != run->hold || run->child == 0 || run->exited)
    return;
  fprintf (stderr, "reserve: ");
  fprintf (stderr, _ ("hold %llu has ended (%s); stopping the command\n"),
           (unsigned long long) hold, reason);
  kill (run->child, SIGTERM);
}

static void
forward_signal (int signal_number, gpointer user_data)
{
  Run *run = user_data;

  if (run->child != 0 && !run->exited)
    kill (run->child, signal_number);
}

static void
on_child_exited (GPid pid, int status, gpointer user_data)
{
  Run *run = user_data;

  run->exited = TRUE;
  run->status = status;
  g_spawn_close_pid (pid);
  g_main_loop_quit (run->loop);
}

/* In the child, before exec: should reserve die (kill -9), its descriptor
 * closes and the hold ends, so the command must not go on without it. */
static void
stop_with_parent (gpointer user_data)
{
  pid_t parent = GPOINTER_TO_INT (user_data);

  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != parent)
    raise (SIGTERM);
}

/* Takes the hold, waiting for stock if asked to. Returns the descriptor
 * (close-on-exec) or -1. */
static int
take_hold (ReserveReserve1 *proxy, const ReserveHoldRun *request, Run *run, GError **error)
{
  g_autoptr(GVariant) options = g_variant_ref_sink (request->options);

  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GVariant) handle = NULL;
      g_autoptr(GUnixFDList) fds = NULL;
      ReserveError code;
      gint64 expires = 0;
      guint remaining = 0;

      run->stock_moved = FALSE;
      if (reserve_reserve1_call_hold_fd_sync (proxy, request->item, request->user,
                                              request->quantity, options, G_DBUS_CALL_FLAGS_NONE,
                                              -1, NULL, &run->hold, &handle, &expires, &remaining,
                                              &fds, NULL, &local_error))
        return g_unix_fd_list_get (fds, g_variant_get_handle (handle), error);
      if (!request->wait || !reserve_error_get_code (local_error, &code) ||
          code != RESERVE_ERROR_SOLD_OUT)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return -1;
        }
      /* The signal was subscribed to before the call, so a change since
       * the refusal is already queued: no wake-up is missed. */
      while (!run->stock_moved)
        g_main_loop_run (run->loop);
    }
}

int
reserve_hold_run (ReserveReserve1 *proxy, const ReserveHoldRun *request, GError **error)
{
  GDBusConnection *connection = g_dbus_proxy_get_connection (G_DBUS_PROXY (proxy));
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Run run = { .loop = loop, .item = request->item };
  g_auto(GStrv) environment = NULL;
  g_autoptr(GError) release_error = NULL;
  g_autofree char *hold_text = NULL;
  ReserveInterrupts interrupts = { { 0 } };
  guint stock_id, ended_id;
  int fd, status = -1;
  guint remaining = 0;

  stock_id = reserve_bus_signal_subscribe (connection, "StockChanged", request->item,
                                           on_stock_changed, &run);
  ended_id = reserve_bus_signal_subscribe (connection, "HoldEnded", NULL, on_hold_ended, &run);
  reserve_interrupts_add (&interrupts, forward_signal, &run);

  fd = take_hold (proxy, request, &run, error);
  if (fd < 0)
    goto out;
  hold_text = g_strdup_printf ("%" G_GUINT64_FORMAT, run.hold);
  environment = g_environ_setenv (g_get_environ (), "RESERVE_HOLD", hold_text, TRUE);
  /* GLib closes every descriptor but 0, 1 and 2 in the child: the hold's
   * stays with reserve. */
  if (!g_spawn_async (NULL, (char **) request->argv, environment,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                        G_SPAWN_CHILD_INHERITS_STDIN,
                      stop_with_parent, GINT_TO_POINTER (getpid ()), &run.child, error))
    {
      reserve_reserve1_call_release_sync (proxy, run.hold, G_DBUS_CALL_FLAGS_NONE, -1, &remaining,
                                          NULL, NULL);
      close (fd);
      goto out;
    }
  g_child_watch_add (run.child, on_child_exited, &run);
  while (!run.exited)
    g_main_loop_run (loop);

  /* Released at once rather than left to the descriptor: the unit is free
   * before reserve exits. A hold already lost has nothing to release. */
  if (!reserve_reserve1_call_release_sync (proxy, run.hold, G_DBUS_CALL_FLAGS_NONE, -1, &remaining,
                                           NULL, &release_error))
    {
      ReserveError code;

      if (!reserve_error_get_code (release_error, &code) || code != RESERVE_ERROR_HOLD_ENDED)
        {
          fprintf (stderr, "reserve: ");
          fprintf (stderr, _ ("could not release hold %llu: %s\n"), (unsigned long long) run.hold,
                   release_error->message);
        }
    }
  close (fd);
  status = WIFEXITED (run.status)     ? WEXITSTATUS (run.status)
           : WIFSIGNALED (run.status) ? 128 + WTERMSIG (run.status)
                                      : 1;

out:
  reserve_interrupts_remove (&interrupts);
  g_dbus_connection_signal_unsubscribe (connection, stock_id);
  g_dbus_connection_signal_unsubscribe (connection, ended_id);
  return status;
}
