/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "race-modes.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "race-dbus.h"
#include "race-pool.h"
#include "race-sqlite.h"
#include "reserve-text.h"

#define FILE_FORMAT "{\"count\": %" G_GINT64_FORMAT "}\n"
/* A buyer reads at most this much; the file is one short line. */
#define FILE_MAX_BYTES 4096

/* --- the file modes -------------------------------------------------------- */

typedef struct {
  const char *path;
  guint delay_ms;
} FileBuyerData;

gboolean
race_file_parse_count (const char *text, gint64 *count)
{
  g_autoptr(JsonNode) root = json_from_string (text, NULL);
  JsonObject *object;
  JsonNode *member;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  object = json_node_get_object (root);
  member = json_object_get_member (object, "count");
  if (member == NULL || json_node_get_value_type (member) != G_TYPE_INT64 ||
      json_node_get_int (member) < 0)
    return FALSE;
  *count = json_node_get_int (member);
  return TRUE;
}

static gboolean
write_file_count (const char *path, gint64 count, GError **error)
{
  g_autofree char *text = g_strdup_printf (FILE_FORMAT, count);

  /* In place, not by rename: with --file the user's file stays the file
   * they gave (a symlink, its permissions). */
  return g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, error);
}

static gboolean
read_whole_file (int fd, char *buffer, gsize size)
{
  gsize got = 0;

  while (got < size - 1)
    {
      ssize_t n = pread (fd, buffer + got, size - 1 - got, (off_t) got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      if (n == 0)
        break;
      got += (gsize) n;
    }
  buffer[got] = '\0';
  return TRUE;
}

static gboolean
rewrite_file (int fd, gint64 count)
{
  char text[64];
  gsize length = (gsize) g_snprintf (text, sizeof text, FILE_FORMAT, count);
  gsize done = 0;

  /* Truncate, then write, as a naive program does: a buyer that reads in
   * between sees an empty file. */
  if (ftruncate (fd, 0) != 0)
    return FALSE;
  while (done < length)
    {
      ssize_t n = pwrite (fd, text + done, length - done, (off_t) done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      done += (gsize) n;
    }
  return TRUE;
}

/* The read-modify-write both file modes do; only what surrounds it (a
 * lock or nothing) differs. */
static void
buy_from_file (RaceBuyer *buyer, int fd, const FileBuyerData *file)
{
  char text[FILE_MAX_BYTES];
  gint64 count = -1;
  gboolean torn;

  if (!read_whole_file (fd, text, sizeof text))
    {
      race_buyer_give_up (buyer, RACE_OUTCOME_FAILED, _ ("cannot read %s: %s"), file->path,
                          g_strerror (errno));
      return;
    }
  torn = !race_file_parse_count (text, &count);
  race_buyer_note_read (buyer, torn ? -1 : count);

  /* The network latency between seeing a ticket and claiming it: the
   * window in which the count this buyer read goes stale. */
  g_usleep ((gulong) file->delay_ms * 1000);
  race_buyer_critical_moment (buyer);

  if (torn)
    {
      g_autofree char *shown = g_strescape (text, NULL);

      race_buyer_give_up (buyer, RACE_OUTCOME_TORN_READ, _ ("the file held \"%s\""), shown);
      return;
    }
  if (count == 0)
    {
      buyer->outcome = RACE_OUTCOME_SOLD_OUT;
      return;
    }
  if (!rewrite_file (fd, count - 1))
    {
      race_buyer_give_up (buyer, RACE_OUTCOME_FAILED, _ ("cannot write %s: %s"), file->path,
                          g_strerror (errno));
      return;
    }
  race_buyer_note_bought (buyer);
}

/* Opened before the barrier, so that the race is about the stock, not
 * about open(). Each buyer opens the file itself, after the fork: an open
 * file description shared with another process would share its lock. */
static int
open_file (RaceBuyer *buyer, const FileBuyerData *file)
{
  int fd = open (file->path, O_RDWR | O_CLOEXEC);

  if (fd < 0)
    race_buyer_give_up (buyer, RACE_OUTCOME_FAILED, _ ("cannot open %s: %s"), file->path,
                        g_strerror (errno));
  return fd;
}

static void
file_buyer (RaceBuyer *buyer, gconstpointer data)
{
  int fd = open_file (buyer, data);

  if (fd < 0)
    return;
  race_buyer_wait_for_start (buyer);
  buy_from_file (buyer, fd, data);
  close (fd);
}

static gboolean
lock_file (RaceBuyer *buyer, int fd, const FileBuyerData *file)
{
  /* flock() belongs to the open file description this buyer made, and the
   * kernel drops it when the last descriptor to it closes, as it does when
   * the buyer dies: a crashed holder cannot wedge the others, unlike a
   * lock file that only its holder would remove. */
  while (flock (fd, LOCK_EX) != 0)
    {
      if (errno != EINTR)
        {
          race_buyer_give_up (buyer, RACE_OUTCOME_FAILED, _ ("cannot lock %s: %s"), file->path,
                              g_strerror (errno));
          return FALSE;
        }
    }
  return TRUE;
}

static void
locked_file_buyer (RaceBuyer *buyer, gconstpointer data)
{
  const FileBuyerData *file = data;
  int fd = open_file (buyer, file);

  if (fd < 0)
    return;
  /* The --kill-one victim takes the lock before the release, so that on
   * every run all the others queue behind a holder about to die. */
  if (buyer->victim && !lock_file (buyer, fd, file))
    goto out;
  race_buyer_wait_for_start (buyer);
  if (!buyer->victim && !lock_file (buyer, fd, file))
    goto out;
  buy_from_file (buyer, fd, file);
  flock (fd, LOCK_UN);
out:
  close (fd);
}

/* --- the setup ------------------------------------------------------------- */

struct _RaceSetup {
  RaceSettings settings;
  char *scratch;         /* (nullable) our folder, removed at the end */
  char *file;            /* (nullable) the file modes' file */
  char *database;        /* (nullable) the sqlite mode's database */
  char *item;            /* (nullable) the dbus mode's item */
  gboolean item_created; /* the dbus mode made it: retired at the end unless kept */
  RaceItemState item_before;
  FileBuyerData file_data;
  RaceSqliteBuyerData sqlite_data;
  RaceDbusBuyerData dbus_data;
};

/* How long a sqlite buyer waits for the database before giving up: the
 * whole queue ahead of it (every running buyer holding the lock for its
 * pause and a commit), twice, and never less than 10 s. */
static guint
busy_timeout_ms (const RaceSettings *settings)
{
  guint64 queue_ms = (guint64) settings->jobs * (settings->delay_ms + 20);

  return (guint) MIN (10000 + 2 * queue_ms, G_MAXUINT);
}

RaceSetup *
race_setup_new (const RaceSettings *settings, const gboolean *modes, GError **error)
{
  g_autoptr(RaceSetup) setup = g_new0 (RaceSetup, 1);
  gboolean file_modes = modes[RACE_MODE_FILE] || modes[RACE_MODE_LOCKED_FILE];

  setup->settings = *settings;
  if (modes[RACE_MODE_SQLITE] || (file_modes && settings->file == NULL))
    {
      setup->scratch = g_dir_make_tmp ("reserve-race-XXXXXX", error);
      if (setup->scratch == NULL)
        return NULL;
    }
  if (file_modes)
    setup->file = settings->file != NULL ? g_strdup (settings->file)
                                         : g_build_filename (setup->scratch, "race.json", NULL);
  if (modes[RACE_MODE_SQLITE])
    setup->database = g_build_filename (setup->scratch, "race.db", NULL);
  if (modes[RACE_MODE_DBUS] &&
      !race_dbus_prepare_item (settings->bus_type, settings->item, settings->stock, &setup->item,
                               &setup->item_before, error))
    return NULL;
  setup->item_created = modes[RACE_MODE_DBUS] && settings->item == NULL;

  setup->file_data = (FileBuyerData){ setup->file, settings->delay_ms };
  setup->sqlite_data =
    (RaceSqliteBuyerData){ setup->database, settings->delay_ms, busy_timeout_ms (settings) };
  setup->dbus_data = (RaceDbusBuyerData){ settings->bus_type, setup->item, settings->delay_ms };
  return g_steal_pointer (&setup);
}

static void
remove_scratch (const char *folder)
{
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  const char *name;

  /* Only what the modes made: the file, the database and its journals. */
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (folder, name, NULL);

      g_unlink (path);
    }
  g_rmdir (folder);
}

void
race_setup_free (RaceSetup *setup)
{
  if (setup == NULL)
    return;
  /* Whatever became of the runs: the fresh item is sold no more, and its
   * orders stay. */
  if (setup->item_created && !setup->settings.keep)
    {
      g_autoptr(GError) error = NULL;

      if (!race_dbus_retire_item (setup->settings.bus_type, setup->item, &error))
        g_printerr (_ ("reserve: warning: could not retire the race's item %s: %s\n"), setup->item,
                    error->message);
    }
  if (setup->scratch != NULL)
    remove_scratch (setup->scratch);
  g_free (setup->scratch);
  g_free (setup->file);
  g_free (setup->database);
  g_free (setup->item);
  g_free (setup);
}

/* --- the modes ------------------------------------------------------------- */

static gboolean
reset_file (RaceSetup *setup, GError **error)
{
  return write_file_count (setup->file, setup->settings.stock, error);
}

static gboolean
reset_database (RaceSetup *setup, GError **error)
{
  const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = g_strconcat (setup->database, suffixes[i], NULL);

      g_unlink (path);
    }
  return race_sqlite_create (setup->database, setup->settings.stock, error);
}

static gboolean
reset_nothing (RaceSetup *setup, GError **error)
{
  /* The item was made before any mode ran. */
  return TRUE;
}

static gboolean
check_file (RaceSetup *setup, RaceRun *run, GError **error)
{
  g_autofree char *text = NULL;
  g_autofree char *shown = NULL;
  gint64 count;

  if (!g_file_get_contents (setup->file, &text, NULL, error))
    return FALSE;
  if (!race_file_parse_count (text, &count))
    {
      shown = g_strescape (text, NULL);
      run->check = g_strdup_printf (_ ("the file is left torn: \"%s\""), shown);
      run->consistent = FALSE;
      return TRUE;
    }
  run->check = g_strdup_printf (_ ("the file says %lld left"), (long long) count);
  run->recorded = (gint64) run->stock - count;
  run->consistent = count + run->sold == run->stock;
  return TRUE;
}

static gboolean
check_database (RaceSetup *setup, RaceRun *run, GError **error)
{
  gint64 sales;
  gint64 remaining;

  if (!race_sqlite_count (setup->database, &sales, &remaining, error))
    return FALSE;
  run->check = g_strdup_printf (P_ ("the database recorded %lld sale, %lld left",
                                    "the database recorded %lld sales, %lld left", (gulong) sales),
                                (long long) sales, (long long) remaining);
  run->recorded = sales;
  run->consistent = sales == run->sold && remaining + run->sold == run->stock;
  return TRUE;
}

static gboolean
check_daemon (RaceSetup *setup, RaceRun *run, GError **error)
{
  const RaceItemState *before = &setup->item_before;
  RaceItemState after;
  guint sales;

  if (!race_dbus_get_item (setup->settings.bus_type, setup->item, &after, error))
    return FALSE;
  sales = after.sold - before->sold;
  run->check = g_strdup_printf (P_ ("the daemon recorded %u sale, %u left",
                                    "the daemon recorded %u sales, %u left", sales),
                                sales, after.remaining);
  run->recorded = sales;
  /* What the buyers were told, what the daemon stored, and the law. */
  run->consistent = after.sold == before->sold + run->sold &&
                    after.remaining + run->sold == before->remaining &&
                    after.remaining + after.sold == after.capacity;
  return TRUE;
}

static gconstpointer
file_data (const RaceSetup *setup)
{
  return &setup->file_data;
}

static gconstpointer
sqlite_data (const RaceSetup *setup)
{
  return &setup->sqlite_data;
}

static gconstpointer
dbus_data (const RaceSetup *setup)
{
  return &setup->dbus_data;
}

typedef struct {
  RaceModeInfo info;
  gboolean (*reset) (RaceSetup *setup, GError **error);
  RaceBuyerFunc buyer;
  gconstpointer (*buyer_data) (const RaceSetup *setup);
  gboolean (*check) (RaceSetup *setup, RaceRun *run, GError **error);
} ModeOps;

static const ModeOps mode_ops[RACE_N_MODES] = {
  [RACE_MODE_FILE] = {
    { "file", "count", N_ ("between its read and its write"),
      N_ ("its write never happened"), NULL, FALSE },
    reset_file, file_buyer, file_data, check_file,
  },
  [RACE_MODE_LOCKED_FILE] = {
    { "locked-file", "count", N_ ("while holding the lock"),
      N_ ("the kernel released its lock"), N_ ("the lock"), FALSE },
    reset_file, locked_file_buyer, file_data, check_file,
  },
  [RACE_MODE_SQLITE] = {
    { "sqlite", "remaining", N_ ("inside its transaction, before COMMIT"),
      N_ ("SQLite rolled its transaction back"), N_ ("the database"), TRUE },
    reset_database, race_sqlite_buyer, sqlite_data, check_database,
  },
  [RACE_MODE_DBUS] = {
    { "dbus", NULL, N_ ("right before calling Buy"),
      N_ ("nothing was sold to it"), NULL, FALSE },
    reset_nothing, race_dbus_buyer, dbus_data, check_daemon,
  },
};

const RaceModeInfo *
race_mode_get_info (RaceMode mode)
{
  g_assert ((guint) mode < RACE_N_MODES);
  return &mode_ops[mode].info;
}

const char *
race_mode_get_name (RaceMode mode)
{
  return race_mode_get_info (mode)->name;
}

gboolean
race_mode_from_name (const char *name, RaceMode *mode)
{
  for (guint i = 0; i < RACE_N_MODES; i++)
    if (g_strcmp0 (mode_ops[i].info.name, name) == 0)
      {
        *mode = (RaceMode) i;
        return TRUE;
      }
  return FALSE;
}

RaceRun *
race_setup_run (RaceSetup *setup, RaceMode mode, GError **error)
{
  const ModeOps *ops = &mode_ops[mode];
  const RaceSettings *settings = &setup->settings;
  /* A raced-for --item has what it has left, not --stock. */
  guint stock = mode == RACE_MODE_DBUS ? setup->item_before.remaining : settings->stock;
  g_autoptr(RaceRun) run = race_run_new (mode, settings, stock);
  RacePoolSpec spec = {
    .label = ops->info.name,
    .n_buyers = settings->buyers,
    .jobs = settings->jobs,
    /* Any buyer would do; the modes with a queue have it take its lock
     * before the release, so the others always queue behind it. */
    .victim = settings->kill_one ? 1 : 0,
    .progress = settings->progress,
    .body = ops->buyer,
    .data = ops->buyer_data (setup),
  };

  run->item = g_strdup (mode == RACE_MODE_DBUS ? setup->item : NULL);
  if (!ops->reset (setup, error) || !race_pool_run (&spec, run->results, &run->seconds, error))
    return NULL;
  race_run_count (run);
  if (!ops->check (setup, run, error))
    return NULL;
  return g_steal_pointer (&run);
}

/* --- runs ------------------------------------------------------------------ */

RaceRun *
race_run_new (RaceMode mode, const RaceSettings *settings, guint stock)
{
  RaceRun *run = g_new0 (RaceRun, 1);

  run->mode = mode;
  run->buyers = settings->buyers;
  run->stock = stock;
  run->delay_ms = settings->delay_ms;
  run->results = g_new0 (RaceBuyerResult, settings->buyers);
  run->recorded = -1;
  return run;
}

void
race_run_free (RaceRun *run)
{
  if (run == NULL)
    return;
  for (guint i = 0; i < run->buyers; i++)
    g_free (run->results[i].detail);
  g_free (run->results);
  g_free (run->item);
  g_free (run->check);
  g_free (run);
}

/* The count of the run that each outcome adds to. */
static const gsize outcome_counts[] = {
  [RACE_OUTCOME_NONE] = G_STRUCT_OFFSET (RaceRun, died),
  [RACE_OUTCOME_BOUGHT] = G_STRUCT_OFFSET (RaceRun, sold),
  [RACE_OUTCOME_SOLD_OUT] = G_STRUCT_OFFSET (RaceRun, sold_out),
  [RACE_OUTCOME_TORN_READ] = G_STRUCT_OFFSET (RaceRun, torn_reads),
  [RACE_OUTCOME_FAILED] = G_STRUCT_OFFSET (RaceRun, failed),
  [RACE_OUTCOME_NO_BUS] = G_STRUCT_OFFSET (RaceRun, no_bus),
};

void
race_run_count (RaceRun *run)
{
  for (guint i = 0; i < run->buyers; i++)
    {
      const RaceBuyerResult *result = &run->results[i];
      RaceOutcome outcome = (guint) result->outcome < G_N_ELEMENTS (outcome_counts)
                              ? result->outcome
                              : RACE_OUTCOME_FAILED;

      run->busy_retries += result->busy_retries;
      G_STRUCT_MEMBER (guint, run, outcome_counts[outcome])++;
      /* No bus is a failure too, counted apart for the report. */
      if (outcome == RACE_OUTCOME_NO_BUS)
        run->failed++;
    }
}

guint
race_run_oversold (const RaceRun *run)
{
  return run->sold > run->stock ? run->sold - run->stock : 0;
}

gint64
race_run_lost_updates (const RaceRun *run)
{
  if (run->recorded < 0)
    return -1;
  return run->sold > run->recorded ? run->sold - run->recorded : 0;
}

gboolean
race_buyer_result_died_unexpectedly (const RaceBuyerResult *result)
{
  int status = result->wait_status;

  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return FALSE;
  return !(result->killed_itself && WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
}
