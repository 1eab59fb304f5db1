/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The machine misbehaves around the daemon; each case ends with the law
 * checked, PRAGMA integrity_check = ok on the file, and every acknowledged
 * order present and in the state the test left it.
 *
 * /faults/kill-loop: 8 buyer processes buy (and now and then cancel)
 *   without pause while the daemon is killed with SIGKILL and restarted at
 *   random moments, RESERVED_TEST_KILLS times (default 200). A third of the
 *   purchases go through a hold (Hold with a request_id, then Confirm), and
 *   now and then a hold is made and released. A buyer retries a call that
 *   got no answer with the same request_id until it is answered. No
 *   purchase may happen twice (one order per request_id, one hold per
 *   request_id), none acknowledged may be lost, no cancellation or release
 *   acknowledged may be undone, and no hold is left at the end.
 * /faults/disk-full/...: the database on a 768 KiB tmpfs in a private mount
 *   namespace, filled up by another file until the log cannot grow.
 *   Purchases, cancellations, restocks and new items are refused with
 *   StorageFailure naming the file and the cause, reads go on, nothing is
 *   half-written, and once the filler is deleted purchases succeed again
 *   without a restart (/faults/disk-full/no-restart). And stopped and
 *   started on a full disk (/faults/disk-full/restart): the stop loses
 *   nothing, the start serves or says why it cannot.
 * /faults/lock/shorter, /faults/lock/longer: another process holds the
 *   database's write lock for less than the daemon's default busy timeout
 *   (2 s: purchases wait, then succeed) and for longer than a BusyTimeout
 *   of 2 s (they fail with StorageFailure in bounded time); reads are
 *   answered meanwhile. /faults/lock/configured: a lock held longer than
 *   the default, but shorter than the configured BusyTimeout, is waited
 *   for: purchases succeed.
 * /faults/read-only/folder: the database file is writable, its folder is
 *   not (the daemon runs as uid 65534): a start-up error naming the path
 *   and the cause. /faults/read-only/mount: the folder is a read-only bind
 *   mount (as root, in a private mount namespace).
 *
 * Knobs (environment):
 *   RESERVED_TEST_SEED=N     replay a run (each case prints its seed)
 *   RESERVED_TEST_KILLS=N    kills in /faults/kill-loop (default 200;
 *                            1000 take about three minutes)
 *
 * Needs root: mount namespaces and another uid. */
#define _GNU_SOURCE /* unshare */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "reserved-test-buyers.h"
#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fault.h"
#include "reserved-test-files.h"
#include "reserved-test-main.h"
#include "reserved-test-reply.h"
#include "reserved-test-sqlite.h"

#define ITEM     "ticket" /* the default item */
#define CAPACITY 1000000000u
#define N_BUYERS 8

static void
write_capacity_config (ReservedTestDaemon *daemon)
{
  g_autofree char *config = g_strdup_printf ("[reserved]\nInitialCapacity=%u\n", CAPACITY);

  reserved_test_daemon_write_config (daemon, config);
}

static gboolean
has_code (const GError *error, ReserveError expected)
{
  ReserveError code;

  return reserve_error_get_code (error, &code) && code == expected;
}

/* Every order of @expected is in the file, in its state, and the daemon
 * serves the law; checked on the file first, then by a fresh daemon. */
static void
check_file_and_daemon (ReservedTestDaemon *daemon, GHashTable *expected, const char *what)
{
  g_autoptr(GHashTable) in_file =
               reserved_test_fault_check_file (reserved_test_daemon_get_database (daemon));
  ReservedTestAdmin c = { 0 };

  reserved_test_fault_assert_orders (in_file, expected, what);
  reserved_test_admin_open (&c, daemon);
  reserved_test_assert_law (&c.client);
  reserved_test_admin_close (&c);
}

/* --- kill -9 in a loop ---------------------------------------------------------- */

static gboolean
told_to_stop (void)
{
  struct pollfd pfd = { 3, POLLIN, 0 };

  /* The test closes the other end: POLLHUP. */
  return poll (&pfd, 1, 0) > 0;
}

/* Calls until the daemon answers, whatever the kills in between: a call
 * with no answer (the daemon died under it) or no daemon to take it is
 * sent again, the same. Returns the reply, or NULL with the daemon's
 * refusal in @error; *retried says whether it had to be sent again. */
static GVariant *
call_until_answered (GDBusConnection *connection,
                     const char *method,
                     GVariant *parameters,
                     const char *reply_type,
                     gboolean *retried,
                     guint *retries,
                     GError **error)
{
  guint timeout_ms = reserved_test_timeout_seconds () * 1000;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 4 * 1000;
  g_autoptr(GVariant) sunk = g_variant_ref_sink (parameters);

  *retried = FALSE;
  for (;;)
    {
      g_autoptr(GError) local = NULL;
      GVariant *reply;
      ReserveError code;

      reply =
        g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                     RESERVE_INTERFACE, method, sunk, G_VARIANT_TYPE (reply_type),
                                     G_DBUS_CALL_FLAGS_NO_AUTO_START, (int) timeout_ms, NULL,
                                     &local);
      if (reply != NULL)
        return reply;
      if (reserve_error_get_code (local, &code))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      if (g_get_monotonic_time () > deadline)
        g_error ("%s: no answer for %u s: %s", method, timeout_ms * 4 / 1000, local->message);
      *retried = TRUE;
      (*retries)++;
      g_usleep (5 * 1000);
    }
}

/* A purchase through a hold: Hold, retried with its request_id until
 * answered (a retry gives the same hold), then Confirm, retried until
 * answered (confirming again gives the same order). */
static GVariant *
buy_through_hold (GDBusConnection *connection,
                  const char *user,
                  guint32 quantity,
                  const char *request_id,
                  gboolean *retried,
                  guint *retries,
                  GError **error)
{
  g_autoptr(GVariant) held = NULL;
  guint64 hold = 0;

  held = call_until_answered (
    connection, "Hold",
    g_variant_new ("(ssu@a{sv})", ITEM, user, quantity,
                   g_variant_new_parsed ("{'ttl': <uint32 3600>, 'request_id': <%s>}", request_id)),
    "(txu)", retried, retries, error);
  if (held == NULL)
    return NULL;
  g_variant_get (held, "(txu)", &hold, NULL, NULL);
  return call_until_answered (connection, "Confirm",
                              g_variant_new ("(t@a{sv})", hold, g_variant_new ("a{sv}", NULL)),
                              "(tu)", retried, retries, error);
}

/* A hold made and released: a retried Release of a hold already released
 * is told HoldEnded. Returns the hold, 0 on a refusal. */
static guint64
hold_and_release (GDBusConnection *connection,
                  const char *user,
                  const char *request_id,
                  guint *retries,
                  GError **error)
{
  g_autoptr(GVariant) held = NULL;
  g_autoptr(GVariant) released = NULL;
  gboolean retried = FALSE;
  guint64 hold = 0;

  held = call_until_answered (
    connection, "Hold",
    g_variant_new ("(ssu@a{sv})", ITEM, user, 1,
                   g_variant_new_parsed ("{'ttl': <uint32 3600>, 'request_id': <%s>}", request_id)),
    "(txu)", &retried, retries, error);
  if (held == NULL)
    return 0;
  g_variant_get (held, "(txu)", &hold, NULL, NULL);
  released = call_until_answered (connection, "Release", g_variant_new ("(t)", hold), "(u)",
                                  &retried, retries, error);
  if (released == NULL && !(retried && has_code (*error, RESERVE_ERROR_HOLD_ENDED)))
    return 0;
  g_clear_error (error);
  return hold;
}

/* A buyer: buys one or two units at a time, each purchase with its own
 * request_id, a third of them through a hold, releases a hold now and
 * then, and cancels every fifth order it got. Prints
 * "ack BUYER NUMBER ORDER", "cancel BUYER ORDER", and at the end
 * "retried BUYER CALLS". */
static int
kill_loop_buyer (char **args)
{
  const char *index_text = args[1];
  const char *seed_text = args[2];
  g_autoptr(GDBusConnection) connection = reserved_test_connect (args[0]);
  g_autoptr(GRand) rand = g_rand_new_with_seed ((guint32) g_ascii_strtoull (seed_text, NULL, 10));
  g_autofree char *user = g_strdup_printf ("buyer%s", index_text);
  guint retries = 0;

  /* Every buyer starts when the test closes the pipe. */
  g_free (reserved_test_read_all (STDIN_FILENO));

  for (guint number = 0; !told_to_stop (); number++)
    {
      g_autofree char *request_id = g_strdup_printf ("buyer%s-%u", index_text, number);
      guint32 quantity = g_rand_int_range (rand, 0, 4) == 0 ? 2 : 1;
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;
      gboolean retried = FALSE;
      guint64 order = 0;

      if (number % 7 == 3)
        {
          g_autofree char *release_id = g_strdup_printf ("buyer%s-%u-released", index_text, number);
          guint64 hold = hold_and_release (connection, user, release_id, &retries, &error);

          if (hold == 0)
            {
              g_printerr ("buyer %s: %s refused: %s\n", index_text, release_id, error->message);
              return 1;
            }
        }
      if (number % 3 == 1)
        reply =
          buy_through_hold (connection, user, quantity, request_id, &retried, &retries, &error);
      else
        reply = call_until_answered (connection, "Buy",
                                     g_variant_new ("(ssu@a{sv})", ITEM, user, quantity,
                                                    reserved_test_options (request_id)),
                                     "(tu)", &retried, &retries, &error);
      if (reply == NULL)
        {
          g_printerr ("buyer %s: %s refused: %s\n", index_text, request_id, error->message);
          return 1;
        }
      g_variant_get (reply, "(tu)", &order, NULL);
      reserved_test_helper_say ("ack %s %u %" G_GUINT64_FORMAT " %u\n", index_text, number, order,
                                quantity);

      if (number % 5 == 4)
        {
          g_autoptr(GVariant) cancelled = NULL;

          cancelled = call_until_answered (connection, "Cancel", g_variant_new ("(t)", order),
                                           "(u)", &retried, &retries, &error);
          /* AlreadyCancelled is the answer to a retry of a cancellation
           * that happened, and to nothing else. */
          if (cancelled == NULL && !(retried && has_code (error, RESERVE_ERROR_ALREADY_CANCELLED)))
            {
              g_printerr ("buyer %s: cancelling %" G_GUINT64_FORMAT " refused: %s\n", index_text,
                          order, error->message);
              return 1;
            }
          reserved_test_helper_say ("cancel %s %" G_GUINT64_FORMAT "\n", index_text, order);
        }
    }
  reserved_test_helper_say ("retried %s %u\n", index_text, retries);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return 0;
}

/* kill-loop-buyer ADDRESS INDEX SEED */
static const ReservedTestHelper helpers[] = {
  { "kill-loop-buyer", 3, kill_loop_buyer },
  { NULL },
};

static void
test_kill_loop (void)
{
  g_autoptr(GRand) rand = reserved_test_fault_rand_new ();
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autoptr(GHashTable) expected = reserved_test_fault_orders_new ();
  g_autoptr(GHashTable) owner = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  guint kills = reserved_test_env_uint ("RESERVED_TEST_KILLS", 200, G_MAXUINT);
  g_auto(GStrv) lines = NULL;
  guint n_acked[N_BUYERS] = { 0 };
  guint64 units[N_BUYERS] = { 0 };
  guint64 units_active = 0;
  ReservedTestBuyers buyers;
  guint retries = 0, cancels = 0;
  gint64 started = g_get_monotonic_time ();

  write_capacity_config (daemon);
  reserved_test_daemon_start (daemon);

  /* The buyers must never block on a full pipe while the test kills: it
   * is emptied after every kill. */
  reserved_test_buyers_spawn (&buyers, N_BUYERS, "kill-loop-buyer",
                              reserved_test_daemon_get_address (daemon), rand, TRUE);

  for (guint k = 0; k < kills; k++)
    {
      /* Random moments: over the kills, every point of a purchase (before
       * its commit, between commit and reply, after) is hit. */
      g_usleep ((gulong) g_rand_int_range (rand, 0, 150) * 1000);
      reserved_test_daemon_kill (daemon);
      if (g_rand_int_range (rand, 0, 4) == 0)
        g_usleep ((gulong) g_rand_int_range (rand, 0, 50) * 1000);
      reserved_test_daemon_start (daemon);
      reserved_test_buyers_drain (&buyers);
      if (k % 50 == 49)
        g_test_message ("%u kills after %.0f s", k + 1,
                        (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC);
    }
  g_usleep (100 * 1000);
  /* Each buyer finishes the purchase it is making, then exits; and the
   * daemon is killed once more right after the last answers. */
  lines = reserved_test_buyers_finish_and_kill (&buyers, daemon);
  for (guint l = 0; lines[l] != NULL; l++)
    {
      g_auto(GStrv) words = g_strsplit (lines[l], " ", -1);
      guint64 index = 0, number = 0, order = 0, quantity = 0;

      if (*lines[l] == '\0')
        continue;
      g_assert_true (g_ascii_string_to_unsigned (words[1], 10, 0, N_BUYERS - 1, &index, NULL));
      if (g_str_equal (words[0], "retried"))
        {
          retries += (guint) g_ascii_strtoull (words[2], NULL, 10);
          continue;
        }
      if (g_str_equal (words[0], "cancel"))
        {
          g_assert_true (g_ascii_string_to_unsigned (words[2], 10, 1, G_MAXUINT64, &order, NULL));
          g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (owner, &order)), ==, index + 1);
          reserved_test_fault_orders_set (expected, order, RESERVED_TEST_ORDER_CANCELLED);
          cancels++;
          continue;
        }
      g_assert_cmpstr (words[0], ==, "ack");
      g_assert_true (g_ascii_string_to_unsigned (words[2], 10, 0, G_MAXUINT32, &number, NULL));
      g_assert_true (g_ascii_string_to_unsigned (words[3], 10, 1, G_MAXUINT64, &order, NULL));
      g_assert_true (g_ascii_string_to_unsigned (words[4], 10, 1, 2, &quantity, NULL));
      /* Each purchase acknowledged once, in order, with an order of its own. */
      g_assert_cmpuint (number, ==, n_acked[index]);
      n_acked[index]++;
      if (g_hash_table_contains (owner, &order))
        g_error ("order %" G_GUINT64_FORMAT " was acknowledged for two purchases", order);
      g_hash_table_insert (owner, g_memdup2 (&order, sizeof order), GUINT_TO_POINTER (index + 1));
      reserved_test_fault_orders_set (expected, order, RESERVED_TEST_ORDER_ACTIVE);
      units[index] += quantity;
    }

  {
    ReservedTestAdmin c = { 0 };
    g_autoptr(GArray) orders = NULL;
    guint total = 0;

    reserved_test_admin_open (&c, daemon);
    /* Every purchase was retried until answered, so the database holds
     * exactly the acknowledged ones: none lost, none twice. */
    orders = reserved_test_list_acknowledged (&c.client, N_BUYERS, n_acked, owner);
    for (guint j = 0; j < orders->len; j++)
      {
        ReservedTestOrder *order = &g_array_index (orders, ReservedTestOrder, j);
        int state = GPOINTER_TO_INT (g_hash_table_lookup (expected, &order->id));

        g_assert_cmpint (state, ==,
                         order->active ? RESERVED_TEST_ORDER_ACTIVE
                                       : RESERVED_TEST_ORDER_CANCELLED);
        if (order->active)
          units_active += order->quantity;
      }
    for (guint i = 0; i < N_BUYERS; i++)
      total += n_acked[i];
    g_assert_cmpuint (reserved_test_get_item (&c.client, ITEM).remaining, ==,
                      CAPACITY - units_active);
    /* Every hold was confirmed or released, and none came back. */
    g_assert_cmpuint (reserved_test_get_item (&c.client, ITEM).held, ==, 0);
    reserved_test_admin_close (&c);
    g_test_message ("%u kills in %.0f s: %u purchases and %u cancellations acknowledged, "
                    "%u calls retried after a kill; none lost, none twice",
                    kills + 1, (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC, total,
                    cancels, retries);
    /* The kills really hit buyers in the middle of their calls. */
    g_assert_cmpuint (retries, >, 0);
    g_assert_cmpuint (total, >, kills);
  }
  check_file_and_daemon (daemon, expected, "kill -9 loop");
  reserved_test_daemon_stop (daemon);
}

/* --- disk full ------------------------------------------------------------------ */

/* A private mount namespace for this test process and all it starts from
 * now on (the bus, the daemons), with nothing it mounts seen outside. */
static void
enter_private_mount_namespace (void)
{
  if (unshare (CLONE_NEWNS) != 0)
    g_error ("unshare(CLONE_NEWNS): %s (the faults suite needs root)", g_strerror (errno));
  g_assert_cmpint (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);
}

/* Writes @path until the file system has no room left. */
static void
fill_up (const char *path)
{
  static const char block[4096];
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  gsize chunk = sizeof block;
  guint64 written = 0;

  g_assert_cmpint (fd, >=, 0);
  while (chunk > 0)
    {
      ssize_t n = write (fd, block, chunk);

      if (n > 0)
        written += (guint64) n;
      else if (n < 0 && errno == ENOSPC)
        chunk /= 2;
      else
        g_error ("filling %s: %s", path, g_strerror (errno));
    }
  g_assert_cmpint (close (fd), ==, 0);
  g_test_message ("%s: %" G_GUINT64_FORMAT " bytes, and the disk is full", path, written);
}

/* Every kind of write is refused with StorageFailure naming the file and
 * the cause, and changes nothing a client can see. The disk is filled again
 * before each: after a failed commit the daemon empties its write-ahead log,
 * which gives some room back. */
static void
assert_writes_refused (ReservedTestAdmin *c,
                       const char *path,
                       const char *filler,
                       guint64 active_order)
{
  g_autoptr(GVariant) before = reserved_test_snapshot (&c->client);
  g_autoptr(GArray) orders = NULL;

  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *request_id = g_strdup_printf ("full-%u-%u", g_random_int (), i);
      guint64 order = 0;

      fill_up (filler);
      if (reserved_test_fault_buy (c->connection, "carol", request_id, &order, &error))
        g_error ("a purchase succeeded on a full disk (order %" G_GUINT64_FORMAT ")", order);
      g_test_message ("refused: %s", error->message);
      if (!has_code (error, RESERVE_ERROR_STORAGE_FAILURE))
        g_error ("a purchase on a full disk: expected StorageFailure, got %s", error->message);
      if (strstr (error->message, path) == NULL || strstr (error->message, "full") == NULL)
        g_error ("the refusal should name %s and say the disk is full: %s", path, error->message);
    }
  fill_up (filler);
  reserved_test_cancel_refused (&c->client, active_order, RESERVE_ERROR_STORAGE_FAILURE);
  fill_up (filler);
  reserved_test_restock_refused (&c->client, ITEM, 10, RESERVE_ERROR_STORAGE_FAILURE);
  fill_up (filler);
  reserved_test_create_item_refused (&c->client, "new-item", 10, NULL,
                                     RESERVE_ERROR_STORAGE_FAILURE);
  /* Reads go on, and show that nothing changed. */
  reserved_test_assert_unchanged (&c->client, before);
  reserved_test_get_item (&c->client, ITEM);
  orders = reserved_test_list_orders (&c->client, "alice");
  g_assert_cmpuint (orders->len, >, 0);
  reserved_test_assert_law (&c->client);
}

static guint64
buy_recorded (ReservedTestAdmin *c, GHashTable *expected, const char *user)
{
  guint64 order = reserved_test_buy (&c->client, ITEM, user, 1, NULL, NULL);

  reserved_test_fault_orders_set (expected, order, RESERVED_TEST_ORDER_ACTIVE);
  return order;
}

typedef struct {
  ReservedTestDaemon *daemon;
  GHashTable *expected;
  char *small; /* the tmpfs */
  char *path;  /* the database on it */
  char *filler;
  guint64 order; /* the last one bought, active */
} DiskFull;

/* A 768 KiB tmpfs in a private mount namespace, and the daemon on it with
 * some orders; not full yet. */
static void
disk_full_set_up (DiskFull *d)
{
  ReservedTestAdmin c = { 0 };

  enter_private_mount_namespace ();
  d->daemon = reserved_test_daemon_new ();
  /* Room to restock: the refused restock must be refused for the disk. */
  reserved_test_daemon_write_config (d->daemon, "[reserved]\nInitialCapacity=100000\n");
  d->expected = reserved_test_fault_orders_new ();
  d->small = g_build_filename (reserved_test_daemon_get_tmpdir (d->daemon), "small", NULL);
  d->path = g_build_filename (d->small, "reserved.db", NULL);
  d->filler = g_build_filename (d->small, "filler", NULL);
  g_assert_cmpint (g_mkdir (d->small, 0755), ==, 0);
  if (mount ("tmpfs", d->small, "tmpfs", 0, "size=768k,mode=0755") != 0)
    g_error ("mounting a tmpfs on %s: %s", d->small, g_strerror (errno));
  reserved_test_daemon_set_database (d->daemon, d->path);

  reserved_test_daemon_start (d->daemon);
  reserved_test_admin_open (&c, d->daemon);
  /* Few: the log grows with every commit until its checkpoint at 1000
   * pages, and it must not fill the disk by itself. */
  for (guint i = 0; i < 8; i++)
    d->order = buy_recorded (&c, d->expected, "alice");
  reserved_test_cancel (&c.client, d->order);
  reserved_test_fault_orders_set (d->expected, d->order, RESERVED_TEST_ORDER_CANCELLED);
  d->order = buy_recorded (&c, d->expected, "alice");
  reserved_test_admin_close (&c);
}

static void
disk_full_tear_down (DiskFull *d)
{
  if (reserved_test_daemon_get_process (d->daemon) != NULL)
    reserved_test_daemon_stop (d->daemon);
  g_assert_cmpint (umount2 (d->small, MNT_DETACH), ==, 0);
  reserved_test_daemon_free (d->daemon);
  g_hash_table_unref (d->expected);
  g_free (d->small);
  g_free (d->path);
  g_free (d->filler);
}

static void
test_disk_full (void)
{
  DiskFull d = { 0 };
  ReservedTestAdmin c = { 0 };

  disk_full_set_up (&d);

  /* Full: the next commit needs the log to grow, and it cannot. */
  fill_up (d.filler);
  reserved_test_admin_open (&c, d.daemon);
  assert_writes_refused (&c, d.path, d.filler, d.order);
  reserved_test_admin_close (&c);
  /* Nothing half-written: the file as another process reads it. */
  check_file_and_daemon (d.daemon, d.expected, "disk full");

  /* Room again: the daemon goes on by itself, no restart. */
  g_assert_cmpint (g_unlink (d.filler), ==, 0);
  reserved_test_admin_open (&c, d.daemon);
  for (guint i = 0; i < 5; i++)
    d.order = buy_recorded (&c, d.expected, "bob");
  reserved_test_cancel (&c.client, d.order);
  reserved_test_fault_orders_set (d.expected, d.order, RESERVED_TEST_ORDER_CANCELLED);
  d.order = buy_recorded (&c, d.expected, "bob");
  reserved_test_assert_law (&c.client);

  /* And again. */
  fill_up (d.filler);
  assert_writes_refused (&c, d.path, d.filler, d.order);
  g_assert_cmpint (g_unlink (d.filler), ==, 0);
  buy_recorded (&c, d.expected, "carol");
  reserved_test_admin_close (&c);
  check_file_and_daemon (d.daemon, d.expected, "disk full, then room again");

  disk_full_tear_down (&d);
}

/* Stopped and started again while the disk is full. The stop loses
 * nothing; the start either serves (reads, and StorageFailure for writes)
 * or refuses with a message naming the file and saying the disk is full.
 * Once there is room it starts and holds every order. */
static void
test_disk_full_restart (void)
{
  DiskFull d = { 0 };
  ReservedTestAdmin c = { 0 };
  g_autoptr(ReservedTestProcess) process = NULL;

  disk_full_set_up (&d);
  fill_up (d.filler);
  reserved_test_daemon_stop (d.daemon);
  /* Its checkpoint at exit gave the log's room back: take that too. (No
   * SQLite reader can open the file now, for want of room for its -shm;
   * the orders are checked once there is room again.) */
  fill_up (d.filler);

  process = reserved_test_daemon_spawn (d.daemon, NULL);
  while (reserved_test_daemon_get_owner_pid (d.daemon) != reserved_test_process_get_pid (process) &&
         !reserved_test_process_has_exited (process))
    g_usleep (10 * 1000);
  if (reserved_test_process_has_exited (process))
    {
      int status = reserved_test_process_wait (process);
      g_autofree char *log = reserved_test_process_get_log (process);

      g_test_message ("on a full disk the daemon did not start: %s", log);
      reserved_test_assert_exit_status (status, 1, "reserved on a full disk", log);
      if (strstr (log, d.path) == NULL ||
          (strstr (log, "full") == NULL && strstr (log, "No space left") == NULL))
        g_error ("reserved did not start on a full disk; its message should name %s and say "
                 "the disk is full, but says: %s",
                 d.path, log);
    }
  else
    {
      g_test_message ("on a full disk the daemon started");
      reserved_test_admin_open (&c, d.daemon);
      assert_writes_refused (&c, d.path, d.filler, d.order);
      reserved_test_admin_close (&c);
      kill (reserved_test_process_get_pid (process), SIGTERM);
      reserved_test_assert_exit_status (reserved_test_process_wait (process), 0,
                                        "reserved, stopped with SIGTERM", NULL);
      reserved_test_daemon_wait_name_gone (d.daemon);
    }

  g_assert_cmpint (g_unlink (d.filler), ==, 0);
  reserved_test_daemon_start (d.daemon);
  reserved_test_admin_open (&c, d.daemon);
  buy_recorded (&c, d.expected, "dave");
  reserved_test_admin_close (&c);
  check_file_and_daemon (d.daemon, d.expected, "restarted on a full disk, then room again");

  disk_full_tear_down (&d);
}

/* --- a lock held by another process ---------------------------------------------- */

/* A purchase sent while the lock is held: when it was sent, and its
 * answer. */
typedef struct {
  gint64 sent;
  ReservedTestReply answer;
} Timed;

/* Runs the main loop for @ms milliseconds. */
static void
run_for (guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* In run_lock(): no BusyTimeout in the configuration, the default. */
#define DEFAULT_BUSY_TIMEOUT (-1)

/* Another process holds the write lock for @hold_ms while 8 purchases are
 * sent to a daemon configured with @busy_timeout_ms (or
 * DEFAULT_BUSY_TIMEOUT); a GetItem during the lock must be answered at
 * once. */
static void
run_lock (guint hold_ms, int busy_timeout_ms, gboolean expect_success)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autoptr(GHashTable) expected = reserved_test_fault_orders_new ();
  ReservedTestAdmin c = { 0 };
  Timed calls[8] = { { 0 } };
  sqlite3 *db = NULL;
  gint64 locked, released, read_time;
  g_autofree char *config = NULL;

  if (busy_timeout_ms == DEFAULT_BUSY_TIMEOUT)
    {
      config = g_strdup_printf ("[reserved]\nInitialCapacity=%u\n", CAPACITY);
      g_test_message ("lock held %u ms, BusyTimeout not set (the default)", hold_ms);
    }
  else
    {
      config = g_strdup_printf ("[reserved]\nInitialCapacity=%u\nBusyTimeout=%d\n", CAPACITY,
                                busy_timeout_ms);
      g_test_message ("lock held %u ms, BusyTimeout=%d", hold_ms, busy_timeout_ms);
    }
  reserved_test_daemon_write_config (daemon, config);
  reserved_test_admin_start (&c, daemon);
  buy_recorded (&c, expected, "alice");
  db = reserved_test_sql_open (reserved_test_daemon_get_database (daemon),
                               SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);

  reserved_test_sql_exec (db, "BEGIN IMMEDIATE");
  locked = g_get_monotonic_time ();
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      g_autofree char *request_id = g_strdup_printf ("locked-%u", i);

      calls[i].sent = g_get_monotonic_time ();
      g_dbus_connection_call (c.connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                              RESERVE_INTERFACE, "Buy",
                              g_variant_new ("(ssu@a{sv})", ITEM, "bob", 1,
                                             reserved_test_options (request_id)),
                              G_VARIANT_TYPE ("(tu)"), G_DBUS_CALL_FLAGS_NONE,
                              (int) reserved_test_timeout_seconds () * 1000, NULL,
                              reserved_test_reply_ready, &calls[i].answer);
    }
  run_for (100);
  /* Reads do not wait for the lock. */
  read_time = g_get_monotonic_time ();
  reserved_test_get_item (&c.client, ITEM);
  read_time = g_get_monotonic_time () - read_time;
  g_test_message ("GetItem during the lock answered in %.3f s",
                  read_time / (double) G_USEC_PER_SEC);
  g_assert_cmpint (read_time, <, 1000 * 1000);

  run_for (hold_ms - MIN (hold_ms, (guint) ((g_get_monotonic_time () - locked) / 1000)));
  if (expect_success)
    for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
      if (calls[i].answer.done)
        g_error ("purchase %u was answered while another process held the write lock: %s", i,
                 calls[i].answer.error != NULL ? calls[i].answer.error->message : "success");
  reserved_test_sql_exec (db, "ROLLBACK");
  released = g_get_monotonic_time ();

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      ReservedTestReply *answer = &calls[i].answer;
      guint64 order = 0;

      reserved_test_reply_wait (answer);
      g_test_message ("purchase %u: answered after %.3f s: %s", i,
                      (answer->answered - calls[i].sent) / (double) G_USEC_PER_SEC,
                      answer->error != NULL ? answer->error->message : "bought");
      if (expect_success)
        {
          g_assert_no_error (answer->error);
          g_assert_cmpint (answer->answered, >=, released);
          g_variant_get (answer->reply, "(tu)", &order, NULL);
          reserved_test_fault_orders_set (expected, order, RESERVED_TEST_ORDER_ACTIVE);
          reserved_test_reply_clear (answer);
          continue;
        }
      /* Refused, and neither at once (the daemon waited for the lock its
       * busy timeout long) nor after the lock was gone: it gave up. */
      if (answer->error == NULL || !has_code (answer->error, RESERVE_ERROR_STORAGE_FAILURE))
        g_error ("purchase %u while the lock was held past the busy timeout: expected "
                 "StorageFailure, got %s",
                 i, answer->error != NULL ? answer->error->message : "success");
      g_assert_nonnull (strstr (answer->error->message, "locked"));
      g_assert_cmpint (busy_timeout_ms, >, 0);
      g_assert_cmpint (answer->answered - calls[i].sent, >=,
                       (gint64) busy_timeout_ms * 3 / 4 * 1000);
      g_assert_cmpint (answer->answered, <, released);
      reserved_test_reply_clear (answer);
    }
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);

  /* And the daemon goes on. */
  buy_recorded (&c, expected, "carol");
  reserved_test_admin_close (&c);
  check_file_and_daemon (daemon, expected, "lock");
  if (!expect_success)
    {
      g_autoptr(GHashTable) in_file =
                   reserved_test_fault_check_file (reserved_test_daemon_get_database (daemon));
      /* alice's and carol's: none of the refused ones. */
      g_assert_cmpuint (g_hash_table_size (in_file), ==, 2);
    }
  reserved_test_daemon_stop (daemon);
}

static void
test_lock_shorter (void)
{
  /* What an installation that sets nothing gets. */
  run_lock (700, DEFAULT_BUSY_TIMEOUT, TRUE);
}

static void
test_lock_longer (void)
{
  /* The longest wait for one call is the busy timeout of the batch ahead
   * of it plus its own: well inside 6 s. Set, not the default, so that
   * the case does not depend on it. */
  run_lock (6000, 2000, FALSE);
}

static void
test_lock_configured (void)
{
  /* Past the default 2 s (a daemon that ignored BusyTimeout would fail
   * these purchases), well inside the configured time. */
  run_lock (4000, (int) reserved_test_timeout_seconds () * 1000, TRUE);
}

/* --- read-only ------------------------------------------------------------------ */

/* A database with history, closed cleanly (no -wal, no -shm), in @folder. */
static void
make_database_in (ReservedTestDaemon *daemon, const char *folder)
{
  g_autofree char *path = g_build_filename (folder, "reserved.db", NULL);
  ReservedTestAdmin c = { 0 };

  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  reserved_test_daemon_set_database (daemon, path);
  reserved_test_admin_start (&c, daemon);
  for (guint i = 0; i < 10; i++)
    reserved_test_buy (&c.client, ITEM, "alice", 1, NULL, NULL);
  reserved_test_admin_stop (&c, daemon);
}

/* The daemon must refuse to start, name the database, and say what is
 * wrong with the folder, in words a person acts on. */
static void
assert_refused_read_only (ReservedTestDaemon *daemon, const char *what)
{
  g_autoptr(ReservedTestProcess) process = reserved_test_daemon_spawn (daemon, NULL);
  int status = reserved_test_process_wait (process);
  g_autofree char *log = reserved_test_process_get_log (process);
  const char *words[] = {
    "folder", "directory", "writable", "read-only", "Read-only", "ermission"
  };
  gboolean says_why = FALSE;

  g_test_message ("%s: %s", what, log);
  reserved_test_assert_exit_status (status, 1, what, log);
  if (strstr (log, reserved_test_daemon_get_database (daemon)) == NULL)
    g_error ("%s: the message should name %s: %s", what, reserved_test_daemon_get_database (daemon),
             log);
  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    says_why = says_why || strstr (log, words[i]) != NULL;
  if (!says_why)
    g_error ("%s: the message should say that the folder cannot be written to (it is read-only, "
             "or not writable for the daemon's user), but says: %s",
             what, log);
}

static void
test_read_only_folder (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autofree char *folder =
    g_build_filename (reserved_test_daemon_get_tmpdir (daemon), "data", NULL);
  g_autofree char *fresh = g_build_filename (folder, "fresh.db", NULL);
  g_autofree char *path = g_build_filename (folder, "reserved.db", NULL);
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GHashTable) in_file = NULL;
  GStatBuf st;

  make_database_in (daemon, folder);
  before = reserved_test_read_bytes (reserved_test_daemon_get_database (daemon));
  /* The file is the daemon's to write; the folder, root's, is not: no room
   * for the -wal and -shm files. (As root, permissions stop nothing.) */
  g_assert_cmpuint (geteuid (), ==, 0);
  g_assert_cmpint (chown (reserved_test_daemon_get_database (daemon), RESERVED_TEST_NOBODY_UID,
                          (gid_t) -1),
                   ==, 0);
  g_assert_cmpint (g_chmod (folder, 0755), ==, 0);
  reserved_test_daemon_set_run_as (daemon, RESERVED_TEST_NOBODY_UID);
  assert_refused_read_only (daemon, "a writable database in a folder the daemon cannot write");
  g_assert_true (
    g_bytes_equal (before, reserved_test_read_bytes (reserved_test_daemon_get_database (daemon))));

  reserved_test_daemon_set_database (daemon, fresh);
  assert_refused_read_only (daemon, "a new database in a folder the daemon cannot write");
  g_assert_cmpint (g_stat (fresh, &st), !=, 0);

  in_file = reserved_test_fault_check_file (path);
  g_assert_cmpuint (g_hash_table_size (in_file), ==, 10);
}

static void
test_read_only_mount (void)
{
  g_autoptr(ReservedTestDaemon) daemon = NULL;
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GHashTable) in_file = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *path = NULL;
  g_autofree char *fresh = NULL;

  enter_private_mount_namespace ();
  daemon = reserved_test_daemon_new ();
  folder = g_build_filename (reserved_test_daemon_get_tmpdir (daemon), "data", NULL);
  fresh = g_build_filename (folder, "fresh.db", NULL);
  make_database_in (daemon, folder);
  path = g_strdup (reserved_test_daemon_get_database (daemon));
  before = reserved_test_read_bytes (path);

  g_assert_cmpint (mount (folder, folder, NULL, MS_BIND, NULL), ==, 0);
  g_assert_cmpint (mount (NULL, folder, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), ==, 0);
  assert_refused_read_only (daemon, "a database on a read-only mount");
  reserved_test_daemon_set_database (daemon, fresh);
  assert_refused_read_only (daemon, "a new database on a read-only mount");
  g_assert_true (g_bytes_equal (before, reserved_test_read_bytes (path)));
  g_assert_cmpint (umount2 (folder, MNT_DETACH), ==, 0);

  in_file = reserved_test_fault_check_file (path);
  g_assert_cmpuint (g_hash_table_size (in_file), ==, 10);
}

/* --- main ------------------------------------------------------------------------ */

static void
add_cases (void)
{
  g_test_add_func ("/faults/kill-loop", test_kill_loop);
  g_test_add_func ("/faults/disk-full/no-restart", test_disk_full);
  g_test_add_func ("/faults/disk-full/restart", test_disk_full_restart);
  g_test_add_func ("/faults/lock/shorter", test_lock_shorter);
  g_test_add_func ("/faults/lock/longer", test_lock_longer);
  g_test_add_func ("/faults/lock/configured", test_lock_configured);
  g_test_add_func ("/faults/read-only/folder", test_read_only_folder);
  g_test_add_func ("/faults/read-only/mount", test_read_only_mount);
}

RESERVED_TEST_MAIN (add_cases, helpers)
