/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One JSON shape for every command of `reserve`, against the real daemon
 * on a private bus: --json everywhere, the same key for the same thing
 * ("item"), times as RFC 3339, null for "no limit", failures as a JSON
 * object on stderr, and numbers without float noise. */
#include "config.h"

#include <string.h>

#include "reserved-test-cli.h"
#include "reserved-test-daemon.h"
#include "reserved-test-main.h"

typedef ReservedTestCliFixture Fixture;

static void
assert_null (JsonObject *object, const char *name)
{
  JsonNode *member = json_object_get_member (object, name);

  g_assert_nonnull (member);
  g_assert_true (JSON_NODE_HOLDS_NULL (member));
}

static const char *const commands[] = { "buy",    "cancel",  "status", "items", "orders",
                                        "create", "restock", "retire", "limit", "sale-window",
                                        "race",   "bench",   "watch",  NULL };

static void
test_every_command (Fixture *fixture, gconstpointer data)
{
  for (guint i = 0; commands[i] != NULL; i++)
    {
      g_autoptr(ReservedTestRun) help = reserved_test_run_ok (commands[i], "--help", NULL);

      if (strstr (help->out, "\n  --json ") == NULL)
        g_error ("reserve %s takes no --json:\n%s", commands[i], help->out);
    }
}

/* An item is "item" wherever it appears; a missing limit is null. */
static void
test_item_key (Fixture *fixture, gconstpointer data)
{
  static const char *const restock_keys[] = { "item", "quantity", "remaining", NULL };
  static const char *const cancel_keys[] = { "order", "item",      "user", "quantity",
                                             "state", "remaining", NULL };
  g_autoptr(JsonNode) created = reserved_test_run_json ("create", "--session", "--json", "gala",
                                                         "--capacity", "10", NULL);
  g_autoptr(JsonNode) limited =
               reserved_test_run_json ("create", "--session", "--json", "opera", "--capacity", "10",
                                       "--per-user-limit", "2", NULL);
  g_autoptr(JsonNode) status =
               reserved_test_run_json ("status", "--session", "--json", "gala", NULL);
  g_autoptr(JsonNode) restocked = reserved_test_run_json ("restock", "--session", "--json", "gala",
                                                           "--quantity", "5", NULL);
  g_autoptr(JsonNode) items = reserved_test_run_json ("items", "--session", "--json", NULL);
  g_autoptr(JsonNode) bought =
               reserved_test_run_json ("buy", "--session", "--json", "--user", "alice", "--item",
                                       "gala", "--quantity", "3", NULL);
  g_autofree char *order =
    g_strdup_printf ("%" G_GINT64_FORMAT,
                     reserved_test_json_int (json_node_get_object (bought), "order"));
  g_autoptr(JsonNode) cancelled =
               reserved_test_run_json ("cancel", "--session", "--json", order, NULL);
  JsonObject *object;

  object = json_node_get_object (created);
  reserved_test_json_assert_keys (object, reserved_test_item_status_keys);
  g_assert_cmpstr (reserved_test_json_string (object, "item"), ==, "gala");
  assert_null (object, "per_user_limit");
  object = json_node_get_object (limited);
  g_assert_cmpint (reserved_test_json_int (object, "per_user_limit"), ==, 2);

  object = json_node_get_object (status);
  reserved_test_json_assert_keys (object, reserved_test_item_status_keys);
  g_assert_cmpstr (reserved_test_json_string (object, "item"), ==, "gala");
  assert_null (object, "per_user_limit");

  object = json_node_get_object (restocked);
  reserved_test_json_assert_keys (object, restock_keys);
  g_assert_cmpint (reserved_test_json_int (object, "remaining"), ==, 15);

  for (guint i = 0; i < json_array_get_length (json_node_get_array (items)); i++)
    g_assert_nonnull (
      reserved_test_json_string (json_array_get_object_element (json_node_get_array (items), i),
                                 "item"));

  object = json_node_get_object (cancelled);
  reserved_test_json_assert_keys (object, cancel_keys);
  g_assert_cmpstr (reserved_test_json_string (object, "item"), ==, "gala");
  g_assert_cmpstr (reserved_test_json_string (object, "user"), ==, "alice");
  g_assert_cmpint (reserved_test_json_int (object, "quantity"), ==, 3);
  g_assert_cmpstr (reserved_test_json_string (object, "state"), ==, "cancelled");
  g_assert_cmpint (reserved_test_json_int (object, "remaining"), ==, 15);
}

static void
test_time_rfc3339 (Fixture *fixture, gconstpointer data)
{
  g_autoptr(JsonNode) bought = reserved_test_run_json ("buy", "--session", "--json", "--user",
                                                        "alice", "--item", "ticket", NULL);
  g_autoptr(JsonNode) orders =
               reserved_test_run_json ("orders", "--session", "--json", "--user", "alice", NULL);
  JsonObject *order = json_array_get_object_element (json_node_get_array (orders), 0);
  const char *created = reserved_test_json_string (order, "created");
  g_autoptr(GDateTime) time = g_date_time_new_from_iso8601 (created, NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  /* The order the buy made is the one listed. */
  g_assert_cmpint (reserved_test_json_int (json_node_get_object (bought), "order"), ==,
                   reserved_test_json_int (order, "order"));
  g_assert_nonnull (time);
  g_assert_true (g_str_has_suffix (created, "Z"));
  g_assert_cmpint (g_date_time_difference (now, time), >=, 0);
  g_assert_cmpint (g_date_time_difference (now, time), <, G_TIME_SPAN_HOUR);
}

/* Under --json a failure is one JSON object on stderr and nothing on
 * stdout, with the exit status as without it. */
static void
assert_json_failure (const ReservedTestRun *run, int status, const char *kind)
{
  g_autoptr(JsonNode) error = NULL;
  JsonObject *object;
  static const char *const keys[] = { "error", "message", "exit_status", NULL };

  reserved_test_assert_exit (run, status);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_true (g_str_has_suffix (run->err, "}\n"));
  /* One line: the first newline is the last character. */
  g_assert_true (strchr (run->err, '\n') == run->err + strlen (run->err) - 1);
  error = reserved_test_parse_json (run->err);
  object = json_node_get_object (error);
  reserved_test_json_assert_keys (object, keys);
  g_assert_cmpstr (reserved_test_json_string (object, "error"), ==, kind);
  g_assert_cmpint (reserved_test_json_int (object, "exit_status"), ==, status);
  g_assert_cmpstr (reserved_test_json_string (object, "message"), !=, "");
}

static void
test_errors_as_json (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) sold_out =
               reserved_test_run_reserve ("buy", "--session", "--json", "--user", "alice", "--item",
                                          "ticket", "--quantity", "101", NULL);
  g_autoptr(ReservedTestRun) no_item =
               reserved_test_run_reserve ("status", "--session", "--json", "nope", NULL);
  g_autoptr(ReservedTestRun) usage =
               reserved_test_run_reserve ("buy", "--session", "--json", "--quantity", "x", NULL);
  g_autoptr(ReservedTestRun) text =
               reserved_test_run_reserve ("status", "--session", "nope", NULL);

  assert_json_failure (sold_out, 1, "SoldOut");
  assert_json_failure (no_item, 1, "NoSuchItem");
  assert_json_failure (usage, 2, "Usage");
  g_assert_true (g_str_has_prefix (text->err, "reserve: "));
}

static void
test_errors_as_json_no_daemon (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run = NULL;

  reserved_test_daemon_stop (fixture->daemon);
  run = reserved_test_run_reserve ("items", "--session", "--json", NULL);
  assert_json_failure (run, 3, "NotRunning");
}

/* Measured seconds as the shortest decimal that means them: 0.016774, not
 * 0.016774000000000001. */
static void
test_no_float_noise (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) race =
               reserved_test_run_reserve ("race", "--session", "--json", "--buyers", "4",
                                          "--delay-ms", "1", NULL);
  g_autoptr(JsonNode) runs = NULL;

  reserved_test_assert_completed (race);
  runs = reserved_test_parse_json (race->out);
  /* reserve(1): an array, one object per mode. */
  g_assert_true (JSON_NODE_HOLDS_ARRAY (runs));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (runs)), ==, 4);
  if (g_regex_match_simple ("[0-9]\\.[0-9]*(0000000|9999999)[0-9]", race->out, 0, 0))
    g_error ("float noise in:\n%s", race->out);
}

static void
add_cases (void)
{
#define ADD RESERVED_TEST_CLI_ADD

  ADD ("/cli-json/every-command", test_every_command);
  ADD ("/cli-json/item-key", test_item_key);
  ADD ("/cli-json/time-rfc3339", test_time_rfc3339);
  ADD ("/cli-json/errors", test_errors_as_json);
  ADD ("/cli-json/errors-no-daemon", test_errors_as_json_no_daemon);
  ADD ("/cli-json/no-float-noise", test_no_float_noise);

#undef ADD
}

RESERVED_TEST_MAIN (add_cases, NULL)
