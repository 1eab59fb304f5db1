/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What `reserve bench` prints: a live progress line on a terminal while a
 * phase runs, then the report, as text for people or JSON for scripts. */
#pragma once

#include "bench.h"

G_BEGIN_DECLS

void bench_report_progress (const BenchReport *report,
                            BenchPhase phase,
                            gdouble elapsed,
                            guint64 calls,
                            guint64 failed);
void bench_report_progress_done (const BenchReport *report, BenchPhase phase);

/* Buy's calls per second over the baseline's, and the same of p99. */
gdouble bench_report_throughput_ratio (const BenchReport *report);
gdouble bench_report_p99_ratio (const BenchReport *report);

/* What makes the figures of this run doubtful (a busy machine), as
 * sentences for people (element-type utf8). */
GPtrArray *bench_report_warnings (const BenchReport *report);

void bench_report_print_text (const BenchReport *report);
void bench_report_print_json (const BenchReport *report);

G_END_DECLS
