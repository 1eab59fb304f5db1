/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Holds from the command line: `reserve hold`, `confirm`, `release`,
 * `extend` and `holds`. `reserve hold` with a command after its flags is
 * the semaphore mode, in reserve-hold-run.c. */
#include <stdio.h>
#include <stdlib.h>

#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-hold-run.h"
#include "reserve-names.h"
#include "reserve-output.h"
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
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  reserve_json_add_int (builder, "hold", (gint64) hold);
  reserve_json_add_string (builder, "item", item);
  reserve_json_add_string (builder, "user", user);
  reserve_json_add_int (builder, "quantity", (gint64) quantity);
  reserve_json_add_int (builder, "expires", expires);
  reserve_json_add_int (builder, "remaining", remaining);
  json_builder_end_object (builder);
  reserve_print_json (builder);
}

static gboolean
hold (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autofree char *user = NULL;
  g_autofree char *item_flag = NULL;
  g_autofree char *quantity_text = NULL;
  g_autofree char *ttl_text = NULL;
  g_autofree char *request_id = NULL;
  gboolean wait = FALSE;
  const GOptionEntry entries[] = {
    { "user", 'u', 0, G_OPTION_ARG_FILENAME, &user,
      N_ (
        "The customer the units are held for (required, except before a command: the login name)"),
      "NAME" },
    { "item", 'i', 0, G_OPTION_ARG_FILENAME, &item_flag,
      N_ ("The item to hold (default: the daemon's default item)"), "ITEM" },
    { "quantity", 'q', 0, G_OPTION_ARG_FILENAME, &quantity_text,
      N_ ("Units to hold, 1 to 10000 (default: 1)"), "N" },
    { "ttl", 't', 0, G_OPTION_ARG_FILENAME, &ttl_text,
      N_ ("Seconds until the hold expires (default: 600; before a command: none)"), "S" },
    { "request-id", 0, 0, G_OPTION_ARG_FILENAME, &request_id,
      N_ ("Retry key: a hold that repeats it returns the first hold"), "ID" },
    { "wait", 'w', 0, G_OPTION_ARG_NONE, &wait,
      N_ ("Before a command: queue on the waitlist instead of failing when none is left"), NULL },
    { NULL }
  };
  g_autoptr(ReserveReserve1) proxy = NULL;
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  g_autofree char *item = NULL;
  guint64 quantity = 1, ttl = 0;
  guint64 id = 0;
  gint64 expires = 0;
  guint remaining = 0;
  gboolean run = FALSE;
  int status;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  run = invocation->n_arguments > 0;
  if (!run && wait)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _ ("--wait needs a command to run: reserve hold --wait -- COMMAND…"));
      return FALSE;
    }
  if (run && user == NULL)
    user = g_strdup (g_get_user_name ());
  if (!reserve_require_flag ("--user", user, error) || !reserve_check_user_name (user, error) ||
      (item_flag != NULL && !reserve_check_item_name (item_flag, error)) ||
      (quantity_text != NULL &&
       !reserve_parse_number ("--quantity", quantity_text, 1, RESERVE_BUY_QUANTITY_MAX, &quantity,
                              error)) ||
      (ttl_text != NULL &&
       !reserve_parse_number ("--ttl", ttl_text, 1, RESERVE_MAX_HOLD_SECONDS_MAX, &ttl, error)) ||
      (request_id != NULL && !reserve_check_request_id (request_id, error)))
    return FALSE;
  if (!run && ttl_text == NULL)
    ttl = 600;
  if (ttl > 0)
    g_variant_dict_insert (&options, RESERVE_OPTION_TTL, "u", (guint32) ttl);
  if (request_id != NULL)
    g_variant_dict_insert (&options, RESERVE_OPTION_REQUEST_ID, "s", request_id);

  proxy = reserve_client_connect (invocation->bus_type, error);
  if (proxy == NULL)
    return FALSE;
  item = reserve_client_resolve_item (proxy, item_flag, error);
  if (item == NULL)
    return FALSE;

  if (run)
    {
      const char *const *command = (const char *const *) invocation->arguments;
      ReserveHoldRun request;

      /* GOption may leave the "--" that ends reserve's own flags. */
      if (g_strcmp0 (command[0], "--") == 0)
        command++;
      if (command[0] == NULL)
        {
          g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                               _ ("no command after “--”"));
          return FALSE;
        }
      request = (ReserveHoldRun){
        .item = item,
        .user = user,
        .quantity = (guint32) quantity,
        .options = g_variant_dict_end (&options),
        .wait = wait,
        .argv = command,
      };
      status = reserve_hold_run (proxy, &request, error);
      if (status < 0)
        return FALSE;
      /* The command's status is the wrapper's, as systemd-inhibit does. */
      exit (status);
    }

  if (!reserve_reserve1_call_hold_sync (proxy, item, user, (guint) quantity,
                                        g_variant_dict_end (&options), G_DBUS_CALL_FLAGS_NONE,
                                        RESERVE_CLIENT_TIMEOUT_MSEC, &id, &expires, &remaining,
                                        NULL, error))
    return FALSE;
  print_hold (invocation->json, id, item, user, quantity, expires, remaining);
  return TRUE;
}

const ReserveCommand reserve_hold_command = {
  .name = "hold",
  .parameters = "[-- COMMAND [ARGUMENT…]]",
  .summary =
    N_ ("Hold units of an item for a customer until confirmed, released or expired.\n\n"
        "Prints the hold, e.g. “Hold 7: 1 × ticket for alice until 2026-12-03T14:03:12+00:00; "
        "99 left.”\n"
        "With a command, holds the units while it runs (a system-wide counting semaphore): the "
        "command\n"
        "gets RESERVE_HOLD=ID in its environment, SIGINT and SIGTERM are passed on to it, it is "
        "stopped\n"
        "if the hold is lost, the hold is released when it exits, and its exit status is "
        "reserve's."),
  .min_arguments = 0,
  .max_arguments = G_MAXUINT,
  .has_json = TRUE,
  .run = hold,
};

/* --- one hold by id ------------------------------------------------------------- */

static gboolean
parse_hold_id (ReserveInvocation *invocation, guint64 *id, GError **error)
{
  return reserve_parse_number ("hold", reserve_invocation_get_argument (invocation, 0), 1,
                               G_MAXUINT64, id, error);
}

static gboolean
confirm (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  gboolean or_buy = FALSE;
  const GOptionEntry entries[] = {
    { "or-buy", 0, 0, G_OPTION_ARG_NONE, &or_buy,
      N_ ("If the hold has ended, buy the same units instead (which may be sold out)"), NULL },
    { NULL }
  };
  g_autoptr(ReserveReserve1) proxy = NULL;
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  guint64 id = 0, order = 0;
  guint remaining = 0;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (!parse_hold_id (invocation, &id, error))
    return FALSE;
  if (or_buy)
    g_variant_dict_insert (&options, RESERVE_OPTION_OR_BUY, "b", TRUE);
  proxy = reserve_client_connect (invocation->bus_type, error);
  if (proxy == NULL ||
      !reserve_reserve1_call_confirm_sync (proxy, id, g_variant_dict_end (&options),
                                           G_DBUS_CALL_FLAGS_NONE, RESERVE_CLIENT_TIMEOUT_MSEC,
                                           &order, &remaining, NULL, error))
    return FALSE;
  if (invocation->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      reserve_json_add_int (builder, "hold", (gint64) id);
      reserve_json_add_int (builder, "order", (gint64) order);
      reserve_json_add_int (builder, "remaining", remaining);
      json_builder_end_object (builder);
      reserve_print_json (builder);
    }
  else
    printf (_ ("Hold %llu confirmed as order %llu; %u left.\n"), (unsigned long long) id,
            (unsigned long long) order, remaining);
  return TRUE;
}

const ReserveCommand reserve_confirm_command = {
  .name = "confirm",
  .parameters = "HOLD",
  .summary = N_ ("Turn a hold into an order, in one step; confirming again gives the same order."),
  .min_arguments = 1,
  .max_arguments = 1,
  .has_json = TRUE,
  .run = confirm,
};

static gboolean
release (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autoptr(ReserveReserve1) proxy = NULL;
  guint64 id = 0;
  guint remaining = 0;

  if (!reserve_invocation_parse (invocation, NULL, &argc, &argv, error))
    return invocation->help_shown;
  if (!parse_hold_id (invocation, &id, error))
    return FALSE;
  proxy = reserve_client_connect (invocation->bus_type, error);
  if (proxy == NULL ||
      !reserve_reserve1_call_release_sync (proxy, id, G_DBUS_CALL_FLAGS_NONE,
                                           RESERVE_CLIENT_TIMEOUT_MSEC, &remaining, NULL, error))
    return FALSE;
  printf (_ ("Hold %llu released; its item has %u left.\n"), (unsigned long long) id, remaining);
  return TRUE;
}

const ReserveCommand reserve_release_command = {
  .name = "release",
  .parameters = "HOLD",
  .summary = N_ ("Release a hold: its units go back to stock."),
  .min_arguments = 1,
  .max_arguments = 1,
  .has_json = FALSE,
  .run = release,
};

static gboolean
extend (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autofree char *ttl_text = NULL;
  const GOptionEntry entries[] = { { "ttl", 't', 0, G_OPTION_ARG_FILENAME, &ttl_text,
                                     N_ ("Seconds from now until the hold expires (required)"),
                                     "S" },
                                   { NULL } };
  g_autoptr(ReserveReserve1) proxy = NULL;
  g_autofree char *when = NULL;
  guint64 id = 0, ttl = 0;
  gint64 expires = 0;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (!parse_hold_id (invocation, &id, error) ||
      !reserve_parse_number ("--ttl", ttl_text, 1, RESERVE_MAX_HOLD_SECONDS_MAX, &ttl, error))
    return FALSE;
  proxy = reserve_client_connect (invocation->bus_type, error);
  if (proxy == NULL ||
      !reserve_reserve1_call_extend_sync (proxy, id, (guint32) ttl, G_DBUS_CALL_FLAGS_NONE,
                                          RESERVE_CLIENT_TIMEOUT_MSEC, &expires, NULL, error))
    return FALSE;
  when = describe_expiry (expires);
  printf (_ ("Hold %llu now expires %s.\n"), (unsigned long long) id, when);
  return TRUE;
}

const ReserveCommand reserve_extend_command = {
  .name = "extend",
  .parameters = "HOLD",
  .summary = N_ ("Make a hold expire --ttl seconds from now (never past its creation plus "
                 "MaxHoldSeconds)."),
  .min_arguments = 1,
  .max_arguments = 1,
  .has_json = FALSE,
  .run = extend,
};

/* --- holds ----------------------------------------------------------------------- */

static gboolean
holds (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autofree char *user = NULL;
  const GOptionEntry entries[] = { { "user", 'u', 0, G_OPTION_ARG_FILENAME, &user,
                                     N_ ("Only this customer's holds"), "NAME" },
                                   { NULL } };
  g_autoptr(ReserveReserve1) proxy = NULL;
  g_autoptr(GVariant) list = NULL;
  g_autoptr(ReserveTable) table = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  GVariantIter iter;
  guint64 id;
  const char *item, *customer;
  guint32 quantity;
  gint64 created, expires;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (user != NULL && !reserve_check_user_name (user, error))
    return FALSE;
  proxy = reserve_client_connect (invocation->bus_type, error);
  if (proxy == NULL ||
      !reserve_reserve1_call_list_holds_sync (proxy, user != NULL ? user : "",
                                              G_DBUS_CALL_FLAGS_NONE, RESERVE_CLIENT_TIMEOUT_MSEC,
                                              &list, NULL, error))
    return FALSE;

  if (invocation->json)
    {
      builder = json_builder_new ();
      json_builder_begin_array (builder);
    }
  else
    {
      static const ReserveColumn columns[] = {
        { N_ ("HOLD"), TRUE },     { N_ ("ITEM"), FALSE },    { N_ ("USER"), FALSE },
        { N_ ("QUANTITY"), TRUE }, { N_ ("EXPIRES"), FALSE },
      };

      table = reserve_table_new (columns, G_N_ELEMENTS (columns));
    }
  g_variant_iter_init (&iter, list);
  while (
    g_variant_iter_next (&iter, "(t&s&suxx)", &id, &item, &customer, &quantity, &created, &expires))
    {
      if (builder != NULL)
        {
          json_builder_begin_object (builder);
          reserve_json_add_int (builder, "hold", (gint64) id);
          reserve_json_add_string (builder, "item", item);
          reserve_json_add_string (builder, "user", customer);
          reserve_json_add_int (builder, "quantity", quantity);
          reserve_json_add_int (builder, "created", created);
          reserve_json_add_int (builder, "expires", expires);
          json_builder_end_object (builder);
          continue;
        }
      reserve_table_add_number (table, id);
      reserve_table_add (table, item);
      reserve_table_add (table, customer);
      reserve_table_add_number (table, quantity);
      reserve_table_take (table, expires != 0 ? reserve_format_local_time (expires)
                                              : g_strdup (_ ("never")));
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

const ReserveCommand reserve_holds_command = {
  .name = "holds",
  .parameters = "",
  .summary = N_ ("List live holds: your own, or everyone's for administrators."),
  .min_arguments = 0,
  .max_arguments = 0,
  .has_json = TRUE,
  .run = holds,
};
