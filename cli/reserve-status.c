/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "reserve-answer.h"
#include "reserve-call.h"
#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-names.h"
#include "reserve-output.h"
#include "reserve-sale-window.h"
#include "reserve-text.h"

typedef struct {
  char *name;
  guint capacity;
  guint remaining;
  guint sold;
  guint per_user_limit; /* 0: none */
  gboolean retired;
  gint64 sale_start; /* 0: none */
  gint64 sale_end;   /* 0: none */
  gboolean on_sale;
  guint waiting; /* units of waitlist entries still waiting */
} ItemStatus;

static void
item_status_clear (ItemStatus *status)
{
  g_clear_pointer (&status->name, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ItemStatus, item_status_clear)

static gboolean
parse_item_info (GVariant *info, ItemStatus *status, GError **error)
{
  if (!g_variant_lookup (info, "name", "s", &status->name))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _ ("reserved's answer to GetItem lacks “name” as a string"));
      return FALSE;
    }
  /* A daemon older than RetireItem does not say: never retired. */
  if (!g_variant_lookup (info, "retired", "b", &status->retired))
    status->retired = FALSE;
  reserve_sale_window_from_info (info, &status->sale_start, &status->sale_end, &status->on_sale);
  /* Nor does one older than the waitlist: nobody waits. */
  if (!g_variant_lookup (info, "waiting", "u", &status->waiting))
    status->waiting = 0;
  return reserve_answer_lookup_u32 (info, "GetItem", "capacity", &status->capacity, error) &&
         reserve_answer_lookup_u32 (info, "GetItem", "remaining", &status->remaining, error) &&
         reserve_answer_lookup_u32 (info, "GetItem", "sold", &status->sold, error) &&
         reserve_answer_lookup_u32 (info, "GetItem", RESERVE_OPTION_PER_USER_LIMIT,
                                    &status->per_user_limit, error);
}

static void
print_status_text (const ItemStatus *status)
{
  g_autofree char *window = reserve_describe_sale_window (status->sale_start, status->sale_end);
  g_autofree char *limit = status->per_user_limit == 0
                             ? g_strdup (_ ("none"))
                             : g_strdup_printf ("%u", status->per_user_limit);

  /* TRANSLATORS: the values start in one column; keep them aligned. */
  printf (_ ("Item:            %s\n"
             "Capacity:        %u\n"
             "Remaining:       %u\n"
             "Sold:            %u\n"
             "Per-user limit:  %s\n"),
          status->name, status->capacity, status->remaining, status->sold, limit);
  if (status->retired)
    printf (_ ("Retired:         yes, it is sold no more\n"));
  if (window != NULL)
    printf (_ ("Sale window:     %s\n"
               "On sale now:     %s\n"),
            window, status->on_sale ? _ ("yes") : _ ("no"));
  if (status->waiting > 0)
    printf (_ ("Waiting:         %u on its waitlist, owed before anyone else buys\n"),
            status->waiting);
}

static void
print_status_json (const ItemStatus *status)
{
  g_autoptr(JsonBuilder) builder = reserve_json_object_new ();

  reserve_json_add_string (builder, "item", status->name);
  reserve_json_add_int (builder, "capacity", status->capacity);
  reserve_json_add_int (builder, "remaining", status->remaining);
  reserve_json_add_int (builder, "sold", status->sold);
  if (status->per_user_limit == 0)
    reserve_json_add_null (builder, "per_user_limit"); /* no limit */
  else
    reserve_json_add_int (builder, "per_user_limit", status->per_user_limit);
  reserve_json_add_boolean (builder, "retired", status->retired);
  reserve_json_add_sale_window (builder, status->sale_start, status->sale_end, status->on_sale);
  reserve_json_add_int (builder, "waiting", status->waiting);
  reserve_print_json_object (builder);
}

static gboolean
status (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  const char *item_argument = NULL;
  g_auto(ReserveCall) call = { 0 };
  g_autofree char *item = NULL;
  g_autoptr(GVariant) info = NULL;
  g_auto(ItemStatus) item_status = { 0 };

  if (!reserve_invocation_parse (invocation, NULL, &argc, &argv, error))
    return invocation->help_shown;
  if (!reserve_invocation_get_item (invocation, &item_argument, error) ||
      !reserve_call_connect (&call, invocation, RESERVE_CALL_PLAIN, error))
    return FALSE;
  item = reserve_client_resolve_item (call.proxy, item_argument, error);
  if (item == NULL ||
      !reserve_reserve1_call_get_item_sync (call.proxy, item, call.flags, call.timeout_msec, &info,
                                            NULL, error) ||
      !parse_item_info (info, &item_status, error))
    return FALSE;

  if (invocation->json)
    print_status_json (&item_status);
  else
    print_status_text (&item_status);
  return TRUE;
}

RESERVE_DEFINE_COMMAND (
  status,
  "[ITEM]",
  RESERVE_WITH_JSON,
  N_ ("Show an item's stock: capacity, remaining, sold and the per-user limit.\n\n"
      "Without ITEM, shows the daemon's default item."));
