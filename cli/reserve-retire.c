/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reserve retire ITEM and reserve limit ITEM --per-user N: an item's
 * lifecycle, for administrators. */
#include <stdio.h>

#include "reserve-call.h"
#include "reserve-command.h"
#include "reserve-names.h"
#include "reserve-output.h"
#include "reserve-text.h"

static gboolean
retire (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_auto(ReserveCall) call = { 0 };
  const char *item = NULL;

  if (!reserve_invocation_parse (invocation, NULL, &argc, &argv, error))
    return invocation->help_shown;
  if (!reserve_invocation_get_item (invocation, &item, error) ||
      !reserve_call_connect (&call, invocation, RESERVE_CALL_AS_ADMIN, error) ||
      !reserve_reserve1_call_retire_item_sync (call.proxy, item, call.flags, call.timeout_msec,
                                               NULL, error))
    return FALSE;

  if (invocation->json)
    {
      g_autoptr(JsonBuilder) builder = reserve_json_object_new ();

      reserve_json_add_string (builder, "item", item);
      reserve_json_add_boolean (builder, "retired", TRUE);
      reserve_print_json_object (builder);
    }
  else
    printf (_ ("Retired %s: it is sold no more; its orders stay.\n"), item);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (retire,
                        "ITEM",
                        RESERVE_WITH_JSON,
                        N_ ("Stop selling an item for good, keeping its orders. Admins only."));

static void
print_limit (const char *item, guint64 per_user)
{
  if (per_user == 0)
    printf (_ ("%s has no per-user limit now.\n"), item);
  else
    printf (P_ ("At most %llu unit of %s per customer now.\n",
                "At most %llu units of %s per customer now.\n", per_user),
            (unsigned long long) per_user, item);
}

static void
print_limit_json (const char *item, guint64 per_user)
{
  g_autoptr(JsonBuilder) builder = reserve_json_object_new ();

  reserve_json_add_string (builder, "item", item);
  if (per_user == 0)
    reserve_json_add_null (builder, "per_user_limit"); /* no limit */
  else
    reserve_json_add_int (builder, "per_user_limit", (gint64) per_user);
  reserve_print_json_object (builder);
}

static gboolean
limit (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autofree char *limit_text = NULL;
  const GOptionEntry entries[] = { { "per-user", 0, 0, G_OPTION_ARG_FILENAME, &limit_text,
                                     N_ ("Most units one customer may hold, 0 to 1000000000 "
                                         "(required; 0: no limit)"),
                                     "N" },
                                   { NULL } };
  g_auto(ReserveCall) call = { 0 };
  const char *item = NULL;
  guint64 per_user = 0;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (!reserve_invocation_get_item (invocation, &item, error) ||
      !reserve_parse_number ("--per-user", limit_text, 0, RESERVE_CAPACITY_MAX, &per_user, error) ||
      !reserve_call_connect (&call, invocation, RESERVE_CALL_AS_ADMIN, error) ||
      !reserve_reserve1_call_set_per_user_limit_sync (call.proxy, item, (guint) per_user,
                                                      call.flags, call.timeout_msec, NULL, error))
    return FALSE;

  if (invocation->json)
    print_limit_json (item, per_user);
  else
    print_limit (item, per_user);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (
  limit,
  "ITEM",
  RESERVE_WITH_JSON,
  N_ ("Change how many units of an item one customer may hold. Admins only."));
