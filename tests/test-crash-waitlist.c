/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kill -9 between a cancellation and its promotion loses neither the freed
 * units nor the offer: the promotion is in the cancellation's SQLite
 * transaction, so the daemon, killed at a random moment while cancels,
 * releases and new entries stream in, comes back with every freed unit
 * either in stock with nobody waiting who could take it, or in an offer.
 *
 * RESERVED_TEST_WAITLIST_KILLS sets the number of kills (default 4). */
#include <string.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"

#define ITEM     "queue"
#define CAPACITY 60u

/* Sends @method without waiting for its answer: the daemon may be killed
 * before, while or after it commits. */
static void
send_call (ReservedTestAdmin *admin, const char *method, GVariant *args)
{
  g_dbus_connection_call (admin->connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                          RESERVE_INTERFACE, method, args, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                          -1, NULL, NULL, NULL);
}

/* Sends cancellations of a few active orders, releases of a few offers and
 * a few new entries, all at once. */
static void
send_round (ReservedTestAdmin *admin, guint round)
{
  g_autoptr(GArray) orders = reserved_test_list_orders (&admin->client, "owner");
  g_autoptr(GVariant) entries = reserved_test_list_waitlist (&admin->client, ITEM);
  guint cancels = 0, releases = 0;

  for (guint i = 0; i < orders->len && cancels < 3; i++)
    {
      const ReservedTestOrder *order = &g_array_index (orders, ReservedTestOrder, i);

      if (!order->active || g_test_rand_bit ())
        continue;
      send_call (admin, "Cancel", g_variant_new ("(t)", order->id));
      cancels++;
    }
  for (gsize i = 0; i < g_variant_n_children (entries) && releases < 2; i++)
    {
      guint64 hold = 0;

      g_variant_get_child (entries, i, "(t&s&suuxxt)", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                           &hold);
      if (hold == 0 || g_test_rand_bit ())
        continue;
      send_call (admin, "Release", g_variant_new ("(t)", hold));
      releases++;
    }
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *user = g_strdup_printf ("waiter-%u-%u", round, i);

      send_call (admin, "JoinWaitlist",
                 g_variant_new ("(ssu@a{sv})", ITEM, user, (guint32) g_test_rand_int_range (1, 4),
                                reserved_test_options (NULL)));
    }
  g_dbus_connection_flush_sync (admin->connection, NULL, NULL);
  g_test_message ("round %u: %u cancels, %u releases, 3 entries sent", round, cancels, releases);
}

static void
test_kill_between_cancel_and_offer (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  ReservedTestAdmin admin = { 0 };
  guint n_kills = reserved_test_env_uint ("RESERVED_TEST_WAITLIST_KILLS", 4, 100000);

  reserved_test_daemon_start (daemon);
  reserved_test_admin_open (&admin, daemon);
  reserved_test_create_item (&admin.client, ITEM, CAPACITY, 0);
  for (guint i = 0; i < CAPACITY; i++)
    reserved_test_buy (&admin.client, ITEM, "owner", 1, NULL, NULL);
  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *user = g_strdup_printf ("first-%u", i);

      reserved_test_join_waitlist (&admin.client, ITEM, user, 1 + i % 3, NULL, NULL, NULL);
    }

  for (guint round = 0; round < n_kills; round++)
    {
      g_autoptr(GVariant) entries = NULL;

      send_round (&admin, round);
      /* A random moment: before, during or after the commit. */
      g_usleep (g_test_rand_int_range (0, 20000));
      reserved_test_daemon_kill (daemon);
      reserved_test_admin_close (&admin);
      reserved_test_daemon_start (daemon);
      reserved_test_admin_open (&admin, daemon);
      /* Only offers hold units here: each freed unit is in stock with
       * nobody waiting who fits, or in an offer. */
      reserved_test_assert_law (&admin.client);
      entries = reserved_test_assert_waitlist_served (&admin.client, ITEM, TRUE);
      g_test_message ("round %u: %" G_GSIZE_FORMAT " live entries, %u left, %u in offers", round,
                      g_variant_n_children (entries),
                      reserved_test_get_item (&admin.client, ITEM).remaining,
                      reserved_test_get_item (&admin.client, ITEM).held);
    }
  reserved_test_admin_close (&admin);
  reserved_test_daemon_stop (daemon);
}

static void
add_cases (void)
{
  g_test_add_func ("/crash/waitlist/kill-between-cancel-and-offer",
                   test_kill_between_cancel_and_offer);
}

RESERVED_TEST_MAIN (add_cases, NULL)
