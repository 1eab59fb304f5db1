/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Holds against the real reserved on a private bus: Hold, Confirm,
 * Release, Extend and ListHolds as docs/api.md states them, the HoldEnded
 * signal, expiry on a clock the test moves (the daemon's test hook,
 * RESERVED_TEST_CLOCK_FILE: never a sleep), and holds bound to a
 * connection that leaves the bus. Every refused call changed nothing, and
 * each case ends with the law, remaining + held + sold == capacity. */
#include <gio/gunixfdlist.h>
#include <string.h>
#include <unistd.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"
#include "reserved-test-signals.h"

typedef ReservedTestFixture Fixture;

#define SECOND G_GINT64_CONSTANT (1000000)

/* --- calls ------------------------------------------------------------------ */

static GVariant *
hold_options (guint32 ttl, gboolean bound, const char *request_id)
{
  return reserved_test_hold_options ("ttl", ttl > 0 ? g_variant_new_uint32 (ttl) : NULL, bound,
                                     request_id);
}

/* Asserts @code, and that nothing an admin can see changed, nor the
 * units held. */
static void
hold_refused (Fixture *f,
              const char *item,
              const char *user,
              guint32 quantity,
              GVariant *options,
              ReserveError code,
              const char *in_message)
{
  ReservedTestItem was = reserved_test_get_item (&f->client, RESERVE_DEFAULT_ITEM);

  reserved_test_call_refused (&f->client, "Hold",
                              reserved_test_request_args (item, user, quantity, options), code,
                              in_message);
  g_assert_cmpuint (reserved_test_get_item (&f->client, RESERVE_DEFAULT_ITEM).held, ==, was.held);
}

static guint64
confirm (Fixture *f, guint64 id, gboolean or_buy, guint32 *remaining_out)
{
  return reserved_test_confirm (&f->client, id,
                                or_buy ? g_variant_new_parsed ("{'or_buy': <true>}") : NULL,
                                remaining_out);
}

/* --- HoldEnded ---------------------------------------------------------------- */

/* hold id -> reason */
typedef ReservedTestSignals Endings;

static void
on_hold_ended (GVariant *parameters, gpointer user_data)
{
  Endings *endings = user_data;
  guint64 id = 0;
  const char *reason = NULL;

  g_variant_get (parameters, "(t&s&s)", &id, NULL, &reason);
  /* Once per hold. */
  g_assert_null (reserved_test_signals_get (endings, g_variant_new_uint64 (id)));
  reserved_test_signals_put (endings, g_variant_new_uint64 (id), g_variant_new_string (reason));
}

static gboolean
has_ended (Endings *endings, guint64 id)
{
  return reserved_test_signals_get (endings, g_variant_new_uint64 (id)) != NULL;
}

/* Waits (bounded) for the HoldEnded of @id; asserts its reason. */
static void
endings_wait (Endings *endings, guint64 id, const char *reason)
{
  g_autofree char *what = g_strdup_printf ("the end of hold %" G_GUINT64_FORMAT, id);
  GVariant *ended = reserved_test_signals_wait (endings, g_variant_new_uint64 (id), what);

  g_assert_cmpstr (g_variant_get_string (ended, NULL), ==, reason);
}

/* --- cases --------------------------------------------------------------------- */

static void
test_confirm (Fixture *f, gconstpointer data)
{
  Endings endings = { 0 };
  guint32 remaining = 0;
  gint64 expires = 0;
  guint64 id, order;
  ReservedTestItem item;
  g_autoptr(GVariant) holds = NULL;
  g_autoptr(GArray) orders = NULL;

  reserved_test_signals_watch (&endings, f->connection, "HoldEnded", on_hold_ended);
  id = reserved_test_hold (&f->client, "ticket", "alice", 2, hold_options (60, FALSE, NULL),
                           &expires, &remaining);
  g_assert_cmpuint (remaining, ==, 98);
  g_assert_cmpint (expires, >, 0);
  item = reserved_test_get_item (&f->client, "ticket");
  g_assert_cmpuint (item.remaining, ==, 98);
  g_assert_cmpuint (item.held, ==, 2);
  g_assert_cmpuint (item.available, ==, 98);
  g_assert_cmpuint (item.sold, ==, 0);
  reserved_test_assert_law (&f->client);

  holds = reserved_test_list_holds (&f->client, "");
  g_assert_cmpuint (g_variant_n_children (holds), ==, 1);
  {
    guint64 listed = 0;
    const char *listed_item = NULL, *user = NULL;
    guint32 quantity = 0;
    gint64 created = 0, listed_expires = 0;

    g_variant_get_child (holds, 0, "(t&s&suxx)", &listed, &listed_item, &user, &quantity, &created,
                         &listed_expires);
    g_assert_cmpuint (listed, ==, id);
    g_assert_cmpstr (listed_item, ==, "ticket");
    g_assert_cmpstr (user, ==, "alice");
    g_assert_cmpuint (quantity, ==, 2);
    g_assert_cmpint (listed_expires, ==, expires);
    g_assert_cmpint (expires - created, ==, 60 * SECOND);
  }

  order = confirm (f, id, FALSE, &remaining);
  g_assert_cmpuint (remaining, ==, 98);
  endings_wait (&endings, id, "confirmed");
  item = reserved_test_get_item (&f->client, "ticket");
  g_assert_cmpuint (item.held, ==, 0);
  g_assert_cmpuint (item.sold, ==, 2);
  orders = reserved_test_list_orders (&f->client, "alice");
  g_assert_cmpuint (orders->len, ==, 1);
  g_assert_cmpuint (g_array_index (orders, ReservedTestOrder, 0).id, ==, order);

  /* Confirming twice gives the same order and takes nothing. */
  g_assert_cmpuint (confirm (f, id, FALSE, &remaining), ==, order);
  g_assert_cmpuint (remaining, ==, 98);
  g_assert_cmpuint (confirm (f, id, TRUE, NULL), ==, order);
  reserved_test_release_refused (&f->client, id, RESERVE_ERROR_HOLD_ENDED);
  g_assert_cmpuint (g_variant_n_children (reserved_test_list_holds (&f->client, "")), ==, 0);
  reserved_test_signals_clear (&endings);
}

static void
test_release (Fixture *f, gconstpointer data)
{
  Endings endings = { 0 };
  guint32 remaining = 0;
  guint64 id, order;

  reserved_test_signals_watch (&endings, f->connection, "HoldEnded", on_hold_ended);
  id =
    reserved_test_hold (&f->client, "ticket", "bob", 3, hold_options (60, FALSE, NULL), NULL, NULL);
  g_assert_cmpuint (reserved_test_release (&f->client, id), ==, 100);
  endings_wait (&endings, id, "released");
  reserved_test_release_refused (&f->client, id, RESERVE_ERROR_HOLD_ENDED);
  reserved_test_confirm_refused (&f->client, id, RESERVE_ERROR_HOLD_ENDED, "released");

  /* or_buy: an ended hold becomes a plain Buy of the same units. */
  order = confirm (f, id, TRUE, &remaining);
  g_assert_cmpuint (remaining, ==, 97);
  g_assert_cmpuint (order, >, 0);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").sold, ==, 3);
  reserved_test_signals_clear (&endings);
}

static void
test_or_buy_sold_out (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint64 id;

  reserved_test_create_item (&f->client, "seat", 1, 0);
  id =
    reserved_test_hold (&f->client, "seat", "carol", 1, hold_options (60, FALSE, NULL), NULL, NULL);
  reserved_test_release (&f->client, id);
  reserved_test_buy (&f->client, "seat", "dave", 1, NULL, NULL);
  reserve_reserve1_call_confirm_sync (f->proxy, id, g_variant_new_parsed ("{'or_buy': <true>}"),
                                      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL, &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_SOLD_OUT);
}

static void
test_sold_out_and_limits (Fixture *f, gconstpointer data)
{
  reserved_test_create_item (&f->client, "gpu", 2, 0);
  reserved_test_hold (&f->client, "gpu", "eve", 2, hold_options (60, FALSE, NULL), NULL, NULL);
  /* Held units are not for sale. */
  reserved_test_buy_refused (&f->client, "gpu", "frank", 1, NULL, RESERVE_ERROR_SOLD_OUT);
  hold_refused (f, "gpu", "frank", 1, hold_options (60, FALSE, NULL), RESERVE_ERROR_SOLD_OUT,
                "sold out");

  /* The per-user limit counts holds with orders. */
  reserved_test_create_item (&f->client, "show", 10, 3);
  reserved_test_hold (&f->client, "show", "gina", 2, hold_options (60, FALSE, NULL), NULL, NULL);
  reserved_test_buy_refused (&f->client, "show", "gina", 2, NULL, RESERVE_ERROR_LIMIT_EXCEEDED);
  reserved_test_buy (&f->client, "show", "gina", 1, NULL, NULL);
  hold_refused (f, "show", "gina", 1, hold_options (60, FALSE, NULL), RESERVE_ERROR_LIMIT_EXCEEDED,
                "gina");
}

static void
test_max_holds_per_uid (Fixture *f, gconstpointer data)
{
  guint64 first;

  first =
    reserved_test_hold (&f->client, "ticket", "a", 1, hold_options (60, FALSE, NULL), NULL, NULL);
  reserved_test_hold (&f->client, "ticket", "b", 1, hold_options (60, FALSE, NULL), NULL, NULL);
  hold_refused (f, "ticket", "c", 1, hold_options (60, FALSE, NULL), RESERVE_ERROR_LIMIT_EXCEEDED,
                "MaxHoldsPerUid=2");
  /* An ended hold counts no more. */
  reserved_test_release (&f->client, first);
  reserved_test_hold (&f->client, "ticket", "c", 1, hold_options (60, FALSE, NULL), NULL, NULL);
}

static void
test_bad_input (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint64 id;
  gint64 expires = 0;

  hold_refused (f, "ticket", "alice", 0, hold_options (60, FALSE, NULL),
                RESERVE_ERROR_INVALID_ARGUMENT, "quantity");
  hold_refused (f, "ticket", "alice", 1, hold_options (0, FALSE, NULL),
                RESERVE_ERROR_INVALID_ARGUMENT, "ttl");
  hold_refused (f, "ticket", "alice", 1, hold_options (7201, FALSE, NULL),
                RESERVE_ERROR_INVALID_ARGUMENT, "7201");
  hold_refused (f, "ticket", "alice", 1,
                g_variant_new_parsed ("{'ttl': <uint32 60>, 'colour': <1>}"),
                RESERVE_ERROR_INVALID_ARGUMENT, "colour");
  hold_refused (f, "ticket", "alice", 1, g_variant_new_parsed ("{'ttl': <int64 60>}"),
                RESERVE_ERROR_INVALID_ARGUMENT, "ttl");
  hold_refused (f, "no-such", "alice", 1, hold_options (60, FALSE, NULL),
                RESERVE_ERROR_NO_SUCH_ITEM, "no-such");

  /* A request_id replays the same hold; with other arguments it is refused. */
  id = reserved_test_hold (&f->client, "ticket", "alice", 1, hold_options (60, FALSE, "r1"),
                           &expires, NULL);
  g_assert_cmpuint (reserved_test_hold (&f->client, "ticket", "alice", 1,
                                        hold_options (60, FALSE, "r1"), NULL, NULL),
                    ==, id);
  hold_refused (f, "ticket", "alice", 2, hold_options (60, FALSE, "r1"),
                RESERVE_ERROR_INVALID_ARGUMENT, "r1");

  reserved_test_confirm_refused (&f->client, 999999, RESERVE_ERROR_NO_SUCH_HOLD, "999999");
  reserved_test_release_refused (&f->client, 999999, RESERVE_ERROR_NO_SUCH_HOLD);
  reserve_reserve1_call_confirm_sync (f->proxy, id, g_variant_new_parsed ("{'or_buy': <1>}"),
                                      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL, &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  reserve_reserve1_call_extend_sync (f->proxy, id, 0, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL,
                                     &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  reserve_reserve1_call_extend_sync (f->proxy, id, 7201, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL,
                                     &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  reserve_reserve1_call_extend_sync (f->proxy, 999999, 10, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL,
                                     &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_NO_SUCH_HOLD);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 1);
}

/* A connection's holds bound to it end when it leaves the bus; its other
 * holds stay. */
static void
test_disconnect (Fixture *f, gconstpointer data)
{
  g_autoptr(GDBusConnection) other = NULL;
  g_autoptr(ReserveReserve1) other_proxy = NULL;
  ReservedTestClient other_client = { 0 };
  Endings endings = { 0 };
  guint64 bound, timed;

  reserved_test_signals_watch (&endings, f->connection, "HoldEnded", on_hold_ended);
  other = reserved_test_connect (reserved_test_daemon_get_address (f->daemon));
  other_proxy = reserved_test_proxy_new (other);
  other_client.proxy = other_proxy;
  bound = reserved_test_hold (&other_client, "ticket", "hal", 2, hold_options (0, TRUE, NULL), NULL,
                              NULL);
  timed = reserved_test_hold (&other_client, "ticket", "hal", 1, hold_options (600, FALSE, NULL),
                              NULL, NULL);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 3);
  g_dbus_connection_close_sync (other, NULL, NULL);
  endings_wait (&endings, bound, "disconnected");
  g_assert_false (has_ended (&endings, timed));
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 1);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").remaining, ==, 99);
  reserved_test_signals_clear (&endings);
}

/* A hold of @quantity tickets for @user, bound to the connection of
 * @holder, which this opens. */
static guint64
hold_on_own_connection (Fixture *f, ReservedTestAdmin *holder, const char *user, guint32 quantity)
{
  reserved_test_admin_open (holder, f->daemon);
  return reserved_test_hold (&holder->client, "ticket", user, quantity,
                             hold_options (0, TRUE, NULL), NULL, NULL);
}

/* Two connections of one uid: only the holds of the one that leaves end. */
static void
test_disconnect_one_of_two (Fixture *f, gconstpointer data)
{
  ReservedTestAdmin first = { 0 }, second = { 0 };
  Endings endings = { 0 };
  guint64 kept, ended;

  reserved_test_signals_watch (&endings, f->connection, "HoldEnded", on_hold_ended);
  kept = hold_on_own_connection (f, &first, "ann", 1);
  ended = hold_on_own_connection (f, &second, "ann", 2);
  reserved_test_admin_close (&second);
  endings_wait (&endings, ended, "disconnected");
  g_assert_false (has_ended (&endings, kept));
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 1);
  reserved_test_admin_close (&first);
  endings_wait (&endings, kept, "disconnected");
  reserved_test_signals_clear (&endings);
}

static void
on_name_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* The holder leaves before the reply: either the daemon could no longer
 * learn its uid (nothing was held) or the hold was made and then ended.
 * Once the bus has told everyone the holder is gone, a write of the
 * test's comes after whatever the daemon did about it. */
static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

static void
test_disconnect_before_reply (Fixture *f, gconstpointer data)
{
  g_autoptr(GDBusConnection) other = NULL;
  g_autofree char *name = NULL;
  gboolean gone = FALSE;
  guint watch;

  other = reserved_test_connect (reserved_test_daemon_get_address (f->daemon));
  name = g_strdup (g_dbus_connection_get_unique_name (other));
  watch = g_bus_watch_name_on_connection (f->connection, name, G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
                                          on_name_vanished, &gone, NULL);
  /* A round trip: the watch's match rule is in place before the holder
   * goes. */
  reserved_test_get_item (&f->client, "ticket");
  g_dbus_connection_call (other, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH, RESERVE_INTERFACE, "Hold",
                          g_variant_new ("(ssu@a{sv})", "ticket", "ben", 3,
                                         hold_options (0, TRUE, NULL)),
                          NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
  g_dbus_connection_flush_sync (other, NULL, NULL);
  g_dbus_connection_close_sync (other, NULL, NULL);
  reserved_test_iterate_until (is_true, &gone, "the holder's disconnection");
  g_bus_unwatch_name (watch);

  /* The barrier: a write, queued behind the daemon's own. */
  reserved_test_release (&f->client,
                         reserved_test_hold (&f->client, "ticket", "barrier", 1,
                                             hold_options (60, FALSE, NULL), NULL, NULL));
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 0);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").remaining, ==, 100);
}

/* A restart with one holder still connected and one gone meanwhile: the
 * gone one's hold ends at start, the other's when it leaves. */
static void
test_disconnect_restart (Fixture *f, gconstpointer data)
{
  ReservedTestAdmin live = { 0 }, vanished = { 0 };
  Endings endings = { 0 };
  guint64 live_id, vanished_id;

  live_id = hold_on_own_connection (f, &live, "cy", 1);
  vanished_id = hold_on_own_connection (f, &vanished, "di", 2);
  reserved_test_signals_watch (&endings, live.connection, "HoldEnded", on_hold_ended);
  reserved_test_fixture_disconnect (f);
  reserved_test_daemon_stop (f->daemon);
  reserved_test_admin_close (&vanished);
  reserved_test_daemon_start (f->daemon);
  reserved_test_fixture_connect (f);
  endings_wait (&endings, vanished_id, "disconnected");
  g_assert_false (has_ended (&endings, live_id));
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 1);
  reserved_test_signals_clear (&endings);
  reserved_test_admin_close (&live);
  reserved_test_signals_watch (&endings, f->connection, "HoldEnded", on_hold_ended);
  /* Its departure may have been handled before this subscription. */
  if (reserved_test_get_item (&f->client, "ticket").held != 0)
    endings_wait (&endings, live_id, "disconnected");
  reserved_test_signals_clear (&endings);
}

/* --- kill -9 ------------------------------------------------------------------------ */

#define KILL_ROUNDS     5
#define HOLDS_PER_ROUND 40

/* What the daemon acknowledged, round after round. */
typedef struct {
  Fixture *f;
  guint pending;       /* calls not answered yet */
  guint answers;       /* this round's */
  GHashTable *live;    /* hold ids acknowledged held and not acknowledged ended */
  GHashTable *ended;   /* hold ids acknowledged released or confirmed */
  GHashTable *orders;  /* order ids acknowledged by Confirm */
  GHashTable *unknown; /* holds whose release or confirmation got no verdict */
} Acknowledged;

typedef struct {
  Acknowledged *acked;
  guint64 hold;
} Pending;

static void
on_ended_call (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *pending = user_data;
  Acknowledged *acked = pending->acked;
  g_autoptr(GVariant) reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, NULL);
  guint64 *key = g_memdup2 (&pending->hold, sizeof pending->hold);

  acked->pending--;
  acked->answers++;
  g_hash_table_remove (acked->live, &pending->hold);
  if (reply == NULL)
    g_hash_table_add (acked->unknown, key);
  else
    {
      if (g_variant_is_of_type (reply, G_VARIANT_TYPE ("(tu)")))
        {
          guint64 order = 0;

          g_variant_get (reply, "(tu)", &order, NULL);
          g_hash_table_add (acked->orders, g_memdup2 (&order, sizeof order));
        }
      g_hash_table_add (acked->ended, key);
    }
  g_free (pending);
}

static void
on_held_call (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Acknowledged *acked = user_data;
  g_autoptr(GVariant) reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, NULL);
  Pending *next;
  guint64 hold = 0;

  acked->pending--;
  acked->answers++;
  if (reply == NULL)
    return;
  g_variant_get (reply, "(txu)", &hold, NULL, NULL);
  g_hash_table_add (acked->live, g_memdup2 (&hold, sizeof hold));
  /* Every other hold is ended at once, half confirmed, half released. */
  if (hold % 2 != 0)
    return;
  next = g_new0 (Pending, 1);
  next->acked = acked;
  next->hold = hold;
  acked->pending++;
  if (hold % 4 == 0)
    g_dbus_proxy_call (G_DBUS_PROXY (acked->f->proxy), "Confirm",
                       g_variant_new ("(t@a{sv})", hold, g_variant_new ("a{sv}", NULL)),
                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_ended_call, next);
  else
    g_dbus_proxy_call (G_DBUS_PROXY (acked->f->proxy), "Release", g_variant_new ("(t)", hold),
                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_ended_call, next);
}

/* The daemon killed with SIGKILL while holds are made, confirmed and
 * released: after each restart every acknowledged hold is still held,
 * every acknowledged release or confirmation still stands (no hold comes
 * back to life), every acknowledged order exists, and the law holds. */
static void
test_kill (Fixture *f, gconstpointer data)
{
  Acknowledged acked = {
    .f = f,
    .live = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL),
    .ended = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL),
    .orders = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL),
    .unknown = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL),
  };

  reserved_test_create_item (&f->client, "kit", 100000, 0);
  for (guint round = 0; round < KILL_ROUNDS; round++)
    {
      g_autoptr(GVariant) holds = NULL;
      g_autoptr(GArray) orders = NULL;
      g_autoptr(GHashTable) listed = g_hash_table_new (g_int64_hash, g_int64_equal);
      g_autoptr(GHashTable) ordered = g_hash_table_new (g_int64_hash, g_int64_equal);
      GHashTableIter iter;
      gpointer key;
      GVariantIter holds_iter;
      guint64 hold;

      acked.answers = 0;
      for (guint i = 0; i < HOLDS_PER_ROUND; i++)
        {
          acked.pending++;
          g_dbus_proxy_call (G_DBUS_PROXY (f->proxy), "Hold",
                             g_variant_new ("(ssu@a{sv})", "kit", "kim", 1,
                                            hold_options (3600, FALSE, NULL)),
                             G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_held_call, &acked);
        }
      /* Killed part way: once as many answers came as Holds were sent,
       * with some of the Confirms and Releases they led to in flight. */
      while (acked.answers < HOLDS_PER_ROUND + round * 4)
        g_main_context_iteration (NULL, TRUE);
      reserved_test_daemon_kill (f->daemon);
      while (acked.pending > 0)
        g_main_context_iteration (NULL, TRUE);
      reserved_test_fixture_disconnect (f);
      reserved_test_daemon_start (f->daemon);
      reserved_test_fixture_connect (f);

      holds = reserved_test_list_holds (&f->client, "");
      g_variant_iter_init (&holds_iter, holds);
      while (g_variant_iter_next (&holds_iter, "(t&s&suxx)", &hold, NULL, NULL, NULL, NULL, NULL))
        {
          guint64 *id = g_memdup2 (&hold, sizeof hold);

          g_hash_table_add (listed, id);
          /* No hold comes back once its end was acknowledged. */
          g_assert_false (g_hash_table_contains (acked.ended, &hold));
        }
      g_hash_table_iter_init (&iter, acked.live);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_assert_true (g_hash_table_contains (listed, key));
      orders = reserved_test_list_orders (&f->client, "kim");
      for (guint i = 0; i < orders->len; i++)
        g_hash_table_add (ordered, &g_array_index (orders, ReservedTestOrder, i).id);
      g_hash_table_iter_init (&iter, acked.orders);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_assert_true (g_hash_table_contains (ordered, key));
      reserved_test_assert_law (&f->client);
      g_hash_table_iter_init (&iter, listed);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_free (key);
      g_test_message ("round %u: %u holds live, %u ended, %u orders acknowledged", round,
                      g_hash_table_size (acked.live), g_hash_table_size (acked.ended),
                      g_hash_table_size (acked.orders));
    }
  g_hash_table_unref (acked.live);
  g_hash_table_unref (acked.ended);
  g_hash_table_unref (acked.orders);
  g_hash_table_unref (acked.unknown);
}

/* --- time ------------------------------------------------------------------------ */

/* Never early, ended by the timer once due; Extend is capped at creation
 * plus MaxHoldSeconds; Confirm after expiry is HoldEnded. */
static void
test_expiry (Fixture *f, gconstpointer data)
{
  Endings endings = { 0 };
  gint64 expires = 0, extended = 0, created = 0;
  guint64 id, other;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) holds = NULL;

  reserved_test_signals_watch (&endings, f->connection, "HoldEnded", on_hold_ended);
  id = reserved_test_hold (&f->client, "ticket", "ivy", 4, hold_options (3600, FALSE, NULL),
                           &expires, NULL);
  other = reserved_test_hold (&f->client, "ticket", "jon", 1, hold_options (7200, FALSE, NULL),
                              NULL, NULL);
  holds = reserved_test_list_holds (&f->client, "ivy");
  g_variant_get_child (holds, 0, "(tssuxx)", NULL, NULL, NULL, NULL, &created, NULL);

  /* Half way: still held, whatever the timer does. */
  reserved_test_fixture_set_clock (f, 1800);
  reserve_reserve1_call_extend_sync (f->proxy, id, 7200, G_DBUS_CALL_FLAGS_NONE, -1, &extended,
                                     NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (extended, ==, created + 7200 * SECOND);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 5);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").available, ==, 95);

  /* Past the capped expiry: the timer ends both. */
  reserved_test_fixture_set_clock (f, 7201);
  endings_wait (&endings, id, "expired");
  endings_wait (&endings, other, "expired");
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 0);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").remaining, ==, 100);
  reserved_test_confirm_refused (&f->client, id, RESERVE_ERROR_HOLD_ENDED, "expired");
  reserved_test_signals_clear (&endings);
}

/* The clock set back a day while the daemon is stopped does not give a
 * hold more than the time it was granted. */
static void
test_clock_set_back (Fixture *f, gconstpointer data)
{
  Endings endings = { 0 };
  g_autoptr(GDBusConnection) listener = NULL;
  gint64 expires = 0;
  guint64 id;

  id = reserved_test_hold (&f->client, "ticket", "kim", 1, hold_options (60, FALSE, NULL), &expires,
                           NULL);
  listener = reserved_test_connect (reserved_test_daemon_get_address (f->daemon));
  reserved_test_signals_watch (&endings, listener, "HoldEnded", on_hold_ended);
  reserved_test_fixture_disconnect (f);
  reserved_test_daemon_stop (f->daemon);
  reserved_test_fixture_set_clock (f, -86400);
  reserved_test_daemon_start (f->daemon);
  reserved_test_fixture_connect (f);
  /* 61 seconds of the daemon's time later it has expired, although the
   * clock reads a day before its first expiry. */
  reserved_test_fixture_set_clock (f, -86400 + 61);
  endings_wait (&endings, id, "expired");
  reserved_test_signals_clear (&endings);
}

/* Buys a unit of @item: its transaction ends the item's overdue holds, on
 * the daemon's time as it reads the hook's file at that moment. Then the
 * item has @held units held. */
static void
probe_held (Fixture *f, const char *item, guint32 held)
{
  reserved_test_buy (&f->client, item, "probe", 1, NULL, NULL);
  g_assert_cmpuint (reserved_test_get_item (&f->client, item).held, ==, held);
  reserved_test_assert_law (&f->client);
}

/* The wall clock set a day forward, then a day back, while the daemon
 * runs: a hold neither ends early (a day forward is far past its expiry
 * on the wall clock) nor outlives its time (a day back is far before it).
 * Then the wall clock a day forward while the daemon is stopped: the
 * daemon cannot tell that from time passing, and ends the hold at start. */
static void
test_wall_clock_jump (Fixture *f, gconstpointer data)
{
  Endings endings = { 0 };
  g_autoptr(GDBusConnection) listener = NULL;
  guint64 first, second, third;

  /* A connection of its own hears the endings across the restart. */
  listener = reserved_test_connect (reserved_test_daemon_get_address (f->daemon));
  reserved_test_signals_watch (&endings, listener, "HoldEnded", on_hold_ended);
  first = reserved_test_hold (&f->client, "ticket", "max", 1, hold_options (600, FALSE, NULL), NULL,
                              NULL);
  second = reserved_test_hold (&f->client, "ticket", "max", 1, hold_options (1200, FALSE, NULL),
                               NULL, NULL);

  /* Each change of the file also resets the daemon's expiry timer. */
  reserved_test_fixture_set_clocks (f, 0, 86400);
  probe_held (f, "ticket", 2);
  reserved_test_fixture_set_clocks (f, 0, -86400);
  probe_held (f, "ticket", 2);
  /* A minute before the first's expiry, the wall clock a day either way. */
  reserved_test_fixture_set_clocks (f, 540, 86400);
  probe_held (f, "ticket", 2);
  reserved_test_fixture_set_clocks (f, 540, -86400);
  probe_held (f, "ticket", 2);

  /* Its time is up with the wall clock a day back: the timer ends it. */
  reserved_test_fixture_set_clocks (f, 600, -86400);
  endings_wait (&endings, first, "expired");
  probe_held (f, "ticket", 1);
  reserved_test_fixture_set_clocks (f, 1140, 86400);
  probe_held (f, "ticket", 1);
  g_assert_false (has_ended (&endings, second));
  reserved_test_fixture_set_clocks (f, 1200, 86400);
  endings_wait (&endings, second, "expired");
  probe_held (f, "ticket", 0);

  /* Stopped, then started with the wall clock a day forward. */
  third = reserved_test_hold (&f->client, "ticket", "max", 1, hold_options (600, FALSE, NULL), NULL,
                              NULL);
  probe_held (f, "ticket", 1);
  reserved_test_fixture_disconnect (f);
  reserved_test_daemon_stop (f->daemon);
  reserved_test_fixture_set_clocks (f, 1200, 86400);
  reserved_test_daemon_start (f->daemon);
  reserved_test_fixture_connect (f);
  endings_wait (&endings, third, "expired");
  probe_held (f, "ticket", 0);
  reserved_test_signals_clear (&endings);
}

/* Confirm and expiry reach the writer in either order: whichever comes
 * first wins, the hold ends once, and Confirm of an expired hold is
 * HoldEnded. */
static void
test_confirm_racing_expiry (Fixture *f, gconstpointer data)
{
  Endings endings = { 0 };
  g_autoptr(GError) error = NULL;
  guint64 id;

  reserved_test_signals_watch (&endings, f->connection, "HoldEnded", on_hold_ended);
  id =
    reserved_test_hold (&f->client, "ticket", "lee", 1, hold_options (60, FALSE, NULL), NULL, NULL);
  reserved_test_fixture_set_clock (f, 60);
  reserve_reserve1_call_confirm_sync (f->proxy, id, g_variant_new ("a{sv}", NULL),
                                      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL, &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_HOLD_ENDED);
  g_assert_nonnull (strstr (error->message, "expired"));
  endings_wait (&endings, id, "expired");
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").sold, ==, 0);
  reserved_test_signals_clear (&endings);
}

/* --- HoldFd ------------------------------------------------------------------------ */

static guint64
hold_fd (ReserveReserve1 *proxy, const char *item, guint32 quantity, int *fd_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) handle = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  guint64 id = 0;
  gint64 expires = -1;

  reserve_reserve1_call_hold_fd_sync (proxy, item, "mia", quantity, g_variant_new ("a{sv}", NULL),
                                      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &id, &handle, &expires,
                                      NULL, &fds, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (expires, ==, 0);
  *fd_out = g_unix_fd_list_get (fds, g_variant_get_handle (handle), &error);
  g_assert_no_error (error);
  return id;
}

/* The hold lives while any copy of the descriptor is open. */
static void
test_fd_copies (Fixture *f, gconstpointer data)
{
  Endings endings = { 0 };
  int fd = -1, copy;
  guint64 id;

  reserved_test_signals_watch (&endings, f->connection, "HoldEnded", on_hold_ended);
  id = hold_fd (f->proxy, "ticket", 2, &fd);
  copy = dup (fd);
  g_assert_cmpint (copy, >=, 0);
  close (fd);
  /* A copy is open: nothing can end it. */
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 2);
  close (copy);
  endings_wait (&endings, id, "closed");
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").remaining, ==, 100);
  reserved_test_signals_clear (&endings);
}

/* The descriptor handed down to a grandchild keeps the hold after the
 * caller closed its own copy; the hold ends when the grandchild, the last
 * holder, exits. */
static void
test_fd_grandchild (Fixture *f, gconstpointer data)
{
  g_autoptr(GSubprocessLauncher) launcher =
               g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  Endings endings = { 0 };
  int fd = -1;
  guint64 id;

  reserved_test_signals_watch (&endings, f->connection, "HoldEnded", on_hold_ended);
  id = hold_fd (f->proxy, "ticket", 1, &fd);
  /* The shell passes descriptor 3 on to the inner shell, which waits
   * for its input to end. */
  g_subprocess_launcher_take_fd (launcher, fd, 3);
  child =
    g_subprocess_launcher_spawn (launcher, &error, "sh", "-c", "sh -c 'read line'; exit 0", NULL);
  g_assert_no_error (error);
  /* The launcher keeps the descriptor it was given until it goes. */
  g_clear_object (&launcher);
  /* Only the grandchild and its parent hold it now. */
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 1);
  g_output_stream_close (g_subprocess_get_stdin_pipe (child), NULL, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check (child, NULL, &error);
  g_assert_no_error (error);
  endings_wait (&endings, id, "closed");
  reserved_test_signals_clear (&endings);
}

/* A daemon restarted while the descriptor is open keeps the hold, and
 * ends it when the descriptor is closed; one restarted after it was
 * closed ends it at start. */
static void
test_fd_restart (Fixture *f, gconstpointer data)
{
  Endings endings = { 0 };
  g_autoptr(GDBusConnection) listener = NULL;
  int kept = -1, dropped = -1;
  guint64 kept_id, dropped_id;
  g_autoptr(GVariant) holds = NULL;

  kept_id = hold_fd (f->proxy, "ticket", 1, &kept);
  dropped_id = hold_fd (f->proxy, "ticket", 3, &dropped);
  listener = reserved_test_connect (reserved_test_daemon_get_address (f->daemon));
  reserved_test_signals_watch (&endings, listener, "HoldEnded", on_hold_ended);
  reserved_test_fixture_disconnect (f);
  reserved_test_daemon_stop (f->daemon);
  close (dropped);
  reserved_test_daemon_start (f->daemon);
  reserved_test_fixture_connect (f);
  endings_wait (&endings, dropped_id, "closed");
  holds = reserved_test_list_holds (&f->client, "");
  g_assert_cmpuint (g_variant_n_children (holds), ==, 1);
  close (kept);
  endings_wait (&endings, kept_id, "closed");
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").remaining, ==, 100);
  reserved_test_signals_clear (&endings);
}

static void
add_cases (void)
{
#define ADD        RESERVED_TEST_FIXTURE_ADD
#define ADD_CONFIG RESERVED_TEST_FIXTURE_ADD_CONFIG
#define ADD_CLOCK  RESERVED_TEST_FIXTURE_ADD_CLOCK

  ADD ("/holds/confirm", test_confirm);
  ADD ("/holds/release", test_release);
  ADD ("/holds/or-buy-sold-out", test_or_buy_sold_out);
  ADD ("/holds/sold-out-and-limits", test_sold_out_and_limits);
  ADD_CONFIG ("/holds/max-holds-per-uid", test_max_holds_per_uid, "[reserved]\nMaxHoldsPerUid=2\n");
  ADD ("/holds/bad-input", test_bad_input);
  ADD ("/holds/disconnect", test_disconnect);
  ADD ("/holds/disconnect/one-of-two", test_disconnect_one_of_two);
  ADD ("/holds/disconnect/before-reply", test_disconnect_before_reply);
  ADD ("/holds/disconnect/restart", test_disconnect_restart);
  ADD_CONFIG ("/holds/kill", test_kill, "[reserved]\nMaxHoldsPerUid=1000000\n");
  ADD_CLOCK ("/holds/expiry", test_expiry);
  ADD_CLOCK ("/holds/clock-set-back", test_clock_set_back);
  ADD_CLOCK ("/holds/wall-clock-jump", test_wall_clock_jump);
  ADD_CLOCK ("/holds/confirm-racing-expiry", test_confirm_racing_expiry);
  ADD_CLOCK ("/holds/fd/copies", test_fd_copies);
  ADD_CLOCK ("/holds/fd/restart", test_fd_restart);
  ADD_CLOCK ("/holds/fd/grandchild", test_fd_grandchild);

#undef ADD
#undef ADD_CONFIG
#undef ADD_CLOCK
}

RESERVED_TEST_MAIN (add_cases, NULL)
