/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One uid floods the daemon: many calls in flight on one connection, and
 * hundreds of connections. The daemon must hold only a bounded number of
 * them (RESERVE_CALLS_IN_FLIGHT_MAX per uid, refusing the rest at once with
 * org.freedesktop.DBus.Error.LimitsExceeded), keep its memory bounded,
 * keep answering everyone else, and never take anything for a refused call.
 *
 * "In flight" is made real and deterministic the way test-batching does it:
 * the test holds the database's write lock from its own SQLite connection,
 * as any other process could, so the daemon's writer cannot commit and
 * every purchase it accepts stays held until the test lets go. The daemon
 * is configured to wait for the lock (BusyTimeout) as long as the test
 * waits for anything, so it never gives up on it while the test holds it:
 * every held purchase succeeds once the test lets go, and a StorageFailure
 * is a failure of the test.
 *
 * The other client is the test program run again as another uid
 * (OTHER_UID), answering commands on its stdin, so that it calls while the
 * test holds the lock.
 *
 * /flood/memory states the bound: however much one uid sends, the
 * daemon's peak resident memory (VmHWM) stays within CAP × PER_CALL_KIB_BOUND
 * + SLACK_KIB (7 MiB) of its resident memory after a warm-up. An
 * AddressSanitizer build keeps freed memory in a quarantine, which grows
 * with every call whatever the daemon holds; such a daemon is run with the
 * quarantine off and checked against a larger bound for its redzones and
 * shadow memory (13 MiB). What the limit bounds is what the daemon holds
 * once its main loop has taken a call; GDBus reads messages off the socket
 * as fast as they come and queues them for the main loop, so a flood sent
 * all at once would also measure that queue. The flood is sent in bursts
 * that the daemon takes in one after the other.
 *
 * RESERVED_TEST_FLOOD_ROUNDS=N (default 1) repeats the largest flood of
 * /flood/memory N times, to show on a longer run that the peak does not
 * creep up. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"
#include "reserved-test-reply.h"
#include "reserved-test-sqlite.h"

#define CAP            RESERVE_CALLS_IN_FLIGHT_MAX
#define OTHER_UID      RESERVED_TEST_NOBODY_UID
#define FLOOD_ITEM     "flood"
#define OTHER_ITEM     "other"
#define OTHER_CAPACITY 100u

/* /flood/in-flight: the numbers. */
#define N_PIPELINED          200
#define N_CONNECTIONS        250
#define CALLS_PER_CONNECTION 2

/* /flood/cap: calls past the limit. */
#define N_EXCESS 64

/* /flood/memory: a held purchase costs the daemon about 2.5 KiB (3 KiB
 * with the longest valid names and request_id), 5.5 KiB under
 * AddressSanitizer: its message, invocation, task and queued write. The
 * bound allows well over that for each of the CAP calls one uid may have
 * held, plus room for a burst's messages and replies passing through,
 * malloc's rounding and SQLite's page cache as the file grows. Without the
 * limit, a flood of 4 × CAP held calls passes it by far (measured: 10.5 MiB
 * plain, over 20 MiB under AddressSanitizer). */
#define BURST                   256
#define PER_CALL_KIB_BOUND      4
#define PER_CALL_KIB_BOUND_ASAN 10
#define SLACK_KIB               (3 * 1024)

typedef struct {
  ReservedTestFixture bus; /* the test's connection: admin, as the test runs as root */
  gboolean sanitized;      /* the daemon is built with AddressSanitizer */
} Fixture;

/* --- the daemon's build ------------------------------------------------------ */

/* TRUE when @binary links the AddressSanitizer runtime. */
static gboolean
links_asan (const char *binary)
{
  g_autofree char *runtime = reserved_test_asan_runtime (binary);

  return runtime != NULL;
}

/* The quarantine keeps freed memory to catch uses after free; it grows
 * with every call whatever the daemon holds, which is not what the memory
 * case measures. */
static void
turn_off_quarantine (Fixture *f)
{
  const char *inherited = g_getenv ("ASAN_OPTIONS");
  g_autofree char *options =
    g_strdup_printf ("%s%squarantine_size_mb=0:thread_local_quarantine_size_kb=0",
                     inherited != NULL ? inherited : "",
                     inherited != NULL && *inherited != '\0' ? ":" : "");

  reserved_test_daemon_set_env (f->bus.daemon, "ASAN_OPTIONS", options);
  g_test_message ("the daemon runs with ASAN_OPTIONS=%s", options);
}

/* --- fixture ------------------------------------------------------------------ */

static const int MEASURE_MEMORY = 1;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autofree char *config =
    g_strdup_printf ("[reserved]\nBusyTimeout=%u\n", reserved_test_timeout_seconds () * 1000);

  f->bus.daemon = reserved_test_daemon_new ();
  reserved_test_daemon_write_config (f->bus.daemon, config);
  f->sanitized = links_asan (g_getenv ("RESERVED_BINARY"));
  if (data == &MEASURE_MEMORY && f->sanitized)
    turn_off_quarantine (f);
  reserved_test_daemon_start (f->bus.daemon);
  /* Safe before spawning the other client: it is exec'd, not just forked. */
  reserved_test_fixture_connect (&f->bus);
  reserved_test_create_item (&f->bus.client, OTHER_ITEM, OTHER_CAPACITY, 0);
  /* The test's own view of the file, to hold its lock. */
  reserved_test_fixture_open_database (&f->bus);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  reserved_test_fixture_tear_down (&f->bus, NULL);
}

static void
hold_write_lock (Fixture *f)
{
  reserved_test_sql_exec (f->bus.db, "BEGIN IMMEDIATE");
}

static void
release_write_lock (Fixture *f)
{
  reserved_test_sql_exec (f->bus.db, "ROLLBACK");
}

/* A count from the daemon's GetStatistics. */
static guint64
statistic (Fixture *f, const char *key)
{
  return reserved_test_get_statistic (f->bus.connection, key);
}

static gint64
deadline (void)
{
  return g_get_monotonic_time () + (gint64) reserved_test_timeout_seconds () * G_USEC_PER_SEC;
}

/* Waits (bounded) until the daemon holds at least @n calls, or until
 * @stop_fd (when not -1) has something to read. */
static void
wait_in_flight (Fixture *f, guint64 n, int stop_fd)
{
  gint64 end = deadline ();
  guint64 now;

  while ((now = statistic (f, "calls_in_flight")) < n)
    {
      struct pollfd pfd = { stop_fd, POLLIN, 0 };

      if (stop_fd >= 0 && poll (&pfd, 1, 0) > 0)
        return;
      if (g_get_monotonic_time () > end)
        g_error ("the daemon holds %" G_GUINT64_FORMAT " calls, not the %" G_GUINT64_FORMAT " sent",
                 now, n);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* --- a flood of purchases ------------------------------------------------------ */

typedef struct _Flood Flood;

typedef struct {
  ReservedTestReply answer;
  Flood *flood;
  guint32 quantity;
} Outcome;

struct _Flood {
  Outcome *outcomes;
  guint n_max;
  guint n_sent;
  guint n_done;
};

/* What a flood was told, every answer being a success or a documented
 * refusal. */
typedef struct {
  guint ok;
  guint units; /* acknowledged */
  guint sold_out;
  guint storage_failure;
  guint limits_exceeded;
} Tally;

static void
flood_init (Flood *flood, guint n_max)
{
  flood->outcomes = g_new0 (Outcome, n_max);
  flood->n_max = n_max;
  flood->n_sent = 0;
  flood->n_done = 0;
}

static void
flood_clear (Flood *flood)
{
  for (guint i = 0; i < flood->n_sent; i++)
    reserved_test_reply_clear (&flood->outcomes[i].answer);
  g_clear_pointer (&flood->outcomes, g_free);
}

static void
on_buy_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Outcome *outcome = user_data;

  reserved_test_reply_take (&outcome->answer, source, result);
  outcome->flood->n_done++;
}

static void
flood_buy (Flood *flood, GDBusConnection *connection, const char *user, guint32 quantity)
{
  Outcome *outcome;

  g_assert_cmpuint (flood->n_sent, <, flood->n_max);
  outcome = &flood->outcomes[flood->n_sent++];
  outcome->flood = flood;
  outcome->quantity = quantity;
  /* No timeout of its own: a timer per call would make every turn of the
   * test's main loop cost as much as the flood; flood_wait() bounds the
   * wait for all of them instead. */
  g_dbus_connection_call (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH, RESERVE_INTERFACE,
                          "Buy",
                          g_variant_new ("(ssu@a{sv})", FLOOD_ITEM, user, quantity,
                                         reserved_test_options (NULL)),
                          G_VARIANT_TYPE ("(tu)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, G_MAXINT, NULL,
                          on_buy_reply, outcome);
}

/* Sends @n purchases of one unit on @connection. */
static void
flood_buy_many (Flood *flood, GDBusConnection *connection, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *user = g_strdup_printf ("flooder-%u", i % 16);

      flood_buy (flood, connection, user, 1);
    }
}

static gboolean
on_flood_deadline (gpointer user_data)
{
  Flood *flood = user_data;

  g_error ("the daemon answered %u of %u purchases in %u s", flood->n_done, flood->n_sent,
           reserved_test_timeout_seconds ());
  return G_SOURCE_REMOVE;
}

/* Waits (bounded) for @n answers in all. */
static void
flood_wait (Flood *flood, guint n)
{
  guint deadline_id =
    g_timeout_add_seconds (reserved_test_timeout_seconds (), on_flood_deadline, flood);

  while (flood->n_done < n)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (deadline_id);
}

static gboolean
is_limits_exceeded (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_LIMITS_EXCEEDED);
}

static Tally
flood_tally (Flood *flood)
{
  Tally tally = { 0 };

  g_assert_cmpuint (flood->n_done, ==, flood->n_sent);
  for (guint i = 0; i < flood->n_sent; i++)
    {
      Outcome *outcome = &flood->outcomes[i];
      ReserveError code;

      if (outcome->answer.reply != NULL)
        {
          guint64 order = 0;

          g_variant_get (outcome->answer.reply, "(tu)", &order, NULL);
          g_assert_cmpuint (order, >, 0);
          tally.ok++;
          tally.units += outcome->quantity;
        }
      else if (is_limits_exceeded (outcome->answer.error))
        tally.limits_exceeded++;
      else if (reserve_error_get_code (outcome->answer.error, &code) &&
               code == RESERVE_ERROR_SOLD_OUT)
        tally.sold_out++;
      else if (reserve_error_get_code (outcome->answer.error, &code) &&
               code == RESERVE_ERROR_STORAGE_FAILURE)
        tally.storage_failure++;
      else
        /* A lost connection or an error of GDBus: the daemon failed under load. */
        g_error ("purchase %u of the flood was answered with an error the API does not "
                 "document for it: %s",
                 i, outcome->answer.error->message);
    }
  g_test_message ("%u purchases: %u bought (%u units), %u sold out, %u storage failures, "
                  "%u over the limit",
                  flood->n_sent, tally.ok, tally.units, tally.sold_out, tally.storage_failure,
                  tally.limits_exceeded);
  return tally;
}

/* Nothing was taken for a refused purchase: the item sold exactly the
 * units acknowledged, and its active orders agree. */
static void
assert_sold_acknowledged (Fixture *f, guint units)
{
  ReservedTestItem item = reserved_test_get_item (&f->bus.client, FLOOD_ITEM);

  g_assert_cmpuint (item.sold, ==, units);
  g_assert_cmpuint (item.remaining + item.sold, ==, item.capacity);
}

/* --- the other client, another uid ------------------------------------------- */

typedef struct {
  GPid pid;
  int to;   /* its stdin */
  int from; /* its stdout */
} Other;

static void
other_start (Fixture *f, Other *other)
{
  g_autoptr(GError) error = NULL;
  int in[2], out[2];
  const char *args[] = { "other", reserved_test_daemon_get_address (f->bus.daemon), NULL };

  g_unix_open_pipe (in, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  g_unix_open_pipe (out, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  other->pid = reserved_test_spawn_helper (args, OTHER_UID, in[0], out[1], -1);
  close (in[0]);
  close (out[1]);
  other->to = in[1];
  other->from = out[0];
}

static void
other_ask (Other *other, const char *command)
{
  g_autofree char *line = g_strdup_printf ("%s\n", command);

  g_assert_cmpint (write (other->to, line, strlen (line)), ==, (gssize) strlen (line));
}

/* (transfer full) Its next answer, one line; waiting is bounded. */
static char *
other_answer (Other *other)
{
  g_autoptr(GString) line = g_string_new (NULL);
  gint64 end = deadline ();

  for (;;)
    {
      struct pollfd pfd = { other->from, POLLIN, 0 };
      int ready = poll (&pfd, 1, 100);
      char c;
      ssize_t got;

      if (ready < 0 && errno == EINTR)
        continue;
      if (ready == 0)
        {
          if (g_get_monotonic_time () > end)
            g_error ("the other client did not answer within %u s",
                     reserved_test_timeout_seconds ());
          continue;
        }
      got = read (other->from, &c, 1);
      if (got < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (got, ==, 1);
      if (c == '\n')
        break;
      g_string_append_c (line, c);
    }
  return g_string_free (g_steal_pointer (&line), FALSE);
}

static void
other_stop (Other *other)
{
  close (other->to);
  reserved_test_wait_helper (other->pid, "the other client");
  close (other->from);
}

/* Reads answered while the lock is held: the main loop does not wait for
 * the writer. Nothing is committed yet, so the flood's item is whole. */
static void
assert_other_reads (Other *other, guint32 capacity, gsize n_items)
{
  g_autofree char *answer = NULL;
  g_autofree char *expected = NULL;

  other_ask (other, "read");
  answer = other_answer (other);
  expected = g_strdup_printf ("read %u %zu %s", capacity, n_items, RESERVED_VERSION);
  g_assert_cmpstr (answer, ==, expected);
}

static void
assert_other_bought (Other *other)
{
  g_autofree char *answer = other_answer (other);

  if (!g_str_has_prefix (answer, "ok "))
    g_error ("the other uid's purchase failed: %s", answer);
}

/* --- cases ---------------------------------------------------------------------- */

static gsize
count_items (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) items = NULL;

  reserve_reserve1_call_list_items_sync (f->bus.proxy, G_DBUS_CALL_FLAGS_NONE, -1, &items, NULL,
                                         &error);
  g_assert_no_error (error);
  return g_variant_n_children (items);
}

/* One connection with N_PIPELINED purchases in flight and N_CONNECTIONS
 * more connections of the same uid, each with some in flight: the daemon
 * holds them all (fewer than the limit), answers another uid's reads while
 * it does, accepts and completes that uid's purchases, and every purchase
 * gets a success or a documented refusal. */
static void
test_in_flight (Fixture *f, gconstpointer data)
{
  /* Less than the demand: some purchases are refused as sold out. */
  const guint32 capacity = 1000;
  const guint n_calls = N_PIPELINED + N_CONNECTIONS * CALLS_PER_CONNECTION;
  g_autoptr(GDBusConnection) pipelined = NULL;
  GDBusConnection *connections[N_CONNECTIONS];
  Other other;
  Flood flood;
  Tally tally;
  gsize n_items;
  guint64 in_flight;

  reserved_test_create_item (&f->bus.client, FLOOD_ITEM, capacity, 0);
  n_items = count_items (f);
  g_assert_cmpuint (n_calls, <, CAP);
  other_start (f, &other);
  pipelined = reserved_test_connect (reserved_test_daemon_get_address (f->bus.daemon));
  for (guint i = 0; i < N_CONNECTIONS; i++)
    connections[i] = reserved_test_connect (reserved_test_daemon_get_address (f->bus.daemon));
  flood_init (&flood, n_calls);

  hold_write_lock (f);
  for (guint i = 0; i < N_PIPELINED; i++)
    {
      g_autofree char *user = g_strdup_printf ("pipelined-%u", i % 7);

      flood_buy (&flood, pipelined, user, 1 + i % 3);
    }
  for (guint i = 0; i < N_CONNECTIONS; i++)
    for (guint j = 0; j < CALLS_PER_CONNECTION; j++)
      {
        g_autofree char *user = g_strdup_printf ("connection-%u", i);

        flood_buy (&flood, connections[i], user, 1 + (i + j) % 3);
      }
  wait_in_flight (f, n_calls, -1);
  g_test_message ("the daemon holds %" G_GUINT64_FORMAT
                  " calls and knows the uid of %" G_GUINT64_FORMAT " connections",
                  statistic (f, "calls_in_flight"), statistic (f, "callers_known"));
  g_assert_cmpuint (statistic (f, "callers_known"), >=, N_CONNECTIONS + 1);

  assert_other_reads (&other, capacity, n_items);
  /* Every purchase is still held after the reads were answered, so the
   * reads did not wait for the writer: a main loop that waited for it
   * would not have answered them before the test lets go of the lock. */
  in_flight = statistic (f, "calls_in_flight");
  if (in_flight != n_calls || flood.n_done != 0)
    g_error ("%u purchases were answered and %" G_GUINT64_FORMAT " of %u held after the other "
             "uid's reads, while the write lock is still held",
             flood.n_done, in_flight, n_calls);
  other_ask (&other, "buy " OTHER_ITEM " during-the-flood");
  wait_in_flight (f, n_calls + 1, other.from);
  release_write_lock (f);

  assert_other_bought (&other);
  flood_wait (&flood, n_calls);
  tally = flood_tally (&flood);
  g_assert_cmpuint (tally.limits_exceeded, ==, 0);
  g_assert_cmpuint (tally.storage_failure, ==, 0);
  g_assert_cmpuint (tally.ok, >, 0);
  assert_sold_acknowledged (f, tally.units);

  other_ask (&other, "buy " OTHER_ITEM " after-the-flood");
  assert_other_bought (&other);
  g_assert_cmpuint (reserved_test_get_item (&f->bus.client, OTHER_ITEM).sold, ==, 2);
  g_assert_cmpuint (statistic (f, "calls_in_flight"), ==, 0);

  other_stop (&other);
  flood_clear (&flood);
  for (guint i = 0; i < N_CONNECTIONS; i++)
    {
      g_dbus_connection_close_sync (connections[i], NULL, NULL);
      g_object_unref (connections[i]);
    }
  g_dbus_connection_close_sync (pipelined, NULL, NULL);
}

/* Warms up a connection: the daemon learns its uid, so its purchases are
 * handled in the order they were sent. */
static GDBusConnection *
known_connection (Fixture *f)
{
  GDBusConnection *connection =
    reserved_test_connect (reserved_test_daemon_get_address (f->bus.daemon));
  g_autoptr(GError) error = NULL;
  GVariant *reply =
    g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                 RESERVE_INTERFACE, "ListOrders",
                                 g_variant_new ("(s)", "nobody-yet"), G_VARIANT_TYPE ("(a(tsuxs))"),
                                 G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

  g_assert_no_error (error);
  g_variant_unref (reply);
  return connection;
}

/* One unit of the flood's item, bought on @connection: the reply, or NULL
 * with @error set. */
static GVariant *
buy_one (GDBusConnection *connection, GError **error)
{
  return g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                      RESERVE_INTERFACE, "Buy",
                                      g_variant_new ("(ssu@a{sv})", FLOOD_ITEM, "one-more", 1,
                                                     reserved_test_options (NULL)),
                                      G_VARIANT_TYPE ("(tu)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                      error);
}

static void
assert_limit_message (const GError *error)
{
  g_autofree char *uid = g_strdup_printf ("uid %u ", (guint) getuid ());
  g_autofree char *numbers = g_strdup_printf ("%u calls in flight", CAP);
  g_autofree char *limit = g_strdup_printf ("limit per uid is %u", CAP);

  g_assert_true (is_limits_exceeded (error));
  if (strstr (error->message, uid) == NULL || strstr (error->message, numbers) == NULL ||
      strstr (error->message, limit) == NULL)
    g_error ("the refusal does not name the uid, the calls in flight and the limit: %s",
             error->message);
}

/* Past the limit, one uid's purchases are refused at once, exactly the
 * excess, on any of its connections, with nothing taken; another uid's
 * purchase is accepted at the same moment; once the flood drains, the uid
 * buys again. */
static void
test_cap (Fixture *f, gconstpointer data)
{
  g_autoptr(GDBusConnection) flooding = known_connection (f);
  g_autoptr(GDBusConnection) second = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  Other other;
  Flood flood;
  Tally tally;

  reserved_test_create_item (&f->bus.client, FLOOD_ITEM, 100000, 0);
  other_start (f, &other);
  flood_init (&flood, CAP + N_EXCESS);

  hold_write_lock (f);
  flood_buy_many (&flood, flooding, CAP + N_EXCESS);
  /* The refusals come back at once, while the rest wait for the lock. */
  flood_wait (&flood, N_EXCESS);
  for (guint i = 0; i < CAP + N_EXCESS; i++)
    {
      Outcome *outcome = &flood.outcomes[i];

      if (i < CAP && outcome->answer.done)
        g_error (
          "purchase %u of %u was answered while the limit is %u and the write lock is held: %s", i,
          CAP + N_EXCESS, CAP,
          outcome->answer.error != NULL ? outcome->answer.error->message : "success");
      if (i >= CAP)
        {
          g_assert_true (outcome->answer.done);
          g_assert_null (outcome->answer.reply);
          assert_limit_message (outcome->answer.error);
        }
    }
  g_assert_cmpuint (statistic (f, "calls_in_flight"), ==, CAP);

  /* The limit is the uid's, not the connection's. */
  second = reserved_test_connect (reserved_test_daemon_get_address (f->bus.daemon));
  reply = buy_one (second, &error);
  g_assert_null (reply);
  assert_limit_message (error);
  g_clear_error (&error);

  /* Another uid is not limited by this one. */
  other_ask (&other, "buy " OTHER_ITEM " beside-the-flood");
  wait_in_flight (f, CAP + 1, other.from);
  g_assert_cmpuint (statistic (f, "calls_in_flight"), ==, CAP + 1);
  release_write_lock (f);

  assert_other_bought (&other);
  flood_wait (&flood, CAP + N_EXCESS);
  tally = flood_tally (&flood);
  g_assert_cmpuint (tally.limits_exceeded, ==, N_EXCESS);
  g_assert_cmpuint (tally.storage_failure, ==, 0);
  g_assert_cmpuint (tally.ok, ==, CAP);
  assert_sold_acknowledged (f, tally.units);

  /* Drained: the same uid buys again, on either connection. */
  g_assert_cmpuint (statistic (f, "calls_in_flight"), ==, 0);
  reserved_test_buy (&f->bus.client, FLOOD_ITEM, "after-the-flood", 1, NULL, NULL);
  reply = buy_one (second, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  assert_sold_acknowledged (f, tally.units + 2);

  other_stop (&other);
  flood_clear (&flood);
  g_dbus_connection_close_sync (second, NULL, NULL);
  g_dbus_connection_close_sync (flooding, NULL, NULL);
}

typedef struct {
  guint64 rss_kib;
  guint64 hwm_kib; /* the peak since the daemon started */
} Memory;

static Memory
daemon_memory (Fixture *f)
{
  GPid pid = reserved_test_process_get_pid (reserved_test_daemon_get_process (f->bus.daemon));
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *status = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  Memory memory = { 0 };

  g_file_get_contents (path, &status, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (status, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint64 *field = g_str_has_prefix (lines[i], "VmRSS:")   ? &memory.rss_kib
                       : g_str_has_prefix (lines[i], "VmHWM:") ? &memory.hwm_kib
                                                               : NULL;

      if (field != NULL)
        g_assert_cmpint (sscanf (strchr (lines[i], ':') + 1, "%" G_GUINT64_FORMAT, field), ==, 1);
    }
  g_assert_cmpuint (memory.rss_kib, >, 0);
  g_assert_cmpuint (memory.hwm_kib, >=, memory.rss_kib);
  return memory;
}

/* Waits (bounded) until the daemon has taken in the @flood's purchases
 * sent so far: each one answered or held. Returns how many it holds. */
static guint64
flood_taken_in (Fixture *f, Flood *flood)
{
  gint64 end = deadline ();
  guint64 held;

  while (flood->n_done + (held = statistic (f, "calls_in_flight")) < flood->n_sent)
    {
      g_assert_cmpuint (held, <=, CAP);
      if (g_get_monotonic_time () > end)
        g_error ("of %u purchases the daemon answered %u and holds %" G_GUINT64_FORMAT,
                 flood->n_sent, flood->n_done, held);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpuint (held, <=, CAP);
  return held;
}

typedef struct {
  guint64 rss_kib; /* the daemon's resident memory while it holds them */
  guint64 held;    /* how many of the flood's purchases it holds then */
} Holding;

/* Sends @n purchases from one uid while the lock is held, in bursts of
 * BURST, each taken in by the daemon before the next is sent; measures the
 * daemon's resident memory once it has taken in all of them (when it
 * holds the most), then lets them all complete. Adds the units bought to
 * @units.
 *
 * Bursts, because what is measured is what the daemon holds: messages
 * that arrive faster than its main loop takes them wait in GDBus's queue
 * meanwhile, whatever the limit.
 *
 * The daemon waits for the lock as long as the test does, so it holds
 * every purchase up to the limit and refuses exactly the rest. */
static Holding
flood_and_measure (Fixture *f, GDBusConnection *connection, guint n, guint *units)
{
  Flood flood;
  Tally tally;
  Holding holding = { 0 };

  flood_init (&flood, n);
  hold_write_lock (f);
  while (flood.n_sent < n)
    {
      flood_buy_many (&flood, connection, MIN (BURST, n - flood.n_sent));
      holding.held = flood_taken_in (f, &flood);
    }
  holding.rss_kib = daemon_memory (f).rss_kib;
  release_write_lock (f);
  flood_wait (&flood, n);
  tally = flood_tally (&flood);
  g_assert_cmpuint (holding.held, ==, MIN (n, CAP));
  g_assert_cmpuint (tally.storage_failure, ==, 0);
  g_assert_cmpuint (tally.ok, ==, MIN (n, CAP));
  g_assert_cmpuint (tally.limits_exceeded, ==, n - MIN (n, CAP));
  *units += tally.units;
  flood_clear (&flood);
  return holding;
}

/* The daemon's peak memory stays within the stated bound of its memory
 * after a warm-up, for a flood of the limit's size and for one four times
 * as large. */
static void
test_memory (Fixture *f, gconstpointer data)
{
  g_autoptr(GDBusConnection) flooding = known_connection (f);
  guint64 per_call_bound = f->sanitized ? PER_CALL_KIB_BOUND_ASAN : PER_CALL_KIB_BOUND;
  guint64 bound = CAP * per_call_bound + SLACK_KIB;
  Memory baseline, after_one, after_four;
  Holding holding_one, holding_four = { 0 };
  guint units = 0;
  guint rounds = reserved_test_env_uint ("RESERVED_TEST_FLOOD_ROUNDS", 1, 1000);

  reserved_test_create_item (&f->bus.client, FLOOD_ITEM, 1000000, 0);
  /* Warm-up: every path of a purchase, a refusal and a batch has run. */
  flood_and_measure (f, flooding, 64, &units);
  baseline = daemon_memory (f);

  holding_one = flood_and_measure (f, flooding, CAP, &units);
  after_one = daemon_memory (f);
  for (guint round = 0; round < rounds; round++)
    {
      Holding holding = flood_and_measure (f, flooding, 4 * CAP, &units);

      if (holding.rss_kib > holding_four.rss_kib)
        holding_four = holding;
    }
  after_four = daemon_memory (f);

  g_test_message ("resident KiB: %" G_GUINT64_FORMAT " after the warm-up (peak %" G_GUINT64_FORMAT
                  "); %" G_GUINT64_FORMAT " holding %" G_GUINT64_FORMAT
                  " calls (peak %" G_GUINT64_FORMAT "); %" G_GUINT64_FORMAT
                  " holding %" G_GUINT64_FORMAT " of %u (peak %" G_GUINT64_FORMAT
                  "); %.1f KiB per held call; bound %" G_GUINT64_FORMAT " KiB over the warm-up",
                  baseline.rss_kib, baseline.hwm_kib, holding_one.rss_kib, holding_one.held,
                  after_one.hwm_kib, holding_four.rss_kib, holding_four.held, 4 * CAP,
                  after_four.hwm_kib,
                  (double) (holding_one.rss_kib - MIN (holding_one.rss_kib, baseline.rss_kib)) /
                    MAX (holding_one.held, 1),
                  bound);
  if (after_four.hwm_kib > baseline.rss_kib + bound)
    g_error ("the daemon's peak resident memory is %" G_GUINT64_FORMAT
             " KiB, more than %" G_GUINT64_FORMAT " KiB over its %" G_GUINT64_FORMAT
             " KiB after the warm-up",
             after_four.hwm_kib, bound, baseline.rss_kib);
  assert_sold_acknowledged (f, units);
  g_dbus_connection_close_sync (flooding, NULL, NULL);
}

/* --- the other client ------------------------------------------------------------ */

static GVariant *
call (GDBusConnection *connection,
      const char *interface,
      const char *method,
      GVariant *parameters,
      const char *reply_type,
      GError **error)
{
  return g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH, interface,
                                      method, parameters, G_VARIANT_TYPE (reply_type),
                                      G_DBUS_CALL_FLAGS_NONE,
                                      (int) reserved_test_timeout_seconds () * 1000, NULL, error);
}

/* "read": "read <remaining of the flood's item> <items> <version>". */
static void
other_read (GDBusConnection *connection)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) item = NULL;
  g_autoptr(GVariant) items = NULL;
  g_autoptr(GVariant) version = NULL;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GVariant) list = NULL;
  g_autoptr(GVariant) value = NULL;
  guint32 remaining = 0;

  if ((item = call (connection, RESERVE_INTERFACE, "GetItem", g_variant_new ("(s)", FLOOD_ITEM),
                    "(a{sv})", &error)) == NULL ||
      (items = call (connection, RESERVE_INTERFACE, "ListItems", NULL, "(a(suu))", &error)) ==
        NULL ||
      (version = call (connection, "org.freedesktop.DBus.Properties", "Get",
                       g_variant_new ("(ss)", RESERVE_INTERFACE, "Version"), "(v)", &error)) ==
        NULL)
    {
      reserved_test_helper_say ("error %s\n", error->message);
      return;
    }
  g_variant_get (item, "(@a{sv})", &info);
  g_variant_lookup (info, "remaining", "u", &remaining);
  g_variant_get (items, "(@a(suu))", &list);
  g_variant_get (version, "(v)", &value);
  reserved_test_helper_say ("read %u %zu %s\n", remaining, g_variant_n_children (list),
                            g_variant_get_string (value, NULL));
}

/* "buy ITEM USER": "ok <order> <remaining>" or "error <message>". */
static void
other_buy (GDBusConnection *connection, const char *item, const char *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply =
               call (connection, RESERVE_INTERFACE, "Buy",
                     g_variant_new ("(ssu@a{sv})", item, user, 1, reserved_test_options (NULL)),
                     "(tu)", &error);
  guint64 order = 0;
  guint32 remaining = 0;

  if (reply == NULL)
    {
      reserved_test_helper_say ("error %s\n", error->message);
      return;
    }
  g_variant_get (reply, "(tu)", &order, &remaining);
  reserved_test_helper_say ("ok %" G_GUINT64_FORMAT " %u\n", order, remaining);
}

/* Answers the test's commands, one line each, until its stdin ends. */
static int
other_client (char **args)
{
  g_autoptr(GDBusConnection) connection = reserved_test_connect (args[0]);
  char line[256];

  while (fgets (line, sizeof line, stdin) != NULL)
    {
      g_auto(GStrv) words = g_strsplit (g_strstrip (line), " ", -1);

      if (g_strv_length (words) == 1 && g_str_equal (words[0], "read"))
        other_read (connection);
      else if (g_strv_length (words) == 3 && g_str_equal (words[0], "buy"))
        other_buy (connection, words[1], words[2]);
      else
        {
          g_printerr ("the other client: unknown command “%s”\n", line);
          return 1;
        }
    }
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return 0;
}

/* other ADDRESS */
static const ReservedTestHelper helpers[] = { { "other", 1, other_client }, { NULL } };

static void
add_cases (void)
{
  g_test_add ("/flood/in-flight", Fixture, NULL, fixture_set_up, test_in_flight, fixture_tear_down);
  g_test_add ("/flood/cap", Fixture, NULL, fixture_set_up, test_cap, fixture_tear_down);
  g_test_add ("/flood/memory", Fixture, &MEASURE_MEMORY, fixture_set_up, test_memory,
              fixture_tear_down);
}

RESERVED_TEST_MAIN (add_cases, helpers)
