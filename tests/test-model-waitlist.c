/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The waitlist against a model: a seeded random sequence of Buy, Cancel,
 * Hold, Confirm, Release, Restock, JoinWaitlist, LeaveWaitlist, the clock
 * jumped past every hold's expiry (offers lapse), and the sale paused
 * (SetSaleWindow: not yet, or over) and opened again, on one item. The
 * model predicts each answer and the promotions each call makes: strictly
 * in order of arrival, all of an entry's quantity or nothing, in the
 * transaction of the call that freed the units, and none while the sale is
 * paused (Buy, Hold and JoinWaitlist are NotOnSale then; Confirm still
 * works), then those its opening makes. After every step the daemon's item
 * (remaining, held, waiting, sold) and waitlist (entries, positions, which
 * are offered) must be the model's, the law must hold, and, while on sale,
 * the head of the queue must ask for more than is left: nobody else could
 * buy before it.
 *
 *   RESERVED_TEST_SEED=N         replay the run of seed N
 *   RESERVED_TEST_MODEL_STEPS=N  a tenth of it is this case's steps
 *                                (default 300) */
#include <string.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"
#include "reserved-test-signals.h"

#define ITEM          "queue"
#define LONG_TTL      3600u
#define DEFAULT_STEPS 300u
#define N_WAITERS     12

typedef ReservedTestFixture Fixture;

typedef struct {
  guint64 id;
  guint32 quantity;
  gboolean active;
} Order;

typedef struct {
  guint64 id; /* 0 for an offer until the daemon names it */
  guint32 quantity;
  guint64 entry; /* the entry it was offered to, or 0 */
  gboolean live;
} Hold;

typedef struct {
  guint64 id;
  guint waiter; /* customer "waiterN" */
  guint32 quantity;
  gboolean offered;
  Hold *hold; /* once offered */
  gboolean live;
} Entry;

typedef struct {
  Fixture *f;
  GRand *rand;
  guint32 seed;
  guint step;
  guint32 capacity;
  guint32 remaining;
  GPtrArray *orders;  /* Order */
  GPtrArray *holds;   /* Hold */
  GPtrArray *entries; /* Entry, in order of arrival */
  gint64 clock;       /* seconds the daemon's time is ahead */
  GHashTable *ended;  /* hold ids HoldEnded named */
  guint ended_id;
  guint offers_made;
  guint lapses;
  guint blocked;              /* steps after which an entry waited */
  gboolean paused;            /* outside its sale window */
  ReservedTestSignals offers; /* WaitlistOffered, by entry */
  guint openings_with_offers;
} Model;

/* --- the model's rules ----------------------------------------------------- */

static guint32
waiting_units (Model *m)
{
  guint32 units = 0;

  for (guint i = 0; i < m->entries->len; i++)
    {
      Entry *e = g_ptr_array_index (m->entries, i);
      if (e->live && !e->offered)
        units += e->quantity;
    }
  return units;
}

/* In order of arrival, all or nothing, never past the head. */
static void
promote (Model *m)
{
  /* Outside the sale window nothing is offered; its opening promotes. */
  if (m->paused)
    return;
  for (guint i = 0; i < m->entries->len; i++)
    {
      Entry *e = g_ptr_array_index (m->entries, i);
      Hold *hold;

      if (!e->live || e->offered)
        continue;
      if (m->remaining < e->quantity)
        return;
      m->remaining -= e->quantity;
      hold = g_new0 (Hold, 1);
      hold->quantity = e->quantity;
      hold->entry = e->id;
      hold->live = TRUE;
      g_ptr_array_add (m->holds, hold);
      e->offered = TRUE;
      e->hold = hold;
      m->offers_made++;
    }
}

static Entry *
entry_of_hold (Model *m, Hold *hold)
{
  for (guint i = 0; hold->entry != 0 && i < m->entries->len; i++)
    {
      Entry *e = g_ptr_array_index (m->entries, i);
      if (e->hold == hold)
        return e;
    }
  return NULL;
}

/* A hold ends other than by Confirm: its entry, if an offer, lapses; its
 * units go to the waitlist. */
static void
end_hold (Model *m, Hold *hold)
{
  Entry *e = entry_of_hold (m, hold);

  hold->live = FALSE;
  if (e != NULL)
    e->live = FALSE;
  m->remaining += hold->quantity;
  promote (m);
}

static gpointer
pick (Model *m, GPtrArray *array, gboolean (*usable) (gpointer))
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();

  for (guint i = 0; i < array->len; i++)
    if (usable (g_ptr_array_index (array, i)))
      g_ptr_array_add (candidates, g_ptr_array_index (array, i));
  if (candidates->len == 0)
    return NULL;
  return g_ptr_array_index (candidates, g_rand_int_range (m->rand, 0, (gint32) candidates->len));
}

static gboolean
order_active (gpointer p)
{
  return ((Order *) p)->active;
}

static gboolean
hold_live (gpointer p)
{
  return ((Hold *) p)->live && ((Hold *) p)->id != 0;
}

static gboolean
entry_any (gpointer p)
{
  return TRUE;
}

/* --- comparing with the daemon ------------------------------------------------ */

/* Learns the ids of the offers the last call made, then asserts that the
 * daemon's item and waitlist are the model's and that the queue's promise
 * holds. */
static void
compare (Model *m)
{
  g_autoptr(GVariant) listed = reserved_test_assert_waitlist_served (&m->f->client, ITEM, FALSE);
  ReservedTestItem item = reserved_test_get_item (&m->f->client, ITEM);
  guint32 held = 0, sold = 0, position = 0;
  gsize n = 0;

  for (guint i = 0; i < m->entries->len; i++)
    {
      Entry *e = g_ptr_array_index (m->entries, i);
      guint64 id = 0, hold = 0;
      guint32 quantity = 0, listed_position = 0;

      if (!e->live)
        continue;
      if (n >= g_variant_n_children (listed))
        g_error ("seed %u step %u: entry %" G_GUINT64_FORMAT " is missing from ListWaitlist",
                 m->seed, m->step, e->id);
      g_variant_get_child (listed, n++, "(t&s&suuxxt)", &id, NULL, NULL, &quantity,
                           &listed_position, NULL, NULL, &hold);
      g_assert_cmpuint (id, ==, e->id);
      g_assert_cmpuint (quantity, ==, e->quantity);
      if (!e->offered)
        {
          g_assert_cmpuint (hold, ==, 0);
          g_assert_cmpuint (listed_position, ==, ++position);
          continue;
        }
      if (hold == 0)
        g_error ("seed %u step %u: entry %" G_GUINT64_FORMAT " should have been offered", m->seed,
                 m->step, e->id);
      g_assert_cmpuint (listed_position, ==, 0);
      if (e->hold->id == 0)
        e->hold->id = hold;
      g_assert_cmpuint (e->hold->id, ==, hold);
    }
  if (n != g_variant_n_children (listed))
    g_error ("seed %u step %u: ListWaitlist has %" G_GSIZE_FORMAT
             " entries, the model %" G_GSIZE_FORMAT,
             m->seed, m->step, g_variant_n_children (listed), n);
  for (guint i = 0; i < m->holds->len; i++)
    {
      Hold *h = g_ptr_array_index (m->holds, i);
      held += h->live ? h->quantity : 0;
    }
  for (guint i = 0; i < m->orders->len; i++)
    {
      Order *o = g_ptr_array_index (m->orders, i);
      sold += o->active ? o->quantity : 0;
    }
  g_assert_cmpuint (item.capacity, ==, m->capacity);
  g_assert_cmpuint (item.remaining, ==, m->remaining);
  g_assert_cmpuint (item.held, ==, held);
  g_assert_cmpuint (item.sold, ==, sold);
  g_assert_cmpuint (item.waiting, ==, waiting_units (m));
  reserved_test_assert_law (&m->f->client);
}

static void
on_hold_ended (guint64 hold, const char *item, const char *reason, gpointer user_data)
{
  Model *m = user_data;

  g_hash_table_add (m->ended, g_memdup2 (&hold, sizeof hold));
}

typedef struct {
  Model *m;
  guint64 hold;
} Ending;

static gboolean
has_ended (gpointer data)
{
  Ending *ending = data;

  return g_hash_table_contains (ending->m->ended, &ending->hold);
}

static void
wait_ended (Model *m, guint64 hold)
{
  Ending ending = { m, hold };
  g_autofree char *what = g_strdup_printf ("seed %u step %u: the expiry of hold %" G_GUINT64_FORMAT,
                                           m->seed, m->step, hold);

  reserved_test_iterate_until (has_ended, &ending, what);
}

/* --- the steps ------------------------------------------------------------------- */

static GVariant *
ttl_options (void)
{
  return g_variant_new_parsed ("{'ttl': <%u>}", LONG_TTL);
}

static void
buy_units (Model *m, guint32 quantity)
{
  Order *order;

  if (m->paused)
    {
      reserved_test_buy_refused (&m->f->client, ITEM, "buyer", quantity, NULL,
                                 RESERVE_ERROR_NOT_ON_SALE);
      return;
    }
  /* Nobody buys what is owed to a waiting entry. */
  if (m->remaining < waiting_units (m) + quantity)
    {
      reserved_test_buy_refused (&m->f->client, ITEM, "buyer", quantity, NULL,
                                 RESERVE_ERROR_SOLD_OUT);
      return;
    }
  order = g_new0 (Order, 1);
  order->quantity = quantity;
  order->active = TRUE;
  order->id = reserved_test_buy (&m->f->client, ITEM, "buyer", quantity, NULL, NULL);
  m->remaining -= quantity;
  g_ptr_array_add (m->orders, order);
}

static void
step_buy (Model *m)
{
  buy_units (m, (guint32) g_rand_int_range (m->rand, 1, 4));
}

static void
step_cancel (Model *m)
{
  Order *order = pick (m, m->orders, order_active);

  if (order == NULL)
    return;
  order->active = FALSE;
  m->remaining += order->quantity;
  promote (m);
  /* The reply reports what is left after the offers it made. */
  g_assert_cmpuint (reserved_test_cancel (&m->f->client, order->id), ==, m->remaining);
}

static void
step_hold (Model *m)
{
  guint32 quantity = (guint32) g_rand_int_range (m->rand, 1, 4);
  g_autoptr(GError) error = NULL;
  Hold *hold;
  guint64 id = 0;
  guint32 remaining = 0;

  reserve_reserve1_call_hold_sync (m->f->proxy, ITEM, "holder", quantity, ttl_options (),
                                   G_DBUS_CALL_FLAGS_NONE, -1, &id, NULL, &remaining, NULL, &error);
  if (m->paused)
    {
      reserved_test_assert_api_error (error, RESERVE_ERROR_NOT_ON_SALE);
      return;
    }
  if (m->remaining < waiting_units (m) + quantity)
    {
      reserved_test_assert_api_error (error, RESERVE_ERROR_SOLD_OUT);
      return;
    }
  g_assert_no_error (error);
  m->remaining -= quantity;
  g_assert_cmpuint (remaining, ==, m->remaining);
  hold = g_new0 (Hold, 1);
  hold->id = id;
  hold->quantity = quantity;
  hold->live = TRUE;
  g_ptr_array_add (m->holds, hold);
}

static void
step_release (Model *m)
{
  Hold *hold = pick (m, m->holds, hold_live);
  g_autoptr(GError) error = NULL;
  guint32 remaining = 0;

  if (hold == NULL)
    return;
  end_hold (m, hold);
  reserve_reserve1_call_release_sync (m->f->proxy, hold->id, G_DBUS_CALL_FLAGS_NONE, -1, &remaining,
                                      NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (remaining, ==, m->remaining);
}

static void
step_confirm (Model *m)
{
  Hold *hold = pick (m, m->holds, hold_live);
  g_autoptr(GError) error = NULL;
  Entry *entry;
  Order *order;

  if (hold == NULL)
    return;
  entry = entry_of_hold (m, hold);
  hold->live = FALSE;
  if (entry != NULL)
    entry->live = FALSE; /* served */
  order = g_new0 (Order, 1);
  order->quantity = hold->quantity;
  order->active = TRUE;
  reserve_reserve1_call_confirm_sync (m->f->proxy, hold->id, g_variant_new ("a{sv}", NULL),
                                      G_DBUS_CALL_FLAGS_NONE, -1, &order->id, NULL, NULL, &error);
  g_assert_no_error (error);
  g_ptr_array_add (m->orders, order);
}

static void
step_restock (Model *m)
{
  guint32 quantity = (guint32) g_rand_int_range (m->rand, 1, 4);

  m->capacity += quantity;
  m->remaining += quantity;
  promote (m);
  g_assert_cmpuint (reserved_test_restock (&m->f->client, ITEM, quantity), ==, m->remaining);
}

static Entry *
live_entry_of (Model *m, guint waiter)
{
  for (guint i = 0; i < m->entries->len; i++)
    {
      Entry *e = g_ptr_array_index (m->entries, i);
      if (e->live && e->waiter == waiter)
        return e;
    }
  return NULL;
}

static void
join_units (Model *m, guint waiter, guint32 quantity)
{
  g_autofree char *user = g_strdup_printf ("waiter%u", waiter);
  g_autoptr(GError) error = NULL;
  guint64 id = 0, hold = 0;
  guint32 position = 0, expected = 0;
  Entry *entry;

  reserve_reserve1_call_join_waitlist_sync (m->f->proxy, ITEM, user, quantity,
                                            g_variant_new ("a{sv}", NULL), G_DBUS_CALL_FLAGS_NONE,
                                            -1, &id, &position, &hold, NULL, &error);
  /* No queueing outside the sale window, before anything else. */
  if (m->paused)
    {
      reserved_test_assert_api_error (error, RESERVE_ERROR_NOT_ON_SALE);
      return;
    }
  /* One live entry per customer. */
  if (live_entry_of (m, waiter) != NULL)
    {
      reserved_test_assert_api_error (error, RESERVE_ERROR_LIMIT_EXCEEDED);
      return;
    }
  g_assert_no_error (error);
  entry = g_new0 (Entry, 1);
  entry->id = id;
  entry->waiter = waiter;
  entry->quantity = quantity;
  entry->live = TRUE;
  g_ptr_array_add (m->entries, entry);
  promote (m);
  /* Served at once only when nobody waits before it and its units are free. */
  g_assert_true (entry->offered == (hold != 0));
  if (entry->offered)
    entry->hold->id = hold;
  else
    {
      for (guint i = 0; i < m->entries->len; i++)
        {
          Entry *e = g_ptr_array_index (m->entries, i);
          expected += e->live && !e->offered;
        }
      g_assert_cmpuint (position, ==, expected);
    }
}

static void
step_join (Model *m)
{
  guint waiter = (guint) g_rand_int_range (m->rand, 0, N_WAITERS);

  join_units (m, waiter, (guint32) g_rand_int_range (m->rand, 1, 5));
}

static void
step_leave (Model *m)
{
  Entry *entry = pick (m, m->entries, entry_any);
  g_autoptr(GError) error = NULL;

  if (entry == NULL)
    return;
  reserve_reserve1_call_leave_waitlist_sync (m->f->proxy, entry->id, G_DBUS_CALL_FLAGS_NONE, -1,
                                             NULL, &error);
  if (!entry->live)
    {
      reserved_test_assert_api_error (error, RESERVE_ERROR_ALREADY_CANCELLED);
      return;
    }
  g_assert_no_error (error);
  entry->live = FALSE;
  if (entry->offered)
    end_hold (m, entry->hold);
  else
    promote (m);
}

/* Every live hold expires; offers lapse and pass their units on, each in
 * the order the daemon ends them (by id), with the promotions that makes. */
static void
step_lapse (Model *m)
{
  g_autoptr(GArray) expiring = g_array_new (FALSE, FALSE, sizeof (Hold *));

  for (guint i = 0; i < m->holds->len; i++)
    {
      Hold *h = g_ptr_array_index (m->holds, i);
      if (h->live)
        g_array_append_val (expiring, h);
    }
  if (expiring->len == 0)
    return;
  m->clock += LONG_TTL + 1;
  reserved_test_fixture_set_clock (m->f, m->clock);
  for (guint i = 0; i < expiring->len; i++)
    wait_ended (m, g_array_index (expiring, Hold *, i)->id);
  /* Ended in order of id; the offers made meanwhile are newer. */
  for (guint i = 0; i < expiring->len; i++)
    {
      Hold *h = g_array_index (expiring, Hold *, i);
      m->lapses += h->entry != 0;
      end_hold (m, h);
    }
}

/* The sale paused: its window opens a year from now, or it closed long
 * ago. Holds and entries stay; nothing is sold, held, joined or offered. */
static void
step_pause (Model *m)
{
  gboolean not_yet = g_rand_boolean (m->rand);
  gint64 start = g_get_real_time () + (gint64) 365 * 24 * 3600 * G_USEC_PER_SEC;

  reserved_test_set_sale_window (&m->f->client, ITEM, not_yet ? start : 0, not_yet ? 0 : 1);
  m->paused = TRUE;
}

/* The sale on again: its opening offers what the stock allows, in order,
 * in a write of its own after the reply; the offers it makes are waited
 * for by their WaitlistOffered. */
static void
step_open (Model *m)
{
  g_autoptr(GPtrArray) offered = g_ptr_array_new ();
  gboolean any = FALSE;

  for (guint i = 0; i < m->entries->len; i++)
    {
      Entry *e = g_ptr_array_index (m->entries, i);
      if (e->live && !e->offered)
        g_ptr_array_add (offered, e);
    }
  m->paused = FALSE;
  promote (m);
  reserved_test_set_sale_window (&m->f->client, ITEM, 0, 0);
  for (guint i = 0; i < offered->len; i++)
    {
      Entry *e = g_ptr_array_index (offered, i);
      g_autofree char *what = NULL;

      if (!e->offered)
        continue;
      what = g_strdup_printf ("seed %u step %u: the offer to entry %" G_GUINT64_FORMAT
                              " at the sale's opening",
                              m->seed, m->step, e->id);
      reserved_test_signals_wait (&m->offers, g_variant_new_uint64 (e->id), what);
      any = TRUE;
    }
  m->openings_with_offers += any;
}

static void
on_offered (GVariant *parameters, gpointer user_data)
{
  ReservedTestSignals *offers = user_data;
  guint64 entry = 0, hold = 0;

  g_variant_get (parameters, "(tt&sx)", &entry, &hold, NULL, NULL);
  reserved_test_signals_put (offers, g_variant_new_uint64 (entry), g_variant_new_uint64 (hold));
}

static guint
steps_wanted (void)
{
  const char *value = g_getenv ("RESERVED_TEST_MODEL_STEPS");
  guint64 n = DEFAULT_STEPS * 10;

  if (value != NULL && !g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT32 - 1, &n, NULL))
    g_error ("RESERVED_TEST_MODEL_STEPS=%s is not a number of steps", value);
  return (guint) MAX (n / 10, 1);
}

static guint32
seed_wanted (void)
{
  const char *value = g_getenv ("RESERVED_TEST_SEED");
  guint64 n = 0;

  if (value == NULL)
    return g_random_int ();
  if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT32, &n, NULL))
    g_error ("RESERVED_TEST_SEED=%s is not a seed", value);
  return (guint32) n;
}

static void
test_waitlist (Fixture *f, gconstpointer data)
{
  /* Buying and holding outweigh what gives units back, so that the
   * queue is held up often. */
  static void (*const steps[]) (Model *) = {
    step_buy,
    step_buy,
    step_buy,
    step_cancel,
    step_hold,
    step_hold,
    step_release,
    step_confirm,
    step_restock,
    step_join,
    step_join,
    step_join,
    step_leave,
    step_lapse,
    /* Open twice as often as paused: on sale two thirds of the time. */
    step_pause,
    step_open,
    step_open,
  };
  Model m = { .f = f, .capacity = 10, .remaining = 10 };
  guint n_steps = steps_wanted ();

  m.seed = seed_wanted ();
  g_test_message ("seed %u (replay with RESERVED_TEST_SEED=%u), %u steps", m.seed, m.seed, n_steps);
  m.rand = g_rand_new_with_seed (m.seed);
  m.orders = g_ptr_array_new_with_free_func (g_free);
  m.holds = g_ptr_array_new_with_free_func (g_free);
  m.entries = g_ptr_array_new_with_free_func (g_free);
  m.ended = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  m.ended_id = reserved_test_watch_hold_ended (f->connection, on_hold_ended, &m);
  reserved_test_signals_watch (&m.offers, f->connection, "WaitlistOffered", on_offered);
  reserved_test_create_item (&f->client, ITEM, m.capacity, 0);
  /* The run starts with the queue held up: all sold, one entry waiting. */
  buy_units (&m, m.capacity);
  join_units (&m, 0, 4);
  compare (&m);

  for (m.step = 0; m.step < n_steps; m.step++)
    {
      steps[g_rand_int_range (m.rand, 0, G_N_ELEMENTS (steps))](&m);
      compare (&m);
      m.blocked += waiting_units (&m) > 0;
    }
  g_test_message ("%u steps: %u orders, %u holds and offers, %u entries, %u offers made, "
                  "%u lapsed, %u steps ended with entries waiting, %u openings of the sale "
                  "made offers",
                  n_steps, m.orders->len, m.holds->len, m.entries->len, m.offers_made, m.lapses,
                  m.blocked, m.openings_with_offers);
  /* The sequence reached the waitlist's offers. */
  g_assert_cmpuint (m.offers_made, >, 0);

  reserved_test_signals_clear (&m.offers);
  g_dbus_connection_signal_unsubscribe (f->connection, m.ended_id);
  g_hash_table_unref (m.ended);
  g_ptr_array_unref (m.entries);
  g_ptr_array_unref (m.holds);
  g_ptr_array_unref (m.orders);
  g_rand_free (m.rand);
}

static void
add_cases (void)
{
  g_test_add ("/model/waitlist", Fixture, NULL, reserved_test_fixture_set_up_with_clock,
              test_waitlist, reserved_test_fixture_tear_down);
}

RESERVED_TEST_MAIN (add_cases, NULL)
