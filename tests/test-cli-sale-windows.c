/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reserve's sale windows against the real daemon: create --sale-start and
 * --sale-end, sale-window --start, --end and --clear, the times people
 * type (local time, ISO 8601 with a zone, "now") and how status and items
 * show them. Every run sets LANG=C and TZ itself, so what is printed does
 * not depend on the machine (LC_ALL=C: ASCII quotes): TZ=JST-9 is nine hours east of UTC, without
 * summer time and without a zone file. */
#include <string.h>

#include "reserved-test-cli.h"
#include "reserved-test-daemon.h"
#include "reserved-test-main.h"

typedef ReservedTestCliFixture Fixture;

static const char *const in_utc[] = { "LANG", "C", "LC_ALL", "C", "TZ", "UTC", NULL };
static const char *const in_tokyo[] = { "LANG", "C", "LC_ALL", "C", "TZ", "JST-9", NULL };

#define reserve_in(env, ...) reserved_test_run_reserve_with_env (env, __VA_ARGS__, NULL)

static void
assert_has (const char *text, const char *needle)
{
  if (strstr (text, needle) == NULL)
    g_error ("“%s” is not in:\n%s", needle, text);
}

/* Local times in, the same instants shown in another zone. */
static void
test_create_in_local_time (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) created =
               reserve_in (in_tokyo, "create", "--session", "gala", "--capacity", "5",
                           "--sale-start", "2030-01-02 10:00", "--sale-end", "2030-01-03");
  g_autoptr(ReservedTestRun) status = reserve_in (in_utc, "status", "--session", "gala");
  g_autoptr(ReservedTestRun) json = reserve_in (in_utc, "status", "--session", "--json", "gala");
  g_autoptr(ReservedTestRun) items = reserve_in (in_utc, "items", "--session");
  g_autoptr(ReservedTestRun) buy =
               reserve_in (in_utc, "buy", "--session", "--item", "gala", "--user", "ann");
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;

  reserved_test_assert_exit (created, 0);
  g_assert_cmpstr (created->out, ==,
                   "Created gala with 5 units.\n"
                   "On sale from 2030-01-02T10:00:00+09:00 until 2030-01-03T00:00:00+09:00.\n");
  reserved_test_assert_exit (status, 0);
  assert_has (status->out, "Sale window:     from 2030-01-02T01:00:00+00:00 until "
                           "2030-01-02T15:00:00+00:00\n"
                           "On sale now:     no\n");
  reserved_test_assert_exit (json, 0);
  root = reserved_test_parse_json (json->out);
  object = json_node_get_object (root);
  g_assert_cmpstr (reserved_test_json_string (object, "sale_start"), ==,
                   "2030-01-02T01:00:00.000000Z");
  g_assert_cmpstr (reserved_test_json_string (object, "sale_end"), ==,
                   "2030-01-02T15:00:00.000000Z");
  g_assert_false (json_object_get_boolean_member (object, "on_sale"));
  reserved_test_assert_exit (items, 0);
  g_assert_cmpstr (items->out, ==,
                   "ITEM    CAPACITY  REMAINING  ON SALE  SALE WINDOW\n"
                   "gala           5          5  no       from 2030-01-02T01:00:00+00:00 until "
                   "2030-01-02T15:00:00+00:00\n"
                   "ticket       100        100  yes      -\n");
  reserved_test_assert_exit (buy, 1);
  assert_has (buy->err, "not on sale yet");
}

/* sale-window: "now", a zone of its own, an open end, and --clear. */
static void
test_set_and_clear (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) set =
               reserve_in (in_utc, "sale-window", "--session", "ticket", "--start", "now", "--end",
                           "2099-01-01T09:00+09:00");
  g_autoptr(ReservedTestRun) bought =
               reserve_in (in_utc, "buy", "--session", "--item", "ticket", "--user", "bo");
  g_autoptr(ReservedTestRun) ended =
               reserve_in (in_tokyo, "sale-window", "--session", "ticket", "--end", "2001-02-03");
  g_autoptr(ReservedTestRun) refused =
               reserve_in (in_utc, "buy", "--session", "--item", "ticket", "--user", "bo");
  g_autoptr(ReservedTestRun) json =
               reserve_in (in_utc, "sale-window", "--session", "--json", "ticket", "--clear");
  g_autoptr(ReservedTestRun) cleared =
               reserve_in (in_utc, "sale-window", "--session", "ticket", "--clear");
  g_autoptr(ReservedTestRun) status = reserve_in (in_utc, "status", "--session", "ticket");
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;

  reserved_test_assert_exit (set, 0);
  assert_has (set->out, "ticket is on sale from ");
  assert_has (set->out, " until 2099-01-01T00:00:00+00:00.\n");
  reserved_test_assert_exit (bought, 0);
  reserved_test_assert_exit (ended, 0);
  g_assert_cmpstr (ended->out, ==, "ticket is on sale until 2001-02-03T00:00:00+09:00.\n");
  reserved_test_assert_exit (refused, 1);
  assert_has (refused->err, "no longer on sale");
  reserved_test_assert_exit (json, 0);
  root = reserved_test_parse_json (json->out);
  object = json_node_get_object (root);
  g_assert_true (json_object_get_null_member (object, "sale_start"));
  g_assert_true (json_object_get_null_member (object, "sale_end"));
  g_assert_true (json_object_get_boolean_member (object, "on_sale"));
  reserved_test_assert_exit (cleared, 0);
  g_assert_cmpstr (cleared->out, ==,
                   "ticket has no sale window now: it is on sale whenever it has stock.\n");
  reserved_test_assert_exit (status, 0);
  g_assert_null (strstr (status->out, "Sale window"));
}

/* Each bad time or combination is a usage error that names the value and
 * what is accepted, and nothing reaches the daemon. */
static void
test_bad_input (Fixture *fixture, gconstpointer data)
{
  static const char *const bad_times[] = { "tomorrow",   "2030-13-01 10:00",
                                           "1960-01-01", "10000-01-01",
                                           "",           "2030-01-02 25:00" };
  g_autoptr(ReservedTestRun) before = reserve_in (in_utc, "status", "--session", "--json");
  g_autoptr(ReservedTestRun) after = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad_times); i++)
    {
      g_autoptr(ReservedTestRun) window = reserve_in (in_utc, "sale-window", "--session", "ticket",
                                                       "--start", bad_times[i]);
      g_autoptr(ReservedTestRun) created =
                   reserve_in (in_utc, "create", "--session", "gala", "--capacity", "1",
                               "--sale-end", bad_times[i]);
      g_autofree char *named = g_strdup_printf ("\"%s\"", bad_times[i]);

      reserved_test_assert_exit (window, 2);
      assert_has (window->err, "--start ");
      assert_has (window->err, named);
      assert_has (window->err, "\"now\", a local time such as \"2026-12-24 10:00\"");
      reserved_test_assert_exit (created, 2);
      assert_has (created->err, "--sale-end ");
    }
  {
    g_autoptr(ReservedTestRun) reversed =
                 reserve_in (in_utc, "sale-window", "--session", "ticket", "--start", "2030-01-02",
                             "--end", "2030-01-01");
    g_autoptr(ReservedTestRun) equal =
                 reserve_in (in_utc, "create", "--session", "gala", "--capacity", "1",
                             "--sale-start", "2030-01-01", "--sale-end", "2030-01-01T00:00Z");
    g_autoptr(ReservedTestRun) both = reserve_in (in_utc, "sale-window", "--session", "ticket",
                                                   "--clear", "--end", "now");
    g_autoptr(ReservedTestRun) neither = reserve_in (in_utc, "sale-window", "--session", "ticket");

    reserved_test_assert_exit (reversed, 2);
    assert_has (reversed->err, "--start 2030-01-02 is not before --end 2030-01-01");
    reserved_test_assert_exit (equal, 2);
    assert_has (equal->err, "is not before --sale-end");
    reserved_test_assert_exit (both, 2);
    assert_has (both->err, "--clear");
    reserved_test_assert_exit (neither, 2);
    assert_has (neither->err, "give --start, --end or both, or --clear");
  }
  after = reserve_in (in_utc, "status", "--session", "--json");
  g_assert_cmpstr (after->out, ==, before->out);
  {
    g_autoptr(ReservedTestRun) items = reserve_in (in_utc, "items", "--session");

    g_assert_null (strstr (items->out, "gala"));
  }
}

static void
add_cases (void)
{
#define ADD(path, function)                                                    \
  g_test_add (path, Fixture, NULL, reserved_test_cli_fixture_set_up, function, \
              reserved_test_cli_fixture_tear_down)

  ADD ("/cli/sale-window/create-in-local-time", test_create_in_local_time);
  ADD ("/cli/sale-window/set-and-clear", test_set_and_clear);
  ADD ("/cli/sale-window/bad-input", test_bad_input);

#undef ADD
}

RESERVED_TEST_MAIN (add_cases, NULL)
