/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "race-report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <json-glib/json-glib.h>

#include "pool.h"
#include "race-modes.h"
#include "race-pool.h"
#include "reserve-output.h"
#include "reserve-text.h"

/* The widest outcome word in the timeline ("sold out"). */
#define OUTCOME_WIDTH 8

static gboolean
ended_cleanly (const RaceBuyerResult *result)
{
  return WIFEXITED (result->wait_status) && WEXITSTATUS (result->wait_status) == 0;
}

/* --- one buyer ------------------------------------------------------------- */

static const char *
outcome_word (RaceOutcome outcome)
{
  switch (outcome)
    {
    case RACE_OUTCOME_BOUGHT:
      return _ ("bought");
    case RACE_OUTCOME_SOLD_OUT:
      return _ ("sold out");
    case RACE_OUTCOME_TORN_READ:
      return _ ("torn");
    case RACE_OUTCOME_FAILED:
      return _ ("failed");
    case RACE_OUTCOME_NO_BUS:
      return _ ("no bus");
    case RACE_OUTCOME_NONE:
    default:
      return _ ("died");
    }
}

static const char *
outcome_json_name (RaceOutcome outcome)
{
  switch (outcome)
    {
    case RACE_OUTCOME_BOUGHT:
      return "bought";
    case RACE_OUTCOME_SOLD_OUT:
      return "sold_out";
    case RACE_OUTCOME_TORN_READ:
      return "torn_read";
    case RACE_OUTCOME_FAILED:
      return "failed";
    case RACE_OUTCOME_NO_BUS:
      return "no_bus";
    case RACE_OUTCOME_NONE:
    default:
      return "died";
    }
}

/* What the buyer did before its outcome: "read count=1", "called Buy";
 * empty if it never got that far. */
static void
append_action (GString *line, const RaceRun *run, const RaceBuyerResult *result)
{
  const RaceModeInfo *info = race_mode_get_info (run->mode);

  if (result->read < 0)
    return;
  if (info->seen == NULL)
    g_string_append (line, _ ("called Buy"));
  else if (result->seen < 0)
    g_string_append (line, _ ("read a torn file"));
  else
    g_string_append_printf (line, _ ("read %s=%lld"), info->seen, (long long) result->seen);
}

static void
append_outcome (GString *line, const RaceRun *run, const RaceBuyerResult *result)
{
  switch (result->outcome)
    {
    case RACE_OUTCOME_BOUGHT:
      if (run->mode == RACE_MODE_DBUS)
        g_string_append_printf (line, _ ("bought order %llu, %lld left"),
                                (unsigned long long) result->order, (long long) result->seen);
      else
        g_string_append (line, _ ("bought"));
      break;
    case RACE_OUTCOME_SOLD_OUT:
      g_string_append (line, _ ("sold out"));
      break;
    case RACE_OUTCOME_TORN_READ:
      g_string_append_printf (line, _ ("torn read (%s)"), result->detail);
      break;
    case RACE_OUTCOME_FAILED:
    case RACE_OUTCOME_NO_BUS:
      g_string_append_printf (line, _ ("failed: %s"), result->detail);
      break;
    case RACE_OUTCOME_NONE:
    default:
      g_assert_not_reached ();
    }
}

static char *
describe_buyer (const RaceRun *run, const RaceBuyerResult *result)
{
  const RaceModeInfo *info = race_mode_get_info (run->mode);
  GString *line = g_string_new (NULL);
  gsize before_action;

  g_string_append_printf (line, "buyer-%u (pid %d) ", result->index, (int) result->pid);
  before_action = line->len;
  append_action (line, run, result);

  if (result->outcome == RACE_OUTCOME_NONE)
    {
      g_autofree char *ending = pool_describe_wait_status (result->wait_status);

      g_string_append_printf (line, "%s%s", line->len > before_action ? _ (", then ") : "", ending);
      if (result->killed_itself)
        g_string_append_printf (line, " %s (--kill-one)", _ (info->critical));
    }
  else
    {
      g_string_append (line, line->len > before_action ? " -> " : "-> ");
      append_outcome (line, run, result);
    }
  if (info->busy_retries && result->busy_retries > 0)
    g_string_append_printf (line,
                            P_ (" (%u busy retry)", " (%u busy retries)", result->busy_retries),
                            result->busy_retries);
  return g_string_free (line, FALSE);
}

void
race_report_print_buyers (const RaceRun *run)
{
  printf (_ ("%s mode, buyer by buyer:\n"), race_mode_get_name (run->mode));
  for (guint i = 0; i < run->buyers; i++)
    {
      g_autofree char *line = describe_buyer (run, &run->results[i]);

      printf ("  %s\n", line);
    }
  putchar ('\n');
}

/* --- the timeline ---------------------------------------------------------- */

static char *
format_duration (gint64 usec)
{
  if (usec < 10 * 1000)
    return g_strdup_printf ("%.1f ms", (gdouble) usec / 1000);
  if (usec < 10 * G_USEC_PER_SEC)
    return g_strdup_printf ("%.0f ms", (gdouble) usec / 1000);
  return g_strdup_printf ("%.1f s", (gdouble) usec / G_USEC_PER_SEC);
}

static gint64
last_moment (const RaceBuyerResult *result)
{
  return MAX (MAX (result->start, result->read), MAX (result->write, result->end));
}

typedef struct {
  gsize width; /* columns of the bar */
  gint64 span; /* microseconds the bar covers */
} Scale;

static gsize
column_of (const Scale *scale, gint64 usec)
{
  return (gsize) MIN ((guint64) MAX (usec, 0) * (scale->width - 1) / (guint64) scale->span,
                      scale->width - 1);
}

static char
outcome_mark (RaceOutcome outcome)
{
  switch (outcome)
    {
    case RACE_OUTCOME_BOUGHT:
      return 'W';
    case RACE_OUTCOME_SOLD_OUT:
      return 'x';
    case RACE_OUTCOME_TORN_READ:
      return '!';
    case RACE_OUTCOME_NONE:
      return 'K';
    case RACE_OUTCOME_FAILED:
    case RACE_OUTCOME_NO_BUS:
    default:
      return '?';
    }
}

/* "." from the release to its read (waiting for its turn, or for the
 * message to arrive), "R" at the read, "-" while it holds what it read,
 * then its outcome's mark. */
static void
draw_bar (char *bar, const Scale *scale, const RaceBuyerResult *result)
{
  gint64 end = last_moment (result);
  gsize from;
  gsize read_at;
  gsize mark_at;

  memset (bar, ' ', scale->width);
  bar[scale->width] = '\0';
  if (result->start < 0)
    return; /* it never got past the barrier */

  from = column_of (scale, result->start);
  read_at = column_of (scale, result->read >= 0 ? result->read : end);
  mark_at = column_of (scale, result->outcome == RACE_OUTCOME_BOUGHT ? result->write : end);
  if (read_at > from)
    memset (bar + from, '.', read_at - from);
  if (result->read >= 0)
    {
      memset (bar + read_at, '-', MAX (mark_at, read_at) - read_at);
      bar[read_at] = 'R';
      /* Keep the R in sight when the outcome falls in the same column. */
      if (mark_at <= read_at)
        mark_at = MIN (read_at + 1, scale->width - 1);
    }
  bar[mark_at] = outcome_mark (result->outcome);
}

/* Prints @items as lines no wider than the timeline. */
static void
print_legend (const char *const *items)
{
  GString *line = g_string_new ("  ");

  for (guint i = 0; items[i] != NULL; i++)
    {
      if (line->len > 2 && reserve_text_width (line->str) + 2 + reserve_text_width (items[i]) >
                             RACE_TIMELINE_COLUMNS)
        {
          puts (line->str);
          g_string_assign (line, "  ");
        }
      if (line->len > 2)
        g_string_append (line, "  ");
      g_string_append (line, items[i]);
    }
  puts (line->str);
  g_string_free (line, TRUE);
}

static void
print_timeline_legend (const RaceRun *run)
{
  const RaceModeInfo *info = race_mode_get_info (run->mode);
  g_autofree char *waiting = NULL;

  if (info->seen == NULL)
    {
      const char *const items[] = { _ (". its message on the way (the pause)"),
                                    _ ("R sent Buy"),
                                    _ ("- the daemon deciding"),
                                    _ ("W bought"),
                                    _ ("x sold out"),
                                    _ ("K killed"),
                                    _ ("? failed"),
                                    NULL };

      print_legend (items);
      return;
    }

  waiting = info->queued_for != NULL
              ? g_strdup_printf (_ (". waiting for %s"), _ (info->queued_for))
              : g_strdup (_ (". waiting"));
  {
    const char *const items[] = { waiting,
                                  _ ("R read the stock"),
                                  _ ("- pausing with what it read"),
                                  _ ("W wrote one less"),
                                  _ ("x sold out"),
                                  _ ("! torn read"),
                                  _ ("K killed"),
                                  _ ("? failed"),
                                  NULL };

    print_legend (items);
  }
}

gint64
race_report_timeline_span (RaceRun *const *runs, guint n_runs)
{
  gint64 span = 1;

  for (guint i = 0; i < n_runs; i++)
    for (guint j = 0; j < runs[i]->buyers; j++)
      span = MAX (span, last_moment (&runs[i]->results[j]));
  return span;
}

/* When a buyer began its turn: its read (the R of its row), or its start
 * if it never read; -1 if it never started. */
static gint64
began (const RaceBuyerResult *result)
{
  return result->read >= 0 ? result->read : result->start;
}

/* Who began first comes first, so the rows show the order of turns;
 * buyers that never started come last. */
static int
compare_start (gconstpointer a, gconstpointer b)
{
  const RaceBuyerResult *x = *(const RaceBuyerResult *const *) a;
  const RaceBuyerResult *y = *(const RaceBuyerResult *const *) b;

  if ((began (x) < 0) != (began (y) < 0))
    return began (x) < 0 ? 1 : -1;
  if (began (x) != began (y))
    return began (x) < began (y) ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

const RaceBuyerResult **
race_report_buyers_by_start (const RaceRun *run)
{
  const RaceBuyerResult **order = g_new (const RaceBuyerResult *, run->buyers);

  for (guint i = 0; i < run->buyers; i++)
    order[i] = &run->results[i];
  qsort (order, run->buyers, sizeof *order, compare_start);
  return order;
}

void
race_report_print_timeline (const RaceRun *run, gint64 span)
{
  g_autofree char *label_max = g_strdup_printf ("buyer-%u", run->buyers);
  gsize label_width = strlen (label_max);
  Scale scale = { RACE_TIMELINE_COLUMNS - label_width - 4 - OUTCOME_WIDTH, MAX (span, 1) };
  g_autofree char *bar = g_malloc (scale.width + 1);
  g_autofree char *span_text = format_duration (scale.span);
  g_autofree const RaceBuyerResult **by_start = race_report_buyers_by_start (run);

  printf (_ ("%s mode, when each buyer read and wrote:\n"), race_mode_get_name (run->mode));
  /* The time axis, the same for every mode so that their lengths compare:
   * 0 over the bar's first column, the longest mode's span over its last. */
  printf ("%*s0%*s\n", (int) label_width + 2, "", (int) (scale.width - 1), span_text);
  for (guint i = 0; i < run->buyers; i++)
    {
      const RaceBuyerResult *result = by_start[i];
      g_autofree char *label = g_strdup_printf ("buyer-%u", result->index);

      draw_bar (bar, &scale, result);
      printf ("%-*s |%s| %s\n", (int) label_width, label, bar, outcome_word (result->outcome));
    }
  print_timeline_legend (run);
  putchar ('\n');
}

/* --- the summary ----------------------------------------------------------- */

/* The verdicts are built from translated pieces; each piece that follows
 * another starts with its own separator ("; "), so a language can use its
 * own punctuation. */
static void
append_oversold (GString *verdict, const RaceRun *run)
{
  if (run->stock == 1)
    g_string_append_printf (verdict,
                            P_ ("OVERSOLD: %u buyer was told they got 1 ticket",
                                "OVERSOLD: %u buyers were told they got 1 ticket", run->sold),
                            run->sold);
  else if (run->stock == 0)
    g_string_append_printf (verdict,
                            P_ ("OVERSOLD: %u buyer was told they got a ticket, and there were "
                                "none",
                                "OVERSOLD: %u buyers were told they got a ticket, and there were "
                                "none",
                                run->sold),
                            run->sold);
  else
    g_string_append_printf (verdict,
                            P_ ("OVERSOLD: %u buyer was told they got one of %u tickets, %u too "
                                "many",
                                "OVERSOLD: %u buyers were told they got one of %u tickets, %u too "
                                "many",
                                run->sold),
                            run->sold, run->stock, race_run_oversold (run));
}

static void
append_correct (GString *verdict, const RaceRun *run)
{
  switch (run->mode)
    {
    case RACE_MODE_FILE:
      g_string_append_printf (verdict,
                              _ ("no oversell this time, by luck: nothing stops the race; "
                                 "%u sold, %s"),
                              run->sold, run->check);
      break;
    case RACE_MODE_LOCKED_FILE:
      g_string_append_printf (verdict,
                              _ ("correct but serial: %u sold, %s; the buyers took turns "
                                 "at the lock, %.2f s for %u × %u ms"),
                              run->sold, run->check, run->seconds, run->buyers, run->delay_ms);
      break;
    case RACE_MODE_SQLITE:
      g_string_append_printf (verdict,
                              P_ ("correct: %u sold, %s; the buyers queued on the "
                                  "database lock (%llu busy retry)",
                                  "correct: %u sold, %s; the buyers queued on the "
                                  "database lock (%llu busy retries)",
                                  run->busy_retries),
                              run->sold, run->check, (unsigned long long) run->busy_retries);
      break;
    case RACE_MODE_DBUS:
    default:
      g_string_append_printf (verdict, _ ("correct and concurrent: %u sold, %s"), run->sold,
                              run->check);
      break;
    }
}

static int
compare_start_only (gconstpointer a, gconstpointer b)
{
  gint64 x = (*(const RaceBuyerResult *const *) a)->start;
  gint64 y = (*(const RaceBuyerResult *const *) b)->start;

  return x < y ? -1 : x > y;
}

/* Microseconds in which at least one buyer was between its start and its
 * end: the time the run spent buying. */
static gint64
buying_usec (const RaceRun *run)
{
  g_autofree const RaceBuyerResult **by_start = g_new (const RaceBuyerResult *, run->buyers);
  gint64 covered = 0;
  gint64 reached = 0;

  for (guint i = 0; i < run->buyers; i++)
    by_start[i] = &run->results[i];
  qsort (by_start, run->buyers, sizeof *by_start, compare_start_only);
  for (guint i = 0; i < run->buyers; i++)
    {
      gint64 from = MAX (by_start[i]->start, reached);
      gint64 to = last_moment (by_start[i]);

      if (by_start[i]->start < 0)
        continue;
      if (to > from)
        covered += to - from;
      reached = MAX (reached, to);
    }
  return covered;
}

/* The dbus mode's seconds include forking its buyers and connecting each
 * to the bus, which the file modes do not pay; when that is most of the
 * run, its time says little about the daemon, so say so. */
static void
append_setup_cost (GString *verdict, const RaceRun *run)
{
  gint64 total = (gint64) (run->seconds * G_USEC_PER_SEC);
  gint64 buying = buying_usec (run);
  g_autofree char *total_text = NULL;
  g_autofree char *buying_text = NULL;

  if (total <= 0 || buying * 2 >= total)
    return;
  total_text = format_duration (total);
  buying_text = format_duration (buying);
  g_string_append_printf (verdict,
                          _ ("; most of its %s went to forking buyers and connecting them to the "
                             "bus, not to buying (%s)"),
                          total_text, buying_text);
}

char *
race_report_verdict (const RaceRun *run)
{
  GString *verdict = g_string_new (NULL);
  gboolean file_mode = run->mode == RACE_MODE_FILE || run->mode == RACE_MODE_LOCKED_FILE;

  if (race_run_oversold (run) > 0)
    {
      append_oversold (verdict, run);
      g_string_append_printf (verdict, _ ("; %s"), run->check);
    }
  else if (!run->consistent)
    g_string_append_printf (verdict,
                            file_mode
                              ? P_ ("LOST UPDATES: %u buyer was told they got one of %u tickets, "
                                    "but %s",
                                    "LOST UPDATES: %u buyers were told they got one of %u "
                                    "tickets, but %s",
                                    run->sold)
                              : P_ ("MISMATCH: %u buyer was told they got one of %u tickets, "
                                    "but %s",
                                    "MISMATCH: %u buyers were told they got one of %u tickets, "
                                    "but %s",
                                    run->sold),
                            run->sold, run->stock, run->check);
  else if (run->failed > 0)
    /* Buyers that never bought prove nothing about the ones that did. */
    g_string_append_printf (verdict, _ ("INCOMPLETE: %u sold, %s"), run->sold, run->check);
  else
    append_correct (verdict, run);

  if (run->torn_reads > 0)
    g_string_append_printf (verdict, P_ ("; %u torn read", "; %u torn reads", run->torn_reads),
                            run->torn_reads);
  if (run->failed > 0)
    g_string_append_printf (verdict, P_ ("; %u buyer failed", "; %u buyers failed", run->failed),
                            run->failed);
  if (run->died > 0)
    g_string_append_printf (verdict,
                            P_ ("; %u buyer died and was not counted",
                                "; %u buyers died and were not counted", run->died),
                            run->died);
  if (run->mode == RACE_MODE_DBUS)
    append_setup_cost (verdict, run);
  /* TRANSLATORS: the end of a verdict, after its last piece. */
  g_string_append (verdict, _ ("."));
  return g_string_free (verdict, FALSE);
}

static guint
buyers_after (const RaceRun *run, const RaceBuyerResult *victim)
{
  guint after = 0;

  for (guint i = 0; i < run->buyers; i++)
    if (&run->results[i] != victim && run->results[i].read >= victim->end)
      after++;
  return after;
}

static char *
describe_death (const RaceRun *run, const RaceBuyerResult *result)
{
  const RaceModeInfo *info = race_mode_get_info (run->mode);
  g_autofree char *ending = pool_describe_wait_status (result->wait_status);
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, _ ("buyer-%u (pid %d) %s"), result->index, (int) result->pid,
                          ending);
  if (!result->killed_itself)
    {
      g_string_append (text, result->outcome == RACE_OUTCOME_NONE ? _ (" before it reported")
                                                                  : _ (" after it reported"));
      return g_string_free (text, FALSE);
    }

  g_string_append_printf (text, _ (" %s (--kill-one): %s"), _ (info->critical),
                          _ (info->aftermath));
  if (info->queued_for != NULL)
    {
      guint after = buyers_after (run, result);

      if (run->mode == RACE_MODE_LOCKED_FILE)
        g_string_append_printf (text,
                                P_ (", and %u buyer took the lock after it",
                                    ", and %u buyers took the lock after it", after),
                                after);
      else
        g_string_append_printf (text,
                                P_ (", and %u buyer got into the database after it",
                                    ", and %u buyers got into the database after it", after),
                                after);
    }
  return g_string_free (text, FALSE);
}

static void
add_number_if (ReserveTable *table, gboolean applies, guint64 number)
{
  if (applies)
    reserve_table_add_number (table, number);
  else
    reserve_table_add (table, "-");
}

static gboolean
anyone_died (RaceRun *const *runs, guint n_runs)
{
  for (guint i = 0; i < n_runs; i++)
    if (runs[i]->died > 0)
      return TRUE;
  return FALSE;
}

typedef struct {
  char *text;
  gboolean spaced; /* a space came before it */
} WrapToken;

static void
wrap_token_clear (WrapToken *token)
{
  g_free (token->text);
}

static gboolean
opens (gunichar c)
{
  GUnicodeBreakType type = g_unichar_break_type (c);

  return type == G_UNICODE_BREAK_OPEN_PUNCTUATION || type == G_UNICODE_BREAK_QUOTATION;
}

static gboolean
cannot_start_line (gunichar c)
{
  switch (g_unichar_break_type (c))
    {
    case G_UNICODE_BREAK_CLOSE_PUNCTUATION:
    case G_UNICODE_BREAK_CLOSE_PARANTHESIS:
    case G_UNICODE_BREAK_NON_STARTER:
    case G_UNICODE_BREAK_EXCLAMATION:
    case G_UNICODE_BREAK_INFIX_SEPARATOR:
      return TRUE;
    default:
      return FALSE;
    }
}

/* The pieces a line may break between: words between spaces, and each
 * wide (CJK) character on its own, as Chinese has no spaces; an opening
 * bracket stays with what follows it, a comma or closing bracket with
 * what precedes it. */
static GArray *
wrap_tokens (const char *text)
{
  GArray *tokens = g_array_new (FALSE, TRUE, sizeof (WrapToken));
  const char *p = text;

  g_array_set_clear_func (tokens, (GDestroyNotify) wrap_token_clear);
  while (*p != '\0')
    {
      WrapToken token = { NULL, FALSE };
      const char *start;
      gunichar first;

      for (; *p == ' '; p++)
        token.spaced = TRUE;
      if (*p == '\0')
        break;
      start = p;
      first = g_utf8_get_char (p);
      if (g_unichar_iswide (first))
        p = g_utf8_next_char (p);
      else
        while (*p != '\0' && *p != ' ' && !g_unichar_iswide (g_utf8_get_char (p)))
          p = g_utf8_next_char (p);
      token.text = g_strndup (start, p - start);

      if (tokens->len > 0 && !token.spaced && cannot_start_line (first))
        {
          WrapToken *previous = &g_array_index (tokens, WrapToken, tokens->len - 1);
          char *joined = g_strconcat (previous->text, token.text, NULL);

          g_free (previous->text);
          previous->text = joined;
          g_free (token.text);
          continue;
        }
      if (tokens->len > 0 && !token.spaced)
        {
          WrapToken *previous = &g_array_index (tokens, WrapToken, tokens->len - 1);
          const char *last = g_utf8_prev_char (previous->text + strlen (previous->text));

          if (opens (g_utf8_get_char (last)) && g_unichar_iswide (g_utf8_get_char (last)))
            {
              char *joined = g_strconcat (previous->text, token.text, NULL);

              g_free (previous->text);
              previous->text = joined;
              g_free (token.text);
              continue;
            }
        }
      g_array_append_val (tokens, token);
    }
  return tokens;
}

/* Prints "LABEL TEXT" with TEXT wrapped to the width of a terminal, each
 * further line indented to start under TEXT. */
static void
print_wrapped (const char *label, gsize label_width, const char *text)
{
  g_autoptr(GArray) tokens = wrap_tokens (text);
  gsize column = label_width;

  printf ("%s%*s", label, (int) (label_width - reserve_text_width (label)), "");
  for (guint i = 0; i < tokens->len; i++)
    {
      const WrapToken *token = &g_array_index (tokens, WrapToken, i);
      gsize width = reserve_text_width (token->text);
      gsize separator = token->spaced || i == 0 ? 1 : 0;

      if (i > 0 && column + separator + width > RACE_TIMELINE_COLUMNS)
        {
          printf ("\n%*s", (int) label_width, "");
          column = label_width;
          separator = 1;
        }
      printf ("%*s%s", (int) separator, "", token->text);
      column += separator + width;
    }
  putchar ('\n');
}

void
race_report_print_summary (RaceRun *const *runs, guint n_runs)
{
  /* DIED only when a buyer did (--kill-one, or a crash), so that the
   * table fits 80 columns. */
  gboolean show_died = anyone_died (runs, n_runs);
  const ReserveColumn columns[] = {
    { N_ ("MODE"), FALSE }, { N_ ("BUYERS"), TRUE },   { N_ ("STOCK"), TRUE },
    { N_ ("SOLD"), TRUE },  { N_ ("OVERSOLD"), TRUE }, { N_ ("LOST-UPDATES"), TRUE },
    { N_ ("TORN"), TRUE },  { N_ ("RETRIES"), TRUE },  { N_ ("SECONDS"), TRUE },
    { N_ ("DIED"), TRUE },
  };
  g_autoptr(ReserveTable) table =
               reserve_table_new (columns, G_N_ELEMENTS (columns) - (show_died ? 0 : 1));
  gsize name_width = 0;

  for (guint i = 0; i < n_runs; i++)
    {
      const RaceRun *run = runs[i];
      gboolean file_mode = run->mode == RACE_MODE_FILE || run->mode == RACE_MODE_LOCKED_FILE;
      gint64 lost = race_run_lost_updates (run);

      reserve_table_add (table, race_mode_get_name (run->mode));
      reserve_table_add_number (table, run->buyers);
      reserve_table_add_number (table, run->stock);
      reserve_table_add_number (table, run->sold);
      reserve_table_add_number (table, race_run_oversold (run));
      add_number_if (table, lost >= 0, (guint64) lost);
      add_number_if (table, file_mode, run->torn_reads);
      add_number_if (table, race_mode_get_info (run->mode)->busy_retries, run->busy_retries);
      reserve_table_take (table, g_strdup_printf ("%.3f", run->seconds));
      if (show_died)
        reserve_table_add_number (table, run->died);
      name_width = MAX (name_width, strlen (race_mode_get_name (run->mode)));
    }
  reserve_table_print (table);

  putchar ('\n');
  for (guint i = 0; i < n_runs; i++)
    {
      g_autofree char *label = g_strconcat (race_mode_get_name (runs[i]->mode), ":", NULL);
      g_autofree char *verdict = race_report_verdict (runs[i]);

      print_wrapped (label, name_width + 1, verdict);
    }

  for (guint i = 0; i < n_runs; i++)
    for (guint j = 0; j < runs[i]->buyers; j++)
      if (!ended_cleanly (&runs[i]->results[j]))
        {
          g_autofree char *label = g_strconcat (race_mode_get_name (runs[i]->mode), ":", NULL);
          g_autofree char *death = describe_death (runs[i], &runs[i]->results[j]);
          g_autofree char *sentence = g_strconcat (death, ".", NULL);

          print_wrapped (label, name_width + 1, sentence);
        }
}

/* --- JSON ------------------------------------------------------------------ */

/* A time in microseconds since the release, or null for what did not
 * happen. Whole numbers: JSON doubles would print as 10.122999999999999. */
static void
add_moment (JsonBuilder *builder, const char *name, gint64 usec)
{
  json_builder_set_member_name (builder, name);
  if (usec < 0)
    json_builder_add_null_value (builder);
  else
    json_builder_add_int_value (builder, usec);
}

static void
add_death (JsonBuilder *builder, const RaceRun *run, const RaceBuyerResult *result)
{
  g_autofree char *name = g_strdup_printf ("buyer-%u", result->index);
  g_autofree char *how = describe_death (run, result);

  json_builder_begin_object (builder);
  reserve_json_add_string (builder, "buyer", name);
  reserve_json_add_int (builder, "pid", result->pid);
  if (WIFSIGNALED (result->wait_status))
    reserve_json_add_int (builder, "signal", WTERMSIG (result->wait_status));
  else
    reserve_json_add_int (builder, "exit_status", WEXITSTATUS (result->wait_status));
  reserve_json_add_boolean (builder, "kill_one", result->killed_itself);
  reserve_json_add_string (builder, "description", how);
  json_builder_end_object (builder);
}

static void
add_buyer (JsonBuilder *builder, const RaceRun *run, const RaceBuyerResult *result)
{
  g_autofree char *name = g_strdup_printf ("buyer-%u", result->index);

  json_builder_begin_object (builder);
  reserve_json_add_string (builder, "buyer", name);
  reserve_json_add_int (builder, "pid", result->pid);
  reserve_json_add_string (builder, "outcome", outcome_json_name (result->outcome));
  json_builder_set_member_name (builder, "seen");
  if (result->seen < 0)
    json_builder_add_null_value (builder);
  else
    json_builder_add_int_value (builder, result->seen);
  add_moment (builder, "start_us", result->start);
  add_moment (builder, "read_us", result->read);
  add_moment (builder, "write_us", result->write);
  add_moment (builder, "end_us", result->end);
  if (race_mode_get_info (run->mode)->busy_retries)
    reserve_json_add_int (builder, "busy_retries", result->busy_retries);
  if (result->outcome == RACE_OUTCOME_BOUGHT && run->mode == RACE_MODE_DBUS)
    reserve_json_add_int (builder, "order", (gint64) result->order);
  if (result->detail != NULL)
    reserve_json_add_string (builder, "detail", result->detail);
  json_builder_end_object (builder);
}

static void
add_run (JsonBuilder *builder, const RaceRun *run, gboolean per_buyer)
{
  g_autofree char *verdict = race_report_verdict (run);

  json_builder_begin_object (builder);
  reserve_json_add_string (builder, "mode", race_mode_get_name (run->mode));
  reserve_json_add_int (builder, "buyers", run->buyers);
  reserve_json_add_int (builder, "stock", run->stock);
  reserve_json_add_int (builder, "sold", run->sold);
  reserve_json_add_int (builder, "oversold", race_run_oversold (run));
  if (race_run_lost_updates (run) >= 0)
    reserve_json_add_int (builder, "lost_updates", race_run_lost_updates (run));
  else
    reserve_json_add_null (builder, "lost_updates"); /* a torn file cannot tell */
  reserve_json_add_int (builder, "sold_out", run->sold_out);
  reserve_json_add_int (builder, "torn_reads", run->torn_reads);
  reserve_json_add_int (builder, "failed", run->failed);
  reserve_json_add_int (builder, "died", run->died);
  if (race_mode_get_info (run->mode)->busy_retries)
    reserve_json_add_int (builder, "busy_retries", (gint64) run->busy_retries);
  reserve_json_add_double (builder, "seconds", run->seconds);
  reserve_json_add_int (builder, "delay_ms", run->delay_ms);
  if (run->item != NULL)
    reserve_json_add_string (builder, "item", run->item);
  reserve_json_add_boolean (builder, "consistent", run->consistent);
  reserve_json_add_string (builder, "check", run->check);
  reserve_json_add_string (builder, "verdict", verdict);

  json_builder_set_member_name (builder, "deaths");
  json_builder_begin_array (builder);
  for (guint i = 0; i < run->buyers; i++)
    if (!ended_cleanly (&run->results[i]))
      add_death (builder, run, &run->results[i]);
  json_builder_end_array (builder);

  if (per_buyer)
    {
      json_builder_set_member_name (builder, "results");
      json_builder_begin_array (builder);
      for (guint i = 0; i < run->buyers; i++)
        add_buyer (builder, run, &run->results[i]);
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);
}

void
race_report_print_json (RaceRun *const *runs, guint n_runs, gboolean per_buyer)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_array (builder);
  for (guint i = 0; i < n_runs; i++)
    add_run (builder, runs[i], per_buyer);
  json_builder_end_array (builder);
  reserve_print_json (builder);
}
