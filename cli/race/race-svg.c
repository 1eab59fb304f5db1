/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "race-svg.h"

#include "race-modes.h"
#include "race-report.h"
#include "reserve-text.h"

#define WIDTH        960
#define LEFT         150 /* the mode names and buyer labels */
#define RIGHT        30
#define PLOT_WIDTH   (WIDTH - LEFT - RIGHT)
#define TITLE_HEIGHT 50
#define MODE_GAP     46 /* a mode's heading above its rows */
#define AXIS_HEIGHT  40
#define LEGEND_ROW   24
/* Rows of one mode: at most this many pixels in all, so that 10,000
 * buyers still make a picture of sensible size; each row at most 12. */
#define MODE_HEIGHT_MAX 240.0
#define ROW_HEIGHT_MAX  12.0
/* Beyond this many buyers, every n-th is drawn: more rows than pixels
 * show nothing more and make a file too big to open. */
#define ROWS_DRAWN_MAX 600

static const char *
outcome_colour (RaceOutcome outcome)
{
  switch (outcome)
    {
    case RACE_OUTCOME_BOUGHT:
      return "#2e7d32"; /* green */
    case RACE_OUTCOME_SOLD_OUT:
      return "#9e9e9e"; /* grey */
    case RACE_OUTCOME_TORN_READ:
      return "#ef6c00"; /* orange */
    case RACE_OUTCOME_NONE:
      return "#000000"; /* died */
    case RACE_OUTCOME_FAILED:
    case RACE_OUTCOME_NO_BUS:
    default:
      return "#6a1b9a"; /* purple */
    }
}

static double
x_of (gint64 usec, gint64 span)
{
  return LEFT + (double) MAX (usec, 0) * PLOT_WIDTH / (double) span;
}

/* A round step for the axis: 1, 2 or 5 times a power of ten, for about
 * eight ticks. */
static gint64
tick_step (gint64 span)
{
  gint64 raw = MAX (span / 8, 1);
  gint64 power = 1;

  while (raw >= power * 10)
    power *= 10;
  if (raw <= power)
    return power;
  if (raw <= 2 * power)
    return 2 * power;
  if (raw <= 5 * power)
    return 5 * power;
  return 10 * power;
}

static void
append_text (GString *svg, double x, double y, const char *attributes, const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  g_string_append_printf (svg, "<text x=\"%.1f\" y=\"%.1f\" %s>%s</text>\n", x, y, attributes,
                          escaped);
}

/* One buyer: a thin grey line while it waited, a bar in its outcome's
 * colour from its read (or sent Buy) to its write or end. */
static void
append_buyer (GString *svg, const RaceBuyerResult *result, gint64 span, double y, double height)
{
  gint64 end = MAX (MAX (result->start, result->read), MAX (result->write, result->end));
  gint64 from = result->read >= 0 ? result->read : end;
  gint64 to = result->outcome == RACE_OUTCOME_BOUGHT && result->write >= 0 ? result->write : end;
  double bar_x = x_of (from, span);
  double bar_width = MAX (x_of (to, span) - bar_x, 1.5);

  if (result->start < 0)
    return;
  if (from > result->start)
    g_string_append_printf (svg,
                            "<line class=\"wait\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"#cfd8dc\" stroke-width=\"1\"/>\n",
                            x_of (result->start, span), y + height / 2, bar_x, y + height / 2);
  g_string_append_printf (svg,
                          "<rect class=\"buyer\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                          "height=\"%.1f\" fill=\"%s\"><title>buyer-%u</title></rect>\n",
                          bar_x, y, bar_width, MAX (height * 0.8, 0.8),
                          outcome_colour (result->outcome), result->index);
}

/* The ticks' lines across one mode's rows, behind its bars. */
static void
append_grid (GString *svg, gint64 span, double top, double bottom)
{
  gint64 step = tick_step (span);

  for (gint64 t = 0; t <= span; t += step)
    g_string_append_printf (svg,
                            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"#e0e0e0\" stroke-width=\"1\"/>\n",
                            x_of (t, span), top, x_of (t, span), bottom);
}

static double
append_mode (GString *svg, const RaceRun *run, gint64 span, double top)
{
  g_autofree const RaceBuyerResult **by_start = race_report_buyers_by_start (run);
  guint every = (run->buyers + ROWS_DRAWN_MAX - 1) / ROWS_DRAWN_MAX;
  guint rows = (run->buyers + every - 1) / every;
  double row_height = MIN (ROW_HEIGHT_MAX, MODE_HEIGHT_MAX / rows);
  g_autofree char *heading = NULL;
  g_autofree char *verdict = race_report_verdict (run);
  g_autofree char *escaped_verdict = g_markup_escape_text (verdict, -1);
  gint64 lost = race_run_lost_updates (run);
  g_autofree char *lost_text =
    lost >= 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, lost) : g_strdup ("?");
  g_autofree char *sampled =
    every > 1 ? g_strdup_printf (_ (" (1 buyer in %u shown)"), every) : g_strdup ("");

  heading = g_strdup_printf (_ ("%s: %u sold of %u, %u oversold, %s lost updates, %.0f ms%s"),
                             race_mode_get_name (run->mode), run->sold, run->stock,
                             race_run_oversold (run), lost_text, run->seconds * 1000, sampled);
  g_string_append_printf (svg, "<g class=\"mode\" id=\"%s\">\n", race_mode_get_name (run->mode));
  append_text (svg, 10, top + 18, "font-weight=\"bold\" font-size=\"14\"", heading);
  /* The verdict as a tooltip: the whole sentence, however long. */
  g_string_append_printf (svg, "<title>%s</title>\n", escaped_verdict);
  top += MODE_GAP - 16;
  g_string_append_printf (svg,
                          "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
                          "fill=\"#fafafa\" stroke=\"#eeeeee\"/>\n",
                          LEFT, top, PLOT_WIDTH, rows * row_height);
  append_grid (svg, span, top, top + rows * row_height);
  for (guint i = 0; i < rows; i++)
    append_buyer (svg, by_start[i * every], span, top + i * row_height, row_height);
  g_string_append (svg, "</g>\n");
  return top + rows * row_height + 10;
}

static void
append_axis (GString *svg, gint64 span, double bottom)
{
  gint64 step = tick_step (span);

  g_string_append (svg, "<g class=\"axis\">\n");
  g_string_append_printf (svg,
                          "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                          "stroke=\"#757575\" stroke-width=\"1\"/>\n",
                          LEFT, bottom, LEFT + PLOT_WIDTH, bottom);
  for (gint64 t = 0; t <= span; t += step)
    {
      g_autofree char *label = t >= 10 * 1000 || step >= 1000
                                 ? g_strdup_printf ("%" G_GINT64_FORMAT " ms", t / 1000)
                                 : g_strdup_printf ("%.1f ms", (double) t / 1000);

      g_string_append_printf (svg,
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "stroke=\"#757575\" stroke-width=\"1\"/>\n",
                              x_of (t, span), bottom, x_of (t, span), bottom + 4);
      append_text (svg, x_of (t, span), bottom + 16, "text-anchor=\"middle\" font-size=\"11\"",
                   label);
    }
  append_text (svg, LEFT + PLOT_WIDTH / 2.0, bottom + 32, "text-anchor=\"middle\" font-size=\"12\"",
               _ ("time since the buyers were released, the same for every mode"));
  g_string_append (svg, "</g>\n");
}

static void
append_legend (GString *svg, double top)
{
  static const struct {
    RaceOutcome outcome;
    const char *label;
  } entries[] = {
    { RACE_OUTCOME_BOUGHT, N_ ("bought") },  { RACE_OUTCOME_SOLD_OUT, N_ ("sold out") },
    { RACE_OUTCOME_TORN_READ, N_ ("torn") }, { RACE_OUTCOME_NONE, N_ ("died") },
    { RACE_OUTCOME_FAILED, N_ ("failed") },
  };
  double x = LEFT;

  g_string_append (svg, "<g class=\"legend\">\n");
  g_string_append_printf (svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"#cfd8dc\" stroke-width=\"2\"/>\n",
                          x, top - 4, x + 24, top - 4);
  append_text (svg, x + 30, top, "font-size=\"12\"", _ ("waiting"));
  x += 100;
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      g_string_append_printf (svg,
                              "<rect x=\"%.1f\" y=\"%.1f\" width=\"24\" height=\"9\" "
                              "fill=\"%s\"/>\n",
                              x, top - 9, outcome_colour (entries[i].outcome));
      append_text (svg, x + 30, top, "font-size=\"12\"", _ (entries[i].label));
      x += 100;
    }
  append_text (svg, 10, top + 18, "font-size=\"11\" fill=\"#555555\"",
               _ ("Each row is a buyer, in the order they began; a bar runs from its read "
                  "(or its Buy call) to its write or its answer."));
  g_string_append (svg, "</g>\n");
}

gboolean
race_svg_write (const char *path, RaceRun *const *runs, guint n_runs, GError **error)
{
  gint64 span = race_report_timeline_span (runs, n_runs);
  g_autoptr(GString) body = g_string_new (NULL);
  g_autoptr(GString) svg = g_string_new (NULL);
  double top = TITLE_HEIGHT;
  g_autofree char *title = NULL;

  for (guint i = 0; i < n_runs; i++)
    top = append_mode (body, runs[i], span, top);
  append_axis (body, span, top);
  top += AXIS_HEIGHT;
  append_legend (body, top + LEGEND_ROW / 2.0);
  top += 2 * LEGEND_ROW + 10;

  if (n_runs > 0)
    title =
      g_strdup_printf (P_ ("reserve race: %u buyers for %u unit, every mode on one time axis",
                           "reserve race: %u buyers for %u units, every mode on one time axis",
                           runs[0]->stock),
                       runs[0]->buyers, runs[0]->stock);
  else
    title = g_strdup ("reserve race"); /* no runs: nothing to say */
  g_string_append_printf (svg,
                          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                          "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
                          "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
                          WIDTH, (int) top + 1, WIDTH, (int) top + 1);
  append_text (svg, 10, 28, "font-size=\"18\" font-weight=\"bold\"", title);
  g_string_append_len (svg, body->str, body->len);
  g_string_append (svg, "</svg>\n");
  return g_file_set_contents (path, svg->str, svg->len, error);
}
