/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-call.h"
#include "reserve-command.h"
#include "reserve-names.h"
#include "reserve-output.h"
#include "reserve-sale-window.h"
#include "reserve-sale-window-flags.h"
#include "reserve-text.h"

static GVariant *
create_options (gboolean has_limit, guint64 per_user_limit, gint64 sale_start, gint64 sale_end)
{
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);

  if (has_limit)
    g_variant_dict_insert (&options, RESERVE_OPTION_PER_USER_LIMIT, "u", (guint) per_user_limit);
  if (sale_start != 0)
    g_variant_dict_insert (&options, RESERVE_OPTION_SALE_START, "x", sale_start);
  if (sale_end != 0)
    g_variant_dict_insert (&options, RESERVE_OPTION_SALE_END, "x", sale_end);
  return g_variant_dict_end (&options);
}

/* The item as created, with the keys of `reserve status --json`. */
static void
print_created_json (const char *item,
                    guint64 capacity,
                    guint64 per_user_limit,
                    gint64 sale_start,
                    gint64 sale_end)
{
  g_autoptr(JsonBuilder) builder = reserve_json_object_new ();

  reserve_json_add_string (builder, "item", item);
  reserve_json_add_int (builder, "capacity", (gint64) capacity);
  reserve_json_add_int (builder, "remaining", (gint64) capacity);
  reserve_json_add_int (builder, "sold", 0);
  if (per_user_limit == 0)
    reserve_json_add_null (builder, "per_user_limit"); /* no limit */
  else
    reserve_json_add_int (builder, "per_user_limit", (gint64) per_user_limit);
  reserve_json_add_boolean (builder, "retired", FALSE);
  reserve_json_add_sale_window (builder, sale_start, sale_end,
                                reserve_sale_window_open_now (sale_start, sale_end));
  reserve_json_add_int (builder, "waiting", 0);
  reserve_print_json_object (builder);
}

static gboolean
create (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autofree char *capacity_text = NULL;
  g_autofree char *limit_text = NULL;
  g_auto(ReserveSaleWindowFlags) sale = { 0 };
  g_autofree char *window = NULL;
  const GOptionEntry entries[] = {
    { "capacity", 'c', 0, G_OPTION_ARG_FILENAME, &capacity_text,
      N_ ("Units on sale, 0 to 1000000000 (required; 0: not on sale yet)"), "N" },
    { "per-user-limit", 'l', 0, G_OPTION_ARG_FILENAME, &limit_text,
      N_ ("Most units one customer may hold in active orders (default: 0, no limit)"), "N" },
    { "sale-start", 0, 0, G_OPTION_ARG_FILENAME, &sale.start,
      N_ ("When the sale opens, in local time (default: on sale at once)"), "TIME" },
    { "sale-end", 0, 0, G_OPTION_ARG_FILENAME, &sale.end,
      N_ ("When the sale closes, in local time (default: never)"), "TIME" },
    { NULL }
  };
  g_auto(ReserveCall) call = { 0 };
  const char *item = NULL;
  guint64 capacity = 0;
  guint64 per_user_limit = 0;
  gint64 sale_start, sale_end;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (!reserve_invocation_get_item (invocation, &item, error) ||
      !reserve_parse_number ("--capacity", capacity_text, 0, RESERVE_CAPACITY_MAX, &capacity,
                             error) ||
      !reserve_parse_optional_number ("--per-user-limit", limit_text, 0, G_MAXUINT32, 0,
                                      &per_user_limit, error) ||
      !reserve_sale_window_flags_parse (&sale, "--sale-start", "--sale-end", &sale_start, &sale_end,
                                        error) ||
      !reserve_call_connect (&call, invocation, RESERVE_CALL_AS_ADMIN, error) ||
      !reserve_reserve1_call_create_item_sync (call.proxy, item, (guint) capacity,
                                               create_options (limit_text != NULL, per_user_limit,
                                                               sale_start, sale_end),
                                               call.flags, call.timeout_msec, NULL, error))
    return FALSE;

  if (invocation->json)
    {
      print_created_json (item, capacity, per_user_limit, sale_start, sale_end);
      return TRUE;
    }
  if (capacity == 0)
    printf (_ ("Created %s, not on sale yet (no units).\n"), item);
  else if (per_user_limit == 0)
    printf (P_ ("Created %s with %llu unit.\n", "Created %s with %llu units.\n", capacity), item,
            (unsigned long long) capacity);
  else
    printf (P_ ("Created %s with %llu unit, at most %llu per customer.\n",
                "Created %s with %llu units, at most %llu per customer.\n", capacity),
            item, (unsigned long long) capacity, (unsigned long long) per_user_limit);
  window = reserve_describe_sale_window (sale_start, sale_end);
  if (window != NULL)
    /* TRANSLATORS: "On sale from 2026-12-24T10:00:00+01:00 until …" */
    printf (_ ("On sale %s.\n"), window);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (create,
                        "ITEM",
                        RESERVE_WITH_JSON,
                        N_ ("Create an item with its initial stock. Admins only."));
