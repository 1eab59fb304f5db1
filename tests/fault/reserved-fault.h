/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control block of the fault-injection shim (reserved-fault-shim.so),
 * shared by the shim inside the daemon and the test that drives it.
 *
 * The test creates a file holding one ReservedFaultControl, maps it, and
 * starts the daemon with
 *
 *   LD_PRELOAD=.../reserved-fault-shim.so
 *   RESERVED_FAULT_CONTROL=<that file>
 *   RESERVED_FAULT_DATABASE=<the database path, absolute, no symlinks>
 *
 * The shim maps the same file (MAP_SHARED), so the test changes what the
 * shim does while the daemon runs, and reads its counters, even after the
 * daemon died. Every field is read and written with __atomic builtins.
 *
 * The shim only touches the database's own files: the database, its -wal
 * and its -journal, and a new database being built as <database>-new with
 * its -new-journal (never the -shm, which is memory-mapped and rebuilt
 * after a crash anyway), plus fsyncs of the database's folder. Their descriptors are recognised by the path
 * /proc/self/fd/N points to.
 *
 * Modes:
 *
 * ERRORS: fsync/fdatasync and write/pwrite/pwrite64 of those files fail
 *   with `error` (EIO unless set) at the points the test chooses: the next
 *   `fail_syncs` syncs fail without syncing; writes pass `skip_writes`
 *   more, then the next `fail_writes` fail (some of them after writing a
 *   prefix of their data for real: a torn write).
 *
 * POWER_LOSS: every write, truncation and deletion of those files since
 *   the file's last successful fsync/fdatasync is unsynced. At event number
 *   `crash_at` (writes, syncs, truncations and deletions of those files,
 *   counted from 1 since the daemon started) the shim does not perform the
 *   event; it puts every file back as the disk held it at its last sync
 *   (undoing the unsynced writes, newest first), then, unless keep_percent
 *   is 0, lets each unsynced 512-byte sector (and each truncation) survive
 *   with that probability, as a disk that wrote some of its cache before
 *   the power went; then it _exit()s with RESERVED_FAULT_CRASH_STATUS.
 *   Creating and deleting files is taken as durable at once; renaming the
 *   new database into place is not: it is lost with the power unless an
 *   fsync of the folder came after it (or, with keep_percent, by chance).
 *
 * In every mode the shim counts what it saw in the counters below. */
#pragma once

#include <stdint.h>

#define RESERVED_FAULT_MAGIC        0x52464c54u /* "RFLT" */
#define RESERVED_FAULT_CRASH_STATUS 86

enum {
  RESERVED_FAULT_MODE_PASS = 0,
  RESERVED_FAULT_MODE_ERRORS = 1,
  RESERVED_FAULT_MODE_POWER_LOSS = 2,
};

/* Which files the ERRORS mode fails (a bit mask; 0 means all). */
enum {
  RESERVED_FAULT_FILE_DB = 1 << 0,
  RESERVED_FAULT_FILE_WAL = 1 << 1,
  RESERVED_FAULT_FILE_JOURNAL = 1 << 2,
  RESERVED_FAULT_FILE_NEW = 1 << 3,
  RESERVED_FAULT_FILE_NEW_JOURNAL = 1 << 4,
};

typedef struct {
  uint32_t magic;
  uint32_t mode;

  /* ERRORS: set by the test, used up by the shim. */
  uint32_t files;
  int32_t error; /* errno to fail with; 0: EIO */
  int32_t fail_syncs;
  int32_t skip_writes;
  int32_t fail_writes;
  uint32_t seed; /* for torn writes and kept sectors */

  /* POWER_LOSS: set by the test. */
  uint64_t crash_at; /* 0: never */
  uint32_t keep_percent;
  uint32_t padding;

  /* Counters, written by the shim. */
  uint64_t events; /* writes + syncs + truncations + deletions */
  uint64_t writes;
  uint64_t syncs;
  uint64_t failed_writes;
  uint64_t torn_writes;
  uint64_t failed_syncs;
  uint64_t crashed;     /* 1 once the shim simulated the power loss */
  uint64_t lost_writes; /* unsynced writes undone at the crash */
  uint64_t lost_bytes;
} ReservedFaultControl;
