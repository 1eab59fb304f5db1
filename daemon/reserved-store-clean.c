/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-store"

#include "reserved-store-clean.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reserve-error.h"
#include "reserved-store-sql.h"

/* The record names the file it vouches for by everything a write, a
 * replacement or a truncation changes: a copy put in its place, a repair
 * with the sqlite3 shell, a byte changed by hand all show. */
#define RECORD_SCAN                                                                             \
  "reserved clean stop 1\n%" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 \
  " %" SCNd64 "\n%n"
#define RECORD_PRINT                                                                            \
  "reserved clean stop 1\n%" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 \
  " %" PRId64 "\n"

typedef struct {
  uint64_t device, inode;
  int64_t size, mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
} FileIdentity;

static gboolean
identity_equal (const FileIdentity *a, const FileIdentity *b)
{
  return a->device == b->device && a->inode == b->inode && a->size == b->size &&
         a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
         a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

static void
identity_of (const struct stat *st, FileIdentity *id)
{
  *id = (FileIdentity){
    .device = (uint64_t) st->st_dev,
    .inode = (uint64_t) st->st_ino,
    .size = (int64_t) st->st_size,
    .mtime_sec = (int64_t) st->st_mtim.tv_sec,
    .mtime_nsec = (int64_t) st->st_mtim.tv_nsec,
    .ctime_sec = (int64_t) st->st_ctim.tv_sec,
    .ctime_nsec = (int64_t) st->st_ctim.tv_nsec,
  };
}

/* A log or journal with anything in it holds changes the file alone does
 * not show. */
static gboolean
beside_is_empty (const char *path, const char *suffix)
{
  g_autofree char *beside = g_strconcat (path, suffix, NULL);
  struct stat st;

  return stat (beside, &st) != 0 ? errno == ENOENT : st.st_size == 0;
}

static gboolean
vouches (const char *path, const char *record, char **why)
{
  FileIdentity recorded = { 0 }, now;
  struct stat st;
  int end = -1;

  if (sscanf (record, RECORD_SCAN, &recorded.device, &recorded.inode, &recorded.size,
              &recorded.mtime_sec, &recorded.mtime_nsec, &recorded.ctime_sec, &recorded.ctime_nsec,
              &end) != 7 ||
      end < 0 || record[end] != '\0')
    {
      *why = g_strdup ("its record of a clean stop is damaged");
      return FALSE;
    }
  if (stat (path, &st) != 0)
    {
      *why = g_strdup_printf ("it cannot be examined: %s", g_strerror (errno));
      return FALSE;
    }
  identity_of (&st, &now);
  if (!identity_equal (&now, &recorded))
    {
      *why = g_strdup ("it was changed or replaced after its clean stop");
      return FALSE;
    }
  if (!beside_is_empty (path, "-wal") || !beside_is_empty (path, "-journal"))
    {
      *why = g_strdup ("a write-ahead log or journal beside it holds changes");
      return FALSE;
    }
  return TRUE;
}

gboolean
store_clean_take (const char *path, gboolean *clean, char **why, GError **error)
{
  g_autofree char *record_path = g_strconcat (path, "-clean", NULL);
  g_autofree char *folder = g_path_get_dirname (path);
  g_autofree char *record = NULL;
  g_autoptr(GError) read_error = NULL;

  *clean = FALSE;
  *why = NULL;
  if (g_file_get_contents (record_path, &record, NULL, &read_error))
    *clean = vouches (path, record, why);
  else if (g_error_matches (read_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      *why = g_strdup ("no clean stop was recorded");
      return TRUE;
    }
  else
    *why = g_strdup_printf ("its record of a clean stop cannot be read: %s", read_error->message);

  /* Gone, on disk, before the first write: a crash in this life must not
   * find it. */
  if (unlink (record_path) != 0 && errno != ENOENT)
    {
      int saved = errno;

      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                   "cannot remove %s, which must not outlive this start: %s", record_path,
                   g_strerror (saved));
      return FALSE;
    }
  return store_sql_sync_path (folder, O_RDONLY | O_DIRECTORY, error);
}

/* A write in the same tick of the file system's clock as the last one
 * leaves the file's times as they were. So they are taken only once that
 * clock has moved past them: any later write shows. On a file system that
 * keeps whole seconds only, that cannot be told, and FALSE says so. */
static gboolean
stat_settled (const char *path, struct stat *st, char **why)
{
  for (guint waited_ms = 0; waited_ms < 100; waited_ms++)
    {
      struct timespec now;

      if (stat (path, st) != 0)
        {
          *why = g_strdup_printf ("it cannot be examined: %s", g_strerror (errno));
          return FALSE;
        }
      if (st->st_ctim.tv_nsec == 0)
        {
          *why = g_strdup ("its file system keeps no fractions of a second");
          return FALSE;
        }
      clock_gettime (CLOCK_REALTIME_COARSE, &now);
      if (now.tv_sec > st->st_ctim.tv_sec ||
          (now.tv_sec == st->st_ctim.tv_sec && now.tv_nsec > st->st_ctim.tv_nsec))
        return TRUE;
      g_usleep (1000);
    }
  *why = g_strdup ("its change time lies in the future");
  return FALSE;
}

void
store_clean_record (const char *path)
{
  g_autofree char *record_path = g_strconcat (path, "-clean", NULL);
  g_autofree char *folder = g_path_get_dirname (path);
  g_autofree char *record = NULL;
  g_autofree char *why = NULL;
  g_autoptr(GError) error = NULL;
  FileIdentity id;
  struct stat st;

  /* Closing checkpoints the log into the file, syncs it and removes the
   * log; a log still there means another connection had it open, or the
   * checkpoint failed. */
  if (!beside_is_empty (path, "-wal") || !beside_is_empty (path, "-journal"))
    why = g_strdup ("its write-ahead log was not emptied into it");
  else if (stat_settled (path, &st, &why))
    {
      identity_of (&st, &id);
      record = g_strdup_printf (RECORD_PRINT, id.device, id.inode, id.size, id.mtime_sec,
                                id.mtime_nsec, id.ctime_sec, id.ctime_nsec);
      /* Durable, then renamed into place, then the folder synced: the
       * record, when a crash leaves it, is whole. */
      if (!g_file_set_contents_full (record_path, record, -1,
                                     G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                     0600, &error) ||
          !store_sql_sync_path (folder, O_RDONLY | O_DIRECTORY, &error))
        why = g_strdup (error->message);
    }
  if (why != NULL)
    g_message ("Not recording a clean stop of %s (%s): the next start checks every page", path,
               why);
}
