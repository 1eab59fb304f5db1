/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The buyers of `reserve race`: one forked process per buyer (pool.h), at
 * most `jobs` at a time, each reporting to the parent through its own pipe.
 * A buyer's locks are its own, so the kernel drops them when it dies.
 *
 * The parent must never hold GDBus state: a process that forks after GDBus
 * started its worker thread leaves the child without one, and the child's
 * own connections then hang. The pool keeps forking buyers for the whole
 * run (as buyers finish, new ones start), so the parent talks to the
 * daemon only through pool_call_in_child(), and every buyer opens its
 * own connection after the fork. */
#pragma once

#include "race.h"

G_BEGIN_DECLS

/* --- in a buyer (the child) ----------------------------------------------- */

typedef struct {
  guint index;     /* from 1 */
  char name[24];   /* "buyer-7": also its customer name in dbus mode */
  gboolean victim; /* --kill-one picked this buyer */

  /* What the buyer reports: the mode's body fills these in, the pool sends
   * them when the body returns. Times are g_get_monotonic_time(), which is
   * the same clock in every process; 0 for what did not happen. */
  RaceOutcome outcome;
  gint64 seen; /* -1: read nothing */
  gint64 start_time;
  gint64 read_time;
  gint64 write_time;
  guint32 busy_retries;
  guint64 order;
  char detail[256];

  /* The pool's. */
  int report_fd;
  int barrier_fd;
} RaceBuyer;

/* The mode's buyer: runs in the child, prepares what need not be timed
 * (opening the file, the database, the bus connection), calls
 * race_buyer_wait_for_start(), then buys once. @data is the spec's. */
typedef void (*RaceBuyerFunc) (RaceBuyer *buyer, gconstpointer data);

/* Tells the parent this buyer is ready and blocks until the parent
 * releases every buyer of the first batch at once. */
void race_buyer_wait_for_start (RaceBuyer *buyer);

/* Records that the buyer read @seen now. */
void race_buyer_note_read (RaceBuyer *buyer, gint64 seen);
/* Records that the buyer wrote now (and so bought). */
void race_buyer_note_bought (RaceBuyer *buyer);

/* Where --kill-one strikes: the victim tells the parent what it did so
 * far and SIGKILLs itself here, inside its critical section. Any other
 * buyer just goes on. */
void race_buyer_critical_moment (RaceBuyer *buyer);

/* Ends the buyer's attempt with @outcome (FAILED, NO_BUS, TORN_READ) and
 * a detail for the report. */
void race_buyer_give_up (RaceBuyer *buyer, RaceOutcome outcome, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

/* --- in the parent -------------------------------------------------------- */

typedef struct {
  const char *label; /* for the progress line: the mode's name */
  guint n_buyers;
  guint jobs;
  guint victim; /* the --kill-one buyer's index, 0 for none */
  gboolean progress;
  RaceBuyerFunc body;
  gconstpointer data;
} RacePoolSpec;

/* Runs every buyer to its end and fills @results (n_buyers of them, by
 * index) and @seconds, from the release of the barrier to the last buyer
 * reaped. Fails only if buyers could not be forked at all or the run was
 * interrupted (SIGINT, SIGTERM); a buyer that fails or dies is a result. */
gboolean race_pool_run (const RacePoolSpec *spec,
                        RaceBuyerResult *results,
                        gdouble *seconds,
                        GError **error);

G_END_DECLS
