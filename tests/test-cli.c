/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The `reserve` CLI ($RESERVE_BINARY) against the real daemon on a private
 * bus: what it prints, what --json holds, and its exit status for each kind
 * of failure, which is what scripts and people rely on.
 *
 * $RESERVE_TEST_CLI_WRAPPER is put in front of every `reserve`, e.g.
 *   valgrind -q --leak-check=full --show-leak-kinds=definite
 *     --errors-for-leak-kinds=definite --error-exitcode=99
 *     --suppressions=/usr/share/glib-2.0/valgrind/glib.supp
 * A finding changes the exit status and fails the test. Only definite leaks
 * are shown: GDBus's worker thread is never joined, and any report on
 * stderr would fail the tests that expect it empty. */
#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include <json-glib/json-glib.h>

#include "reserved-test-cli.h"
#include "reserved-test-daemon.h"
#include "reserved-test-main.h"

/* Most cases run against the shared fixture, a daemon with an empty
 * configuration; the others say which configuration a daemon starts with,
 * or NULL for no daemon. */
typedef ReservedTestCliFixture Fixture;

typedef struct {
  const char *config;
} FixtureSetup;

static const FixtureSetup seat_setup = { "[reserved]\n"
                                         "DefaultItem=seat\n"
                                         "InitialCapacity=7\n" };
static const FixtureSetup no_daemon_setup = { NULL };

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  const FixtureSetup *setup = data;

  fixture->daemon = reserved_test_daemon_new ();
  if (setup->config == NULL)
    return;
  reserved_test_daemon_write_config (fixture->daemon, setup->config);
  reserved_test_daemon_start (fixture->daemon);
}

/* --- running reserve ----------------------------------------------------- */

/* A failure: the exit status, nothing on stdout, and one `reserve: ` message
 * on stderr. */
static void
assert_failure (const ReservedTestRun *run, int expected)
{
  reserved_test_assert_exit (run, expected);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_true (g_str_has_prefix (run->err, "reserve: "));
}

static void
assert_usage_error (const ReservedTestRun *run, const char *message)
{
  g_autofree char *line = g_strdup_printf ("reserve: %s\n", message);

  assert_failure (run, 2);
  g_assert_true (g_str_has_prefix (run->err, line));
}

/* --- JSON ---------------------------------------------------------------- */

static const char *const order_keys[] = { "order",   "item",  "user", "quantity",
                                          "created", "state", NULL };

/* `reserve status ITEM --json`, keys checked. */
static JsonNode *
item_status (const char *item)
{
  JsonNode *root = reserved_test_run_json ("status", "--session", "--json", item, NULL);

  reserved_test_json_assert_keys (json_node_get_object (root), reserved_test_item_status_keys);
  return root;
}

static gint64
remaining_of (const char *item)
{
  g_autoptr(JsonNode) status = item_status (item);

  return reserved_test_json_int (json_node_get_object (status), "remaining");
}

/* `reserve orders --user USER --json` (or --all for a NULL @user), with the
 * keys of every order checked. */
static JsonNode *
orders_of (const char *user)
{
  JsonNode *root =
    user != NULL ? reserved_test_run_json ("orders", "--session", "--user", user, "--json", NULL)
                 : reserved_test_run_json ("orders", "--session", "--all", "--json", NULL);
  JsonArray *orders = json_node_get_array (root);

  g_assert_nonnull (orders);
  for (guint i = 0; i < json_array_get_length (orders); i++)
    reserved_test_json_assert_keys (json_array_get_object_element (orders, i), order_keys);
  return root;
}

/* --- buy ----------------------------------------------------------------- */

static void
test_buy_prints_order (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run = NULL;
  g_autoptr(JsonNode) orders = NULL;
  JsonObject *order;
  guint64 order_id;

  run = reserved_test_run_ok ("buy", "--session", "--user", "alice", NULL);
  g_assert_cmpstr (run->err, ==, "");
  order_id = reserved_test_match_number ("^Order ([0-9]+): alice bought 1 × ticket; 99 left\\.\n$",
                                         0, run->out);

  orders = orders_of ("alice");
  g_assert_cmpuint (json_array_get_length (json_node_get_array (orders)), ==, 1);
  order = json_array_get_object_element (json_node_get_array (orders), 0);
  g_assert_cmpint (reserved_test_json_int (order, "order"), ==, order_id);
  g_assert_cmpint (remaining_of ("ticket"), ==, 99);
}

/* Quotes, emoji and SQL are just text: verbatim in the line a person reads
 * (whatever the locale) and escaped properly in JSON. */
static const char awkward_user[] = "O'Brien \"🎫\" '; DROP TABLE orders;--";

static void
test_buy_json (Fixture *fixture, gconstpointer data)
{
  static const char *const buy_keys[] = { "order",     "item",     "user",  "quantity",
                                          "remaining", "replayed", "state", NULL };
  g_autoptr(JsonNode) bought = NULL;
  g_autoptr(JsonNode) orders = NULL;
  JsonObject *object;
  JsonObject *order;

  bought = reserved_test_run_json ("buy", "--session", "--user", awkward_user, "--item", "ticket",
                                   "--quantity", "2", "--json", NULL);
  object = json_node_get_object (bought);
  g_assert_nonnull (object);
  reserved_test_json_assert_keys (object, buy_keys);
  g_assert_cmpint (reserved_test_json_int (object, "order"), >, 0);
  g_assert_cmpstr (reserved_test_json_string (object, "item"), ==, "ticket");
  g_assert_cmpstr (reserved_test_json_string (object, "user"), ==, awkward_user);
  reserved_test_json_assert_ints (object, "quantity", 2, "remaining", 98, NULL);

  orders = orders_of (awkward_user);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (orders)), ==, 1);
  order = json_array_get_object_element (json_node_get_array (orders), 0);
  g_assert_cmpint (reserved_test_json_int (order, "order"), ==,
                   reserved_test_json_int (object, "order"));
}

static void
test_buy_user_verbatim (Fixture *fixture, gconstpointer data)
{
  static const char *const c_locale[] = { "LC_ALL", "C", NULL };
  g_autofree char *expected = g_strdup_printf (": %s bought 1 × ticket; ", awkward_user);
  /* Under LC_ALL=C the CLI's own words are ASCII; the name is not its own. */
  g_autofree char *expected_ascii = g_strdup_printf (": %s bought 1 x ticket; ", awkward_user);
  g_autoptr(ReservedTestRun) utf8 = NULL;
  g_autoptr(ReservedTestRun) ascii = NULL;

  utf8 = reserved_test_run_ok ("buy", "--session", "--user", awkward_user, NULL);
  ascii =
    reserved_test_run_reserve_with_env (c_locale, "buy", "--session", "--user", awkward_user, NULL);
  reserved_test_assert_exit (ascii, 0);
  reserved_test_assert_contains (utf8->out, expected);
  reserved_test_assert_contains (ascii->out, expected_ascii);
}

static void
test_buy_default_item (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run = NULL;
  g_autoptr(JsonNode) status = NULL;
  JsonObject *object;

  run = reserved_test_run_ok ("buy", "--session", "--user", "alice", NULL);
  reserved_test_match_number ("^Order ([0-9]+): alice bought 1 × seat; 6 left\\.\n$", 0, run->out);

  status = reserved_test_run_json ("status", "--session", "--json", NULL);
  object = json_node_get_object (status);
  reserved_test_json_assert_keys (object, reserved_test_item_status_keys);
  g_assert_cmpstr (reserved_test_json_string (object, "item"), ==, "seat");
  g_assert_cmpint (reserved_test_json_int (object, "remaining"), ==, 6);
}

static void
test_buy_quantity (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run = NULL;
  g_autoptr(JsonNode) status = NULL;
  JsonObject *object;

  run = reserved_test_run_ok ("buy", "--session", "--user", "alice", "--quantity", "3", NULL);
  reserved_test_match_number ("^Order ([0-9]+): alice bought 3 × ticket; 97 left\\.\n$", 0,
                              run->out);

  status = item_status ("ticket");
  object = json_node_get_object (status);
  reserved_test_json_assert_ints (object, "sold", 3, "remaining", 97, NULL);
}

static void
test_buy_request_id_replay (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) first = NULL;
  g_autoptr(ReservedTestRun) retry = NULL;
  g_autoptr(JsonNode) orders = NULL;

  first = reserved_test_run_ok ("buy", "--session", "--user", "alice", "--request-id",
                                "checkout-17", NULL);
  retry = reserved_test_run_ok ("buy", "--session", "--user", "alice", "--request-id",
                                "checkout-17", NULL);
  g_assert_cmpuint (reserved_test_match_number ("^Order ([0-9]+): request id checkout-17 was used "
                                                "before; nothing new bought, alice still holds "
                                                "1 × ticket; 99 left\\.\n$",
                                                0, retry->out),
                    ==,
                    reserved_test_match_number ("^Order ([0-9]+): alice bought", 0, first->out));

  orders = orders_of ("alice");
  g_assert_cmpuint (json_array_get_length (json_node_get_array (orders)), ==, 1);
  g_assert_cmpint (remaining_of ("ticket"), ==, 99);
}

/* A replay of a cancelled order bought nothing: it is not reported as a
 * sale, and the exit status says the customer holds nothing. */
static void
test_buy_replay_of_cancelled (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) first = reserved_test_run_ok ("buy", "--session", "--user", "dave",
                                                            "--request-id", "k1", NULL);
  g_autofree char *order_text = reserved_test_match_id ("^Order ([0-9]+): dave bought", first->out);
  g_autoptr(ReservedTestRun) retry = NULL;
  g_autoptr(ReservedTestRun) retry_json = NULL;
  g_autoptr(JsonNode) json = NULL;
  JsonObject *object;

  reserved_test_reserve_ok ("cancel", "--session", order_text, NULL);

  retry =
    reserved_test_run_reserve ("buy", "--session", "--user", "dave", "--request-id", "k1", NULL);
  assert_failure (retry, 1);
  g_assert_null (strstr (retry->out, "bought"));
  reserved_test_assert_contains (retry->err, order_text);
  reserved_test_assert_contains (retry->err, "cancelled");
  reserved_test_assert_contains (retry->err, "nothing was bought");

  retry_json = reserved_test_run_reserve ("buy", "--session", "--user", "dave", "--request-id",
                                          "k1", "--json", NULL);
  reserved_test_assert_exit (retry_json, 1);
  json = reserved_test_parse_json (retry_json->out);
  object = json_node_get_object (json);
  g_assert_true (json_object_get_boolean_member (object, "replayed"));
  g_assert_cmpstr (reserved_test_json_string (object, "state"), ==, "cancelled");
  g_assert_cmpint (remaining_of ("ticket"), ==, 100);
}

/* --- cancel -------------------------------------------------------------- */

static void
test_cancel (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) buy = NULL;
  g_autoptr(ReservedTestRun) cancel = NULL;
  g_autoptr(ReservedTestRun) again = NULL;
  g_autoptr(JsonNode) orders = NULL;
  g_autofree char *order_text = NULL;
  g_autofree char *expected_start = NULL;
  guint64 order_id;

  buy = reserved_test_run_ok ("buy", "--session", "--user", "alice", "--quantity", "4", NULL);
  order_id = reserved_test_match_number ("^Order ([0-9]+):", 0, buy->out);
  order_text = g_strdup_printf ("%" G_GUINT64_FORMAT, order_id);

  cancel = reserved_test_run_ok ("cancel", "--session", order_text, NULL);
  expected_start = g_strdup_printf ("Order %s cancelled: ", order_text);
  g_assert_true (g_str_has_prefix (cancel->out, expected_start));
  g_assert_true (g_str_has_suffix (cancel->out, " 100 left.\n"));
  g_assert_cmpint (remaining_of ("ticket"), ==, 100);

  orders = orders_of ("alice");
  g_assert_cmpstr (reserved_test_json_string (json_array_get_object_element (json_node_get_array (
                                                                               orders),
                                                                             0),
                                              "state"),
                   ==, "cancelled");

  again = reserved_test_run_reserve ("cancel", "--session", order_text, NULL);
  assert_failure (again, 1);
  g_assert_cmpint (remaining_of ("ticket"), ==, 100);
}

/* --- queries ------------------------------------------------------------- */

static void
test_status (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) text = NULL;
  g_autoptr(JsonNode) json = NULL;
  JsonObject *object;

  reserved_test_reserve_ok ("buy", "--session", "--user", "alice", "--quantity", "2", NULL);
  reserved_test_reserve_ok ("create", "--session", "concert", "--capacity", "50",
                            "--per-user-limit", "4", NULL);

  text = reserved_test_run_ok ("status", "--session", NULL);
  g_assert_cmpstr (text->out, ==,
                   "Item:            ticket\n"
                   "Capacity:        100\n"
                   "Remaining:       98\n"
                   "Sold:            2\n"
                   "Per-user limit:  none\n");

  json = item_status ("concert");
  object = json_node_get_object (json);
  g_assert_cmpstr (reserved_test_json_string (object, "item"), ==, "concert");
  reserved_test_json_assert_ints (object, "capacity", 50, "remaining", 50, "sold", 0,
                                  "per_user_limit", 4, NULL);
}

static void
test_items (Fixture *fixture, gconstpointer data)
{
  static const char *const item_keys[] = { "item",     "capacity", "remaining", "sale_start",
                                           "sale_end", "on_sale",  NULL };
  g_autoptr(ReservedTestRun) table = NULL;
  g_autoptr(JsonNode) json = NULL;
  JsonArray *items;
  JsonObject *concert;

  reserved_test_reserve_ok ("create", "--session", "concert", "--capacity", "5", NULL);
  reserved_test_reserve_ok ("buy", "--session", "--user", "bob", "--item", "concert", NULL);

  table = reserved_test_run_ok ("items", "--session", NULL);
  g_assert_cmpstr (table->out, ==,
                   "ITEM     CAPACITY  REMAINING\n"
                   "concert         5          4\n"
                   "ticket        100        100\n");

  json = reserved_test_run_json ("items", "--session", "--json", NULL);
  items = json_node_get_array (json);
  g_assert_nonnull (items);
  g_assert_cmpuint (json_array_get_length (items), ==, 2);
  for (guint i = 0; i < 2; i++)
    reserved_test_json_assert_keys (json_array_get_object_element (items, i), item_keys);
  concert = json_array_get_object_element (items, 0);
  g_assert_cmpstr (reserved_test_json_string (concert, "item"), ==, "concert");
  reserved_test_json_assert_ints (concert, "capacity", 5, "remaining", 4, NULL);
}

/* A zone no test machine is in by accident, given as a POSIX TZ rule so it
 * needs no tzdata. */
#define TEST_ZONE_TZ     "<+0530>-5:30"
#define TEST_ZONE_OFFSET (5 * 3600 + 30 * 60)

static char *
format_in_test_zone (gint64 usec)
{
  g_autoptr(GTimeZone) zone = g_time_zone_new_offset (TEST_ZONE_OFFSET);
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, zone);

  return g_date_time_format (local, "%Y-%m-%dT%H:%M:%S+05:30");
}

/* An order's "created": RFC 3339 in UTC, to the microsecond; as µs since
 * the epoch. */
static gint64
created_usec (JsonObject *order)
{
  const char *text = reserved_test_json_string (order, "created");
  g_autoptr(GDateTime) created = g_date_time_new_from_iso8601 (text, NULL);

  g_assert_true (
    g_regex_match_simple ("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$",
                          text, 0, 0));
  g_assert_nonnull (created);
  return g_date_time_to_unix (created) * G_USEC_PER_SEC + g_date_time_get_microsecond (created);
}

static void
test_orders (Fixture *fixture, gconstpointer data)
{
  static const char *const test_zone[] = { "TZ", TEST_ZONE_TZ, NULL };
  g_autoptr(ReservedTestRun) table = NULL;
  g_autoptr(JsonNode) alice = NULL;
  g_autoptr(JsonNode) everyone = NULL;
  g_autoptr(GString) expected = g_string_new (NULL);
  gint64 after_buying;
  JsonArray *orders;

  reserved_test_reserve_ok ("buy", "--session", "--user", "alice", NULL);
  reserved_test_reserve_ok ("buy", "--session", "--user", "alice", "--quantity", "2", NULL);
  reserved_test_reserve_ok ("buy", "--session", "--user", "bob", NULL);
  after_buying = g_get_real_time ();

  alice = orders_of ("alice");
  orders = json_node_get_array (alice);
  g_assert_cmpuint (json_array_get_length (orders), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *order = json_array_get_object_element (orders, i);

      g_assert_cmpstr (reserved_test_json_string (order, "item"), ==, "ticket");
      g_assert_cmpint (reserved_test_json_int (order, "quantity"), ==, i + 1);
      g_assert_cmpstr (reserved_test_json_string (order, "state"), ==, "active");
      /* From around now. */
      g_assert_cmpint (created_usec (order), <=, after_buying);
      g_assert_cmpint (created_usec (order), >, after_buying - G_TIME_SPAN_HOUR);
    }

  everyone = orders_of (NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (everyone)), ==, 3);

  /* The table shows the same orders, created in the caller's local time. */
  table =
    reserved_test_run_reserve_with_env (test_zone, "orders", "--session", "--user", "alice", NULL);
  reserved_test_assert_exit (table, 0);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *order = json_array_get_object_element (orders, i);
      g_autofree char *created = format_in_test_zone (created_usec (order));

      g_string_append_printf (expected, "%5" G_GINT64_FORMAT "  ticket  %8u  %s  active\n",
                              reserved_test_json_int (order, "order"), i + 1, created);
    }
  g_assert_true (g_str_has_prefix (table->out, "ORDER  ITEM    QUANTITY  CREATED"));
  g_assert_cmpstr (strchr (table->out, '\n') + 1, ==, expected->str);
}

/* An administrator listing every customer's orders sees who bought what. */
static void
test_orders_all_names_users (Fixture *fixture, gconstpointer data)
{
  static const char *const test_zone[] = { "TZ", TEST_ZONE_TZ, NULL };
  static const char *const users[] = { "alice", "bob" };
  g_autoptr(ReservedTestRun) table = NULL;
  g_autoptr(JsonNode) everyone = NULL;
  g_autoptr(GString) expected = g_string_new ("ORDER  ITEM    USER   QUANTITY  CREATED");
  JsonArray *orders;

  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    reserved_test_reserve_ok ("buy", "--session", "--user", users[i], NULL);

  everyone = orders_of (NULL);
  orders = json_node_get_array (everyone);
  g_assert_cmpuint (json_array_get_length (orders), ==, G_N_ELEMENTS (users));
  table = reserved_test_run_reserve_with_env (test_zone, "orders", "--session", "--all", NULL);
  reserved_test_assert_exit (table, 0);
  g_assert_true (g_str_has_prefix (table->out, expected->str));
  g_string_truncate (expected, 0);
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      JsonObject *order = json_array_get_object_element (orders, i);
      g_autofree char *created = format_in_test_zone (created_usec (order));

      g_assert_cmpstr (reserved_test_json_string (order, "user"), ==, users[i]);
      g_string_append_printf (expected, "%5" G_GINT64_FORMAT "  ticket  %-5s  %8u  %s  active\n",
                              reserved_test_json_int (order, "order"), users[i], 1, created);
    }
  g_assert_cmpstr (strchr (table->out, '\n') + 1, ==, expected->str);
}

/* --- admin commands ------------------------------------------------------ */

static void
test_create_restock (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) duplicate = NULL;
  g_autoptr(ReservedTestRun) restock = NULL;
  g_autoptr(JsonNode) status = NULL;
  JsonObject *object;

  reserved_test_reserve_ok ("create", "--session", "concert", "--capacity", "5", "--per-user-limit",
                            "2", NULL);
  duplicate = reserved_test_run_reserve ("create", "--session", "concert", "--capacity", "9", NULL);
  assert_failure (duplicate, 1);
  restock = reserved_test_run_ok ("restock", "--session", "concert", "--quantity", "10", NULL);
  reserved_test_assert_contains (restock->out, "15 left");

  status = item_status ("concert");
  object = json_node_get_object (status);
  reserved_test_json_assert_ints (object, "capacity", 15, "remaining", 15, "per_user_limit", 2,
                                  NULL);
}

static void
test_retire_limit (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) limit = NULL;
  g_autoptr(ReservedTestRun) refused = NULL;
  g_autoptr(ReservedTestRun) unlimited = NULL;
  g_autoptr(ReservedTestRun) retire = NULL;
  g_autoptr(ReservedTestRun) after = NULL;
  g_autoptr(ReservedTestRun) items = NULL;
  g_autoptr(ReservedTestRun) text = NULL;
  g_autoptr(ReservedTestRun) unknown = NULL;
  g_autoptr(ReservedTestRun) too_high = NULL;
  g_autoptr(ReservedTestRun) missing = NULL;
  g_autoptr(ReservedTestRun) bad_name = NULL;
  g_autoptr(JsonNode) limited = NULL;
  g_autoptr(JsonNode) retired = NULL;
  g_autoptr(JsonNode) status = NULL;
  JsonObject *object;

  reserved_test_reserve_ok ("create", "--session", "gala", "--capacity", "10", NULL);
  reserved_test_reserve_ok ("buy", "--session", "--user", "alice", "--item", "gala", "--quantity",
                            "3", NULL);

  limit = reserved_test_run_ok ("limit", "--session", "gala", "--per-user", "2", NULL);
  g_assert_cmpstr (limit->out, ==, "At most 2 units of gala per customer now.\n");
  refused =
    reserved_test_run_reserve ("buy", "--session", "--user", "alice", "--item", "gala", NULL);
  assert_failure (refused, 1);
  limited =
    reserved_test_run_json ("limit", "--session", "--json", "gala", "--per-user", "0", NULL);
  object = json_node_get_object (limited);
  reserved_test_json_assert_keys (object, (const char *const[]){ "item", "per_user_limit", NULL });
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (object, "per_user_limit")));
  unlimited = reserved_test_run_ok ("limit", "--session", "gala", "--per-user", "0", NULL);
  g_assert_cmpstr (unlimited->out, ==, "gala has no per-user limit now.\n");

  retire = reserved_test_run_ok ("retire", "--session", "gala", NULL);
  g_assert_cmpstr (retire->out, ==, "Retired gala: it is sold no more; its orders stay.\n");
  retired = reserved_test_run_json ("retire", "--session", "--json", "gala", NULL);
  object = json_node_get_object (retired);
  reserved_test_json_assert_keys (object, (const char *const[]){ "item", "retired", NULL });
  g_assert_true (json_object_get_boolean_member (object, "retired"));
  reserved_test_reserve_ok ("retire", "--session", "gala", NULL);

  status = item_status ("gala");
  object = json_node_get_object (status);
  g_assert_true (json_object_get_boolean_member (object, "retired"));
  reserved_test_json_assert_ints (object, "remaining", 7, "sold", 3, NULL);
  text = reserved_test_run_ok ("status", "--session", "gala", NULL);
  reserved_test_assert_contains (text->out, "Retired:         yes");
  items = reserved_test_run_ok ("items", "--session", NULL);
  g_assert_null (strstr (items->out, "gala"));
  after = reserved_test_run_reserve ("buy", "--session", "--user", "bob", "--item", "gala", NULL);
  assert_failure (after, 1);
  reserved_test_assert_contains (after->err, "retired");
  g_assert_cmpint (remaining_of ("gala"), ==, 7);

  unknown = reserved_test_run_reserve ("retire", "--session", "nope", NULL);
  assert_failure (unknown, 1);
  too_high =
    reserved_test_run_reserve ("limit", "--session", "ticket", "--per-user", "1000000001", NULL);
  assert_failure (too_high, 2);
  reserved_test_assert_contains (too_high->err, "--per-user");
  missing = reserved_test_run_reserve ("limit", "--session", "ticket", NULL);
  assert_failure (missing, 2);
  reserved_test_assert_contains (missing->err, "--per-user");
  bad_name = reserved_test_run_reserve ("retire", "--session", "-x-", NULL);
  assert_failure (bad_name, 2);
  g_clear_pointer (&status, json_node_unref);
  status = item_status ("ticket");
  g_assert_false (json_object_get_boolean_member (json_node_get_object (status), "retired"));
}

/* --- exit status --------------------------------------------------------- */

static void
test_exit_sold_out (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run = reserved_test_run_reserve ("buy", "--session", "--user",
                                                               "alice", "--quantity", "101", NULL);

  assert_failure (run, 1);
  g_assert_cmpint (remaining_of ("ticket"), ==, 100);
}

static void
test_exit_no_such_item (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) buy = reserved_test_run_reserve ("buy", "--session", "--user",
                                                               "alice", "--item", "nope", NULL);
  g_autoptr(ReservedTestRun) status =
               reserved_test_run_reserve ("status", "--session", "nope", NULL);
  g_autoptr(ReservedTestRun) restock =
               reserved_test_run_reserve ("restock", "--session", "nope", "--quantity", "1", NULL);

  assert_failure (buy, 1);
  assert_failure (status, 1);
  assert_failure (restock, 1);
}

static void
test_exit_bad_number (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) letters =
               reserved_test_run_reserve ("buy", "--session", "--user", "alice", "--quantity",
                                          "abc", NULL);
  g_autoptr(ReservedTestRun) zero = reserved_test_run_reserve ("buy", "--session", "--user",
                                                                "alice", "--quantity", "0", NULL);
  g_autoptr(ReservedTestRun) negative =
               reserved_test_run_reserve ("buy", "--session", "--user", "alice", "--quantity", "-1",
                                          NULL);
  g_autoptr(ReservedTestRun) capacity =
               reserved_test_run_reserve ("create", "--session", "concert", "--capacity",
                                          "1000000001", NULL);
  g_autoptr(ReservedTestRun) order = reserved_test_run_reserve ("cancel", "--session", "1x", NULL);
  g_autoptr(ReservedTestRun) concert = NULL;

  assert_usage_error (letters, "--quantity “abc” is not a number: allowed is 1 to 10000");
  assert_usage_error (zero, "--quantity “0” is out of range: allowed is 1 to 10000");
  assert_usage_error (negative, "--quantity “-1” is not a number: allowed is 1 to 10000");
  assert_usage_error (capacity,
                      "--capacity “1000000001” is out of range: allowed is 0 to 1000000000");
  assert_failure (order, 2);
  reserved_test_assert_contains (order->err, "“1x” is not a number");

  /* Refused before reaching the daemon: nothing was bought or created. */
  g_assert_cmpint (remaining_of ("ticket"), ==, 100);
  concert = reserved_test_run_reserve ("status", "--session", "concert", NULL);
  assert_failure (concert, 1);
}

static void
test_exit_unknown_flag (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) flag = reserved_test_run_reserve ("buy", "--session", "--user",
                                                                "alice", "--frobnicate", NULL);
  g_autoptr(ReservedTestRun) extra =
               reserved_test_run_reserve ("buy", "--session", "--user", "alice", "ticket", NULL);
  g_autoptr(ReservedTestRun) command = reserved_test_run_reserve ("frobnicate", "--session", NULL);

  assert_failure (flag, 2);
  reserved_test_assert_contains (flag->err, "--frobnicate");
  assert_failure (extra, 2);
  reserved_test_assert_contains (extra->err, "“ticket”");
  assert_failure (command, 2);
  g_assert_cmpint (remaining_of ("ticket"), ==, 100);
}

static void
test_exit_missing_user (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) buy = reserved_test_run_reserve ("buy", "--session", NULL);
  g_autoptr(ReservedTestRun) orders = reserved_test_run_reserve ("orders", "--session", NULL);

  assert_usage_error (buy, "--user is required");
  assert_failure (orders, 2);
  reserved_test_assert_contains (orders->err, "--user");
}

/* The CLI refuses a bad name itself, in the daemon's words. */
static void
test_exit_bad_item_name (Fixture *fixture, gconstpointer data)
{
  static const char bad_item[] = "two words";
  g_autoptr(ReservedTestRun) run = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(ReserveReserve1) proxy = NULL;
  g_autoptr(GError) error = NULL;
  guint64 order = 0;
  guint remaining = 0;

  run = reserved_test_run_reserve ("buy", "--session", "--user", "alice", "--item", bad_item, NULL);

  /* Registered first, so the daemon's error arrives as a RESERVE_ERROR. */
  (void) reserve_error_quark ();
  connection = reserved_test_connect (reserved_test_daemon_get_address (fixture->daemon));
  proxy = reserved_test_proxy_new (connection);
  reserve_reserve1_call_buy_sync (proxy, bad_item, "alice", 1,
                                  g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0),
                                  G_DBUS_CALL_FLAGS_NONE, -1, &order, &remaining, NULL, &error);
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT);
  g_dbus_error_strip_remote_error (error);

  assert_usage_error (run, error->message);
}

static void
test_exit_no_daemon (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) items = reserved_test_run_reserve ("items", "--session", NULL);
  g_autoptr(ReservedTestRun) buy =
               reserved_test_run_reserve ("buy", "--session", "--user", "alice", NULL);

  assert_failure (items, 3);
  reserved_test_assert_contains (items->err, "session bus");
  reserved_test_assert_contains (items->err, "reserved --session");
  assert_failure (buy, 3);
}

/* --- help ---------------------------------------------------------------- */

static const char *const command_names[] = { "buy",    "cancel", "status",  "items",
                                             "orders", "create", "restock", NULL };

static void
test_help (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) help = reserved_test_run_reserve ("--help", NULL);
  g_autoptr(ReservedTestRun) version = reserved_test_run_reserve ("--version", NULL);
  g_autoptr(ReservedTestRun) nothing = reserved_test_run_reserve (NULL, NULL);

  reserved_test_assert_exit (help, 0);
  for (guint i = 0; command_names[i] != NULL; i++)
    {
      g_autofree char *listed = g_strdup_printf ("\n  %s ", command_names[i]);
      g_autoptr(ReservedTestRun) flag =
                   reserved_test_run_reserve (command_names[i], "--help", NULL);
      g_autoptr(ReservedTestRun) word = reserved_test_run_reserve ("help", command_names[i], NULL);

      reserved_test_assert_contains (help->out, listed);
      reserved_test_assert_exit (flag, 0);
      reserved_test_assert_exit (word, 0);
      g_assert_cmpstr (word->out, ==, flag->out);
      /* Every command documents the exit status and the bus choice. */
      reserved_test_assert_contains (flag->out, "Exit status:");
      reserved_test_assert_contains (flag->out, "  3  ");
      reserved_test_assert_contains (flag->out, "--session");
    }

  reserved_test_assert_exit (version, 0);
  g_assert_cmpstr (version->out, ==, "reserve " RESERVED_VERSION "\n");
  reserved_test_assert_exit (nothing, 2);
}

static void
add_cases (void)
{
#define ADD RESERVED_TEST_CLI_ADD
#define ADD_SETUP(path, setup, function) \
  g_test_add (path, Fixture, setup, fixture_set_up, function, reserved_test_cli_fixture_tear_down)

  ADD ("/cli/buy/prints-order", test_buy_prints_order);
  ADD ("/cli/buy/json", test_buy_json);
  ADD ("/cli/buy/user-verbatim", test_buy_user_verbatim);
  ADD_SETUP ("/cli/buy/default-item", &seat_setup, test_buy_default_item);
  ADD ("/cli/buy/quantity", test_buy_quantity);
  ADD ("/cli/buy/request-id-replay", test_buy_request_id_replay);
  ADD ("/cli/buy/replay-of-cancelled", test_buy_replay_of_cancelled);
  ADD ("/cli/cancel", test_cancel);
  ADD ("/cli/status", test_status);
  ADD ("/cli/items", test_items);
  ADD ("/cli/orders", test_orders);
  ADD ("/cli/orders/all-names-users", test_orders_all_names_users);
  ADD ("/cli/create-restock", test_create_restock);
  ADD ("/cli/retire-limit", test_retire_limit);
  ADD ("/cli/exit/sold-out", test_exit_sold_out);
  ADD ("/cli/exit/no-such-item", test_exit_no_such_item);
  ADD ("/cli/exit/bad-number", test_exit_bad_number);
  ADD ("/cli/exit/unknown-flag", test_exit_unknown_flag);
  ADD ("/cli/exit/missing-user", test_exit_missing_user);
  ADD ("/cli/exit/bad-item-name", test_exit_bad_item_name);
  ADD_SETUP ("/cli/exit/no-daemon", &no_daemon_setup, test_exit_no_daemon);
  ADD_SETUP ("/cli/help", &no_daemon_setup, test_help);
}

RESERVED_TEST_MAIN (add_cases, NULL)
