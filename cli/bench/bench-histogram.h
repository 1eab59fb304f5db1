/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Latencies of many calls in a fixed-size histogram, so a buyer can send
 * all of its latencies to the parent in one message however many calls it
 * made, and the parent can add the buyers' histograms up before it reads
 * percentiles off the sum.
 *
 * Buckets are logarithmic: exact below 64 µs, then 32 buckets per power of
 * two, so a percentile is off by at most 1/32 (3 %) of its value, from one
 * microsecond to days. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BENCH_HISTOGRAM_SUB_BITS 5
#define BENCH_HISTOGRAM_LINEAR   (2u << BENCH_HISTOGRAM_SUB_BITS) /* 64 exact buckets */
#define BENCH_HISTOGRAM_TOP_BIT  40                               /* 2^40 µs: 12 days */
#define BENCH_HISTOGRAM_BUCKETS \
  (BENCH_HISTOGRAM_LINEAR +     \
   (BENCH_HISTOGRAM_TOP_BIT - BENCH_HISTOGRAM_SUB_BITS - 1) * (1u << BENCH_HISTOGRAM_SUB_BITS))

typedef struct {
  guint64 counts[BENCH_HISTOGRAM_BUCKETS];
  guint64 total;
  guint64 max_us;
} BenchHistogram;

void bench_histogram_record (BenchHistogram *histogram, guint64 usec);
void bench_histogram_merge (BenchHistogram *into, const BenchHistogram *from);
/* The latency that @percent (0 to 100) of the recorded calls did not
 * exceed: the upper end of its bucket, never above the maximum seen.
 * 0 when nothing was recorded. */
guint64 bench_histogram_percentile (const BenchHistogram *histogram, gdouble percent);
/* How many of the recorded calls took less than @usec: exact when @usec is
 * below BENCH_HISTOGRAM_LINEAR or a power of two, where buckets begin. */
guint64 bench_histogram_count_below (const BenchHistogram *histogram, guint64 usec);

G_END_DECLS
