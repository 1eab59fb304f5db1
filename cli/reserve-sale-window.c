/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reserve sale-window ITEM --start TIME --end TIME | --clear: when an item
 * is on sale, for administrators; and the sale times every command
 * parses and shows. */
#include "reserve-sale-window.h"

#include <stdio.h>
#include <string.h>

#include "reserve-call.h"
#include "reserve-command.h"
#include "reserve-names.h"
#include "reserve-output.h"
#include "reserve-sale-window-flags.h"
#include "reserve-text.h"
#include "reserve-validate.h"

#define SALE_TIME_FORMS \
  N_ (                  \
    "“now”, a local time such as “2026-12-24 10:00”, or ISO 8601 with an optional zone such as “2026-12-24T10:00:00+01:00”")

/* ISO 8601 as GDateTime reads it, which wants seconds: a space between
 * date and time is taken for the "T", a time without seconds gets ":00",
 * and a date alone is its midnight. */
static GDateTime *
parse_local (const char *text)
{
  g_autoptr(GTimeZone) local = g_time_zone_new_local ();
  g_autoptr(GString) iso = g_string_new (text);

  if (iso->len == 10)
    g_string_append (iso, "T00:00:00");
  else if (iso->len > 10 && iso->str[10] == ' ')
    iso->str[10] = 'T';
  /* "YYYY-MM-DDThh:mm" and then the end or a zone. */
  if (iso->len >= 16 && iso->str[10] == 'T' && iso->str[13] == ':' &&
      (iso->len == 16 || strchr ("Z+-", iso->str[16]) != NULL))
    g_string_insert (iso, 16, ":00");
  return g_date_time_new_from_iso8601 (iso->str, local);
}

gboolean
reserve_parse_sale_time (const char *flag, const char *text, gint64 *usec, GError **error)
{
  g_autoptr(GDateTime) time = NULL;
  g_autofree char *described = NULL;

  if (!reserve_require_flag (flag, text, error))
    return FALSE;
  if (g_strcmp0 (text, "now") == 0)
    {
      *usec = g_get_real_time ();
      return TRUE;
    }
  time = parse_local (text);
  if (time != NULL)
    {
      *usec = g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time);
      if (*usec > 0 && *usec <= RESERVE_SALE_TIME_MAX)
        return TRUE;
    }
  described = reserve_describe_text (text);
  /* TRANSLATORS: the second %s is the list of accepted forms. */
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _ ("%s %s is not a time after 1970: use %s"), flag, described, _ (SALE_TIME_FORMS));
  return FALSE;
}

gboolean
reserve_parse_sale_window (const char *start_flag,
                           const char *start_text,
                           const char *end_flag,
                           const char *end_text,
                           gint64 *start,
                           gint64 *end,
                           GError **error)
{
  *start = *end = 0;
  if ((start_text != NULL && !reserve_parse_sale_time (start_flag, start_text, start, error)) ||
      (end_text != NULL && !reserve_parse_sale_time (end_flag, end_text, end, error)))
    return FALSE;
  if (*start == 0 || *end == 0 || *start < *end)
    return TRUE;
  /* TRANSLATORS: "--start 2030-01-02 is not before --end 2030-01-01: …" */
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _ ("%s %s is not before %s %s: a sale opens before it closes"), start_flag,
               start_text, end_flag, end_text);
  return FALSE;
}

char *
reserve_describe_sale_window (gint64 start, gint64 end)
{
  g_autofree char *from = start != 0 ? reserve_format_local_time (start) : NULL;
  g_autofree char *until = end != 0 ? reserve_format_local_time (end) : NULL;

  if (from != NULL && until != NULL)
    /* TRANSLATORS: a sale window, "from 2026-12-24T10:00:00+01:00 until …" */
    return g_strdup_printf (_ ("from %s until %s"), from, until);
  if (from != NULL)
    return g_strdup_printf (_ ("from %s"), from);
  if (until != NULL)
    return g_strdup_printf (_ ("until %s"), until);
  return NULL;
}

void
reserve_sale_window_from_info (GVariant *info, gint64 *start, gint64 *end, gboolean *on_sale)
{
  *start = *end = 0;
  *on_sale = TRUE;
  g_variant_lookup (info, RESERVE_OPTION_SALE_START, "x", start);
  g_variant_lookup (info, RESERVE_OPTION_SALE_END, "x", end);
  g_variant_lookup (info, "on_sale", "b", on_sale);
}

gboolean
reserve_sale_window_open_now (gint64 start, gint64 end)
{
  gint64 now = g_get_real_time ();

  return (start == 0 || now >= start) && (end == 0 || now < end);
}

void
reserve_json_add_sale_window (JsonBuilder *builder, gint64 start, gint64 end, gboolean on_sale)
{
  if (start == 0)
    reserve_json_add_null (builder, RESERVE_OPTION_SALE_START);
  else
    reserve_json_add_usec_time (builder, RESERVE_OPTION_SALE_START, start);
  if (end == 0)
    reserve_json_add_null (builder, RESERVE_OPTION_SALE_END);
  else
    reserve_json_add_usec_time (builder, RESERVE_OPTION_SALE_END, end);
  reserve_json_add_boolean (builder, "on_sale", on_sale);
}

static gboolean
sale_window (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_auto(ReserveSaleWindowFlags) window = { 0 };
  gboolean clear = FALSE;
  const GOptionEntry entries[] = {
    { "start", 's', 0, G_OPTION_ARG_FILENAME, &window.start,
      N_ ("When the sale opens, in local time (default: no start)"), "TIME" },
    { "end", 'e', 0, G_OPTION_ARG_FILENAME, &window.end,
      N_ ("When it closes, not included (default: no end)"), "TIME" },
    { "clear", 0, 0, G_OPTION_ARG_NONE, &clear,
      N_ ("Remove the window: on sale whenever it has stock"), NULL },
    { NULL }
  };
  g_auto(ReserveCall) call = { 0 };
  g_autofree char *described = NULL;
  const char *item = NULL;
  gint64 start, end;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;

  if (!reserve_invocation_get_item (invocation, &item, error))
    return FALSE;
  if (clear == reserve_sale_window_flags_given (&window))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           clear ? _ ("--clear removes the window: give it without --start and "
                                      "--end")
                                 : _ ("give --start, --end or both, or --clear"));
      return FALSE;
    }
  if (!reserve_sale_window_flags_parse (&window, "--start", "--end", &start, &end, error) ||
      !reserve_call_connect (&call, invocation, RESERVE_CALL_AS_ADMIN, error) ||
      !reserve_reserve1_call_set_sale_window_sync (call.proxy, item, start, end, call.flags,
                                                   call.timeout_msec, NULL, error))
    return FALSE;

  if (invocation->json)
    {
      g_autoptr(JsonBuilder) builder = reserve_json_object_new ();

      reserve_json_add_string (builder, "item", item);
      reserve_json_add_sale_window (builder, start, end, reserve_sale_window_open_now (start, end));
      reserve_print_json_object (builder);
      return TRUE;
    }
  described = reserve_describe_sale_window (start, end);
  if (described == NULL)
    printf (_ ("%s has no sale window now: it is on sale whenever it has stock.\n"), item);
  else
    /* TRANSLATORS: "seat is on sale from … until …" */
    printf (_ ("%s is on sale %s.\n"), item, described);
  return TRUE;
}

RESERVE_DEFINE_NAMED_COMMAND (sale_window,
                              "sale-window",
                              "ITEM",
                              RESERVE_WITH_JSON,
                              N_ ("Set when an item is on sale, in local time, or --clear it. "
                                  "Admins only."));
