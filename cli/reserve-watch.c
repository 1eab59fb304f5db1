/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve watch`: the stock of every item (or one) as it changes, one
 * line per StockChanged signal, until Ctrl-C or until reserved leaves the
 * bus. */
#include <stdio.h>

#include "reserve-bus-signal.h"
#include "reserve-call.h"
#include "reserve-client.h"
#include "reserve-interrupt.h"
#include "reserve-command.h"
#include "reserve-names.h"
#include "reserve-output.h"
#include "reserve-text.h"

typedef struct {
  GMainLoop *loop;
  const char *only_item; /* NULL: every item */
  gboolean json;
  gboolean daemon_gone;
} Watch;

/* One line per change, flushed at once: whoever reads a pipe wants the
 * change when it happens, not when a buffer fills. */
static void
print_stock (const Watch *watch, const char *item, guint remaining)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (watch->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      reserve_json_add_time (builder, "time", now);
      reserve_json_add_string (builder, "item", item);
      reserve_json_add_int (builder, "remaining", remaining);
      json_builder_end_object (builder);
      reserve_print_json_line (builder);
    }
  else
    {
      g_autofree char *time = g_date_time_format (now, "%H:%M:%S");

      printf (_ ("%s  %s: %u left\n"), time, item, remaining);
    }
  fflush (stdout);
}

static void
on_stock_changed (GVariant *parameters, gpointer user_data)
{
  Watch *watch = user_data;
  const char *item;
  guint remaining;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(su)")))
    return;
  g_variant_get (parameters, "(&su)", &item, &remaining);
  if (watch->only_item == NULL || g_strcmp0 (item, watch->only_item) == 0)
    print_stock (watch, item, remaining);
}

static void
on_name_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Watch *watch = user_data;

  watch->daemon_gone = TRUE;
  g_main_loop_quit (watch->loop);
}

static void
on_interrupt (int signal_number, gpointer user_data)
{
  Watch *watch = user_data;

  g_main_loop_quit (watch->loop);
}

/* The stock as it stands when the watch begins, so each line that follows
 * is a change from something already shown. */
static gboolean
print_current_stock (const ReserveCall *call, const Watch *watch, GError **error)
{
  g_autoptr(GVariant) items = NULL;
  GVariantIter iter;
  const char *name;
  guint capacity;
  guint remaining;

  if (!reserve_reserve1_call_list_items_sync (call->proxy, call->flags, call->timeout_msec, &items,
                                              NULL, error))
    return FALSE;
  g_variant_iter_init (&iter, items);
  while (g_variant_iter_next (&iter, "(&suu)", &name, &capacity, &remaining))
    if (watch->only_item == NULL || g_strcmp0 (name, watch->only_item) == 0)
      print_stock (watch, name, remaining);
  return TRUE;
}

static gboolean
watch (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_auto(ReserveCall) call = { 0 };
  g_autoptr(GMainLoop) loop = NULL;
  GDBusConnection *connection;
  Watch state = { 0 };
  ReserveInterrupts interrupts = { { 0 } };
  guint subscription;
  guint name_watch;

  if (!reserve_invocation_parse (invocation, NULL, &argc, &argv, error))
    return invocation->help_shown;
  if (!reserve_invocation_get_item (invocation, &state.only_item, error) ||
      !reserve_call_connect (&call, invocation, RESERVE_CALL_PLAIN, error))
    return FALSE;
  state.json = invocation->json;
  connection = g_dbus_proxy_get_connection (G_DBUS_PROXY (call.proxy));
  loop = g_main_loop_new (NULL, FALSE);
  state.loop = loop;

  /* Subscribed before the current stock is read, so no change falls
   * between the two. */
  subscription =
    reserve_bus_signal_subscribe (connection, "StockChanged", NULL, on_stock_changed, &state);
  if (!print_current_stock (&call, &state, error))
    {
      g_dbus_connection_signal_unsubscribe (connection, subscription);
      return FALSE;
    }

  /* The call above found reserved on the bus, so the watcher's first
   * report is that it is there; a vanishing after that is its exit. */
  name_watch =
    g_bus_watch_name_on_connection (connection, RESERVE_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                    NULL, on_name_vanished, &state, NULL);
  reserve_interrupts_add (&interrupts, on_interrupt, &state);

  g_main_loop_run (loop);

  reserve_interrupts_remove (&interrupts);
  g_bus_unwatch_name (name_watch);
  g_dbus_connection_signal_unsubscribe (connection, subscription);

  if (state.daemon_gone)
    {
      /* Reported as a plain message (a local failure, exit status 3): the
       * watch ran, and ended because there is nothing left to watch. */
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                           _ ("reserved left the bus; no more changes to watch"));
      return FALSE;
    }
  return TRUE;
}

RESERVE_DEFINE_COMMAND (
  watch,
  "[ITEM]",
  RESERVE_WITH_JSON,
  N_ ("Print each change of stock as it happens, until Ctrl-C.\n\n"
      "Starts with the stock of every item (or of ITEM), then prints one line\n"
      "per change; ends when reserved leaves the bus."));
