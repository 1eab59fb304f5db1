/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parent's own look at the daemon during `reserve bench`: it creates
 * the fresh item, reads the item and the write counters before and after,
 * and samples the CPU time of the daemon, of the bus and of the whole
 * machine from /proc (of every daemon and bus, with --bus), so a figure comes with where the time went.
 *
 * It talks D-Bus, so it may only be created after every buyer was forked
 * (see bench-pool.h). */
#pragma once

#include "bench.h"

G_BEGIN_DECLS

typedef struct _BenchProbe BenchProbe;

/* On @bus_type, or with @n_addresses > 0 on every one of @addresses, the
 * first being where the item is created and read. */
BenchProbe *bench_probe_new (GBusType bus_type,
                             const char *const *addresses,
                             guint n_addresses,
                             GError **error);
void bench_probe_free (BenchProbe *probe);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BenchProbe, bench_probe_free)

gboolean
bench_probe_create_item (BenchProbe *probe, const char *item, guint32 capacity, GError **error);

/* RetireItem: the fresh item is sold no more once the run is over. */
gboolean bench_probe_retire_item (BenchProbe *probe, const char *item, GError **error);

/* How many items on sale are not @except (nullable), read page by page;
 * the daemon's DefaultItem counts only once some of it is sold or held. */
gboolean
bench_probe_count_other_items (BenchProbe *probe, const char *except, guint *n, GError **error);

typedef struct {
  guint32 capacity;
  guint32 remaining;
  guint32 sold;
} BenchItemState;

gboolean
bench_probe_get_item (BenchProbe *probe, const char *item, BenchItemState *state, GError **error);

/* The daemons reached, each counted once. */
guint bench_probe_get_n_daemons (BenchProbe *probe);
/* Whether address @end reaches the daemon of an earlier one. */
gboolean bench_probe_is_repeated (BenchProbe *probe, guint end);

/* GetStatistics' counters, summed over the daemons (each once), and with
 * @each (nullable) per address; @counters->known is FALSE if a daemon has
 * no such method (an older one). Other failures are errors. */
gboolean bench_probe_get_counters (BenchProbe *probe,
                                   BenchBatching *counters,
                                   BenchBatching *each,
                                   GError **error);

/* Its Version property (transfer full), NULL if it has none. */
char *bench_probe_get_daemon_version (BenchProbe *probe);

/* The pid of the daemon at address @end (0: the only bus) as its bus
 * knows it, 0 if it would not say. */
GPid bench_probe_get_daemon_pid (BenchProbe *probe, guint end);

/* CPU time so far, to subtract one sample from a later one. */
typedef struct {
  gint64 time; /* g_get_monotonic_time() */
  gboolean daemon_known, bus_known, buyers_known, machine_known;
  guint64 daemon_ticks; /* utime + stime, in clock ticks */
  guint64 bus_ticks;
  guint64 buyers_ticks; /* all of them */
  guint64 machine_busy; /* /proc/stat: every state but idle and iowait */
} BenchSample;

void
bench_probe_sample (BenchProbe *probe, const GPid *buyers, guint n_buyers, BenchSample *sample);

void
bench_probe_cpu_between (const BenchSample *before, const BenchSample *after, BenchCpuUse *use);

/* The load average over 1, 5 and 15 minutes, from /proc/loadavg. */
gboolean bench_probe_read_load (gdouble load[3]);

/* VmRSS and VmHWM of the daemon, from /proc/PID/status; summed over the
 * daemons, unknown unless every one can be read. */
void bench_probe_read_memory (BenchProbe *probe, BenchMemory *memory);

G_END_DECLS
