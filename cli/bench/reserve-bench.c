/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve bench`: how many durable purchases the daemon sells per second
 * to many concurrent buyers, next to how many calls that do nothing the
 * same buyers get through the same bus in the same run. The buyers are
 * processes (bench-pool.c); the parent only orchestrates, watches the
 * daemon (bench-probe.c) and prints (bench-report.c). */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "bench-pool.h"
#include "bench-probe.h"
#include "bench-report.h"
#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-names.h"
#include "reserve-text.h"

/* The flags as typed, before they are checked. */
typedef struct {
  const char *buyers;
  const char *seconds;
  const char *calls;
  const char *stock;
  const char *warmup;
  const char *item;     /* nullable: a fresh item */
  char **addresses;     /* nullable: --bus, as often as given */
  const char *bus_flag; /* --session or --system, if given */
} BenchFlags;

/* --bus replaces the one bus of --session or --system; each address must
 * be one GDBus can connect to, and each needs a buyer. */
static gboolean
check_addresses (const BenchFlags *flags, guint64 buyers, GError **error)
{
  guint n = flags->addresses != NULL ? g_strv_length (flags->addresses) : 0;

  if (n == 0)
    return TRUE;
  if (flags->bus_flag != NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   _ ("--bus cannot be used with %s: the buyers go to the daemons on the "
                      "--bus addresses instead"),
                   flags->bus_flag);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    if (!g_dbus_is_supported_address (flags->addresses[i], NULL))
      {
        g_autofree char *shown = g_strescape (flags->addresses[i], NULL);

        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                     _ ("--bus “%s” is not a D-Bus address this reserve can connect to: "
                        "allowed are addresses such as unix:path=/run/reserved/bus or "
                        "tcp:host=HOST,port=PORT"),
                     shown);
        return FALSE;
      }
  if (n > buyers)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   _ ("--bus is given %u times but --buyers is %llu: every bus needs a buyer"), n,
                   (unsigned long long) buyers);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_exclusive_flags (const BenchFlags *flags, GError **error)
{
  if (flags->seconds != NULL && flags->calls != NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _ ("--seconds and --calls cannot be used together: "
                              "a phase lasts either so long or so many calls"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_stock_flag (const BenchFlags *flags, GError **error)
{
  if (flags->stock != NULL && flags->item != NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _ ("--stock cannot be used with --item: it is the capacity of the "
                              "fresh item that bench creates; restock ITEM with reserve "
                              "restock"));
      return FALSE;
    }
  return TRUE;
}

/* In the order of the help, so the first mistake there is the one told. */
static gboolean
parse_settings (const BenchFlags *flags, BenchSettings *settings, GError **error)
{
  guint64 buyers, seconds, calls, warmup, stock;

  if (!reserve_parse_optional_number ("--buyers", flags->buyers, 1, BENCH_BUYERS_MAX,
                                      BENCH_BUYERS_DEFAULT, &buyers, error) ||
      !check_exclusive_flags (flags, error) ||
      !reserve_parse_optional_number ("--seconds", flags->seconds, 1, BENCH_SECONDS_MAX,
                                      BENCH_SECONDS_DEFAULT, &seconds, error) ||
      !reserve_parse_optional_number ("--calls", flags->calls, 1, BENCH_CALLS_MAX, 0, &calls,
                                      error) ||
      /* No warm-up by default when a phase is so many calls: they are counted exactly. */
      !reserve_parse_optional_number ("--warmup", flags->warmup, 0, BENCH_WARMUP_MAX,
                                      calls > 0 ? 0 : BENCH_WARMUP_DEFAULT, &warmup, error) ||
      (flags->item != NULL && !reserve_check_item_name (flags->item, error)) ||
      !check_stock_flag (flags, error) ||
      !reserve_parse_optional_number ("--stock", flags->stock, 1, RESERVE_CAPACITY_MAX,
                                      RESERVE_CAPACITY_MAX, &stock, error) ||
      !check_addresses (flags, buyers, error))
    return FALSE;

  settings->buyers = (guint) buyers;
  /* A phase lasts so long, or so many calls. */
  settings->seconds = calls > 0 ? 0 : (guint) seconds;
  settings->calls = calls;
  settings->warmup = (guint) warmup;
  settings->stock = (guint32) stock;
  settings->item = flags->item;
  settings->addresses = (const char *const *) flags->addresses;
  settings->n_addresses = flags->addresses != NULL ? g_strv_length (flags->addresses) : 0;
  /* Progress is for a person watching; a script reads the result. */
  settings->progress = isatty (STDERR_FILENO);
  return TRUE;
}

static void
show_progress (BenchPhase phase, gdouble elapsed, guint64 calls, guint64 failed, gpointer user_data)
{
  bench_report_progress (user_data, phase, elapsed, calls, failed);
}

static gboolean
run_phase (BenchPool *pool,
           BenchProbe *probe,
           BenchReport *report,
           BenchPhase phase,
           GError **error)
{
  const BenchSettings *settings = &report->settings;
  BenchPhaseSpec spec = {
    .phase = phase,
    .item = report->item,
    .seconds = settings->seconds,
    .calls = settings->calls,
    .progress = settings->progress ? show_progress : NULL,
    .user_data = report,
  };
  BenchSample before, after;
  guint n_buyers;
  const GPid *buyers = bench_pool_get_pids (pool, &n_buyers);

  bench_probe_sample (probe, buyers, n_buyers, &before);
  if (!bench_pool_run_phase (pool, &spec, &report->phases[phase], error))
    return FALSE;
  bench_probe_sample (probe, buyers, n_buyers, &after);
  bench_probe_cpu_between (&before, &after, &report->cpu[phase]);
  if (settings->progress)
    bench_report_progress_done (report, phase);
  return TRUE;
}

/* The baseline's calls, then Buys, for a while before either is counted:
 * connections, caches and the write-ahead log reach the state they keep
 * for the rest of the run. Their figures are dropped. */
static gboolean
warm_up (BenchPool *pool, BenchReport *report, GError **error)
{
  const BenchPhase phases[] = { BENCH_PHASE_BASELINE, BENCH_PHASE_BUY };

  for (guint i = 0; i < G_N_ELEMENTS (phases); i++)
    {
      const BenchPhaseSpec spec = {
        .phase = phases[i],
        .item = report->item,
        .seconds = report->settings.warmup,
      };
      BenchPhaseResult dropped;
      gboolean ok;

      bench_phase_result_init (&dropped, phases[i]);
      ok = bench_pool_run_phase (pool, &spec, &dropped, error);
      bench_phase_result_clear (&dropped);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* Every unit sold during the run went to a buyer that was told so (each
 * Buy takes one), give or take the Buys that failed without a verdict;
 * and the item's own books balance. */
static void
check_law (BenchReport *report, const BenchItemState *after)
{
  BenchLaw *law = &report->law;
  guint64 sold_during_run;

  law->capacity = after->capacity;
  law->remaining = after->remaining;
  law->sold = after->sold;
  /* A confirmed hold sold one unit, as a Buy did. */
  law->acknowledged =
    report->phases[BENCH_PHASE_BUY].calls + report->phases[BENCH_PHASE_HOLD].calls;
  law->uncertain =
    report->phases[BENCH_PHASE_BUY].uncertain + report->phases[BENCH_PHASE_HOLD].uncertain;
  sold_during_run = after->sold >= law->sold_before ? after->sold - law->sold_before : 0;
  law->holds = (guint64) after->remaining + after->sold == after->capacity &&
               after->sold >= law->sold_before && sold_during_run >= law->acknowledged &&
               sold_during_run <= law->acknowledged + law->uncertain;
}

/* Bench buys for real: on a daemon that sells other items too, that is
 * most likely not a test daemon, so it says so before the first order. */
static gboolean
warn_of_other_items (BenchProbe *probe, const BenchSettings *settings, GError **error)
{
  guint n = 0;

  if (!bench_probe_count_other_items (probe, settings->item, &n, error))
    return FALSE;
  if (n == 0)
    return TRUE;
  g_printerr (P_ ("reserve: warning: this reserved already sells %u other item; bench writes real "
                  "orders into it (%s). Bench a daemon of its own, or choose the item with "
                  "--item; --keep keeps the fresh item, which is otherwise retired at the end.\n",
                  "reserve: warning: this reserved already sells %u other items; bench writes "
                  "real orders into it (%s). Bench a daemon of its own, or choose the item with "
                  "--item; --keep keeps the fresh item, which is otherwise retired at the end.\n",
                  n),
              n, settings->item != NULL ? settings->item : _ ("a fresh item"));
  return TRUE;
}

static void
batching_between (const BenchBatching *before, const BenchBatching *after, BenchBatching *batching)
{
  batching->known = before->known && after->known;
  batching->commits = after->commits - before->commits;
  batching->operations = after->operations - before->operations;
  batching->largest_batch = after->largest_batch;
}

/* With --bus: each address, how many buyers it was dealt and the daemon
 * it reaches. */
static void
describe_daemons (BenchReport *report, BenchProbe *probe)
{
  const BenchSettings *settings = &report->settings;

  if (settings->n_addresses == 0)
    return;
  report->n_daemons = settings->n_addresses;
  report->daemons = g_new0 (BenchDaemon, report->n_daemons);
  report->distinct_daemons = bench_probe_get_n_daemons (probe);
  for (guint i = 0; i < report->n_daemons; i++)
    {
      BenchDaemon *daemon = &report->daemons[i];

      daemon->address = g_strdup (settings->addresses[i]);
      /* Dealt round-robin: the first ones get one more when it does not
       * divide evenly. */
      daemon->buyers =
        settings->buyers / settings->n_addresses + (i < settings->buyers % settings->n_addresses);
      daemon->daemon_pid = bench_probe_get_daemon_pid (probe, i);
      daemon->repeated = bench_probe_is_repeated (probe, i);
    }
}

/* Fills @report; FALSE only when the run could not be done at all. */
static gboolean
run_bench_with (BenchReport *report, BenchProbe *probe, BenchPool *pool, GError **error)
{
  const BenchSettings *settings = &report->settings;
  BenchBatching counters_before, counters_after;
  g_autofree BenchBatching *each_before = g_new0 (BenchBatching, settings->n_addresses + 1);
  g_autofree BenchBatching *each_after = g_new0 (BenchBatching, settings->n_addresses + 1);
  BenchItemState item_state;

  if (!warn_of_other_items (probe, settings, error))
    return FALSE;
  if (settings->item == NULL)
    {
      /* Unique and recognisable, so a leftover item says where it came from. */
      report->item = g_strdup_printf ("bench-%d-%" G_GINT64_FORMAT, (int) getpid (),
                                      g_get_real_time () / G_USEC_PER_SEC);
      report->fresh_item = TRUE;
      if (!bench_probe_create_item (probe, report->item, settings->stock, error))
        return FALSE;
    }
  else
    report->item = g_strdup (settings->item);
  if (!bench_probe_get_item (probe, report->item, &item_state, error) ||
      !bench_pool_wait_ready (pool, error))
    return FALSE;
  report->daemon_pid = bench_probe_get_daemon_pid (probe, 0);
  describe_daemons (report, probe);
  report->daemon_version = bench_probe_get_daemon_version (probe);
  report->cores = g_get_num_processors ();
  report->load_known = bench_probe_read_load (report->load_average);

  if ((settings->warmup > 0 && !warm_up (pool, report, error)) ||
      !run_phase (pool, probe, report, BENCH_PHASE_BASELINE, error))
    return FALSE;

  if (!bench_probe_get_counters (probe, &counters_before, each_before, error) ||
      !bench_probe_get_item (probe, report->item, &item_state, error))
    return FALSE;
  report->law.sold_before = item_state.sold;
  if (!run_phase (pool, probe, report, BENCH_PHASE_BUY, error))
    return FALSE;
  if (!bench_probe_get_counters (probe, &counters_after, each_after, error) ||
      !bench_probe_get_item (probe, report->item, &item_state, error))
    return FALSE;

  if (settings->hold && (!run_phase (pool, probe, report, BENCH_PHASE_HOLD, error) ||
                         !bench_probe_get_item (probe, report->item, &item_state, error)))
    return FALSE;

  bench_probe_read_memory (probe, &report->daemon_memory);
  batching_between (&counters_before, &counters_after, &report->batching);
  for (guint i = 0; i < report->n_daemons; i++)
    batching_between (&each_before[i], &each_after[i], &report->daemons[i].batching);
  check_law (report, &item_state);
  return TRUE;
}

static gboolean
run_bench (BenchReport *report, GError **error)
{
  const BenchSettings *settings = &report->settings;
  g_autoptr(BenchPool) pool = NULL;
  g_autoptr(BenchProbe) probe = NULL;
  g_autoptr(GError) retire_error = NULL;
  gboolean ok;

  /* The buyers first: after this process has a bus connection, it must
   * never fork again. */
  pool = bench_pool_new (settings->buyers, settings->bus_type, settings->addresses,
                         settings->n_addresses, error);
  if (pool == NULL)
    return FALSE;
  probe = bench_probe_new (settings->bus_type, settings->addresses, settings->n_addresses, error);
  if (probe == NULL)
    return FALSE;

  ok = run_bench_with (report, probe, pool, error);
  /* The fresh item goes whatever became of the run; its orders stay. */
  if (report->fresh_item && !settings->keep &&
      !bench_probe_retire_item (probe, report->item, &retire_error))
    {
      g_dbus_error_strip_remote_error (retire_error);
      g_printerr (_ ("reserve: warning: could not retire the fresh item %s: %s\n"), report->item,
                  retire_error->message);
    }
  return ok;
}

/* A run that failed calls or broke the law printed its figures, but they
 * are not figures of a healthy daemon: the exit status says so. */
static gboolean
judge (const BenchReport *report, GError **error)
{
  const BenchLaw *law = &report->law;
  guint64 failed = 0;

  for (guint i = 0; i < BENCH_N_PHASES; i++)
    failed += report->phases[i].failed;

  if (!law->holds)
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_FAILED,
                   _ ("the check after the run failed on %s: remaining %u + sold %u against "
                      "capacity %u, and %llu units sold during the run against %llu "
                      "acknowledged (%llu without a verdict)"),
                   report->item, law->remaining, law->sold, law->capacity,
                   (unsigned long long) (law->sold - MIN (law->sold, law->sold_before)),
                   (unsigned long long) law->acknowledged, (unsigned long long) law->uncertain);
      return FALSE;
    }
  if (failed > 0)
    {
      g_set_error (error, BENCH_ERROR, BENCH_ERROR_FAILED,
                   P_ ("%llu call failed during the run (see the errors above)",
                       "%llu calls failed during the run (see the errors above)", failed),
                   (unsigned long long) failed);
      return FALSE;
    }
  return TRUE;
}

static gboolean
bench (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_autofree char *buyers_text = NULL;
  g_autofree char *seconds_text = NULL;
  g_autofree char *calls_text = NULL;
  g_autofree char *stock_text = NULL;
  g_autofree char *warmup_text = NULL;
  g_autofree char *item = NULL;
  g_auto(GStrv) addresses = NULL;
  gboolean hold = FALSE;
  gboolean keep = FALSE;
  const GOptionEntry entries[] = {
    { "buyers", 'b', 0, G_OPTION_ARG_FILENAME, &buyers_text,
      N_ ("Buyer processes, each with its own bus connection, 1 to 250 (default: 64)"), "N" },
    { "seconds", 's', 0, G_OPTION_ARG_FILENAME, &seconds_text,
      N_ ("Length of each phase, 1 to 3600 seconds (default: 10)"), "S" },
    { "calls", 'c', 0, G_OPTION_ARG_FILENAME, &calls_text,
      N_ ("Instead: calls per buyer in each phase, 1 to 10000000"), "C" },
    { "item", 'i', 0, G_OPTION_ARG_FILENAME, &item,
      N_ ("Buy this existing item, which nobody else may buy meanwhile "
          "(default: a fresh item, bench-PID-TIME; creating it needs an admin)"),
      "ITEM" },
    { "warmup", 'w', 0, G_OPTION_ARG_FILENAME, &warmup_text,
      N_ ("Seconds of the baseline and of Buy before each is counted, 0 to 60 "
          "(default: 1, or 0 with --calls)"),
      "S" },
    { "stock", 0, 0, G_OPTION_ARG_FILENAME, &stock_text,
      N_ ("Capacity of the fresh item, 1 to 1000000000 (default: 1000000000)"), "K" },
    { "hold", 0, 0, G_OPTION_ARG_NONE, &hold,
      N_ ("A third phase: Hold of one unit then Confirm, a pair per call"), NULL },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &keep,
      N_ ("Keep the fresh item on sale afterwards (default: it is retired)"), NULL },
    { "bus", 0, 0, G_OPTION_ARG_STRING_ARRAY, &addresses,
      N_ ("Instead of --session or --system: a D-Bus address of a daemon sharing the "
          "database; repeated, the buyers are dealt over them in turn"),
      "ADDRESS" },
    { NULL }
  };
  g_auto(BenchReport) report = { 0 };
  g_autoptr(GPtrArray) warnings = NULL;
  BenchSettings settings = { 0 };
  BenchFlags flags = { 0 };

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  flags = (BenchFlags){ buyers_text, seconds_text, calls_text, stock_text,
                        warmup_text, item,         addresses,  invocation->bus_flag };
  if (!parse_settings (&flags, &settings, error))
    return FALSE;
  settings.bus_type = invocation->bus_type;
  settings.hold = hold;
  settings.keep = keep;

  bench_report_init (&report, &settings);
  report.started = g_get_real_time ();
  if (!run_bench (&report, error))
    return FALSE;

  warnings = bench_report_warnings (&report);
  for (guint i = 0; i < warnings->len; i++)
    g_printerr (_ ("reserve: warning: %s\n"), (const char *) g_ptr_array_index (warnings, i));
  if (invocation->json)
    bench_report_print_json (&report);
  else
    bench_report_print_text (&report);
  /* The report before the verdict on stderr, even when stdout is a pipe. */
  fflush (stdout);
  return judge (&report, error);
}

RESERVE_DEFINE_COMMAND (
  bench,
  "",
  RESERVE_WITH_JSON,
  N_ ("Measure durable purchases per second against a round trip that does nothing.\n\n"
      "Forks the buyers, each with its own bus connection, each calling\n"
      "synchronously in a loop. First they all call Properties.Get of Version\n"
      "(a round trip through the bus and the daemon with no database), then Buy\n"
      "of one unit. Prints calls per second, latency percentiles and errors by\n"
      "name for both, the ratio Buy / baseline, how many purchases each commit\n"
      "carried (GetStatistics), the daemon's CPU and memory, and checks\n"
      "afterwards that remaining + sold == capacity and that the units sold\n"
      "are the units acknowledged. Exits 1 if any call failed or the check did.\n"
      "The fresh item is retired at the end unless --keep (its orders stay);\n"
      "bench warns first when the daemon already sells other items.\n"
      "With --hold, a third phase calls Hold of one unit then Confirm of it; the\n"
      "daemon's MaxHoldsPerUid must then be at least --buyers, all of one uid.\n"
      "With --bus ADDRESS, repeated, the buyers are dealt in turn over several\n"
      "daemons that sell from one database, each on its own bus; the item is\n"
      "created and checked on the first, and the report gives each one's rates."));
