/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An LD_PRELOAD library that makes the disk under the daemon's database
 * misbehave: failed fsyncs and writes, or a power loss at a chosen point.
 * What it does is set at run time through a shared control block; see
 * reserved-fault.h. Without RESERVED_FAULT_CONTROL it only passes calls on.
 *
 * It intercepts what SQLite's unix VFS uses on those files: write, pwrite,
 * pwrite64, fsync, fdatasync, ftruncate, ftruncate64, unlink and rename,
 * plus open, open64 and close to keep its table of which descriptor is
 * which file.
 * It uses no GLib: it runs inside the daemon, under every libc call. */
#define _GNU_SOURCE

#include "reserved-fault.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define SECTOR  512
#define MAX_FDS 4096

/* What a descriptor is; 0 until looked up. */
#define N_FILES 5
enum {
  KIND_UNKNOWN = 0,
  KIND_OTHER = 1,
  KIND_DB = 2,                     /* then the others: KIND_DB + file index */
  KIND_FOLDER = KIND_DB + N_FILES, /* the database's folder */
};
/* The file index of a new database, built under its own name and renamed
 * into place. */
#define FILE_DB  0
#define FILE_NEW 3

/* --- the real functions ---------------------------------------------------- */

typedef ssize_t (*WriteFn) (int, const void *, size_t);
typedef ssize_t (*PwriteFn) (int, const void *, size_t, off_t);
typedef ssize_t (*Pwrite64Fn) (int, const void *, size_t, off64_t);
typedef int (*SyncFn) (int);
typedef int (*FtruncateFn) (int, off_t);
typedef int (*Ftruncate64Fn) (int, off64_t);
typedef int (*UnlinkFn) (const char *);
typedef int (*RenameFn) (const char *, const char *);
typedef int (*OpenFn) (const char *, int, ...);
typedef int (*CloseFn) (int);

static struct {
  WriteFn write;
  PwriteFn pwrite;
  Pwrite64Fn pwrite64;
  SyncFn fsync;
  SyncFn fdatasync;
  FtruncateFn ftruncate;
  Ftruncate64Fn ftruncate64;
  UnlinkFn unlink;
  RenameFn rename;
  OpenFn open;
  OpenFn open64;
  CloseFn close;
} real;

/* Calls can arrive before the constructor ran (from other libraries'
 * constructors), so each function is looked up when first needed.
 * dlsym() hands back an object pointer; a union turns it into a function
 * pointer without a cast ISO C forbids. */
#define DEFINE_REAL(field, Type)                               \
  static Type real_##field (void)                              \
  {                                                            \
    Type fn = __atomic_load_n (&real.field, __ATOMIC_ACQUIRE); \
    if (fn == NULL)                                            \
      {                                                        \
        union {                                                \
          void *object;                                        \
          Type fn;                                             \
        } u;                                                   \
        u.object = dlsym (RTLD_NEXT, #field);                  \
        fn = u.fn;                                             \
        __atomic_store_n (&real.field, fn, __ATOMIC_RELEASE);  \
      }                                                        \
    return fn;                                                 \
  }

DEFINE_REAL (write, WriteFn)
DEFINE_REAL (pwrite, PwriteFn)
DEFINE_REAL (pwrite64, Pwrite64Fn)
DEFINE_REAL (fsync, SyncFn)
DEFINE_REAL (fdatasync, SyncFn)
DEFINE_REAL (ftruncate, FtruncateFn)
DEFINE_REAL (ftruncate64, Ftruncate64Fn)
DEFINE_REAL (unlink, UnlinkFn)
DEFINE_REAL (rename, RenameFn)
DEFINE_REAL (open, OpenFn)
DEFINE_REAL (open64, OpenFn)
DEFINE_REAL (close, CloseFn)

#define REAL(field, name) real_##field ()

/* --- configuration ------------------------------------------------------- */

static ReservedFaultControl *control;
static char paths[N_FILES][PATH_MAX + 16];
static char folder[PATH_MAX + 16];
/* A rename of the new database into place that no fsync of the folder has
 * made durable yet, and whether an (empty) file stood there before. */
static int rename_unsynced;
static int rename_replaced;
static unsigned char fd_kind[MAX_FDS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t rng_state;

__attribute__ ((constructor)) static void
shim_init (void)
{
  const char *control_path = getenv ("RESERVED_FAULT_CONTROL");
  const char *database = getenv ("RESERVED_FAULT_DATABASE");
  static const char *const suffixes[N_FILES] = { "", "-wal", "-journal", "-new", "-new-journal" };
  char *slash;
  void *mapped;
  int fd;

  if (control_path == NULL || database == NULL)
    return;
  if (strlen (database) > PATH_MAX)
    {
      fprintf (stderr, "reserved-fault-shim: database path too long\n");
      _exit (2);
    }
  for (int i = 0; i < N_FILES; i++)
    snprintf (paths[i], sizeof paths[i], "%s%s", database, suffixes[i]);
  snprintf (folder, sizeof folder, "%s", database);
  slash = strrchr (folder, '/');
  if (slash != NULL)
    *(slash == folder ? slash + 1 : slash) = '\0';

  fd = REAL (open, "open") (control_path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      fprintf (stderr, "reserved-fault-shim: cannot open %s: %s\n", control_path, strerror (errno));
      _exit (2);
    }
  mapped = mmap (NULL, sizeof (ReservedFaultControl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  REAL (close, "close") (fd);
  if (mapped == MAP_FAILED || ((ReservedFaultControl *) mapped)->magic != RESERVED_FAULT_MAGIC)
    {
      fprintf (stderr, "reserved-fault-shim: %s is not a fault control file\n", control_path);
      _exit (2);
    }
  rng_state = ((ReservedFaultControl *) mapped)->seed | 1u;
  __atomic_store_n (&control, (ReservedFaultControl *) mapped, __ATOMIC_RELEASE);
}

static uint32_t
mode (void)
{
  ReservedFaultControl *c = __atomic_load_n (&control, __ATOMIC_ACQUIRE);

  return c != NULL ? __atomic_load_n (&c->mode, __ATOMIC_ACQUIRE) : RESERVED_FAULT_MODE_PASS;
}

static void
count (uint64_t *counter, uint64_t amount)
{
  __atomic_add_fetch (counter, amount, __ATOMIC_ACQ_REL);
}

/* Uses up one of *budget if there is one left. */
static int
take (int32_t *budget)
{
  int32_t left = __atomic_load_n (budget, __ATOMIC_ACQUIRE);

  while (left > 0)
    if (__atomic_compare_exchange_n (budget, &left, left - 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
      return 1;
  return 0;
}

/* xorshift32, under the lock or from one thread at a time. */
static uint32_t
next_random (void)
{
  uint32_t x = rng_state;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng_state = x;
  return x;
}

static int
kind_of_path (const char *path)
{
  for (int i = 0; i < N_FILES; i++)
    if (strcmp (path, paths[i]) == 0)
      return KIND_DB + i;
  if (strcmp (path, folder) == 0)
    return KIND_FOLDER;
  return KIND_OTHER;
}

/* Which file @fd is: one of the database's, or another one. */
static int
kind_of_fd (int fd)
{
  char link[32];
  char target[PATH_MAX + 16];
  ssize_t length;
  int kind;

  if (control == NULL || fd < 0 || fd >= MAX_FDS)
    return KIND_OTHER;
  kind = __atomic_load_n (&fd_kind[fd], __ATOMIC_ACQUIRE);
  if (kind != KIND_UNKNOWN)
    return kind;
  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  length = readlink (link, target, sizeof target - 1);
  if (length < 0)
    return KIND_OTHER;
  target[length] = '\0';
  kind = kind_of_path (target);
  __atomic_store_n (&fd_kind[fd], (unsigned char) kind, __ATOMIC_RELEASE);
  return kind;
}

static void
forget_fd (int fd)
{
  if (fd >= 0 && fd < MAX_FDS)
    __atomic_store_n (&fd_kind[fd], KIND_UNKNOWN, __ATOMIC_RELEASE);
}

static int
selected (int kind)
{
  uint32_t files = __atomic_load_n (&control->files, __ATOMIC_ACQUIRE);

  return files == 0 || (files & (1u << (kind - KIND_DB))) != 0;
}

static int
fault_errno (void)
{
  int error = __atomic_load_n (&control->error, __ATOMIC_ACQUIRE);

  return error != 0 ? error : EIO;
}

/* --- power loss: what the disk does not have yet ------------------------------ */

typedef struct {
  int truncate;            /* 0: a write */
  int64_t offset;          /* a write's position; a truncation's new size */
  int64_t length;          /* bytes written */
  int64_t old_size;        /* the file's size before */
  unsigned char *old_data; /* what the write covered, or the truncation cut off */
  int64_t old_length;
  unsigned char *new_data; /* what the write wrote */
} Record;

static struct {
  Record *records;
  size_t n;
  size_t allocated;
} unsynced[N_FILES];

static void
forget_unsynced (int file)
{
  for (size_t i = 0; i < unsynced[file].n; i++)
    {
      free (unsynced[file].records[i].old_data);
      free (unsynced[file].records[i].new_data);
    }
  unsynced[file].n = 0;
}

static Record *
add_record (int file)
{
  if (unsynced[file].n == unsynced[file].allocated)
    {
      size_t allocated = unsynced[file].allocated ? unsynced[file].allocated * 2 : 64;
      Record *grown = realloc (unsynced[file].records, allocated * sizeof (Record));

      if (grown == NULL)
        {
          fprintf (stderr, "reserved-fault-shim: out of memory\n");
          _exit (2);
        }
      unsynced[file].records = grown;
      unsynced[file].allocated = allocated;
    }
  memset (&unsynced[file].records[unsynced[file].n], 0, sizeof (Record));
  return &unsynced[file].records[unsynced[file].n++];
}

static int64_t
file_size (int fd)
{
  struct stat st;

  return fstat (fd, &st) == 0 ? (int64_t) st.st_size : 0;
}

/* The bytes of [offset, offset + length) that exist in the file. */
static unsigned char *
read_range (int fd, int64_t offset, int64_t length, int64_t size, int64_t *got_out)
{
  int64_t want = offset < size ? (length < size - offset ? length : size - offset) : 0;
  unsigned char *data = malloc (want > 0 ? (size_t) want : 1);
  int64_t got = 0;

  if (data == NULL)
    _exit (2);
  while (got < want)
    {
      ssize_t n = pread (fd, data + got, (size_t) (want - got), offset + got);
      if (n <= 0)
        break;
      got += n;
    }
  *got_out = got;
  return data;
}

static void
write_all (int fd, const unsigned char *data, int64_t length, int64_t offset)
{
  int64_t done = 0;

  while (done < length)
    {
      ssize_t n =
        REAL (pwrite, "pwrite") (fd, data + done, (size_t) (length - done), offset + done);
      if (n <= 0)
        break;
      done += n;
    }
}

static int
keep (void)
{
  return next_random () % 100 < __atomic_load_n (&control->keep_percent, __ATOMIC_ACQUIRE);
}

/* The power goes: each file becomes what its last sync left on the disk,
 * plus, maybe, some of the sectors written since. */
__attribute__ ((noreturn)) static void
power_loss (void)
{
  for (int file = 0; file < N_FILES; file++)
    {
      int fd;

      if (unsynced[file].n == 0)
        continue;
      fd = REAL (open, "open") (paths[file], O_RDWR | O_CLOEXEC);
      if (fd < 0)
        continue; /* deleted since: nothing to lose */
      for (size_t i = unsynced[file].n; i-- > 0;)
        {
          Record *r = &unsynced[file].records[i];

          if (r->truncate)
            {
              REAL (ftruncate, "ftruncate") (fd, r->old_size);
              write_all (fd, r->old_data, r->old_length, r->offset);
            }
          else
            {
              write_all (fd, r->old_data, r->old_length, r->offset);
              REAL (ftruncate, "ftruncate") (fd, r->old_size);
              count (&control->lost_writes, 1);
              count (&control->lost_bytes, (uint64_t) r->length);
            }
        }
      for (size_t i = 0;
           __atomic_load_n (&control->keep_percent, __ATOMIC_ACQUIRE) > 0 && i < unsynced[file].n;
           i++)
        {
          Record *r = &unsynced[file].records[i];

          if (r->truncate)
            {
              if (keep ())
                REAL (ftruncate, "ftruncate") (fd, r->offset);
              continue;
            }
          for (int64_t at = r->offset; at < r->offset + r->length;)
            {
              int64_t end = (at / SECTOR + 1) * SECTOR;

              if (end > r->offset + r->length)
                end = r->offset + r->length;
              if (keep ())
                write_all (fd, r->new_data + (at - r->offset), end - at, at);
              at = end;
            }
        }
      REAL (close, "close") (fd);
    }
  /* A rename the folder's fsync did not make durable may be lost too. */
  if (rename_unsynced &&
      !(__atomic_load_n (&control->keep_percent, __ATOMIC_ACQUIRE) > 0 && keep ()))
    {
      REAL (rename, "rename") (paths[FILE_DB], paths[FILE_NEW]);
      if (rename_replaced)
        REAL (close, "close")
      (REAL (open, "open") (paths[FILE_DB], O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    }
  __atomic_store_n (&control->crashed, 1, __ATOMIC_RELEASE);
  _exit (RESERVED_FAULT_CRASH_STATUS);
}

/* Counts one event; the one the test chose is where the power goes. Call
 * with the lock held. */
static void
event (void)
{
  uint64_t number = __atomic_add_fetch (&control->events, 1, __ATOMIC_ACQ_REL);

  if (number == __atomic_load_n (&control->crash_at, __ATOMIC_ACQUIRE))
    power_loss ();
}

/* --- the wrappers ---------------------------------------------------------- */

typedef enum { CALL_WRITE, CALL_PWRITE, CALL_PWRITE64 } WriteCall;

static ssize_t
call_write (WriteCall call, int fd, const void *buf, size_t n, off64_t offset)
{
  switch (call)
    {
    case CALL_PWRITE:
      return REAL (pwrite, "pwrite") (fd, buf, n, (off_t) offset);
    case CALL_PWRITE64:
      return REAL (pwrite64, "pwrite64") (fd, buf, n, offset);
    case CALL_WRITE:
    default:
      return REAL (write, "write") (fd, buf, n);
    }
}

static ssize_t
handle_write (WriteCall call, int fd, const void *buf, size_t n, off64_t offset)
{
  int kind = kind_of_fd (fd);
  uint32_t m = mode ();

  if (kind < KIND_DB || kind == KIND_FOLDER || m == RESERVED_FAULT_MODE_PASS)
    return call_write (call, fd, buf, n, offset);
  count (&control->writes, 1);

  if (m == RESERVED_FAULT_MODE_ERRORS)
    {
      int error;

      if (!selected (kind) || take (&control->skip_writes) || !take (&control->fail_writes))
        return call_write (call, fd, buf, n, offset);
      error = fault_errno ();
      count (&control->failed_writes, 1);
      pthread_mutex_lock (&lock);
      /* Half the failures first write part of the data: a torn write. */
      if (n > 1 && next_random () % 2 == 0)
        {
          call_write (call, fd, buf, 1 + next_random () % (n - 1), offset);
          count (&control->torn_writes, 1);
        }
      pthread_mutex_unlock (&lock);
      errno = error;
      return -1;
    }

  /* Power loss: keep what the write replaces until the next sync. */
  {
    int64_t at = call == CALL_WRITE ? (int64_t) lseek (fd, 0, SEEK_CUR) : (int64_t) offset;
    int64_t size, old_length = 0;
    unsigned char *old_data;
    ssize_t written;
    int saved;

    pthread_mutex_lock (&lock);
    event ();
    size = file_size (fd);
    old_data = read_range (fd, at, (int64_t) n, size, &old_length);
    written = call_write (call, fd, buf, n, offset);
    saved = errno;
    if (written > 0)
      {
        Record *r = add_record (kind - KIND_DB);

        r->offset = at;
        r->length = written;
        r->old_size = size;
        r->old_data = old_data;
        r->old_length = old_length < written ? old_length : written;
        r->new_data = malloc ((size_t) written);
        if (r->new_data == NULL)
          _exit (2);
        memcpy (r->new_data, buf, (size_t) written);
      }
    else
      free (old_data);
    pthread_mutex_unlock (&lock);
    errno = saved;
    return written;
  }
}

ssize_t
write (int fd, const void *buf, size_t n)
{
  return handle_write (CALL_WRITE, fd, buf, n, 0);
}

ssize_t
pwrite (int fd, const void *buf, size_t n, off_t offset)
{
  return handle_write (CALL_PWRITE, fd, buf, n, offset);
}

ssize_t
pwrite64 (int fd, const void *buf, size_t n, off64_t offset)
{
  return handle_write (CALL_PWRITE64, fd, buf, n, offset);
}

static int
handle_sync (SyncFn fn, int fd)
{
  int kind = kind_of_fd (fd);
  uint32_t m = mode ();
  int rc;

  if (kind < KIND_DB || m == RESERVED_FAULT_MODE_PASS)
    return fn (fd);
  if (kind == KIND_FOLDER)
    {
      if (m != RESERVED_FAULT_MODE_POWER_LOSS)
        return fn (fd);
      /* What makes a rename durable. */
      pthread_mutex_lock (&lock);
      event ();
      rc = fn (fd);
      if (rc == 0)
        rename_unsynced = 0;
      pthread_mutex_unlock (&lock);
      return rc;
    }
  count (&control->syncs, 1);

  if (m == RESERVED_FAULT_MODE_ERRORS)
    {
      if (!selected (kind) || !take (&control->fail_syncs))
        return fn (fd);
      count (&control->failed_syncs, 1);
      errno = fault_errno ();
      return -1;
    }

  pthread_mutex_lock (&lock);
  event ();
  rc = fn (fd);
  if (rc == 0)
    forget_unsynced (kind - KIND_DB);
  pthread_mutex_unlock (&lock);
  return rc;
}

int
fsync (int fd)
{
  return handle_sync (REAL (fsync, "fsync"), fd);
}

int
fdatasync (int fd)
{
  return handle_sync (REAL (fdatasync, "fdatasync"), fd);
}

static int
handle_truncate (int fd, off64_t length, int wide)
{
  int kind = kind_of_fd (fd);
  int64_t size, old_length = 0;
  unsigned char *old_data;
  int rc, saved;

  if (kind < KIND_DB || kind == KIND_FOLDER || mode () != RESERVED_FAULT_MODE_POWER_LOSS)
    return wide ? REAL (ftruncate64, "ftruncate64") (fd, length)
                : REAL (ftruncate, "ftruncate") (fd, (off_t) length);

  pthread_mutex_lock (&lock);
  event ();
  size = file_size (fd);
  old_data = read_range (fd, length, size > length ? size - length : 0, size, &old_length);
  rc = wide ? REAL (ftruncate64, "ftruncate64") (fd, length)
            : REAL (ftruncate, "ftruncate") (fd, (off_t) length);
  saved = errno;
  if (rc == 0)
    {
      Record *r = add_record (kind - KIND_DB);

      r->truncate = 1;
      r->offset = length;
      r->old_size = size;
      r->old_data = old_data;
      r->old_length = old_length;
    }
  else
    free (old_data);
  pthread_mutex_unlock (&lock);
  errno = saved;
  return rc;
}

int
ftruncate (int fd, off_t length)
{
  return handle_truncate (fd, length, 0);
}

int
ftruncate64 (int fd, off64_t length)
{
  return handle_truncate (fd, length, 1);
}

int
unlink (const char *path)
{
  int kind = control != NULL ? kind_of_path (path) : KIND_OTHER;
  int rc, saved;

  if (kind < KIND_DB || kind == KIND_FOLDER || mode () != RESERVED_FAULT_MODE_POWER_LOSS)
    return REAL (unlink, "unlink") (path);
  /* A crash just before SQLite deletes its journal or log is a point of
   * its own; the deletion itself is taken as durable. */
  pthread_mutex_lock (&lock);
  event ();
  rc = REAL (unlink, "unlink") (path);
  saved = errno;
  if (rc == 0)
    forget_unsynced (kind - KIND_DB);
  pthread_mutex_unlock (&lock);
  errno = saved;
  return rc;
}

/* The new database renamed into place: its unsynced writes are now the
 * database's, and the rename itself is unsynced until the folder is. */
int
rename (const char *from, const char *to)
{
  int from_kind = control != NULL ? kind_of_path (from) : KIND_OTHER;
  int to_kind = control != NULL ? kind_of_path (to) : KIND_OTHER;
  struct stat st;
  int replaced, rc, saved;

  if (from_kind != KIND_DB + FILE_NEW || to_kind != KIND_DB + FILE_DB ||
      mode () != RESERVED_FAULT_MODE_POWER_LOSS)
    return REAL (rename, "rename") (from, to);

  pthread_mutex_lock (&lock);
  event ();
  replaced = stat (to, &st) == 0;
  rc = REAL (rename, "rename") (from, to);
  saved = errno;
  if (rc == 0)
    {
      forget_unsynced (FILE_DB);
      free (unsynced[FILE_DB].records);
      unsynced[FILE_DB] = unsynced[FILE_NEW];
      memset (&unsynced[FILE_NEW], 0, sizeof unsynced[FILE_NEW]);
      rename_unsynced = 1;
      rename_replaced = replaced;
    }
  pthread_mutex_unlock (&lock);
  errno = saved;
  return rc;
}

static int
opened (int fd)
{
  forget_fd (fd);
  return fd;
}

/* open() and open64() are the same function under two names (see
 * meson.build); the mode argument is there only when a file may be
 * created. */
#define DEFINE_OPEN(name)                                          \
  int name (const char *path, int flags, ...)                      \
  {                                                                \
    mode_t create_mode = 0;                                        \
                                                                   \
    if (flags & (O_CREAT | O_TMPFILE))                             \
      {                                                            \
        va_list ap;                                                \
        va_start (ap, flags);                                      \
        create_mode = va_arg (ap, mode_t);                         \
        va_end (ap);                                               \
      }                                                            \
    return opened (REAL (name, #name) (path, flags, create_mode)); \
  }

DEFINE_OPEN (open)
DEFINE_OPEN (open64)

int
close (int fd)
{
  forget_fd (fd);
  return REAL (close, "close") (fd);
}
