/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Start-up and shut-down: the daemon refuses, with exit status 1 and a
 * message naming the file and the cause, anything it must not serve from
 * (a file that is not its database, a damaged one, one it cannot write, a
 * bad configuration, a bus name someone else owns), and never modifies a
 * file it refused. SIGTERM and SIGINT stop it with status 0, and the next
 * start finds every order. */
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-files.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"
#include "reserved-test-sqlite.h"

static void
assert_same_bytes (const char *path, GBytes *before)
{
  g_autoptr(GBytes) after = reserved_test_read_bytes (path);

  if (!g_bytes_equal (before, after))
    g_error ("%s was modified by a daemon that refused it (%zu bytes before, %zu after)", path,
             g_bytes_get_size (before), g_bytes_get_size (after));
}

/* Runs the daemon with @extra_args, expects exit status 1 and every one of
 * @needles in what it printed. */
static void
assert_refused (ReservedTestDaemon *daemon,
                const char *const *extra_args,
                const char *const *needles)
{
  g_autoptr(ReservedTestProcess) process = reserved_test_daemon_spawn (daemon, extra_args);
  g_autofree char *log = NULL;
  int status;

  status = reserved_test_process_wait (process);
  log = reserved_test_process_get_log (process);
  reserved_test_assert_exit_status (status, 1, "reserved, which should have refused to start", log);
  for (guint i = 0; needles != NULL && needles[i] != NULL; i++)
    if (strstr (log, needles[i]) == NULL)
      g_error ("reserved's message should name “%s” but says:\n%s", needles[i], log);
  g_test_message ("refused as expected: %s", log);
}

/* A database with some history, written by the daemon and closed by it. */
static void
make_real_database (ReservedTestDaemon *daemon)
{
  g_autofree char *wal = g_strconcat (reserved_test_daemon_get_database (daemon), "-wal", NULL);
  ReservedTestAdmin c = { 0 };
  GStatBuf st;

  reserved_test_admin_start (&c, daemon);
  reserved_test_create_item (&c.client, "filler", 100000, 0);
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *user =
        g_strdup_printf ("customer-%03u-with-a-name-long-enough-to-fill-pages", i);
      guint64 order =
        reserved_test_buy (&c.client, i % 10 ? "filler" : "ticket", user, 1, user, NULL);

      if (i % 7 == 0)
        reserved_test_cancel (&c.client, order);
    }
  reserved_test_admin_stop (&c, daemon);

  /* Closing the database checkpoints the write-ahead log into the file, so
   * the file alone holds everything and damaging it damages the data. */
  if (g_stat (wal, &st) == 0 && st.st_size > 0)
    g_error ("%s still holds %lld bytes after SIGTERM: the daemon did not close its database", wal,
             (long long) st.st_size);
}

/* --- a clean life --------------------------------------------------------- */

static void
test_sigterm_keeps_orders (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  ReservedTestAdmin c = { 0 };
  guint64 order;

  reserved_test_admin_start (&c, daemon);
  reserved_test_create_item (&c.client, "show", 50, 10);
  for (guint i = 0; i < 10; i++)
    reserved_test_buy (&c.client, i % 2 ? "show" : "ticket", i % 3 ? "alice" : "bob", 1 + i % 2,
                       NULL, NULL);
  order = reserved_test_buy (&c.client, "show", "carol", 2, "kept", NULL);
  reserved_test_cancel (&c.client, order);
  reserved_test_restock (&c.client, "ticket", 5);
  before = reserved_test_snapshot (&c.client);
  reserved_test_admin_close (&c);

  /* Exit status 0 (asserted by the harness), then the same state. */
  reserved_test_daemon_stop (daemon);
  reserved_test_admin_start (&c, daemon);
  after = reserved_test_snapshot (&c.client);
  g_assert_cmpvariant (before, after);
  g_assert_cmpuint (reserved_test_buy (&c.client, "show", "carol", 2, "kept", NULL), ==, order);
  reserved_test_assert_law (&c.client);
  reserved_test_admin_stop (&c, daemon);
}

static void
test_sigint (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autoptr(ReservedTestProcess) process = NULL;
  g_autofree char *log = NULL;
  ReservedTestAdmin c = { 0 };
  int status;

  reserved_test_admin_start (&c, daemon);
  reserved_test_buy (&c.client, "ticket", "alice", 3, NULL, NULL);
  reserved_test_admin_close (&c);

  process = reserved_test_daemon_steal_process (daemon);
  g_assert_cmpint (kill (reserved_test_process_get_pid (process), SIGINT), ==, 0);
  status = reserved_test_process_wait (process);
  log = reserved_test_process_get_log (process);
  reserved_test_assert_exit_status (status, 0, "reserved stopped with SIGINT", log);
  reserved_test_daemon_wait_name_gone (daemon);

  reserved_test_admin_start (&c, daemon);
  g_assert_cmpuint (reserved_test_get_item (&c.client, "ticket").remaining, ==, 97);
  reserved_test_admin_stop (&c, daemon);
}

/* SIGHUP rereads the configuration: a bad file is logged and the one in
 * use kept, a good one applied, and the daemon serves throughout. */
static void
test_sighup_reloads (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  ReservedTestProcess *process;
  ReservedTestAdmin c = { 0 };
  GPid pid;

  reserved_test_daemon_write_config (daemon, "[reserved]\nBusyTimeout=2000\n");
  reserved_test_daemon_start (daemon);
  process = reserved_test_daemon_get_process (daemon);
  pid = reserved_test_process_get_pid (process);

  reserved_test_daemon_write_config (daemon, "[reserved]\nBusyTimeout=forever\n");
  g_assert_cmpint (kill (pid, SIGHUP), ==, 0);
  reserved_test_process_wait_log (process, "Keeping the configuration in use", 1);
  reserved_test_process_wait_log (process, "forever", 1);

  reserved_test_daemon_write_config (daemon, "[reserved]\nBusyTimeout=500\nDefaultItem=seat\n");
  g_assert_cmpint (kill (pid, SIGHUP), ==, 0);
  reserved_test_process_wait_log (process, "Reloaded the configuration", 1);
  reserved_test_process_wait_log (process, "BusyTimeout=500 ms", 1);
  reserved_test_process_wait_log (process, "only take effect on a fresh database", 1);

  /* Still the same process, still selling the item it made. */
  g_assert_cmpint (reserved_test_daemon_get_owner_pid (daemon), ==, pid);
  reserved_test_admin_open (&c, daemon);
  reserved_test_buy (&c.client, "ticket", "alice", 1, NULL, NULL);
  reserved_test_assert_law (&c.client);
  reserved_test_admin_stop (&c, daemon);
}

static void
test_version (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *property = NULL;
  const char *argv[] = { g_getenv ("RESERVED_BINARY"), "--version", NULL };
  ReservedTestAdmin c = { 0 };
  int status = 0;

  g_assert_nonnull (argv[0]);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status,
                &error);
  g_assert_no_error (error);
  reserved_test_assert_exit_status (status, 0, "reserved --version", out);

  /* The same version as the property, MAJOR.MINOR.PATCH. */
  reserved_test_admin_start (&c, daemon);
  property = reserve_reserve1_dup_version (c.client.proxy);
  g_assert_true (g_regex_match_simple ("^[0-9]+\\.[0-9]+\\.[0-9]+$", property, 0, 0));
  if (strstr (out, property) == NULL)
    g_error ("reserved --version says “%s”, the Version property “%s”", g_strstrip (out), property);
  reserved_test_admin_stop (&c, daemon);
}

static void
test_empty_file_is_fresh (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  ReservedTestAdmin c = { 0 };

  reserved_test_write_bytes (reserved_test_daemon_get_database (daemon), "", 0);
  reserved_test_admin_start (&c, daemon);
  g_assert_cmpuint (reserved_test_get_item (&c.client, RESERVE_DEFAULT_ITEM).capacity, ==,
                    RESERVE_DEFAULT_CAPACITY);
  reserved_test_admin_stop (&c, daemon);
}

static void
test_missing_config (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autofree char *config = g_strdup (reserved_test_daemon_get_config (daemon));
  const char *needles[] = { config, NULL };

  /* Only the default configuration file may be missing: a --config that
   * names no file is a mistake (a typo in a path), reported, not ignored. */
  g_assert_cmpint (g_unlink (config), ==, 0);
  assert_refused (daemon, NULL, needles);
}

/* --- files it must refuse -------------------------------------------------- */

/* A file that is not a database reserved may serve from: @write puts it
 * at @path, the daemon's database. */
typedef struct {
  void (*write) (ReservedTestDaemon *daemon, const char *path);
} BadFile;

/* @size random bytes, starting with @prefix (nullable). */
static void
write_junk (const char *path, gsize size, const char *prefix)
{
  g_autofree guint8 *junk = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    junk[i] = (guint8) g_test_rand_int_range (0, 256);
  if (prefix != NULL)
    memcpy (junk, prefix, strlen (prefix) + 1);
  reserved_test_write_bytes (path, junk, size);
}

static void
write_random_bytes (ReservedTestDaemon *daemon, const char *path)
{
  write_junk (path, 65536, NULL);
}

static void
write_sqlite_header_garbage (ReservedTestDaemon *daemon, const char *path)
{
  /* Looks like SQLite for its first 16 bytes only. */
  write_junk (path, 8192, "SQLite format 3");
}

static gsize
page_size_of (GBytes *file)
{
  const guint8 *data = g_bytes_get_data (file, NULL);
  guint size;

  g_assert_cmpuint (g_bytes_get_size (file), >=, 100);
  size = (guint) data[16] << 8 | data[17];
  return size == 1 ? 65536 : size;
}

/* A real database of at least 4 pages; its page size in @page_size. */
static GBytes *
real_database (ReservedTestDaemon *daemon, const char *path, gsize *page_size)
{
  g_autoptr(GBytes) good = NULL;

  make_real_database (daemon);
  good = reserved_test_read_bytes (path);
  *page_size = page_size_of (good);
  g_assert_cmpuint (g_bytes_get_size (good) / *page_size, >=, 4);
  return g_steal_pointer (&good);
}

static void
write_damaged_page (ReservedTestDaemon *daemon, const char *path)
{
  gsize page_size;
  g_autoptr(GBytes) good = real_database (daemon, path, &page_size);
  gsize size = g_bytes_get_size (good);
  gsize n_pages = size / page_size;
  g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (good, NULL), size);

  /* The last page holds the newest rows of some table or index, which
   * the integrity check reads. Overwrite it, header included, so it is no
   * valid b-tree page at all. */
  memset (data + (n_pages - 1) * page_size, 0xa5, page_size);
  reserved_test_write_bytes (path, data, size);
}

static void
write_truncated (ReservedTestDaemon *daemon, const char *path)
{
  gsize page_size;
  g_autoptr(GBytes) good = real_database (daemon, path, &page_size);
  gsize n_pages = g_bytes_get_size (good) / page_size;

  /* A copy cut short, as a full disk or a careless cp might leave it. */
  reserved_test_write_bytes (path, g_bytes_get_data (good, NULL), (n_pages / 2) * page_size);
}

static void
write_other_application (ReservedTestDaemon *daemon, const char *path)
{
  reserved_test_sql_exec_file (path, "PRAGMA application_id = 1234567;"
                                     "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
                                     "INSERT INTO notes (body) VALUES ('not for reserved');");
}

static void
write_unmarked_sqlite (ReservedTestDaemon *daemon, const char *path)
{
  /* No application id, and tables whose names happen to be reserved's:
   * still somebody else's data, not to be migrated. */
  reserved_test_sql_exec_file (path, "CREATE TABLE items (name TEXT, stock INTEGER);"
                                     "CREATE TABLE orders (id INTEGER, what TEXT);"
                                     "INSERT INTO items VALUES ('flour', 3);");
}

static const BadFile random_bytes = { write_random_bytes };
static const BadFile sqlite_header_garbage = { write_sqlite_header_garbage };
static const BadFile damaged_page = { write_damaged_page };
static const BadFile truncated = { write_truncated };
static const BadFile other_application = { write_other_application };
static const BadFile unmarked_sqlite = { write_unmarked_sqlite };

/* The daemon refuses the BadFile @data, naming it, and leaves it as it
 * was. */
static void
test_refuse_file (gconstpointer data)
{
  const BadFile *bad = data;
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  const char *path = reserved_test_daemon_get_database (daemon);
  const char *needles[] = { path, NULL };
  g_autoptr(GBytes) before = NULL;

  bad->write (daemon, path);
  before = reserved_test_read_bytes (path);
  assert_refused (daemon, NULL, needles);
  assert_same_bytes (path, before);
}

/* A URI libpq cannot parse is refused at once, and the message, which
 * quotes what libpq found wrong, hides the password. */
static void
test_refuse_bad_uri_password (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  const char *const uris[] = { "postgresql://reserved:s3cret-pw@[::1/reserved",
                               "postgresql://reserved:s3cret-pw%zz@localhost/reserved",
                               "postgresql://localhost/reserved?password=s3cret-pw&x%zz=1" };

  for (guint i = 0; i < G_N_ELEMENTS (uris); i++)
    {
      const char *extra[] = { "--database", uris[i], NULL };
      g_autoptr(ReservedTestProcess) process = reserved_test_daemon_spawn (daemon, extra);
      g_autofree char *log = NULL;
      int status = reserved_test_process_wait (process);

      log = reserved_test_process_get_log (process);
      reserved_test_assert_exit_status (status, 1, "reserved, which should have refused to start",
                                        log);
      if (strstr (log, "s3cret-pw") != NULL || strstr (log, "***") == NULL)
        g_error ("reserved's message should hide the password but says:\n%s", log);
      if (strstr (log, "not a valid PostgreSQL URI") == NULL)
        g_error ("reserved's message should say the URI is not valid but says:\n%s", log);
    }
}

static void
test_refuse_missing_folder (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autofree char *folder =
    g_build_filename (reserved_test_daemon_get_tmpdir (daemon), "missing", NULL);
  g_autofree char *path = g_build_filename (folder, "reserved.db", NULL);
  const char *needles[] = { path, NULL };

  reserved_test_daemon_set_database (daemon, path);
  assert_refused (daemon, NULL, needles);
  g_assert_false (g_file_test (folder, G_FILE_TEST_EXISTS));
}

static void
test_refuse_directory (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autofree char *path = g_build_filename (reserved_test_daemon_get_tmpdir (daemon), "adir", NULL);
  const char *needles[] = { path, NULL };

  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
  reserved_test_daemon_set_database (daemon, path);
  assert_refused (daemon, NULL, needles);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_DIR));
}

/* Copies a real database into a folder of its own, with @mode, and points
 * the next daemon at it. Root ignores permissions, so as root the daemon
 * runs as uid 65534 instead. */
static char *
prepare_restricted_copy (ReservedTestDaemon *daemon, guint mode, GBytes **before)
{
  g_autofree char *folder =
    g_build_filename (reserved_test_daemon_get_tmpdir (daemon), "restricted", NULL);
  char *path = g_build_filename (folder, "reserved.db", NULL);
  g_autoptr(GBytes) good = NULL;

  make_real_database (daemon);
  good = reserved_test_read_bytes (reserved_test_daemon_get_database (daemon));
  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  reserved_test_write_bytes (path, g_bytes_get_data (good, NULL), g_bytes_get_size (good));
  *before = g_steal_pointer (&good);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  reserved_test_daemon_set_database (daemon, path);
  if (geteuid () == 0)
    reserved_test_daemon_set_run_as (daemon, RESERVED_TEST_NOBODY_UID);
  return path;
}

/* A copy of a real database with the mode @data: read-only, it could be
 * read but could never commit a sale (better not to start); unreadable,
 * it could not even be read. */
static void
test_refuse_restricted (gconstpointer data)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autoptr(GBytes) before = NULL;
  g_autofree char *path = prepare_restricted_copy (daemon, GPOINTER_TO_UINT (data), &before);
  const char *needles[] = { path, NULL };

  assert_refused (daemon, NULL, needles);
  g_assert_cmpint (g_chmod (path, 0644), ==, 0);
  assert_same_bytes (path, before);
}

/* --- the check after a clean stop, and after any other ----------------------- */

#define CHECKED_STRUCTURE  "Checked the structure of"
#define CHECKED_EVERY_PAGE "Checked every page of"

/* The log of the managed daemon so far, which says how it checked its file
 * (it says so before it owns its name). */
static char *
start_log (ReservedTestDaemon *daemon)
{
  return reserved_test_process_get_log (reserved_test_daemon_get_process (daemon));
}

static void
assert_log_says (const char *log, const char *says, const char *not_says)
{
  if (strstr (log, says) == NULL || strstr (log, not_says) != NULL)
    g_error ("reserved should have said “%s” and not “%s”, but said:\n%s", says, not_says, log);
}

/* Starts the daemon and asserts how it checked its file: it said @says,
 * and not @not_says. */
static void
start_checking (ReservedTestDaemon *daemon, const char *says, const char *not_says)
{
  g_autofree char *log = NULL;

  reserved_test_daemon_start (daemon);
  log = start_log (daemon);
  assert_log_says (log, says, not_says);
}

/* Overwrites the last page of the file where it lies, as a failing disk
 * would: the same file, the same size. */
static void
damage_last_page_in_place (const char *path)
{
  g_autoptr(GBytes) good = reserved_test_read_bytes (path);
  gsize page_size = page_size_of (good);
  gsize n_pages = g_bytes_get_size (good) / page_size;
  g_autofree guint8 *junk = g_malloc (page_size);
  int fd = open (path, O_WRONLY | O_CLOEXEC);

  g_assert_cmpuint (n_pages, >=, 4);
  g_assert_cmpint (fd, >=, 0);
  memset (junk, 0xa5, page_size);
  g_assert_cmpint (pwrite (fd, junk, page_size, (off_t) ((n_pages - 1) * page_size)), ==,
                   (gssize) page_size);
  g_assert_cmpint (close (fd), ==, 0);
}

/* A clean stop spares the next start the reading of every page; it still
 * checks the structure, and serves every order. */
static void
test_clean_stop_skips_full_check (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  ReservedTestAdmin c = { 0 };
  guint32 remaining;
  guint64 order;

  make_real_database (daemon);
  reserved_test_daemon_start (daemon);
  reserved_test_admin_open (&c, daemon);
  remaining = reserved_test_get_item (&c.client, "filler").remaining;
  order = reserved_test_buy (&c.client, "filler", "dave", 2, "after-the-stop", NULL);
  reserved_test_admin_close (&c);
  reserved_test_daemon_stop (daemon);

  /* Stopped cleanly after a purchase, too. */
  start_checking (daemon, CHECKED_STRUCTURE, CHECKED_EVERY_PAGE);
  reserved_test_admin_open (&c, daemon);
  g_assert_cmpuint (reserved_test_get_item (&c.client, "filler").remaining, ==, remaining - 2);
  g_assert_cmpuint (reserved_test_buy (&c.client, "filler", "dave", 2, "after-the-stop", NULL), ==,
                    order);
  reserved_test_assert_law (&c.client);
  reserved_test_admin_close (&c);
  reserved_test_daemon_stop (daemon);
}

/* After kill -9 nothing vouches for the file: every page is read, the
 * next clean stop vouches again. */
static void
test_kill_runs_full_check (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autofree char *killed_log = NULL;
  ReservedTestAdmin c = { 0 };
  guint64 order;

  make_real_database (daemon);
  reserved_test_daemon_start (daemon);
  reserved_test_admin_open (&c, daemon);
  order = reserved_test_buy (&c.client, "filler", "erin", 3, "before-the-kill", NULL);
  reserved_test_admin_close (&c);
  reserved_test_daemon_kill (daemon);

  start_checking (daemon, CHECKED_EVERY_PAGE, CHECKED_STRUCTURE);
  killed_log = start_log (daemon);
  assert_log_says (killed_log, "no clean stop was recorded", CHECKED_STRUCTURE);
  reserved_test_admin_open (&c, daemon);
  g_assert_cmpuint (reserved_test_buy (&c.client, "filler", "erin", 3, "before-the-kill", NULL), ==,
                    order);
  reserved_test_assert_law (&c.client);
  reserved_test_admin_close (&c);
  reserved_test_daemon_stop (daemon);

  start_checking (daemon, CHECKED_STRUCTURE, CHECKED_EVERY_PAGE);
  reserved_test_daemon_stop (daemon);
}

/* A life that met a storage error does not vouch for its file, however
 * it stopped: here a purchase refused while another process held the
 * write lock (BusyTimeout=0), then SIGTERM. */
static void
test_storage_error_runs_full_check (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  ReservedTestAdmin c = { 0 };
  sqlite3 *lock;

  reserved_test_daemon_write_config (daemon, "[reserved]\nBusyTimeout=0\n");
  make_real_database (daemon);
  reserved_test_daemon_start (daemon);
  reserved_test_admin_open (&c, daemon);
  lock = reserved_test_sql_open (reserved_test_daemon_get_database (daemon), SQLITE_OPEN_READWRITE);
  reserved_test_sql_exec (lock, "BEGIN IMMEDIATE");
  reserved_test_buy_refused (&c.client, "filler", "frank", 1, NULL, RESERVE_ERROR_STORAGE_FAILURE);
  reserved_test_sql_exec (lock, "ROLLBACK");
  reserved_test_sql_close (lock);
  reserved_test_buy (&c.client, "filler", "frank", 1, NULL, NULL);
  reserved_test_admin_close (&c);
  reserved_test_daemon_stop (daemon);

  start_checking (daemon, CHECKED_EVERY_PAGE, CHECKED_STRUCTURE);
  reserved_test_daemon_stop (daemon);
}

/* Damages the last page in place, and expects the daemon to refuse the
 * file, naming it and its integrity check, and to leave it as it was. */
static void
assert_damage_refused (ReservedTestDaemon *daemon)
{
  const char *path = reserved_test_daemon_get_database (daemon);
  const char *needles[] = { path, "integrity check", NULL };
  g_autoptr(GBytes) before = NULL;

  damage_last_page_in_place (path);
  before = reserved_test_read_bytes (path);
  assert_refused (daemon, NULL, needles);
  assert_same_bytes (path, before);
}

/* Damage done after a clean stop, in place and at once, is still found:
 * the record of the stop no longer matches the file. */
static void
test_refuse_damaged_after_clean_stop (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();

  make_real_database (daemon);
  assert_damage_refused (daemon);
}

/* A file damaged after kill -9 is refused as any damaged file is. */
static void
test_refuse_damaged_after_kill (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();

  /* Everything is in the file itself (a clean stop checkpointed it), and
   * the life after it ends with kill -9. */
  make_real_database (daemon);
  reserved_test_daemon_start (daemon);
  reserved_test_daemon_kill (daemon);
  assert_damage_refused (daemon);
}

/* --- configuration ---------------------------------------------------------- */

static void
test_config_bad_values (void)
{
  g_autofree char *too_long = g_strnfill (RESERVE_NAME_MAX_BYTES + 1, 'x');
  const struct {
    const char *key;
    const char *value;
  } cases[] = {
    { "InitialCapacity", "-1" },
    { "InitialCapacity", "1000000001" },
    { "InitialCapacity", "4294967296" },
    { "InitialCapacity", "ten" },
    { "InitialCapacity", "12abc" },
    { "BusyTimeout", "-1" },
    { "BusyTimeout", "3600001" },
    { "BusyTimeout", "abc" },
    { "BusyTimeout", "1.5" },
    { "DefaultItem", ".hidden" },
    { "DefaultItem", "has space" },
    { "DefaultItem", too_long },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
      g_autofree char *contents =
        g_strdup_printf ("[reserved]\n%s=%s\n", cases[i].key, cases[i].value);
      const char *needles[] = {
        reserved_test_daemon_get_config (daemon),
        cases[i].key,
        cases[i].value,
        NULL,
      };

      g_test_message ("%s=%s", cases[i].key, cases[i].value);
      reserved_test_daemon_write_config (daemon, contents);
      assert_refused (daemon, NULL, needles);
    }
}

/* A configuration the daemon refuses, and what its message must name
 * besides the file (nullable). */
typedef struct {
  const char *contents;
  const char *needle;
} BadConfig;

/* A typo must not silently mean the default. */
static const BadConfig unknown_key = { "[reserved]\nInitialCapasity=5\n", "InitialCapasity" };
static const BadConfig unknown_group = { "[reserve]\nInitialCapacity=5\n", "reserve" };
static const BadConfig syntax = { "this is not a key file\n", NULL };

static void
test_config_refused (gconstpointer data)
{
  const BadConfig *bad = data;
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  const char *needles[] = { reserved_test_daemon_get_config (daemon), bad->needle, NULL };

  reserved_test_daemon_write_config (daemon, bad->contents);
  assert_refused (daemon, NULL, needles);
}

static void
test_config_limits (void)
{
  g_autofree char *longest = g_strnfill (RESERVE_NAME_MAX_BYTES, 'x');
  g_autofree char *at_max =
    g_strdup_printf ("[reserved]\nDefaultItem=%s\nInitialCapacity=1000000000\n"
                     "BusyTimeout=3600000\n"
                     "AdminUsers=root;65534\nAdminGroups=nogroup;0\n",
                     longest);
  const struct {
    const char *contents;
    const char *item;
    guint32 capacity;
  } cases[] = {
    { at_max, longest, RESERVE_CAPACITY_MAX },
    { "[reserved]\nInitialCapacity=0\nBusyTimeout=0\n", RESERVE_DEFAULT_ITEM, 0 },
    { "# only a comment\n", RESERVE_DEFAULT_ITEM, RESERVE_DEFAULT_CAPACITY },
    { "[reserved]\nAdminUsers=\nAdminGroups=\n", RESERVE_DEFAULT_ITEM, RESERVE_DEFAULT_CAPACITY },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
      g_autofree char *item = NULL;
      ReservedTestAdmin c = { 0 };

      g_test_message ("config: %s", cases[i].contents);
      reserved_test_daemon_write_config (daemon, cases[i].contents);
      reserved_test_admin_start (&c, daemon);
      item = reserve_reserve1_dup_default_item (c.client.proxy);
      g_assert_cmpstr (item, ==, cases[i].item);
      g_assert_cmpuint (reserved_test_get_item (&c.client, cases[i].item).capacity, ==,
                        cases[i].capacity);
      reserved_test_admin_stop (&c, daemon);
    }
}

/* --- the bus name ------------------------------------------------------------ */

static void
test_name_taken (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autofree char *first_db = g_strdup (reserved_test_daemon_get_database (daemon));
  g_autofree char *second_db =
    g_build_filename (reserved_test_daemon_get_tmpdir (daemon), "second.db", NULL);
  const char *needles[] = { RESERVE_BUS_NAME, NULL };
  ReservedTestAdmin c = { 0 };

  reserved_test_daemon_start (daemon);
  reserved_test_daemon_set_database (daemon, second_db);
  assert_refused (daemon, NULL, needles);
  reserved_test_daemon_set_database (daemon, first_db);

  /* The first one carries on, undisturbed. */
  g_assert_cmpint (reserved_test_daemon_get_owner_pid (daemon), ==,
                   reserved_test_process_get_pid (reserved_test_daemon_get_process (daemon)));
  reserved_test_admin_open (&c, daemon);
  reserved_test_buy (&c.client, "ticket", "alice", 1, NULL, NULL);
  reserved_test_admin_stop (&c, daemon);
}

static void
test_replace (void)
{
  g_autoptr(ReservedTestDaemon) daemon = reserved_test_daemon_new ();
  g_autoptr(ReservedTestProcess) old = NULL;
  g_autoptr(ReservedTestProcess) replacement = NULL;
  const char *replace[] = { "--replace", NULL };
  g_autofree char *old_log = NULL;
  g_autofree char *new_log = NULL;
  g_autoptr(GArray) orders = NULL;
  ReservedTestAdmin c = { 0 };
  guint64 first;
  int status;

  reserved_test_admin_start (&c, daemon);
  first = reserved_test_buy (&c.client, "ticket", "alice", 1, NULL, NULL);
  reserved_test_admin_close (&c);

  old = reserved_test_daemon_steal_process (daemon);
  replacement = reserved_test_daemon_spawn (daemon, replace);
  reserved_test_daemon_wait_ready (daemon, replacement);

  /* The old daemon lost its name: it exits 1. */
  status = reserved_test_process_wait (old);
  old_log = reserved_test_process_get_log (old);
  reserved_test_assert_exit_status (status, 1, "the replaced reserved", old_log);

  /* The new one serves the same database. */
  reserved_test_admin_open (&c, daemon);
  orders = reserved_test_list_orders (&c.client, "alice");
  g_assert_cmpuint (orders->len, ==, 1);
  g_assert_cmpuint (g_array_index (orders, ReservedTestOrder, 0).id, ==, first);
  g_assert_cmpuint (reserved_test_buy (&c.client, "ticket", "alice", 1, NULL, NULL), >, first);
  reserved_test_assert_law (&c.client);
  reserved_test_admin_close (&c);

  g_assert_cmpint (kill (reserved_test_process_get_pid (replacement), SIGTERM), ==, 0);
  status = reserved_test_process_wait (replacement);
  new_log = reserved_test_process_get_log (replacement);
  reserved_test_assert_exit_status (status, 0, "the replacing reserved, stopped with SIGTERM",
                                    new_log);
}

static void
add_cases (void)
{
  g_test_add_func ("/startup/sigterm-keeps-orders", test_sigterm_keeps_orders);
  g_test_add_func ("/startup/sigint", test_sigint);
  g_test_add_func ("/startup/sighup-reloads", test_sighup_reloads);
  g_test_add_func ("/startup/version", test_version);
  g_test_add_func ("/startup/empty-file-is-fresh", test_empty_file_is_fresh);
  g_test_add_func ("/startup/missing-config", test_missing_config);
  g_test_add_data_func ("/startup/refuse/random-bytes", &random_bytes, test_refuse_file);
  g_test_add_data_func ("/startup/refuse/sqlite-header-garbage", &sqlite_header_garbage,
                        test_refuse_file);
  g_test_add_data_func ("/startup/refuse/damaged-page", &damaged_page, test_refuse_file);
  g_test_add_data_func ("/startup/refuse/truncated", &truncated, test_refuse_file);
  g_test_add_data_func ("/startup/refuse/other-application", &other_application, test_refuse_file);
  g_test_add_data_func ("/startup/refuse/unmarked-sqlite", &unmarked_sqlite, test_refuse_file);
  g_test_add_func ("/startup/refuse/missing-folder", test_refuse_missing_folder);
  g_test_add_func ("/startup/refuse/bad-uri-hides-password", test_refuse_bad_uri_password);
  g_test_add_func ("/startup/refuse/directory", test_refuse_directory);
  g_test_add_data_func ("/startup/refuse/read-only", GUINT_TO_POINTER (0444),
                        test_refuse_restricted);
  g_test_add_data_func ("/startup/refuse/unreadable", GUINT_TO_POINTER (0000),
                        test_refuse_restricted);
  g_test_add_func ("/startup/clean-stop/skips-full-check", test_clean_stop_skips_full_check);
  g_test_add_func ("/startup/clean-stop/kill-runs-full-check", test_kill_runs_full_check);
  g_test_add_func ("/startup/clean-stop/storage-error-runs-full-check",
                   test_storage_error_runs_full_check);
  g_test_add_func ("/startup/refuse/damaged-after-clean-stop",
                   test_refuse_damaged_after_clean_stop);
  g_test_add_func ("/startup/refuse/damaged-after-kill", test_refuse_damaged_after_kill);
  g_test_add_func ("/startup/config/bad-values", test_config_bad_values);
  g_test_add_data_func ("/startup/config/unknown-key", &unknown_key, test_config_refused);
  g_test_add_data_func ("/startup/config/unknown-group", &unknown_group, test_config_refused);
  g_test_add_data_func ("/startup/config/syntax", &syntax, test_config_refused);
  g_test_add_func ("/startup/config/limits", test_config_limits);
  g_test_add_func ("/startup/name-taken", test_name_taken);
  g_test_add_func ("/startup/replace", test_replace);
}

RESERVED_TEST_MAIN (add_cases, NULL)
