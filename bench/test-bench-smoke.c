/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve bench` ($RESERVE_BINARY) against the real daemon on a private
 * bus, small enough to run in every `meson test`: the report's JSON has the
 * keys scripts read, every call is counted, none fails, and the law holds,
 * checked again here through `reserve status`. Never a timing: how fast is
 * for BENCHMARKS.md, not for a test that must pass on any machine. */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <sys/wait.h>

#include <json-glib/json-glib.h>

#include "reserved-test-cli.h"
#include "reserved-test-daemon.h"

#define BUYERS "4"
#define CALLS  "50"
#define TOTAL  (4 * 50)

typedef struct {
  ReservedTestDaemon *daemon;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  gboolean start = GPOINTER_TO_INT (data);

  fixture->daemon = reserved_test_daemon_new ();
  reserved_test_daemon_write_config (fixture->daemon, "[reserved]\n");
  if (start)
    reserved_test_daemon_start (fixture->daemon);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  if (reserved_test_daemon_get_process (fixture->daemon) != NULL)
    reserved_test_daemon_stop (fixture->daemon);
  g_clear_pointer (&fixture->daemon, reserved_test_daemon_free);
}

/* --- JSON --------------------------------------------------------------------- */

static gdouble
number_member (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_VALUE (node));
  return json_node_get_double (node);
}

static const char *const report_keys[] = { "buyers", "seconds",    "calls_per_buyer", "bus",
                                           "item",   "fresh_item", "cores",           "baseline",
                                           "buy",    "ratio",      "batching",        "daemon",
                                           "law",    NULL };
static const char *const phase_keys[] = {
  "method", "calls", "failed", "seconds", "calls_per_second", "latency_us", "errors", "cpu", NULL
};
static const char *const latency_keys[] = { "p50", "p90", "p99", "max", NULL };
static const char *const cpu_keys[] = { "reserved", "dbus_daemon", "buyers", "machine", NULL };
static const char *const ratio_keys[] = { "calls_per_second", "p99", NULL };
static const char *const batching_keys[] = { "commits", "operations", "mean_batch", "largest_batch",
                                             NULL };
static const char *const daemon_keys[] = { "pid", "vm_rss_kib", "vm_hwm_kib", NULL };
static const char *const law_keys[] = { "holds",       "capacity",     "remaining", "sold",
                                        "sold_before", "acknowledged", "uncertain", NULL };

/* Every call answered, none failed, and the latencies are in order. */
static void
assert_phase (JsonObject *report, const char *name, const char *method)
{
  JsonObject *phase = json_object_get_object_member (report, name);
  JsonObject *latency;

  reserved_test_json_assert_keys (phase, phase_keys);
  g_assert_cmpstr (json_object_get_string_member (phase, "method"), ==, method);
  g_assert_cmpint (reserved_test_json_int (phase, "calls"), ==, TOTAL);
  g_assert_cmpint (reserved_test_json_int (phase, "failed"), ==, 0);
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (phase, "errors")), ==, 0);
  g_assert_cmpfloat (number_member (phase, "calls_per_second"), >, 0);

  latency = json_object_get_object_member (phase, "latency_us");
  reserved_test_json_assert_keys (latency, latency_keys);
  g_assert_cmpint (reserved_test_json_int (latency, "p50"), <=,
                   reserved_test_json_int (latency, "p90"));
  g_assert_cmpint (reserved_test_json_int (latency, "p90"), <=,
                   reserved_test_json_int (latency, "p99"));
  g_assert_cmpint (reserved_test_json_int (latency, "p99"), <=,
                   reserved_test_json_int (latency, "max"));
  reserved_test_json_assert_keys (json_object_get_object_member (phase, "cpu"), cpu_keys);
}

/* --- cases ---------------------------------------------------------------------- */

static void
test_smoke (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run = NULL;
  g_autoptr(ReservedTestRun) status_run = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) status_root = NULL;
  JsonObject *report, *batching, *law, *status;
  const char *item;

  run = reserved_test_run_reserve ("bench", "--session", "--buyers", BUYERS, "--calls", CALLS,
                                   "--json", NULL);
  reserved_test_assert_exit (run, 0);
  root = reserved_test_parse_json (run->out);
  report = json_node_get_object (root);
  reserved_test_json_assert_keys (report, report_keys);
  g_assert_cmpint (reserved_test_json_int (report, "buyers"), ==, 4);
  g_assert_cmpint (reserved_test_json_int (report, "calls_per_buyer"), ==, 50);
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (report, "seconds")));
  g_assert_cmpstr (json_object_get_string_member (report, "bus"), ==, "session");
  g_assert_true (json_object_get_boolean_member (report, "fresh_item"));
  item = json_object_get_string_member (report, "item");
  g_assert_true (g_str_has_prefix (item, "bench-"));

  assert_phase (report, "baseline", "org.freedesktop.DBus.Properties.Get(Version)");
  assert_phase (report, "buy", RESERVE_INTERFACE ".Buy");
  reserved_test_json_assert_keys (json_object_get_object_member (report, "ratio"), ratio_keys);
  reserved_test_json_assert_keys (json_object_get_object_member (report, "daemon"), daemon_keys);

  /* Nothing but the buyers' purchases was written during the Buy phase. */
  batching = json_object_get_object_member (report, "batching");
  reserved_test_json_assert_keys (batching, batching_keys);
  g_assert_cmpint (reserved_test_json_int (batching, "operations"), ==, TOTAL);
  g_assert_cmpint (reserved_test_json_int (batching, "commits"), >=, 1);
  g_assert_cmpint (reserved_test_json_int (batching, "commits"), <=, TOTAL);
  g_assert_cmpint (reserved_test_json_int (batching, "largest_batch"), >=, 1);
  g_assert_cmpint (reserved_test_json_int (batching, "largest_batch"), <=, 4);

  law = json_object_get_object_member (report, "law");
  reserved_test_json_assert_keys (law, law_keys);
  g_assert_true (json_object_get_boolean_member (law, "holds"));
  g_assert_cmpint (reserved_test_json_int (law, "sold_before"), ==, 0);
  g_assert_cmpint (reserved_test_json_int (law, "acknowledged"), ==, TOTAL);
  g_assert_cmpint (reserved_test_json_int (law, "uncertain"), ==, 0);
  g_assert_cmpint (reserved_test_json_int (law, "sold"), ==, TOTAL);
  g_assert_cmpint (reserved_test_json_int (law, "remaining") + reserved_test_json_int (law, "sold"),
                   ==, reserved_test_json_int (law, "capacity"));

  /* The daemon's own books, read by another command, agree. */
  status_run = reserved_test_run_reserve ("status", "--session", "--json", item, NULL);
  reserved_test_assert_exit (status_run, 0);
  status_root = reserved_test_parse_json (status_run->out);
  status = json_node_get_object (status_root);
  g_assert_cmpint (reserved_test_json_int (status, "sold"), ==, TOTAL);
  g_assert_cmpint (reserved_test_json_int (status, "remaining") +
                     reserved_test_json_int (status, "sold"),
                   ==, reserved_test_json_int (status, "capacity"));
  /* The fresh item was retired at the end, its orders kept; a daemon with
   * only its untouched default item was no reason to warn. */
  g_assert_true (json_object_get_boolean_member (status, "retired"));
  if (strstr (run->err, "warning") != NULL)
    g_error ("bench warned on a daemon of its own: %s", run->err);
}

/* On a daemon that sells other items, bench says so on stderr before it
 * buys, naming how many and the flags; --keep leaves its item on sale. */
static void
test_keep_and_warning (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) create = NULL;
  g_autoptr(ReservedTestRun) run = NULL;
  g_autoptr(ReservedTestRun) status_run = NULL;
  g_autoptr(ReservedTestRun) items_run = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) status_root = NULL;
  const char *item;

  create = reserved_test_run_reserve ("create", "--session", "concert", "--capacity", "5", NULL);
  reserved_test_assert_exit (create, 0);
  run = reserved_test_run_reserve ("bench", "--session", "--buyers", BUYERS, "--calls", CALLS,
                                   "--keep", "--json", NULL);
  reserved_test_assert_exit (run, 0);
  if (strstr (run->err, "warning: this reserved already sells 1 other item;") == NULL ||
      strstr (run->err, "--item") == NULL || strstr (run->err, "--keep") == NULL)
    g_error ("expected a warning about the other item, --item and --keep; got “%s”", run->err);

  root = reserved_test_parse_json (run->out);
  item = json_object_get_string_member (json_node_get_object (root), "item");
  status_run = reserved_test_run_reserve ("status", "--session", "--json", item, NULL);
  reserved_test_assert_exit (status_run, 0);
  status_root = reserved_test_parse_json (status_run->out);
  g_assert_false (json_object_get_boolean_member (json_node_get_object (status_root), "retired"));
  g_assert_cmpint (reserved_test_json_int (json_node_get_object (status_root), "sold"), ==, TOTAL);
  items_run = reserved_test_run_reserve ("items", "--session", NULL);
  reserved_test_assert_exit (items_run, 0);
  g_assert_nonnull (strstr (items_run->out, item));
}

static void
assert_usage_error (const char *message, const char *first_arg, ...)
{
  g_autoptr(ReservedTestRun) run = NULL;
  g_autofree char *line = g_strdup_printf ("reserve: %s\n", message);
  const char *args[8] = { "bench", "--session" };
  guint n = 2;
  va_list list;

  va_start (list, first_arg);
  for (const char *arg = first_arg; arg != NULL && n < G_N_ELEMENTS (args) - 1;
       arg = va_arg (list, const char *))
    args[n++] = arg;
  va_end (list);

  run =
    reserved_test_run_reserve (args[0], args[1], args[2], args[3], args[4], args[5], args[6], NULL);
  reserved_test_assert_exit (run, 2);
  g_assert_cmpstr (run->out, ==, "");
  if (!g_str_has_prefix (run->err, line))
    g_error ("expected “%s”, got “%s”", message, run->err);
}

/* Every flag is checked before anything is forked or sent. */
static void
test_usage (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) help = reserved_test_run_reserve ("bench", "--help", NULL);

  reserved_test_assert_exit (help, 0);
  g_assert_nonnull (strstr (help->out, "--buyers"));
  g_assert_nonnull (strstr (help->out, "Exit status:"));

  assert_usage_error ("--buyers “0” is out of range: allowed is 1 to 250", "--buyers", "0", NULL);
  assert_usage_error ("--buyers “many” is not a number: allowed is 1 to 250", "--buyers", "many",
                      NULL);
  assert_usage_error ("--seconds “3601” is out of range: allowed is 1 to 3600", "--seconds", "3601",
                      NULL);
  assert_usage_error ("--calls “0” is out of range: allowed is 1 to 10000000", "--calls", "0",
                      NULL);
  assert_usage_error ("--stock “1000000001” is out of range: allowed is 1 to 1000000000", "--stock",
                      "1000000001", NULL);
  assert_usage_error ("--seconds and --calls cannot be used together: "
                      "a phase lasts either so long or so many calls",
                      "--seconds", "1", "--calls", "1", NULL);
  assert_usage_error ("--stock cannot be used with --item: it is the capacity of the fresh item "
                      "that bench creates; restock ITEM with reserve restock",
                      "--stock", "5", "--item", "ticket", NULL);
}

/* No daemon: the same message and exit status as every other command. */
static void
test_no_daemon (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run = reserved_test_run_reserve ("bench", "--session", "--buyers",
                                                               "2", "--calls", "1", NULL);

  reserved_test_assert_exit (run, 3);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_nonnull (strstr (run->err, "reserved is not running on the session bus"));
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/bench/smoke", Fixture, GINT_TO_POINTER (TRUE), fixture_set_up, test_smoke,
              fixture_tear_down);
  g_test_add ("/bench/keep-and-warning", Fixture, GINT_TO_POINTER (TRUE), fixture_set_up,
              test_keep_and_warning, fixture_tear_down);
  g_test_add ("/bench/usage", Fixture, GINT_TO_POINTER (FALSE), fixture_set_up, test_usage,
              fixture_tear_down);
  g_test_add ("/bench/no-daemon", Fixture, GINT_TO_POINTER (FALSE), fixture_set_up, test_no_daemon,
              fixture_tear_down);

  return g_test_run ();
}
