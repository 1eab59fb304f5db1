/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve wait`, `waitlist` and `leave` against the real daemon: the
 * position printed, the listing, leaving, bad input; `reserve wait
 * --follow --confirm` waiting for the offer a cancellation makes and
 * buying it; and `reserve hold --wait -- COMMAND` queued on the waitlist,
 * its command run under the offer once a hold is released. */
#include <string.h>

#include "reserved-test-cli.h"
#include "reserved-test-client.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"

typedef ReservedTestFixture Fixture;

/* The first line @stream gives, read as it comes (never a sleep). */
static char *
read_line (GInputStream *stream)
{
  g_autoptr(GDataInputStream) data = g_data_input_stream_new (stream);
  g_autoptr(GError) error = NULL;
  char *line;

  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (data), FALSE);
  g_buffered_input_stream_set_buffer_size (G_BUFFERED_INPUT_STREAM (data), 1);
  line = g_data_input_stream_read_line_utf8 (data, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  return line;
}

static void
test_commands (Fixture *f, gconstpointer data)
{
  g_autoptr(ReservedTestRun) bob = NULL;
  g_autoptr(ReservedTestRun) carol = NULL;
  g_autoptr(ReservedTestRun) listed = NULL;
  g_autoptr(ReservedTestRun) json = NULL;
  g_autoptr(ReservedTestRun) left = NULL;
  g_autoptr(ReservedTestRun) left_twice = NULL;
  g_autoptr(ReservedTestRun) bad_deadline = NULL;
  g_autoptr(ReservedTestRun) past = NULL;
  g_autoptr(ReservedTestRun) too_many = NULL;
  g_autoptr(ReservedTestRun) status = NULL;
  g_autoptr(JsonNode) status_json = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *carol_id = NULL;
  JsonObject *object;

  reserved_test_buy (&f->client, "ticket", "owner", 100, NULL, NULL);
  bob = reserved_test_run_reserve ("wait", "--session", "--user", "bob", "--quantity", "2", NULL);
  reserved_test_assert_exit (bob, 0);
  reserved_test_match_number ("^Entry ([0-9]+): 2 × ticket for bob, number 1 in the queue\\.$",
                              G_REGEX_MULTILINE, bob->out);
  carol =
    reserved_test_run_reserve ("wait", "--session", "--user", "carol", "--deadline", "+3600", NULL);
  reserved_test_assert_exit (carol, 0);
  carol_id = g_strdup_printf (
    "%" G_GUINT64_FORMAT,
    reserved_test_match_number ("^Entry ([0-9]+): 1 × ticket for carol, number 2 in the queue", 0,
                                carol->out));

  listed = reserved_test_run_reserve ("waitlist", "--session", "ticket", NULL);
  reserved_test_assert_exit (listed, 0);
  g_assert_nonnull (strstr (listed->out, "bob"));
  g_assert_nonnull (strstr (listed->out, "carol"));
  g_assert_nonnull (strstr (listed->out, "POSITION"));

  json = reserved_test_run_reserve ("wait", "--session", "--json", "--user", "dave", NULL);
  reserved_test_assert_exit (json, 0);
  node = reserved_test_parse_json (json->out);
  object = json_node_get_object (node);
  reserved_test_json_assert_keys (object,
                                  (const char *const[]){ "entry", "position", "hold", "item",
                                                         "user", "quantity", NULL });
  g_assert_cmpint (reserved_test_json_int (object, "position"), ==, 3);

  left = reserved_test_run_reserve ("leave", "--session", carol_id, NULL);
  reserved_test_assert_exit (left, 0);
  g_assert_true (g_str_has_prefix (left->out, "Entry "));
  left_twice = reserved_test_run_reserve ("leave", "--session", carol_id, NULL);
  reserved_test_assert_exit (left_twice, 1);
  g_assert_nonnull (strstr (left_twice->err, "left"));

  bad_deadline = reserved_test_run_reserve ("wait", "--session", "--user", "erin", "--deadline",
                                            "tomorrow", NULL);
  reserved_test_assert_exit (bad_deadline, 2);
  g_assert_nonnull (strstr (bad_deadline->err, "tomorrow"));
  past = reserved_test_run_reserve ("wait", "--session", "--user", "erin", "--deadline",
                                    "2001-01-01T00:00:00Z", NULL);
  reserved_test_assert_exit (past, 1);
  g_assert_nonnull (strstr (past->err, "deadline"));
  too_many =
    reserved_test_run_reserve ("wait", "--session", "--user", "erin", "--quantity", "101", NULL);
  reserved_test_assert_exit (too_many, 1);
  g_assert_nonnull (strstr (too_many->err, "capacity"));
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").waiting, ==, 3);
  status = reserved_test_run_reserve ("status", "--session", NULL);
  reserved_test_assert_exit (status, 0);
  g_assert_nonnull (strstr (status->out, "Waiting:         3 on its waitlist"));
  status_json = reserved_test_run_json ("status", "--session", "--json", NULL);
  reserved_test_json_assert_ints (json_node_get_object (status_json), "waiting", 3, NULL);
}

/* `reserve wait --follow --confirm` prints its place, waits, and buys the
 * units a cancellation offers it. */
static void
test_follow (Fixture *f, gconstpointer data)
{
  g_autoptr(GSubprocess) waiter = NULL;
  g_autofree char *first = NULL;
  g_autofree char *rest = NULL;
  guint64 order;

  order = reserved_test_buy (&f->client, "ticket", "owner", 100, NULL, NULL);
  waiter = reserved_test_spawn_reserve ("wait", "--session", "--user", "dave", "--quantity", "3",
                                        "--follow", "--confirm", NULL);
  first = read_line (g_subprocess_get_stdout_pipe (waiter));
  g_assert_nonnull (strstr (first, "number 1 in the queue"));
  g_assert_cmpuint (reserved_test_cancel (&f->client, order), ==, 97);
  rest = reserved_test_spawn_finish (waiter);
  reserved_test_match_number ("served: hold [0-9]+ confirmed as order ([0-9]+); 97 left", 0, rest);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "ticket").sold, ==, 3);
}

/* `reserve hold --wait -- COMMAND` with nothing left queues on the
 * waitlist and runs the command under the offer once a unit comes back. */
static void
test_hold_wait (Fixture *f, gconstpointer data)
{
  g_autoptr(GSubprocess) wrapper = NULL;
  g_autofree char *said = NULL;
  g_autofree char *out = NULL;
  guint64 hold = 0;

  reserved_test_create_item (&f->client, "slot", 1, 0);
  hold = reserved_test_hold (&f->client, "slot", "first", 1,
                             g_variant_new_parsed ("{'ttl': <uint32 600>}"), NULL, NULL);
  wrapper = reserved_test_spawn_reserve ("hold", "--session", "--item", "slot", "--wait", "--",
                                         "sh", "-c", "echo \"$RESERVE_HOLD\"", NULL);
  said = read_line (g_subprocess_get_stderr_pipe (wrapper));
  g_assert_nonnull (strstr (said, "waiting on the waitlist of slot, number 1"));
  g_assert_cmpuint (reserved_test_get_item (&f->client, "slot").waiting, ==, 1);
  reserved_test_release (&f->client, hold);
  out = reserved_test_spawn_finish (wrapper);
  /* It ran under the offer, a hold of its own, and gave it back. */
  g_assert_cmpuint (g_ascii_strtoull (out, NULL, 10), >, hold);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "slot").held, ==, 0);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "slot").remaining, ==, 1);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "slot").waiting, ==, 0);
}

static void
add_cases (void)
{
#define ADD RESERVED_TEST_FIXTURE_ADD

  ADD ("/cli-waitlist/commands", test_commands);
  ADD ("/cli-waitlist/follow", test_follow);
  ADD ("/cli-waitlist/hold-wait", test_hold_wait);

#undef ADD
}

RESERVED_TEST_MAIN (add_cases, NULL)
