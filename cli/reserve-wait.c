/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The waitlist from the command line: `reserve wait` joins it (and with
 * --follow waits for the offer, then holds or confirms it), `reserve
 * waitlist` lists entries with their positions, `reserve leave` ends one. */
#include <stdio.h>
#include <string.h>

#include "reserve-bus-signal.h"
#include "reserve-call.h"
#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-names.h"
#include "reserve-output.h"
#include "reserve-purchase-flags.h"
#include "reserve-text.h"

/* --deadline, if given, among the options of the call: an ISO 8601 time
 * with its offset ("2026-12-24T18:00:00+01:00"), or +SECONDS from now. */
static gboolean
add_deadline (const char *text, GVariantDict *options, GError **error)
{
  g_autoptr(GDateTime) time = NULL;
  guint64 seconds = 0;
  gint64 deadline;

  if (text == NULL)
    return TRUE;
  if (text[0] == '+' &&
      g_ascii_string_to_unsigned (text + 1, 10, 1, RESERVE_MAX_HOLD_SECONDS_MAX, &seconds, NULL))
    deadline = g_get_real_time () + (gint64) seconds * G_USEC_PER_SEC;
  else if ((time = g_date_time_new_from_iso8601 (text, NULL)) != NULL)
    deadline = g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time);
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("--deadline “%s” is not a time: give one such as "
                      "2026-12-24T18:00:00+01:00, or +SECONDS from now (+1 to +%u)"),
                   text, RESERVE_MAX_HOLD_SECONDS_MAX);
      return FALSE;
    }
  if (deadline != 0) /* 0 is no deadline */
    g_variant_dict_insert (options, RESERVE_OPTION_DEADLINE, "x", deadline);
  return TRUE;
}

typedef struct {
  GMainLoop *loop;
  guint64 entry;
  guint64 hold; /* the offer, once made */
  gint64 expires;
} Follow;

static void
on_offered (GVariant *parameters, gpointer user_data)
{
  Follow *follow = user_data;
  guint64 entry = 0, hold = 0;
  gint64 expires = 0;

  g_variant_get (parameters, "(tt&sx)", &entry, &hold, NULL, &expires);
  if (entry != follow->entry || follow->entry == 0)
    return;
  follow->hold = hold;
  follow->expires = expires;
  g_main_loop_quit (follow->loop);
}

static void
print_offer (gboolean json,
             guint64 entry,
             guint64 hold,
             const char *item,
             const char *user,
             guint64 quantity,
             gint64 expires)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *when = NULL;

  if (!json)
    {
      when = expires != 0 ? reserve_format_local_time (expires) : g_strdup (_ ("never"));
      printf (_ ("Entry %llu served: hold %llu of %llu × %s for %s until %s.\n"),
              (unsigned long long) entry, (unsigned long long) hold, (unsigned long long) quantity,
              item, user, when);
      return;
    }
  builder = reserve_json_object_new ();
  reserve_json_add_int (builder, "entry", (gint64) entry);
  reserve_json_add_int (builder, "position", 0);
  reserve_json_add_int (builder, "hold", (gint64) hold);
  reserve_json_add_purchase (builder, item, user, quantity);
  if (expires != 0)
    reserve_json_add_usec_time (builder, "expires", expires);
  else
    reserve_json_add_null (builder, "expires");
  reserve_print_json_object (builder);
}

static void
print_position (gboolean json,
                guint64 entry,
                guint32 position,
                const char *item,
                const char *user,
                guint64 quantity)
{
  g_autoptr(JsonBuilder) builder = NULL;

  if (!json)
    {
      printf (_ ("Entry %llu: %llu × %s for %s, number %u in the queue.\n"),
              (unsigned long long) entry, (unsigned long long) quantity, item, user, position);
      return;
    }
  builder = reserve_json_object_new ();
  reserve_json_add_int (builder, "entry", (gint64) entry);
  reserve_json_add_int (builder, "position", position);
  reserve_json_add_null (builder, "hold");
  reserve_json_add_purchase (builder, item, user, quantity);
  reserve_print_json_object (builder);
}

/* --confirm: the offered hold, bought at once. */
static gboolean
confirm_offer (ReserveCall *call, gboolean json, guint64 entry, guint64 hold, GError **error)
{
  guint64 order = 0;
  guint remaining = 0;

  if (!reserve_reserve1_call_confirm_sync (call->proxy, hold, g_variant_new ("a{sv}", NULL),
                                           call->flags, call->timeout_msec, &order, &remaining,
                                           NULL, error))
    return FALSE;
  if (json)
    {
      g_autoptr(JsonBuilder) builder = reserve_json_object_new ();

      reserve_json_add_int (builder, "entry", (gint64) entry);
      reserve_json_add_int (builder, "hold", (gint64) hold);
      reserve_json_add_int (builder, "order", (gint64) order);
      reserve_json_add_int (builder, "remaining", remaining);
      reserve_print_json_object (builder);
    }
  else
    printf (_ ("Entry %llu served: hold %llu confirmed as order %llu; %u left.\n"),
            (unsigned long long) entry, (unsigned long long) hold, (unsigned long long) order,
            remaining);
  return TRUE;
}

static gboolean
wait_command (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_auto(ReservePurchaseFlags) flags = { 0 };
  g_autofree char *deadline_text = NULL;
  gboolean follow_flag = FALSE, confirm_flag = FALSE;
  const GOptionEntry entries[] = {
    RESERVE_PURCHASE_FLAG_ENTRIES (&flags, N_ ("The customer who waits (required)"),
                                   N_ ("The item to wait for (default: the daemon's default item)"),
                                   N_ ("Units wanted, all or none, 1 to 10000 (default: 1)")),
    { "deadline", 0, 0, G_OPTION_ARG_FILENAME, &deadline_text,
      N_ ("Give up if not served by then: an ISO 8601 time, or +SECONDS from now"), "TIME" },
    RESERVE_PURCHASE_REQUEST_ID_ENTRY (
      &flags, N_ ("Retry key: joining again with it returns the first entry")),
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow_flag,
      N_ ("Wait for the offer and print its hold (the entry stays if interrupted)"), NULL },
    { "confirm", 'c', 0, G_OPTION_ARG_NONE, &confirm_flag,
      N_ ("With --follow: confirm the offer into an order at once"), NULL },
    { NULL }
  };
  g_auto(ReserveCall) call = { 0 };
  g_autoptr(GMainLoop) loop = NULL;
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  g_autofree char *item = NULL;
  Follow follow = { 0 };
  GDBusConnection *connection;
  guint64 entry = 0, hold = 0;
  guint32 position = 0;
  guint offered_id = 0;
  gboolean ok = FALSE;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (confirm_flag && !follow_flag)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _ ("--confirm needs --follow: reserve wait --follow --confirm …"));
      return FALSE;
    }
  if (!reserve_purchase_flags_check (&flags, error) ||
      !add_deadline (deadline_text, &options, error) ||
      !reserve_purchase_flags_check_request_id (&flags, error))
    return FALSE;
  reserve_purchase_flags_add_options (&flags, &options);

  item = reserve_purchase_flags_connect (&flags, &call, invocation, error);
  if (item == NULL)
    return FALSE;
  connection = g_dbus_proxy_get_connection (G_DBUS_PROXY (call.proxy));
  loop = g_main_loop_new (NULL, FALSE);
  follow.loop = loop;
  /* Subscribed before joining: an offer made at any moment after is seen. */
  if (follow_flag)
    offered_id =
      reserve_bus_signal_subscribe (connection, "WaitlistOffered", NULL, on_offered, &follow);
  if (!reserve_reserve1_call_join_waitlist_sync (call.proxy, item, flags.user,
                                                 (guint) flags.quantity,
                                                 g_variant_dict_end (&options), call.flags,
                                                 call.timeout_msec, &entry, &position, &hold, NULL,
                                                 error))
    goto out;
  if (hold == 0)
    print_position (invocation->json && !follow_flag, entry, position, item, flags.user,
                    flags.quantity);
  /* Seen at once by whoever reads it while the offer is awaited. */
  fflush (stdout);
  if (follow_flag && hold == 0)
    {
      follow.entry = entry;
      while (follow.hold == 0)
        g_main_loop_run (loop);
      hold = follow.hold;
    }
  if (hold != 0 && confirm_flag)
    {
      if (!confirm_offer (&call, invocation->json, entry, hold, error))
        goto out;
    }
  else if (hold != 0)
    {
      g_autoptr(GVariant) holds = NULL;
      gint64 expires = follow.expires;

      /* Served at once: the reply has no expiry; the hold's listing has
       * (and without it, the offer is still printed). */
      if (follow.hold == 0 &&
          reserve_reserve1_call_list_holds_sync (call.proxy, flags.user, call.flags,
                                                 call.timeout_msec, &holds, NULL, NULL))
        {
          GVariantIter iter;
          guint64 id;
          gint64 listed;

          g_variant_iter_init (&iter, holds);
          while (g_variant_iter_next (&iter, "(t&s&suxx)", &id, NULL, NULL, NULL, NULL, &listed))
            if (id == hold)
              expires = listed;
        }
      print_offer (invocation->json, entry, hold, item, flags.user, flags.quantity, expires);
    }
  ok = TRUE;

out:
  if (offered_id != 0)
    g_dbus_connection_signal_unsubscribe (connection, offered_id);
  return ok;
}

/* Not RESERVE_DEFINE_COMMAND: its run function may not be called wait (). */
const ReserveCommand reserve_wait_command = {
  .name = "wait",
  .parameters = "",
  .summary = N_ ("Join an item's waitlist: what comes back goes to those who asked first.\n\n"
                 "All of an entry's quantity or none, in order of arrival. Prints the position "
                 "in the queue,\n"
                 "e.g. “Entry 4: 2 × ticket for bob, number 3 in the queue.”, or the hold it "
                 "was offered at once.\n"
                 "With --follow, waits for the offer (a hold to confirm); with --confirm too, "
                 "buys it."),
  .has_json = TRUE,
  .run = wait_command,
};

/* --- reserve waitlist [ITEM] -------------------------------------------------------- */

static gboolean
waitlist (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autoptr(ReserveReserve1) proxy = NULL;
  g_autoptr(GVariant) list = NULL;
  g_autoptr(ReserveTable) table = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  const char *item_argument;
  GVariantIter iter;
  guint64 entry, hold;
  const char *item, *customer;
  guint32 quantity, position;
  gint64 created, deadline;

  if (!reserve_invocation_parse (invocation, NULL, &argc, &argv, error))
    return invocation->help_shown;
  item_argument = reserve_invocation_get_argument (invocation, 0);
  if (item_argument != NULL && !reserve_check_item_name (item_argument, error))
    return FALSE;
  proxy = reserve_client_connect (invocation->bus_type, error);
  if (proxy == NULL ||
      !reserve_reserve1_call_list_waitlist_sync (proxy, item_argument != NULL ? item_argument : "",
                                                 G_DBUS_CALL_FLAGS_NONE,
                                                 RESERVE_CLIENT_TIMEOUT_MSEC, &list, NULL, error))
    return FALSE;

  if (invocation->json)
    {
      builder = json_builder_new ();
      json_builder_begin_array (builder);
    }
  else
    {
      static const ReserveColumn columns[] = {
        { N_ ("ENTRY"), TRUE },    { N_ ("ITEM"), FALSE },     { N_ ("USER"), FALSE },
        { N_ ("QUANTITY"), TRUE }, { N_ ("POSITION"), FALSE }, { N_ ("DEADLINE"), FALSE },
      };

      table = reserve_table_new (columns, G_N_ELEMENTS (columns));
    }
  g_variant_iter_init (&iter, list);
  while (g_variant_iter_next (&iter, "(t&s&suuxxt)", &entry, &item, &customer, &quantity, &position,
                              &created, &deadline, &hold))
    {
      if (builder != NULL)
        {
          json_builder_begin_object (builder);
          reserve_json_add_int (builder, "entry", (gint64) entry);
          reserve_json_add_purchase (builder, item, customer, quantity);
          reserve_json_add_int (builder, "position", position);
          reserve_json_add_usec_time (builder, "created", created);
          if (deadline != 0)
            reserve_json_add_usec_time (builder, "deadline", deadline);
          else
            reserve_json_add_null (builder, "deadline");
          if (hold != 0)
            reserve_json_add_int (builder, "hold", (gint64) hold);
          else
            reserve_json_add_null (builder, "hold");
          json_builder_end_object (builder);
          continue;
        }
      reserve_table_add_number (table, entry);
      reserve_table_add (table, item);
      reserve_table_add (table, customer);
      reserve_table_add_number (table, quantity);
      /* An offered entry waits no more: it shows the hold to confirm. */
      reserve_table_take (table, hold != 0 ? g_strdup_printf (_ ("offered: hold %llu"),
                                                              (unsigned long long) hold)
                                           : g_strdup_printf ("%u", position));
      reserve_table_take (table, deadline != 0 ? reserve_format_local_time (deadline)
                                               : g_strdup (_ ("none")));
    }
  if (builder != NULL)
    {
      json_builder_end_array (builder);
      reserve_print_json (builder);
    }
  else
    reserve_table_print (table);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (
  waitlist,
  "[ITEM]",
  RESERVE_WITH_JSON,
  N_ ("List waitlist entries and their positions: yours, or everyone's for admins."));

/* --- reserve leave ENTRY -------------------------------------------------------------- */

static gboolean
leave (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autoptr(ReserveReserve1) proxy = NULL;
  guint64 entry = 0;

  if (!reserve_invocation_parse (invocation, NULL, &argc, &argv, error))
    return invocation->help_shown;
  if (!reserve_parse_number ("entry", reserve_invocation_get_argument (invocation, 0), 1,
                             G_MAXUINT64, &entry, error))
    return FALSE;
  proxy = reserve_client_connect (invocation->bus_type, error);
  if (proxy == NULL ||
      !reserve_reserve1_call_leave_waitlist_sync (proxy, entry, G_DBUS_CALL_FLAGS_NONE,
                                                  RESERVE_CLIENT_TIMEOUT_MSEC, NULL, error))
    return FALSE;
  printf (_ ("Entry %llu has left the waitlist.\n"), (unsigned long long) entry);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (
  leave,
  "ENTRY",
  RESERVE_WITHOUT_JSON,
  N_ ("Leave the waitlist; an offer not yet confirmed goes to the next in line."));
