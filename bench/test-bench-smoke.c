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

static const char *const report_keys[] = { "version",    "daemon_version",
                                           "started",    "load_average",
                                           "buyers",     "warmup_seconds",
                                           "seconds",    "calls_per_buyer",
                                           "bus",        "item",
                                           "fresh_item", "cores",
                                           "baseline",   "buy",
                                           "ratio",      "batching",
                                           "daemon",     "law",
                                           "warnings",   NULL };
static const char *const phase_keys[] = {
  "method",     "calls",  "failed", "seconds",           "calls_per_second",
  "latency_us", "errors", "cpu",    "latency_histogram", NULL
};
static const char *const latency_keys[] = { "p50", "p90", "p95", "p99", "p99_9", "max", NULL };
static const char *const cpu_keys[] = { "reserved", "dbus_daemon", "buyers",
                                        "machine",  "others",      NULL };
static const char *const histogram_keys[] = { "from_us", "to_us", "calls", NULL };
static const char *const ratio_keys[] = { "calls_per_second", "p99", NULL };
static const char *const batching_keys[] = { "commits", "operations", "mean_batch", "largest_batch",
                                             NULL };
static const char *const daemon_keys[] = { "pid", "vm_rss_kib", "vm_hwm_kib", NULL };
static const char *const law_keys[] = { "holds",       "capacity",     "remaining", "sold",
                                        "sold_before", "acknowledged", "uncertain", NULL };

/* Ranges in order, one after the other, holding every answered call, the
 * slowest of them in the last. */
static void
assert_histogram (JsonArray *ranges, gint64 calls, gint64 max_us)
{
  gint64 sum = 0;
  JsonObject *last = NULL;

  g_assert_nonnull (ranges);
  g_assert_cmpuint (json_array_get_length (ranges), >=, 1);
  for (guint i = 0; i < json_array_get_length (ranges); i++)
    {
      JsonObject *range = json_array_get_object_element (ranges, i);

      reserved_test_json_assert_keys (range, histogram_keys);
      g_assert_cmpint (reserved_test_json_int (range, "from_us"), <,
                       reserved_test_json_int (range, "to_us"));
      if (last != NULL)
        g_assert_cmpint (reserved_test_json_int (range, "from_us"), ==,
                         reserved_test_json_int (last, "to_us"));
      g_assert_cmpint (reserved_test_json_int (range, "calls"), >=, 0);
      sum += reserved_test_json_int (range, "calls");
      last = range;
    }
  g_assert_cmpint (sum, ==, calls);
  g_assert_cmpint (reserved_test_json_int (json_array_get_object_element (ranges, 0), "calls"), >,
                   0);
  g_assert_cmpint (reserved_test_json_int (last, "calls"), >, 0);
  /* The ranges are counted from the histogram's buckets, each 1/32 of
   * its power of two wide (BENCH_HISTOGRAM_SUB_BITS): a call within a
   * bucket's width below a range's edge may be counted above it. */
  g_assert_cmpint (reserved_test_json_int (last, "from_us"), <=, max_us + max_us / 32 + 1);
  g_assert_cmpint (reserved_test_json_int (last, "to_us"), >, max_us);
}

/* The run is dated and its versions named, for comparing runs later; the
 * machine's load before it and any warning are there, whatever they say. */
static void
assert_provenance (JsonObject *report)
{
  g_autoptr(GDateTime) started = NULL;
  JsonArray *load = json_object_get_array_member (report, "load_average");
  JsonArray *warnings = json_object_get_array_member (report, "warnings");

  g_assert_cmpstr (json_object_get_string_member (report, "version"), ==, RESERVED_VERSION);
  g_assert_cmpstr (json_object_get_string_member (report, "daemon_version"), ==, RESERVED_VERSION);
  started = g_date_time_new_from_iso8601 (json_object_get_string_member (report, "started"), NULL);
  g_assert_nonnull (started);
  g_assert_cmpint (g_date_time_to_unix (started), <=, g_get_real_time () / G_USEC_PER_SEC);
  g_assert_cmpint (g_date_time_to_unix (started), >, g_get_real_time () / G_USEC_PER_SEC - 3600);
  g_assert_nonnull (load);
  g_assert_cmpuint (json_array_get_length (load), ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpfloat (json_array_get_double_element (load, i), >=, 0);
  g_assert_nonnull (warnings);
  for (guint i = 0; i < json_array_get_length (warnings); i++)
    g_assert_cmpstr (json_array_get_string_element (warnings, i), !=, "");
}

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
  for (guint i = 0; latency_keys[i + 1] != NULL; i++)
    g_assert_cmpint (reserved_test_json_int (latency, latency_keys[i]), <=,
                     reserved_test_json_int (latency, latency_keys[i + 1]));
  reserved_test_json_assert_keys (json_object_get_object_member (phase, "cpu"), cpu_keys);
  assert_histogram (json_object_get_array_member (phase, "latency_histogram"),
                    reserved_test_json_int (phase, "calls"),
                    reserved_test_json_int (latency, "max"));
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
  assert_provenance (report);
  g_assert_cmpint (reserved_test_json_int (report, "buyers"), ==, 4);
  /* A run of so many calls is not warmed up unless asked. */
  g_assert_cmpint (reserved_test_json_int (report, "warmup_seconds"), ==, 0);
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
  if (strstr (run->err, "other item") != NULL)
    g_error ("bench warned on a daemon of its own: %s", run->err);
}

/* A warm-up of a second: its Buys were real, before the counted phases,
 * and nothing of it is in their figures. The text report shows it, the
 * percentiles up to p99.9 and the histogram. */
static void
test_warmup (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run = NULL;
  g_autoptr(ReservedTestRun) text = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *report, *law;

  run = reserved_test_run_reserve ("bench", "--session", "--buyers", BUYERS, "--calls", CALLS,
                                   "--warmup", "1", "--json", NULL);
  reserved_test_assert_exit (run, 0);
  root = reserved_test_parse_json (run->out);
  report = json_node_get_object (root);
  reserved_test_json_assert_keys (report, report_keys);
  g_assert_cmpint (reserved_test_json_int (report, "warmup_seconds"), ==, 1);
  assert_phase (report, "baseline", "org.freedesktop.DBus.Properties.Get(Version)");
  assert_phase (report, "buy", RESERVE_INTERFACE ".Buy");
  g_assert_cmpint (reserved_test_json_int (json_object_get_object_member (report, "batching"),
                                           "operations"),
                   ==, TOTAL);
  law = json_object_get_object_member (report, "law");
  g_assert_true (json_object_get_boolean_member (law, "holds"));
  g_assert_cmpint (reserved_test_json_int (law, "sold_before"), >, 0);
  g_assert_cmpint (reserved_test_json_int (law, "acknowledged"), ==, TOTAL);
  g_assert_cmpint (reserved_test_json_int (law, "sold"), ==,
                   reserved_test_json_int (law, "sold_before") + TOTAL);

  text = reserved_test_run_reserve ("bench", "--session", "--buyers", BUYERS, "--calls", CALLS,
                                    "--warmup", "1", NULL);
  reserved_test_assert_exit (text, 0);
  for (guint i = 0; i < 4; i++)
    {
      const char *needles[] = { "Warm-up: 1 s", "P99.9",
                                "Latency, each phase's calls by range:", "%" };

      if (strstr (text->out, needles[i]) == NULL)
        g_error ("the report should say “%s”:\n%s", needles[i], text->out);
    }
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

/* `reserve` with @args (up to 8, NULL-terminated) must exit 2 with nothing
 * on stdout and @message first on stderr. */
static void
assert_usage_error_of (const char *message, const char *const *given)
{
  g_autoptr(ReservedTestRun) run = NULL;
  g_autofree char *line = g_strdup_printf ("reserve: %s\n", message);
  const char *args[9] = { NULL };

  /* Padded with NULLs: the arguments after the first NULL are not read. */
  for (guint i = 0; given[i] != NULL; i++)
    {
      g_assert_cmpuint (i, <, G_N_ELEMENTS (args) - 1);
      args[i] = given[i];
    }
  run = reserved_test_run_reserve (args[0], args[1], args[2], args[3], args[4], args[5], args[6],
                                   args[7], NULL);
  reserved_test_assert_exit (run, 2);
  g_assert_cmpstr (run->out, ==, "");
  if (!g_str_has_prefix (run->err, line))
    g_error ("expected “%s”, got “%s”", message, run->err);
}

/* `reserve bench --session` and the arguments (NULL-terminated). */
static void
assert_usage_error (const char *message, const char *first_arg, ...)
{
  const char *args[9] = { "bench", "--session" };
  guint n = 2;
  va_list list;

  va_start (list, first_arg);
  for (const char *arg = first_arg; arg != NULL && n < G_N_ELEMENTS (args) - 1;
       arg = va_arg (list, const char *))
    args[n++] = arg;
  va_end (list);
  assert_usage_error_of (message, args);
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
  assert_usage_error ("--warmup “61” is out of range: allowed is 0 to 60", "--warmup", "61", NULL);
  assert_usage_error ("--seconds and --calls cannot be used together: "
                      "a phase lasts either so long or so many calls",
                      "--seconds", "1", "--calls", "1", NULL);
  assert_usage_error ("--stock cannot be used with --item: it is the capacity of the fresh item "
                      "that bench creates; restock ITEM with reserve restock",
                      "--stock", "5", "--item", "ticket", NULL);
}

/* No daemon: the same message and exit status as every other command;
 * with --bus, the message names the address. */
static void
test_no_daemon (Fixture *fixture, gconstpointer data)
{
  const char *address = reserved_test_daemon_get_address (fixture->daemon);
  g_autoptr(ReservedTestRun) run = reserved_test_run_reserve ("bench", "--session", "--buyers",
                                                               "2", "--calls", "1", NULL);
  g_autoptr(ReservedTestRun) by_address = NULL;
  g_autofree char *expected = NULL;

  reserved_test_assert_exit (run, 3);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_nonnull (strstr (run->err, "reserved is not running on the session bus"));

  by_address =
    reserved_test_run_reserve ("bench", "--bus", address, "--buyers", "2", "--calls", "1", NULL);
  reserved_test_assert_exit (by_address, 3);
  g_assert_cmpstr (by_address->out, ==, "");
  expected = g_strdup_printf ("reserve: reserved is not running on the bus at %s", address);
  if (!g_str_has_prefix (by_address->err, expected))
    g_error ("expected “%s”, got “%s”", expected, by_address->err);
}

/* --- several daemons ------------------------------------------------------------- */

static const char *const bus_keys[] = { "address",  "daemon_pid", "same_daemon_as_earlier",
                                        "buyers",   "baseline",   "buy",
                                        "batching", NULL };
static const char *const bus_phase_keys[] = { "calls", "failed", "seconds", "calls_per_second",
                                              NULL };

/* The report of a run over the --bus @addresses: the keys of a run on one
 * bus plus how many daemons and each address, every call counted on the
 * bus of the buyer that made it, and the law, over the whole run. */
static JsonArray *
assert_buses (JsonObject *report, const char *const *addresses, guint n_addresses)
{
  const char *const *keys_with_buses = NULL;
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  JsonArray *buses;
  JsonObject *law;
  gint64 buys = 0;

  for (guint i = 0; report_keys[i] != NULL; i++)
    g_ptr_array_add (keys, (gpointer) report_keys[i]);
  g_ptr_array_add (keys, "daemons");
  g_ptr_array_add (keys, "buses");
  g_ptr_array_add (keys, NULL);
  keys_with_buses = (const char *const *) keys->pdata;
  reserved_test_json_assert_keys (report, keys_with_buses);
  g_assert_cmpstr (json_object_get_string_member (report, "bus"), ==, "address");
  assert_phase (report, "baseline", "org.freedesktop.DBus.Properties.Get(Version)");
  assert_phase (report, "buy", RESERVE_INTERFACE ".Buy");

  buses = json_object_get_array_member (report, "buses");
  g_assert_nonnull (buses);
  g_assert_cmpuint (json_array_get_length (buses), ==, n_addresses);
  for (guint i = 0; i < n_addresses; i++)
    {
      JsonObject *bus = json_array_get_object_element (buses, i);
      gint64 buyers = reserved_test_json_int (bus, "buyers");

      reserved_test_json_assert_keys (bus, bus_keys);
      g_assert_cmpstr (json_object_get_string_member (bus, "address"), ==, addresses[i]);
      /* Dealt in turn: 4 buyers over 2 buses is 2 each. */
      g_assert_cmpint (buyers, ==, 4 / n_addresses);
      for (guint p = 0; p < 2; p++)
        {
          JsonObject *phase = json_object_get_object_member (bus, p == 0 ? "baseline" : "buy");

          reserved_test_json_assert_keys (phase, bus_phase_keys);
          g_assert_cmpint (reserved_test_json_int (phase, "calls"), ==, buyers * 50);
          g_assert_cmpint (reserved_test_json_int (phase, "failed"), ==, 0);
          g_assert_cmpfloat (number_member (phase, "calls_per_second"), >, 0);
        }
      buys += reserved_test_json_int (json_object_get_object_member (bus, "buy"), "calls");
    }
  g_assert_cmpint (buys, ==, TOTAL);

  law = json_object_get_object_member (report, "law");
  g_assert_true (json_object_get_boolean_member (law, "holds"));
  g_assert_cmpint (reserved_test_json_int (law, "acknowledged"), ==, TOTAL);
  g_assert_cmpint (reserved_test_json_int (law, "sold"), ==, TOTAL);
  g_assert_cmpint (reserved_test_json_int (law, "remaining") + reserved_test_json_int (law, "sold"),
                   ==, reserved_test_json_int (law, "capacity"));
  return buses;
}

/* Two daemons, each on its own bus, sell one SQLite file: the buyers are
 * dealt over both, each daemon committed exactly the Buys of the buyers
 * on its bus (its own GetStatistics), the sums count both, and either
 * daemon's books show every unit sold. */
static void
test_two_daemons (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestDaemon) second = reserved_test_daemon_new ();
  g_autoptr(ReservedTestRun) run = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(ReservedTestRun) text = NULL;
  ReservedTestDaemon *daemons[2] = { fixture->daemon, second };
  const char *addresses[2];
  JsonObject *report;
  JsonArray *buses;
  const char *item;

  reserved_test_daemon_write_config (second, "[reserved]\n");
  reserved_test_daemon_set_database (second, reserved_test_daemon_get_database (fixture->daemon));
  reserved_test_daemon_start (second);
  for (guint i = 0; i < 2; i++)
    addresses[i] = reserved_test_daemon_get_address (daemons[i]);
  g_assert_cmpstr (addresses[0], !=, addresses[1]);

  run = reserved_test_run_ok ("bench", "--bus", addresses[0], "--bus", addresses[1], "--buyers",
                              BUYERS, "--calls", CALLS, "--keep", "--json", NULL);
  root = reserved_test_parse_json (run->out);
  report = json_node_get_object (root);
  buses = assert_buses (report, addresses, 2);
  g_assert_cmpint (reserved_test_json_int (report, "daemons"), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *bus = json_array_get_object_element (buses, i);
      JsonObject *batching = json_object_get_object_member (bus, "batching");

      g_assert_cmpint (reserved_test_json_int (bus, "daemon_pid"), ==,
                       reserved_test_daemon_get_owner_pid (daemons[i]));
      g_assert_false (json_object_get_boolean_member (bus, "same_daemon_as_earlier"));
      g_assert_cmpint (reserved_test_json_int (batching, "operations"), ==,
                       reserved_test_json_int (json_object_get_object_member (bus, "buy"),
                                               "calls"));
    }
  g_assert_cmpint (reserved_test_json_int (json_object_get_object_member (report, "batching"),
                                           "operations"),
                   ==, TOTAL);
  g_assert_cmpint (reserved_test_json_int (json_object_get_object_member (report, "daemon"), "pid"),
                   ==, reserved_test_daemon_get_owner_pid (fixture->daemon));

  /* One inventory: the second daemon's books show what both sold. */
  item = json_object_get_string_member (report, "item");
  {
    const char *env[] = { "DBUS_SESSION_BUS_ADDRESS", addresses[1], NULL };
    g_autoptr(ReservedTestRun) status_run =
                 reserved_test_run_reserve_with_env (env, "status", "--session", "--json", item,
                                                     NULL);
    g_autoptr(JsonNode) status_root = NULL;

    reserved_test_assert_exit (status_run, 0);
    status_root = reserved_test_parse_json (status_run->out);
    g_assert_cmpint (reserved_test_json_int (json_node_get_object (status_root), "sold"), ==,
                     TOTAL);
  }

  /* The text names both buses and how many daemons. */
  text = reserved_test_run_reserve ("bench", "--bus", addresses[0], "--bus", addresses[1],
                                    "--buyers", BUYERS, "--calls", CALLS, NULL);
  reserved_test_assert_exit (text, 0);
  reserved_test_assert_contains (text->out, "2 daemons sharing the database");
  reserved_test_assert_contains (text->out, addresses[0]);
  reserved_test_assert_contains (text->out, addresses[1]);
  reserved_test_assert_contains (text->out, "BUY/S");
  reserved_test_daemon_stop (second);
}

/* One daemon named twice: its buyers still go to their addresses, but it
 * is one daemon, its writes counted once. */
static void
test_one_daemon_twice (Fixture *fixture, gconstpointer data)
{
  const char *address = reserved_test_daemon_get_address (fixture->daemon);
  const char *addresses[2] = { address, address };
  g_autoptr(ReservedTestRun) run = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *report;
  JsonArray *buses;

  run = reserved_test_run_ok ("bench", "--bus", address, "--bus", address, "--buyers", BUYERS,
                              "--calls", CALLS, "--json", NULL);
  root = reserved_test_parse_json (run->out);
  report = json_node_get_object (root);
  buses = assert_buses (report, addresses, 2);
  g_assert_cmpint (reserved_test_json_int (report, "daemons"), ==, 1);
  g_assert_false (json_object_get_boolean_member (json_array_get_object_element (buses, 0),
                                                  "same_daemon_as_earlier"));
  g_assert_true (json_object_get_boolean_member (json_array_get_object_element (buses, 1),
                                                 "same_daemon_as_earlier"));
  g_assert_cmpint (reserved_test_json_int (json_object_get_object_member (report, "batching"),
                                           "operations"),
                   ==, TOTAL);
}

/* --bus is checked before anything is forked or sent. */
static void
test_bus_usage (Fixture *fixture, gconstpointer data)
{
  const char *const with_system[] = { "bench", "--system", "--bus", "unix:path=/run/bus", NULL };
  const char *const bad[] = { "bench", "--bus", "unix:path=/run/bus", "--bus", "nowhere", NULL };
  const char *const unknown[] = { "bench", "--bus", "carrier-pigeon:coop=1", NULL };
  const char *const too_many[] = { "bench", "--buyers",         "1", "--bus", "unix:path=/run/a",
                                   "--bus", "unix:path=/run/b", NULL };
  g_autoptr(ReservedTestRun) help = reserved_test_run_reserve ("bench", "--help", NULL);

  reserved_test_assert_contains (help->out, "--bus=ADDRESS");
  assert_usage_error ("--bus cannot be used with --session: the buyers go to the daemons on the "
                      "--bus addresses instead",
                      "--bus", "unix:path=/run/bus", NULL);
  assert_usage_error_of ("--bus cannot be used with --system: the buyers go to the daemons on the "
                         "--bus addresses instead",
                         with_system);
  assert_usage_error_of ("--bus “nowhere” is not a D-Bus address this reserve can connect to: "
                         "allowed are addresses such as unix:path=/run/reserved/bus or "
                         "tcp:host=HOST,port=PORT",
                         bad);
  assert_usage_error_of ("--bus “carrier-pigeon:coop=1” is not a D-Bus address this reserve can "
                         "connect to: allowed are addresses such as unix:path=/run/reserved/bus "
                         "or tcp:host=HOST,port=PORT",
                         unknown);
  assert_usage_error_of ("--bus is given 2 times but --buyers is 1: every bus needs a buyer",
                         too_many);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/bench/smoke", Fixture, GINT_TO_POINTER (TRUE), fixture_set_up, test_smoke,
              fixture_tear_down);
  g_test_add ("/bench/warmup", Fixture, GINT_TO_POINTER (TRUE), fixture_set_up, test_warmup,
              fixture_tear_down);
  g_test_add ("/bench/keep-and-warning", Fixture, GINT_TO_POINTER (TRUE), fixture_set_up,
              test_keep_and_warning, fixture_tear_down);
  g_test_add ("/bench/usage", Fixture, GINT_TO_POINTER (FALSE), fixture_set_up, test_usage,
              fixture_tear_down);
  g_test_add ("/bench/no-daemon", Fixture, GINT_TO_POINTER (FALSE), fixture_set_up, test_no_daemon,
              fixture_tear_down);
  g_test_add ("/bench/two-daemons", Fixture, GINT_TO_POINTER (TRUE), fixture_set_up,
              test_two_daemons, fixture_tear_down);
  g_test_add ("/bench/one-daemon-twice", Fixture, GINT_TO_POINTER (TRUE), fixture_set_up,
              test_one_daemon_twice, fixture_tear_down);
  g_test_add ("/bench/bus-usage", Fixture, GINT_TO_POINTER (FALSE), fixture_set_up, test_bus_usage,
              fixture_tear_down);

  return g_test_run ();
}
