/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "bench-report.h"

#include <stdio.h>

#include "reserve-output.h"
#include "reserve-text.h"

/* The table shows the middle, the tail and the far tail; JSON has p90 too,
 * which scripts read before p95 and p99.9 were added. */
static const gdouble percentiles[] = { 50, 90, 95, 99, 99.9 };
static const char *const percentile_names[] = { "p50", "p90", "p95", "p99", "p99_9" };
static const gdouble table_percentiles[] = { 50, 95, 99, 99.9 };

/* A phase busier than this share of every core measures the machine. */
#define SATURATED_SHARE 0.9
/* Other work using this many cores during a phase is worth a word. */
#define OTHER_WORK_CORES 0.25
/* The histogram's bar for a range that holds every call. */
#define BAR_WIDTH 20

static const char *
bus_name (GBusType bus_type)
{
  return bus_type == G_BUS_TYPE_SESSION ? "session" : "system";
}

gdouble
bench_report_throughput_ratio (const BenchReport *report)
{
  gdouble baseline = bench_phase_result_rate (&report->phases[BENCH_PHASE_BASELINE]);

  return baseline > 0 ? bench_phase_result_rate (&report->phases[BENCH_PHASE_BUY]) / baseline : 0.0;
}

gdouble
bench_report_p99_ratio (const BenchReport *report)
{
  guint64 baseline = bench_histogram_percentile (&report->phases[BENCH_PHASE_BASELINE].latency, 99);
  guint64 buy = bench_histogram_percentile (&report->phases[BENCH_PHASE_BUY].latency, 99);

  return baseline > 0 ? (gdouble) buy / (gdouble) baseline : 0.0;
}

/* --- progress ---------------------------------------------------------------- */

void
bench_report_progress (const BenchReport *report,
                       BenchPhase phase,
                       gdouble elapsed,
                       guint64 calls,
                       guint64 failed)
{
  const BenchSettings *settings = &report->settings;
  g_autofree char *goal =
    settings->calls > 0
      ? g_strdup_printf (_ ("%llu of %llu calls"), (unsigned long long) (calls + failed),
                         (unsigned long long) settings->calls * settings->buyers)
      : g_strdup_printf (_ ("%.0f of %u s, %llu calls"), MIN (elapsed, (gdouble) settings->seconds),
                         settings->seconds, (unsigned long long) calls);

  /* \r and erase-line: one line that keeps changing. */
  fprintf (stderr, "\r\033[K%s", bench_phase_name (phase));
  fprintf (stderr, _ (": %s, %.0f/s, %llu failed"), goal,
           elapsed > 0 ? (gdouble) calls / elapsed : 0.0, (unsigned long long) failed);
  fflush (stderr);
}

void
bench_report_progress_done (const BenchReport *report, BenchPhase phase)
{
  fputs ("\r\033[K", stderr);
  fflush (stderr);
}

/* --- the histogram and the warnings ------------------------------------------ */

static gboolean
phase_shown (const BenchReport *report, guint phase)
{
  return phase != BENCH_PHASE_HOLD || report->settings.hold;
}

/* The ranges of the histogram end at 2, 5, 10, 20, 50 µs and so on, the
 * first beginning at 0: bound @i is where range @i begins. The last ends
 * above the histogram's largest value, so the ranges hold every call. */
#define N_BOUNDS 39

static guint64
bound (guint i)
{
  static const guint steps[] = { 1, 2, 5 };
  guint64 value = steps[i % 3];

  if (i == 0)
    return 0;
  for (guint k = 0; k < i / 3; k++)
    value *= 10;
  return value;
}

/* Calls of @histogram from bound @i up to bound @i + 1. */
static guint64
calls_in_range (const BenchHistogram *histogram, guint i)
{
  return bench_histogram_count_below (histogram, bound (i + 1)) -
         bench_histogram_count_below (histogram, bound (i));
}

/* The first and last ranges that hold a call of any phase shown; FALSE
 * when no call was answered. */
static gboolean
histogram_span (const BenchReport *report, guint *first, guint *last)
{
  gboolean any = FALSE;

  for (guint i = 0; i + 1 < N_BOUNDS; i++)
    for (guint p = 0; p < BENCH_N_PHASES; p++)
      if (phase_shown (report, p) && calls_in_range (&report->phases[p].latency, i) > 0)
        {
          if (!any)
            *first = i;
          *last = i;
          any = TRUE;
        }
  return any;
}

static char *
format_bound (guint64 usec, gboolean unit)
{
  const char *name = usec < 1000 ? "µs" : usec < 1000 * 1000 ? "ms" : "s";
  guint64 value = usec < 1000 ? usec : usec < 1000 * 1000 ? usec / 1000 : usec / (1000 * 1000);

  return unit ? g_strdup_printf ("%" G_GUINT64_FORMAT " %s", value, name)
              : g_strdup_printf ("%" G_GUINT64_FORMAT, value);
}

/* "200–500 µs", "500 µs–1 ms". */
static char *
format_range (guint i)
{
  guint64 from = bound (i), to = bound (i + 1);
  gboolean same_unit = (from < 1000) == (to < 1000) && (from < 1000 * 1000) == (to < 1000 * 1000);
  g_autofree char *low = format_bound (from, !same_unit);
  g_autofree char *high = format_bound (to, TRUE);

  return g_strdup_printf ("%s–%s", low, high);
}

static void
print_histogram (const BenchReport *report)
{
  ReserveColumn columns[1 + BENCH_N_PHASES] = { { N_ ("LATENCY"), FALSE } };
  g_autoptr(ReserveTable) table = NULL;
  guint n_columns = 1, first = 0, last = 0;

  if (!histogram_span (report, &first, &last))
    return;
  for (guint p = 0; p < BENCH_N_PHASES; p++)
    if (phase_shown (report, p))
      columns[n_columns++] = (ReserveColumn){ bench_phase_name (p), FALSE };
  table = reserve_table_new (columns, n_columns);
  for (guint i = first; i <= last; i++)
    {
      reserve_table_take (table, format_range (i));
      for (guint p = 0; p < BENCH_N_PHASES; p++)
        {
          const BenchHistogram *latency = &report->phases[p].latency;
          gdouble share;
          g_autofree char *bar = NULL;

          if (!phase_shown (report, p))
            continue;
          share = latency->total > 0
                    ? (gdouble) calls_in_range (latency, i) / (gdouble) latency->total
                    : 0.0;
          bar = g_strnfill ((gsize) (share * BAR_WIDTH + 0.5), '#');
          reserve_table_take (table, g_strdup_printf ("%5.1f%%%s%s", share * 100,
                                                      *bar != '\0' ? " " : "", bar));
        }
    }
  printf (_ ("\nLatency, each phase's calls by range:\n"));
  reserve_table_print (table);
}

GPtrArray *
bench_report_warnings (const BenchReport *report)
{
  GPtrArray *warnings = g_ptr_array_new_with_free_func (g_free);

  if (report->load_known && report->cores > 0 && report->load_average[0] >= report->cores)
    g_ptr_array_add (warnings,
                     g_strdup_printf (_ ("the machine was busy before the run: load average %.2f "
                                         "on %u cores; its figures will be low and vary, the "
                                         "ratios of one run less so"),
                                      report->load_average[0], report->cores));
  for (guint p = 0; p < BENCH_N_PHASES; p++)
    {
      const BenchCpuUse *cpu = &report->cpu[p];

      if (!phase_shown (report, p) || !cpu->machine.known || report->cores == 0)
        continue;
      if (cpu->machine.cpu >= SATURATED_SHARE * report->cores)
        g_ptr_array_add (
          warnings,
          g_strdup_printf (_ ("the %s phase kept %.0f%% of the machine's %u cores busy "
                              "(reserved %.2f, dbus-daemon %.2f, the buyers %.2f, other work "
                              "%.2f cores): it measures the CPU, not reserved alone"),
                           bench_phase_name (p), cpu->machine.cpu / report->cores * 100,
                           report->cores, cpu->daemon.cpu, cpu->bus.cpu, cpu->buyers.cpu,
                           cpu->others.cpu));
      else if (cpu->others.known && cpu->others.cpu >= OTHER_WORK_CORES)
        g_ptr_array_add (warnings,
                         g_strdup_printf (_ ("other work used %.2f cores during the %s phase"),
                                          cpu->others.cpu, bench_phase_name (p)));
    }
  return warnings;
}

/* --- text -------------------------------------------------------------------- */

static char *
format_latency (guint64 usec)
{
  if (usec < 1000)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " µs", usec);
  if (usec < 100 * 1000)
    return g_strdup_printf ("%.2f ms", (gdouble) usec / 1000.0);
  return g_strdup_printf ("%.0f ms", (gdouble) usec / 1000.0);
}

static const char *
short_method (BenchPhase phase)
{
  return phase == BENCH_PHASE_BASELINE ? "Properties.Get(Version)"
         : phase == BENCH_PHASE_BUY    ? "Buy"
                                       : "Hold+Confirm";
}

static void
print_phase_table (const BenchReport *report)
{
  static const ReserveColumn columns[] = {
    { N_ ("PHASE"), FALSE },  { N_ ("METHOD"), FALSE }, { N_ ("CALLS"), TRUE },
    { N_ ("CALLS/S"), TRUE }, { "P50", TRUE },          { "P95", TRUE },
    { "P99", TRUE },          { "P99.9", TRUE },        { N_ ("MAX"), TRUE },
    { N_ ("FAILED"), TRUE },
  };
  g_autoptr(ReserveTable) table = reserve_table_new (columns, G_N_ELEMENTS (columns));

  for (guint i = 0; i < BENCH_N_PHASES; i++)
    {
      const BenchPhaseResult *phase = &report->phases[i];

      if (i == BENCH_PHASE_HOLD && !report->settings.hold)
        continue;
      reserve_table_add (table, bench_phase_name (phase->phase));
      reserve_table_add (table, short_method (phase->phase));
      reserve_table_add_number (table, phase->calls);
      reserve_table_take (table, g_strdup_printf ("%.0f", bench_phase_result_rate (phase)));
      for (guint p = 0; p < G_N_ELEMENTS (table_percentiles); p++)
        reserve_table_take (table,
                            format_latency (
                              bench_histogram_percentile (&phase->latency, table_percentiles[p])));
      reserve_table_take (table, format_latency (phase->latency.max_us));
      reserve_table_add_number (table, phase->failed);
    }
  reserve_table_print (table);
}

/* With --bus: each address, its daemon, its buyers' rates and the writes
 * its daemon committed during the Buy phase. */
static void
print_daemons (const BenchReport *report)
{
  ReserveColumn columns[6 + BENCH_N_PHASES] = { { N_ ("BUS"), FALSE },
                                                { N_ ("PID"), TRUE },
                                                { N_ ("BUYERS"), TRUE } };
  static const char *const rate_headers[BENCH_N_PHASES] = { N_ ("BASELINE/S"), N_ ("BUY/S"),
                                                            N_ ("HOLD/S") };
  g_autoptr(ReserveTable) table = NULL;
  guint n_columns = 3;

  if (report->n_daemons == 0)
    return;
  for (guint p = 0; p < BENCH_N_PHASES; p++)
    if (phase_shown (report, p))
      columns[n_columns++] = (ReserveColumn){ rate_headers[p], TRUE };
  columns[n_columns++] = (ReserveColumn){ N_ ("BUYS"), TRUE };
  columns[n_columns++] = (ReserveColumn){ N_ ("FAILED"), TRUE };
  columns[n_columns++] = (ReserveColumn){ N_ ("WRITES"), TRUE };
  table = reserve_table_new (columns, n_columns);
  for (guint i = 0; i < report->n_daemons; i++)
    {
      const BenchDaemon *daemon = &report->daemons[i];
      guint64 failed = 0;

      reserve_table_add (table, daemon->address);
      reserve_table_take (table, daemon->daemon_pid > 0
                                   ? g_strdup_printf ("%d", (int) daemon->daemon_pid)
                                   : g_strdup ("?"));
      reserve_table_add_number (table, daemon->buyers);
      for (guint p = 0; p < BENCH_N_PHASES; p++)
        {
          if (!phase_shown (report, p))
            continue;
          reserve_table_take (table, g_strdup_printf ("%.0f", bench_bus_share_rate (
                                                                &report->phases[p].buses[i])));
          failed += report->phases[p].buses[i].failed;
        }
      reserve_table_add_number (table, report->phases[BENCH_PHASE_BUY].buses[i].calls);
      reserve_table_add_number (table, failed);
      if (daemon->batching.known)
        reserve_table_add_number (table, daemon->batching.operations);
      else
        reserve_table_add (table, "?");
    }
  printf (P_ ("\n%u daemon sharing the database; the item was created and checked on the first "
              "bus:\n",
              "\n%u daemons sharing the database; the item was created and checked on the first "
              "bus:\n",
              report->distinct_daemons),
          report->distinct_daemons);
  reserve_table_print (table);
}

static void
print_errors (const BenchReport *report)
{
  gboolean any = FALSE;

  for (guint i = 0; i < BENCH_N_PHASES; i++)
    {
      const BenchPhaseResult *phase = &report->phases[i];

      for (guint e = 0; e < phase->errors->len; e++)
        {
          const BenchErrorCount *count = &g_array_index (phase->errors, BenchErrorCount, e);

          if (!any)
            printf (_ ("Errors:\n"));
          any = TRUE;
          printf (_ ("  %s: %s × %llu, first: %s\n"), bench_phase_name (phase->phase), count->name,
                  (unsigned long long) count->count, count->message);
        }
    }
  if (!any)
    printf (_ ("Errors: none\n"));
}

static char *
format_cpu (const BenchCpu *cpu)
{
  return cpu->known ? g_strdup_printf ("%.2f", cpu->cpu) : g_strdup ("?");
}

static void
print_cpu_of (const char *name, const BenchCpu *baseline, const BenchCpu *buy)
{
  g_autofree char *during_baseline = format_cpu (baseline);
  g_autofree char *during_buy = format_cpu (buy);

  printf (" %s %s / %s", name, during_baseline, during_buy);
}

/* Where the time went: with every core busy, a process's share is what
 * it costs the others. */
static void
print_cpu (const BenchReport *report)
{
  const BenchCpuUse *baseline = &report->cpu[BENCH_PHASE_BASELINE];
  const BenchCpuUse *buy = &report->cpu[BENCH_PHASE_BUY];

  printf (_ ("CPU in cores, baseline / buy:"));
  print_cpu_of ("reserved", &baseline->daemon, &buy->daemon);
  print_cpu_of ("dbus-daemon", &baseline->bus, &buy->bus);
  print_cpu_of (_ ("buyers"), &baseline->buyers, &buy->buyers);
  print_cpu_of (_ ("machine"), &baseline->machine, &buy->machine);
  printf (_ (" (of %u)\n"), report->cores);
}

void
bench_report_print_text (const BenchReport *report)
{
  const BenchSettings *settings = &report->settings;
  const BenchBatching *batching = &report->batching;
  const BenchLaw *law = &report->law;
  g_autofree char *length =
    settings->calls > 0
      ? g_strdup_printf (_ ("%llu calls each per phase"), (unsigned long long) settings->calls)
      : g_strdup_printf (_ ("%u s per phase"), settings->seconds);

  if (report->n_daemons > 0)
    printf (P_ ("%u buyer, %s, dealt over the buses below; item %s%s\n\n",
                "%u buyers, %s, dealt over the buses below; item %s%s\n\n", settings->buyers),
            settings->buyers, length, report->item, report->fresh_item ? _ (" (fresh)") : "");
  else
    printf (P_ ("%u buyer, %s, on the %s bus; item %s%s\n\n",
                "%u buyers, %s, on the %s bus; item %s%s\n\n", settings->buyers),
            settings->buyers, length, bus_name (settings->bus_type), report->item,
            report->fresh_item ? _ (" (fresh)") : "");
  if (settings->warmup > 0)
    printf (_ ("Warm-up: %u s of the baseline and of Buy first, not counted\n\n"),
            settings->warmup);
  print_phase_table (report);
  print_daemons (report);
  print_histogram (report);
  printf (_ ("\nBuy / baseline: %.2f× the calls per second, %.2f× the p99 latency\n"),
          bench_report_throughput_ratio (report), bench_report_p99_ratio (report));
  if (settings->hold && bench_phase_result_rate (&report->phases[BENCH_PHASE_BUY]) > 0)
    printf (_ ("Hold+Confirm / Buy: %.2f× the sales per second\n"),
            bench_phase_result_rate (&report->phases[BENCH_PHASE_HOLD]) /
              bench_phase_result_rate (&report->phases[BENCH_PHASE_BUY]));

  if (batching->known && batching->commits > 0)
    printf (_ ("Batching: %llu writes in %llu commits, %.1f per commit; largest batch since the "
               "daemon started %llu\n"),
            (unsigned long long) batching->operations, (unsigned long long) batching->commits,
            (gdouble) batching->operations / (gdouble) batching->commits,
            (unsigned long long) batching->largest_batch);
  else if (!batching->known)
    printf (_ ("Batching: unknown (the daemon has no GetStatistics)\n"));

  print_cpu (report);
  if (report->daemon_memory.known && report->distinct_daemons > 1)
    printf (_ ("reserved, %u daemons: %.1f MiB resident in all, peaks %.1f MiB\n"),
            report->distinct_daemons, (gdouble) report->daemon_memory.rss_kib / 1024.0,
            (gdouble) report->daemon_memory.hwm_kib / 1024.0);
  else if (report->daemon_memory.known)
    printf (_ ("reserved (pid %d): %.1f MiB resident, peak %.1f MiB\n"), (int) report->daemon_pid,
            (gdouble) report->daemon_memory.rss_kib / 1024.0,
            (gdouble) report->daemon_memory.hwm_kib / 1024.0);

  printf (_ ("Check: remaining %u + sold %u %s capacity %u; %u sold during the run, "
             "%llu acknowledged%s: %s\n"),
          law->remaining, law->sold,
          (guint64) law->remaining + law->sold == law->capacity ? "==" : "!=", law->capacity,
          law->sold - MIN (law->sold, law->sold_before), (unsigned long long) law->acknowledged,
          law->uncertain > 0 ? _ (" (some without a verdict)") : "",
          law->holds ? _ ("holds") : _ ("BROKEN"));
  print_errors (report);
}

/* --- JSON -------------------------------------------------------------------- */

static void
add_member_cpu (JsonBuilder *builder, const char *name, const BenchCpu *cpu)
{
  json_builder_set_member_name (builder, name);
  if (cpu->known)
    json_builder_add_double_value (builder, cpu->cpu);
  else
    json_builder_add_null_value (builder);
}

/* The ranges from the first that holds a call to the last, as the text. */
static void
add_histogram (JsonBuilder *builder, const BenchPhaseResult *phase)
{
  guint first = N_BOUNDS, last = 0;

  for (guint i = 0; i + 1 < N_BOUNDS; i++)
    if (calls_in_range (&phase->latency, i) > 0)
      {
        first = MIN (first, i);
        last = i;
      }
  json_builder_set_member_name (builder, "latency_histogram");
  json_builder_begin_array (builder);
  for (guint i = first; i <= last && first < N_BOUNDS; i++)
    {
      json_builder_begin_object (builder);
      reserve_json_add_int (builder, "from_us", (gint64) bound (i));
      reserve_json_add_int (builder, "to_us", (gint64) bound (i + 1));
      reserve_json_add_int (builder, "calls", (gint64) calls_in_range (&phase->latency, i));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static void
add_phase (JsonBuilder *builder, const BenchReport *report, BenchPhase which)
{
  const BenchPhaseResult *phase = &report->phases[which];

  json_builder_set_member_name (builder, bench_phase_name (which));
  json_builder_begin_object (builder);
  reserve_json_add_string (builder, "method", bench_phase_method (which));
  reserve_json_add_int (builder, "calls", (gint64) phase->calls);
  reserve_json_add_int (builder, "failed", (gint64) phase->failed);
  reserve_json_add_double (builder, "seconds", phase->seconds);
  reserve_json_add_double (builder, "calls_per_second", bench_phase_result_rate (phase));

  json_builder_set_member_name (builder, "latency_us");
  json_builder_begin_object (builder);
  for (guint p = 0; p < G_N_ELEMENTS (percentiles); p++)
    reserve_json_add_int (builder, percentile_names[p],
                          (gint64) bench_histogram_percentile (&phase->latency, percentiles[p]));
  reserve_json_add_int (builder, "max", (gint64) phase->latency.max_us);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "errors");
  json_builder_begin_object (builder);
  for (guint e = 0; e < phase->errors->len; e++)
    {
      const BenchErrorCount *count = &g_array_index (phase->errors, BenchErrorCount, e);

      json_builder_set_member_name (builder, count->name);
      json_builder_begin_object (builder);
      reserve_json_add_int (builder, "count", (gint64) count->count);
      reserve_json_add_string (builder, "message", count->message);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "cpu");
  json_builder_begin_object (builder);
  add_member_cpu (builder, "reserved", &report->cpu[which].daemon);
  add_member_cpu (builder, "dbus_daemon", &report->cpu[which].bus);
  add_member_cpu (builder, "buyers", &report->cpu[which].buyers);
  add_member_cpu (builder, "machine", &report->cpu[which].machine);
  add_member_cpu (builder, "others", &report->cpu[which].others);
  json_builder_end_object (builder);

  add_histogram (builder, phase);

  json_builder_end_object (builder);
}

static void
add_batching (JsonBuilder *builder, const BenchBatching *batching)
{
  json_builder_set_member_name (builder, "batching");
  if (!batching->known)
    {
      json_builder_add_null_value (builder);
      return;
    }
  json_builder_begin_object (builder);
  reserve_json_add_int (builder, "commits", (gint64) batching->commits);
  reserve_json_add_int (builder, "operations", (gint64) batching->operations);
  reserve_json_add_double (builder, "mean_batch",
                           batching->commits > 0
                             ? (gdouble) batching->operations / (gdouble) batching->commits
                             : 0.0);
  reserve_json_add_int (builder, "largest_batch", (gint64) batching->largest_batch);
  json_builder_end_object (builder);
}

static void
add_daemon (JsonBuilder *builder, const BenchReport *report)
{
  json_builder_set_member_name (builder, "daemon");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "pid");
  if (report->daemon_pid > 0)
    json_builder_add_int_value (builder, report->daemon_pid);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "vm_rss_kib");
  if (report->daemon_memory.known)
    json_builder_add_int_value (builder, (gint64) report->daemon_memory.rss_kib);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "vm_hwm_kib");
  if (report->daemon_memory.known)
    json_builder_add_int_value (builder, (gint64) report->daemon_memory.hwm_kib);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
}

static void
add_bus_share (JsonBuilder *builder, BenchPhase which, const BenchBusShare *share)
{
  json_builder_set_member_name (builder, bench_phase_name (which));
  json_builder_begin_object (builder);
  reserve_json_add_int (builder, "calls", (gint64) share->calls);
  reserve_json_add_int (builder, "failed", (gint64) share->failed);
  reserve_json_add_double (builder, "seconds", share->seconds);
  reserve_json_add_double (builder, "calls_per_second", bench_bus_share_rate (share));
  json_builder_end_object (builder);
}

/* With --bus: how many daemons, and per address what its buyers got. */
static void
add_buses (JsonBuilder *builder, const BenchReport *report)
{
  reserve_json_add_int (builder, "daemons", report->distinct_daemons);
  json_builder_set_member_name (builder, "buses");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->n_daemons; i++)
    {
      const BenchDaemon *daemon = &report->daemons[i];

      json_builder_begin_object (builder);
      reserve_json_add_string (builder, "address", daemon->address);
      json_builder_set_member_name (builder, "daemon_pid");
      if (daemon->daemon_pid > 0)
        json_builder_add_int_value (builder, daemon->daemon_pid);
      else
        json_builder_add_null_value (builder);
      reserve_json_add_boolean (builder, "same_daemon_as_earlier", daemon->repeated);
      reserve_json_add_int (builder, "buyers", daemon->buyers);
      for (guint p = 0; p < BENCH_N_PHASES; p++)
        if (phase_shown (report, p))
          add_bus_share (builder, (BenchPhase) p, &report->phases[p].buses[i]);
      add_batching (builder, &daemon->batching);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static void
add_law (JsonBuilder *builder, const BenchLaw *law)
{
  json_builder_set_member_name (builder, "law");
  json_builder_begin_object (builder);
  reserve_json_add_boolean (builder, "holds", law->holds);
  reserve_json_add_int (builder, "capacity", law->capacity);
  reserve_json_add_int (builder, "remaining", law->remaining);
  reserve_json_add_int (builder, "sold", law->sold);
  reserve_json_add_int (builder, "sold_before", law->sold_before);
  reserve_json_add_int (builder, "acknowledged", (gint64) law->acknowledged);
  reserve_json_add_int (builder, "uncertain", (gint64) law->uncertain);
  json_builder_end_object (builder);
}

void
bench_report_print_json (const BenchReport *report)
{
  const BenchSettings *settings = &report->settings;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GPtrArray) warnings = bench_report_warnings (report);

  json_builder_begin_object (builder);
  reserve_json_add_string (builder, "version", RESERVED_VERSION);
  reserve_json_add_nullable_string (builder, "daemon_version", report->daemon_version);
  reserve_json_add_usec_time (builder, "started", report->started);
  json_builder_set_member_name (builder, "load_average");
  if (report->load_known)
    {
      json_builder_begin_array (builder);
      for (guint i = 0; i < G_N_ELEMENTS (report->load_average); i++)
        json_builder_add_double_value (builder, report->load_average[i]);
      json_builder_end_array (builder);
    }
  else
    json_builder_add_null_value (builder);
  reserve_json_add_int (builder, "buyers", settings->buyers);
  reserve_json_add_int (builder, "warmup_seconds", settings->warmup);
  json_builder_set_member_name (builder, "seconds");
  if (settings->calls == 0)
    json_builder_add_int_value (builder, settings->seconds);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "calls_per_buyer");
  if (settings->calls > 0)
    json_builder_add_int_value (builder, (gint64) settings->calls);
  else
    json_builder_add_null_value (builder);
  reserve_json_add_string (builder, "bus",
                           report->n_daemons > 0 ? "address" : bus_name (settings->bus_type));
  reserve_json_add_string (builder, "item", report->item);
  reserve_json_add_boolean (builder, "fresh_item", report->fresh_item);
  reserve_json_add_int (builder, "cores", report->cores);

  add_phase (builder, report, BENCH_PHASE_BASELINE);
  add_phase (builder, report, BENCH_PHASE_BUY);
  if (settings->hold)
    add_phase (builder, report, BENCH_PHASE_HOLD);

  json_builder_set_member_name (builder, "ratio");
  json_builder_begin_object (builder);
  reserve_json_add_double (builder, "calls_per_second", bench_report_throughput_ratio (report));
  reserve_json_add_double (builder, "p99", bench_report_p99_ratio (report));
  json_builder_end_object (builder);

  add_batching (builder, &report->batching);
  add_daemon (builder, report);
  if (report->n_daemons > 0)
    add_buses (builder, report);
  add_law (builder, &report->law);
  json_builder_set_member_name (builder, "warnings");
  json_builder_begin_array (builder);
  for (guint i = 0; i < warnings->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (warnings, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reserve_print_json (builder);
}
