/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What `reserve race` prints: a summary table with a verdict per mode, the
 * buyers that died, one line per buyer (--verbose), a picture of when each
 * buyer read and wrote (--timeline), and all of it as JSON (--json). */
#pragma once

#include "race.h"

G_BEGIN_DECLS

/* Lines of the timeline, legend included, are at most this wide. */
#define RACE_TIMELINE_COLUMNS 80

/* One line per buyer, by index: "buyer-7 (pid 4242) read count=1 -> bought". */
void race_report_print_buyers (const RaceRun *run);
/* The longest time any buyer of @runs took, from its run's release: the
 * one time axis every mode's timeline and picture is drawn on. */
gint64 race_report_timeline_span (RaceRun *const *runs, guint n_runs);
/* @run's buyers in the order they began their turns (read the stock or
 * sent Buy); free the array, not them. */
const RaceBuyerResult **race_report_buyers_by_start (const RaceRun *run);
void race_report_print_timeline (const RaceRun *run, gint64 span);
/* The table, a verdict line per mode, and a line per dead buyer. */
void race_report_print_summary (RaceRun *const *runs, guint n_runs);
/* An array with one object per mode; @per_buyer adds each buyer's result. */
void race_report_print_json (RaceRun *const *runs, guint n_runs, gboolean per_buyer);

/* (transfer full) "OVERSOLD: 30 buyers were told they got 1 ticket; …" */
char *race_report_verdict (const RaceRun *run);

G_END_DECLS
