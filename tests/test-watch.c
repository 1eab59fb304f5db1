/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve watch` against the real daemon on a private bus: the stock as it
 * stands, then one line per committed change, as text or JSON lines; the
 * end on SIGINT, and the end (said on stderr) when the daemon goes away. */
#include "config.h"

#include <signal.h>

#include "reserved-test-cli.h"
#include "reserved-test-daemon.h"
#include "reserved-test-main.h"

typedef ReservedTestCliFixture Fixture;

/* The next line the watch prints, without its newline; blocks until it
 * comes. NULL at the end of its output. */
static char *
next_line (GDataInputStream *out)
{
  g_autoptr(GError) error = NULL;
  char *line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);

  g_assert_no_error (error);
  g_test_message ("watch: %s", line != NULL ? line : "(end)");
  return line;
}

static void
buy (const char *quantity)
{
  reserved_test_reserve_ok ("buy", "--session", "--user", "alice", "--quantity", quantity, NULL);
}

/* Reads what is left of @process's output, waits for it, and returns its
 * stderr. */
static char *
finish (GSubprocess *process, GDataInputStream *out, int expected_status)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *rest = NULL;
  char *err = NULL;

  while ((rest = next_line (out)) != NULL)
    g_clear_pointer (&rest, g_free);
  g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  if (g_subprocess_get_exit_status (process) != expected_status)
    g_error ("reserve watch exited %d, expected %d; stderr:\n%s",
             g_subprocess_get_exit_status (process), expected_status, err);
  return err;
}

static GDataInputStream *
stdout_of (GSubprocess *process)
{
  return g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
}

static void
test_watch_text (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GSubprocess) watch = reserved_test_spawn_reserve ("watch", "--session", NULL);
  g_autoptr(GDataInputStream) out = stdout_of (watch);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *err = NULL;

  /* The stock as it stands is printed after the subscription, so once it
   * is read, no change can be missed. */
  first = next_line (out);
  g_assert_true (
    g_regex_match_simple ("^[0-9]{2}:[0-9]{2}:[0-9]{2}  ticket: 100 left$", first, 0, 0));
  buy ("3");
  second = next_line (out);
  g_assert_true (
    g_regex_match_simple ("^[0-9]{2}:[0-9]{2}:[0-9]{2}  ticket: 97 left$", second, 0, 0));

  g_subprocess_send_signal (watch, SIGINT);
  err = finish (watch, out, 0);
  g_assert_cmpstr (err, ==, "");
}

static void
test_watch_json_lines (Fixture *fixture, gconstpointer data)
{
  static const char *const keys[] = { "time", "item", "remaining", NULL };
  g_autoptr(GSubprocess) watch =
               reserved_test_spawn_reserve ("watch", "--session", "--json", "ticket", NULL);
  g_autoptr(GDataInputStream) out = stdout_of (watch);
  g_autofree char *err = NULL;

  for (guint64 remaining = 100; remaining >= 98; remaining--)
    {
      g_autofree char *line = next_line (out);
      g_autoptr(JsonNode) node = reserved_test_parse_json (line);
      JsonObject *change = json_node_get_object (node);
      g_autoptr(GDateTime) time = NULL;

      reserved_test_json_assert_keys (change, keys);
      g_assert_cmpstr (reserved_test_json_string (change, "item"), ==, "ticket");
      g_assert_cmpint (reserved_test_json_int (change, "remaining"), ==, remaining);
      /* RFC 3339, which GDateTime reads as ISO 8601. */
      time = g_date_time_new_from_iso8601 (reserved_test_json_string (change, "time"), NULL);
      g_assert_nonnull (time);
      if (remaining > 98)
        buy ("1");
    }

  g_subprocess_send_signal (watch, SIGINT);
  err = finish (watch, out, 0);
  g_assert_cmpstr (err, ==, "");
}

static void
test_watch_daemon_gone (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GSubprocess) watch = reserved_test_spawn_reserve ("watch", "--session", NULL);
  g_autoptr(GDataInputStream) out = stdout_of (watch);
  g_autofree char *first = next_line (out);
  g_autofree char *err = NULL;

  g_assert_true (g_str_has_suffix (first, "ticket: 100 left"));
  reserved_test_daemon_stop (fixture->daemon);

  err = finish (watch, out, 3);
  g_assert_cmpstr (err, ==, "reserve: reserved left the bus; no more changes to watch\n");
}

static void
add_cases (void)
{
#define ADD RESERVED_TEST_CLI_ADD

  ADD ("/watch/text", test_watch_text);
  ADD ("/watch/json-lines", test_watch_json_lines);
  ADD ("/watch/daemon-gone", test_watch_daemon_gone);

#undef ADD
}

RESERVED_TEST_MAIN (add_cases, NULL)
