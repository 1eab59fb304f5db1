/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve race`: the lesson reserved exists to teach, as an experiment.
 * Forked buyers share one stock four ways (a raw file, a locked file,
 * SQLite, the daemon) and the report shows which ways oversell and what
 * the correct ones cost. This file reads the flags and runs the modes;
 * race-modes.c and its neighbours do the buying, race-pool.c the forking,
 * race-report.c the printing. */
#include <stdio.h>
#include <unistd.h>

#include "race-modes.h"
#include "race-report.h"
#include "race-svg.h"
#include "reserve-command.h"
#include "reserve-race.h"
#include "reserve-validate.h"
#include "reserve-text.h"

/* 30 buyers for 1 ticket: the race shows on every run, and the timeline
 * still fits a terminal. */
#define DEFAULT_BUYERS   30
#define DEFAULT_STOCK    1
#define DEFAULT_DELAY_MS 10

typedef struct {
  char *mode;
  char *buyers;
  char *stock;
  char *delay_ms;
  char *jobs;
  char *item;
  char *file;
  gboolean kill_one;
  gboolean keep;
  gboolean timeline;
  gboolean verbose;
  char *svg;
} RaceFlags;

static void
race_flags_clear (RaceFlags *flags)
{
  g_free (flags->mode);
  g_free (flags->buyers);
  g_free (flags->stock);
  g_free (flags->delay_ms);
  g_free (flags->jobs);
  g_free (flags->item);
  g_free (flags->file);
  g_free (flags->svg);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RaceFlags, race_flags_clear)

/* --- checking the flags ---------------------------------------------------- */

static gboolean usage_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
usage_error (GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, message);
  return FALSE;
}

static gboolean
parse_modes (const char *text, gboolean *modes, GError **error)
{
  g_autofree char *described = NULL;
  RaceMode mode;

  if (text == NULL || g_str_equal (text, "all"))
    {
      for (guint i = 0; i < RACE_N_MODES; i++)
        modes[i] = TRUE;
      return TRUE;
    }
  if (race_mode_from_name (text, &mode))
    {
      modes[mode] = TRUE;
      return TRUE;
    }
  described = reserve_describe_text (text);
  return usage_error (error,
                      _ ("--mode %s is not a mode: allowed are all, file, locked-file, "
                         "sqlite and dbus"),
                      described);
}

static gboolean
parse_count (const char *flag,
             const char *text,
             guint64 min,
             guint64 max,
             guint64 fallback,
             guint *value,
             GError **error)
{
  guint64 number = fallback;

  if (text != NULL && !reserve_parse_number (flag, text, min, max, &number, error))
    return FALSE;
  *value = (guint) number;
  return TRUE;
}

/* The file modes overwrite --file; refuse anything that is not already
 * theirs, so a typo cannot wipe out someone's document. */
static gboolean
check_file_flag (const char *path, GError **error)
{
  g_autofree char *described = reserve_describe_text (path);
  g_autofree char *text = NULL;
  g_autoptr(GError) read_error = NULL;
  gint64 count;

  if (*path == '\0')
    return usage_error (error, _ ("--file needs a path"));
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  /* Not a device or a pipe: /dev/zero would never end the read below. */
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return usage_error (error, _ ("--file %s is not a regular file"), described);
  if (!g_file_get_contents (path, &text, NULL, &read_error))
    return usage_error (error, _ ("--file %s cannot be read: %s"), described, read_error->message);
  if (*text != '\0' && !race_file_parse_count (text, &count))
    return usage_error (error,
                        _ ("--file %s holds something other than {\"count\": N}; "
                           "not overwriting it"),
                        described);
  return TRUE;
}

/* A flag for a mode that will not run is a mistake worth pointing out. */
static gboolean
check_flag_has_mode (const char *flag,
                     const char *value,
                     gboolean used,
                     const char *modes,
                     const RaceFlags *flags,
                     GError **error)
{
  if (value == NULL || used)
    return TRUE;
  return usage_error (error, _ ("%s is for the %s, which --mode %s does not run"), flag, modes,
                      flags->mode);
}

static gboolean
settings_from_flags (const RaceFlags *flags,
                     GBusType bus_type,
                     RaceSettings *settings,
                     gboolean *modes,
                     GError **error)
{
  if (!parse_modes (flags->mode, modes, error) ||
      !parse_count ("--buyers", flags->buyers, 1, RACE_BUYERS_MAX, DEFAULT_BUYERS,
                    &settings->buyers, error) ||
      !parse_count ("--stock", flags->stock, 0, RACE_STOCK_MAX, DEFAULT_STOCK, &settings->stock,
                    error) ||
      !parse_count ("--delay-ms", flags->delay_ms, 0, RACE_DELAY_MS_MAX, DEFAULT_DELAY_MS,
                    &settings->delay_ms, error) ||
      !parse_count ("--jobs", flags->jobs, 1, RACE_JOBS_MAX,
                    MIN (settings->buyers, RACE_JOBS_DEFAULT), &settings->jobs, error) ||
      !check_flag_has_mode ("--item", flags->item, modes[RACE_MODE_DBUS], _ ("dbus mode"), flags,
                            error) ||
      !check_flag_has_mode ("--file", flags->file,
                            modes[RACE_MODE_FILE] || modes[RACE_MODE_LOCKED_FILE], _ ("file modes"),
                            flags, error) ||
      (flags->item != NULL && !reserve_check_item_name (flags->item, error)) ||
      (flags->file != NULL && !check_file_flag (flags->file, error)))
    return FALSE;

  settings->jobs = MIN (settings->jobs, settings->buyers);
  settings->kill_one = flags->kill_one;
  settings->keep = flags->keep;
  settings->progress = isatty (STDERR_FILENO);
  settings->bus_type = bus_type;
  settings->item = flags->item;
  settings->file = flags->file;
  return TRUE;
}

/* --- after the run --------------------------------------------------------- */

static const char *
bus_name (GBusType bus_type)
{
  return bus_type == G_BUS_TYPE_SESSION ? _ ("session bus") : _ ("system bus");
}

static gboolean
failed (const RaceBuyerResult *result)
{
  return result->outcome == RACE_OUTCOME_FAILED || result->outcome == RACE_OUTCOME_NO_BUS;
}

/* Why a run's figures cannot be trusted, from its first buyer that failed
 * or died unasked; NULL if none did. */
static char *
describe_trouble (const RaceRun *run, GBusType bus_type)
{
  const char *mode = race_mode_get_name (run->mode);

  for (guint i = 0; i < run->buyers; i++)
    {
      const RaceBuyerResult *result = &run->results[i];

      if (result->outcome == RACE_OUTCOME_NO_BUS)
        return g_strdup_printf (P_ ("%u buyer could not connect to the %s (buyer-%u: %s); the "
                                    "bus limits connections per user (256 on the system bus): "
                                    "try a smaller --jobs",
                                    "%u buyers could not connect to the %s (buyer-%u: %s); the "
                                    "bus limits connections per user (256 on the system bus): "
                                    "try a smaller --jobs",
                                    run->no_bus),
                                run->no_bus, bus_name (bus_type), result->index, result->detail);
      if (failed (result))
        return g_strdup_printf (P_ ("%u buyer in the %s mode failed (buyer-%u: %s)",
                                    "%u buyers in the %s mode failed (buyer-%u: %s)", run->failed),
                                run->failed, mode, result->index, result->detail);
      if (race_buyer_result_died_unexpectedly (result))
        return g_strdup_printf (_ ("buyer-%u (pid %d) of the %s mode died, and --kill-one did "
                                   "not ask for it"),
                                result->index, (int) result->pid, mode);
    }
  return NULL;
}

/* Exit status 3 for a run whose figures cannot be trusted or that shows a
 * correct mode going wrong. The file mode overselling is the lesson, not a
 * failure. */
static gboolean
check_runs (RaceRun *const *runs, guint n_runs, GBusType bus_type, GError **error)
{
  for (guint i = 0; i < n_runs; i++)
    {
      const RaceRun *run = runs[i];
      g_autofree char *trouble = describe_trouble (run, bus_type);

      if (trouble != NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, trouble);
          return FALSE;
        }
      if (run->mode != RACE_MODE_FILE && (race_run_oversold (run) > 0 || !run->consistent))
        {
          g_autofree char *verdict = race_report_verdict (run);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       _ ("the %s mode must be correct, and was not: %s"),
                       race_mode_get_name (run->mode), verdict);
          return FALSE;
        }
    }
  return TRUE;
}

/* race never exits 1 (reserve_client_describe_error()'s status for a
 * refusal): failing to run is status 3. Errors that already get 3 keep
 * their words, among them "reserved is not running … start it with …";
 * any other (a file error, a bus policy's AccessDenied) becomes a plain
 * failure with its message. */
static void
propagate_failure (GError **error, GError *failure)
{
  if (failure->domain == G_OPTION_ERROR ||
      (failure->domain == G_IO_ERROR && failure->code != G_IO_ERROR_DBUS_ERROR) ||
      g_error_matches (failure, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (failure, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    {
      g_propagate_error (error, failure);
      return;
    }
  g_dbus_error_strip_remote_error (failure);
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, failure->message);
  g_error_free (failure);
}

static void
print_report (RaceRun *const *runs, guint n_runs, const RaceFlags *flags, gboolean json)
{
  if (json)
    {
      race_report_print_json (runs, n_runs, flags->verbose || flags->timeline);
      return;
    }
  for (guint i = 0; i < n_runs; i++)
    {
      if (flags->verbose)
        race_report_print_buyers (runs[i]);
      if (flags->timeline)
        race_report_print_timeline (runs[i], race_report_timeline_span (runs, n_runs));
    }
  race_report_print_summary (runs, n_runs);
}

/* --- the command ----------------------------------------------------------- */

static gboolean
race (ReserveInvocation *invocation, int argc, char **argv, GError **error)
{
  g_auto(RaceFlags) flags = { NULL };
  const GOptionEntry entries[] = {
    { "mode", 'm', 0, G_OPTION_ARG_FILENAME, &flags.mode,
      N_ ("all (the default), file, locked-file, sqlite or dbus"), "MODE" },
    { "buyers", 'n', 0, G_OPTION_ARG_FILENAME, &flags.buyers,
      N_ ("Buyers, 1 to 100000 (default: 30)"), "N" },
    { "stock", 's', 0, G_OPTION_ARG_FILENAME, &flags.stock,
      N_ ("Units on sale, 0 to 1000000000 (default: 1)"), "S" },
    { "delay-ms", 'd', 0, G_OPTION_ARG_FILENAME, &flags.delay_ms,
      N_ ("Pause after each read, 0 to 10000 ms (default: 10)"), "D" },
    { "jobs", 'j', 0, G_OPTION_ARG_FILENAME, &flags.jobs,
      N_ ("Buyers at once, 1 to 256 (default: buyers, at most 64)"), "J" },
    { "item", 'i', 0, G_OPTION_ARG_FILENAME, &flags.item,
      N_ ("dbus mode: race for this item, not a fresh one"), "NAME" },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &flags.keep,
      N_ ("dbus mode: keep the fresh item on sale afterwards, not retire it"), NULL },
    { "file", 'f', 0, G_OPTION_ARG_FILENAME, &flags.file,
      N_ ("File modes: this file (overwritten), not a scratch one"), "PATH" },
    { "kill-one", 0, 0, G_OPTION_ARG_NONE, &flags.kill_one,
      N_ ("buyer-1 SIGKILLs itself inside its critical section"), NULL },
    { "timeline", 't', 0, G_OPTION_ARG_NONE, &flags.timeline,
      N_ ("Draw when each buyer read and wrote"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &flags.verbose,
      N_ ("One line per buyer: what it read, what it was told"), NULL },
    { "svg", 0, 0, G_OPTION_ARG_FILENAME, &flags.svg,
      N_ ("Also draw every mode's timeline, on one time axis, as an SVG picture in FILE"), "FILE" },
    { NULL }
  };
  RaceSettings settings = { 0 };
  gboolean modes[RACE_N_MODES] = { FALSE };
  g_autoptr(RaceSetup) setup = NULL;
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) race_run_free);
  GError *run_error = NULL;

  if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
    return invocation->help_shown;
  if (!settings_from_flags (&flags, invocation->bus_type, &settings, modes, error))
    return FALSE;

  setup = race_setup_new (&settings, modes, &run_error);
  if (setup == NULL)
    {
      propagate_failure (error, run_error);
      return FALSE;
    }
  for (guint i = 0; i < RACE_N_MODES && run_error == NULL; i++)
    {
      RaceRun *run;

      if (!modes[i])
        continue;
      run = race_setup_run (setup, (RaceMode) i, &run_error);
      if (run != NULL)
        g_ptr_array_add (runs, run);
    }

  /* What ran is worth seeing even when a later mode could not run. */
  if (runs->len > 0)
    print_report ((RaceRun *const *) runs->pdata, runs->len, &flags, invocation->json);
  if (runs->len > 0 && flags.svg != NULL && run_error == NULL &&
      !race_svg_write (flags.svg, (RaceRun *const *) runs->pdata, runs->len, &run_error))
    g_prefix_error (&run_error, "--svg: ");
  if (run_error != NULL)
    {
      propagate_failure (error, run_error);
      return FALSE;
    }
  return check_runs ((RaceRun *const *) runs->pdata, runs->len, settings.bus_type, error);
}

RESERVE_DEFINE_COMMAND (
  race,
  "",
  RESERVE_WITH_JSON,
  N_ ("Race buyers for one stock four ways, and see which ways oversell.\n"
      "\n"
      "Each buyer is a forked process that buys one unit; the first batch (--jobs)\n"
      "is released at once. The modes, which --mode all runs in this order:\n"
      "  file         read {\"count\": S} from a file, pause, write back count - 1\n"
      "  locked-file  the same inside flock(): correct, but one buyer at a time\n"
      "  sqlite       the same inside a SQLite BEGIN IMMEDIATE transaction\n"
      "  dbus         one Buy call each to reserved, which decides in a transaction\n"
      "The dbus mode creates a fresh item with the stock (creating items takes an\n"
      "admin; on the session bus the daemon's own user is one) unless --item,\n"
      "and retires it at the end (its orders stay) unless --keep.\n"
      "\n"
      "Exit status of race, which never exits 1 (a buyer told “sold out” is a\n"
      "result, not a refusal):\n"
      "  0  the run completed, even if the file mode oversold: that is the lesson\n"
      "  2  usage error (unknown flag, bad value)\n"
      "  3  reserved could not be reached; a buyer failed, or died without\n"
      "     --kill-one; or a mode that must be correct (locked-file, sqlite,\n"
      "     dbus) was not"));
