/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve race`: the words its parts share. The command (reserve-race.c)
 * turns flags into RaceSettings; the modes (race-modes.c, race-sqlite.c,
 * race-dbus.c) and the process pool (race-pool.c) turn them into one RaceRun
 * per mode; the report (race-report.c) prints RaceRuns for people and
 * scripts. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* In the order `--mode all` runs them: from wrong, to right but slow, to
 * right and concurrent. */
typedef enum {
  RACE_MODE_FILE,
  RACE_MODE_LOCKED_FILE,
  RACE_MODE_SQLITE,
  RACE_MODE_DBUS,
} RaceMode;

#define RACE_N_MODES (RACE_MODE_DBUS + 1)

typedef enum {
  RACE_OUTCOME_NONE, /* no result: the buyer died before it reported */
  RACE_OUTCOME_BOUGHT,
  RACE_OUTCOME_SOLD_OUT,
  RACE_OUTCOME_TORN_READ, /* read a half-written file, so could not decide */
  RACE_OUTCOME_FAILED,    /* an error, in the result's detail */
  RACE_OUTCOME_NO_BUS,    /* could not connect to the bus */
} RaceOutcome;

/* The limits of the flags, checked by the command. */
#define RACE_BUYERS_MAX   100000u
#define RACE_STOCK_MAX    1000000000u
#define RACE_DELAY_MS_MAX 10000u
#define RACE_JOBS_MAX     256u
#define RACE_JOBS_DEFAULT 64u

typedef struct {
  guint buyers;
  guint stock;
  guint delay_ms;
  guint jobs;
  gboolean kill_one; /* buyer-1 kills itself at its critical moment */
  gboolean progress; /* a live line on stderr (it is a terminal) */
  gboolean keep;     /* the dbus mode's fresh item stays on sale afterwards */
  GBusType bus_type;
  const char *item; /* nullable: the dbus mode creates a fresh item */
  const char *file; /* nullable: the file modes use a scratch file */
} RaceSettings;

/* One buyer as the parent saw it: what it reported through its pipe and
 * how waitpid() says it ended. Times are microseconds since the parent
 * released the barrier; -1 for what did not happen. */
typedef struct {
  guint index; /* buyer-INDEX, from 1 */
  GPid pid;
  RaceOutcome outcome;
  gint64 seen;            /* the count it read (dbus: remaining after its Buy); -1: none */
  gint64 start;           /* passed the barrier */
  gint64 read;            /* read the stock (dbus: sent Buy) */
  gint64 write;           /* wrote it back (dbus: its order came back) */
  gint64 end;             /* done, or about to die */
  guint32 busy_retries;   /* sqlite: times it found the database locked */
  guint64 order;          /* dbus: its order id */
  gboolean killed_itself; /* the --kill-one buyer reached its critical moment */
  int wait_status;
  char *detail; /* (nullable) what went wrong, or what a torn read saw */
} RaceBuyerResult;

/* One mode's run, counted. */
typedef struct {
  RaceMode mode;
  guint buyers;
  guint stock;
  guint delay_ms;
  guint sold; /* buyers told "bought" */
  guint sold_out;
  guint torn_reads;
  guint failed; /* errors, the bus ones included */
  guint no_bus;
  guint died; /* buyers that never reported */
  guint64 busy_retries;
  gdouble seconds;
  RaceBuyerResult *results; /* (array length=buyers) by index */
  char *item;               /* dbus: the item raced for */
  /* The check after the run, of the file, the database or the daemon. */
  gboolean consistent; /* it agrees with what the buyers were told */
  char *check;         /* what it found, for people */
  gint64 recorded;     /* units it shows taken from the stock; -1: it cannot tell (torn) */
} RaceRun;

RaceRun *race_run_new (RaceMode mode, const RaceSettings *settings, guint stock);
void race_run_free (RaceRun *run);
/* Counts the results into the totals above. */
void race_run_count (RaceRun *run);
/* Sold beyond the stock, 0 if none. */
guint race_run_oversold (const RaceRun *run);
/* Sales the stock does not show: buyers told "bought" whose write another
 * buyer's overwrote. 0 if none, -1 if the stock cannot tell (a torn
 * file). A race can lose updates without overselling: 12 buyers for 100
 * units may all be told "bought" while the count went down by one. */
gint64 race_run_lost_updates (const RaceRun *run);
/* TRUE if the buyer ended any way but the one --kill-one asked for. */
gboolean race_buyer_result_died_unexpectedly (const RaceBuyerResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RaceRun, race_run_free)

G_END_DECLS
