// SPDX-License-Identifier: LGPL-2.1-or-later
/* Several daemons sharing one PostgreSQL database, each on a host of its
 * own: the test bed of tests/multihost/cluster (network namespaces, a
 * primary with a synchronous standby), and two reserved, each in an app
 * host's namespace on a private bus of its own, with its own Node name.
 * The test talks to each daemon through its bus, and to the database
 * servers with psql through the harness.
 *
 * Needs root (namespaces, the postgres user). Each case sets up its own
 * test bed, which `cluster hold` removes once the case ends, also when it
 * fails: it ends when the test's end of its stdin closes.
 *
 * RESERVED_TEST_FAILOVER_ROUNDS (default 20): rounds of /multihost/failover,
 * each a kill -9 of the primary under load, a promotion and a new standby. */

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "reserved-test-buyers.h"
#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"
#include "reserved-test-reply.h"

#define N_APPS         2
#define N_HOT_BUYERS   64 /* split over the daemons */
#define HOT_UNITS      40 /* more than one daemon's half of the buyers can take */
#define N_STOCK_BUYERS 6  /* on each daemon */
#define STOCK_UNITS    1000000u
/* Purchases acknowledged before a fault, and again after it. */
#define ACKS_PER_PHASE 20

/* The bound on a purchase and on a phase of the buyers, which may span a
 * failover: the primary's death, a promotion, and commits waiting until a
 * new standby is made (most of a minute on a loaded machine). Only a
 * bound on a hung test. */
static gint64
failover_deadline (void)
{
  return g_get_monotonic_time () + 3 * reserved_test_timeout_seconds () * G_USEC_PER_SEC;
}

/* --- the test bed ------------------------------------------------------ */

typedef struct {
  char *dir;         /* the cluster's folder, which `cluster hold` removes */
  GPid cluster;      /* `cluster hold DIR` */
  int cluster_stdin; /* closing it takes the cluster down */
  char *uri;
  ReservedTestDaemon *daemons[N_APPS];
  ReservedTestAdmin admins[N_APPS];
} Multihost;

static char *
cluster_script (void)
{
  const char *srcdir = g_getenv ("G_TEST_SRCDIR");

  if (srcdir == NULL)
    g_error ("G_TEST_SRCDIR is not set: run the tests with `meson test`");
  return g_build_filename (srcdir, "multihost", "cluster", NULL);
}

/* Runs `cluster COMMAND DIR ARGS...` to its end, asserting exit status 0;
 * returns its output, stripped. */
static char *
cluster_run (Multihost *m, const char *command, const char *const *args)
{
  g_autofree char *script = cluster_script ();
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_ptr_array_add (argv, script);
  g_ptr_array_add (argv, (char *) command);
  g_ptr_array_add (argv, m->dir);
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("cluster %s failed (wait status 0x%x): %s%s", command, (guint) status, out, err);
  return g_strdup (g_strstrip (out));
}

/* `cluster COMMAND DIR`, which says nothing worth keeping. */
static void
cluster_do (Multihost *m, const char *command)
{
  g_free (cluster_run (m, command, NULL));
}

/* What `psql` prints for @sql on the current primary (or standby). */
static char *
cluster_psql (Multihost *m, const char *role, const char *sql)
{
  const char *args[] = { role, "-c", sql, NULL };

  return cluster_run (m, "psql", args);
}

/* Starts `cluster hold` and reads the URI it prints once the servers are
 * up. Its stdin is the one thing that keeps it: when the test ends, even
 * by abort, the pipe closes and it takes everything down. */
static void
cluster_hold (Multihost *m)
{
  g_autofree char *script = cluster_script ();
  g_autoptr(GError) error = NULL;
  const char *argv[] = { script, "hold", m->dir, NULL };
  GString *line = g_string_new (NULL);
  int in[2], out[2];
  char c;

  g_unix_open_pipe (in, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  g_unix_open_pipe (out, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  /* No parent-death signal: it must outlive a test that dies, to clean
   * up after it. */
  g_spawn_async_with_pipes_and_fds (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, in[0],
                                    out[1], -1, NULL, NULL, 0, &m->cluster, NULL, NULL, NULL,
                                    &error);
  g_assert_no_error (error);
  close (in[0]);
  close (out[1]);
  m->cluster_stdin = in[1];
  for (;;)
    {
      ssize_t got = read (out[0], &c, 1);

      if (got < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (got, >=, 0);
      if (got == 0 || c == '\n')
        break;
      g_string_append_c (line, c);
    }
  /* Nothing more is read from it; what it says later goes nowhere. */
  close (out[0]);
  if (!g_str_has_prefix (line->str, "uri "))
    g_error ("cluster hold did not set the test bed up (see its messages above)");
  m->uri = g_strdup (line->str + strlen ("uri "));
  g_string_free (line, TRUE);
  g_test_message ("cluster in %s: %s", m->dir, m->uri);
}

static void
multihost_set_up (Multihost *m, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  (void) data;
  m->dir = g_dir_make_tmp ("reserved-multihost-XXXXXX", &error);
  g_assert_no_error (error);
  cluster_hold (m);
  for (guint i = 0; i < N_APPS; i++)
    {
      g_autofree char *host = g_strdup_printf ("app%u", i + 1);
      const char *host_arg[] = { host, NULL };
      g_autofree char *netns = cluster_run (m, "netns", host_arg);
      g_autofree char *config = g_strdup_printf ("[reserved]\nNode=%s\n", host);
      const char *prefix[] = { "ip", "netns", "exec", netns, NULL };

      /* In the cluster's folder, which `cluster hold` removes even when
       * the test dies; unless asked to keep them, to read their logs. */
      m->daemons[i] = g_strcmp0 (g_getenv ("RESERVED_TEST_KEEP_TMPDIR"), "1") == 0
                        ? reserved_test_daemon_new ()
                        : reserved_test_daemon_new_in (m->dir);
      reserved_test_daemon_set_database (m->daemons[i], m->uri);
      reserved_test_daemon_write_config (m->daemons[i], config);
      reserved_test_daemon_set_prefix (m->daemons[i], prefix);
    }
  /* Once all buses are there (making one sets the environment, which must
   * be done before a connection starts GDBus's thread); one after the
   * other: the first makes the schema. */
  for (guint i = 0; i < N_APPS; i++)
    reserved_test_admin_start (&m->admins[i], m->daemons[i]);
}

static void
multihost_tear_down (Multihost *m, gconstpointer data)
{
  int status = 0;

  (void) data;
  for (guint i = 0; i < N_APPS; i++)
    {
      reserved_test_finish (m->daemons[i], &m->admins[i].connection, &m->admins[i].client);
      g_clear_pointer (&m->daemons[i], reserved_test_daemon_free);
    }
  close (m->cluster_stdin);
  g_assert_cmpint (waitpid (m->cluster, &status, 0), ==, m->cluster);
  g_spawn_close_pid (m->cluster);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  /* `cluster hold` removed it with all it held. */
  g_assert_false (g_file_test (m->dir, G_FILE_TEST_EXISTS));
  g_free (m->dir);
  g_free (m->uri);
}

static const char *
address (Multihost *m, guint app)
{
  return reserved_test_daemon_get_address (m->daemons[app]);
}

/* --- what the buyers said ------------------------------------------------ */

/* How many lines of @text start with @word and a space. */
static guint
count_lines (const char *text, const char *word)
{
  g_autofree char *at_start = g_strdup_printf ("%s ", word);
  g_autofree char *in_middle = g_strdup_printf ("\n%s ", word);

  return (g_str_has_prefix (text, at_start) ? 1 : 0) +
         reserved_test_count_occurrences (text, in_middle);
}

/* What each daemon logged, for a failure's message. (transfer full) */
static char *
daemon_logs (Multihost *m)
{
  GString *logs = g_string_new (NULL);

  for (guint i = 0; i < N_APPS; i++)
    {
      ReservedTestProcess *daemon = reserved_test_daemon_get_process (m->daemons[i]);
      g_autofree char *log =
        daemon != NULL ? reserved_test_process_get_log (daemon) : g_strdup ("(not running)");

      g_string_append_printf (logs, "--- app%u's reserved:\n%s\n", i + 1, log);
    }
  return g_string_free (logs, FALSE);
}

/* Whether a daemon the harness runs has exited. */
static gboolean
daemon_died (Multihost *m)
{
  for (guint i = 0; i < N_APPS; i++)
    {
      ReservedTestProcess *daemon = reserved_test_daemon_get_process (m->daemons[i]);

      if (daemon != NULL && reserved_test_process_has_exited (daemon))
        return TRUE;
    }
  return FALSE;
}

/* Waits (bounded) until @buyers have printed @n lines "ack ...", reading
 * their pipe as it fills; fails at once if they all exited before. */
static void
wait_for_acks (Multihost *m, ReservedTestBuyers *buyers, guint n)
{
  gint64 deadline = failover_deadline ();

  for (;;)
    {
      struct pollfd pfd = { buyers->out, POLLIN, 0 };
      gint64 left = deadline - g_get_monotonic_time ();
      gboolean all_gone = FALSE;

      reserved_test_buyers_drain (buyers);
      if (count_lines (buyers->text->str, "ack") >= n)
        return;
      if (left > 0)
        {
          /* Woken by what they print, or after a while to see whether a
           * daemon died under them. */
          poll (&pfd, 1, (int) MIN (left / 1000 + 1, 100));
          /* Every buyer closed its end: nothing more will come. */
          all_gone = (pfd.revents & POLLHUP) != 0 && (pfd.revents & POLLIN) == 0;
        }
      if (left <= 0 || all_gone || daemon_died (m))
        {
          g_autofree char *logs = daemon_logs (m);

          g_error ("the %s buyers were not acknowledged %u purchases (%s); they said:\n%s\n%s",
                   buyers->role, n,
                   all_gone    ? "they all exited"
                   : left <= 0 ? "in time"
                               : "a daemon died",
                   buyers->text->str, logs);
        }
    }
}

/* The purchases the stock buyers were acknowledged, over all rounds. */
typedef struct {
  GHashTable *owners; /* order id -> buyer + 1 */
  guint n_acked[N_APPS * N_STOCK_BUYERS];
  /* n_acked when the running crowd started, whose purchases count from 0 */
  guint n_before[N_APPS * N_STOCK_BUYERS];
  guint total;
  guint failures;     /* StorageFailure answers */
  guint retries;      /* calls without an answer (no reply, no daemon) */
  GPtrArray *replays; /* "APP USER ORDER REQUEST_ID" of the last batch */
} Acks;

static void
acks_init (Acks *acks)
{
  *acks = (Acks){ 0 };
  acks->owners = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  acks->replays = g_ptr_array_new_with_free_func (g_free);
}

static void
acks_clear (Acks *acks)
{
  g_clear_pointer (&acks->owners, g_hash_table_unref);
  g_clear_pointer (&acks->replays, g_ptr_array_unref);
}

/* Reads the lines of a stock buyer: "ack BUYER NUMBER ORDER REQUEST_ID"
 * for each acknowledged purchase, in order, and at its end "counts BUYER
 * FAILURES RETRIES". Purchases are acknowledged in order, each once, and
 * no two share an order. */
static void
acks_read (Acks *acks, const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint l = 0; lines[l] != NULL; l++)
    {
      g_auto(GStrv) words = g_strsplit (lines[l], " ", -1);
      guint64 buyer = 0, number = 0, order = 0, failures = 0, retries = 0;

      if (*lines[l] == '\0')
        continue;
      if (g_str_equal (words[0], "counts"))
        {
          g_assert_cmpuint (g_strv_length (words), ==, 4);
          g_assert_true (g_ascii_string_to_unsigned (words[2], 10, 0, G_MAXUINT, &failures, NULL));
          g_assert_true (g_ascii_string_to_unsigned (words[3], 10, 0, G_MAXUINT, &retries, NULL));
          acks->failures += (guint) failures;
          acks->retries += (guint) retries;
          continue;
        }
      g_assert_cmpuint (g_strv_length (words), ==, 5);
      g_assert_cmpstr (words[0], ==, "ack");
      g_assert_true (g_ascii_string_to_unsigned (words[1], 10, 0, G_N_ELEMENTS (acks->n_acked) - 1,
                                                 &buyer, NULL));
      g_assert_true (g_ascii_string_to_unsigned (words[2], 10, 0, G_MAXUINT32, &number, NULL));
      g_assert_true (g_ascii_string_to_unsigned (words[3], 10, 1, G_MAXUINT64, &order, NULL));
      g_assert_cmpuint (number, ==, acks->n_acked[buyer] - acks->n_before[buyer]);
      acks->n_acked[buyer]++;
      if (g_hash_table_contains (acks->owners, &order))
        g_error ("order %" G_GUINT64_FORMAT " was acknowledged for two purchases", order);
      g_hash_table_insert (acks->owners, g_memdup2 (&order, sizeof order),
                           GUINT_TO_POINTER (buyer + 1));
      /* Buyers 0 to N_STOCK_BUYERS - 1 buy through app1, the others app2. */
      g_ptr_array_add (acks->replays,
                       g_strdup_printf ("%u buyer%s %s %s", (guint) (buyer / N_STOCK_BUYERS),
                                        words[1], words[3], words[4]));
      acks->total++;
    }
}

/* A new crowd of buyers starts, numbering its purchases from 0. */
static void
acks_start_crowd (Acks *acks)
{
  memcpy (acks->n_before, acks->n_acked, sizeof acks->n_acked);
}

/* Through every daemon: the database holds exactly the acknowledged
 * orders, none lost and none extra, and the stock is down by as many. */
static void
assert_acknowledged (Multihost *m, Acks *acks)
{
  for (guint i = 0; i < N_APPS; i++)
    {
      ReservedTestClient *client = &m->admins[i].client;
      g_autoptr(GArray) orders =
                   reserved_test_list_acknowledged (client, G_N_ELEMENTS (acks->n_acked),
                                                    acks->n_acked, acks->owners);

      for (guint j = 0; j < orders->len; j++)
        {
          g_assert_true (g_array_index (orders, ReservedTestOrder, j).active);
          g_assert_cmpstr (g_array_index (orders, ReservedTestOrder, j).item, ==, "stock");
        }
      g_assert_cmpuint (reserved_test_get_item (client, "stock").remaining, ==,
                        STOCK_UNITS - acks->total);
    }
}

/* Each acknowledged purchase of the last batch, retried with its
 * request_id through the daemon that acknowledged it, answers with its
 * order, replayed. (Request ids are kept per node and uid: through the
 * other daemon the same id is another caller's.) */
static void
assert_replayed (Multihost *m, Acks *acks)
{
  for (guint r = 0; r < acks->replays->len; r++)
    {
      g_auto(GStrv) words = g_strsplit (acks->replays->pdata[r], " ", 4);
      ReservedTestClient *client = &m->admins[g_ascii_strtoull (words[0], NULL, 10)].client;
      g_autoptr(GVariant) details = NULL;
      g_autoptr(GError) error = NULL;
      guint64 order = 0;
      gboolean replayed = FALSE;

      reserve_reserve1_call_buy_with_details_sync (client->proxy, "stock", words[1], 1,
                                                   reserved_test_options (words[3]),
                                                   G_DBUS_CALL_FLAGS_NONE, -1, &details, NULL,
                                                   &error);
      g_assert_no_error (error);
      g_assert_true (g_variant_lookup (details, "order", "t", &order));
      g_assert_true (g_variant_lookup (details, "replayed", "b", &replayed));
      g_assert_cmpuint (order, ==, g_ascii_strtoull (words[2], NULL, 10));
      g_assert_true (replayed);
    }
  g_ptr_array_set_size (acks->replays, 0);
}

/* One crowd of stock buyers on each daemon, started together. */
static void
spawn_stock_buyers (Multihost *m, ReservedTestBuyers *buyers)
{
  for (guint i = 0; i < N_APPS; i++)
    reserved_test_buyers_spawn_held (&buyers[i], N_STOCK_BUYERS,
                                     i == 0 ? "stock-buyer-1" : "stock-buyer-2", address (m, i),
                                     NULL, TRUE);
  for (guint i = 0; i < N_APPS; i++)
    reserved_test_buyers_release (&buyers[i]);
}

static guint
acks_so_far (ReservedTestBuyers *buyers)
{
  reserved_test_buyers_drain (buyers);
  return count_lines (buyers->text->str, "ack");
}

/* --- the cases ------------------------------------------------------------ */

/* 64 buyers, half on each daemon, one unit each of an item of
 * HOT_UNITS: exactly HOT_UNITS are sold, the others told SoldOut, and
 * both daemons see the same orders and the item sold out. */
static void
test_hot_item (Multihost *m, gconstpointer data)
{
  ReservedTestBuyers buyers[N_APPS];
  g_autoptr(GHashTable) sold = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  guint n_sold = 0, n_sold_out = 0;

  (void) data;
  reserved_test_create_item (&m->admins[0].client, "hot", HOT_UNITS, 0);
  for (guint i = 0; i < N_APPS; i++)
    reserved_test_buyers_spawn_held (&buyers[i], N_HOT_BUYERS / N_APPS, "hot-buyer", address (m, i),
                                     NULL, FALSE);
  for (guint i = 0; i < N_APPS; i++)
    reserved_test_buyers_release (&buyers[i]);
  for (guint i = 0; i < N_APPS; i++)
    {
      g_autofree char *text = reserved_test_buyers_finish (&buyers[i]);
      g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
      guint here = 0;

      for (guint l = 0; lines[l] != NULL; l++)
        {
          guint64 order = 0;

          if (*lines[l] == '\0')
            continue;
          if (g_str_equal (lines[l], "soldout"))
            {
              n_sold_out++;
              continue;
            }
          g_assert_true (g_str_has_prefix (lines[l], "sold "));
          g_assert_true (
            g_ascii_string_to_unsigned (lines[l] + 5, 10, 1, G_MAXUINT64, &order, NULL));
          if (g_hash_table_contains (sold, &order))
            g_error ("order %" G_GUINT64_FORMAT " was sold twice", order);
          g_hash_table_add (sold, g_memdup2 (&order, sizeof order));
          here++;
        }
      g_test_message ("app%u sold %u", i + 1, here);
      n_sold += here;
    }
  g_assert_cmpuint (n_sold, ==, HOT_UNITS);
  g_assert_cmpuint (n_sold_out, ==, N_HOT_BUYERS - HOT_UNITS);
  for (guint i = 0; i < N_APPS; i++)
    {
      ReservedTestItem item = reserved_test_get_item (&m->admins[i].client, "hot");
      g_autoptr(GArray) orders = reserved_test_list_orders (&m->admins[i].client, "");
      guint32 units = 0;

      g_assert_cmpuint (item.remaining, ==, 0);
      g_assert_cmpuint (item.sold, ==, HOT_UNITS);
      for (guint j = 0; j < orders->len; j++)
        {
          ReservedTestOrder *order = &g_array_index (orders, ReservedTestOrder, j);

          if (!g_str_equal (order->item, "hot"))
            continue;
          g_assert_true (order->active);
          g_assert_true (g_hash_table_contains (sold, &order->id));
          units += order->quantity;
        }
      g_assert_cmpuint (units, ==, item.capacity - item.remaining);
    }
}

/* One customer buying through both daemons at once keeps the per-user
 * limit: of 4 + 4 purchases in flight together, 3 succeed. */
static void
test_per_user_limit (Multihost *m, gconstpointer data)
{
  enum { PER_DAEMON = 4, LIMIT = 3 };
  ReservedTestReply replies[N_APPS * PER_DAEMON] = { 0 };
  guint succeeded = 0;

  (void) data;
  reserved_test_create_item (&m->admins[0].client, "limited", 100, LIMIT);
  for (guint r = 0; r < G_N_ELEMENTS (replies); r++)
    g_dbus_proxy_call (G_DBUS_PROXY (m->admins[r % N_APPS].client.proxy), "Buy",
                       reserved_test_buy_args ("limited", "carol", 1, NULL), G_DBUS_CALL_FLAGS_NONE,
                       -1, NULL, reserved_test_reply_ready, &replies[r]);
  for (guint r = 0; r < G_N_ELEMENTS (replies); r++)
    {
      reserved_test_reply_wait (&replies[r]);
      if (replies[r].reply != NULL)
        succeeded++;
      else
        reserved_test_assert_api_error (replies[r].error, RESERVE_ERROR_LIMIT_EXCEEDED);
      reserved_test_reply_clear (&replies[r]);
    }
  g_assert_cmpuint (succeeded, ==, LIMIT);
  for (guint i = 0; i < N_APPS; i++)
    {
      g_autoptr(GArray) orders = reserved_test_list_orders (&m->admins[i].client, "carol");

      g_assert_cmpuint (orders->len, ==, LIMIT);
      g_assert_cmpuint (reserved_test_get_item (&m->admins[i].client, "limited").remaining, ==,
                        100 - LIMIT);
      reserved_test_buy_refused (&m->admins[i].client, "limited", "carol", 1, NULL,
                                 RESERVE_ERROR_LIMIT_EXCEEDED);
    }
}

/* Rounds of: buyers on both daemons; kill -9 of the primary while they
 * buy; the standby promoted; a new standby made; the buyers going on
 * through the new primary. Every acknowledged order is there, through
 * either daemon, and its request_id replays it. */
static void
test_failover (Multihost *m, gconstpointer data)
{
  guint rounds = reserved_test_env_uint ("RESERVED_TEST_FAILOVER_ROUNDS", 20, 1000);
  Acks acks;

  (void) data;
  acks_init (&acks);
  reserved_test_create_item (&m->admins[0].client, "stock", STOCK_UNITS, 0);
  for (guint round = 1; round <= rounds; round++)
    {
      ReservedTestBuyers buyers[N_APPS];
      guint before_kill = acks.total, failures = acks.failures, retries = acks.retries;
      guint at_kill[N_APPS];

      acks_start_crowd (&acks);
      spawn_stock_buyers (m, buyers);
      for (guint i = 0; i < N_APPS; i++)
        wait_for_acks (m, &buyers[i], ACKS_PER_PHASE);
      cluster_do (m, "kill-primary");
      for (guint i = 0; i < N_APPS; i++)
        at_kill[i] = acks_so_far (&buyers[i]);
      cluster_do (m, "promote");
      cluster_do (m, "rebuild-standby");
      /* The buyers go on, through the new primary, on both daemons. */
      for (guint i = 0; i < N_APPS; i++)
        wait_for_acks (m, &buyers[i], at_kill[i] + ACKS_PER_PHASE);
      for (guint i = 0; i < N_APPS; i++)
        {
          g_autofree char *text = reserved_test_buyers_finish (&buyers[i]);

          acks_read (&acks, text);
        }
      g_test_message (
        "round %u: %u purchases acknowledged (%u before the kill), %u StorageFailure, "
        "%u calls unanswered and retried",
        round, acks.total - before_kill, at_kill[0] + at_kill[1], acks.failures - failures,
        acks.retries - retries);
      assert_acknowledged (m, &acks);
      assert_replayed (m, &acks);
    }
  acks_clear (&acks);
}

/* A Buy gets no answer while the standby is cut off (its commit waits in
 * SyncRep on the primary), and completes once the standby is back. */
static void
test_standby_cut_off (Multihost *m, gconstpointer data)
{
  ReservedTestReply reply = { 0 };
  gint64 deadline = g_get_monotonic_time () + reserved_test_timeout_seconds () * G_USEC_PER_SEC;
  guint64 order = 0;

  (void) data;
  reserved_test_create_item (&m->admins[0].client, "cut", 10, 0);
  cluster_do (m, "cut-standby");
  g_dbus_proxy_call (G_DBUS_PROXY (m->admins[0].client.proxy), "Buy",
                     reserved_test_buy_args ("cut", "dave", 1, "cut-1"), G_DBUS_CALL_FLAGS_NONE,
                     (int) reserved_test_timeout_seconds () * 3000, NULL, reserved_test_reply_ready,
                     &reply);
  for (;;)
    {
      g_autofree char *waiting =
        cluster_psql (m, "primary",
                      "select count(*) from pg_stat_activity where wait_event = 'SyncRep'");

      while (g_main_context_iteration (NULL, FALSE))
        ;
      if (!g_str_equal (waiting, "0"))
        break;
      g_assert_false (reply.done);
      if (g_get_monotonic_time () > deadline)
        g_error ("no commit on the primary waited for the cut-off standby within %u s",
                 reserved_test_timeout_seconds ());
    }
  /* The commit waits for the standby: the buyer has no answer. */
  g_assert_false (reply.done);
  cluster_do (m, "heal-standby");
  reserved_test_reply_wait (&reply);
  order = reserved_test_bought (reply.reply, NULL);
  reserved_test_reply_clear (&reply);
  for (guint i = 0; i < N_APPS; i++)
    {
      g_autoptr(GArray) orders = reserved_test_list_orders (&m->admins[i].client, "dave");

      g_assert_cmpuint (orders->len, ==, 1);
      g_assert_cmpuint (g_array_index (orders, ReservedTestOrder, 0).id, ==, order);
      g_assert_cmpuint (reserved_test_get_item (&m->admins[i].client, "cut").remaining, ==, 9);
    }
}

/* kill -9 of one daemon while both sell: the other keeps selling, what
 * the killed one acknowledged is there, and once it is back, its buyers'
 * retries find their purchases. */
static void
test_daemon_killed (Multihost *m, gconstpointer data)
{
  ReservedTestBuyers buyers[N_APPS];
  Acks acks;
  guint at_kill;

  (void) data;
  acks_init (&acks);
  reserved_test_create_item (&m->admins[0].client, "stock", STOCK_UNITS, 0);
  spawn_stock_buyers (m, buyers);
  for (guint i = 0; i < N_APPS; i++)
    wait_for_acks (m, &buyers[i], ACKS_PER_PHASE);
  /* The test holds no connection to a daemon that goes. */
  reserved_test_admin_close (&m->admins[0]);
  reserved_test_daemon_kill (m->daemons[0]);
  at_kill = acks_so_far (&buyers[1]);
  wait_for_acks (m, &buyers[1], at_kill + ACKS_PER_PHASE);

  /* What app1 acknowledged before it died, seen through app2. */
  {
    Acks killed;

    acks_init (&killed);
    reserved_test_buyers_drain (&buyers[0]);
    acks_read (&killed, buyers[0].text->str);
    g_assert_cmpuint (killed.total, >=, ACKS_PER_PHASE);
    for (guint b = 0; b < N_STOCK_BUYERS; b++)
      {
        g_autofree char *user = g_strdup_printf ("buyer%u", b);
        g_autoptr(GArray) orders = reserved_test_list_orders (&m->admins[1].client, user);
        guint found = 0;

        for (guint j = 0; j < orders->len; j++)
          if (g_hash_table_contains (killed.owners,
                                     &g_array_index (orders, ReservedTestOrder, j).id))
            found++;
        g_assert_cmpuint (found, ==, killed.n_acked[b]);
      }
    acks_clear (&killed);
  }

  reserved_test_admin_start (&m->admins[0], m->daemons[0]);
  for (guint i = 0; i < N_APPS; i++)
    {
      g_autofree char *text = reserved_test_buyers_finish (&buyers[i]);

      acks_read (&acks, text);
    }
  g_test_message ("%u purchases acknowledged, %u calls unanswered and retried", acks.total,
                  acks.retries);
  /* The database never went away: a daemon dying is no storage failure
   * for the other. */
  g_assert_cmpuint (acks.failures, ==, 0);
  assert_acknowledged (m, &acks);
  assert_replayed (m, &acks);
  acks_clear (&acks);
}

/* --- the buyers --------------------------------------------------------- */

static gboolean
told_to_stop (void)
{
  struct pollfd pfd = { 3, POLLIN, 0 };

  /* The parent closes the other end: POLLHUP. */
  return poll (&pfd, 1, 0) > 0;
}

static GVariant *
call_buy (GDBusConnection *connection,
          const char *item,
          const char *user,
          const char *request_id,
          GError **error)
{
  /* A plain call to the well-known name, not a proxy, which would keep
   * calling a killed daemon's unique name after it is back. */
  return g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                      RESERVE_INTERFACE, "Buy",
                                      reserved_test_buy_args (item, user, 1, request_id),
                                      G_VARIANT_TYPE ("(tu)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                      (int) reserved_test_timeout_seconds () * 1000, NULL, error);
}

/* hot-buyer ADDRESS INDEX: one unit of "hot"; says "sold ORDER" or
 * "soldout". */
static int
hot_buyer (char **args)
{
  g_autoptr(GDBusConnection) connection = reserved_test_connect (args[0]);
  g_autofree char *user = g_strdup_printf ("hot%d", (int) getpid ());
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  ReserveError code;

  /* The barrier: its end, once all buyers run. */
  g_free (reserved_test_read_all (STDIN_FILENO));
  reply = call_buy (connection, "hot", user, NULL, &error);

  if (reply != NULL)
    {
      guint64 order = 0;

      g_variant_get (reply, "(tu)", &order, NULL);
      reserved_test_helper_say ("sold %" G_GUINT64_FORMAT "\n", order);
    }
  else if (reserve_error_get_code (error, &code) && code == RESERVE_ERROR_SOLD_OUT)
    reserved_test_helper_say ("soldout\n");
  else
    {
      g_printerr ("hot buyer %s: %s\n", args[1], error->message);
      return 1;
    }
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return 0;
}

/* A stock buyer: buys one unit of "stock" at a time as buyerN (N: its
 * index plus @first), each purchase with a request_id of its own, which it
 * retries until answered: after StorageFailure (the database failing
 * over) and after no answer (no reply, no daemon). */
static int
stock_buyer (char **args, guint first)
{
  g_autoptr(GDBusConnection) connection = reserved_test_connect (args[0]);
  g_autofree char *barrier = NULL;
  guint64 index = reserved_test_helper_uint (args[1], 0, N_STOCK_BUYERS - 1) + first;
  g_autofree char *user = g_strdup_printf ("buyer%" G_GUINT64_FORMAT, index);
  /* Request ids of its own, whichever round it buys in. */
  g_autofree char *prefix = g_uuid_string_random ();
  guint failures = 0, retries = 0;

  barrier = reserved_test_read_all (STDIN_FILENO);
  for (guint number = 0; !told_to_stop (); number++)
    {
      g_autofree char *request_id = g_strdup_printf ("%s-%u", prefix, number);
      gint64 deadline = failover_deadline ();

      for (;;)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GVariant) reply = call_buy (connection, "stock", user, request_id, &error);
          ReserveError code;

          if (reply != NULL)
            {
              guint64 order = 0;

              g_variant_get (reply, "(tu)", &order, NULL);
              reserved_test_helper_say ("ack %" G_GUINT64_FORMAT " %u %" G_GUINT64_FORMAT " %s\n",
                                        index, number, order, request_id);
              break;
            }
          if (reserve_error_get_code (error, &code))
            {
              if (code != RESERVE_ERROR_STORAGE_FAILURE)
                {
                  g_printerr ("buyer %" G_GUINT64_FORMAT ": %s\n", index, error->message);
                  return 1;
                }
              failures++;
            }
          else
            retries++;
          if (g_get_monotonic_time () > deadline)
            {
              g_printerr ("buyer %" G_GUINT64_FORMAT ": gave up on %s: %s\n", index, request_id,
                          error->message);
              return 1;
            }
          /* A client's pause before it tries again, not a wait for
           * anything: a daemon that is gone answers at once. */
          g_usleep (10 * 1000);
        }
    }
  reserved_test_helper_say ("counts %" G_GUINT64_FORMAT " %u %u\n", index, failures, retries);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return 0;
}

static int
stock_buyer_1 (char **args)
{
  return stock_buyer (args, 0);
}

static int
stock_buyer_2 (char **args)
{
  return stock_buyer (args, N_STOCK_BUYERS);
}

/* Each: ADDRESS INDEX. */
static const ReservedTestHelper helpers[] = {
  { "hot-buyer", 2, hot_buyer },
  { "stock-buyer-1", 2, stock_buyer_1 },
  { "stock-buyer-2", 2, stock_buyer_2 },
  { NULL },
};

#define ADD(path, test) \
  g_test_add (path, Multihost, NULL, multihost_set_up, test, multihost_tear_down)

static void
add_cases (void)
{
  ADD ("/multihost/hot-item", test_hot_item);
  ADD ("/multihost/per-user-limit", test_per_user_limit);
  ADD ("/multihost/failover", test_failover);
  ADD ("/multihost/standby-cut-off", test_standby_cut_off);
  ADD ("/multihost/daemon-killed", test_daemon_killed);
}

RESERVED_TEST_MAIN (add_cases, helpers)
