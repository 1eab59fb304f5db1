/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "race-dbus.h"

#include <unistd.h>

#include "pool.h"
#include "reserve-answer.h"
#include "reserve-client.h"
#include "reserve-error.h"
#include "reserve-text.h"

/* --- the parent's questions, asked by a child ------------------------------ */

typedef struct {
  GBusType bus_type;
  const char *item; /* the child has a copy of the parent's memory */
  gboolean create;
  gboolean retire;
  guint capacity;
} ItemRequest;

/* A GError travels back as its domain's name, its code and its message,
 * so the parent can report it exactly as if it had made the call. */
typedef struct {
  gboolean ok;
  char domain[64];
  gint32 code;
  char message[1024];
  guint32 capacity;
  guint32 remaining;
  guint32 sold;
} ItemAnswer;

static GVariant *
no_options (void)
{
  return g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
}

/* Runs in the child. */
static void
ask_about_item (gconstpointer data, gpointer answer_data)
{
  const ItemRequest *request = data;
  ItemAnswer *answer = answer_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(ReserveReserve1) proxy = NULL;
  g_autoptr(GVariant) info = NULL;

  proxy = reserve_client_connect (request->bus_type, &error);
  if (proxy != NULL &&
      (!request->create ||
       reserve_reserve1_call_create_item_sync (proxy, request->item, request->capacity,
                                               no_options (), G_DBUS_CALL_FLAGS_NONE,
                                               RESERVE_CLIENT_TIMEOUT_MSEC, NULL, &error)) &&
      (!request->retire ||
       reserve_reserve1_call_retire_item_sync (proxy, request->item, G_DBUS_CALL_FLAGS_NONE,
                                               RESERVE_CLIENT_TIMEOUT_MSEC, NULL, &error)) &&
      reserve_reserve1_call_get_item_sync (proxy, request->item, G_DBUS_CALL_FLAGS_NONE,
                                           RESERVE_CLIENT_TIMEOUT_MSEC, &info, NULL, &error) &&
      reserve_answer_lookup_u32 (info, "GetItem", "capacity", &answer->capacity, &error) &&
      reserve_answer_lookup_u32 (info, "GetItem", "remaining", &answer->remaining, &error) &&
      reserve_answer_lookup_u32 (info, "GetItem", "sold", &answer->sold, &error))
    {
      answer->ok = TRUE;
      return;
    }

  g_dbus_error_strip_remote_error (error);
  g_strlcpy (answer->domain, g_quark_to_string (error->domain), sizeof answer->domain);
  answer->code = error->code;
  g_strlcpy (answer->message, error->message, sizeof answer->message);
}

static gboolean
ask_in_child (const ItemRequest *request, RaceItemState *state, GError **error)
{
  ItemAnswer answer;

  if (!pool_call_in_child (N_ ("talking to reserved"), ask_about_item, request, &answer,
                           sizeof answer, error))
    return FALSE;
  if (!answer.ok)
    {
      answer.domain[sizeof answer.domain - 1] = '\0';
      answer.message[sizeof answer.message - 1] = '\0';
      /* The quark of a domain's name is the domain: G_DBUS_ERROR and
       * RESERVE_ERROR come back as themselves. */
      g_set_error_literal (error, g_quark_from_string (answer.domain), answer.code, answer.message);
      return FALSE;
    }
  state->capacity = answer.capacity;
  state->remaining = answer.remaining;
  state->sold = answer.sold;
  return TRUE;
}

/* The daemon's refusals say what is wrong but not what `reserve race`
 * needs; as a G_IO_ERROR they also get exit status 3, not 1. */
static void
explain_refusal (GError **error, const char *what, const char *hint)
{
  ReserveError code;
  GError *refusal = *error;

  if (!reserve_error_get_code (refusal, &code))
    return;
  *error =
    g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s%s", what, refusal->message,
                 code == RESERVE_ERROR_PERMISSION_DENIED || code == RESERVE_ERROR_NO_SUCH_ITEM
                   ? hint
                   : "");
  g_error_free (refusal);
}

gboolean
race_dbus_prepare_item (GBusType bus_type,
                        const char *item,
                        guint stock,
                        char **item_out,
                        RaceItemState *state,
                        GError **error)
{
  g_autofree char *fresh = NULL;
  g_autofree char *what = NULL;
  ItemRequest request = { .bus_type = bus_type, .item = item, .capacity = stock };
  GError *local_error = NULL;

  if (item == NULL)
    {
      /* Unique per run, so runs never share stock; within the API's
       * 64 bytes of [A-Za-z0-9._:-]. */
      fresh = g_strdup_printf ("race-%" G_GINT64_FORMAT "-%d", g_get_real_time () / G_USEC_PER_SEC,
                               (int) getpid ());
      request.item = fresh;
      request.create = TRUE;
    }

  if (ask_in_child (&request, state, &local_error))
    {
      *item_out = g_strdup (request.item);
      return TRUE;
    }
  what = request.create ? g_strdup_printf (_ ("cannot create the race's item “%s”"), request.item)
                        : g_strdup_printf (_ ("cannot race for “%s”"), request.item);
  explain_refusal (&local_error, what,
                   request.create ? _ ("; creating items takes an admin of reserved, or race for "
                                       "an item that has stock with --item NAME")
                                  : _ ("; create it first, or leave out --item for a fresh one"));
  g_propagate_error (error, local_error);
  return FALSE;
}

gboolean
race_dbus_get_item (GBusType bus_type, const char *item, RaceItemState *state, GError **error)
{
  ItemRequest request = { .bus_type = bus_type, .item = item };

  return ask_in_child (&request, state, error);
}

gboolean
race_dbus_retire_item (GBusType bus_type, const char *item, GError **error)
{
  ItemRequest request = { .bus_type = bus_type, .item = item, .retire = TRUE };
  RaceItemState state;

  return ask_in_child (&request, &state, error);
}

/* --- the buyer ------------------------------------------------------------- */

void
race_dbus_buyer (RaceBuyer *buyer, gconstpointer data)
{
  const RaceDbusBuyerData *dbus = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(ReserveReserve1) proxy = NULL;
  ReserveError code;
  guint64 order = 0;
  guint remaining = 0;

  /* Its own connection, opened after the fork, before the barrier: the
   * race is between purchases, not between bus handshakes. */
  proxy = reserve_client_connect (dbus->bus_type, &error);
  if (proxy == NULL)
    {
      race_buyer_give_up (buyer, RACE_OUTCOME_NO_BUS, "%s", error->message);
      return;
    }

  race_buyer_wait_for_start (buyer);
  /* The same pause as the other modes, as the message's way to the
   * daemon. It stretches nobody's critical section: the daemon reads and
   * writes the stock in one transaction when the message arrives. */
  g_usleep ((gulong) dbus->delay_ms * 1000);
  race_buyer_critical_moment (buyer);

  race_buyer_note_read (buyer, -1);
  if (reserve_reserve1_call_buy_sync (proxy, dbus->item, buyer->name, 1, no_options (),
                                      G_DBUS_CALL_FLAGS_NONE, RESERVE_CLIENT_TIMEOUT_MSEC, &order,
                                      &remaining, NULL, &error))
    {
      buyer->order = order;
      buyer->seen = remaining;
      race_buyer_note_bought (buyer);
      return;
    }
  if (reserve_error_get_code (error, &code) && code == RESERVE_ERROR_SOLD_OUT)
    {
      buyer->outcome = RACE_OUTCOME_SOLD_OUT;
      return;
    }
  g_dbus_error_strip_remote_error (error);
  race_buyer_give_up (buyer, RACE_OUTCOME_FAILED, "%s", error->message);
}
