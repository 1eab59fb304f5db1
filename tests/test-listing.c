/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Listings of any length: a database with hundreds of thousands of orders,
 * made at once by SQL, where ListOrders("") would build a reply past the
 * bus's 32 MiB message limit, and the bus would drop the daemon. The
 * daemon refuses such a listing with LimitsExceeded, stays on the bus,
 * answers a Buy sent while it reads, and ListOrdersPage reads every order
 * exactly once in bounded pages; reads that take long (an item's stock
 * counted over all its orders) never hold up a Buy sent after them; the
 * pages' filters and checks, and ListItemsPage. */
#include <string.h>
#include <unistd.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"
#include "reserved-test-reply.h"
#include "reserved-test-sqlite.h"

/* Enough rows of a 64-byte item name that ListOrders' a(tsuxs) reply
 * (112 bytes a row) passes 32 MiB. */
#define MANY_ORDERS 320000
#define LONG_ITEM   "a-long-item-name-of-sixty-four-bytes-to-make-each-row-as-long-as"
#define FIRST_TIME  G_GINT64_CONSTANT (1700000000000000)

G_STATIC_ASSERT (sizeof LONG_ITEM - 1 == RESERVE_NAME_MAX_BYTES);
G_STATIC_ASSERT (MANY_ORDERS > RESERVE_LIST_REPLY_MAX);

/* MANY_ORDERS orders of LONG_ITEM for the customers "c0" to "c999", the
 * n-th made at FIRST_TIME + n, every tenth cancelled; the law holds. */
static void
make_many_orders (const char *database)
{
  g_autofree char *sql = g_strdup_printf (
    "BEGIN;"
    "INSERT INTO items (name, capacity, remaining) VALUES ('%s', 1000000000, 1000000000);"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
    " INSERT INTO orders (item_id, customer, quantity, caller_uid, created, cancelled)"
    " SELECT (SELECT id FROM items WHERE name = '%s'), 'c' || (i %% 1000), 1, %u,"
    " %" G_GINT64_FORMAT " + i, i %% 10 = 0 FROM n;"
    "UPDATE items SET remaining = capacity - (SELECT SUM(quantity) FROM orders"
    " WHERE item_id = items.id AND cancelled = 0) WHERE name = '%s';"
    "COMMIT;",
    LONG_ITEM, MANY_ORDERS, LONG_ITEM, (guint) getuid (), FIRST_TIME, LONG_ITEM);

  reserved_test_sql_exec_file (database, sql);
}

/* Every call is bounded by the harness, not by GDBus's 25-second default:
 * a sanitized or valgrind-wrapped daemon reads these listings slowly. */
static int
timeout_ms (void)
{
  return (int) reserved_test_timeout_seconds () * 1000;
}

static void
call_async (GDBusConnection *connection,
            const char *method,
            GVariant *parameters,
            const char *reply_type,
            ReservedTestReply *answer)
{
  g_dbus_connection_call (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH, RESERVE_INTERFACE,
                          method, parameters, G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NONE,
                          timeout_ms (), NULL, reserved_test_reply_ready, answer);
}

/* (transfer full) ListOrdersPage with @query (floating). */
static GVariant *
call_list_orders_page (GDBusConnection *connection, GVariant *query, GError **error)
{
  return g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                      RESERVE_INTERFACE, "ListOrdersPage",
                                      g_variant_new ("(@a{sv})", query),
                                      G_VARIANT_TYPE ("(a(tssuxs)s)"), G_DBUS_CALL_FLAGS_NONE,
                                      timeout_ms (), NULL, error);
}

/* (transfer full) One page, asserting success; @next_cursor (transfer full). */
static GVariant *
list_orders_page (GDBusConnection *connection, GVariant *query, char **next_cursor)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call_list_orders_page (connection, query, &error);
  GVariant *orders = NULL;

  g_assert_no_error (error);
  g_variant_get (reply, "(@a(tssuxs)s)", &orders, next_cursor);
  return orders;
}

static void
list_orders_page_refused (GDBusConnection *connection, GVariant *query, const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call_list_orders_page (connection, query, &error);

  g_assert_null (reply);
  reserved_test_assert_api_error (error, RESERVE_ERROR_INVALID_ARGUMENT);
  if (strstr (error->message, needle) == NULL)
    g_error ("the refusal “%s” should name “%s”", error->message, needle);
}

/* a{sv} (floating) from pairs of key and GVariant (floating), NULL-ended. */
static GVariant *
query_new (const char *first_key, ...)
{
  GVariantBuilder builder;
  va_list args;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  va_start (args, first_key);
  for (const char *key = first_key; key != NULL; key = va_arg (args, const char *))
    g_variant_builder_add (&builder, "{sv}", key, va_arg (args, GVariant *));
  va_end (args);
  return g_variant_builder_end (&builder);
}

/* Every page of a listing; returns how many orders, each checked to come
 * after the one before (ids strictly increasing: none twice, none out of
 * order), against @check when non-NULL. */
typedef void (*OrderCheck) (guint64 id,
                            const char *item,
                            const char *user,
                            guint32 quantity,
                            gint64 created,
                            const char *state);

static guint
count_pages (GDBusConnection *connection, const char *user, guint32 limit, OrderCheck check)
{
  g_autofree char *cursor = g_strdup ("");
  guint64 last_id = 0;
  guint n = 0, pages = 0;

  do
    {
      g_autoptr(GVariant) orders = NULL;
      g_autofree char *next = NULL;
      GVariantIter iter;
      guint64 id;
      const char *item, *customer, *state;
      guint32 quantity;
      gint64 created;

      orders =
        list_orders_page (connection,
                          user != NULL ? query_new ("limit", g_variant_new_uint32 (limit), "cursor",
                                                    g_variant_new_string (cursor), "user",
                                                    g_variant_new_string (user), NULL)
                                       : query_new ("limit", g_variant_new_uint32 (limit), "cursor",
                                                    g_variant_new_string (cursor), NULL),
                          &next);
      g_assert_cmpuint (g_variant_n_children (orders), <=, limit);
      g_variant_iter_init (&iter, orders);
      while (g_variant_iter_next (&iter, "(t&s&sux&s)", &id, &item, &customer, &quantity, &created,
                                  &state))
        {
          g_assert_cmpuint (id, >, last_id);
          last_id = id;
          if (check != NULL)
            check (id, item, customer, quantity, created, state);
          n++;
        }
      /* Only the last page may be short. */
      if (next[0] != '\0')
        g_assert_cmpuint (g_variant_n_children (orders), ==, limit);
      g_free (cursor);
      cursor = g_steal_pointer (&next);
      pages++;
    }
  while (cursor[0] != '\0');
  g_test_message ("%u orders in %u pages", n, pages);
  return n;
}

static void
check_many (guint64 id,
            const char *item,
            const char *user,
            guint32 quantity,
            gint64 created,
            const char *state)
{
  if (id > MANY_ORDERS)
    return; /* the Buy made during the listing */
  g_assert_cmpstr (item, ==, LONG_ITEM);
  g_assert_cmpint (created, ==, FIRST_TIME + (gint64) id);
  g_assert_cmpstr (state, ==, id % 10 == 0 ? "cancelled" : "active");
  if (id % 1000 == 7)
    g_assert_cmpstr (user, ==, "c7");
}

static void
test_too_long_for_one_reply (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autoptr(GDBusConnection) lister = NULL;
  g_autoptr(GDBusConnection) buyer = NULL;
  ReservedTestReply listing = { 0 }, bought = { 0 }, items = { 0 };
  GPid pid;

  /* A fresh database made by the daemon, then filled as another program
   * (a restore, an import) would. */
  reserved_test_daemon_start (daemon);
  reserved_test_daemon_stop (daemon);
  make_many_orders (reserved_test_daemon_get_database (daemon));
  reserved_test_daemon_start (daemon);
  pid = reserved_test_daemon_get_owner_pid (daemon);

  lister = reserved_test_connect (reserved_test_daemon_get_address (daemon));
  buyer = reserved_test_connect (reserved_test_daemon_get_address (daemon));

  /* The whole listing, and a purchase sent while it is being read. */
  call_async (lister, "ListOrders", g_variant_new ("(s)", ""), "(a(tsuxs))", &listing);
  call_async (buyer, "Buy",
              g_variant_new ("(ssu@a{sv})", "ticket", "alice", 1, reserved_test_options (NULL)),
              "(tu)", &bought);
  call_async (lister, "ListItems", NULL, "(a(suu))", &items);
  reserved_test_reply_wait (&bought);
  reserved_test_reply_wait (&listing);
  reserved_test_reply_wait (&items);

  g_assert_no_error (bought.error);
  g_assert_no_error (items.error);
  g_assert_null (listing.reply);
  g_assert_error (listing.error, G_DBUS_ERROR, G_DBUS_ERROR_LIMITS_EXCEEDED);
  g_test_message ("ListOrders(\"\") refused: %s", listing.error->message);
  g_assert_nonnull (strstr (listing.error->message, "100000"));
  g_assert_nonnull (strstr (listing.error->message, "ListOrdersPage"));
  g_assert_cmpint (reserved_test_daemon_get_owner_pid (daemon), ==, pid);

  /* Every order exactly once, in pages of at most 10000, and one
   * customer's orders through the same pages. */
  g_assert_cmpuint (count_pages (lister, NULL, RESERVE_PAGE_LIMIT_MAX, check_many), ==,
                    MANY_ORDERS + 1);
  g_assert_cmpuint (count_pages (lister, "c7", RESERVE_PAGE_LIMIT_MAX, check_many), ==,
                    MANY_ORDERS / 1000);

  /* The law, read as another program reads the file: ListOrders is the
   * very listing that is too long. */
  {
    sqlite3 *db =
      reserved_test_sql_open (reserved_test_daemon_get_database (daemon), SQLITE_OPEN_READONLY);
    ReservedTestQuery q;

    reserved_test_query_start (
      &q, db,
      "SELECT COUNT(*) FROM items WHERE remaining + (SELECT COALESCE(SUM(quantity), 0)"
      " FROM orders WHERE item_id = items.id AND cancelled = 0) != capacity");
    g_assert_cmpint (reserved_test_query_int (&q), ==, 0);
    reserved_test_sql_close (db);
  }
  reserved_test_reply_clear (&listing);
  reserved_test_reply_clear (&bought);
  reserved_test_reply_clear (&items);
  reserved_test_daemon_stop (daemon);
}

/* --- reads off the main loop ----------------------------------------------- */

/* GetItem counts what was sold of an item over all its orders. */
#define SLOW_READS 20

/* An answer and its rank among the answers of one connection. */
typedef struct {
  guint *answers; /* how many came so far */
  guint rank;
  ReservedTestReply reply;
} RankedReply;

static void
on_ranked_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RankedReply *ranked = user_data;

  ranked->rank = ++*ranked->answers;
  reserved_test_reply_take (&ranked->reply, source, result);
}

static void
call_ranked (GDBusConnection *connection,
             const char *method,
             GVariant *parameters,
             const char *reply_type,
             guint *answers,
             RankedReply *ranked)
{
  ranked->answers = answers;
  g_dbus_connection_call (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH, RESERVE_INTERFACE,
                          method, parameters, G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NONE,
                          timeout_ms (), NULL, on_ranked_reply, ranked);
}

/* Reads that take long queue up on the daemon's reader, not on its main
 * loop: a Buy sent on the same connection after them (so the daemon
 * receives it after them) is answered before the last of them. A daemon
 * that read on its main loop would answer every GetItem first. */
static void
test_reads_do_not_hold_up_buy (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autoptr(GDBusConnection) connection = NULL;
  RankedReply reads[SLOW_READS] = { 0 }, bought = { 0 };
  guint answers = 0;
  guint32 sold = 0;

  reserved_test_daemon_start (daemon);
  reserved_test_daemon_stop (daemon);
  make_many_orders (reserved_test_daemon_get_database (daemon));
  reserved_test_daemon_start (daemon);
  connection = reserved_test_connect (reserved_test_daemon_get_address (daemon));

  for (guint i = 0; i < SLOW_READS; i++)
    call_ranked (connection, "GetItem", g_variant_new ("(s)", LONG_ITEM), "(a{sv})", &answers,
                 &reads[i]);
  call_ranked (connection, "Buy",
               g_variant_new ("(ssu@a{sv})", "ticket", "alice", 1, reserved_test_options (NULL)),
               "(tu)", &answers, &bought);
  for (guint i = 0; i < SLOW_READS; i++)
    reserved_test_reply_wait (&reads[i].reply);
  reserved_test_reply_wait (&bought.reply);

  g_assert_no_error (bought.reply.error);
  for (guint i = 0; i < SLOW_READS; i++)
    {
      g_autoptr(GVariant) info = NULL;

      g_assert_no_error (reads[i].reply.error);
      g_variant_get (reads[i].reply.reply, "(@a{sv})", &info);
      g_assert_true (g_variant_lookup (info, "sold", "u", &sold));
      g_assert_cmpuint (sold, ==, MANY_ORDERS - MANY_ORDERS / 10);
      /* In the order they were asked. */
      if (i > 0)
        g_assert_cmpuint (reads[i].rank, >, reads[i - 1].rank);
      reserved_test_reply_clear (&reads[i].reply);
    }
  g_test_message ("the Buy was answered %u of %u", bought.rank, SLOW_READS + 1);
  g_assert_cmpuint (bought.rank, <, reads[SLOW_READS - 1].rank);
  reserved_test_reply_clear (&bought.reply);
  reserved_test_daemon_stop (daemon);
}

/* --- the pages' filters and checks, on a few orders ----------------------- */

static void
assert_page (GDBusConnection *connection, GVariant *query, guint expected)
{
  g_autofree char *next = NULL;
  g_autoptr(GVariant) orders = list_orders_page (connection, query, &next);

  g_assert_cmpuint (g_variant_n_children (orders), ==, expected);
  g_assert_cmpstr (next, ==, "");
}

static void
test_filters (ReservedTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) first = NULL;
  g_autoptr(GVariant) row = NULL;
  g_autofree char *next = NULL;
  guint64 cancelled, id;
  gint64 middle;
  const char *user;

  reserved_test_create_item (&f->client, "show", 50, 0);
  reserved_test_buy (&f->client, "ticket", "alice", 1, NULL, NULL);
  reserved_test_buy (&f->client, "show", "alice", 2, NULL, NULL);
  middle = g_get_real_time ();
  reserved_test_buy (&f->client, "show", "bob", 1, NULL, NULL);
  cancelled = reserved_test_buy (&f->client, "ticket", "bob", 3, NULL, NULL);
  reserved_test_cancel (&f->client, cancelled);

  /* Two at a time: a cursor, then the last page. */
  first =
    list_orders_page (f->connection, query_new ("limit", g_variant_new_uint32 (2), NULL), &next);
  g_assert_cmpuint (g_variant_n_children (first), ==, 2);
  g_assert_cmpstr (next, !=, "");
  row = g_variant_get_child_value (first, 1);
  g_variant_get (row, "(t&s&suxs)", &id, NULL, &user, NULL, NULL, NULL);
  g_assert_cmpstr (user, ==, "alice");
  assert_page (f->connection,
               query_new ("limit", g_variant_new_uint32 (2), "cursor", g_variant_new_string (next),
                          NULL),
               2);
  assert_page (f->connection, query_new (NULL), 4);

  assert_page (f->connection, query_new ("user", g_variant_new_string ("alice"), NULL), 2);
  assert_page (f->connection, query_new ("item", g_variant_new_string ("show"), NULL), 2);
  assert_page (f->connection, query_new ("state", g_variant_new_string ("cancelled"), NULL), 1);
  assert_page (f->connection, query_new ("state", g_variant_new_string ("active"), NULL), 3);
  assert_page (f->connection, query_new ("created_from", g_variant_new_int64 (middle), NULL), 2);
  assert_page (f->connection, query_new ("created_before", g_variant_new_int64 (middle), NULL), 2);
  assert_page (f->connection,
               query_new ("user", g_variant_new_string ("bob"), "item",
                          g_variant_new_string ("ticket"), "state", g_variant_new_string ("active"),
                          NULL),
               0);

  /* Bad queries name the value and what is allowed. */
  list_orders_page_refused (f->connection, query_new ("limit", g_variant_new_uint32 (0), NULL),
                            "limit");
  list_orders_page_refused (f->connection,
                            query_new ("limit", g_variant_new_uint32 (RESERVE_PAGE_LIMIT_MAX + 1),
                                       NULL),
                            "10000");
  list_orders_page_refused (f->connection,
                            query_new ("cursor", g_variant_new_string ("page-2"), NULL), "page-2");
  list_orders_page_refused (f->connection,
                            query_new ("state", g_variant_new_string ("refunded"), NULL),
                            "refunded");
  list_orders_page_refused (f->connection,
                            query_new ("item", g_variant_new_string ("no spaces"), NULL),
                            "no spaces");
  list_orders_page_refused (f->connection,
                            query_new ("customer", g_variant_new_string ("alice"), NULL),
                            "customer");
  list_orders_page_refused (f->connection, query_new ("limit", g_variant_new_int32 (5), NULL),
                            "limit");
}

static void
test_items_pages (ReservedTestFixture *f, gconstpointer data)
{
  static const char *const names[] = { "a-1", "b-2", "c-3", "d-4", "ticket" };
  g_autofree char *cursor = g_strdup ("");
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (names) - 1; i++)
    reserved_test_create_item (&f->client, names[i], i, i);
  do
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) items = NULL;
      g_autofree char *next = NULL;
      GVariantIter iter;
      const char *name;
      guint32 capacity, remaining, limit;

      g_assert_true (
        reserve_reserve1_call_list_items_page_sync (f->proxy,
                                                    query_new ("limit", g_variant_new_uint32 (2),
                                                               "cursor",
                                                               g_variant_new_string (cursor), NULL),
                                                    G_DBUS_CALL_FLAGS_NONE, timeout_ms (), &items,
                                                    &next, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (g_variant_n_children (items), <=, 2);
      g_variant_iter_init (&iter, items);
      while (g_variant_iter_next (&iter, "(&suuu)", &name, &capacity, &remaining, &limit))
        {
          g_assert_cmpuint (n, <, G_N_ELEMENTS (names));
          g_assert_cmpstr (name, ==, names[n]);
          if (n < G_N_ELEMENTS (names) - 1)
            {
              g_assert_cmpuint (capacity, ==, n);
              g_assert_cmpuint (limit, ==, n);
            }
          n++;
        }
      g_free (cursor);
      cursor = g_steal_pointer (&next);
    }
  while (cursor[0] != '\0');
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (names));
}

/* A caller not allowed every customer's orders sees, page by page, only
 * the orders it placed itself, and may not list every customer. */
static void
test_other_caller (ReservedTestFixture *f, gconstpointer data)
{
  g_autofree char *output = NULL;
  const char *args[] = { "list-alice-pages", reserved_test_daemon_get_address (f->daemon), NULL };

  reserved_test_buy (&f->client, "ticket", "alice", 2, NULL, NULL);
  output =
    reserved_test_run_helper (args, RESERVED_TEST_NOBODY_UID, "ListOrdersPage as another uid");
  g_assert_cmpstr (output, ==, "own 0, everyone refused\n");
}

/* list-alice-pages ADDRESS */
static int
helper_list_alice_pages (char **args)
{
  g_autoptr(GDBusConnection) connection = reserved_test_connect (args[0]);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) own = NULL;
  g_autoptr(GVariant) everyone = NULL;
  g_autofree char *next = NULL;

  own =
    list_orders_page (connection, query_new ("user", g_variant_new_string ("alice"), NULL), &next);
  everyone = g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                          RESERVE_INTERFACE, "ListOrdersPage",
                                          g_variant_new ("(@a{sv})", query_new (NULL)), NULL,
                                          G_DBUS_CALL_FLAGS_NONE, timeout_ms (), NULL, &error);
  g_assert_null (everyone);
  reserved_test_assert_api_error (error, RESERVE_ERROR_PERMISSION_DENIED);
  reserved_test_helper_say ("own %zu, everyone refused\n", g_variant_n_children (own));
  return 0;
}

static const ReservedTestHelper helpers[] = {
  { "list-alice-pages", 1, helper_list_alice_pages },
  { NULL },
};

static void
add_cases (void)
{
#define ADD RESERVED_TEST_FIXTURE_ADD
  g_test_add_func ("/listing/too-long-for-one-reply", test_too_long_for_one_reply);
  g_test_add_func ("/listing/reads-do-not-hold-up-buy", test_reads_do_not_hold_up_buy);
  ADD ("/listing/orders-page/filters", test_filters);
  ADD ("/listing/orders-page/other-caller", test_other_caller);
  ADD ("/listing/items-page", test_items_pages);
#undef ADD
}

RESERVED_TEST_MAIN (add_cases, helpers)
