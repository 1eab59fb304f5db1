// SPDX-License-Identifier: LGPL-2.1-or-later
#define G_LOG_DOMAIN "reserved-store"

#include "reserved-store-answers.h"

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserve-validate.h"

gboolean
store_refuse_no_such_item (GError **error, const char *name)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ITEM, "there is no item named “%s”",
               name);
  return FALSE;
}

gboolean
store_refuse_retired (GError **error, const char *name)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ITEM,
               "“%s” was retired and is no longer sold", name);
  return FALSE;
}

/* For messages: UTC, as ISO 8601, which every reader can convert. */
static char *
format_calendar_time (gint64 usec)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);

  if (time == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT " µs since the epoch", usec);
  return g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ");
}

gboolean
store_refuse_not_on_sale (GError **error,
                          const char *name,
                          const ReservedSaleWindow *window,
                          gint64 now)
{
  g_autofree char *when = NULL;

  if (window->start != 0 && now < window->start)
    {
      when = format_calendar_time (window->start);
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_NOT_ON_SALE,
                   "%s is not on sale yet: its sale opens at %s", name, when);
      return FALSE;
    }
  when = format_calendar_time (window->end);
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_NOT_ON_SALE,
               "%s is no longer on sale: its sale closed at %s", name, when);
  return FALSE;
}

gboolean
store_refuse_per_user_limit (GError **error,
                             const char *item,
                             const char *user,
                             guint32 limit,
                             gint64 units,
                             guint32 quantity)
{
  g_autofree char *described = reserve_describe_text (user);

  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_LIMIT_EXCEEDED,
               "%s may hold at most %u × %s; %s already holds %" G_GINT64_FORMAT
               " (orders, holds and waiting entries) and asked for %u more",
               described, limit, item, described, units, quantity);
  return FALSE;
}

gboolean
store_refuse_sold_out (GError **error, const char *item, gint64 left, gint64 owed, guint32 quantity)
{
  if (owed == 0)
    g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_SOLD_OUT,
                 "%s is sold out: %" G_GINT64_FORMAT " left, %u asked for", item, left, quantity);
  else
    g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_SOLD_OUT,
                 "%s is sold out: %" G_GINT64_FORMAT " left, owed to the %" G_GINT64_FORMAT
                 " units waiting on its waitlist first; %u asked for",
                 item, left, owed, quantity);
  return FALSE;
}

/* A reused key is refused so that it cannot buy (or hold, or queue) twice. */
gboolean
store_refuse_request_reused (GError **error,
                             const char *request_id,
                             const char *what,
                             gint64 first_id,
                             gint64 first_quantity,
                             const char *first_item,
                             const char *first_user)
{
  g_autofree char *id = reserve_describe_text (request_id);
  g_autofree char *user = reserve_describe_text (first_user);

  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
               "request_id %s was already used for %s %" G_GINT64_FORMAT " (%" G_GINT64_FORMAT
               " × %s for %s); a retry must repeat the same item, user and quantity",
               id, what, first_id, first_quantity, first_item, user);
  return FALSE;
}

gboolean
store_refuse_no_such_order (GError **error, guint64 order)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ORDER,
               "there is no order %" G_GUINT64_FORMAT, order);
  return FALSE;
}

gboolean
store_refuse_already_cancelled (GError **error, guint64 order)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_ALREADY_CANCELLED,
               "order %" G_GUINT64_FORMAT " is already cancelled", order);
  return FALSE;
}

gboolean
store_refuse_item_exists (GError **error, const char *name, gboolean retired)
{
  if (retired)
    g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_ITEM_EXISTS,
                 "an item named “%s” was retired; its name is not reused", name);
  else
    g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_ITEM_EXISTS,
                 "an item named “%s” already exists", name);
  return FALSE;
}

gboolean
store_refuse_restock (GError **error, const char *name, guint32 quantity, guint32 capacity)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
               "restocking %s by %u would take its capacity from %u to %" G_GUINT64_FORMAT
               "; allowed is at most %u",
               name, quantity, capacity, (guint64) capacity + quantity, RESERVE_CAPACITY_MAX);
  return FALSE;
}

gboolean
store_refuse_no_such_hold (GError **error, guint64 hold)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_HOLD,
               "there is no hold %" G_GUINT64_FORMAT, hold);
  return FALSE;
}

gboolean
store_refuse_hold_ended (GError **error, guint64 hold, const char *reason, guint64 order)
{
  if (g_strcmp0 (reason, RESERVED_HOLD_CONFIRMED) == 0)
    g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_HOLD_ENDED,
                 "hold %" G_GUINT64_FORMAT
                 " has ended: it was confirmed into order %" G_GUINT64_FORMAT,
                 hold, order);
  else
    g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_HOLD_ENDED,
                 "hold %" G_GUINT64_FORMAT " has ended: %s", hold,
                 g_strcmp0 (reason, RESERVED_HOLD_RELEASED) == 0       ? "it was released"
                 : g_strcmp0 (reason, RESERVED_HOLD_EXPIRED) == 0      ? "it expired"
                 : g_strcmp0 (reason, RESERVED_HOLD_DISCONNECTED) == 0 ? "its holder left the bus"
                 : g_strcmp0 (reason, RESERVED_HOLD_CLOSED) == 0
                   ? "every copy of its file descriptor was closed"
                   : reason);
  return FALSE;
}

gboolean
store_refuse_max_holds (GError **error, uid_t caller, gint64 live, guint32 max_holds)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_LIMIT_EXCEEDED,
               "uid %u has %" G_GINT64_FORMAT
               " live holds, the most one uid may have (MaxHoldsPerUid=%u); confirm or "
               "release one first",
               (guint) caller, live, max_holds);
  return FALSE;
}

gboolean
store_refuse_too_big (GError **error, const char *item, guint32 quantity, gint64 capacity)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
               "quantity %u is more than the capacity of %s (%" G_GINT64_FORMAT
               "): such an entry could never be served",
               quantity, item, capacity);
  return FALSE;
}

gboolean
store_refuse_one_entry (GError **error, const char *item, const char *user, gint64 entry)
{
  g_autofree char *described = reserve_describe_text (user);

  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_LIMIT_EXCEEDED,
               "%s already has entry %" G_GINT64_FORMAT
               " on the waitlist of %s: one entry per customer; leave it first to "
               "join again",
               described, entry, item);
  return FALSE;
}

gboolean
store_refuse_no_such_entry (GError **error, guint64 entry)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ENTRY,
               "there is no waitlist entry %" G_GUINT64_FORMAT, entry);
  return FALSE;
}

gboolean
store_refuse_entry_ended (GError **error, guint64 entry, const char *why)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_ALREADY_CANCELLED,
               "waitlist entry %" G_GUINT64_FORMAT " has already ended (%s)", entry, why);
  return FALSE;
}

const char *
store_hold_reason (const char *reason)
{
  const char *const reasons[] = { RESERVED_HOLD_CONFIRMED, RESERVED_HOLD_RELEASED,
                                  RESERVED_HOLD_EXPIRED, RESERVED_HOLD_DISCONNECTED,
                                  RESERVED_HOLD_CLOSED };

  for (guint i = 0; i < G_N_ELEMENTS (reasons); i++)
    if (g_strcmp0 (reason, reasons[i]) == 0)
      return reasons[i];
  g_return_val_if_reached (RESERVED_HOLD_RELEASED);
}
