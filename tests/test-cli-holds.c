/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve hold`, `confirm`, `release`, `extend` and `holds` against the
 * real daemon, and the semaphore mode, `reserve hold -- COMMAND`: twenty
 * racing commands on an item of capacity 3 never run more than 3 at once,
 * as each records its start and end in one file; the command's exit
 * status is reserve's; RESERVE_HOLD is exported; the hold is released
 * when the command exits. */
#include <signal.h>
#include <string.h>

#include "reserved-test-cli.h"
#include "reserved-test-client.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"

typedef ReservedTestFixture Fixture;

#define RACERS   20
#define CAPACITY 3

/* A hold of bob's, extended and released; releasing it again is refused. */
static void
extend_and_release (void)
{
  g_autoptr(ReservedTestRun) held =
               reserved_test_run_ok ("hold", "--session", "--user", "bob", NULL);
  g_autofree char *id = reserved_test_match_id ("^Hold ([0-9]+):", held->out);

  reserved_test_reserve_ok ("extend", "--session", id, "--ttl", "60", NULL);
  reserved_test_reserve_ok ("release", "--session", id, NULL);
  reserved_test_reserve_fails (1, "released", "release", "--session", id, NULL);
}

static void
test_commands (Fixture *f, gconstpointer data)
{
  g_autoptr(ReservedTestRun) held = reserved_test_run_ok ("hold", "--session", "--user", "alice",
                                                           "--quantity", "2", "--ttl", "900", NULL);
  g_autofree char *id =
    reserved_test_match_id ("^Hold ([0-9]+): 2 × ticket for alice until ", held->out);
  g_autofree char *order_line = g_strdup_printf ("Hold %s confirmed as order ", id);
  g_autoptr(ReservedTestRun) listed = NULL;
  g_autoptr(ReservedTestRun) confirmed = NULL;
  g_autoptr(ReservedTestRun) again = NULL;

  reserved_test_assert_contains (held->out, "; 98 left.");
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 2);

  listed = reserved_test_run_ok ("holds", "--session", NULL);
  reserved_test_assert_contains (listed->out, "alice");

  confirmed = reserved_test_run_ok ("confirm", "--session", id, NULL);
  g_assert_true (g_str_has_prefix (confirmed->out, order_line));
  again = reserved_test_run_ok ("confirm", "--session", id, NULL);
  g_assert_cmpstr (again->out, ==, confirmed->out);

  extend_and_release ();
  reserved_test_reserve_fails (1, "7201", "hold", "--session", "--user", "carol", "--ttl", "7201",
                               NULL);
}

static void
test_exit_status (Fixture *f, gconstpointer data)
{
  g_autoptr(ReservedTestRun) run = NULL;

  run = reserved_test_run_reserve ("hold", "--session", "--", "sh", "-c",
                                   "test -n \"$RESERVE_HOLD\" || exit 99; exit 7", NULL);
  reserved_test_assert_exit (run, 7);
  /* Released on exit. */
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 0);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").remaining, ==, 100);
}

/* The records, replayed in the order they were appended (each line is one
 * small O_APPEND write, so lines never interleave): +1 at a start, -1 at
 * an end. A command writes its end before it exits, and the next one its
 * start only once it holds a unit, so the count never understates. */
static void
test_semaphore (Fixture *f, gconstpointer data)
{
  g_autofree char *records =
    g_build_filename (reserved_test_daemon_get_tmpdir (f->daemon), "records", NULL);
  /* The pause only makes the commands overlap, so that the semaphore has
   * work to do; nothing waits on it or asserts a time. */
  g_autofree char *script =
    g_strdup_printf ("echo start >> '%s' && sleep 0.1 && echo end >> '%s'", records, records);
  g_autoptr(GPtrArray) racers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  int running = 0, most = 0, starts = 0, ends = 0;

  reserved_test_create_item (&f->client, "slots", CAPACITY, 0);
  for (guint i = 0; i < RACERS; i++)
    {
      g_autoptr(GError) error = NULL;
      GSubprocess *racer =
        g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, g_getenv ("RESERVE_BINARY"), "hold",
                          "--session", "--item", "slots", "--wait", "--", "sh", "-c", script, NULL);

      g_assert_no_error (error);
      g_ptr_array_add (racers, racer);
    }
  for (guint i = 0; i < racers->len; i++)
    {
      g_autoptr(GError) error = NULL;
      GSubprocess *racer = g_ptr_array_index (racers, i);

      g_subprocess_wait_check (racer, NULL, &error);
      g_assert_no_error (error);
    }

  g_assert_true (g_file_get_contents (records, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      if (g_str_equal (lines[i], "start"))
        starts++, running++;
      else if (g_str_equal (lines[i], "end"))
        ends++, running--;
      else
        g_error ("unexpected record “%s”", lines[i]);
      most = MAX (most, running);
      g_assert_cmpint (running, <=, CAPACITY);
    }
  g_test_message ("at most %d of %d commands ran at once", most, RACERS);
  g_assert_cmpint (starts, ==, RACERS);
  g_assert_cmpint (ends, ==, RACERS);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "slots").held, ==, 0);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "slots").remaining, ==, CAPACITY);
}

static void
on_hold_ended (guint64 hold, const char *item, const char *reason, gpointer user_data)
{
  char **reason_out = user_data;

  *reason_out = g_strdup (reason);
}

/* reserve killed with SIGKILL: its descriptor closes, so the hold ends
 * (closed), and the command, which must not go on without the hold, is
 * stopped: the pipe it holds reaches its end. */
static void
test_wrapper_killed (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) wrapper = NULL;
  g_autofree char *line = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *rest = NULL;
  GDataInputStream *out;
  guint subscription;

  subscription = reserved_test_watch_hold_ended (f->connection, on_hold_ended, &reason);
  wrapper =
    g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, g_getenv ("RESERVE_BINARY"), "hold",
                      "--session", "--", "sh", "-c", "echo started; exec sleep 3600", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (wrapper));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line, ==, "started");
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 1);

  g_subprocess_send_signal (wrapper, SIGKILL);
  g_subprocess_wait (wrapper, NULL, &error);
  g_assert_no_error (error);
  /* The command's end: every write end of its stdout closed. */
  rest = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (rest);
  g_object_unref (out);

  while (reason == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (reason, ==, "closed");
  g_dbus_connection_signal_unsubscribe (f->connection, subscription);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").held, ==, 0);
}

static void
add_cases (void)
{
#define ADD RESERVED_TEST_FIXTURE_ADD

  ADD ("/cli-holds/commands", test_commands);
  ADD ("/cli-holds/exit-status", test_exit_status);
  ADD ("/cli-holds/semaphore", test_semaphore);
  ADD ("/cli-holds/wrapper-killed", test_wrapper_killed);

#undef ADD
}

RESERVED_TEST_MAIN (add_cases, NULL)
