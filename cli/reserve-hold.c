/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Holds from the command line: `reserve hold`, `confirm`, `release`,
 * `extend` and `holds`. `reserve hold` with a command after its flags is
 * the semaphore mode, in reserve-hold-run.c. */
#include <stdio.h>
#include <stdlib.h>

#include "reserve-call.h"
#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-give-back.h"
#include "reserve-hold-run.h"
#include "reserve-names.h"
#include "reserve-output.h"
#include "reserve-purchase-flags.h"
#include "reserve-text.h"

/* The local time the hold expires, or "never" for a hold with no expiry. */
static char *
describe_expiry (gint64 expires)
{
  g_autofree char *local = NULL;

  if (expires == 0)
    return g_strdup (_ ("never (bound to this connection)"));
  local = reserve_format_local_time (expires);
  return g_strdup (local);
}

static void
print_hold (gboolean json,
            guint64 hold,
            const char *item,
            const char *user,
            guint64 quantity,
            gint64 expires,
            guint remaining)
{
  g_autoptr(JsonBuilder) builder = NULL;

  if (!json)
    {
      g_autofree char *when = describe_expiry (expires);

      printf (_ ("Hold %llu: %llu × %s for %s until %s; %u left.\n"), (unsigned long long) hold,
              (unsigned long long) quantity, item, user, when, remaining);
      return;
    }
  builder = reserve_json_object_new ();
  reserve_json_add_int (builder, "hold", (gint64) hold);
  reserve_json_add_purchase (builder, item, user, quantity);
  reserve_json_add_int (builder, "expires", expires);
  reserve_json_add_int (builder, "remaining", remaining);
  reserve_print_json_object (builder);
}

/* reserve hold -- COMMAND…: holds while the command runs, and exits with
 * its status, as systemd-inhibit does; returns only if it cannot. */
static gboolean
hold_while_running (ReserveReserve1 *proxy,
                    const ReserveInvocation *invocation,
                    ReserveHoldRun *request,
                    GVariantDict *options,
                    GError **error)
{
  const char *const *command = (const char *const *) invocation->arguments;
  int status;

  /* GOption may leave the "--" that ends reserve's own flags. */
  if (g_strcmp0 (command[0], "--") == 0)
    command++;
  if (command[0] == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _ ("no command after “--”"));
      return FALSE;
    }
  request->argv = command;
  request->options = g_variant_dict_end (options);
  status = reserve_hold_run (proxy, request, error);
  if (status < 0)
    return FALSE;
  exit (status);
}

static gboolean
hold (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_auto(ReservePurchaseFlags) flags = { 0 };
  g_autofree char *ttl_text = NULL;
  gboolean wait = FALSE;
  const GOptionEntry entries[] = {
    RESERVE_PURCHASE_FLAG_ENTRIES (
      &flags,
      N_ ("The customer the units are held for (required, except before a command: the login "
          "name)"),
      N_ ("The item to hold (default: the daemon's default item)"),
      N_ ("Units to hold, 1 to 10000 (default: 1)")),
    { "ttl", 't', 0, G_OPTION_ARG_FILENAME, &ttl_text,
      N_ ("Seconds until the hold expires (default: 600; before a command: none)"), "S" },
    RESERVE_PURCHASE_REQUEST_ID_ENTRY (
      &flags, N_ ("Retry key: a hold that repeats it returns the first hold")),
    { "wait", 'w', 0, G_OPTION_ARG_NONE, &wait,
      N_ ("Before a command: queue on the waitlist instead of failing when none is left"), NULL },
    { NULL }
  };
  g_auto(ReserveCall) call = { 0 };
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  g_autofree char *item = NULL;
  guint64 ttl = 0;
  guint64 id = 0;
  gint64 expires = 0;
  guint remaining = 0;
  gboolean run = FALSE;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  run = invocation->n_arguments > 0;
  if (!run && wait)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _ ("--wait needs a command to run: reserve hold --wait -- COMMAND…"));
      return FALSE;
    }
  if (run && flags.user == NULL)
    flags.user = g_strdup (g_get_user_name ());
  /* Without a command a hold lasts 600 s unless told; with one, as long
   * as the command runs. */
  if (!reserve_purchase_flags_check (&flags, error) ||
      !reserve_parse_optional_number ("--ttl", ttl_text, 1, RESERVE_MAX_HOLD_SECONDS_MAX,
                                      run ? 0 : 600, &ttl, error) ||
      !reserve_purchase_flags_check_request_id (&flags, error))
    return FALSE;
  if (ttl > 0)
    g_variant_dict_insert (&options, RESERVE_OPTION_TTL, "u", (guint32) ttl);
  reserve_purchase_flags_add_options (&flags, &options);

  item = reserve_purchase_flags_connect (&flags, &call, invocation, error);
  if (item == NULL)
    return FALSE;

  if (run)
    {
      ReserveHoldRun request = {
        .item = item,
        .user = flags.user,
        .quantity = (guint32) flags.quantity,
        .wait = wait,
      };

      return hold_while_running (call.proxy, invocation, &request, &options, error);
    }

  if (!reserve_reserve1_call_hold_sync (call.proxy, item, flags.user, (guint) flags.quantity,
                                        g_variant_dict_end (&options), call.flags,
                                        call.timeout_msec, &id, &expires, &remaining, NULL, error))
    return FALSE;
  print_hold (invocation->json, id, item, flags.user, flags.quantity, expires, remaining);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (
  hold,
  "[-- COMMAND [ARGUMENT…]]",
  RESERVE_WITH_JSON,
  N_ ("Hold units of an item for a customer until confirmed, released or expired.\n\n"
      "Prints the hold, e.g. “Hold 7: 1 × ticket for alice until 2026-12-03T14:03:12+00:00; "
      "99 left.”\n"
      "With a command, holds the units while it runs (a system-wide counting semaphore): the "
      "command\n"
      "gets RESERVE_HOLD=ID in its environment, SIGINT and SIGTERM are passed on to it, it is "
      "stopped\n"
      "if the hold is lost, the hold is released when it exits, and its exit status is "
      "reserve's."));

/* --- one hold by id ------------------------------------------------------------- */

static gboolean
confirm (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  gboolean or_buy = FALSE;
  const GOptionEntry entries[] = {
    { "or-buy", 0, 0, G_OPTION_ARG_NONE, &or_buy,
      N_ ("If the hold has ended, buy the same units instead (which may be sold out)"), NULL },
    { NULL }
  };
  g_auto(ReserveCall) call = { 0 };
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  guint64 id = 0, order = 0;
  guint remaining = 0;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (or_buy)
    g_variant_dict_insert (&options, RESERVE_OPTION_OR_BUY, "b", TRUE);
  if (!reserve_invocation_get_id (invocation, "hold", &id, error) ||
      !reserve_call_connect (&call, invocation, RESERVE_CALL_PLAIN, error) ||
      !reserve_reserve1_call_confirm_sync (call.proxy, id, g_variant_dict_end (&options),
                                           call.flags, call.timeout_msec, &order, &remaining, NULL,
                                           error))
    return FALSE;
  if (invocation->json)
    {
      g_autoptr(JsonBuilder) builder = reserve_json_object_new ();

      reserve_json_add_int (builder, "hold", (gint64) id);
      reserve_json_add_int (builder, "order", (gint64) order);
      reserve_json_add_int (builder, "remaining", remaining);
      reserve_print_json_object (builder);
    }
  else
    printf (_ ("Hold %llu confirmed as order %llu; %u left.\n"), (unsigned long long) id,
            (unsigned long long) order, remaining);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (
  confirm,
  "HOLD",
  RESERVE_WITH_JSON,
  N_ ("Turn a hold into an order, in one step; confirming again gives the same order."));

static gboolean
release (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_auto(ReserveCall) call = { 0 };
  ReserveGiveBack back = { "hold", RESERVE_CALL_PLAIN, reserve_reserve1_call_release_sync };

  if (!reserve_give_back (&call, invocation, argc, argv, &back, error))
    return invocation->help_shown;
  printf (_ ("Hold %llu released; its item has %u left.\n"), (unsigned long long) back.id,
          back.remaining);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (release,
                        "HOLD",
                        RESERVE_WITHOUT_JSON,
                        N_ ("Release a hold: its units go back to stock."));

static gboolean
extend (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autofree char *ttl_text = NULL;
  const GOptionEntry entries[] = { { "ttl", 't', 0, G_OPTION_ARG_FILENAME, &ttl_text,
                                     N_ ("Seconds from now until the hold expires (required)"),
                                     "S" },
                                   { NULL } };
  g_auto(ReserveCall) call = { 0 };
  g_autofree char *when = NULL;
  guint64 id = 0, ttl = 0;
  gint64 expires = 0;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (!reserve_invocation_get_id (invocation, "hold", &id, error) ||
      !reserve_parse_number ("--ttl", ttl_text, 1, RESERVE_MAX_HOLD_SECONDS_MAX, &ttl, error) ||
      !reserve_call_connect (&call, invocation, RESERVE_CALL_PLAIN, error) ||
      !reserve_reserve1_call_extend_sync (call.proxy, id, (guint32) ttl, call.flags,
                                          call.timeout_msec, &expires, NULL, error))
    return FALSE;
  when = describe_expiry (expires);
  printf (_ ("Hold %llu now expires %s.\n"), (unsigned long long) id, when);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (
  extend,
  "HOLD",
  RESERVE_WITHOUT_JSON,
  N_ ("Make a hold expire --ttl seconds from now (never past its creation plus "
      "MaxHoldSeconds)."));

/* --- holds ----------------------------------------------------------------------- */

static const ReserveColumn holds_columns[] = {
  { N_ ("HOLD"), TRUE },     { N_ ("ITEM"), FALSE },    { N_ ("USER"), FALSE },
  { N_ ("QUANTITY"), TRUE }, { N_ ("EXPIRES"), FALSE },
};

static gboolean
holds (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autofree char *user = NULL;
  const GOptionEntry entries[] = { { "user", 'u', 0, G_OPTION_ARG_FILENAME, &user,
                                     N_ ("Only this customer's holds"), "NAME" },
                                   { NULL } };
  g_auto(ReserveCall) call = { 0 };
  g_autoptr(GVariant) list = NULL;
  g_autoptr(ReserveTable) table = NULL;
  GVariantIter iter;
  guint64 id;
  const char *item, *customer;
  guint32 quantity;
  gint64 created, expires;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if ((user != NULL && !reserve_check_user_name (user, error)) ||
      !reserve_call_connect (&call, invocation, RESERVE_CALL_PLAIN, error) ||
      !reserve_reserve1_call_list_holds_sync (call.proxy, user != NULL ? user : "", call.flags,
                                              call.timeout_msec, &list, NULL, error))
    return FALSE;

  if (invocation->json)
    {
      static const char *const names[] = { "hold",    "item",    "user", "quantity",
                                           "created", "expires", NULL };

      reserve_print_json_rows (list, names);
      return TRUE;
    }

  table = reserve_table_new (holds_columns, G_N_ELEMENTS (holds_columns));
  g_variant_iter_init (&iter, list);
  while (
    g_variant_iter_next (&iter, "(t&s&suxx)", &id, &item, &customer, &quantity, &created, &expires))
    {
      reserve_table_add_number (table, id);
      reserve_table_add (table, item);
      reserve_table_add (table, customer);
      reserve_table_add_number (table, quantity);
      reserve_table_take (table, expires != 0 ? reserve_format_local_time (expires)
                                              : g_strdup (_ ("never")));
    }
  reserve_table_print (table);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (holds,
                        "",
                        RESERVE_WITH_JSON,
                        N_ ("List live holds: your own, or everyone's for administrators."));
