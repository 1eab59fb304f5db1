/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kill -9 at any moment loses nothing that was acknowledged and sells
 * nothing twice.
 *
 * Buyers buy one unit at a time, each purchase with its own request_id.
 * When a call fails because the daemon is gone (no reply, nobody owns the
 * name) they retry the same request_id until it is answered, as docs/api.md
 * tells clients to do. Meanwhile the test kills the daemon with SIGKILL
 * and restarts it on the same database a few times. Afterwards every
 * acknowledged order must be there and active, and there must be no other
 * order: a retry that created a second order would show up as one. */

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "reserved-test-buyers.h"
#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"

#define N_BUYERS 8
#define N_KILLS  4
#define CAPACITY 1000000u

static void
test_kill_while_buying (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  ReservedTestAdmin admin = { 0 };
  g_autoptr(GHashTable) acked = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_auto(GStrv) lines = NULL;
  g_autoptr(GArray) orders = NULL;
  guint n_acked[N_BUYERS] = { 0 };
  ReservedTestBuyers buyers;
  guint total = 0;
  guint retries = 0;

  reserved_test_admin_start (&admin, daemon);
  reserved_test_create_item (&admin.client, "crash", CAPACITY, 0);
  /* The test holds no connection while the daemon comes and goes. */
  reserved_test_admin_close (&admin);

  reserved_test_buyers_spawn (&buyers, N_BUYERS, "crash-buyer",
                              reserved_test_daemon_get_address (daemon), NULL, FALSE);

  for (guint round = 0; round < N_KILLS; round++)
    {
      /* Random moments, so that over many runs every point of a purchase
       * (before the commit, between commit and reply, after) is hit. */
      g_usleep (g_test_rand_int_range (100, 300) * 1000);
      g_test_message ("round %u: kill -9", round);
      reserved_test_daemon_kill (daemon);
      /* Let the buyers run into the missing daemon for a moment. */
      g_usleep (g_test_rand_int_range (0, 100) * 1000);
      reserved_test_daemon_start (daemon);
    }
  g_usleep (200 * 1000);
  /* Buyers finish their current purchase, then exit; the daemon is
   * killed once more right after the last acknowledgements. Their lines:
   * "ack <buyer> <purchase number> <order>", and at the end of each
   * buyer "retried <buyer> <calls that failed and were retried>". */
  lines = reserved_test_buyers_finish_and_kill (&buyers, daemon);
  for (guint l = 0; lines[l] != NULL; l++)
    {
      g_auto(GStrv) words = NULL;
      guint64 index = 0, number = 0, order = 0;

      if (*lines[l] == '\0')
        continue;
      words = g_strsplit (lines[l], " ", -1);
      if (g_str_equal (words[0], "retried"))
        {
          g_assert_cmpuint (g_strv_length (words), ==, 3);
          retries += (guint) g_ascii_strtoull (words[2], NULL, 10);
          continue;
        }
      g_assert_cmpuint (g_strv_length (words), ==, 4);
      g_assert_cmpstr (words[0], ==, "ack");
      g_assert_true (g_ascii_string_to_unsigned (words[1], 10, 0, N_BUYERS - 1, &index, NULL));
      g_assert_true (g_ascii_string_to_unsigned (words[2], 10, 0, G_MAXUINT32, &number, NULL));
      g_assert_true (g_ascii_string_to_unsigned (words[3], 10, 1, G_MAXUINT64, &order, NULL));
      /* Purchases are acknowledged in order, each once. */
      g_assert_cmpuint (number, ==, n_acked[index]);
      n_acked[index]++;
      /* Two purchases never share an order. */
      if (g_hash_table_contains (acked, &order))
        g_error ("order %" G_GUINT64_FORMAT " was acknowledged for two purchases", order);
      g_hash_table_insert (acked, g_memdup2 (&order, sizeof order), GUINT_TO_POINTER (index + 1));
      total++;
    }
  /* The retries show that the kills hit buyers mid-purchase. */
  g_test_message ("%u purchases acknowledged over %u kills, %u calls retried", total, N_KILLS + 1,
                  retries);
  g_assert_cmpuint (total, >, 0);

  reserved_test_admin_open (&admin, daemon);
  /* Every purchase a buyer made was retried until acknowledged, so the
   * database must hold exactly the acknowledged orders: none lost, none
   * extra. */
  orders = reserved_test_list_acknowledged (&admin.client, N_BUYERS, n_acked, acked);
  for (guint j = 0; j < orders->len; j++)
    {
      ReservedTestOrder *order = &g_array_index (orders, ReservedTestOrder, j);

      g_assert_true (order->active);
      g_assert_cmpuint (order->quantity, ==, 1);
      g_assert_cmpstr (order->item, ==, "crash");
    }
  g_assert_cmpuint (reserved_test_get_item (&admin.client, "crash").remaining, ==,
                    CAPACITY - total);
  reserved_test_assert_law (&admin.client);
  reserved_test_admin_stop (&admin, daemon);
}

static void
test_ack_survives_kill (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  ReservedTestAdmin admin = { 0 };
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  guint64 last = 0;

  /* Each change is killed right after its reply; a restart must find it,
   * because it was on disk before the reply was sent. */
  reserved_test_daemon_start (daemon);
  for (guint step = 0; step < 6; step++)
    {
      reserved_test_admin_open (&admin, daemon);
      switch (step)
        {
        case 0:
          reserved_test_create_item (&admin.client, "durable", 10, 2);
          break;
        case 1:
          last = reserved_test_buy (&admin.client, "durable", "alice", 2, "r1", NULL);
          break;
        case 2:
          reserved_test_restock (&admin.client, "durable", 5);
          break;
        case 3:
          reserved_test_cancel (&admin.client, last);
          break;
        case 4:
          /* The replay of r1 after the restarts still knows the order. */
          g_assert_cmpuint (reserved_test_buy (&admin.client, "durable", "alice", 2, "r1", NULL),
                            ==, last);
          last = reserved_test_buy (&admin.client, "durable", "bob", 1, NULL, NULL);
          break;
        default:
          {
            ReservedTestItem item = reserved_test_get_item (&admin.client, "durable");
            g_autoptr(GArray) orders = reserved_test_list_orders (&admin.client, "");

            g_assert_cmpuint (item.capacity, ==, 15);
            g_assert_cmpuint (item.remaining, ==, 14);
            g_assert_cmpuint (item.per_user_limit, ==, 2);
            g_assert_cmpuint (orders->len, ==, 2);
            g_assert_false (g_array_index (orders, ReservedTestOrder, 0).active);
            g_assert_true (g_array_index (orders, ReservedTestOrder, 1).active);
            g_assert_cmpuint (g_array_index (orders, ReservedTestOrder, 1).id, ==, last);
          }
          break;
        }
      g_clear_pointer (&before, g_variant_unref);
      before = reserved_test_snapshot (&admin.client);
      reserved_test_admin_close (&admin);
      reserved_test_daemon_kill (daemon);
      reserved_test_admin_start (&admin, daemon);
      g_clear_pointer (&after, g_variant_unref);
      after = reserved_test_snapshot (&admin.client);
      g_assert_cmpvariant (before, after);
      reserved_test_assert_law (&admin.client);
      reserved_test_admin_close (&admin);
    }
  reserved_test_daemon_stop (daemon);
}

/* --- the buyer ------------------------------------------------------------ */

static gboolean
told_to_stop (void)
{
  struct pollfd pfd = { 3, POLLIN, 0 };

  /* The parent closes the other end: POLLHUP. */
  return poll (&pfd, 1, 0) > 0;
}

static int
crash_buyer (char **args)
{
  const char *index = args[1];
  g_autoptr(GDBusConnection) connection = reserved_test_connect (args[0]);
  g_autofree char *barrier = NULL;
  g_autofree char *user = g_strdup_printf ("buyer%s", index);
  guint timeout_ms = reserved_test_timeout_seconds () * 1000;
  guint retries = 0;

  barrier = reserved_test_read_all (STDIN_FILENO);
  for (guint number = 0; !told_to_stop (); number++)
    {
      g_autofree char *request_id = g_strdup_printf ("buyer%s-%u", index, number);
      gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

      for (;;)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GVariant) reply = NULL;
          ReserveError code;

          /* A plain call to the well-known name, not the generated proxy:
           * the proxy remembers the name's owner, and a daemon that was
           * killed and restarted has a new one. The bus routes a call to
           * the well-known name to whoever owns it now. */
          reply =
            g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                         RESERVE_INTERFACE, "Buy",
                                         g_variant_new ("(ssu@a{sv})", "crash", user, 1,
                                                        reserved_test_options (request_id)),
                                         G_VARIANT_TYPE ("(tu)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                         (int) timeout_ms, NULL, &error);
          if (reply != NULL)
            {
              guint64 order = 0;
              guint32 remaining = 0;

              g_variant_get (reply, "(tu)", &order, &remaining);
              reserved_test_helper_say ("ack %s %u %" G_GUINT64_FORMAT "\n", index, number, order);
              break;
            }
          if (reserve_error_get_code (error, &code))
            {
              /* The daemon answered and refused: never right here. */
              g_printerr ("buyer %s: %s\n", index, error->message);
              return 1;
            }
          /* No reply (killed mid-call) or no owner (not back yet): the
           * purchase may or may not have happened; the same request_id
           * finds out. */
          if (g_get_monotonic_time () > deadline)
            {
              g_printerr ("buyer %s: gave up on %s: %s\n", index, request_id, error->message);
              return 1;
            }
          retries++;
          g_usleep (10 * 1000);
        }
    }
  reserved_test_helper_say ("retried %s %u\n", index, retries);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return 0;
}

/* crash-buyer ADDRESS INDEX */
static const ReservedTestHelper helpers[] = { { "crash-buyer", 2, crash_buyer }, { NULL } };

static void
add_cases (void)
{
  g_test_add_func ("/crash/kill-while-buying", test_kill_while_buying);
  g_test_add_func ("/crash/ack-survives-kill", test_ack_survives_kill);
}

RESERVED_TEST_MAIN (add_cases, helpers)
