/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The buyers of `reserve bench`: one forked process per buyer, each with
 * its own bus connection, calling the daemon synchronously in a loop, as
 * many separate programs would. They live for the whole run and do every
 * phase, so the baseline and the purchases see the same processes and the
 * same connections.
 *
 * The parent and the buyers only exchange messages: a command down one
 * pipe, progress and a result (a latency histogram, counts, the kinds of
 * errors) up another. Every buyer is forked before the parent touches
 * D-Bus, because a process that forks after GDBus started its worker
 * thread leaves the child without one, and the child's connections hang.
 * The parent reaps every buyer it forked. */
#pragma once

#include "bench.h"

G_BEGIN_DECLS

typedef struct _BenchPool BenchPool;

/* Forks @n_buyers processes. Must be called before this process creates
 * any GDBus connection. Each buyer connects to @bus_type, or with
 * @n_addresses > 0 to one of @addresses (buyer i to address i modulo
 * @n_addresses), makes one call to check that the daemon answers, and
 * waits for a phase. */
BenchPool *bench_pool_new (guint n_buyers,
                           GBusType bus_type,
                           const char *const *addresses,
                           guint n_addresses,
                           GError **error);

/* Waits until every buyer is ready; fails with the first buyer's error
 * (no bus, no daemon) otherwise. */
gboolean bench_pool_wait_ready (BenchPool *pool, GError **error);

/* Called about five times a second while a phase runs: @elapsed seconds
 * since it started and the calls answered so far, over all buyers. */
typedef void (*BenchProgressFunc) (BenchPhase phase,
                                   gdouble elapsed,
                                   guint64 calls,
                                   guint64 failed,
                                   gpointer user_data);

typedef struct {
  BenchPhase phase;
  const char *item;           /* for Buy */
  guint seconds;              /* each buyer calls for this long... */
  guint64 calls;              /* ...or makes this many calls */
  BenchProgressFunc progress; /* nullable */
  gpointer user_data;
} BenchPhaseSpec;

/* Runs one phase in every buyer at once and adds their results up into
 * @result, and with addresses, per address into @result->buses. Fails if a buyer dies or stops talking; a failed call is a
 * result, not a failure. */
gboolean bench_pool_run_phase (BenchPool *pool,
                               const BenchPhaseSpec *spec,
                               BenchPhaseResult *result,
                               GError **error);

/* The buyers' process ids, @n_pids of them, for looking at their CPU
 * time in /proc. */
const GPid *bench_pool_get_pids (BenchPool *pool, guint *n_pids);

/* Tells the buyers to exit (kills them if a phase was cut short) and
 * waits for every one. */
void bench_pool_free (BenchPool *pool);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BenchPool, bench_pool_free)

G_END_DECLS
