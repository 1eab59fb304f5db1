/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The disk misbehaves under the daemon: fsync and write errors, and power
 * loss, injected by the LD_PRELOAD shim in tests/fault/ (see
 * reserved-fault.h for what it does and how it is driven).
 *
 * /faults/io-errors/fsync, /faults/io-errors/write: rounds of concurrent
 *   purchases, some cancellations and holds (Hold, later Confirm or
 *   Release, now and then one left live to the end) while the next
 *   fsyncs, or writes, of the database's files fail with EIO. Every call
 *   must be answered, with success or StorageFailure; the daemon must
 *   serve the next call once the faults stop. At the end, the file read
 *   after a clean stop holds every acknowledged order and hold in the
 *   state the test left it (a hold live, or ended as its Confirm or
 *   Release was answered: none revived), none of the refused ones, and
 *   passes integrity_check and the law, remaining + held + sold ==
 *   capacity.
 * /faults/io-errors/checkpoint-at-exit: the checkpoint at SIGTERM fails
 *   (fsync or write of the database file): nothing acknowledged is lost.
 * /faults/io-errors/failed-commit-then-kill: a purchase refused with
 *   StorageFailure because the log's fsync failed, then kill -9 before any
 *   other write. docs/api.md: StorageFailure means nothing was taken.
 * /faults/power-loss/random: rounds of start, a few purchases,
 *   cancellations and holds (as above), SIGTERM; in each, the power goes
 *   at a random write, sync, truncation or deletion of the database's
 *   files (from the first commit to the checkpoint at exit), dropping
 *   every unsynced write or, in half the rounds, a random part of the
 *   unsynced sectors. After each, the file passes integrity_check and the
 *   law and holds every acknowledged order and hold as acknowledged (a
 *   Confirm or Release the power cut off leaves its hold in doubt: there,
 *   live or ended), and the next daemon starts on it, recovering the log
 *   the power loss left. Every 50 rounds it starts over on a new
 *   database.
 * /faults/power-loss/first-start: the same at every point of a new
 *   database's first life, one after the other (creation, migration, the
 *   switch to the log, the first purchase, the checkpoint at exit), once
 *   dropping all unsynced writes and once keeping half the sectors.
 *
 * Knobs (environment):
 *   RESERVED_TEST_SEED=N          replay a run (each case prints its seed)
 *   RESERVED_TEST_IO_ROUNDS=N     rounds of injected errors (default 200)
 *   RESERVED_TEST_CRASH_POINTS=N  rounds of /faults/power-loss/random
 *                                 (default 400; 4000 take about two minutes)
 *
 * Under a sanitizer the shim is preloaded after the sanitizer's runtime
 * (see reserved_test_fault_shim_attach()), so these cases run in the
 * sanitized build as well. */
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fault.h"
#include "reserved-test-main.h"
#include "reserved-test-sqlite.h"

#define ITEM     "ticket" /* the default item, with CAPACITY units */
#define CAPACITY 1000000000u

#define HOLD_TTL 7200u /* the default MaxHoldSeconds: no hold expires in a run */

/* --- calls in flight ---------------------------------------------------------- */

typedef enum { CALL_BUY, CALL_CANCEL, CALL_HOLD, CALL_CONFIRM, CALL_RELEASE } CallKind;

typedef struct {
  CallKind kind;
  char *user;
  char *request_id; /* Buy's, Hold's */
  guint64 order;    /* Cancel's; Buy's and Confirm's on success */
  guint64 hold;     /* Confirm's, Release's; Hold's on success */
  GError *error;
  gboolean done;
} Call;

static void
call_clear (Call *call)
{
  g_clear_pointer (&call->user, g_free);
  g_clear_pointer (&call->request_id, g_free);
  g_clear_error (&call->error);
}

/* Stores the answer: a successful Buy or Confirm gives an order, a Hold a
 * hold; of a Cancel or Release only whether it failed matters. */
static void
on_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr(GVariant) reply =
               g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &call->error);

  if (reply != NULL && (call->kind == CALL_BUY || call->kind == CALL_CONFIRM))
    g_variant_get (reply, "(tu)", &call->order, NULL);
  else if (reply != NULL && call->kind == CALL_HOLD)
    g_variant_get (reply, "(txu)", &call->hold, NULL, NULL);
  call->done = TRUE;
}

/* The method of each CallKind, and the type of its reply. */
static const struct {
  const char *method;
  const char *reply_type;
} call_methods[] = {
  [CALL_BUY] = { "Buy", "(tu)" },        [CALL_CANCEL] = { "Cancel", "(u)" },
  [CALL_HOLD] = { "Hold", "(txu)" },     [CALL_CONFIRM] = { "Confirm", "(tu)" },
  [CALL_RELEASE] = { "Release", "(u)" },
};

/* The arguments (floating) of @call, on @item. */
static GVariant *
call_parameters (const Call *call, const char *item)
{
  switch (call->kind)
    {
    case CALL_BUY:
      return reserved_test_buy_args (item, call->user, 1, call->request_id);
    case CALL_HOLD:
      return g_variant_new ("(ssu@a{sv})", item, call->user, 1,
                            reserved_test_hold_options ("ttl", g_variant_new_uint32 (HOLD_TTL),
                                                        FALSE, call->request_id));
    case CALL_CONFIRM:
      return g_variant_new ("(t@a{sv})", call->hold, reserved_test_options (NULL));
    case CALL_CANCEL:
      return g_variant_new ("(t)", call->order);
    case CALL_RELEASE:
      return g_variant_new ("(t)", call->hold);
    }
  g_assert_not_reached ();
}

/* Sends every call at once (so that they share transactions), then waits
 * for every answer. A call the daemon never answers fails the test by the
 * harness's timeout: a wedged daemon. */
static void
run_calls (GDBusConnection *connection, Call *calls, guint n, const char *item)
{
  int timeout_ms = (int) reserved_test_timeout_seconds () * 1000;

  for (guint i = 0; i < n; i++)
    {
      Call *call = &calls[i];

      call->done = FALSE;
      g_dbus_connection_call (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH, RESERVE_INTERFACE,
                              call_methods[call->kind].method, call_parameters (call, item),
                              G_VARIANT_TYPE (call_methods[call->kind].reply_type),
                              G_DBUS_CALL_FLAGS_NO_AUTO_START, timeout_ms, NULL, on_reply, call);
    }
  for (guint i = 0; i < n; i++)
    while (!calls[i].done)
      g_main_context_iteration (NULL, TRUE);
}

static gboolean
is_storage_failure (const GError *error)
{
  ReserveError code;

  return reserve_error_get_code (error, &code) && code == RESERVE_ERROR_STORAGE_FAILURE;
}

/* --- fixture ------------------------------------------------------------------ */

typedef struct {
  guint made, confirmed, released, refused;
} HoldCounts;

typedef struct {
  ReservedTestDaemon *daemon;
  ReservedTestFaultShim *shim;
  ReservedFaultControl *control;
  ReservedTestAdmin c;
  GRand *rand;
  GHashTable *acked;          /* order id -> ReservedTestOrderState */
  GHashTable *in_doubt;       /* orders whose cancellation got no answer */
  GPtrArray *refused;         /* Buy's request_ids answered StorageFailure */
  GHashTable *holds;          /* hold id -> ReservedTestHoldState, as acknowledged */
  GHashTable *holds_in_doubt; /* holds whose Confirm or Release got no answer */
  GPtrArray *refused_holds;   /* Hold's request_ids answered StorageFailure */
  GArray *live;               /* acknowledged live holds, to confirm or release */
  gboolean with_holds;        /* pick_call() makes holds too */
  HoldCounts counts;
  char *last_loss; /* the power loss the disk comes from */
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  /* Holds left live pile up over a run: no cap on them per uid. */
  g_autofree char *config = g_strdup_printf ("[reserved]\nInitialCapacity=%u\nMaxHoldsPerUid=%u\n",
                                             CAPACITY, RESERVE_MAX_HOLDS_PER_UID_MAX);

  f->rand = reserved_test_fault_rand_new ();
  f->daemon = reserved_test_daemon_new ();
  reserved_test_daemon_write_config (f->daemon, config);
  f->shim = reserved_test_fault_shim_new (f->daemon);
  f->control = reserved_test_fault_shim_control (f->shim);
  f->acked = reserved_test_fault_orders_new ();
  f->in_doubt = reserved_test_fault_orders_new ();
  f->refused = g_ptr_array_new_with_free_func (g_free);
  f->holds = reserved_test_fault_orders_new ();
  f->holds_in_doubt = reserved_test_fault_orders_new ();
  f->refused_holds = g_ptr_array_new_with_free_func (g_free);
  f->live = g_array_new (FALSE, FALSE, sizeof (guint64));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  reserved_test_admin_close (&f->c);
  g_clear_pointer (&f->shim, reserved_test_fault_shim_free);
  g_clear_pointer (&f->daemon, reserved_test_daemon_free);
  g_clear_pointer (&f->acked, g_hash_table_unref);
  g_clear_pointer (&f->in_doubt, g_hash_table_unref);
  g_clear_pointer (&f->refused, g_ptr_array_unref);
  g_clear_pointer (&f->holds, g_hash_table_unref);
  g_clear_pointer (&f->holds_in_doubt, g_hash_table_unref);
  g_clear_pointer (&f->refused_holds, g_ptr_array_unref);
  g_clear_pointer (&f->live, g_array_unref);
  g_clear_pointer (&f->rand, g_rand_free);
  g_clear_pointer (&f->last_loss, g_free);
}

static guint64
take_one (GRand *rand, GArray *ids)
{
  guint at = (guint) g_rand_int_range (rand, 0, (gint32) ids->len);
  guint64 id = g_array_index (ids, guint64, at);

  g_array_remove_index_fast (ids, at);
  return id;
}

/* Picks what @call does: one in @cancel_one_in cancels an active order;
 * of the rest, one in four goes to holds (half of these, when a hold is
 * live, confirm it or, one in three, release it; else a new hold, which
 * may stay live to the end), the others buy. @request_id: (transfer full)
 * for a Buy or a Hold. Without f->with_holds, purchases only. */
static void
pick_call (Fixture *f, Call *call, GArray *active, guint cancel_one_in, char *request_id)
{
  if (active->len > 0 && g_rand_int_range (f->rand, 0, (gint32) cancel_one_in) == 0)
    {
      call->kind = CALL_CANCEL;
      call->order = take_one (f->rand, active);
      g_free (request_id);
    }
  else if (f->with_holds && g_rand_int_range (f->rand, 0, 4) == 0)
    {
      if (f->live->len > 0 && g_rand_boolean (f->rand))
        {
          call->kind = g_rand_int_range (f->rand, 0, 3) == 0 ? CALL_RELEASE : CALL_CONFIRM;
          call->hold = take_one (f->rand, f->live);
          g_free (request_id);
        }
      else
        {
          call->kind = CALL_HOLD;
          call->request_id = request_id;
        }
    }
  else
    {
      call->kind = CALL_BUY;
      call->request_id = request_id;
    }
}

/* Records what an answered call did. Returns TRUE for an acknowledged
 * purchase. */
static gboolean
record_success (Fixture *f, const Call *call, GArray *active)
{
  switch (call->kind)
    {
    case CALL_BUY:
      reserved_test_fault_orders_set (f->acked, call->order, RESERVED_TEST_ORDER_ACTIVE);
      g_array_append_val (active, call->order);
      return TRUE;
    case CALL_CANCEL:
      reserved_test_fault_orders_set (f->acked, call->order, RESERVED_TEST_ORDER_CANCELLED);
      break;
    case CALL_HOLD:
      g_assert_cmpuint (call->hold, >, 0);
      g_assert_false (g_hash_table_contains (f->holds, &call->hold));
      reserved_test_fault_orders_set (f->holds, call->hold,
                                      (ReservedTestOrderState) RESERVED_TEST_HOLD_LIVE);
      g_array_append_val (f->live, call->hold);
      f->counts.made++;
      break;
    case CALL_CONFIRM:
      reserved_test_fault_orders_set (f->holds, call->hold,
                                      (ReservedTestOrderState) RESERVED_TEST_HOLD_CONFIRMED);
      reserved_test_fault_orders_set (f->acked, call->order, RESERVED_TEST_ORDER_ACTIVE);
      g_array_append_val (active, call->order);
      f->counts.confirmed++;
      break;
    case CALL_RELEASE:
      reserved_test_fault_orders_set (f->holds, call->hold,
                                      (ReservedTestOrderState) RESERVED_TEST_HOLD_RELEASED);
      f->counts.released++;
      break;
    }
  return FALSE;
}

/* Every acknowledged hold in @path as the test was told, none refused. */
static void
check_holds (Fixture *f, const char *path, const char *what)
{
  g_autoptr(GHashTable) in_file = reserved_test_fault_holds_in_file (path);
  GHashTableIter iter;
  gpointer id;

  reserved_test_fault_assert_holds (in_file, f->holds, what);
  g_hash_table_iter_init (&iter, f->holds_in_doubt);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    if (!g_hash_table_contains (in_file, id))
      g_error ("%s: hold %" G_GUINT64_FORMAT " is gone", what, *(guint64 *) id);
  for (guint i = 0; i < f->refused_holds->len; i++)
    {
      const char *request_id = g_ptr_array_index (f->refused_holds, i);

      if (reserved_test_fault_count_request_id (path, "holds", request_id) != 0)
        g_error ("%s: the hold %s was answered StorageFailure (\"nothing taken\"), "
                 "but it is in the database",
                 what, request_id);
    }
}

static void
start_with_shim (Fixture *f, guint32 fault_mode)
{
  reserved_test_fault_shim_reset (f->shim);
  RESERVED_TEST_FAULT_SET (f->control->seed, g_rand_int (f->rand));
  RESERVED_TEST_FAULT_SET (f->control->mode, fault_mode);
  reserved_test_fault_shim_attach (f->shim, TRUE);
  reserved_test_daemon_start (f->daemon);
  reserved_test_admin_open (&f->c, f->daemon);
}

/* Stops the daemon (SIGTERM, exit status 0), then checks the file as it
 * is: every acknowledged order in its state, no refused purchase, the law
 * and integrity_check. Then restarts it without the shim and checks what
 * it serves. */
static void
check_after_stop (Fixture *f, const char *what)
{
  g_autoptr(GHashTable) in_file = NULL;

  reserved_test_admin_close (&f->c);
  if (reserved_test_daemon_get_process (f->daemon) != NULL)
    reserved_test_daemon_stop (f->daemon);
  in_file = reserved_test_fault_check_file (reserved_test_daemon_get_database (f->daemon));
  reserved_test_fault_assert_orders (in_file, f->acked, what);
  for (guint i = 0; i < f->refused->len; i++)
    {
      const char *request_id = g_ptr_array_index (f->refused, i);

      if (reserved_test_fault_count_request_id (reserved_test_daemon_get_database (f->daemon),
                                                "orders", request_id) != 0)
        g_error ("%s: the purchase %s was answered StorageFailure (\"nothing taken\"), "
                 "but its order is in the database",
                 what, request_id);
    }
  check_holds (f, reserved_test_daemon_get_database (f->daemon), what);

  reserved_test_fault_shim_attach (f->shim, FALSE);
  reserved_test_daemon_start (f->daemon);
  reserved_test_admin_open (&f->c, f->daemon);
  reserved_test_assert_law (&f->c.client);
  reserved_test_buy (&f->c.client, ITEM, "after", 1, NULL, NULL);
  reserved_test_admin_close (&f->c);
  reserved_test_daemon_stop (f->daemon);
}

/* --- errors ---------------------------------------------------------------------- */

typedef enum { FAIL_SYNCS, FAIL_WRITES } FaultKind;

static void
arm (Fixture *f, FaultKind kind)
{
  /* The log alone, or every file of the database. */
  RESERVED_TEST_FAULT_SET (f->control->files,
                           g_rand_boolean (f->rand) ? (guint32) RESERVED_FAULT_FILE_WAL : 0u);
  if (kind == FAIL_SYNCS)
    RESERVED_TEST_FAULT_SET (f->control->fail_syncs, g_rand_int_range (f->rand, 1, 4));
  else
    {
      /* A few writes pass first: the failure lands inside a commit's
       * frames, not only on its first. */
      RESERVED_TEST_FAULT_SET (f->control->skip_writes, g_rand_int_range (f->rand, 0, 8));
      RESERVED_TEST_FAULT_SET (f->control->fail_writes, g_rand_int_range (f->rand, 1, 3));
    }
}

static void
disarm (Fixture *f)
{
  RESERVED_TEST_FAULT_SET (f->control->fail_syncs, 0);
  RESERVED_TEST_FAULT_SET (f->control->skip_writes, 0);
  RESERVED_TEST_FAULT_SET (f->control->fail_writes, 0);
}

static void
run_error_rounds (Fixture *f, FaultKind kind)
{
  guint rounds = reserved_test_env_uint ("RESERVED_TEST_IO_ROUNDS", 200, G_MAXUINT);
  g_autoptr(GArray) active = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint n_refused = 0, n_acked = 0, n_cancelled = 0;

  f->with_holds = TRUE;
  start_with_shim (f, RESERVED_FAULT_MODE_ERRORS);
  /* Some history first, so that there are orders to cancel. */
  for (guint i = 0; i < 5; i++)
    {
      guint64 order = reserved_test_buy (&f->c.client, ITEM, "before", 1, NULL, NULL);
      reserved_test_fault_orders_set (f->acked, order, RESERVED_TEST_ORDER_ACTIVE);
      g_array_append_val (active, order);
    }

  for (guint round = 0; round < rounds; round++)
    {
      Call calls[8] = { { 0 } };
      guint n = (guint) g_rand_int_range (f->rand, 1, G_N_ELEMENTS (calls) + 1);
      guint64 order = 0;
      g_autoptr(GError) error = NULL;
      g_autofree char *after = g_strdup_printf ("after-%u", round);

      for (guint i = 0; i < n; i++)
        {
          calls[i].user = g_strdup_printf ("user%u", i);
          pick_call (f, &calls[i], active, 4, g_strdup_printf ("round%u-%u", round, i));
        }
      arm (f, kind);
      run_calls (f->c.connection, calls, n, ITEM);
      disarm (f);

      for (guint i = 0; i < n; i++)
        {
          Call *call = &calls[i];

          if (call->error != NULL && !is_storage_failure (call->error))
            g_error ("round %u: a call under injected I/O errors got neither success nor "
                     "StorageFailure: %s",
                     round, call->error->message);
          if (call->error != NULL)
            {
              g_test_message ("round %u: refused: %s", round, call->error->message);
              g_assert_nonnull (
                strstr (call->error->message, reserved_test_daemon_get_database (f->daemon)));
              n_refused++;
              switch (call->kind)
                {
                case CALL_BUY:
                  g_ptr_array_add (f->refused, g_strdup (call->request_id));
                  break;
                case CALL_HOLD:
                  g_ptr_array_add (f->refused_holds, g_strdup (call->request_id));
                  f->counts.refused++;
                  break;
                case CALL_CANCEL:
                  g_array_append_val (active, call->order); /* still active */
                  break;
                case CALL_CONFIRM:
                case CALL_RELEASE:
                  g_array_append_val (f->live, call->hold); /* still live */
                  f->counts.refused++;
                  break;
                }
            }
          else
            {
              n_acked += record_success (f, call, active);
              n_cancelled += call->kind == CALL_CANCEL;
            }
          call_clear (call);
        }

      /* The faults stopped: the very next purchase goes through. */
      if (!reserved_test_fault_buy (f->c.connection, "after", after, &order, &error))
        g_error ("round %u: the first purchase after the faults stopped failed: %s", round,
                 error->message);
      reserved_test_fault_orders_set (f->acked, order, RESERVED_TEST_ORDER_ACTIVE);
      g_array_append_val (active, order);
      if (round % 10 == 0)
        reserved_test_assert_law (&f->c.client);
    }

  g_test_message ("%u rounds: %u purchases acknowledged, %u cancelled, %u holds made, "
                  "%u confirmed, %u released, %u left live, %u calls refused (%u of them on "
                  "holds); "
                  "the shim failed %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                  " syncs and %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
                  " torn) of %" G_GUINT64_FORMAT " writes",
                  rounds, n_acked, n_cancelled, f->counts.made, f->counts.confirmed,
                  f->counts.released, f->live->len, n_refused, f->counts.refused,
                  RESERVED_TEST_FAULT_GET (f->control->failed_syncs),
                  RESERVED_TEST_FAULT_GET (f->control->syncs),
                  RESERVED_TEST_FAULT_GET (f->control->failed_writes),
                  RESERVED_TEST_FAULT_GET (f->control->torn_writes),
                  RESERVED_TEST_FAULT_GET (f->control->writes));
  /* The faults really were injected, and really made calls fail. */
  g_assert_cmpuint (kind == FAIL_SYNCS ? RESERVED_TEST_FAULT_GET (f->control->failed_syncs)
                                       : RESERVED_TEST_FAULT_GET (f->control->failed_writes),
                    >, 0);
  g_assert_cmpuint (n_refused, >, 0);
  g_assert_cmpuint (n_acked, >, 0);
  if (rounds >= 50)
    {
      g_assert_cmpuint (f->counts.made, >, 0);
      g_assert_cmpuint (f->counts.confirmed, >, 0);
      g_assert_cmpuint (f->counts.released, >, 0);
    }

  reserved_test_assert_law (&f->c.client);
  check_after_stop (f, kind == FAIL_SYNCS ? "fsync errors" : "write errors");
}

static void
test_io_errors_fsync (Fixture *f, gconstpointer data)
{
  run_error_rounds (f, FAIL_SYNCS);
}

static void
test_io_errors_write (Fixture *f, gconstpointer data)
{
  run_error_rounds (f, FAIL_WRITES);
}

/* At SIGTERM the daemon closes the database, which copies the log into the
 * database file and syncs it. If that fails, the log must stay, and with
 * it every acknowledged order. */
static void
test_checkpoint_at_exit (Fixture *f, gconstpointer data)
{
  for (guint attempt = 0; attempt < 4; attempt++)
    {
      g_autofree char *log = NULL;
      g_autofree char *wal =
        g_strconcat (reserved_test_daemon_get_database (f->daemon), "-wal", NULL);
      g_autoptr(ReservedTestProcess) process = NULL;
      int status;

      start_with_shim (f, RESERVED_FAULT_MODE_ERRORS);
      for (guint i = 0; i < 20; i++)
        {
          g_autofree char *request_id = g_strdup_printf ("exit%u-%u", attempt, i);
          guint64 order = reserved_test_buy (&f->c.client, ITEM, "alice", 1, request_id, NULL);
          reserved_test_fault_orders_set (f->acked, order, RESERVED_TEST_ORDER_ACTIVE);
        }
      reserved_test_admin_close (&f->c);

      RESERVED_TEST_FAULT_SET (f->control->files, (guint32) RESERVED_FAULT_FILE_DB);
      if (attempt % 2 == 0)
        RESERVED_TEST_FAULT_SET (f->control->fail_syncs, 1000);
      else
        {
          RESERVED_TEST_FAULT_SET (f->control->skip_writes, (int) attempt);
          RESERVED_TEST_FAULT_SET (f->control->fail_writes, 1000);
        }
      process = reserved_test_daemon_steal_process (f->daemon);
      g_assert_cmpint (kill (reserved_test_process_get_pid (process), SIGTERM), ==, 0);
      status = reserved_test_process_wait (process);
      log = reserved_test_process_get_log (process);
      g_test_message ("attempt %u: the checkpoint at exit met %" G_GUINT64_FORMAT
                      " failed syncs and %" G_GUINT64_FORMAT " failed writes; the log %s; "
                      "the daemon said:\n%s",
                      attempt, RESERVED_TEST_FAULT_GET (f->control->failed_syncs),
                      RESERVED_TEST_FAULT_GET (f->control->failed_writes),
                      g_file_test (wal, G_FILE_TEST_EXISTS) ? "stayed" : "is gone", log);
      g_assert_cmpuint (RESERVED_TEST_FAULT_GET (f->control->failed_syncs) +
                          RESERVED_TEST_FAULT_GET (f->control->failed_writes),
                        >, 0);
      /* A failed checkpoint loses nothing, so it is no reason to fail. */
      reserved_test_assert_exit_status (status, 0, "reserved stopped while its checkpoint failed",
                                        log);
      reserved_test_daemon_wait_name_gone (f->daemon);

      {
        g_autoptr(GHashTable) in_file =
                     reserved_test_fault_check_file (reserved_test_daemon_get_database (f->daemon));
        reserved_test_fault_assert_orders (in_file, f->acked, "failed checkpoint at exit");
      }
    }
  check_after_stop (f, "failed checkpoint at exit");
}

/* The daemon without the shim starts on what the file holds and serves it
 * by the law. */
static void
check_plain_start (Fixture *f)
{
  reserved_test_fault_shim_attach (f->shim, FALSE);
  reserved_test_daemon_start (f->daemon);
  reserved_test_admin_open (&f->c, f->daemon);
  reserved_test_assert_law (&f->c.client);
  reserved_test_admin_close (&f->c);
  reserved_test_daemon_stop (f->daemon);
}

/* A purchase whose commit failed (the log's fsync) is answered
 * StorageFailure, "nothing taken". Its frames may still sit in the log
 * with a valid commit mark; a kill before the next write must not let
 * recovery revive it. */
static void
test_failed_commit_then_kill (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) in_file = NULL;
  guint64 order = 0;

  start_with_shim (f, RESERVED_FAULT_MODE_ERRORS);
  order = reserved_test_buy (&f->c.client, ITEM, "alice", 1, "kept", NULL);
  reserved_test_fault_orders_set (f->acked, order, RESERVED_TEST_ORDER_ACTIVE);

  RESERVED_TEST_FAULT_SET (f->control->files, (guint32) RESERVED_FAULT_FILE_WAL);
  RESERVED_TEST_FAULT_SET (f->control->fail_syncs, 1);
  g_assert_false (reserved_test_fault_buy (f->c.connection, "alice", "refused", &order, &error));
  g_test_message ("refused: %s", error->message);
  g_assert_true (is_storage_failure (error));
  g_assert_cmpuint (RESERVED_TEST_FAULT_GET (f->control->failed_syncs), ==, 1);

  reserved_test_admin_close (&f->c);
  reserved_test_daemon_kill (f->daemon);
  in_file = reserved_test_fault_check_file (reserved_test_daemon_get_database (f->daemon));
  reserved_test_fault_assert_orders (in_file, f->acked, "failed commit, then kill -9");
  if (reserved_test_fault_count_request_id (reserved_test_daemon_get_database (f->daemon), "orders",
                                            "refused") != 0)
    g_error ("a purchase answered StorageFailure (its commit's fsync failed) is in the database "
             "after kill -9: recovery replayed its frames from the log. A client told “nothing "
             "taken” holds an order it does not know about.");

  check_plain_start (f);
}

/* --- power loss ------------------------------------------------------------------ */

typedef enum { ROUND_READY, ROUND_EXITED } RoundState;

/* Waits until @process owns the name or exits. */
static RoundState
wait_ready_or_exit (ReservedTestDaemon *daemon, ReservedTestProcess *process)
{
  gint64 deadline =
    g_get_monotonic_time () + (gint64) reserved_test_timeout_seconds () * G_USEC_PER_SEC;

  for (;;)
    {
      if (reserved_test_process_has_exited (process))
        return ROUND_EXITED;
      if (reserved_test_daemon_get_owner_pid (daemon) == reserved_test_process_get_pid (process))
        return ROUND_READY;
      if (g_get_monotonic_time () > deadline)
        {
          g_autofree char *log = reserved_test_process_get_log (process);
          g_error ("reserved neither started nor crashed within %u s; its output:\n%s",
                   reserved_test_timeout_seconds (), log);
        }
      g_usleep (2000);
    }
}

static void
remove_database (ReservedTestDaemon *daemon)
{
  const char *suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path =
        g_strconcat (reserved_test_daemon_get_database (daemon), suffixes[i], NULL);
      g_unlink (path);
    }
}

typedef struct {
  guint64 crash_at; /* 0: no power loss */
  guint keep_percent;
  guint n_calls;
} PowerRound;

typedef struct {
  gboolean ready; /* it owned the bus name */
  gboolean crashed;
  gboolean during_start;
  gboolean during_exit;
  guint64 events;
  guint64 lost_writes;
  guint acked;
} PowerOutcome;

/* One life of the daemon with the shim in power-loss mode: start, a few
 * purchases and cancellations sent at once, SIGTERM; the power goes at
 * event plan->crash_at. Records what was acknowledged in f->acked (and an
 * unanswered cancellation in f->in_doubt). The daemon may only ever exit
 * at the power loss or, at SIGTERM, with status 0: a refusal to start on
 * what an earlier power loss left fails the test here. */
static void
power_round (Fixture *f,
             const PowerRound *plan,
             GArray *active,
             guint *request,
             PowerOutcome *outcome)
{
  g_autoptr(ReservedTestProcess) process = NULL;
  int status;

  if (f->last_loss == NULL)
    f->last_loss = g_strdup ("none (a clean stop)");
  memset (outcome, 0, sizeof *outcome);
  reserved_test_fault_shim_reset (f->shim);
  RESERVED_TEST_FAULT_SET (f->control->seed, g_rand_int (f->rand));
  RESERVED_TEST_FAULT_SET (f->control->crash_at, plan->crash_at);
  RESERVED_TEST_FAULT_SET (f->control->keep_percent, plan->keep_percent);
  RESERVED_TEST_FAULT_SET (f->control->mode, RESERVED_FAULT_MODE_POWER_LOSS);
  reserved_test_fault_shim_attach (f->shim, TRUE);

  process = reserved_test_daemon_spawn (f->daemon, NULL);
  if (wait_ready_or_exit (f->daemon, process) == ROUND_EXITED)
    outcome->during_start = TRUE;
  else
    {
      outcome->ready = TRUE;
      Call calls[8] = { { 0 } };
      guint n = MIN (plan->n_calls, G_N_ELEMENTS (calls));

      reserved_test_admin_open (&f->c, f->daemon);
      for (guint i = 0; i < n; i++)
        {
          calls[i].user = g_strdup_printf ("user%u", i % 3);
          pick_call (f, &calls[i], active, 5, g_strdup_printf ("power-%u", (*request)++));
        }
      /* The default item: created with the database, so a fresh one needs
       * no call that could itself be lost. */
      run_calls (f->c.connection, calls, n, ITEM);
      for (guint i = 0; i < n; i++)
        {
          Call *call = &calls[i];
          ReserveError code;

          if (call->error == NULL)
            outcome->acked += record_success (f, call, active);
          else if (reserve_error_get_code (call->error, &code))
            g_error ("the daemon refused a call: %s", call->error->message);
          else if (call->kind == CALL_CANCEL)
            {
              /* No answer: the power went during the call. The order is
               * there, cancelled or not; it is not tried again. */
              g_hash_table_remove (f->acked, &call->order);
              reserved_test_fault_orders_set (f->in_doubt, call->order, RESERVED_TEST_ORDER_ACTIVE);
            }
          else if (call->kind == CALL_CONFIRM || call->kind == CALL_RELEASE)
            {
              /* The same for a hold: live or ended, but there. */
              g_hash_table_remove (f->holds, &call->hold);
              reserved_test_fault_orders_set (f->holds_in_doubt, call->hold,
                                              RESERVED_TEST_ORDER_ACTIVE);
            }
          call_clear (call);
        }
      reserved_test_admin_close (&f->c);
      if (!reserved_test_process_has_exited (process))
        {
          kill (reserved_test_process_get_pid (process), SIGTERM);
          outcome->during_exit = TRUE;
        }
    }

  status = reserved_test_process_wait (process);
  outcome->crashed = RESERVED_TEST_FAULT_GET (f->control->crashed) != 0;
  outcome->during_start = outcome->during_start && outcome->crashed;
  outcome->during_exit = outcome->during_exit && outcome->crashed;
  outcome->events = RESERVED_TEST_FAULT_GET (f->control->events);
  outcome->lost_writes = RESERVED_TEST_FAULT_GET (f->control->lost_writes);
  if (!outcome->crashed || !WIFEXITED (status) ||
      WEXITSTATUS (status) != RESERVED_FAULT_CRASH_STATUS)
    {
      g_autofree char *log = reserved_test_process_get_log (process);
      g_autofree char *what = NULL;

      if (!outcome->ready)
        g_error ("reserved refused to start on the database the last power loss left "
                 "(%s); it said:\n%s",
                 f->last_loss, log);
      what = g_strdup_printf (
        "reserved, stopped with SIGTERM (power loss planned at event %" G_GUINT64_FORMAT
        ", after the last one)",
        plan->crash_at);
      reserved_test_assert_exit_status (status, 0, what, log);
    }
  g_free (f->last_loss);
  f->last_loss =
    outcome->crashed
      ? g_strdup_printf ("at event %" G_GUINT64_FORMAT " of a daemon's life, keeping %u%% of the "
                         "unsynced sectors%s",
                         plan->crash_at, plan->keep_percent,
                         outcome->during_start ? ", during start-up" : "")
      : g_strdup ("none (a clean stop)");
  reserved_test_daemon_wait_name_gone (f->daemon);
}

/* What the disk holds after the power came back: integrity_check, the law,
 * every acknowledged order in its state. A log of a rollback journal left
 * behind is not read here: reading it would roll it back, and that is the
 * next daemon's job, which the next start checks. */
static void
check_disk (Fixture *f, const char *what)
{
  const char *path = reserved_test_daemon_get_database (f->daemon);
  g_autofree char *journal = g_strconcat (path, "-journal", NULL);
  g_autoptr(GHashTable) in_file = NULL;
  GHashTableIter iter;
  gpointer id;
  GStatBuf st;

  if (g_stat (journal, &st) == 0 && st.st_size > 0)
    return;
  if (g_stat (path, &st) != 0 || st.st_size == 0)
    {
      /* No database yet: nothing may have been acknowledged. */
      if (g_hash_table_size (f->acked) + g_hash_table_size (f->in_doubt) +
            g_hash_table_size (f->holds) + g_hash_table_size (f->holds_in_doubt) >
          0)
        g_error ("%s: the database is gone or empty, but %u orders and %u holds were "
                 "acknowledged",
                 what, g_hash_table_size (f->acked) + g_hash_table_size (f->in_doubt),
                 g_hash_table_size (f->holds) + g_hash_table_size (f->holds_in_doubt));
      return;
    }
  in_file = reserved_test_fault_check_file (path);
  reserved_test_fault_assert_orders (in_file, f->acked, what);
  g_hash_table_iter_init (&iter, f->in_doubt);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    if (!g_hash_table_contains (in_file, id))
      g_error ("%s: order %" G_GUINT64_FORMAT " is gone", what, *(guint64 *) id);
  check_holds (f, path, what);
}

static void
forget_orders (Fixture *f, GArray *active)
{
  g_hash_table_remove_all (f->acked);
  g_hash_table_remove_all (f->in_doubt);
  g_hash_table_remove_all (f->holds);
  g_hash_table_remove_all (f->holds_in_doubt);
  g_array_set_size (active, 0);
  g_array_set_size (f->live, 0);
  g_free (f->last_loss);
  f->last_loss = g_strdup ("none (no database yet)");
}

static void
test_power_loss (Fixture *f, gconstpointer data)
{
  guint rounds = reserved_test_env_uint ("RESERVED_TEST_CRASH_POINTS", 400, G_MAXUINT);
  g_autoptr(GArray) active = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 span[8] = { 0 }; /* by calls in a round: events without a power loss */
  guint crashes = 0, during_start = 0, during_exit = 0, kept_rounds = 0;
  guint acked = 0, fresh_starts = 0;
  guint64 lost_writes = 0;
  guint request = 0;

  f->with_holds = TRUE;
  for (guint round = 0; round < rounds; round++)
    {
      PowerRound plan = { .n_calls = (guint) g_rand_int_range (f->rand, 1, G_N_ELEMENTS (span)) };
      PowerOutcome outcome;
      g_autofree char *what = NULL;

      /* Now and then a new database, made without power losses (the
       * points of a first life are first-start's), then lived with them. */
      if (round % 50 == 0)
        {
          remove_database (f->daemon);
          forget_orders (f, active);
          check_plain_start (f);
          fresh_starts++;
        }
      /* Until a round of this size ran without a power loss, one does. */
      if (span[plan.n_calls] > 0)
        {
          plan.crash_at = (guint64) g_rand_int_range (f->rand, 1, (gint32) span[plan.n_calls] + 1);
          if (g_rand_boolean (f->rand))
            plan.keep_percent = (guint) g_rand_int_range (f->rand, 1, 100);
        }
      power_round (f, &plan, active, &request, &outcome);

      if (outcome.crashed)
        {
          crashes++;
          during_start += outcome.during_start;
          during_exit += outcome.during_exit;
          kept_rounds += plan.keep_percent > 0;
          lost_writes += outcome.lost_writes;
        }
      else
        span[plan.n_calls] = MAX (span[plan.n_calls], outcome.events);
      acked += outcome.acked;
      what = g_strdup_printf ("round %u, power loss at event %" G_GUINT64_FORMAT
                              " (keeping %u%% of the unsynced sectors)",
                              round, plan.crash_at, plan.keep_percent);
      check_disk (f, what);
    }

  g_test_message ("%u rounds (%u new databases): %u power losses (%u during start-up, "
                  "%u in the checkpoint at exit, %u keeping part of the unsynced sectors), "
                  "%" G_GUINT64_FORMAT " unsynced writes dropped, %u purchases acknowledged, "
                  "%u holds made, %u confirmed, %u released, none lost or revived",
                  rounds, fresh_starts, crashes, during_start, during_exit, kept_rounds,
                  lost_writes, acked, f->counts.made, f->counts.confirmed, f->counts.released);
  g_assert_cmpuint (crashes, >=, rounds / 2);
  g_assert_cmpuint (lost_writes, >, 0);
  if (rounds >= 100)
    g_assert_cmpuint (f->counts.made, >, 0);
  check_plain_start (f);
  check_disk (f, "the end");
}

/* Every point of a database's first life, one after the other: creating
 * and migrating the file, switching it to the write-ahead log, the first
 * purchase, the checkpoint at exit; each dropping every unsynced write,
 * then each keeping half of the unsynced sectors. After each power loss the daemon must
 * start on what is left, and it must hold what was acknowledged. */
static void
test_power_loss_first_start (Fixture *f, gconstpointer data)
{
  g_autoptr(GArray) active = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(GString) refused = g_string_new (NULL);
  /* One purchase: one transaction, so every life has the same events. */
  PowerRound plan = { .n_calls = 1 };
  PowerOutcome outcome;
  guint request = 0;
  guint64 events;

  remove_database (f->daemon);
  power_round (f, &plan, active, &request, &outcome);
  events = outcome.events;
  g_test_message ("a first life has %" G_GUINT64_FORMAT " events", events);
  g_assert_cmpuint (events, >, 10);

  for (guint keep = 0; keep < 2; keep++)
    for (guint64 at = 1; at <= events; at++)
      {
        g_autofree char *what =
          g_strdup_printf ("first start, power loss at event %" G_GUINT64_FORMAT
                           " of %" G_GUINT64_FORMAT " (keeping %u%%)",
                           at, events, keep * 50);

        remove_database (f->daemon);
        forget_orders (f, active);
        plan.crash_at = at;
        plan.keep_percent = keep * 50;
        power_round (f, &plan, active, &request, &outcome);
        g_assert_true (outcome.crashed);
        g_test_message ("%s: %u acknowledged before it", what, outcome.acked);
        check_disk (f, what);

        /* The daemon without the shim must start on it. Every point where
         * it does not is collected, to be reported together. */
        {
          g_autoptr(ReservedTestProcess) process = NULL;

          reserved_test_fault_shim_attach (f->shim, FALSE);
          process = reserved_test_daemon_spawn (f->daemon, NULL);
          if (wait_ready_or_exit (f->daemon, process) == ROUND_EXITED)
            {
              g_autofree char *log = reserved_test_process_get_log (process);

              g_test_message ("%s: the daemon refused to start: %s", what, log);
              g_string_append_printf (refused, "\n  %s: %s", what, g_strstrip (log));
              continue;
            }
          kill (reserved_test_process_get_pid (process), SIGTERM);
          reserved_test_assert_exit_status (reserved_test_process_wait (process), 0,
                                            "reserved, stopped with SIGTERM", NULL);
          reserved_test_daemon_wait_name_gone (f->daemon);
        }
        check_disk (f, what);
      }
  if (refused->len > 0)
    g_error ("after these power losses during a database's first life, the daemon refused "
             "to start on what was left:%s",
             refused->str);
}

static void
add_cases (void)
{
  g_test_add ("/faults/io-errors/fsync", Fixture, NULL, fixture_set_up, test_io_errors_fsync,
              fixture_tear_down);
  g_test_add ("/faults/io-errors/write", Fixture, NULL, fixture_set_up, test_io_errors_write,
              fixture_tear_down);
  g_test_add ("/faults/io-errors/checkpoint-at-exit", Fixture, NULL, fixture_set_up,
              test_checkpoint_at_exit, fixture_tear_down);
  g_test_add ("/faults/io-errors/failed-commit-then-kill", Fixture, NULL, fixture_set_up,
              test_failed_commit_then_kill, fixture_tear_down);
  g_test_add ("/faults/power-loss/random", Fixture, NULL, fixture_set_up, test_power_loss,
              fixture_tear_down);
  g_test_add ("/faults/power-loss/first-start", Fixture, NULL, fixture_set_up,
              test_power_loss_first_start, fixture_tear_down);
}

RESERVED_TEST_MAIN (add_cases, NULL)
