/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Group commit, proven by outcome rather than by timing.
 *
 * The test holds the database's write lock from its own SQLite connection
 * while it sends a pipeline of purchases on one bus connection, so the
 * daemon's writer must queue them all and then commit them together; the
 * daemon's GetStatistics shows they really shared a transaction. Messages
 * on one connection arrive in the order they were sent, so first come,
 * first served means: every answer is exactly what a one-at-a-time run of
 * the same calls, in sending order, gives. Purchases refused inside the
 * batch (sold out, over the limit, a reused request_id, an unknown item)
 * must not disturb the others. And every success must already be in the
 * database file, read by an independent connection, when its reply
 * arrives.
 *
 * How long the daemon waits for a lock held by another process is its
 * BusyTimeout: as long as the test waits for anything where the held
 * purchases must all commit, half a second where they must all fail. */
#include <sqlite3.h>
#include <string.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"
#include "reserved-test-reply.h"
#include "reserved-test-sqlite.h"

#define ITEM           "seats"
#define CAPACITY       30
#define PER_USER_LIMIT 5
#define N_CALLS        160
#define N_USERS        7

/* f->db: the test's own view of the file. */
typedef ReservedTestFixture Fixture;

/* Fixture data: the daemon's BusyTimeout (the default without either). */
static const int WAITS_FOR_THE_TEST = 1;
static const int GIVES_UP_SOON = 2;
#define GIVES_UP_SOON_MS 500

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autofree char *config = NULL;

  if (data == &WAITS_FOR_THE_TEST || data == &GIVES_UP_SOON)
    {
      guint busy_timeout_ms =
        data == &WAITS_FOR_THE_TEST ? reserved_test_timeout_seconds () * 1000 : GIVES_UP_SOON_MS;

      config = g_strdup_printf ("[reserved]\nBusyTimeout=%u\n", busy_timeout_ms);
    }
  reserved_test_fixture_set_up (f, config);
  reserved_test_create_item (&f->client, ITEM, CAPACITY, PER_USER_LIMIT);
  reserved_test_fixture_open_database (f);
}

/* The first column of the first row of @sql, with ?1 bound to @parameter
 * if the statement has one. */
static gint64
query_int (sqlite3 *db, const char *sql, gint64 parameter)
{
  ReservedTestQuery q;

  reserved_test_query_start (&q, db, sql);
  if (sqlite3_bind_parameter_count (q.stmt) > 0)
    sqlite3_bind_int64 (q.stmt, 1, parameter);
  return reserved_test_query_int (&q);
}

/* A count from the daemon's GetStatistics. */
static guint64
statistic (Fixture *f, const char *key)
{
  return reserved_test_get_statistic (f->connection, key);
}

/* --- the calls and their expected answers --------------------------------- */

typedef struct {
  const char *item;
  char *user;
  guint32 quantity;
  char *request_id; /* nullable */
} Call;

typedef struct {
  int error;     /* -1: success, else a ReserveError */
  guint64 order; /* for a success; 0 when a new order is expected */
  guint32 remaining;
  gboolean replayed;
} Answer;

/* The mix: three quantities, seven customers against a per-user limit,
 * request_ids that are repeated with the same purchase (answered with
 * the first order) or with another one (refused), and an unknown item. */
static void
make_calls (Call *calls)
{
  for (guint i = 0; i < N_CALLS; i++)
    {
      Call *call = &calls[i];

      call->item = i % 23 == 7 ? "no-such-seats" : ITEM;
      call->user = g_strdup_printf ("customer-%u", i % N_USERS);
      call->quantity = 1 + i % 3;
      if (i % 10 == 0)
        call->request_id = g_strdup_printf ("request-%u", i);
      else if (i % 10 == 5)
        {
          const Call *first = &calls[i - 5];
          /* Same purchase as five calls ago, or the same id for another. */
          call->request_id = g_strdup (first->request_id);
          if (i % 20 == 5)
            {
              call->item = first->item;
              g_free (call->user);
              call->user = g_strdup (first->user);
              call->quantity = first->quantity;
            }
        }
    }
}

static void
calls_clear (Call *calls)
{
  for (guint i = 0; i < N_CALLS; i++)
    {
      g_free (calls[i].user);
      g_free (calls[i].request_id);
    }
}

/* Runs the calls one at a time against a model of the law. */
static void
expect_answers (const Call *calls, Answer *answers)
{
  g_autoptr(GHashTable) held = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) requests =
               g_hash_table_new (g_str_hash, g_str_equal); /* id -> call index */
  guint32 remaining = CAPACITY;

  for (guint i = 0; i < N_CALLS; i++)
    {
      const Call *call = &calls[i];
      Answer *answer = &answers[i];
      gpointer first = NULL;
      guint user_held = GPOINTER_TO_UINT (g_hash_table_lookup (held, call->user));

      answer->error = -1;
      if (call->request_id != NULL &&
          g_hash_table_lookup_extended (requests, call->request_id, NULL, &first))
        {
          const Call *earlier = &calls[GPOINTER_TO_UINT (first)];
          if (g_strcmp0 (earlier->item, call->item) == 0 &&
              g_strcmp0 (earlier->user, call->user) == 0 && earlier->quantity == call->quantity)
            {
              answer->replayed = TRUE;
              answer->order = GPOINTER_TO_UINT (first) + 1; /* resolved to an id later */
              answer->remaining = remaining;
            }
          else
            answer->error = RESERVE_ERROR_INVALID_ARGUMENT;
          continue;
        }
      if (!g_str_equal (call->item, ITEM))
        answer->error = RESERVE_ERROR_NO_SUCH_ITEM;
      else if (user_held + call->quantity > PER_USER_LIMIT)
        answer->error = RESERVE_ERROR_LIMIT_EXCEEDED;
      else if (remaining < call->quantity)
        answer->error = RESERVE_ERROR_SOLD_OUT;
      if (answer->error != -1)
        continue;

      remaining -= call->quantity;
      answer->remaining = remaining;
      g_hash_table_insert (held, call->user, GUINT_TO_POINTER (user_held + call->quantity));
      if (call->request_id != NULL)
        g_hash_table_insert (requests, call->request_id, GUINT_TO_POINTER (i));
    }
}

/* --- sending them ----------------------------------------------------------- */

typedef struct {
  Fixture *f;
  guint index;
  guint *n_done;
  ReservedTestReply answer;
  gboolean in_file_at_reply;
} Outcome;

static void
on_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Outcome *outcome = user_data;

  reserved_test_reply_take (&outcome->answer, source, result);
  if (outcome->answer.reply != NULL)
    {
      guint64 order = 0;
      guint32 remaining = 0;

      /* Durable before the reply: the order is in the file already, as
       * another process reading it sees it. */
      g_variant_get (outcome->answer.reply, "(tu)", &order, &remaining);
      outcome->in_file_at_reply =
        query_int (outcome->f->db, "SELECT count(*) FROM orders WHERE id = ?1", (gint64) order) ==
        1;
    }
  (*outcome->n_done)++;
}

static void
send_all (Fixture *f, const Call *calls, Outcome *outcomes, guint *n_done)
{
  for (guint i = 0; i < N_CALLS; i++)
    {
      const Call *call = &calls[i];
      GVariantBuilder options;

      g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
      if (call->request_id != NULL)
        g_variant_builder_add (&options, "{sv}", RESERVE_OPTION_REQUEST_ID,
                               g_variant_new_string (call->request_id));
      outcomes[i] = (Outcome){ .f = f, .index = i, .n_done = n_done };
      g_dbus_connection_call (f->connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                              RESERVE_INTERFACE, "Buy",
                              g_variant_new ("(ssua{sv})", call->item, call->user, call->quantity,
                                             &options),
                              G_VARIANT_TYPE ("(tu)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_reply,
                              &outcomes[i]);
    }
}

static void
wait_until (guint *counter, guint target)
{
  while (*counter < target)
    g_main_context_iteration (NULL, TRUE);
}

static void
assert_answers (const Call *calls, const Answer *answers, Outcome *outcomes)
{
  guint64 last_new_order = 0;

  for (guint i = 0; i < N_CALLS; i++)
    {
      const Answer *expected = &answers[i];
      Outcome *outcome = &outcomes[i];
      guint64 order = 0;
      guint32 remaining = 0;

      if (expected->error != -1)
        {
          if (outcome->answer.error == NULL)
            g_error ("call %u (%u × %s for %s) succeeded; a one-at-a-time run refuses it with %s",
                     i, calls[i].quantity, calls[i].item, calls[i].user,
                     reserve_error_to_name (expected->error));
          reserved_test_assert_api_error (outcome->answer.error, expected->error);
          continue;
        }
      if (outcome->answer.error != NULL)
        g_error ("call %u (%u × %s for %s) was refused: %s", i, calls[i].quantity, calls[i].item,
                 calls[i].user, outcome->answer.error->message);
      g_variant_get (outcome->answer.reply, "(tu)", &order, &remaining);
      g_assert_true (outcome->in_file_at_reply);
      g_assert_cmpuint (remaining, ==, expected->remaining);
      if (expected->replayed)
        {
          /* The first purchase's order, whatever happened since. */
          guint64 first_order = 0;
          g_variant_get (outcomes[expected->order - 1].answer.reply, "(tu)", &first_order, NULL);
          g_assert_cmpuint (order, ==, first_order);
          continue;
        }
      /* First come, first served: new orders are numbered in the order the
       * calls were sent. */
      g_assert_cmpuint (order, >, last_new_order);
      last_new_order = order;
    }
}

static void
outcomes_clear (Outcome *outcomes)
{
  for (guint i = 0; i < N_CALLS; i++)
    reserved_test_reply_clear (&outcomes[i].answer);
}

/* A call that needs the caller waits, the first time, for the bus to say
 * who its connection is: it is in flight from the start but reaches the
 * writer only then. One such call first, so that the calls a test sends
 * next reach the writer as they are accepted. */
static void
make_caller_known (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply =
               g_dbus_connection_call_sync (f->connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                            RESERVE_INTERFACE, "ListOrders",
                                            g_variant_new ("(s)", "nobody"), NULL,
                                            G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (reply);
}

static void
test_one_transaction (Fixture *f, gconstpointer data)
{
  Call calls[N_CALLS] = { 0 };
  Answer answers[N_CALLS] = { 0 };
  Outcome outcomes[N_CALLS];
  guint n_done = 0;
  guint64 commits_before;
  guint64 operations_before;
  guint sold_out = 0;
  guint took_stock = 0;

  make_calls (calls);
  expect_answers (calls, answers);
  for (guint i = 0; i < N_CALLS; i++)
    {
      sold_out += answers[i].error == RESERVE_ERROR_SOLD_OUT;
      took_stock += answers[i].error == -1 && !answers[i].replayed;
    }
  /* The mix must really exercise refusals inside a batch. */
  g_assert_cmpuint (sold_out, >, 0);

  /* While the test holds the write lock, the daemon accepts every call
   * and queues it; none can commit. */
  make_caller_known (f);
  reserved_test_sql_exec (f->db, "BEGIN IMMEDIATE");
  send_all (f, calls, outcomes, &n_done);
  while (statistic (f, "calls_in_flight") < N_CALLS)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (n_done, ==, 0);
  /* Nothing commits while the lock is held: what is counted from here on
   * is these calls' doing. */
  commits_before = statistic (f, "commits");
  operations_before = statistic (f, "operations");
  reserved_test_sql_exec (f->db, "ROLLBACK");

  wait_until (&n_done, N_CALLS);
  assert_answers (calls, answers, outcomes);

  /* They were committed together: the writer may have taken the first
   * few calls before the lock let go (how many depends on when its thread
   * ran), and every other call was queued by then, so it takes them all in
   * one more transaction: two commits at most, where one at a time would
   * be one per purchase. Every purchase that took stock was carried by a
   * committed transaction; a batch that held only refusals is rolled back
   * and counts for nothing, so how many refusals were counted depends on
   * where the batches split. */
  g_test_message ("%" G_GUINT64_FORMAT " writes in %" G_GUINT64_FORMAT
                  " commits, largest %" G_GUINT64_FORMAT,
                  statistic (f, "operations") - operations_before,
                  statistic (f, "commits") - commits_before, statistic (f, "largest_batch"));
  g_assert_cmpuint (statistic (f, "commits") - commits_before, <=, 2);
  g_assert_cmpuint (statistic (f, "operations") - operations_before, >=, took_stock);
  g_assert_cmpuint (statistic (f, "operations") - operations_before, <=, N_CALLS);
  g_assert_cmpuint (took_stock, >, 2);

  outcomes_clear (outcomes);
  calls_clear (calls);
}

/* A transaction that cannot commit fails every purchase in it, with
 * StorageFailure, and records none of them; the next ones succeed. */
static void
test_failed_commit (Fixture *f, gconstpointer data)
{
  Call calls[N_CALLS] = { 0 };
  Outcome outcomes[N_CALLS];
  guint n_done = 0;
  gint64 orders_before = query_int (f->db, "SELECT count(*) FROM orders", 0);
  ReservedTestItem item;

  make_calls (calls);
  /* Held past the daemon's busy timeout (GIVES_UP_SOON_MS): the writer
   * gives up. */
  reserved_test_sql_exec (f->db, "BEGIN IMMEDIATE");
  send_all (f, calls, outcomes, &n_done);
  wait_until (&n_done, N_CALLS);
  reserved_test_sql_exec (f->db, "ROLLBACK");

  for (guint i = 0; i < N_CALLS; i++)
    {
      g_assert_null (outcomes[i].answer.reply);
      reserved_test_assert_api_error (outcomes[i].answer.error, RESERVE_ERROR_STORAGE_FAILURE);
    }
  g_assert_cmpint (query_int (f->db, "SELECT count(*) FROM orders", 0), ==, orders_before);
  item = reserved_test_get_item (&f->client, ITEM);
  g_assert_cmpuint (item.remaining, ==, CAPACITY);

  reserved_test_buy (&f->client, ITEM, "after-the-lock", 1, NULL, NULL);
  outcomes_clear (outcomes);
  calls_clear (calls);
}

/* A batch of refusals changed nothing, so it has nothing to commit: no
 * commit is made (none is counted), and nothing waits for a sync. */
static void
test_refusals_not_committed (Fixture *f, gconstpointer data)
{
  guint64 commits;

  for (guint i = 0; i < CAPACITY / PER_USER_LIMIT; i++)
    {
      g_autofree char *user = g_strdup_printf ("early-%u", i);
      reserved_test_buy (&f->client, ITEM, user, PER_USER_LIMIT, NULL, NULL);
    }
  commits = statistic (f, "commits");
  for (guint i = 0; i < 10; i++)
    {
      reserved_test_buy_refused (&f->client, ITEM, "late", 1, NULL, RESERVE_ERROR_SOLD_OUT);
      reserved_test_buy_refused (&f->client, "no-such-seats", "late", 1, NULL,
                                 RESERVE_ERROR_NO_SUCH_ITEM);
    }
  g_assert_cmpuint (statistic (f, "commits"), ==, commits);

  /* A change is still committed. */
  reserved_test_restock (&f->client, ITEM, 1);
  g_assert_cmpuint (statistic (f, "commits"), ==, commits + 1);
  reserved_test_buy (&f->client, ITEM, "late", 1, NULL, NULL);
  g_assert_cmpuint (statistic (f, "commits"), ==, commits + 2);
}

static void
add_cases (void)
{
  g_test_add ("/batching/one-transaction", Fixture, &WAITS_FOR_THE_TEST, fixture_set_up,
              test_one_transaction, reserved_test_fixture_tear_down);
  g_test_add ("/batching/failed-commit", Fixture, &GIVES_UP_SOON, fixture_set_up,
              test_failed_commit, reserved_test_fixture_tear_down);
  g_test_add ("/batching/refusals-not-committed", Fixture, NULL, fixture_set_up,
              test_refusals_not_committed, reserved_test_fixture_tear_down);
}

RESERVED_TEST_MAIN (add_cases, NULL)
