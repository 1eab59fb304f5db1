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
  guint64 entry; /* on the waitlist, waiting for an offer */
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
on_offered (GVariant *parameters, gpointer user_data)
{
  Run *run = user_data;
  guint64 entry = 0, hold = 0;

  g_variant_get (parameters, "(tt&sx)", &entry, &hold, NULL, NULL);
  if (run->entry == 0 || entry != run->entry)
    return;
  run->hold = hold;
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

/* Queues on the item's waitlist, bound to this connection (should reserve
 * die, the entry and its offer end with it), and waits for the offer.
 * FALSE with @error, or with nothing set when the customer already has an
 * entry (another wrapper of theirs waits): then stock is waited for. */
static gboolean
wait_on_waitlist (ReserveReserve1 *proxy,
                  const ReserveHoldRun *request,
                  Run *run,
                  gboolean *queued,
                  GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  ReserveError code;
  guint32 position = 0;
  guint64 hold = 0;

  g_variant_dict_insert (&options, RESERVE_OPTION_RELEASE_ON_DISCONNECT, "b", TRUE);
  if (!reserve_reserve1_call_join_waitlist_sync (proxy, request->item, request->user,
                                                 request->quantity, g_variant_dict_end (&options),
                                                 G_DBUS_CALL_FLAGS_NONE, -1, &run->entry, &position,
                                                 &hold, NULL, &local_error))
    {
      if (reserve_error_get_code (local_error, &code) && code == RESERVE_ERROR_LIMIT_EXCEEDED)
        {
          *queued = FALSE;
          return TRUE;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  *queued = TRUE;
  run->hold = hold;
  if (hold == 0)
    {
      fprintf (stderr, "reserve: ");
      fprintf (stderr, _ ("none left; waiting on the waitlist of %s, number %u in the queue\n"),
               request->item, position);
    }
  /* WaitlistOffered was subscribed to before joining: none is missed. */
  while (run->hold == 0)
    g_main_loop_run (run->loop);
  return TRUE;
}

/* Takes the hold, waiting on the waitlist (or, failing that, for stock)
 * if asked to. Sets @fd to the hold's descriptor (close-on-exec), or -1
 * for an offer, which is bound to this connection instead. */
static gboolean
take_hold (ReserveReserve1 *proxy, const ReserveHoldRun *request, Run *run, int *fd, GError **error)
{
  g_autoptr(GVariant) options = g_variant_ref_sink (request->options);
  gboolean tried_waitlist = FALSE;

  *fd = -1;
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GVariant) handle = NULL;
      g_autoptr(GUnixFDList) fds = NULL;
      ReserveError code;
      gint64 expires = 0;
      guint remaining = 0;
      gboolean queued = FALSE;

      run->stock_moved = FALSE;
      if (reserve_reserve1_call_hold_fd_sync (proxy, request->item, request->user,
                                              request->quantity, options, G_DBUS_CALL_FLAGS_NONE,
                                              -1, NULL, &run->hold, &handle, &expires, &remaining,
                                              &fds, NULL, &local_error))
        {
          *fd = g_unix_fd_list_get (fds, g_variant_get_handle (handle), error);
          return *fd >= 0;
        }
      if (!request->wait || !reserve_error_get_code (local_error, &code) ||
          code != RESERVE_ERROR_SOLD_OUT)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      /* First come, first served: the units that come back go to the
       * first who asked. */
      if (!tried_waitlist)
        {
          tried_waitlist = TRUE;
          if (!wait_on_waitlist (proxy, request, run, &queued, error))
            return FALSE;
          if (queued)
            return TRUE;
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
  guint stock_id, ended_id, offered_id;
  int fd = -1, status = -1;
  guint remaining = 0;

  stock_id = reserve_bus_signal_subscribe (connection, "StockChanged", request->item,
                                           on_stock_changed, &run);
  ended_id = reserve_bus_signal_subscribe (connection, "HoldEnded", NULL, on_hold_ended, &run);
  offered_id = reserve_bus_signal_subscribe (connection, "WaitlistOffered", NULL, on_offered, &run);
  reserve_interrupts_add (&interrupts, forward_signal, &run);

  if (!take_hold (proxy, request, &run, &fd, error))
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
      if (fd >= 0)
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
  if (fd >= 0)
    close (fd);
  status = WIFEXITED (run.status)     ? WEXITSTATUS (run.status)
           : WIFSIGNALED (run.status) ? 128 + WTERMSIG (run.status)
                                      : 1;

out:
  reserve_interrupts_remove (&interrupts);
  g_dbus_connection_signal_unsubscribe (connection, stock_id);
  g_dbus_connection_signal_unsubscribe (connection, ended_id);
  g_dbus_connection_signal_unsubscribe (connection, offered_id);
  return status;
}
