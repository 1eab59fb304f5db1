/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Many buyers at once. 32 buyer processes, each the test program run again
 * with its own bus connection, connect first and then wait on a pipe; the
 * parent closes the pipe and they all call at the same moment. What must
 * hold is the law, unique order ids, and exactly the answers that some
 * one-at-a-time order of the same calls would have given. */
#define _GNU_SOURCE /* F_SETPIPE_SZ */

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"

#define N_BUYERS 32

typedef ReservedTestFixture Fixture;

/* What one buyer was told. */
typedef struct {
  guint32 quantity;
  gboolean bought;
  guint64 order;
  guint32 remaining;
  char *error;          /* the API error's short name, when not bought */
  GArray *churn_orders; /* (element-type guint64) for the churn case */
} Result;

static void
result_clear (Result *result)
{
  g_free (result->error);
  g_clear_pointer (&result->churn_orders, g_array_unref);
}

typedef struct {
  const char *item;
  const char *user;       /* NULL: "buyer<i>" */
  const char *request_id; /* NULL: none */
  guint churn_rounds;     /* 0: one Buy; else Buy+Cancel this often */
} Race;

/* Spawns the buyers, releases them together, and collects what each was
 * told. @quantity_of gives buyer i's quantity. While they run, @watch (if
 * not NULL) is called over and over with the fixture. */
static void
run_race (Fixture *f,
          const Race *race,
          guint32 (*quantity_of) (guint i),
          void (*watch) (Fixture *f),
          Result *results)
{
  GPid pids[N_BUYERS];
  int barrier[2], out[2];
  g_autoptr(GString) text = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;

  g_assert_cmpint (pipe (barrier), ==, 0);
  g_assert_cmpint (pipe (out), ==, 0);
  /* The buyers' reports must never block them, even if the parent is
   * busy watching. */
  fcntl (out[0], F_SETPIPE_SZ, 1 << 20);

  for (guint i = 0; i < N_BUYERS; i++)
    {
      g_autofree char *index = g_strdup_printf ("%u", i);
      g_autofree char *user =
        race->user != NULL ? g_strdup (race->user) : g_strdup_printf ("buyer%u", i);
      g_autofree char *quantity = g_strdup_printf ("%u", quantity_of (i));
      g_autofree char *rounds = g_strdup_printf ("%u", race->churn_rounds);
      const char *args[] = {
        "buyer",  reserved_test_daemon_get_address (f->daemon),      index,  race->item, user,
        quantity, race->request_id != NULL ? race->request_id : "-", rounds, NULL,
      };

      results[i].quantity = quantity_of (i);
      pids[i] = reserved_test_spawn_helper (args, (uid_t) -1, barrier[0], out[1], -1);
    }
  close (barrier[0]);
  close (out[1]);

  /* Each buyer connects, then blocks reading its stdin; the end of the
   * pipe releases all of them at once. */
  close (barrier[1]);

  /* Read while watching, so that neither side waits on the other. */
  fcntl (out[0], F_SETFL, O_NONBLOCK);
  for (;;)
    {
      char buf[4096];
      ssize_t got = read (out[0], buf, sizeof buf);

      if (got > 0)
        {
          g_string_append_len (text, buf, got);
          continue;
        }
      if (got == 0)
        break;
      if (watch != NULL)
        watch (f);
      else
        {
          struct pollfd pfd = { out[0], POLLIN, 0 };
          poll (&pfd, 1, 100);
        }
    }
  close (out[0]);
  for (guint i = 0; i < N_BUYERS; i++)
    reserved_test_wait_helper (pids[i], "buyer");

  /* "<index> ok <order> <remaining>" or "<index> error <Name>", and for
   * churn "<index> cancelled <order>" lines. */
  lines = g_strsplit (text->str, "\n", -1);
  for (guint l = 0; lines[l] != NULL; l++)
    {
      g_auto(GStrv) words = NULL;
      guint64 index = 0, order = 0, remaining = 0;
      Result *result;

      if (*lines[l] == '\0')
        continue;
      words = g_strsplit (lines[l], " ", -1);
      g_assert_cmpuint (g_strv_length (words), >=, 3);
      g_assert_true (g_ascii_string_to_unsigned (words[0], 10, 0, N_BUYERS - 1, &index, NULL));
      result = &results[index];
      if (g_str_equal (words[1], "ok"))
        {
          g_assert_cmpuint (g_strv_length (words), ==, 4);
          g_assert_true (g_ascii_string_to_unsigned (words[2], 10, 1, G_MAXUINT64, &order, NULL));
          g_assert_true (
            g_ascii_string_to_unsigned (words[3], 10, 0, G_MAXUINT32, &remaining, NULL));
          if (race->churn_rounds > 0)
            {
              if (result->churn_orders == NULL)
                result->churn_orders = g_array_new (FALSE, FALSE, sizeof (guint64));
              g_array_append_val (result->churn_orders, order);
              continue;
            }
          g_assert_false (result->bought);
          g_assert_null (result->error);
          result->bought = TRUE;
          result->order = order;
          result->remaining = (guint32) remaining;
        }
      else if (g_str_equal (words[1], "error"))
        {
          if (race->churn_rounds > 0)
            {
              g_assert_cmpstr (words[2], ==, "SoldOut");
              continue;
            }
          g_assert_false (result->bought);
          g_assert_null (result->error);
          result->error = g_strdup (words[2]);
        }
      else if (g_str_equal (words[1], "cancelled"))
        g_assert_cmpuint (race->churn_rounds, >, 0);
      else
        g_error ("a buyer said “%s”", lines[l]);
    }
  if (race->churn_rounds == 0)
    for (guint i = 0; i < N_BUYERS; i++)
      g_assert_true (results[i].bought || results[i].error != NULL);
}

static guint32
one (guint i)
{
  return 1;
}

static guint32
one_or_two (guint i)
{
  return i % 3 == 0 ? 2 : 1;
}

/* The remaining stock each successful buyer was told, sorted from the
 * first sale to the last, must chain down from the capacity: every sale
 * saw the stock the previous one left. That is what serial execution
 * means, observed from outside. */
static guint32
assert_serial_chain (Result *results, guint32 capacity)
{
  g_autoptr(GArray) sales = g_array_new (FALSE, FALSE, sizeof (Result *));
  guint32 stock = capacity;

  for (guint i = 0; i < N_BUYERS; i++)
    if (results[i].bought)
      {
        Result *r = &results[i];
        g_array_append_val (sales, r);
      }
  /* Stock only goes down here, so higher remaining means earlier. */
  for (guint i = 0; i < sales->len; i++)
    for (guint j = i + 1; j < sales->len; j++)
      {
        Result *a = g_array_index (sales, Result *, i);
        Result *b = g_array_index (sales, Result *, j);

        if (b->remaining > a->remaining)
          {
            g_array_index (sales, Result *, i) = b;
            g_array_index (sales, Result *, j) = a;
          }
      }
  for (guint i = 0; i < sales->len; i++)
    {
      Result *r = g_array_index (sales, Result *, i);

      g_assert_cmpuint (r->quantity, <=, stock);
      g_assert_cmpuint (r->remaining, ==, stock - r->quantity);
      stock = r->remaining;
    }
  return stock;
}

/* How many buyers bought; asserts every other one was refused with
 * @refusal. */
static guint
count_bought (const Result *results, const char *refusal)
{
  guint bought = 0;

  for (guint i = 0; i < N_BUYERS; i++)
    {
      if (results[i].bought)
        bought++;
      else
        g_assert_cmpstr (results[i].error, ==, refusal);
    }
  return bought;
}

static void
assert_unique_orders (Result *results)
{
  g_autoptr(GHashTable) ids = g_hash_table_new (g_int64_hash, g_int64_equal);

  for (guint i = 0; i < N_BUYERS; i++)
    if (results[i].bought)
      {
        g_assert_false (g_hash_table_contains (ids, &results[i].order));
        g_hash_table_add (ids, &results[i].order);
      }
}

static void
test_single_units (Fixture *f, gconstpointer data)
{
  Result results[N_BUYERS] = { { 0 } };
  Race race = { "race", NULL, NULL, 0 };
  g_autoptr(GArray) all = NULL;

  reserved_test_create_item (&f->client, "race", 10, 0);
  run_race (f, &race, one, NULL, results);

  /* Demand (32) exceeds the stock (10): everything is sold, to exactly 10
   * buyers, and the others were told SoldOut. */
  g_assert_cmpuint (count_bought (results, "SoldOut"), ==, 10);
  assert_unique_orders (results);
  g_assert_cmpuint (assert_serial_chain (results, 10), ==, 0);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "race").remaining, ==, 0);
  all = reserved_test_list_orders (&f->client, "");
  g_assert_cmpuint (all->len, ==, 10);
  for (guint i = 0; i < N_BUYERS; i++)
    result_clear (&results[i]);
}

static void
test_mixed_quantities (Fixture *f, gconstpointer data)
{
  Result results[N_BUYERS] = { { 0 } };
  Race race = { "race", NULL, NULL, 0 };
  guint32 left;

  reserved_test_create_item (&f->client, "race", 10, 0);
  run_race (f, &race, one_or_two, NULL, results);

  for (guint i = 0; i < N_BUYERS; i++)
    if (!results[i].bought)
      g_assert_cmpstr (results[i].error, ==, "SoldOut");
  assert_unique_orders (results);
  left = assert_serial_chain (results, 10);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "race").remaining, ==, left);
  /* Stock never comes back here, so a unit left over means every buyer of
   * one unit was served, and two left over means every buyer was. */
  for (guint i = 0; i < N_BUYERS; i++)
    if (!results[i].bought)
      g_assert_cmpuint (left, <, results[i].quantity);
  for (guint i = 0; i < N_BUYERS; i++)
    result_clear (&results[i]);
}

static void
test_per_user_limit (Fixture *f, gconstpointer data)
{
  Result results[N_BUYERS] = { { 0 } };
  Race race = { "limited", "alice", NULL, 0 };

  /* Plenty of stock, but everyone buys for alice, who may have 5. */
  reserved_test_create_item (&f->client, "limited", 100, 5);
  run_race (f, &race, one, NULL, results);
  g_assert_cmpuint (count_bought (results, "LimitExceeded"), ==, 5);
  assert_unique_orders (results);
  g_assert_cmpuint (assert_serial_chain (results, 100), ==, 95);
  for (guint i = 0; i < N_BUYERS; i++)
    result_clear (&results[i]);
}

static void
test_same_request_id (Fixture *f, gconstpointer data)
{
  Result results[N_BUYERS] = { { 0 } };
  Race race = { "race", "alice", "the-same-request", 0 };
  g_autoptr(GArray) orders = NULL;

  /* All buyers run as the same uid, so this is one client retrying 32
   * times at once: one order, one unit, and every retry told its id. */
  reserved_test_create_item (&f->client, "race", 10, 0);
  run_race (f, &race, one, NULL, results);
  for (guint i = 0; i < N_BUYERS; i++)
    {
      g_assert_true (results[i].bought);
      g_assert_cmpuint (results[i].order, ==, results[0].order);
      g_assert_cmpuint (results[i].remaining, ==, 9);
    }
  orders = reserved_test_list_orders (&f->client, "");
  g_assert_cmpuint (orders->len, ==, 1);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "race").remaining, ==, 9);
  for (guint i = 0; i < N_BUYERS; i++)
    result_clear (&results[i]);
}

static guint n_watched;

/* Called while the churn runs: each GetItem is one moment a client can
 * observe, and the law must hold at every one of them. */
static void
watch_churn (Fixture *f)
{
  ReservedTestItem item = reserved_test_get_item (&f->client, "churn");

  g_assert_cmpuint (item.capacity, ==, 5);
  g_assert_cmpuint (item.remaining + item.sold, ==, item.capacity);
  n_watched++;
}

static void
test_churn (Fixture *f, gconstpointer data)
{
  Result results[N_BUYERS] = { { 0 } };
  Race race = { "churn", NULL, NULL, 20 };
  g_autoptr(GHashTable) ids = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GArray) all = NULL;
  guint n_orders = 0;

  reserved_test_create_item (&f->client, "churn", 5, 0);
  n_watched = 0;
  run_race (f, &race, one, watch_churn, results);
  g_test_message ("observed the item %u times during the churn", n_watched);

  for (guint i = 0; i < N_BUYERS; i++)
    for (guint j = 0; results[i].churn_orders != NULL && j < results[i].churn_orders->len; j++)
      {
        guint64 *id = &g_array_index (results[i].churn_orders, guint64, j);

        g_assert_false (g_hash_table_contains (ids, id));
        g_hash_table_add (ids, id);
        n_orders++;
      }
  /* Every order was cancelled again: all the stock is back. */
  g_assert_cmpuint (reserved_test_get_item (&f->client, "churn").remaining, ==, 5);
  all = reserved_test_list_orders (&f->client, "");
  g_assert_cmpuint (all->len, ==, n_orders);
  for (guint i = 0; i < all->len; i++)
    {
      ReservedTestOrder *order = &g_array_index (all, ReservedTestOrder, i);

      g_assert_false (order->active);
      g_assert_true (g_hash_table_contains (ids, &order->id));
    }
  for (guint i = 0; i < N_BUYERS; i++)
    result_clear (&results[i]);
}

static guint32 last_signalled = G_MAXUINT32;

static void
on_stock_changed (ReserveReserve1 *proxy, const char *item, guint remaining, gpointer user_data)
{
  if (g_str_equal (item, "race"))
    last_signalled = remaining;
}

static void
test_signal_after_race (Fixture *f, gconstpointer data)
{
  Result results[N_BUYERS] = { { 0 } };
  Race race = { "race", NULL, NULL, 0 };
  gint64 deadline;
  guint32 left;
  gulong id;

  reserved_test_create_item (&f->client, "race", 20, 0);
  id = g_signal_connect (f->proxy, "stock-changed", G_CALLBACK (on_stock_changed), NULL);
  run_race (f, &race, one_or_two, NULL, results);
  left = reserved_test_get_item (&f->client, "race").remaining;

  /* However the daemon coalesced the 32 changes, the last StockChanged
   * carries the final stock. */
  deadline = g_get_monotonic_time () + (gint64) reserved_test_timeout_seconds () * G_USEC_PER_SEC;
  while (last_signalled != left)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("the last StockChanged(race) said %u, the stock is %u", last_signalled, left);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_signal_handler_disconnect (f->proxy, id);
  for (guint i = 0; i < N_BUYERS; i++)
    result_clear (&results[i]);
}

/* --- the buyer ------------------------------------------------------------ */

/* One write() per line, shorter than PIPE_BUF: the lines of 32 buyers
 * sharing one pipe never interleave. */
static int
buyer (const char *address,
       const char *index,
       const char *item,
       const char *user,
       guint32 quantity,
       const char *request_id,
       guint churn_rounds)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) connection = reserved_test_connect (address);
  g_autoptr(ReserveReserve1) proxy =
               reserve_reserve1_proxy_new_sync (connection,
                                                G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                                  G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                                RESERVE_BUS_NAME, RESERVE_OBJECT_PATH, NULL,
                                                &error);
  g_autofree char *barrier = NULL;
  guint rounds = MAX (churn_rounds, 1);

  g_assert_no_error (error);
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy),
                                    (int) reserved_test_timeout_seconds () * 1000);

  /* Connected; now wait for the others. */
  barrier = reserved_test_read_all (STDIN_FILENO);

  for (guint round = 0; round < rounds; round++)
    {
      ReserveError code;
      guint64 order = 0;
      guint remaining = 0;
      GVariant *options = reserved_test_options (g_str_equal (request_id, "-") ? NULL : request_id);

      g_clear_error (&error);
      if (reserve_reserve1_call_buy_sync (proxy, item, user, quantity, options,
                                          G_DBUS_CALL_FLAGS_NONE, -1, &order, &remaining, NULL,
                                          &error))
        {
          reserved_test_helper_say ("%s ok %" G_GUINT64_FORMAT " %u\n", index, order, remaining);
          if (churn_rounds > 0)
            {
              reserve_reserve1_call_cancel_sync (proxy, order, G_DBUS_CALL_FLAGS_NONE, -1,
                                                 &remaining, NULL, &error);
              g_assert_no_error (error);
              reserved_test_helper_say ("%s cancelled %" G_GUINT64_FORMAT "\n", index, order);
            }
        }
      else if (reserve_error_get_code (error, &code))
        reserved_test_helper_say ("%s error %s\n", index, reserve_error_to_name (code));
      else
        {
          /* Anything but an API error (a timeout, a lost connection) is a
           * failure of the daemon under load. */
          g_printerr ("buyer %s: %s\n", index, error->message);
          return 1;
        }
    }
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return 0;
}

/* buyer ADDRESS INDEX ITEM USER QUANTITY REQUEST_ID CHURN_ROUNDS */
static int
run_buyer (char **args)
{
  return buyer (args[0], args[1], args[2], args[3],
                (guint32) reserved_test_helper_uint (args[4], 0, G_MAXUINT32), args[5],
                (guint) reserved_test_helper_uint (args[6], 0, 1000));
}

static const ReservedTestHelper helpers[] = { { "buyer", 7, run_buyer }, { NULL } };

static void
add_cases (void)
{
#define ADD RESERVED_TEST_FIXTURE_ADD

  ADD ("/concurrency/single-units", test_single_units);
  ADD ("/concurrency/mixed-quantities", test_mixed_quantities);
  ADD ("/concurrency/per-user-limit", test_per_user_limit);
  ADD ("/concurrency/same-request-id", test_same_request_id);
  ADD ("/concurrency/churn", test_churn);
  ADD ("/concurrency/signal-after-race", test_signal_after_race);
}

RESERVED_TEST_MAIN (add_cases, helpers)
