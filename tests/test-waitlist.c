/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The waitlist against the real reserved on a private bus: JoinWaitlist,
 * LeaveWaitlist, ListWaitlist and WaitlistOffered as docs/api.md states
 * them. Units that come back are offered in the reply of the call that
 * freed them, strictly in order of arrival, all of an entry or nothing;
 * nobody else buys units owed to a waiting entry; offers lapse and pass
 * on, deadlines end entries, on a clock the test moves (never a sleep).
 * Every refused call changed nothing, and each case ends with the law. */
#include <string.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"
#include "reserved-test-signals.h"

typedef ReservedTestFixture Fixture;

/* --- calls ------------------------------------------------------------------ */

static GVariant *
join_options (gint64 deadline, gboolean bound, const char *request_id)
{
  return reserved_test_hold_options ("deadline",
                                     deadline != 0 ? g_variant_new_int64 (deadline) : NULL, bound,
                                     request_id);
}

/* Joins and asserts the entry waits at @position (0: offered at once). */
static guint64
join (Fixture *f, const char *item, const char *user, guint32 quantity, guint32 position)
{
  guint32 place = 0;
  guint64 entry =
    reserved_test_join_waitlist (&f->client, item, user, quantity, NULL, &place, NULL);

  g_assert_cmpuint (place, ==, position);
  return entry;
}

static void
create_item (Fixture *f, const char *item, guint32 capacity, guint32 limit, guint32 offer_seconds)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GError) error = NULL;

  if (limit > 0)
    g_variant_builder_add (&builder, "{sv}", "per_user_limit", g_variant_new_uint32 (limit));
  if (offer_seconds > 0)
    g_variant_builder_add (&builder, "{sv}", "offer_seconds", g_variant_new_uint32 (offer_seconds));
  reserve_reserve1_call_create_item_sync (f->proxy, item, capacity,
                                          g_variant_builder_end (&builder), G_DBUS_CALL_FLAGS_NONE,
                                          -1, NULL, &error);
  g_assert_no_error (error);
}

/* The position ListWaitlist gives @entry; 0 when offered; asserts it is
 * listed. @hold (nullable): its offer. */
static guint32
position_of (Fixture *f, guint64 entry, guint64 *hold)
{
  g_autoptr(GVariant) entries = reserved_test_list_waitlist (&f->client, "");

  for (gsize i = 0; i < g_variant_n_children (entries); i++)
    {
      guint64 id = 0, offer = 0;
      guint32 position = 0;

      g_variant_get_child (entries, i, "(t&s&suuxxt)", &id, NULL, NULL, NULL, &position, NULL, NULL,
                           &offer);
      if (id != entry)
        continue;
      if (hold != NULL)
        *hold = offer;
      return position;
    }
  g_error ("entry %" G_GUINT64_FORMAT " is not listed", entry);
}

static gboolean
is_listed (Fixture *f, guint64 entry)
{
  g_autoptr(GVariant) entries = reserved_test_list_waitlist (&f->client, "");

  for (gsize i = 0; i < g_variant_n_children (entries); i++)
    {
      guint64 id = 0;

      g_variant_get_child (entries, i, "(t&s&suuxxt)", &id, NULL, NULL, NULL, NULL, NULL, NULL,
                           NULL);
      if (id == entry)
        return TRUE;
    }
  return FALSE;
}

/* Sells all of @item's @capacity to "owner" in orders of @sizes (0 ends). */
static void
sell_out (Fixture *f, const char *item, const guint32 *sizes, guint64 *orders)
{
  for (guint i = 0; sizes[i] != 0; i++)
    orders[i] = reserved_test_buy (&f->client, item, "owner", sizes[i], NULL, NULL);
  g_assert_cmpuint (reserved_test_get_item (&f->client, item).remaining, ==, 0);
}

/* --- WaitlistOffered ---------------------------------------------------------- */

/* entry -> hold of its offer */
typedef ReservedTestSignals Offers;

static void
on_offered (GVariant *parameters, gpointer user_data)
{
  Offers *offers = user_data;
  guint64 entry = 0, hold = 0;
  gint64 expires = 0;

  g_variant_get (parameters, "(tt&sx)", &entry, &hold, NULL, &expires);
  /* Once per entry; no offer here is bound to a connection, so each expires. */
  g_assert_null (reserved_test_signals_get (offers, g_variant_new_uint64 (entry)));
  g_assert_cmpint (expires, >, 0);
  reserved_test_signals_put (offers, g_variant_new_uint64 (entry), g_variant_new_uint64 (hold));
}

/* Watches the offers, and creates "seat" (its offers lasting
 * @offer_seconds; 0: the default) sold out to "owner" in orders of @sizes
 * (0 ends). */
static void
sold_out_seat (Fixture *f,
               Offers *offers,
               guint32 offer_seconds,
               const guint32 *sizes,
               guint64 *orders)
{
  guint32 capacity = 0;

  for (guint i = 0; sizes[i] != 0; i++)
    capacity += sizes[i];
  reserved_test_signals_watch (offers, f->connection, "WaitlistOffered", on_offered);
  create_item (f, "seat", capacity, 0, offer_seconds);
  sell_out (f, "seat", sizes, orders);
}

/* Waits (bounded) for the offer to @entry; returns its hold, which must
 * be the one ListWaitlist shows. */
static guint64
offers_wait (Fixture *f, Offers *offers, guint64 entry)
{
  g_autofree char *what = g_strdup_printf ("an offer to entry %" G_GUINT64_FORMAT, entry);
  guint64 hold =
    g_variant_get_uint64 (reserved_test_signals_wait (offers, g_variant_new_uint64 (entry), what));
  guint64 listed = 0;

  g_assert_cmpuint (position_of (f, entry, &listed), ==, 0);
  g_assert_cmpuint (listed, ==, hold);
  return hold;
}

/* --- cases --------------------------------------------------------------------- */

/* Free units and nobody waiting: the entry is served at once, with an
 * ordinary hold that Confirm makes an order. */
static void
test_served_at_once (Fixture *f, gconstpointer data)
{
  guint32 position = 99;
  guint64 hold = 0, entry, order;
  ReservedTestItem item;

  entry = reserved_test_join_waitlist (&f->client, "ticket", "alice", 3, NULL, &position, &hold);
  g_assert_cmpuint (position, ==, 0);
  g_assert_cmpuint (hold, >, 0);
  item = reserved_test_get_item (&f->client, "ticket");
  g_assert_cmpuint (item.remaining, ==, 97);
  g_assert_cmpuint (item.held, ==, 3);
  g_assert_cmpuint (item.waiting, ==, 0);
  g_assert_cmpuint (position_of (f, entry, NULL), ==, 0);
  order = reserved_test_confirm (&f->client, hold, NULL, NULL);
  g_assert_cmpuint (order, >, 0);
  /* Served: the entry is over. */
  g_assert_false (is_listed (f, entry));
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").sold, ==, 3);
}

/* A large first entry blocks the queue: smaller ones behind it wait, and
 * nobody else may buy or hold the units it is owed. Each Cancel, Restock
 * and Release reply reports what is left after the offers it made. */
static void
test_mixed_quantities (Fixture *f, gconstpointer data)
{
  const guint32 sizes[] = { 3, 3, 4, 0 };
  guint64 orders[3];
  Offers offers = { 0 };
  guint64 bob, carol, dave, bob_hold, carol_hold, dave_hold;
  ReservedTestItem item;
  g_autoptr(GError) error = NULL;

  sold_out_seat (f, &offers, 0, sizes, orders);
  bob = join (f, "seat", "bob", 5, 1);
  carol = join (f, "seat", "carol", 1, 2);
  dave = join (f, "seat", "dave", 2, 3);
  item = reserved_test_get_item (&f->client, "seat");
  g_assert_cmpuint (item.waiting, ==, 8);

  /* 3 units back: not enough for bob, and carol may not pass him. */
  g_assert_cmpuint (reserved_test_cancel (&f->client, orders[0]), ==, 3);
  g_assert_cmpuint (position_of (f, bob, NULL), ==, 1);
  g_assert_cmpuint (position_of (f, carol, NULL), ==, 2);
  item = reserved_test_get_item (&f->client, "seat");
  g_assert_cmpuint (item.remaining, ==, 3);
  g_assert_cmpuint (item.available, ==, 0);
  /* Owed: neither a Buy nor a Hold by someone else takes them. */
  reserved_test_buy_refused (&f->client, "seat", "eve", 1, NULL, RESERVE_ERROR_SOLD_OUT);
  reserve_reserve1_call_hold_sync (f->proxy, "seat", "eve", 1,
                                   g_variant_new_parsed ("{'ttl': <uint32 60>}"),
                                   G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL, NULL, &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_SOLD_OUT);
  g_assert_nonnull (strstr (error->message, "waitlist"));

  /* 4 more: bob (5) then carol (1) are offered in the Cancel itself,
   * dave (2) waits for the last unit's company. */
  g_assert_cmpuint (reserved_test_cancel (&f->client, orders[2]), ==, 1);
  bob_hold = offers_wait (f, &offers, bob);
  carol_hold = offers_wait (f, &offers, carol);
  g_assert_cmpuint (position_of (f, dave, NULL), ==, 1);
  item = reserved_test_get_item (&f->client, "seat");
  g_assert_cmpuint (item.held, ==, 6);
  g_assert_cmpuint (item.waiting, ==, 2);
  reserved_test_assert_law (&f->client);

  /* A restock of 1 makes dave's 2. */
  g_assert_cmpuint (reserved_test_restock (&f->client, "seat", 1), ==, 0);
  dave_hold = offers_wait (f, &offers, dave);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "seat").waiting, ==, 0);

  /* bob passes: his entry ends and, nobody waiting, the units are for sale. */
  g_assert_cmpuint (reserved_test_release (&f->client, bob_hold), ==, 5);
  g_assert_false (is_listed (f, bob));
  reserved_test_confirm (&f->client, carol_hold, NULL, NULL);
  reserved_test_confirm (&f->client, dave_hold, NULL, NULL);
  g_assert_false (is_listed (f, carol));
  g_assert_false (is_listed (f, dave));
  item = reserved_test_get_item (&f->client, "seat");
  g_assert_cmpuint (item.sold, ==, 3 + 1 + 2);
  g_assert_cmpuint (item.remaining, ==, 5);
  reserved_test_signals_clear (&offers);
}

/* An offer not confirmed in offer_seconds lapses: its entry ends and the
 * units go to the next entry, in the transaction that ended it. */
static void
test_lapse (Fixture *f, gconstpointer data)
{
  const guint32 sizes[] = { 2, 0 };
  guint64 orders[1];
  Offers offers = { 0 };
  guint64 bob, carol, bob_hold, carol_hold;

  sold_out_seat (f, &offers, 600, sizes, orders);
  bob = join (f, "seat", "bob", 2, 1);
  carol = join (f, "seat", "carol", 2, 2);
  g_assert_cmpuint (reserved_test_cancel (&f->client, orders[0]), ==, 0);
  bob_hold = offers_wait (f, &offers, bob);
  g_assert_cmpuint (position_of (f, carol, NULL), ==, 1);

  /* Halfway through its time the offer stands; past it, it has lapsed. */
  reserved_test_fixture_set_clock (f, 300);
  g_assert_true (is_listed (f, bob));
  reserved_test_fixture_set_clock (f, 601);
  carol_hold = offers_wait (f, &offers, carol);
  g_assert_cmpuint (carol_hold, !=, bob_hold);
  g_assert_false (is_listed (f, bob));
  g_assert_cmpuint (reserved_test_get_item (&f->client, "seat").held, ==, 2);
  reserved_test_signals_clear (&offers);
}

/* A deadline ends a waiting entry; if it blocked the queue, the next one
 * is offered at once. A deadline in the past is refused. */
static void
test_deadline (Fixture *f, gconstpointer data)
{
  const guint32 sizes[] = { 4, 1, 0 };
  guint64 orders[2];
  Offers offers = { 0 };
  guint64 bob, carol;
  gint64 now = g_get_real_time ();

  sold_out_seat (f, &offers, 0, sizes, orders);
  reserved_test_call_refused (&f->client, "JoinWaitlist",
                              reserved_test_request_args ("seat", "bob", 1,
                                                          join_options (now - G_USEC_PER_SEC, FALSE,
                                                                        NULL)),
                              RESERVE_ERROR_INVALID_ARGUMENT, "deadline");
  bob =
    reserved_test_join_waitlist (&f->client, "seat", "bob", 3,
                                 join_options (now + 30 * G_USEC_PER_SEC, FALSE, NULL), NULL, NULL);
  carol = join (f, "seat", "carol", 1, 2);
  g_assert_cmpuint (reserved_test_cancel (&f->client, orders[1]), ==, 1);
  g_assert_cmpuint (position_of (f, carol, NULL), ==, 2);

  /* bob gives up at his deadline; carol's unit is there. */
  reserved_test_fixture_set_clock (f, 31);
  offers_wait (f, &offers, carol);
  g_assert_false (is_listed (f, bob));
  g_assert_cmpuint (reserved_test_get_item (&f->client, "seat").waiting, ==, 0);
  reserved_test_signals_clear (&offers);
}

/* Leaving: positions move up, a head that leaves lets the next one have
 * what is there, an offered entry gives its hold back; leaving twice or
 * an unknown entry is refused. */
static void
test_leave (Fixture *f, gconstpointer data)
{
  const guint32 sizes[] = { 2, 1, 0 };
  guint64 orders[2];
  Offers offers = { 0 };
  guint64 bob, carol, dave, carol_hold;

  sold_out_seat (f, &offers, 0, sizes, orders);
  bob = join (f, "seat", "bob", 3, 1);
  carol = join (f, "seat", "carol", 1, 2);
  dave = join (f, "seat", "dave", 1, 3);
  g_assert_cmpuint (reserved_test_cancel (&f->client, orders[1]), ==, 1);

  reserved_test_leave_waitlist (&f->client, bob);
  carol_hold = offers_wait (f, &offers, carol);
  g_assert_cmpuint (position_of (f, dave, NULL), ==, 1);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "seat").remaining, ==, 0);

  /* carol leaves with her offer: dave gets the unit. */
  reserved_test_leave_waitlist (&f->client, carol);
  offers_wait (f, &offers, dave);
  g_assert_false (is_listed (f, carol));
  /* Her hold went with her. */
  reserved_test_release_refused (&f->client, carol_hold, RESERVE_ERROR_HOLD_ENDED);
  reserved_test_leave_waitlist_refused (&f->client, bob, RESERVE_ERROR_ALREADY_CANCELLED);
  reserved_test_leave_waitlist_refused (&f->client, 999999, RESERVE_ERROR_NO_SUCH_ENTRY);
  reserved_test_signals_clear (&offers);
}

/* One entry per customer; the per-user limit counts waiting units when
 * joining, and is checked again when the entry's turn comes: an entry
 * past a limit lowered since ends there, and the next one is served. */
static void
test_limits (Fixture *f, gconstpointer data)
{
  const guint32 sizes[] = { 4, 0 };
  guint64 orders[1];
  Offers offers = { 0 };
  guint64 bob, carol;

  reserved_test_signals_watch (&offers, f->connection, "WaitlistOffered", on_offered);
  create_item (f, "seat", 6, 0, 0);
  reserved_test_buy (&f->client, "seat", "bob", 2, NULL, NULL);
  sell_out (f, "seat", sizes, orders);
  reserved_test_set_per_user_limit (&f->client, "seat", 3);
  reserved_test_call_refused (&f->client, "JoinWaitlist",
                              reserved_test_request_args ("seat", "bob", 2, NULL),
                              RESERVE_ERROR_LIMIT_EXCEEDED, "waiting entries");
  bob = join (f, "seat", "bob", 1, 1);
  reserved_test_call_refused (&f->client, "JoinWaitlist",
                              reserved_test_request_args ("seat", "bob", 1, NULL),
                              RESERVE_ERROR_LIMIT_EXCEEDED, "one entry per customer");
  carol = join (f, "seat", "carol", 1, 2);

  reserved_test_set_per_user_limit (&f->client, "seat", 2);
  /* 4 units back: bob (2 bought + 1 waiting, limit now 2) is passed
   * over for good; carol is served. */
  g_assert_cmpuint (reserved_test_cancel (&f->client, orders[0]), ==, 3);
  offers_wait (f, &offers, carol);
  g_assert_false (is_listed (f, bob));
  g_assert_cmpuint (g_hash_table_size (offers.seen), ==, 1);
  reserved_test_signals_clear (&offers);
}

/* Bad input is refused with a clear error and changes nothing. */
static void
test_bad_input (Fixture *f, gconstpointer data)
{
  reserved_test_call_refused (&f->client, "JoinWaitlist",
                              reserved_test_request_args ("ticket", "bob", 101, NULL),
                              RESERVE_ERROR_INVALID_ARGUMENT, "capacity");
  reserved_test_call_refused (&f->client, "JoinWaitlist",
                              reserved_test_request_args ("ticket", "bob", 0, NULL),
                              RESERVE_ERROR_INVALID_ARGUMENT, "quantity");
  reserved_test_call_refused (&f->client, "JoinWaitlist",
                              reserved_test_request_args ("ticket", "bob", 1,
                                                          g_variant_new_parsed (
                                                            "{'colour': <'red'>}")),
                              RESERVE_ERROR_INVALID_ARGUMENT, "colour");
  reserved_test_call_refused (&f->client, "JoinWaitlist",
                              reserved_test_request_args ("ticket", "bob", 1,
                                                          g_variant_new_parsed (
                                                            "{'deadline': <uint32 5>}")),
                              RESERVE_ERROR_INVALID_ARGUMENT, "deadline");
  reserved_test_call_refused (&f->client, "JoinWaitlist",
                              reserved_test_request_args ("ticket", "bob", 1,
                                                          join_options (1, FALSE, NULL)),
                              RESERVE_ERROR_INVALID_ARGUMENT, "not in the future");
  reserved_test_call_refused (&f->client, "JoinWaitlist",
                              reserved_test_request_args ("nosuch", "bob", 1, NULL),
                              RESERVE_ERROR_NO_SUCH_ITEM, "nosuch");
  reserved_test_call_refused (&f->client, "JoinWaitlist",
                              reserved_test_request_args ("ticket", "", 1, NULL),
                              RESERVE_ERROR_INVALID_ARGUMENT, NULL);
  reserved_test_create_item_refused (&f->client, "seat", 5,
                                     g_variant_new_parsed ("{'offer_seconds': <uint32 0>}"),
                                     RESERVE_ERROR_INVALID_ARGUMENT);
}

/* A repeated request_id answers with its entry as it stands; the same key
 * for another request is refused. */
static void
test_request_id (Fixture *f, gconstpointer data)
{
  const guint32 sizes[] = { 100, 0 };
  guint64 orders[1];
  guint64 first, again;
  guint32 position = 0;

  sell_out (f, "ticket", sizes, orders);
  first = reserved_test_join_waitlist (&f->client, "ticket", "bob", 2,
                                       join_options (0, FALSE, "k1"), &position, NULL);
  g_assert_cmpuint (position, ==, 1);
  again = reserved_test_join_waitlist (&f->client, "ticket", "bob", 2,
                                       join_options (0, FALSE, "k1"), &position, NULL);
  g_assert_cmpuint (again, ==, first);
  reserved_test_call_refused (&f->client, "JoinWaitlist",
                              reserved_test_request_args ("ticket", "bob", 3,
                                                          join_options (0, FALSE, "k1")),
                              RESERVE_ERROR_INVALID_ARGUMENT, "already used");
}

/* An entry bound to its connection ends when the connection goes; had it
 * blocked the queue, the next one is offered. */
static void
test_disconnect (Fixture *f, gconstpointer data)
{
  const guint32 sizes[] = { 99, 1, 0 };
  guint64 orders[2];
  Offers offers = { 0 };
  g_autoptr(GDBusConnection) other = NULL;
  g_autoptr(ReserveReserve1) proxy = NULL;
  g_autoptr(GError) error = NULL;
  guint64 bob = 0, carol;
  guint32 position = 0;

  reserved_test_signals_watch (&offers, f->connection, "WaitlistOffered", on_offered);
  sell_out (f, "ticket", sizes, orders);
  other = reserved_test_connect (reserved_test_daemon_get_address (f->daemon));
  proxy = reserve_reserve1_proxy_new_sync (other,
                                           G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                             G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                           RESERVE_BUS_NAME, RESERVE_OBJECT_PATH, NULL, &error);
  g_assert_no_error (error);
  reserve_reserve1_call_join_waitlist_sync (proxy, "ticket", "bob", 5, join_options (0, TRUE, NULL),
                                            G_DBUS_CALL_FLAGS_NONE, -1, &bob, &position, NULL, NULL,
                                            &error);
  g_assert_no_error (error);
  g_assert_cmpuint (position, ==, 1);
  carol = join (f, "ticket", "carol", 1, 2);
  g_assert_cmpuint (reserved_test_cancel (&f->client, orders[1]), ==, 1);
  g_assert_cmpuint (position_of (f, carol, NULL), ==, 2);

  g_dbus_connection_close_sync (other, NULL, &error);
  g_assert_no_error (error);
  offers_wait (f, &offers, carol);
  g_assert_false (is_listed (f, bob));
  reserved_test_signals_clear (&offers);
}

/* Outside its sale window an item takes no new entries and offers
 * nothing, free units or not: the entries that joined while it was open
 * wait through the closed spell, and are offered their units, in order,
 * when it opens again. */
static void
test_sale_opens (Fixture *f, gconstpointer data)
{
  Offers offers = { 0 };
  gint64 later = g_get_real_time () + (gint64) 3600 * G_USEC_PER_SEC;
  guint64 sold, bob, carol;

  reserved_test_signals_watch (&offers, f->connection, "WaitlistOffered", on_offered);
  reserved_test_create_item (&f->client, "show", 3, 0);
  sold = reserved_test_buy (&f->client, "show", "alice", 3, NULL, NULL);
  bob = join (f, "show", "bob", 2, 1);
  carol = join (f, "show", "carol", 2, 2);

  /* Paused: alice's 3 come back and stay in stock. */
  reserved_test_set_sale_window (&f->client, "show", later, 0);
  g_assert_cmpuint (reserved_test_cancel (&f->client, sold), ==, 3);
  g_assert_cmpuint (position_of (f, bob, NULL), ==, 1);
  g_assert_cmpuint (position_of (f, carol, NULL), ==, 2);
  reserved_test_call_refused (&f->client, "JoinWaitlist",
                              reserved_test_request_args ("show", "dave", 1, NULL),
                              RESERVE_ERROR_NOT_ON_SALE, "not on sale");
  reserved_test_buy_refused (&f->client, "show", "eve", 1, NULL, RESERVE_ERROR_NOT_ON_SALE);

  reserved_test_set_sale_window (&f->client, "show", 0, 0);
  offers_wait (f, &offers, bob);
  /* carol's 2 are not there: 1 is left, owed to her. */
  g_assert_cmpuint (position_of (f, carol, NULL), ==, 1);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "show").remaining, ==, 1);
  reserved_test_buy_refused (&f->client, "show", "eve", 1, NULL, RESERVE_ERROR_SOLD_OUT);
  reserved_test_signals_clear (&offers);
}

static void
add_cases (void)
{
#define ADD       RESERVED_TEST_FIXTURE_ADD
#define ADD_CLOCK RESERVED_TEST_FIXTURE_ADD_CLOCK

  ADD ("/waitlist/served-at-once", test_served_at_once);
  ADD ("/waitlist/mixed-quantities", test_mixed_quantities);
  ADD_CLOCK ("/waitlist/lapse", test_lapse);
  ADD_CLOCK ("/waitlist/deadline", test_deadline);
  ADD ("/waitlist/leave", test_leave);
  ADD ("/waitlist/limits", test_limits);
  ADD ("/waitlist/bad-input", test_bad_input);
  ADD ("/waitlist/request-id", test_request_id);
  ADD ("/waitlist/disconnect", test_disconnect);
  ADD ("/waitlist/sale-opens", test_sale_opens);

#undef ADD
#undef ADD_CLOCK
}

RESERVED_TEST_MAIN (add_cases, NULL)
