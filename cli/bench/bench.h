/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve bench`: the words its parts share. The command (reserve-bench.c)
 * turns flags into BenchSettings and runs the phases; the buyer processes
 * (bench-pool.c) call the daemon and report each phase as a BenchPhaseResult;
 * the parent's own look at the daemon (bench-probe.c) brings the item, the
 * batching counters and the processes' CPU and memory; the report
 * (bench-report.c) prints it all for people or as JSON. */
#pragma once

#include <gio/gio.h>

#include "bench-histogram.h"

G_BEGIN_DECLS

/* The system bus lets one user hold 256 connections by default; the buyers
 * and the parent must fit. */
#define BENCH_BUYERS_MAX      250u
#define BENCH_BUYERS_DEFAULT  64u
#define BENCH_SECONDS_MAX     3600u
#define BENCH_SECONDS_DEFAULT 10u
#define BENCH_CALLS_MAX       10000000u
#define BENCH_WARMUP_MAX      60u
/* When timed; a run of so many calls warms up only if asked. */
#define BENCH_WARMUP_DEFAULT 1u

/* What makes a run fail although the daemon was reached: a buyer died,
 * calls failed, or the check afterwards found the law broken. The CLI
 * exits 1 for it, as for a refusal. */
#define BENCH_ERROR (bench_error_quark ())
GQuark bench_error_quark (void);

typedef enum {
  BENCH_ERROR_FAILED,
} BenchError;

/* The phases run in the same processes, one after the other: first the
 * round trip with no database, then the purchase, so the ratio compares
 * like with like; with --hold, then Hold and Confirm of one unit, a pair
 * per call counted. */
typedef enum {
  BENCH_PHASE_BASELINE,
  BENCH_PHASE_BUY,
  BENCH_PHASE_HOLD,
} BenchPhase;

#define BENCH_N_PHASES (BENCH_PHASE_HOLD + 1)

typedef struct {
  guint buyers;
  guint seconds;    /* per phase; 0 when counting calls */
  guint64 calls;    /* per buyer and phase; 0 when timed */
  guint warmup;     /* seconds of the baseline and of Buy first, not counted */
  guint32 stock;    /* the fresh item's capacity */
  const char *item; /* nullable: a fresh item is created */
  GBusType bus_type;
  /* --bus: the buyers dealt round-robin over these D-Bus addresses, each
   * with its own daemon selling from one shared database, instead of
   * @bus_type; the first is the one the item is created and read on. */
  const char *const *addresses; /* nullable */
  guint n_addresses;
  gboolean progress; /* a live line on stderr (it is a terminal) */
  gboolean hold;     /* the Hold+Confirm phase too */
  gboolean keep;     /* leave the fresh item on sale afterwards */
} BenchSettings;

/* One kind of failed call and how often it happened. */
typedef struct {
  char *name;    /* the D-Bus error name, or a local error's */
  char *message; /* the first one seen, for people */
  guint64 count;
} BenchErrorCount;

/* What the buyers of one --bus address got in a phase. */
typedef struct {
  guint64 calls;
  guint64 failed;
  gdouble seconds; /* its first buyer's start to its last one's end */
} BenchBusShare;

typedef struct {
  BenchPhase phase;
  guint64 calls; /* answered without error */
  guint64 failed;
  guint64 uncertain;      /* of those failed, the ones with no verdict (timeout, lost) */
  gdouble seconds;        /* the first buyer's start to the last one's end */
  BenchHistogram latency; /* of the calls answered without error */
  GArray *errors;         /* (element-type BenchErrorCount) by first appearance */
  BenchBusShare *buses;   /* one per --bus address, in their order; NULL without */
  guint n_buses;
} BenchPhaseResult;

void bench_phase_result_init (BenchPhaseResult *result, BenchPhase phase);
void bench_phase_result_clear (BenchPhaseResult *result);
/* Adds @count failures of @name (@message kept if it is the first). */
void bench_phase_result_add_error (BenchPhaseResult *result,
                                   const char *name,
                                   const char *message,
                                   guint64 count);
gdouble bench_phase_result_rate (const BenchPhaseResult *result);
gdouble bench_bus_share_rate (const BenchBusShare *share);

/* What one process (the daemon, the bus) spent during a phase, read from
 * /proc; unknown when it could not be read (another machine's bus, a
 * process that hides its /proc entry). */
typedef struct {
  gboolean known;
  gdouble cpu; /* CPU seconds per second of the phase: 1.0 is one core */
} BenchCpu;

/* Where the CPU went during a phase. */
typedef struct {
  BenchCpu daemon;  /* reserved */
  BenchCpu bus;     /* dbus-daemon */
  BenchCpu buyers;  /* all of them */
  BenchCpu machine; /* all cores busy = the number of cores */
  BenchCpu others;  /* the machine less the three above: other work */
} BenchCpuUse;

typedef struct {
  gboolean known;
  guint64 rss_kib; /* VmRSS after the Buy phase */
  guint64 hwm_kib; /* VmHWM, the peak since it started */
} BenchMemory;

/* The daemon's write counters (GetStatistics) across the Buy phase. */
typedef struct {
  gboolean known;
  guint64 commits;
  guint64 operations;
  guint64 largest_batch; /* since the daemon started */
} BenchBatching;

/* One --bus address and the daemon found there. Two addresses may reach
 * one daemon (the same bus twice): it is then counted once in the sums. */
typedef struct {
  char *address;
  guint buyers;           /* dealt to it */
  GPid daemon_pid;        /* 0: unknown */
  gboolean repeated;      /* an earlier address reaches the same daemon */
  BenchBatching batching; /* of this daemon, across the Buy phase */
} BenchDaemon;

/* GetItem of the item after the run, and what the buyers were told. */
typedef struct {
  guint32 capacity;
  guint32 remaining;
  guint32 sold;
  guint32 sold_before;  /* before the Buy phase */
  guint64 acknowledged; /* units the buyers were told they bought */
  guint64 uncertain;    /* Buys that failed without a verdict (timeout, lost) */
  gboolean holds;
} BenchLaw;

typedef struct {
  BenchSettings settings;
  gint64 started;       /* the wall clock when the run started, µs */
  char *daemon_version; /* its Version property; NULL if unknown */
  gboolean load_known;
  gdouble load_average[3]; /* before the run: 1, 5 and 15 minutes */
  char *item;
  gboolean fresh_item;
  BenchPhaseResult phases[BENCH_N_PHASES];
  BenchCpuUse cpu[BENCH_N_PHASES];
  guint cores;
  GPid daemon_pid;           /* 0: unknown; the first address's with --bus */
  BenchMemory daemon_memory; /* with --bus, summed over the daemons */
  BenchBatching batching;    /* with --bus, summed over the daemons */
  BenchDaemon *daemons;      /* one per --bus address; NULL without */
  guint n_daemons;           /* the addresses */
  guint distinct_daemons;    /* the daemons they reach */
  BenchLaw law;
} BenchReport;

void bench_report_init (BenchReport *report, const BenchSettings *settings);
void bench_report_clear (BenchReport *report);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BenchReport, bench_report_clear)

/* The D-Bus method each phase calls, for the report. */
const char *bench_phase_method (BenchPhase phase);
const char *bench_phase_name (BenchPhase phase);

/* With --bus, "reserved is not running" names the address in @error, not
 * the session or system bus the CLI's messages would name. */
void bench_error_name_address (GError **error, const char *address);

/* A connection of its own to the bus at @address, as a separate program
 * would have; the error names the address. */
GDBusConnection *bench_connect_address (const char *address, GError **error);

G_END_DECLS
