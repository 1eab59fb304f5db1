/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve race` ($RESERVE_BINARY) end to end, against the real daemon on a
 * private bus: the file mode oversells on every run, the other three modes
 * sell exactly what there is, a buyer killed mid-run is reported and the
 * others finish, and the output keeps its promises (JSON keys, an 80-column
 * timeline, exit statuses).
 *
 * $RESERVE_TEST_CLI_WRAPPER is put in front of `reserve`, as in test-cli.c
 * (use valgrind's --child-silent-after-fork=yes: the buyers are forks). */
#include "config.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <json-glib/json-glib.h>

#include "reserved-test-client.h"
#include "reserved-test-cli.h"
#include "reserved-test-daemon.h"
#include "reserved-test-main.h"

typedef struct {
  ReservedTestDaemon *daemon;
  GDBusConnection *connection; /* nullable: no daemon */
  ReservedTestClient client;   /* the daemon's own uid: an admin */
} Fixture;

static const gboolean with_daemon = TRUE;
static const gboolean without_daemon = FALSE;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  const gboolean *start_daemon = data;

  fixture->daemon = reserved_test_daemon_new ();
  if (!*start_daemon)
    return;
  reserved_test_daemon_write_config (fixture->daemon, "[reserved]\n");
  reserved_test_daemon_start (fixture->daemon);
  /* The test asks the daemon itself what was sold. (reserve is spawned
   * with exec, so its buyers never inherit this connection.) */
  (void) reserve_error_quark ();
  fixture->connection = reserved_test_connect (reserved_test_daemon_get_address (fixture->daemon));
  fixture->client.proxy = reserved_test_proxy_new (fixture->connection);
  fixture->client.admin = TRUE;
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_clear_object (&fixture->client.proxy);
  g_clear_object (&fixture->connection);
  /* Stopping asserts exit status 0: the daemon came through the race. */
  if (reserved_test_daemon_get_process (fixture->daemon) != NULL)
    reserved_test_daemon_stop (fixture->daemon);
  g_clear_pointer (&fixture->daemon, reserved_test_daemon_free);
}

/* --- running reserve race ------------------------------------------------- */

/* The run completed: exit 0 and nothing on stderr (no terminal, so no
 * progress line either). */
/* --- JSON ----------------------------------------------------------------- */

static const char *const required_keys[] = { "mode",     "buyers",  "stock", "sold",
                                             "oversold", "seconds", NULL };

/* Runs `reserve race --session --json ARGS…`, asserts it completed, and
 * parses its output, checking the keys every mode's object must have. */
static JsonNode *race_json (const char *first_arg, ...) G_GNUC_NULL_TERMINATED;

static JsonNode *
race_json (const char *first_arg, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(ReservedTestRun) run = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *root;
  JsonArray *runs;
  va_list va;

  va_start (va, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (va, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (va);
  g_assert_cmpuint (args->len, <=, 12);
  g_ptr_array_set_size (args, 12); /* NULL-padded: the end of the list */

#define A(i) ((const char *) args->pdata[i])
  run = reserved_test_run_reserve ("race", "--session", "--json", A (0), A (1), A (2), A (3), A (4),
                                   A (5), A (6), A (7), A (8), A (9), A (10), A (11), NULL);
#undef A
  reserved_test_assert_completed (run);

  root = json_from_string (run->out, &error);
  g_assert_no_error (error);
  g_assert_nonnull (root);
  runs = json_node_get_array (root);
  g_assert_nonnull (runs);
  for (guint i = 0; i < json_array_get_length (runs); i++)
    {
      JsonObject *object = json_array_get_object_element (runs, i);
      JsonNode *seconds;

      g_assert_nonnull (object);
      for (guint k = 0; required_keys[k] != NULL; k++)
        if (!json_object_has_member (object, required_keys[k]))
          g_error ("the %u. mode's object lacks “%s”", i + 1, required_keys[k]);
      reserved_test_json_string (object, "mode");
      reserved_test_json_int (object, "buyers");
      reserved_test_json_int (object, "stock");
      reserved_test_json_int (object, "sold");
      reserved_test_json_int (object, "oversold");
      seconds = json_object_get_member (object, "seconds");
      g_assert_true (JSON_NODE_HOLDS_VALUE (seconds));
      g_assert_true (json_node_get_value_type (seconds) == G_TYPE_DOUBLE ||
                     json_node_get_value_type (seconds) == G_TYPE_INT64);
      g_assert_cmpfloat (json_node_get_double (seconds), >=, 0);
    }
  return root;
}

static JsonObject *
mode_object (JsonNode *root, const char *mode)
{
  JsonArray *runs = json_node_get_array (root);

  for (guint i = 0; i < json_array_get_length (runs); i++)
    {
      JsonObject *object = json_array_get_object_element (runs, i);

      if (g_str_equal (reserved_test_json_string (object, "mode"), mode))
        return object;
    }
  g_error ("no “%s” in the JSON output", mode);
}

/* The items on sale, by name, separated by spaces. */
static char *
items_on_sale (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) items = NULL;
  g_autoptr(GString) names = g_string_new (NULL);
  GVariantIter iter;
  const char *name = NULL;

  reserve_reserve1_call_list_items_sync (fixture->client.proxy, G_DBUS_CALL_FLAGS_NONE, -1, &items,
                                         NULL, &error);
  g_assert_no_error (error);
  g_variant_iter_init (&iter, items);
  while (g_variant_iter_next (&iter, "(&suu)", &name, NULL, NULL))
    g_string_append_printf (names, "%s%s", names->len > 0 ? " " : "", name);
  return g_string_free (g_steal_pointer (&names), FALSE);
}

/* The daemon's own view of the item the dbus mode raced for: its orders
 * stay; a fresh one is retired at the end, so the race leaves no item on
 * sale behind it. */
static void
assert_daemon_sold (Fixture *fixture, JsonObject *dbus, guint32 sold, guint32 remaining)
{
  const char *name = reserved_test_json_string (dbus, "item");
  ReservedTestItem item = reserved_test_get_item (&fixture->client, name);
  g_autofree char *on_sale = items_on_sale (fixture);

  g_assert_cmpuint (item.sold, ==, sold);
  g_assert_cmpuint (item.remaining, ==, remaining);
  g_assert_true (item.retired == !g_str_equal (name, "ticket"));
  g_assert_cmpstr (on_sale, ==, "ticket");
  reserved_test_assert_law (&fixture->client);
}

/* --- the modes ------------------------------------------------------------ */

static void
test_file_oversells (Fixture *fixture, gconstpointer data)
{
  /* Not by luck: the barrier releases all 30 at once on every run. */
  for (guint attempt = 0; attempt < 5; attempt++)
    {
      g_autoptr(JsonNode) root =
                   race_json ("--mode", "file", "--buyers", "30", "--stock", "1", NULL);
      JsonObject *file = mode_object (root, "file");

      reserved_test_json_assert_ints (file, "buyers", 30, "stock", 1, NULL);
      g_assert_cmpint (reserved_test_json_int (file, "oversold"), >, 0);
      g_assert_cmpint (reserved_test_json_int (file, "oversold"), ==,
                       reserved_test_json_int (file, "sold") - 1);
    }
}

static void
assert_correct_modes (Fixture *fixture, guint stock)
{
  g_autofree char *stock_text = g_strdup_printf ("%u", stock);
  g_autoptr(JsonNode) root = race_json ("--buyers", "30", "--stock", stock_text, NULL);
  const char *const correct[] = { "locked-file", "sqlite", "dbus", NULL };
  guint expected = MIN (30, stock);

  g_assert_cmpuint (json_array_get_length (json_node_get_array (root)), ==, 4);
  g_assert_cmpint (reserved_test_json_int (mode_object (root, "file"), "oversold"), >, 0);
  for (guint i = 0; correct[i] != NULL; i++)
    {
      JsonObject *object = mode_object (root, correct[i]);

      reserved_test_json_assert_ints (object, "sold", expected, "oversold", 0, "sold_out",
                                      30 - expected, NULL);
      g_assert_true (json_object_get_boolean_member (object, "consistent"));
    }
  assert_daemon_sold (fixture, mode_object (root, "dbus"), expected, stock - expected);
}

static void
test_correct_stock_1 (Fixture *fixture, gconstpointer data)
{
  assert_correct_modes (fixture, 1);
}

static void
test_correct_stock_10 (Fixture *fixture, gconstpointer data)
{
  assert_correct_modes (fixture, 10);
}

/* More buyers than a pool holds: the pool keeps forking as buyers finish. */
static void
test_dbus_many_buyers (Fixture *fixture, gconstpointer data)
{
  g_autoptr(JsonNode) root = race_json ("--mode", "dbus", "--buyers", "500", "--stock", "200",
                                         "--jobs", "32", NULL);
  JsonObject *dbus = mode_object (root, "dbus");

  reserved_test_json_assert_ints (dbus, "buyers", 500, "sold", 200, "oversold", 0, "sold_out", 300,
                                  "failed", 0, NULL);
  assert_daemon_sold (fixture, dbus, 200, 0);
}

static void
test_dbus_item (Fixture *fixture, gconstpointer data)
{
  g_autoptr(JsonNode) root =
               race_json ("--mode", "dbus", "--item", "ticket", "--buyers", "30", NULL);
  JsonObject *dbus = mode_object (root, "dbus");

  /* The default item's 100 units, not --stock. */
  g_assert_cmpstr (reserved_test_json_string (dbus, "item"), ==, "ticket");
  reserved_test_json_assert_ints (dbus, "stock", 100, "sold", 30, NULL);
  assert_daemon_sold (fixture, dbus, 30, 70);
}

/* --keep: the fresh item stays on sale, with what the race left of it. */
static void
test_dbus_keep (Fixture *fixture, gconstpointer data)
{
  g_autoptr(JsonNode) root =
               race_json ("--mode", "dbus", "--keep", "--buyers", "10", "--stock", "4", NULL);
  JsonObject *dbus = mode_object (root, "dbus");
  const char *name = reserved_test_json_string (dbus, "item");
  ReservedTestItem item = reserved_test_get_item (&fixture->client, name);
  g_autofree char *on_sale = items_on_sale (fixture);
  g_autofree char *expected = g_strdup_printf ("%s ticket", name);

  g_assert_true (g_str_has_prefix (name, "race-"));
  g_assert_false (item.retired);
  g_assert_cmpuint (item.sold, ==, 4);
  g_assert_cmpuint (item.remaining, ==, 0);
  g_assert_cmpstr (on_sale, ==, expected);
}

/* --- a buyer killed mid-run ------------------------------------------------ */

/* @queued: what the mode says of the buyers that queued behind the
 * victim (it takes its lock before the release), or NULL. */
static void
assert_kill_one (Fixture *fixture, const char *mode, const char *where, const char *queued)
{
  g_autoptr(ReservedTestRun) text =
               reserved_test_run_reserve ("race", "--session", "--mode", mode, "--buyers", "30",
                                          "--stock", "10", "--kill-one", NULL);
  g_autoptr(JsonNode) root =
               race_json ("--mode", mode, "--buyers", "30", "--stock", "10", "--kill-one", NULL);
  JsonObject *object = mode_object (root, mode);
  JsonArray *deaths = json_object_get_array_member (object, "deaths");
  JsonObject *death;
  g_autofree char *pattern = g_strdup_printf ("^%s: buyer-1 \\(pid ([0-9]+)\\) was killed by "
                                              "signal 9 \\(SIGKILL\\) %s",
                                              mode, where);
  g_autoptr(GRegex) continuation = g_regex_new ("\n +", 0, 0, NULL);
  g_autofree char *unwrapped = NULL;

  /* Reported by name, pid and signal, and the run still finished. The
   * report wraps its sentences at 80 columns; they are read unwrapped. */
  reserved_test_assert_completed (text);
  unwrapped = g_regex_replace_literal (continuation, text->out, -1, 0, " ", 0, NULL);
  g_assert_cmpuint (reserved_test_match_number (pattern, G_REGEX_MULTILINE, unwrapped), >, 1);
  if (queued != NULL)
    reserved_test_assert_contains (unwrapped, queued);

  g_assert_cmpint (reserved_test_json_int (object, "died"), ==, 1);
  g_assert_cmpuint (json_array_get_length (deaths), ==, 1);
  death = json_array_get_object_element (deaths, 0);
  g_assert_cmpstr (reserved_test_json_string (death, "buyer"), ==, "buyer-1");
  g_assert_cmpint (reserved_test_json_int (death, "pid"), >, 1);
  g_assert_cmpint (reserved_test_json_int (death, "signal"), ==, 9);
  g_assert_true (json_object_get_boolean_member (death, "kill_one"));

  /* Every other buyer got its answer: the dead one wedged nobody. */
  g_assert_cmpint (reserved_test_json_int (object, "sold") +
                     reserved_test_json_int (object, "sold_out") +
                     reserved_test_json_int (object, "torn_reads"),
                   ==, 29);
}

static void
test_kill_one_file (Fixture *fixture, gconstpointer data)
{
  assert_kill_one (fixture, "file", "between its read and its write", NULL);
}

static void
test_kill_one_locked_file (Fixture *fixture, gconstpointer data)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *locked;

  assert_kill_one (fixture, "locked-file", "while holding the lock",
                   "the kernel released its lock, and 29 buyers took the lock after it.");

  /* The kernel released the dead holder's lock: with less stock than
   * buyers, the others still took the lock, one after another, and sold
   * exactly what there was. */
  root = race_json ("--mode", "locked-file", "--buyers", "30", "--stock", "1", "--kill-one",
                    "--verbose", NULL);
  locked = mode_object (root, "locked-file");
  reserved_test_json_assert_ints (locked, "sold", 1, "sold_out", 28, "oversold", 0, NULL);
}

static void
test_kill_one_sqlite (Fixture *fixture, gconstpointer data)
{
  assert_kill_one (fixture, "sqlite", "inside its transaction",
                   "SQLite rolled its transaction back, and 29 buyers got into the database "
                   "after it.");
}

static void
test_kill_one_dbus (Fixture *fixture, gconstpointer data)
{
  assert_kill_one (fixture, "dbus", "right before calling Buy", "nothing was sold to it");
}

/* --- output ---------------------------------------------------------------- */

static void
test_json_per_buyer (Fixture *fixture, gconstpointer data)
{
  g_autoptr(JsonNode) root = race_json ("--buyers", "12", "--stock", "3", "--verbose", NULL);
  JsonArray *runs = json_node_get_array (root);
  const char *const modes[] = { "file", "locked-file", "sqlite", "dbus", NULL };

  /* In the order of the lesson. */
  g_assert_cmpuint (json_array_get_length (runs), ==, 4);
  for (guint i = 0; modes[i] != NULL; i++)
    {
      JsonObject *object = json_array_get_object_element (runs, i);
      JsonArray *results = json_object_get_array_member (object, "results");

      g_assert_cmpstr (reserved_test_json_string (object, "mode"), ==, modes[i]);
      g_assert_cmpuint (json_array_get_length (results), ==, 12);
      for (guint j = 0; j < 12; j++)
        {
          JsonObject *result = json_array_get_object_element (results, j);
          g_autofree char *name = g_strdup_printf ("buyer-%u", j + 1);

          g_assert_cmpstr (reserved_test_json_string (result, "buyer"), ==, name);
          g_assert_cmpint (reserved_test_json_int (result, "pid"), >, 1);
          reserved_test_json_string (result, "outcome");
        }
    }
}

static void
test_verbose (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run =
               reserved_test_run_reserve ("race", "--session", "--mode", "locked-file", "--buyers",
                                          "5", "--verbose", NULL);

  reserved_test_assert_completed (run);
  /* The one who got the ticket read count=1, the others count=0. */
  reserved_test_match_number ("^  buyer-[0-9] \\(pid ([0-9]+)\\) read count=1 -> bought$",
                              G_REGEX_MULTILINE, run->out);
  reserved_test_match_number ("^  buyer-[0-9] \\(pid ([0-9]+)\\) read count=0 -> sold out$",
                              G_REGEX_MULTILINE, run->out);
  reserved_test_assert_contains (run->out, "locked-file: correct but serial: 1 sold");
}

static void
test_timeline_fits (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run =
               reserved_test_run_reserve ("race", "--session", "--buyers", "40", "--stock", "1",
                                          "--timeline", NULL);
  g_auto(GStrv) lines = NULL;
  gboolean in_timeline = FALSE;
  guint timelines = 0;
  guint rows = 0;

  reserved_test_assert_completed (run);
  lines = g_strsplit (run->out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_suffix (lines[i], " mode, when each buyer read and wrote:"))
        {
          in_timeline = TRUE;
          timelines++;
        }
      else if (*lines[i] == '\0')
        in_timeline = FALSE;
      if (!in_timeline)
        continue;
      if (g_utf8_strlen (lines[i], -1) > 80)
        g_error ("a timeline line is %ld columns wide:\n%s", g_utf8_strlen (lines[i], -1),
                 lines[i]);
      if (g_str_has_prefix (lines[i], "buyer-"))
        rows++;
    }
  g_assert_cmpuint (timelines, ==, 4);
  g_assert_cmpuint (rows, ==, 4 * 40);
  /* The file mode's picture shows what went wrong: everyone wrote. */
  reserved_test_assert_contains (run->out, "file:        OVERSOLD: ");
}

static void
test_file_flag (Fixture *fixture, gconstpointer data)
{
  const char *tmpdir = reserved_test_daemon_get_tmpdir (fixture->daemon);
  g_autofree char *path = g_build_filename (tmpdir, "count.json", NULL);
  g_autofree char *other = g_build_filename (tmpdir, "notes.txt", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(ReservedTestRun) run = NULL;
  g_autofree char *nowhere = g_build_filename (tmpdir, "missing", "count.json", NULL);
  g_autoptr(ReservedTestRun) refused = NULL;
  g_autoptr(ReservedTestRun) missing = NULL;
  g_autoptr(ReservedTestRun) device = NULL;
  g_autoptr(GError) error = NULL;

  run = reserved_test_run_reserve ("race", "--session", "--mode", "locked-file", "--buyers", "5",
                                   "--stock", "3", "--file", path, NULL);
  reserved_test_assert_completed (run);
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "{\"count\": 0}\n");

  /* Someone's document is not the race's to overwrite. */
  g_file_set_contents (other, "my notes\n", -1, &error);
  g_assert_no_error (error);
  refused =
    reserved_test_run_reserve ("race", "--session", "--mode", "file", "--file", other, NULL);
  reserved_test_assert_exit (refused, 2);
  reserved_test_assert_contains (refused->err, "not overwriting it");
  g_clear_pointer (&contents, g_free);
  g_file_get_contents (other, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "my notes\n");

  device =
    reserved_test_run_reserve ("race", "--session", "--mode", "file", "--file", "/dev/null", NULL);
  reserved_test_assert_exit (device, 2);
  reserved_test_assert_contains (device->err, "is not a regular file");

  /* A file that cannot be made is a failure to run (3), never a refusal. */
  missing =
    reserved_test_run_reserve ("race", "--session", "--mode", "file", "--file", nowhere, NULL);
  reserved_test_assert_exit (missing, 3);
  reserved_test_assert_contains (missing->err, nowhere);
}

/* --- failures -------------------------------------------------------------- */

static void
assert_usage_error (const char *message, const char *first_arg, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(ReservedTestRun) run = NULL;
  g_autofree char *line = g_strdup_printf ("reserve: %s\n", message);
  va_list va;

  va_start (va, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (va, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (va);
  g_ptr_array_set_size (args, 4);
  run = reserved_test_run_reserve ("race", "--session", args->pdata[0], args->pdata[1],
                                   args->pdata[2], args->pdata[3], NULL);
  reserved_test_assert_exit (run, 2);
  g_assert_cmpstr (run->out, ==, "");
  if (!g_str_has_prefix (run->err, line))
    g_error ("expected “%s”, got “%s”", message, run->err);
}

static void
test_usage (Fixture *fixture, gconstpointer data)
{
  assert_usage_error ("--buyers “0” is out of range: allowed is 1 to 100000", "--buyers", "0",
                      NULL);
  assert_usage_error ("--buyers “100001” is out of range: allowed is 1 to 100000", "--buyers",
                      "100001", NULL);
  assert_usage_error ("--stock “many” is not a number: allowed is 0 to 1000000000", "--stock",
                      "many", NULL);
  assert_usage_error ("--stock “1000000001” is out of range: allowed is 0 to 1000000000", "--stock",
                      "1000000001", NULL);
  assert_usage_error ("--delay-ms “10001” is out of range: allowed is 0 to 10000", "--delay-ms",
                      "10001", NULL);
  assert_usage_error ("--jobs “0” is out of range: allowed is 1 to 256", "--jobs", "0", NULL);
  assert_usage_error ("--jobs “257” is out of range: allowed is 1 to 256", "--jobs", "257", NULL);
  assert_usage_error ("--mode “fast” is not a mode: allowed are all, file, locked-file, "
                      "sqlite and dbus",
                      "--mode", "fast", NULL);
  assert_usage_error ("--item is for the dbus mode, which --mode sqlite does not run", "--mode",
                      "sqlite", "--item", "ticket", NULL);
  assert_usage_error ("unexpected argument “now”", "now", NULL);
}

static void
test_no_daemon (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) dbus =
               reserved_test_run_reserve ("race", "--session", "--mode", "dbus", NULL);
  g_autoptr(ReservedTestRun) all = reserved_test_run_reserve ("race", "--session", NULL);
  g_autoptr(ReservedTestRun) file =
               reserved_test_run_reserve ("race", "--session", "--mode", "file", NULL);

  reserved_test_assert_exit (dbus, 3);
  reserved_test_assert_contains (dbus->err, "reserved is not running on the session bus");
  /* Found out before any mode runs. */
  reserved_test_assert_exit (all, 3);
  g_assert_cmpstr (all->out, ==, "");
  /* The modes without a daemon do not need one. */
  reserved_test_assert_completed (file);
  reserved_test_assert_contains (file->out, "file: OVERSOLD: ");
}

static void
test_help (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) flag = reserved_test_run_reserve ("race", "--help", NULL);
  g_autoptr(ReservedTestRun) word = reserved_test_run_reserve ("help", "race", NULL);
  g_autoptr(ReservedTestRun) main_help = reserved_test_run_reserve ("--help", NULL);

  reserved_test_assert_completed (flag);
  reserved_test_assert_completed (word);
  g_assert_cmpstr (word->out, ==, flag->out);
  reserved_test_assert_contains (flag->out, "Exit status of race");
  reserved_test_assert_contains (flag->out,
                                 "  0  the run completed, even if the file mode oversold");
  reserved_test_assert_contains (flag->out, "  3  reserved could not be reached");
  reserved_test_assert_contains (flag->out, "--kill-one");
  reserved_test_assert_contains (flag->out, "--session");
  reserved_test_assert_contains (main_help->out, "\n  race ");
}

/* --- one time axis ---------------------------------------------------------- */

/* The time axis over @mode's timeline in @out: the line after its
 * heading, without its leading blanks. */
static char *
axis_line (const char *out, const char *mode)
{
  g_autofree char *heading = g_strdup_printf ("\n%s mode, when each buyer read and wrote:\n", mode);
  const char *section = strstr (out, heading);
  const char *axis;

  if (section == NULL)
    g_error ("no timeline of the %s mode in:\n%s", mode, out);
  axis = section + strlen (heading);
  return g_strstrip (g_strndup (axis, strcspn (axis, "\n")));
}

/* The lesson at a glance: every mode on one time axis, so the file mode's
 * few milliseconds of overselling look short next to the locked file's
 * queue, where each timeline drawn to its own scale made both as wide. */
static void
test_timeline_one_axis (Fixture *fixture, gconstpointer data)
{
  static const char *const modes[] = { "file", "locked-file", "sqlite", "dbus" };
  g_autoptr(ReservedTestRun) run =
               reserved_test_run_reserve ("race", "--session", "--buyers", "12", "--stock", "1",
                                          "--mode", "all", "--timeline", NULL);
  g_autofree char *with_newline = NULL;
  g_autofree char *first_axis = NULL;

  reserved_test_assert_completed (run);
  with_newline = g_strconcat ("\n", run->out, NULL);
  /* Each mode's timeline starts with its time axis: one axis means the
   * same line, the longest mode's span, over every mode. Timelines drawn
   * each to its own scale would each end with their own span. */
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autofree char *axis = axis_line (with_newline, modes[i]);

      g_assert_true (g_str_has_suffix (axis, " ms") || g_str_has_suffix (axis, " s"));
      if (first_axis == NULL)
        first_axis = g_steal_pointer (&axis);
      else if (!g_str_equal (axis, first_axis))
        g_error ("the %s mode's axis is \"%s\", the file mode's \"%s\": not one axis:\n%s",
                 modes[i], axis, first_axis, run->out);
    }
}

/* The rows go in the order the buyers began: in the locked-file mode the
 * reads come one after another, down the page. */
static void
test_timeline_sorted (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run =
               reserved_test_run_reserve ("race", "--session", "--buyers", "8", "--mode",
                                          "locked-file", "--timeline", NULL);
  g_auto(GStrv) lines = NULL;
  gssize previous = -1;
  guint rows = 0;

  reserved_test_assert_completed (run);
  lines = g_strsplit (run->out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *read_at;

      if (!g_str_has_prefix (lines[i], "buyer-"))
        continue;
      read_at = strchr (strchr (lines[i], '|'), 'R');
      g_assert_nonnull (read_at);
      g_assert_cmpint (read_at - lines[i], >=, previous);
      previous = read_at - lines[i];
      rows++;
    }
  g_assert_cmpuint (rows, ==, 8);
}

/* Sales the stock does not show: the file mode's buyers overwrite each
 * other's writes. The table and JSON count them. */
static void
test_lost_updates (Fixture *fixture, gconstpointer data)
{
  g_autoptr(JsonNode) root =
               race_json ("--mode", "file", "--buyers", "12", "--stock", "100", NULL);
  g_autoptr(ReservedTestRun) table =
               reserved_test_run_reserve ("race", "--session", "--mode", "file", "--buyers", "12",
                                          "--stock", "100", NULL);
  JsonObject *file = mode_object (root, "file");
  guint64 left = reserved_test_match_number ("^the file says ([0-9]+) left$", 0,
                                             reserved_test_json_string (file, "check"));
  gint64 sold = reserved_test_json_int (file, "sold");

  /* Nobody is oversold with 100 units for 12 buyers, yet updates are lost. */
  g_assert_cmpint (reserved_test_json_int (file, "oversold"), ==, 0);
  g_assert_cmpint (reserved_test_json_int (file, "lost_updates"), ==, sold - (100 - (gint64) left));
  g_assert_cmpint (reserved_test_json_int (file, "lost_updates"), >, 0);

  reserved_test_assert_completed (table);
  reserved_test_assert_contains (table->out, "  LOST-UPDATES  ");
}

/* Every line after the table fits 80 columns, the verdicts included. */
static void
test_verdicts_fit (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run = reserved_test_run_reserve ("race", "--session", "--buyers",
                                                               "30", "--stock", "5", NULL);
  g_auto(GStrv) lines = NULL;

  reserved_test_assert_completed (run);
  lines = g_strsplit (run->out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_utf8_strlen (lines[i], -1) > 80)
      g_error ("a line is %ld columns wide:\n%s", g_utf8_strlen (lines[i], -1), lines[i]);
  reserved_test_assert_contains (run->out, "\nlocked-file: correct but serial: 5 sold,");
}

/* Forking buyers one at a time and connecting each to the bus costs more
 * than their Buy calls: the dbus verdict says its time went there, exactly
 * when the buyers' own intervals cover less than half of the run. */
static void
test_setup_cost (Fixture *fixture, gconstpointer data)
{
  g_autoptr(JsonNode) root = race_json ("--mode", "dbus", "--buyers", "40", "--jobs", "1",
                                         "--delay-ms", "0", "--verbose", NULL);
  JsonObject *dbus = mode_object (root, "dbus");
  JsonArray *results = json_object_get_array_member (dbus, "results");
  gint64 covered = 0;
  gint64 reached = 0;
  gint64 total = (gint64) (json_object_get_double_member (dbus, "seconds") * G_USEC_PER_SEC);
  gboolean noted = strstr (reserved_test_json_string (dbus, "verdict"),
                           "went to forking buyers and connecting them to the bus") != NULL;

  /* The buyers one after another (--jobs 1): their start order is their
   * index order. */
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *buyer = json_array_get_object_element (results, i);
      gint64 from = MAX (reserved_test_json_int (buyer, "start_us"), reached);
      gint64 to = reserved_test_json_int (buyer, "end_us");

      if (to > from)
        covered += to - from;
      reached = MAX (reached, to);
    }
  g_test_message ("buying %" G_GINT64_FORMAT " µs of %" G_GINT64_FORMAT " µs", covered, total);
  g_assert_cmpint (noted, ==, covered * 2 < total);
}

static const char *
attribute (const char **names, const char **values, const char *name)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (g_str_equal (names[i], name))
      return values[i];
  return NULL;
}

/* The colour of the lines a mode's plot has at the axis's ticks. */
#define GRID "#e0e0e0"
/* Where the plot ends (960 pixels wide, less a 30-pixel margin), and
 * past it the 1.5 pixels of a bar that began at its very end. */
#define PLOT_RIGHT (930.0 + 1.5)

/* Notes the <svg> root, the mode each <g class="mode"> draws, and for each
 * mode where its grid's lines stand ("MODE-grid"), the right end of its
 * buyers' bars and their count ("MODE-end"). */
static void
note_svg_element (GMarkupParseContext *context,
                  const char *element,
                  const char **names,
                  const char **values,
                  gpointer user_data,
                  GError **error)
{
  GHashTable *notes = user_data;
  const char *class = attribute (names, values, "class");

  if (g_str_equal (element, "svg"))
    g_hash_table_insert (notes, g_strdup ("svg"), g_strdup (attribute (names, values, "xmlns")));
  if (class != NULL && g_str_equal (class, "mode"))
    g_hash_table_insert (notes, g_strdup ("current"), g_strdup (attribute (names, values, "id")));
  if (g_str_equal (element, "line") && g_strcmp0 (attribute (names, values, "stroke"), GRID) == 0)
    {
      g_autofree char *key =
        g_strdup_printf ("%s-grid", (const char *) g_hash_table_lookup (notes, "current"));
      const char *known = g_hash_table_lookup (notes, key);

      g_hash_table_insert (notes, g_steal_pointer (&key),
                           g_strconcat (known != NULL ? known : "", " ",
                                        attribute (names, values, "x1"), NULL));
    }
  if (class != NULL && g_str_equal (class, "buyer"))
    {
      g_autofree char *key =
        g_strdup_printf ("%s-end", (const char *) g_hash_table_lookup (notes, "current"));
      double end = g_ascii_strtod (attribute (names, values, "x"), NULL) +
                   g_ascii_strtod (attribute (names, values, "width"), NULL);
      double *known = g_hash_table_lookup (notes, key);

      if (known == NULL)
        {
          known = g_new0 (double, 2);
          g_hash_table_insert (notes, g_steal_pointer (&key), known);
        }
      known[0] = MAX (known[0], end);
      known[1]++;
    }
}

/* --svg FILE: every mode's buyers as bars on one time axis, in an SVG
 * document a browser shows. */
static void
test_svg (Fixture *fixture, gconstpointer data)
{
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "race-XXXXXX.svg", NULL);
  g_autoptr(ReservedTestRun) run = NULL;
  g_autofree char *svg = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GMarkupParser parser = { note_svg_element, NULL, NULL, NULL, NULL };
  g_autoptr(GMarkupParseContext) context = NULL;
  int fd = g_mkstemp (path);
  double *file_end;
  double *locked_end;
  const char *file_grid;

  g_assert_cmpint (fd, >=, 0);
  close (fd);
  run = reserved_test_run_reserve ("race", "--session", "--buyers", "12", "--stock", "1", "--svg",
                                   path, NULL);
  reserved_test_assert_completed (run);
  g_assert_true (g_file_get_contents (path, &svg, NULL, &error));
  g_assert_no_error (error);
  g_unlink (path);

  reserved_test_assert_contains (svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"");
  context = g_markup_parse_context_new (&parser, 0, counts, NULL);
  /* The XML declaration is no element; GMarkup takes it as a passthrough. */
  g_assert_true (g_markup_parse_context_parse (context, svg, -1, &error) &&
                 g_markup_parse_context_end_parse (context, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (counts, "svg"), ==, "http://www.w3.org/2000/svg");

  file_end = g_hash_table_lookup (counts, "file-end");
  locked_end = g_hash_table_lookup (counts, "locked-file-end");
  g_assert_nonnull (file_end);
  g_assert_nonnull (locked_end);
  g_assert_cmpfloat (file_end[1], ==, 12);
  g_assert_cmpfloat (locked_end[1], ==, 12);
  g_assert_nonnull (g_hash_table_lookup (counts, "sqlite-end"));
  g_assert_nonnull (g_hash_table_lookup (counts, "dbus-end"));
  /* One axis: every mode's grid stands where the axis's ticks are, so the
   * same lines in every mode; plots drawn each to its own span would
   * have them elsewhere. */
  file_grid = g_hash_table_lookup (counts, "file-grid");
  g_assert_nonnull (file_grid);
  g_assert_cmpstr (g_hash_table_lookup (counts, "locked-file-grid"), ==, file_grid);
  g_assert_cmpstr (g_hash_table_lookup (counts, "sqlite-grid"), ==, file_grid);
  g_assert_cmpstr (g_hash_table_lookup (counts, "dbus-grid"), ==, file_grid);
  /* And no bar passes the axis's end. */
  g_assert_cmpfloat (file_end[0], <=, PLOT_RIGHT);
  g_assert_cmpfloat (locked_end[0], <=, PLOT_RIGHT);
}

static void
add_cases (void)
{
#define ADD(path, function) \
  g_test_add (path, Fixture, &with_daemon, fixture_set_up, function, fixture_tear_down)
#define ADD_NO_DAEMON(path, function) \
  g_test_add (path, Fixture, &without_daemon, fixture_set_up, function, fixture_tear_down)

  ADD_NO_DAEMON ("/race/file/oversells", test_file_oversells);
  ADD ("/race/correct/stock-1", test_correct_stock_1);
  ADD ("/race/correct/stock-10", test_correct_stock_10);
  ADD ("/race/dbus/many-buyers", test_dbus_many_buyers);
  ADD ("/race/dbus/item", test_dbus_item);
  ADD ("/race/dbus/keep", test_dbus_keep);
  ADD_NO_DAEMON ("/race/kill-one/file", test_kill_one_file);
  ADD_NO_DAEMON ("/race/kill-one/locked-file", test_kill_one_locked_file);
  ADD_NO_DAEMON ("/race/kill-one/sqlite", test_kill_one_sqlite);
  ADD ("/race/kill-one/dbus", test_kill_one_dbus);
  ADD ("/race/output/json", test_json_per_buyer);
  ADD_NO_DAEMON ("/race/output/verbose", test_verbose);
  ADD ("/race/output/timeline", test_timeline_fits);
  ADD ("/race/output/timeline-one-axis", test_timeline_one_axis);
  ADD_NO_DAEMON ("/race/output/timeline-sorted", test_timeline_sorted);
  ADD_NO_DAEMON ("/race/output/lost-updates", test_lost_updates);
  ADD ("/race/output/verdicts-fit", test_verdicts_fit);
  ADD ("/race/output/setup-cost", test_setup_cost);
  ADD ("/race/output/svg", test_svg);
  ADD_NO_DAEMON ("/race/file-flag", test_file_flag);
  ADD_NO_DAEMON ("/race/usage", test_usage);
  ADD_NO_DAEMON ("/race/no-daemon", test_no_daemon);
  ADD_NO_DAEMON ("/race/help", test_help);
}

RESERVED_TEST_MAIN (add_cases, NULL)
