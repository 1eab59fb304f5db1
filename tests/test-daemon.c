/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's D-Bus API, as docs/api.md states it, tested against the real
 * reserved on a private bus: every method through the generated proxy,
 * every limit just inside and just outside, every error and the order in
 * which errors win, and after each refused call that nothing changed.
 *
 * Each case gets a fresh bus, database and daemon, and ends by checking the
 * law and stopping the daemon with SIGTERM, which must exit 0. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"

typedef ReservedTestFixture Fixture;

static char *
repeat (const char *unit, guint times)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < times; i++)
    g_string_append (out, unit);
  return g_string_free (out, FALSE);
}

static GVariant *
options_with (const char *key, GVariant *value)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  g_variant_builder_add (&builder, "{sv}", key, value);
  return g_variant_builder_end (&builder);
}

static void
assert_order (GArray *orders,
              guint index,
              guint64 id,
              const char *item,
              guint32 quantity,
              gboolean active)
{
  ReservedTestOrder *order;

  g_assert_cmpuint (index, <, orders->len);
  order = &g_array_index (orders, ReservedTestOrder, index);
  g_assert_cmpuint (order->id, ==, id);
  g_assert_cmpstr (order->item, ==, item);
  g_assert_cmpuint (order->quantity, ==, quantity);
  g_assert_cmpint (order->active, ==, active);
}

/* --- Buy --------------------------------------------------------------- */

static void
test_buy_basic (Fixture *f, gconstpointer data)
{
  guint32 remaining = 0;
  guint64 first, second, third;
  ReservedTestItem item;

  /* A fresh database has the default item with the default capacity. */
  item = reserved_test_get_item (&f->client, RESERVE_DEFAULT_ITEM);
  g_assert_cmpuint (item.capacity, ==, RESERVE_DEFAULT_CAPACITY);
  g_assert_cmpuint (item.remaining, ==, RESERVE_DEFAULT_CAPACITY);
  g_assert_cmpuint (item.sold, ==, 0);
  g_assert_cmpuint (item.per_user_limit, ==, 0);

  first = reserved_test_buy (&f->client, "ticket", "alice", 1, NULL, &remaining);
  g_assert_cmpuint (remaining, ==, 99);
  second = reserved_test_buy (&f->client, "ticket", "bob", 3, NULL, &remaining);
  g_assert_cmpuint (remaining, ==, 96);
  third = reserved_test_buy (&f->client, "ticket", "alice", 2, NULL, &remaining);
  g_assert_cmpuint (remaining, ==, 94);
  g_assert_cmpuint (first, <, second);
  g_assert_cmpuint (second, <, third);

  item = reserved_test_get_item (&f->client, "ticket");
  g_assert_cmpuint (item.capacity, ==, 100);
  g_assert_cmpuint (item.remaining, ==, 94);
  g_assert_cmpuint (item.sold, ==, 6);
  reserved_test_assert_law (&f->client);
}

static void
test_buy_ids_never_reused (Fixture *f, gconstpointer data)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  guint64 last = 0;

  /* Cancelling the newest order must not free its id, not even across a
   * restart of the daemon. */
  for (guint round = 0; round < 3; round++)
    {
      for (guint i = 0; i < 4; i++)
        {
          guint64 id = reserved_test_buy (&f->client, "ticket", "alice", 1, NULL, NULL);

          g_assert_cmpuint (id, >, last);
          g_assert_false (g_hash_table_contains (seen, &id));
          g_hash_table_add (seen, g_memdup2 (&id, sizeof id));
          last = id;
        }
      reserved_test_cancel (&f->client, last);
      reserved_test_fixture_restart (f);
    }
}

static void
test_buy_quantity_limits (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint32 remaining = 0;
  guint64 order = 0;
  guint remaining_u = 0;

  reserved_test_create_item (&f->client, "big", 20000, 0);
  reserved_test_buy_refused (&f->client, "big", "alice", 0, NULL, RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy (&f->client, "big", "alice", 1, NULL, &remaining);
  g_assert_cmpuint (remaining, ==, 19999);
  reserved_test_buy (&f->client, "big", "alice", RESERVE_BUY_QUANTITY_MAX, NULL, &remaining);
  g_assert_cmpuint (remaining, ==, 9999);
  reserved_test_create_item (&f->client, "bigger", 30000, 0);
  reserved_test_buy_refused (&f->client, "bigger", "alice", RESERVE_BUY_QUANTITY_MAX + 1, NULL,
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, "bigger", "alice", G_MAXUINT32, NULL,
                             RESERVE_ERROR_INVALID_ARGUMENT);

  /* The message says which value was wrong. */
  reserve_reserve1_call_buy_sync (f->proxy, "bigger", "alice", 10001, reserved_test_options (NULL),
                                  G_DBUS_CALL_FLAGS_NONE, -1, &order, &remaining_u, NULL, &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "10001"));
}

static const char *const bad_item_names[] = {
  "",           ".hidden",    "-dash",    "_under",           ":colon",      "has space",
  "slash/name", "semi;colon", "quote'",   "back\\slash",      "caf\xc3\xa9", "tab\there",
  "new\nline",  "star*",      "per%cent", "\xf0\x9f\x8e\x9f", "ticket ",     " ticket",
  NULL,
};

static void
test_buy_item_name_limits (Fixture *f, gconstpointer data)
{
  g_autofree char *longest = repeat ("a", RESERVE_NAME_MAX_BYTES);
  g_autofree char *too_long = repeat ("a", RESERVE_NAME_MAX_BYTES + 1);
  const char *good[] = { "a", "7", "Z.z_9:-", "0.leading-digit", longest };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      guint32 remaining = 0;

      g_test_message ("good item name “%s”", good[i]);
      reserved_test_create_item (&f->client, good[i], 2, 0);
      reserved_test_buy (&f->client, good[i], "alice", 1, NULL, &remaining);
      g_assert_cmpuint (remaining, ==, 1);
      g_assert_cmpuint (reserved_test_get_item (&f->client, good[i]).remaining, ==, 1);
      g_assert_cmpuint (reserved_test_restock (&f->client, good[i], 1), ==, 2);
    }

  /* A bad name is InvalidArgument everywhere, before the daemon even asks
   * whether such an item exists. */
  reserved_test_create_item_refused (&f->client, too_long, 1, NULL, RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, too_long, "alice", 1, NULL,
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_get_item_refused (&f->client, too_long, RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_restock_refused (&f->client, too_long, 1, RESERVE_ERROR_INVALID_ARGUMENT);
  for (guint i = 0; bad_item_names[i] != NULL; i++)
    {
      const char *name = bad_item_names[i];

      g_test_message ("bad item name “%s”", name);
      reserved_test_create_item_refused (&f->client, name, 1, NULL, RESERVE_ERROR_INVALID_ARGUMENT);
      reserved_test_buy_refused (&f->client, name, "alice", 1, NULL,
                                 RESERVE_ERROR_INVALID_ARGUMENT);
      reserved_test_get_item_refused (&f->client, name, RESERVE_ERROR_INVALID_ARGUMENT);
      reserved_test_restock_refused (&f->client, name, 1, RESERVE_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_buy_user_limits (Fixture *f, gconstpointer data)
{
  g_autofree char *longest = repeat ("u", RESERVE_NAME_MAX_BYTES);
  g_autofree char *too_long = repeat ("u", RESERVE_NAME_MAX_BYTES + 1);
  /* 64 bytes in 16 characters: the limit is in bytes. */
  g_autofree char *emoji_longest = repeat ("\xf0\x9f\x8e\x9f", 16);
  g_autofree char *emoji_too_long = repeat ("\xf0\x9f\x8e\x9f", 17);
  g_autofree char *accents_longest = repeat ("\xc3\xa9", 32);
  g_autofree char *accents_too_long = g_strconcat (accents_longest, "e", NULL);
  const char *good[] = {
    "a",
    longest,
    emoji_longest,
    accents_longest,
    "no\xc2\xa0"
    "break", /* U+00A0 is the first character after the C1 controls */
    "tilde~",
    "Alice Smith",
  };
  const char *bad[] = {
    "",
    too_long,
    emoji_too_long,
    accents_too_long,
    "\x01",
    "tab\there",
    "new\nline",
    "cr\r",
    "esc\x1b[31m",
    "del\x7f",
    "c1\xc2\x80",
    "nel\xc2\x85",
    "c1-last\xc2\x9f",
    "\x1f",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GArray) orders = NULL;
      guint64 id;

      g_test_message ("good user name “%s”", good[i]);
      id = reserved_test_buy (&f->client, "ticket", good[i], 1, NULL, NULL);
      orders = reserved_test_list_orders (&f->client, good[i]);
      g_assert_cmpuint (orders->len, ==, 1);
      assert_order (orders, 0, id, "ticket", 1, TRUE);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *described = g_strescape (bad[i], NULL);

      g_test_message ("bad user name “%s”", described);
      reserved_test_buy_refused (&f->client, "ticket", bad[i], 1, NULL,
                                 RESERVE_ERROR_INVALID_ARGUMENT);
      if (*bad[i] != '\0')
        reserved_test_list_orders_refused (&f->client, bad[i], RESERVE_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_buy_user_verbatim (Fixture *f, gconstpointer data)
{
  const char *users[] = {
    "'; DROP TABLE orders; --",
    "Robert'); DROP TABLE items;--",
    "\"double\" 'single' `back`",
    "%s%n%x",
    "a%",
    "_",
    "\xf0\x9f\x8e\x9f ticket fan \xf0\x9f\x98\x80",
    "\xe5\xb1\xb1\xe7\x94\xb0",
    "\\x01 is not a control character",
  };
  guint64 ids[G_N_ELEMENTS (users)];

  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    ids[i] = reserved_test_buy (&f->client, "ticket", users[i], 1, NULL, NULL);

  /* Stored and matched as the exact text: no quoting accident, no LIKE
   * pattern ("a%" and "_" match nobody else), nothing dropped. */
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autoptr(GArray) orders = reserved_test_list_orders (&f->client, users[i]);

      g_test_message ("user “%s”", users[i]);
      g_assert_cmpuint (orders->len, ==, 1);
      assert_order (orders, 0, ids[i], "ticket", 1, TRUE);
    }
  {
    g_autoptr(GArray) all = reserved_test_list_orders (&f->client, "");
    g_autoptr(GArray) none = reserved_test_list_orders (&f->client, "'");

    g_assert_cmpuint (all->len, ==, G_N_ELEMENTS (users));
    g_assert_cmpuint (none->len, ==, 0);
  }
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").remaining, ==,
                    100 - G_N_ELEMENTS (users));

  /* The tables are still there after a restart. */
  reserved_test_fixture_restart (f);
  {
    g_autoptr(GArray) orders = reserved_test_list_orders (&f->client, users[0]);

    g_assert_cmpuint (orders->len, ==, 1);
    assert_order (orders, 0, ids[0], "ticket", 1, TRUE);
  }
}

static void
test_buy_request_id_limits (Fixture *f, gconstpointer data)
{
  g_autofree char *longest = repeat ("r", RESERVE_REQUEST_ID_MAX_BYTES);
  g_autofree char *too_long = repeat ("r", RESERVE_REQUEST_ID_MAX_BYTES + 1);
  guint32 remaining = 0;

  reserved_test_buy (&f->client, "ticket", "alice", 1, "x", &remaining);
  g_assert_cmpuint (remaining, ==, 99);
  reserved_test_buy (&f->client, "ticket", "alice", 1, longest, &remaining);
  g_assert_cmpuint (remaining, ==, 98);
  reserved_test_buy_refused (&f->client, "ticket", "alice", 1, reserved_test_options (too_long),
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, "ticket", "alice", 1, reserved_test_options (""),
                             RESERVE_ERROR_INVALID_ARGUMENT);
}

static void
test_buy_options (Fixture *f, gconstpointer data)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  guint32 remaining = 0;

  /* Unknown keys (typos among them) and wrongly typed values. */
  reserved_test_buy_refused (&f->client, "ticket", "alice", 1,
                             options_with ("request-id", g_variant_new_string ("r1")),
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, "ticket", "alice", 1,
                             options_with ("Request_Id", g_variant_new_string ("r1")),
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, "ticket", "alice", 1,
                             options_with ("per_user_limit", g_variant_new_uint32 (1)),
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, "ticket", "alice", 1,
                             options_with ("request_id", g_variant_new_int32 (1)),
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, "ticket", "alice", 1,
                             options_with ("request_id", g_variant_new_objv (NULL, 0)),
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, "ticket", "alice", 1,
                             options_with ("request_id",
                                           g_variant_new_variant (g_variant_new_string ("r1"))),
                             RESERVE_ERROR_INVALID_ARGUMENT);

  /* A good request_id next to a bad key: refused as a whole, so the
   * request_id was not used up and may go with other arguments later. */
  g_variant_builder_add (&builder, "{sv}", "request_id", g_variant_new_string ("r1"));
  g_variant_builder_add (&builder, "{sv}", "bogus", g_variant_new_boolean (TRUE));
  reserved_test_buy_refused (&f->client, "ticket", "alice", 1, g_variant_builder_end (&builder),
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy (&f->client, "ticket", "bob", 2, "r1", &remaining);
  g_assert_cmpuint (remaining, ==, 98);
}

static GVariant *
buy_with_details (Fixture *f, const char *user, guint32 quantity, const char *request_id)
{
  g_autoptr(GError) error = NULL;
  GVariant *details = NULL;

  g_assert_true (reserve_reserve1_call_buy_with_details_sync (f->client.proxy, "ticket", user,
                                                              quantity,
                                                              reserved_test_options (request_id),
                                                              G_DBUS_CALL_FLAGS_NONE, -1, &details,
                                                              NULL, &error));
  g_assert_no_error (error);
  return details;
}

static void
assert_details (GVariant *details,
                guint64 order,
                guint32 remaining,
                gboolean replayed,
                const char *state)
{
  guint64 got_order = 0;
  guint32 got_remaining = 0, quantity = 0;
  gboolean got_replayed = !replayed;
  const char *got_state = NULL, *item = NULL;
  gint64 created = 0;

  g_assert_true (g_variant_lookup (details, "order", "t", &got_order));
  g_assert_true (g_variant_lookup (details, "remaining", "u", &got_remaining));
  g_assert_true (g_variant_lookup (details, "replayed", "b", &got_replayed));
  g_assert_true (g_variant_lookup (details, "state", "&s", &got_state));
  g_assert_true (g_variant_lookup (details, "item", "&s", &item));
  g_assert_true (g_variant_lookup (details, "quantity", "u", &quantity));
  g_assert_true (g_variant_lookup (details, "created", "x", &created));
  if (order != 0)
    g_assert_cmpuint (got_order, ==, order);
  g_assert_cmpuint (got_remaining, ==, remaining);
  g_assert_cmpint (got_replayed, ==, replayed);
  g_assert_cmpstr (got_state, ==, state);
  g_assert_cmpstr (item, ==, "ticket");
  g_assert_cmpint (created, >, 0);
}

/* BuyWithDetails tells a replay from a sale, and a replayed order's state
 * now: Buy's answer to a replay of a cancelled order looks like a sale. */
static void
test_buy_with_details (Fixture *f, gconstpointer data)
{
  g_autoptr(GVariant) bought = buy_with_details (f, "dave", 2, "k1");
  g_autoptr(GVariant) again = NULL;
  g_autoptr(GVariant) after_cancel = NULL;
  g_autoptr(GVariant) plain = NULL;
  guint64 order = 0;

  g_assert_true (g_variant_lookup (bought, "order", "t", &order));
  assert_details (bought, order, 98, FALSE, "active");
  again = buy_with_details (f, "dave", 2, "k1");
  assert_details (again, order, 98, TRUE, "active");

  g_assert_cmpuint (reserved_test_cancel (&f->client, order), ==, 100);
  after_cancel = buy_with_details (f, "dave", 2, "k1");
  assert_details (after_cancel, order, 100, TRUE, "cancelled");

  /* The key is shared with Buy: both name the same first order. */
  g_assert_cmpuint (reserved_test_buy (&f->client, "ticket", "dave", 2, "k1", NULL), ==, order);
  plain = buy_with_details (f, "erin", 1, NULL);
  assert_details (plain, 0, 99, FALSE, "active");
  reserved_test_buy_refused (&f->client, "ticket", "dave", 0, NULL, RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_assert_law (&f->client);
}

static void
test_buy_replay (Fixture *f, gconstpointer data)
{
  guint32 remaining = 0;
  guint64 first, again, other;

  first = reserved_test_buy (&f->client, "ticket", "alice", 2, "req-1", &remaining);
  g_assert_cmpuint (remaining, ==, 98);
  other = reserved_test_buy (&f->client, "ticket", "bob", 1, "req-2", &remaining);
  g_assert_cmpuint (remaining, ==, 97);
  g_assert_cmpuint (other, !=, first);

  /* The replay takes nothing and answers the first order with the stock
   * as it is now, not as it was then. */
  again = reserved_test_buy (&f->client, "ticket", "alice", 2, "req-1", &remaining);
  g_assert_cmpuint (again, ==, first);
  g_assert_cmpuint (remaining, ==, 97);
  again = reserved_test_buy (&f->client, "ticket", "alice", 2, "req-1", &remaining);
  g_assert_cmpuint (again, ==, first);
  g_assert_cmpuint (remaining, ==, 97);

  /* Whatever became of the order since: a cancelled one stays cancelled,
   * and no new order is made. */
  g_assert_cmpuint (reserved_test_cancel (&f->client, first), ==, 99);
  again = reserved_test_buy (&f->client, "ticket", "alice", 2, "req-1", &remaining);
  g_assert_cmpuint (again, ==, first);
  g_assert_cmpuint (remaining, ==, 99);
  {
    g_autoptr(GArray) orders = reserved_test_list_orders (&f->client, "alice");

    g_assert_cmpuint (orders->len, ==, 1);
    assert_order (orders, 0, first, "ticket", 2, FALSE);
  }

  /* Remembered across a restart: a client retrying after a crash. */
  reserved_test_fixture_restart (f);
  again = reserved_test_buy (&f->client, "ticket", "bob", 1, "req-2", &remaining);
  g_assert_cmpuint (again, ==, other);
  g_assert_cmpuint (remaining, ==, 99);
  {
    g_autoptr(GArray) orders = reserved_test_list_orders (&f->client, "");

    g_assert_cmpuint (orders->len, ==, 2);
  }
}

static void
test_buy_replay_different_args (Fixture *f, gconstpointer data)
{
  guint64 first;

  reserved_test_create_item (&f->client, "other", 10, 0);
  first = reserved_test_buy (&f->client, "ticket", "alice", 2, "req-1", NULL);
  reserved_test_buy_refused (&f->client, "ticket", "alice", 3, reserved_test_options ("req-1"),
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, "ticket", "bob", 2, reserved_test_options ("req-1"),
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, "other", "alice", 2, reserved_test_options ("req-1"),
                             RESERVE_ERROR_INVALID_ARGUMENT);
  /* Different arguments on a missing item: the reuse is the first error. */
  reserved_test_buy_refused (&f->client, "missing", "alice", 2, reserved_test_options ("req-1"),
                             RESERVE_ERROR_INVALID_ARGUMENT);
  /* The original still replays. */
  g_assert_cmpuint (reserved_test_buy (&f->client, "ticket", "alice", 2, "req-1", NULL), ==, first);
}

static void
test_buy_replay_sold_out (Fixture *f, gconstpointer data)
{
  guint32 remaining = 1;
  guint64 first;

  reserved_test_create_item (&f->client, "last", 1, 0);
  first = reserved_test_buy (&f->client, "last", "alice", 1, "only", &remaining);
  g_assert_cmpuint (remaining, ==, 0);
  /* Sold out now, but the retry of a sale that happened is not a sale. */
  g_assert_cmpuint (reserved_test_buy (&f->client, "last", "alice", 1, "only", &remaining), ==,
                    first);
  g_assert_cmpuint (remaining, ==, 0);
  reserved_test_buy_refused (&f->client, "last", "alice", 1, reserved_test_options ("another"),
                             RESERVE_ERROR_SOLD_OUT);
  /* A refused Buy does not use its request_id up. */
  reserved_test_restock (&f->client, "last", 1);
  g_assert_cmpuint (reserved_test_buy (&f->client, "last", "bob", 1, "another", &remaining), !=,
                    first);
  g_assert_cmpuint (remaining, ==, 0);
}

static void
test_buy_per_user_limit (Fixture *f, gconstpointer data)
{
  guint64 two;
  guint32 remaining = 0;

  reserved_test_create_item (&f->client, "limited", 100, 3);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "limited").per_user_limit, ==, 3);

  two = reserved_test_buy (&f->client, "limited", "alice", 2, NULL, NULL);
  reserved_test_buy_refused (&f->client, "limited", "alice", 2, NULL, RESERVE_ERROR_LIMIT_EXCEEDED);
  reserved_test_buy (&f->client, "limited", "alice", 1, NULL, NULL); /* exactly at the limit */
  reserved_test_buy_refused (&f->client, "limited", "alice", 1, NULL, RESERVE_ERROR_LIMIT_EXCEEDED);
  /* The limit counts the user name, not the caller: the same caller buys
   * for bob, and "Alice" is not "alice". */
  reserved_test_buy (&f->client, "limited", "bob", 3, NULL, NULL);
  reserved_test_buy (&f->client, "limited", "Alice", 3, NULL, NULL);
  reserved_test_buy_refused (&f->client, "limited", "carol", 4, NULL, RESERVE_ERROR_LIMIT_EXCEEDED);
  /* Cancelled orders do not count. */
  reserved_test_cancel (&f->client, two);
  reserved_test_buy (&f->client, "limited", "alice", 2, NULL, &remaining);
  g_assert_cmpuint (remaining, ==, 100 - 9);
  reserved_test_buy_refused (&f->client, "limited", "alice", 1, NULL, RESERVE_ERROR_LIMIT_EXCEEDED);
  /* The limit is per item. */
  reserved_test_buy (&f->client, "ticket", "alice", 50, NULL, NULL);

  /* 0 means no limit. */
  reserved_test_create_item (&f->client, "unlimited", 20000, 0);
  reserved_test_buy (&f->client, "unlimited", "alice", RESERVE_BUY_QUANTITY_MAX, NULL, NULL);
  reserved_test_buy (&f->client, "unlimited", "alice", RESERVE_BUY_QUANTITY_MAX, NULL, NULL);

  /* And it survives a restart. */
  reserved_test_fixture_restart (f);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "limited").per_user_limit, ==, 3);
  reserved_test_buy_refused (&f->client, "limited", "alice", 2, NULL, RESERVE_ERROR_LIMIT_EXCEEDED);
}

static void
test_buy_sold_out (Fixture *f, gconstpointer data)
{
  guint32 remaining = 0;

  reserved_test_create_item (&f->client, "three", 3, 0);
  reserved_test_buy (&f->client, "three", "alice", 2, NULL, &remaining);
  g_assert_cmpuint (remaining, ==, 1);
  /* All or none: two wanted, one left, nothing taken. */
  reserved_test_buy_refused (&f->client, "three", "bob", 2, NULL, RESERVE_ERROR_SOLD_OUT);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "three").remaining, ==, 1);
  reserved_test_buy (&f->client, "three", "bob", 1, NULL, &remaining);
  g_assert_cmpuint (remaining, ==, 0);
  reserved_test_buy_refused (&f->client, "three", "carol", 1, NULL, RESERVE_ERROR_SOLD_OUT);

  /* Capacity 0: an item not on sale yet. */
  reserved_test_create_item (&f->client, "soon", 0, 0);
  reserved_test_buy_refused (&f->client, "soon", "alice", 1, NULL, RESERVE_ERROR_SOLD_OUT);
  g_assert_cmpuint (reserved_test_restock (&f->client, "soon", 1), ==, 1);
  reserved_test_buy (&f->client, "soon", "alice", 1, NULL, &remaining);
  g_assert_cmpuint (remaining, ==, 0);
}

static void
test_buy_no_such_item (Fixture *f, gconstpointer data)
{
  reserved_test_buy_refused (&f->client, "nope", "alice", 1, NULL, RESERVE_ERROR_NO_SUCH_ITEM);
  reserved_test_get_item_refused (&f->client, "nope", RESERVE_ERROR_NO_SUCH_ITEM);
  reserved_test_restock_refused (&f->client, "nope", 1, RESERVE_ERROR_NO_SUCH_ITEM);
  /* Names are exact: "Ticket" is not "ticket". */
  reserved_test_buy_refused (&f->client, "Ticket", "alice", 1, NULL, RESERVE_ERROR_NO_SUCH_ITEM);
}

/* --- Cancel ------------------------------------------------------------ */

static void
assert_info (GVariant *info, const char *key, GVariant *expected)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (info, key, NULL);
  g_autoptr(GVariant) wanted = g_variant_ref_sink (expected);

  g_assert_nonnull (value);
  g_assert_cmpvariant (value, wanted);
}

/* GetOrder(@order): the reply's keys, or the error's code. */
static GVariant *
get_order (Fixture *f, guint64 order, GError **error)
{
  GVariant *info = NULL;

  if (!reserve_reserve1_call_get_order_sync (f->client.proxy, order, G_DBUS_CALL_FLAGS_NONE, -1,
                                             &info, NULL, error))
    return NULL;
  return info;
}

/* One order as it stands, for its buyer (here an admin too), active and
 * then cancelled; an id never given is NoSuchOrder. */
static void
test_get_order (Fixture *f, gconstpointer data)
{
  const char *const keys[] = { "created", "item", "order", "quantity", "state", "user", NULL };
  g_autoptr(GVariant) active = NULL;
  g_autoptr(GVariant) cancelled = NULL;
  g_autoptr(GError) error = NULL;
  guint64 id = reserved_test_buy (&f->client, "ticket", "Zoë ☕", 3, NULL, NULL);
  gint64 now = g_get_real_time ();
  gint64 created = 0;
  GVariantIter iter;
  const char *key;
  guint n = 0;

  active = get_order (f, id, &error);
  g_assert_no_error (error);
  g_variant_iter_init (&iter, active);
  while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
    {
      g_assert_true (g_strv_contains (keys, key));
      n++;
    }
  g_assert_cmpuint (n, ==, g_strv_length ((char **) keys));
  assert_info (active, "order", g_variant_new_uint64 (id));
  assert_info (active, "item", g_variant_new_string ("ticket"));
  assert_info (active, "user", g_variant_new_string ("Zoë ☕"));
  assert_info (active, "quantity", g_variant_new_uint32 (3));
  assert_info (active, "state", g_variant_new_string ("active"));
  g_assert_true (g_variant_lookup (active, "created", "x", &created));
  g_assert_cmpint (created, <=, now);
  g_assert_cmpint (created, >, now - (gint64) 3600 * G_USEC_PER_SEC);

  reserved_test_cancel (&f->client, id);
  cancelled = get_order (f, id, &error);
  g_assert_no_error (error);
  assert_info (cancelled, "state", g_variant_new_string ("cancelled"));

  g_assert_null (get_order (f, id + 1, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ORDER);
  g_clear_error (&error);
  g_assert_null (get_order (f, 0, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ORDER);
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  guint64 a, b, c;

  reserved_test_create_item (&f->client, "other", 10, 0);
  a = reserved_test_buy (&f->client, "ticket", "alice", 3, NULL, NULL);
  b = reserved_test_buy (&f->client, "other", "alice", 4, NULL, NULL);
  c = reserved_test_buy (&f->client, "ticket", "bob", 1, NULL, NULL);

  /* Cancel answers the stock of the order's own item. */
  g_assert_cmpuint (reserved_test_cancel (&f->client, a), ==, 99);
  g_assert_cmpuint (reserved_test_cancel (&f->client, b), ==, 10);
  reserved_test_cancel_refused (&f->client, a, RESERVE_ERROR_ALREADY_CANCELLED);
  reserved_test_cancel_refused (&f->client, b, RESERVE_ERROR_ALREADY_CANCELLED);
  reserved_test_cancel_refused (&f->client, 0, RESERVE_ERROR_NO_SUCH_ORDER);
  reserved_test_cancel_refused (&f->client, c + 1, RESERVE_ERROR_NO_SUCH_ORDER);
  reserved_test_cancel_refused (&f->client, G_MAXINT64, RESERVE_ERROR_NO_SUCH_ORDER);
  reserved_test_cancel_refused (&f->client, G_MAXUINT64, RESERVE_ERROR_NO_SUCH_ORDER);

  {
    g_autoptr(GArray) orders = reserved_test_list_orders (&f->client, "alice");

    g_assert_cmpuint (orders->len, ==, 2);
    assert_order (orders, 0, a, "ticket", 3, FALSE);
    assert_order (orders, 1, b, "other", 4, FALSE);
  }
  /* Cancelled for good, also after a restart. */
  reserved_test_fixture_restart (f);
  reserved_test_cancel_refused (&f->client, a, RESERVE_ERROR_ALREADY_CANCELLED);
  g_assert_cmpuint (reserved_test_cancel (&f->client, c), ==, 100);
}

/* --- GetItem, ListItems, ListOrders ------------------------------------ */

static void
test_get_item (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) info = NULL;
  const char *keys[] = { "capacity", "remaining", "sold", "per_user_limit" };
  ReservedTestItem item;
  guint64 order;

  reserve_reserve1_call_get_item_sync (f->proxy, "ticket", G_DBUS_CALL_FLAGS_NONE, -1, &info, NULL,
                                       &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_is_of_type (info, G_VARIANT_TYPE_VARDICT));
  {
    g_autoptr(GVariant) name = g_variant_lookup_value (info, "name", NULL);

    g_assert_nonnull (name);
    g_assert_true (g_variant_is_of_type (name, G_VARIANT_TYPE_STRING));
  }
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(GVariant) value = g_variant_lookup_value (info, keys[i], NULL);

      g_assert_nonnull (value);
      g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32));
    }

  reserved_test_create_item (&f->client, "limited", 50, 4);
  order = reserved_test_buy (&f->client, "limited", "alice", 3, NULL, NULL);
  reserved_test_buy (&f->client, "limited", "bob", 4, NULL, NULL);
  reserved_test_restock (&f->client, "limited", 10);
  reserved_test_cancel (&f->client, order);
  item = reserved_test_get_item (&f->client, "limited");
  g_assert_cmpuint (item.capacity, ==, 60);
  g_assert_cmpuint (item.remaining, ==, 56);
  g_assert_cmpuint (item.sold, ==, 4);
  g_assert_cmpuint (item.per_user_limit, ==, 4);

  reserved_test_get_item_refused (&f->client, "missing", RESERVE_ERROR_NO_SUCH_ITEM);
  reserved_test_get_item_refused (&f->client, ".bad", RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_get_item_refused (&f->client, "", RESERVE_ERROR_INVALID_ARGUMENT);
}

static void
test_list_items (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) items = NULL;
  const char *names[] = { "zulu", "Alpha", "bravo", "10", "alpha", "a.b", "a-b", "a:b", "a_b" };
  g_autofree char *previous = NULL;
  GVariantIter iter;
  const char *name = NULL;
  guint32 capacity = 0, remaining = 0;
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    reserved_test_create_item (&f->client, names[i], 10 + i, 0);
  reserved_test_buy (&f->client, "bravo", "alice", 2, NULL, NULL);

  reserve_reserve1_call_list_items_sync (f->proxy, G_DBUS_CALL_FLAGS_NONE, -1, &items, NULL,
                                         &error);
  g_assert_no_error (error);
  g_variant_iter_init (&iter, items);
  while (g_variant_iter_next (&iter, "(&suu)", &name, &capacity, &remaining))
    {
      ReservedTestItem item = reserved_test_get_item (&f->client, name);

      /* Sorted by name, bytewise. */
      if (previous != NULL)
        g_assert_cmpint (strcmp (previous, name), <, 0);
      g_free (previous);
      previous = g_strdup (name);
      g_assert_cmpuint (capacity, ==, item.capacity);
      g_assert_cmpuint (remaining, ==, item.remaining);
      n++;
    }
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (names) + 1); /* and the default item */
  g_assert_cmpuint (reserved_test_get_item (&f->client, "bravo").remaining, ==, 10);
}

static void
test_list_orders (Fixture *f, gconstpointer data)
{
  g_autoptr(GArray) alice = NULL;
  g_autoptr(GArray) all = NULL;
  g_autoptr(GArray) nobody = NULL;
  gint64 before, after;
  guint64 a1, a2, a3, b1;

  reserved_test_create_item (&f->client, "other", 10, 0);
  before = g_get_real_time ();
  a1 = reserved_test_buy (&f->client, "ticket", "alice", 1, NULL, NULL);
  b1 = reserved_test_buy (&f->client, "ticket", "bob", 5, NULL, NULL);
  a2 = reserved_test_buy (&f->client, "other", "alice", 2, NULL, NULL);
  a3 = reserved_test_buy (&f->client, "ticket", "alice", 3, NULL, NULL);
  after = g_get_real_time ();
  reserved_test_cancel (&f->client, a2);

  alice = reserved_test_list_orders (&f->client, "alice");
  g_assert_cmpuint (alice->len, ==, 3);
  assert_order (alice, 0, a1, "ticket", 1, TRUE);
  assert_order (alice, 1, a2, "other", 2, FALSE);
  assert_order (alice, 2, a3, "ticket", 3, TRUE);

  all = reserved_test_list_orders (&f->client, "");
  g_assert_cmpuint (all->len, ==, 4);
  for (guint i = 0; i < all->len; i++)
    {
      ReservedTestOrder *order = &g_array_index (all, ReservedTestOrder, i);

      /* Microseconds since the epoch, taken while the calls ran (give or
       * take a second, so that a clock adjustment cannot fail the test).
       * Seconds or milliseconds would be off by orders of magnitude. */
      g_assert_cmpint (order->created, >=, before - G_USEC_PER_SEC);
      g_assert_cmpint (order->created, <=, after + G_USEC_PER_SEC);
      if (i > 0)
        {
          ReservedTestOrder *prev = &g_array_index (all, ReservedTestOrder, i - 1);

          /* Oldest first, ties by id. */
          g_assert_cmpint (prev->created, <=, order->created);
          if (prev->created == order->created)
            g_assert_cmpuint (prev->id, <, order->id);
        }
    }
  g_assert_cmpuint (g_array_index (all, ReservedTestOrder, 1).id, ==, b1);

  nobody = reserved_test_list_orders (&f->client, "nobody-bought");
  g_assert_cmpuint (nobody->len, ==, 0);
  reserved_test_list_orders_refused (&f->client, "bad\x01", RESERVE_ERROR_INVALID_ARGUMENT);
}

/* --- CreateItem, Restock ----------------------------------------------- */

static void
test_create_item (Fixture *f, gconstpointer data)
{
  ReservedTestItem item;

  reserved_test_create_item (&f->client, "zero", 0, 0);
  item = reserved_test_get_item (&f->client, "zero");
  g_assert_cmpuint (item.capacity, ==, 0);
  g_assert_cmpuint (item.remaining, ==, 0);

  reserved_test_create_item (&f->client, "max", RESERVE_CAPACITY_MAX, 0);
  item = reserved_test_get_item (&f->client, "max");
  g_assert_cmpuint (item.capacity, ==, RESERVE_CAPACITY_MAX);
  g_assert_cmpuint (item.remaining, ==, RESERVE_CAPACITY_MAX);
  reserved_test_create_item_refused (&f->client, "over", RESERVE_CAPACITY_MAX + 1, NULL,
                                     RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_create_item_refused (&f->client, "over", G_MAXUINT32, NULL,
                                     RESERVE_ERROR_INVALID_ARGUMENT);

  /* An existing item keeps its stock. */
  reserved_test_buy (&f->client, "ticket", "alice", 1, NULL, NULL);
  reserved_test_create_item_refused (&f->client, "ticket", 5, NULL, RESERVE_ERROR_ITEM_EXISTS);
  reserved_test_create_item_refused (&f->client, "max", 5, NULL, RESERVE_ERROR_ITEM_EXISTS);

  /* Options: per_user_limit (u) and nothing else. */
  {
    GVariant *refused[] = {
      options_with ("per_user_limit", g_variant_new_int32 (2)),
      options_with ("per_user_limit", g_variant_new_string ("2")),
      options_with ("per_user_limit", g_variant_new_uint64 (2)),
      options_with ("per-user-limit", g_variant_new_uint32 (2)),
      options_with ("request_id", g_variant_new_string ("r")),
    };

    for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
      reserved_test_create_item_refused (&f->client, "opt", 5, refused[i],
                                         RESERVE_ERROR_INVALID_ARGUMENT);
  }
  reserved_test_get_item_refused (&f->client, "opt", RESERVE_ERROR_NO_SUCH_ITEM);
  reserved_test_create_item (&f->client, "opt", 5, 2);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "opt").per_user_limit, ==, 2);

  /* Durable. */
  reserved_test_fixture_restart (f);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "max").capacity, ==, RESERVE_CAPACITY_MAX);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "opt").per_user_limit, ==, 2);
}

static void
test_restock (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ReservedTestItem item;
  guint remaining_u = 0;

  reserved_test_create_item (&f->client, "stock", 10, 0);
  reserved_test_buy (&f->client, "stock", "alice", 4, NULL, NULL);
  g_assert_cmpuint (reserved_test_restock (&f->client, "stock", 1), ==, 7);
  item = reserved_test_get_item (&f->client, "stock");
  g_assert_cmpuint (item.capacity, ==, 11);
  g_assert_cmpuint (item.remaining, ==, 7);
  g_assert_cmpuint (reserved_test_restock (&f->client, "stock", RESERVE_RESTOCK_QUANTITY_MAX), ==,
                    7 + RESERVE_RESTOCK_QUANTITY_MAX);
  reserved_test_restock_refused (&f->client, "stock", 0, RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_restock_refused (&f->client, "stock", RESERVE_RESTOCK_QUANTITY_MAX + 1,
                                 RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_restock_refused (&f->client, "stock", G_MAXUINT32, RESERVE_ERROR_INVALID_ARGUMENT);

  /* Capacity may reach 1000000000 but not pass it. */
  reserved_test_create_item (&f->client, "nearly", RESERVE_CAPACITY_MAX - 1, 0);
  reserved_test_buy (&f->client, "nearly", "alice", 5, NULL, NULL);
  reserved_test_restock_refused (&f->client, "nearly", 2, RESERVE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (reserved_test_restock (&f->client, "nearly", 1), ==, RESERVE_CAPACITY_MAX - 5);
  reserved_test_restock_refused (&f->client, "nearly", 1, RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_create_item (&f->client, "far",
                             RESERVE_CAPACITY_MAX - RESERVE_RESTOCK_QUANTITY_MAX + 1, 0);
  reserved_test_restock_refused (&f->client, "far", RESERVE_RESTOCK_QUANTITY_MAX,
                                 RESERVE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (reserved_test_restock (&f->client, "far", RESERVE_RESTOCK_QUANTITY_MAX - 1), ==,
                    RESERVE_CAPACITY_MAX);

  reserve_reserve1_call_restock_sync (f->proxy, "stock", 1000001, G_DBUS_CALL_FLAGS_NONE, -1,
                                      &remaining_u, NULL, &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "1000001"));
}

/* --- RetireItem, SetPerUserLimit ---------------------------------------- */

static gboolean
listed (ReservedTestClient *client, const char *item)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) items = NULL;
  g_autoptr(GVariant) page = NULL;
  g_autofree char *next = NULL;
  gboolean in_list = FALSE, in_page = FALSE;
  GVariantIter iter;
  const char *name = NULL;

  reserve_reserve1_call_list_items_sync (client->proxy, G_DBUS_CALL_FLAGS_NONE, -1, &items, NULL,
                                         &error);
  g_assert_no_error (error);
  g_variant_iter_init (&iter, items);
  while (g_variant_iter_next (&iter, "(&suu)", &name, NULL, NULL))
    in_list |= g_str_equal (name, item);
  reserve_reserve1_call_list_items_page_sync (client->proxy, g_variant_new ("a{sv}", NULL),
                                              G_DBUS_CALL_FLAGS_NONE, -1, &page, &next, NULL,
                                              &error);
  g_assert_no_error (error);
  g_variant_iter_init (&iter, page);
  while (g_variant_iter_next (&iter, "(&suuu)", &name, NULL, NULL, NULL))
    in_page |= g_str_equal (name, item);
  g_assert_true (in_list == in_page);
  return in_list;
}

static void
assert_message (const GError *error, const char *words)
{
  if (strstr (error->message, words) == NULL)
    g_error ("“%s” does not say “%s”", error->message, words);
}

static void
test_retire_item (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) details = NULL;
  g_autoptr(GVariant) before = NULL;
  guint64 alice, bob, replayed, hold_id = 0, confirmed = 0;
  guint32 remaining = 0;
  ReservedTestItem item;

  reserved_test_create_item (&f->client, "show", 10, 0);
  alice = reserved_test_buy (&f->client, "show", "alice", 3, NULL, NULL);
  bob = reserved_test_buy (&f->client, "show", "bob", 2, "r1", NULL);
  reserve_reserve1_call_hold_sync (f->proxy, "show", "carol", 1,
                                   options_with (RESERVE_OPTION_TTL, g_variant_new_uint32 (600)),
                                   G_DBUS_CALL_FLAGS_NONE, -1, &hold_id, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (listed (&f->client, "show"));

  reserved_test_retire_item (&f->client, "show");
  item = reserved_test_get_item (&f->client, "show");
  g_assert_true (item.retired);
  g_assert_cmpuint (item.capacity, ==, 10);
  g_assert_cmpuint (item.remaining, ==, 4);
  g_assert_cmpuint (item.sold, ==, 5);
  g_assert_cmpuint (item.held, ==, 1);
  g_assert_cmpuint (item.available, ==, 0);
  g_assert_false (listed (&f->client, "show"));
  g_assert_false (reserved_test_get_item (&f->client, RESERVE_DEFAULT_ITEM).retired);

  /* Sold no more, with a message that says why, and nothing changed. */
  reserved_test_buy_refused (&f->client, "show", "dave", 1, NULL, RESERVE_ERROR_NO_SUCH_ITEM);
  before = reserved_test_snapshot (&f->client);
  g_assert_false (reserve_reserve1_call_buy_with_details_sync (f->proxy, "show", "dave", 1,
                                                               g_variant_new ("a{sv}", NULL),
                                                               G_DBUS_CALL_FLAGS_NONE, -1, &details,
                                                               NULL, &error));
  reserved_test_assert_api_error (error, RESERVE_ERROR_NO_SUCH_ITEM);
  assert_message (error, "retired");
  g_clear_error (&error);
  g_assert_false (
    reserve_reserve1_call_hold_sync (f->proxy, "show", "dave", 1,
                                     options_with (RESERVE_OPTION_TTL, g_variant_new_uint32 (60)),
                                     G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL, NULL, &error));
  reserved_test_assert_api_error (error, RESERVE_ERROR_NO_SUCH_ITEM);
  assert_message (error, "retired");
  g_clear_error (&error);
  reserved_test_assert_unchanged (&f->client, before);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "show").remaining, ==, 4);

  /* Its name is not reused; the message says why. */
  reserved_test_create_item_refused (&f->client, "show", 5, NULL, RESERVE_ERROR_ITEM_EXISTS);
  reserve_reserve1_call_create_item_sync (f->proxy, "show", 5, g_variant_new ("a{sv}", NULL),
                                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_ITEM_EXISTS);
  assert_message (error, "retired");
  g_clear_error (&error);

  /* History stays: a replay still answers its order, a cancellation gives
   * its units back, the live hold may be confirmed. */
  replayed = reserved_test_buy (&f->client, "show", "bob", 2, "r1", NULL);
  g_assert_cmpuint (replayed, ==, bob);
  g_assert_cmpuint (reserved_test_cancel (&f->client, alice), ==, 7);
  reserve_reserve1_call_confirm_sync (f->proxy, hold_id, g_variant_new ("a{sv}", NULL),
                                      G_DBUS_CALL_FLAGS_NONE, -1, &confirmed, &remaining, NULL,
                                      &error);
  g_assert_no_error (error);
  g_assert_cmpuint (confirmed, >, bob);
  g_assert_cmpuint (remaining, ==, 7);
  item = reserved_test_get_item (&f->client, "show");
  g_assert_cmpuint (item.remaining, ==, 7);
  g_assert_cmpuint (item.sold, ==, 3);
  g_assert_cmpuint (item.held, ==, 0);
  g_assert_true (item.retired);
  reserved_test_assert_law (&f->client);

  /* Again: nothing changes, and it is no error. */
  before = (g_variant_unref (before), reserved_test_snapshot (&f->client));
  reserved_test_retire_item (&f->client, "show");
  reserved_test_assert_unchanged (&f->client, before);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "show").remaining, ==, 7);

  /* Bad input: each a clear error, nothing changed. */
  reserved_test_retire_item_refused (&f->client, "nothing", RESERVE_ERROR_NO_SUCH_ITEM);
  reserved_test_retire_item_refused (&f->client, "", RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_retire_item_refused (&f->client, "-dash", RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_retire_item_refused (&f->client, "white space", RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_set_per_user_limit_refused (&f->client, "show", 2, RESERVE_ERROR_NO_SUCH_ITEM);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "show").per_user_limit, ==, 0);
}

static void
test_set_per_user_limit (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint64 kept;

  reserved_test_create_item (&f->client, "limited", 100, 0);
  kept = reserved_test_buy (&f->client, "limited", "alice", 5, NULL, NULL);

  /* Lowered below what alice has: her order stays, her next purchase is
   * refused, others buy up to the limit. */
  reserved_test_set_per_user_limit (&f->client, "limited", 3);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "limited").per_user_limit, ==, 3);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "limited").sold, ==, 5);
  reserved_test_buy_refused (&f->client, "limited", "alice", 1, NULL, RESERVE_ERROR_LIMIT_EXCEEDED);
  reserved_test_buy (&f->client, "limited", "bob", 3, NULL, NULL);
  reserved_test_buy_refused (&f->client, "limited", "bob", 1, NULL, RESERVE_ERROR_LIMIT_EXCEEDED);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "limited").remaining, ==, 92);

  /* 0: no limit. */
  reserved_test_set_per_user_limit (&f->client, "limited", 0);
  reserved_test_buy (&f->client, "limited", "alice", 10, NULL, NULL);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "limited").per_user_limit, ==, 0);
  g_assert_cmpuint (reserved_test_cancel (&f->client, kept), ==, 87);

  /* The bounds, and bad input: each a clear error, nothing changed. */
  reserved_test_set_per_user_limit (&f->client, "limited", RESERVE_CAPACITY_MAX);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "limited").per_user_limit, ==,
                    RESERVE_CAPACITY_MAX);
  reserved_test_set_per_user_limit_refused (&f->client, "limited", RESERVE_CAPACITY_MAX + 1,
                                            RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_set_per_user_limit_refused (&f->client, "limited", G_MAXUINT32,
                                            RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_set_per_user_limit_refused (&f->client, "nothing", 1, RESERVE_ERROR_NO_SUCH_ITEM);
  reserved_test_set_per_user_limit_refused (&f->client, "", 1, RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_set_per_user_limit_refused (&f->client, "a/b", 1, RESERVE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "limited").per_user_limit, ==,
                    RESERVE_CAPACITY_MAX);

  reserve_reserve1_call_set_per_user_limit_sync (f->proxy, "limited", RESERVE_CAPACITY_MAX + 1,
                                                 G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_INVALID_ARGUMENT);
  assert_message (error, "limit");
}

/* --- errors: which one wins -------------------------------------------- */

static void
test_error_precedence (Fixture *f, gconstpointer data)
{
  guint64 order;

  /* InvalidArgument before NoSuchItem. */
  reserved_test_buy_refused (&f->client, "missing", "alice", 0, NULL,
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, "missing", "bad\x01", 1, NULL,
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, "missing", "alice", 1,
                             options_with ("bogus", g_variant_new_boolean (TRUE)),
                             RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_restock_refused (&f->client, "missing", 0, RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy_refused (&f->client, "missing", "alice", 1, NULL, RESERVE_ERROR_NO_SUCH_ITEM);
  reserved_test_restock_refused (&f->client, "missing", 1, RESERVE_ERROR_NO_SUCH_ITEM);

  /* InvalidArgument before ItemExists. */
  reserved_test_create_item_refused (&f->client, "ticket", RESERVE_CAPACITY_MAX + 1, NULL,
                                     RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_create_item_refused (&f->client, "ticket", 5,
                                     options_with ("bogus", g_variant_new_boolean (TRUE)),
                                     RESERVE_ERROR_INVALID_ARGUMENT);

  /* InvalidArgument before SoldOut and LimitExceeded. */
  reserved_test_create_item (&f->client, "tight", 1, 1);
  reserved_test_buy_refused (&f->client, "tight", "alice", RESERVE_BUY_QUANTITY_MAX + 1, NULL,
                             RESERVE_ERROR_INVALID_ARGUMENT);
  /* LimitExceeded before SoldOut: two wanted of one left, limit one. */
  reserved_test_buy_refused (&f->client, "tight", "alice", 2, NULL, RESERVE_ERROR_LIMIT_EXCEEDED);
  order = reserved_test_buy (&f->client, "tight", "alice", 1, "r", NULL);
  reserved_test_buy_refused (&f->client, "tight", "alice", 1, NULL, RESERVE_ERROR_LIMIT_EXCEEDED);
  reserved_test_buy_refused (&f->client, "tight", "bob", 1, NULL, RESERVE_ERROR_SOLD_OUT);
  /* A reused request_id with other arguments is InvalidArgument, even
   * though the item is sold out and the user at the limit. */
  reserved_test_buy_refused (&f->client, "tight", "alice", 2, reserved_test_options ("r"),
                             RESERVE_ERROR_INVALID_ARGUMENT);

  /* An order cannot be both missing and cancelled; the cases where
   * PermissionDenied competes with these are in /daemon/permissions. */
  reserved_test_cancel (&f->client, order);
  reserved_test_cancel_refused (&f->client, order, RESERVE_ERROR_ALREADY_CANCELLED);
  reserved_test_cancel_refused (&f->client, order + 1000, RESERVE_ERROR_NO_SUCH_ORDER);
  reserved_test_get_item_refused (&f->client, "bad name", RESERVE_ERROR_INVALID_ARGUMENT);
}

/* --- properties and signals -------------------------------------------- */

static void
test_properties (Fixture *f, gconstpointer data)
{
  g_autofree char *version = reserve_reserve1_dup_version (f->proxy);
  g_autofree char *item = reserve_reserve1_dup_default_item (f->proxy);

  g_assert_nonnull (version);
  g_assert_true (g_regex_match_simple ("^[0-9]+\\.[0-9]+\\.[0-9]+$", version, 0, 0));
  g_assert_cmpstr (item, ==, RESERVE_DEFAULT_ITEM);
}

static void
test_properties_configured (Fixture *f, gconstpointer data)
{
  g_autofree char *item = reserve_reserve1_dup_default_item (f->proxy);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) items = NULL;
  ReservedTestItem info;

  /* A fresh database gets the configured default item and only that. */
  g_assert_cmpstr (item, ==, "show");
  info = reserved_test_get_item (&f->client, "show");
  g_assert_cmpuint (info.capacity, ==, 7);
  g_assert_cmpuint (info.remaining, ==, 7);
  reserved_test_get_item_refused (&f->client, RESERVE_DEFAULT_ITEM, RESERVE_ERROR_NO_SUCH_ITEM);
  reserve_reserve1_call_list_items_sync (f->proxy, G_DBUS_CALL_FLAGS_NONE, -1, &items, NULL,
                                         &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (items), ==, 1);
}

typedef struct {
  GHashTable *last; /* item → the last StockChanged value (GUINT_TO_POINTER (remaining + 1)) */
  guint n;
} SignalLog;

static void
on_stock_changed (ReserveReserve1 *proxy, const char *item, guint remaining, gpointer user_data)
{
  SignalLog *log = user_data;

  g_hash_table_insert (log->last, g_strdup (item), GUINT_TO_POINTER (remaining + 1));
  log->n++;
}

/* Waits until the last StockChanged for @item says @remaining. The daemon
 * may coalesce signals, so only the last value is certain. */
static void
wait_for_signal (SignalLog *log, const char *item, guint32 remaining)
{
  gint64 deadline =
    g_get_monotonic_time () + (gint64) reserved_test_timeout_seconds () * G_USEC_PER_SEC;

  while (GPOINTER_TO_UINT (g_hash_table_lookup (log->last, item)) != remaining + 1)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("no StockChanged(%s, %u) arrived; the last one said %d", item, remaining,
                 (int) GPOINTER_TO_UINT (g_hash_table_lookup (log->last, item)) - 1);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
test_signals (Fixture *f, gconstpointer data)
{
  SignalLog log = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL), 0 };
  guint64 order;
  gulong id;

  id = g_signal_connect (f->proxy, "stock-changed", G_CALLBACK (on_stock_changed), &log);

  reserved_test_buy (&f->client, "ticket", "alice", 2, NULL, NULL);
  wait_for_signal (&log, "ticket", 98);
  order = reserved_test_buy (&f->client, "ticket", "alice", 3, NULL, NULL);
  wait_for_signal (&log, "ticket", 95);
  reserved_test_cancel (&f->client, order);
  wait_for_signal (&log, "ticket", 98);
  reserved_test_restock (&f->client, "ticket", 10);
  wait_for_signal (&log, "ticket", 108);
  reserved_test_create_item (&f->client, "fresh", 3, 0);
  wait_for_signal (&log, "fresh", 3);

  /* A refused call changes nothing, so whatever the daemon says about
   * ticket afterwards still has the old value. The signal of a later
   * change to another item marks the point by which it would have come. */
  reserved_test_buy_refused (&f->client, "ticket", "alice", 1000, NULL, RESERVE_ERROR_SOLD_OUT);
  reserved_test_restock_refused (&f->client, "ticket", 0, RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_buy (&f->client, "fresh", "alice", 3, NULL, NULL);
  wait_for_signal (&log, "fresh", 0);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (log.last, "ticket")), ==, 108 + 1);

  /* A burst: whatever is coalesced, the last value is the final stock. */
  for (guint i = 0; i < 20; i++)
    reserved_test_buy (&f->client, "ticket", "bob", 1, NULL, NULL);
  wait_for_signal (&log, "ticket", 88);

  /* Retired: nothing of it is for sale, whatever its remaining stock. */
  reserved_test_create_item (&f->client, "leaving", 5, 0);
  wait_for_signal (&log, "leaving", 5);
  reserved_test_retire_item (&f->client, "leaving");
  wait_for_signal (&log, "leaving", 0);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "leaving").remaining, ==, 5);

  g_signal_handler_disconnect (f->proxy, id);
  g_hash_table_unref (log.last);
}

static char *
signature_of (GDBusArgInfo **args)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_string_append (out, args[i]->signature);
  return g_string_free (out, FALSE);
}

static void
test_introspection (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *xml_path =
    g_build_filename (g_getenv ("G_TEST_SRCDIR"), "..", "dbus", RESERVE_INTERFACE ".xml", NULL);
  g_autofree char *file_xml = NULL;
  g_autoptr(GDBusNodeInfo) file_node = NULL;
  g_autoptr(GDBusNodeInfo) live_node = NULL;
  const char *live_xml = NULL;
  GDBusInterfaceInfo *file_iface, *live_iface;

  /* What the daemon says about itself is what dbus/ says: the file is the
   * one source of truth, and clients are generated from it. */
  g_file_get_contents (xml_path, &file_xml, NULL, &error);
  g_assert_no_error (error);
  file_node = g_dbus_node_info_new_for_xml (file_xml, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (f->connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                       "org.freedesktop.DBus.Introspectable", "Introspect", NULL,
                                       G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                                       (int) reserved_test_timeout_seconds () * 1000, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&s)", &live_xml);
  live_node = g_dbus_node_info_new_for_xml (live_xml, &error);
  g_assert_no_error (error);

  file_iface = g_dbus_node_info_lookup_interface (file_node, RESERVE_INTERFACE);
  live_iface = g_dbus_node_info_lookup_interface (live_node, RESERVE_INTERFACE);
  g_assert_nonnull (file_iface);
  g_assert_nonnull (live_iface);
  for (guint i = 0; file_iface->methods[i] != NULL; i++)
    {
      GDBusMethodInfo *want = file_iface->methods[i];
      GDBusMethodInfo *have = g_dbus_interface_info_lookup_method (live_iface, want->name);
      g_autofree char *want_in = signature_of (want->in_args);
      g_autofree char *want_out = signature_of (want->out_args);
      g_autofree char *have_in = NULL;
      g_autofree char *have_out = NULL;

      if (have == NULL)
        g_error ("the daemon has no method %s", want->name);
      have_in = signature_of (have->in_args);
      have_out = signature_of (have->out_args);
      g_assert_cmpstr (have_in, ==, want_in);
      g_assert_cmpstr (have_out, ==, want_out);
    }
  for (guint i = 0; file_iface->signals[i] != NULL; i++)
    {
      GDBusSignalInfo *want = file_iface->signals[i];
      GDBusSignalInfo *have = g_dbus_interface_info_lookup_signal (live_iface, want->name);
      g_autofree char *want_args = signature_of (want->args);
      g_autofree char *have_args = NULL;

      if (have == NULL)
        g_error ("the daemon has no signal %s", want->name);
      have_args = signature_of (have->args);
      g_assert_cmpstr (have_args, ==, want_args);
    }
  for (guint i = 0; file_iface->properties[i] != NULL; i++)
    {
      GDBusPropertyInfo *want = file_iface->properties[i];
      GDBusPropertyInfo *have = g_dbus_interface_info_lookup_property (live_iface, want->name);

      if (have == NULL)
        g_error ("the daemon has no property %s", want->name);
      g_assert_cmpstr (have->signature, ==, want->signature);
      g_assert_cmpint (have->flags, ==, want->flags);
    }
}

/* --- callers other than the admin -------------------------------------- */

static gboolean
need_root (void)
{
  if (geteuid () == 0)
    return TRUE;
  /* CI runs as root; a developer's run says plainly what it left out. */
  g_test_skip ("calling as another uid (65534) needs root");
  return FALSE;
}

/* Runs helper @role as uid 65534 with @args and waits for it. Its
 * stdout, if @out is not NULL, is returned there. */
static void
run_as_nobody (Fixture *f, const char *role, const char *const *args, char **out)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *text = NULL;

  g_ptr_array_add (argv, (char *) role);
  g_ptr_array_add (argv, (char *) reserved_test_daemon_get_address (f->daemon));
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  text =
    reserved_test_run_helper ((const char *const *) argv->pdata, RESERVED_TEST_NOBODY_UID, role);
  if (out != NULL)
    *out = g_steal_pointer (&text);
}

static void
test_permissions (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *a_text = NULL;
  g_autofree char *b_text = NULL;
  g_autoptr(GArray) alice = NULL;
  guint64 a, b, n1 = 0;
  const char *args[3];

  if (!need_root ())
    return;

  reserved_test_create_item (&f->client, "shared", 10, 0);
  a = reserved_test_buy (&f->client, "shared", "alice", 1, "same-rid", NULL);
  b = reserved_test_buy (&f->client, "shared", "dave", 1, NULL, NULL);
  reserved_test_cancel (&f->client, b);
  a_text = g_strdup_printf ("%" G_GUINT64_FORMAT, a);
  b_text = g_strdup_printf ("%" G_GUINT64_FORMAT, b);
  args[0] = a_text;
  args[1] = b_text;
  args[2] = NULL;

  run_as_nobody (f, "nobody", args, &out);
  g_assert_true (g_ascii_string_to_unsigned (g_strstrip (out), 10, 1, G_MAXUINT64, &n1, NULL));

  /* The admin sees every caller's orders for alice and may cancel any. */
  alice = reserved_test_list_orders (&f->client, "alice");
  g_assert_cmpuint (alice->len, ==, 2);
  assert_order (alice, 0, a, "shared", 1, TRUE);
  assert_order (alice, 1, n1, "shared", 1, TRUE);
  g_assert_cmpuint (reserved_test_cancel (&f->client, n1), ==, 9);
}

/* The audit trail: every purchase, replay, cancellation, refusal and
 * administrator action is one record, at info level without -v, with its
 * MESSAGE_ID and fields (the daemon's stderr is no journal here, so each
 * is a line that carries them). */
static void
assert_audited (const char *log, const char *message_id, const char *const *fields)
{
  g_auto(GStrv) lines = g_strsplit (log, "\n", -1);
  g_autofree char *id_field = g_strdup_printf ("MESSAGE_ID=%s", message_id);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      gboolean all = strstr (lines[i], id_field) != NULL;

      for (guint j = 0; all && fields[j] != NULL; j++)
        all = strstr (lines[i], fields[j]) != NULL;
      if (all)
        return;
    }
  {
    g_autofree char *wanted = g_strjoinv (" ", (char **) fields);

    g_error ("no record with %s and each of “%s” in the daemon's output:\n%s", id_field, wanted,
             log);
  }
}

/* The database as the daemon is given it, with a password when it is a
 * URI: the daemon's messages name the database, never the password. */
static char *
database_with_password (const char *database, const char *password)
{
  const char *authority = strstr (database, "://");
  const char *at;

  if (authority == NULL)
    return g_strdup (database);
  authority += 3;
  at = strchr (authority, '@');
  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s:%s%s", (int) (at - database), database, password, at);
}

static void
test_log_hides_password (Fixture *f, gconstpointer data)
{
  const char *database = reserved_test_daemon_get_database (f->daemon);
  g_autofree char *with_password = database_with_password (database, "s3cret-pw");
  const char *extra[] = { "--database", with_password, NULL };
  g_autoptr(ReservedTestProcess) process = NULL;
  g_autofree char *log = NULL;
  int status;

  reserved_test_fixture_disconnect (f);
  reserved_test_daemon_stop (f->daemon);
  process = reserved_test_daemon_spawn (f->daemon, extra);
  reserved_test_daemon_wait_ready (f->daemon, process);
  reserved_test_process_wait_log (process, "Serving ", 1);
  kill (reserved_test_process_get_pid (process), SIGTERM);
  status = reserved_test_process_wait (process);
  log = reserved_test_process_get_log (process);
  reserved_test_assert_exit_status (status, 0, "reserved", log);
  if (strstr (log, "s3cret-pw") != NULL)
    g_error ("reserved logged the database's password:\n%s", log);
  if (g_str_has_prefix (database, "postgres"))
    g_assert_nonnull (strstr (log, ":***@"));
  else
    g_assert_nonnull (strstr (log, database));
  reserved_test_daemon_start (f->daemon);
  reserved_test_fixture_connect (f);
}

/* Users are kept as the bytes of their UTF-8, whatever encoding the
 * daemon's environment asks its database client to speak: another daemon
 * (here the same one, started again without it) finds the same buyer. */
static void
test_names_whatever_client_encoding (Fixture *f, gconstpointer data)
{
  g_autoptr(GArray) orders = NULL;

  reserved_test_fixture_disconnect (f);
  reserved_test_daemon_set_env (f->daemon, "PGCLIENTENCODING", "LATIN1");
  reserved_test_daemon_restart (f->daemon);
  reserved_test_fixture_connect (f);
  reserved_test_create_item (&f->client, "cafe", 5, 0);
  reserved_test_buy (&f->client, "cafe", "zoë", 2, NULL, NULL);

  reserved_test_daemon_set_env (f->daemon, "PGCLIENTENCODING", NULL);
  reserved_test_fixture_restart (f);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "cafe").remaining, ==, 3);
  orders = reserved_test_list_orders (&f->client, "zoë");
  g_assert_cmpuint (orders->len, ==, 1);
  g_assert_cmpstr (g_array_index (orders, ReservedTestOrder, 0).item, ==, "cafe");
}

static void
test_audit (Fixture *f, gconstpointer data)
{
  g_autofree char *log = NULL;
  g_autofree char *uid = g_strdup_printf ("RESERVED_UID=%u", (guint) getuid ());
  g_autofree char *order_field = NULL;
  guint64 order;

  reserved_test_create_item (&f->client, "gig", 3, 0);
  reserved_test_restock (&f->client, "gig", 2);
  order = reserved_test_buy (&f->client, "gig", "alice", 2, "k1", NULL);
  order_field = g_strdup_printf ("RESERVED_ORDER=%" G_GUINT64_FORMAT, order);
  reserved_test_buy (&f->client, "gig", "alice", 2, "k1", NULL);
  reserved_test_cancel (&f->client, order);
  reserved_test_buy_refused (&f->client, "gig", "bob", 9, NULL, RESERVE_ERROR_SOLD_OUT);
  reserved_test_set_per_user_limit (&f->client, "gig", 4);
  reserved_test_retire_item (&f->client, "gig");

  log = reserved_test_process_get_log (reserved_test_daemon_get_process (f->daemon));
  assert_audited (log, "f347347f81db4caaa9838736a1c5152d",
                  (const char *const[]){ "Item gig created", uid, "RESERVED_ITEM=gig", NULL });
  assert_audited (log, "68bba6c8846443b38deab622bfe6b8c2",
                  (const char *const[]){ "Item gig restocked", uid, "RESERVED_QUANTITY=2", NULL });
  assert_audited (log, "7c0823b1eec44f6491c830b89fa2261c",
                  (const char *const[]){ "Per-user limit of gig set to 4", uid, "RESERVED_ITEM=gig",
                                         "RESERVED_QUANTITY=4", NULL });
  assert_audited (log, "95cb6f664c564b1ab61a4b03655f6604",
                  (const char *const[]){ "Item gig retired", uid, "RESERVED_ITEM=gig", NULL });
  assert_audited (log, "48dc9d21766e4906884cd4bd68896ce7",
                  (const char *const[]){ "RESERVED_CUSTOMER=alice", uid, order_field,
                                         "RESERVED_REQUEST_ID=k1", NULL });
  assert_audited (log, "14d2b2700dc14d2eb10c930c3fc61b25",
                  (const char *const[]){ "RESERVED_CUSTOMER=alice", order_field,
                                         "RESERVED_REQUEST_ID=k1", NULL });
  assert_audited (log, "e799b6650aec406a883a0c874e1b1d48",
                  (const char *const[]){ "RESERVED_CUSTOMER=alice", uid, order_field,
                                         "RESERVED_ITEM=gig", NULL });
  assert_audited (log, "dc7107df251841fd965f220d3b283de5",
                  (const char *const[]){ "RESERVED_CUSTOMER=bob", uid, "RESERVED_ITEM=gig",
                                         "RESERVED_ERROR=org.reserved.Reserve1.Error.SoldOut",
                                         NULL });
  /* The start-up line names the database. */
  if (strstr (log, reserved_test_daemon_get_database (f->daemon)) == NULL)
    g_error ("the daemon's start-up line does not name its database:\n%s", log);
}

/* The helper's half: runs as uid 65534, which is no admin. */
static int
helper_nobody (const char *address, guint64 a, guint64 b)
{
  g_autoptr(GDBusConnection) connection = reserved_test_connect (address);
  g_autoptr(ReserveReserve1) proxy = reserved_test_proxy_new (connection);
  ReservedTestClient client = { proxy, FALSE };
  g_autoptr(GArray) alice = NULL;
  g_autoptr(GArray) carol = NULL;
  guint64 n1, n2;
  guint32 remaining = 0;

  g_assert_cmpuint (geteuid (), ==, RESERVED_TEST_NOBODY_UID);

  /* Anyone may buy, and request_ids are per caller: the admin's
   * "same-rid" is not ours. */
  n1 = reserved_test_buy (&client, "shared", "alice", 1, "same-rid", &remaining);
  g_assert_cmpuint (n1, !=, a);
  g_assert_cmpuint (remaining, ==, 8);
  n2 = reserved_test_buy (&client, "shared", "carol", 2, NULL, NULL);
  g_assert_cmpuint (reserved_test_cancel (&client, n2), ==, 8);
  reserved_test_cancel_refused (&client, n2, RESERVE_ERROR_ALREADY_CANCELLED);

  /* Another caller's order: PermissionDenied, which wins over
   * AlreadyCancelled and loses to NoSuchOrder. */
  reserved_test_cancel_refused (&client, a, RESERVE_ERROR_PERMISSION_DENIED);
  reserved_test_cancel_refused (&client, b, RESERVE_ERROR_PERMISSION_DENIED);
  reserved_test_cancel_refused (&client, G_MAXINT64, RESERVE_ERROR_NO_SUCH_ORDER);

  /* Admin-only methods; InvalidArgument wins over PermissionDenied, which
   * wins over ItemExists. A Restock is authorized before the store is
   * read, so PermissionDenied wins over NoSuchItem there. */
  reserved_test_create_item_refused (&client, "mine", 5, NULL, RESERVE_ERROR_PERMISSION_DENIED);
  reserved_test_create_item_refused (&client, "shared", 5, NULL, RESERVE_ERROR_PERMISSION_DENIED);
  reserved_test_create_item_refused (&client, ".bad", 5, NULL, RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_create_item_refused (&client, "mine", RESERVE_CAPACITY_MAX + 1, NULL,
                                     RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_restock_refused (&client, "shared", 1, RESERVE_ERROR_PERMISSION_DENIED);
  reserved_test_restock_refused (&client, "shared", 0, RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_restock_refused (&client, "missing", 1, RESERVE_ERROR_PERMISSION_DENIED);
  reserved_test_get_item_refused (&client, "mine", RESERVE_ERROR_NO_SUCH_ITEM);

  /* Every customer's orders: admins only. Our own view of alice holds
   * only the order we placed. */
  reserved_test_list_orders_refused (&client, "", RESERVE_ERROR_PERMISSION_DENIED);
  reserved_test_list_orders_refused (&client, "bad\x01", RESERVE_ERROR_INVALID_ARGUMENT);
  alice = reserved_test_list_orders (&client, "alice");
  g_assert_cmpuint (alice->len, ==, 1);
  assert_order (alice, 0, n1, "shared", 1, TRUE);
  carol = reserved_test_list_orders (&client, "carol");
  g_assert_cmpuint (carol->len, ==, 1);
  assert_order (carol, 0, n2, "shared", 2, FALSE);

  /* Reading is for everyone. */
  g_assert_cmpuint (reserved_test_get_item (&client, "shared").remaining, ==, 8);
  {
    g_autofree char *item = reserve_reserve1_dup_default_item (proxy);
    g_assert_cmpstr (item, ==, RESERVE_DEFAULT_ITEM);
  }

  g_print ("%" G_GUINT64_FORMAT "\n", n1);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return 0;
}

/* AdminUsers and AdminGroups of earlier versions: the daemon starts with
 * them, says they are no longer read, and they make nobody an admin. */
static void
test_permissions_retired_keys (Fixture *f, gconstpointer data)
{
  g_autofree char *a_text = NULL;
  g_autofree char *log = NULL;
  const char *args[2];
  guint64 a;

  if (!need_root ())
    return;
  a = reserved_test_buy (&f->client, "ticket", "alice", 1, NULL, NULL);
  a_text = g_strdup_printf ("%" G_GUINT64_FORMAT, a);
  args[0] = a_text;
  args[1] = NULL;
  run_as_nobody (f, "retired-admin", args, NULL);
  /* Still active: the helper could not cancel it. */
  g_assert_cmpuint (reserved_test_cancel (&f->client, a), ==, RESERVE_DEFAULT_CAPACITY);
  reserved_test_assert_law (&f->client);
  log = reserved_test_process_get_log (reserved_test_daemon_get_process (f->daemon));
  if (strstr (log, " is no longer read: administrators are decided by polkit") == NULL)
    g_error ("the daemon did not say the key is retired; its output was:\n%s", log);
}

/* Uid 65534, which the configuration names as admin in a retired key. */
static int
helper_retired_admin (const char *address, guint64 a)
{
  g_autoptr(GDBusConnection) connection = reserved_test_connect (address);
  g_autoptr(ReserveReserve1) proxy = reserved_test_proxy_new (connection);
  ReservedTestClient client = { proxy, FALSE };

  reserved_test_create_item_refused (&client, "by-nobody", 5, NULL,
                                     RESERVE_ERROR_PERMISSION_DENIED);
  reserved_test_restock_refused (&client, RESERVE_DEFAULT_ITEM, 1, RESERVE_ERROR_PERMISSION_DENIED);
  reserved_test_list_orders_refused (&client, "", RESERVE_ERROR_PERMISSION_DENIED);
  reserved_test_cancel_refused (&client, a, RESERVE_ERROR_PERMISSION_DENIED);
  reserved_test_get_item_refused (&client, "by-nobody", RESERVE_ERROR_NO_SUCH_ITEM);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return 0;
}

/* nobody ADDRESS ORDER_A ORDER_B */
static int
run_nobody (char **args)
{
  return helper_nobody (args[0], reserved_test_helper_uint (args[1], 1, G_MAXUINT64),
                        reserved_test_helper_uint (args[2], 1, G_MAXUINT64));
}

/* retired-admin ADDRESS ORDER */
static int
run_retired_admin (char **args)
{
  return helper_retired_admin (args[0], reserved_test_helper_uint (args[1], 1, G_MAXUINT64));
}

static const ReservedTestHelper helpers[] = {
  { "nobody", 3, run_nobody },
  { "retired-admin", 2, run_retired_admin },
  { NULL },
};

static void
add_cases (void)
{
#define ADD RESERVED_TEST_FIXTURE_ADD_CONFIG

  ADD ("/daemon/buy/basic", test_buy_basic, NULL);
  ADD ("/daemon/buy/ids-never-reused", test_buy_ids_never_reused, NULL);
  ADD ("/daemon/buy/quantity-limits", test_buy_quantity_limits, NULL);
  ADD ("/daemon/buy/item-name-limits", test_buy_item_name_limits, NULL);
  ADD ("/daemon/buy/user-limits", test_buy_user_limits, NULL);
  ADD ("/daemon/buy/user-verbatim", test_buy_user_verbatim, NULL);
  ADD ("/daemon/buy/request-id-limits", test_buy_request_id_limits, NULL);
  ADD ("/daemon/buy/options", test_buy_options, NULL);
  ADD ("/daemon/buy/replay", test_buy_replay, NULL);
  ADD ("/daemon/buy/with-details", test_buy_with_details, NULL);
  ADD ("/daemon/buy/replay-different-args", test_buy_replay_different_args, NULL);
  ADD ("/daemon/buy/replay-sold-out", test_buy_replay_sold_out, NULL);
  ADD ("/daemon/buy/per-user-limit", test_buy_per_user_limit, NULL);
  ADD ("/daemon/buy/sold-out", test_buy_sold_out, NULL);
  ADD ("/daemon/buy/no-such-item", test_buy_no_such_item, NULL);
  ADD ("/daemon/cancel", test_cancel, NULL);
  ADD ("/daemon/get-order", test_get_order, NULL);
  ADD ("/daemon/get-item", test_get_item, NULL);
  ADD ("/daemon/list-items", test_list_items, NULL);
  ADD ("/daemon/list-orders", test_list_orders, NULL);
  ADD ("/daemon/create-item", test_create_item, NULL);
  ADD ("/daemon/restock", test_restock, NULL);
  ADD ("/daemon/retire-item", test_retire_item, NULL);
  ADD ("/daemon/set-per-user-limit", test_set_per_user_limit, NULL);
  ADD ("/daemon/error-precedence", test_error_precedence, NULL);
  ADD ("/daemon/properties/default", test_properties, NULL);
  ADD ("/daemon/properties/configured", test_properties_configured,
       "[reserved]\nDefaultItem=show\nInitialCapacity=7\n");
  ADD ("/daemon/signals", test_signals, NULL);
  ADD ("/daemon/audit", test_audit, NULL);
  ADD ("/daemon/log-hides-password", test_log_hides_password, NULL);
  ADD ("/daemon/names-whatever-client-encoding", test_names_whatever_client_encoding, NULL);
  ADD ("/daemon/introspection", test_introspection, NULL);
  ADD ("/daemon/permissions/other-caller", test_permissions, NULL);
  ADD ("/daemon/permissions/retired-admin-users", test_permissions_retired_keys,
       "[reserved]\nAdminUsers=nobody\n");
  ADD ("/daemon/permissions/retired-admin-groups", test_permissions_retired_keys,
       "[reserved]\nAdminGroups=65534\n");
}

RESERVED_TEST_MAIN (add_cases, helpers)
