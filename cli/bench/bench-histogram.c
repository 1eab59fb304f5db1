/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bench-histogram.h"

#define SUB_COUNT (1u << BENCH_HISTOGRAM_SUB_BITS)

static guint
bucket_of (guint64 usec)
{
  guint top;

  if (usec < BENCH_HISTOGRAM_LINEAR)
    return (guint) usec;
  usec = MIN (usec, (G_GUINT64_CONSTANT (1) << BENCH_HISTOGRAM_TOP_BIT) - 1);
  /* The highest set bit picks the power of two, the SUB_BITS bits below it
   * the bucket inside it. */
  top = g_bit_storage (usec) - 1;
  return BENCH_HISTOGRAM_LINEAR + (top - BENCH_HISTOGRAM_SUB_BITS - 1) * SUB_COUNT +
         (guint) ((usec >> (top - BENCH_HISTOGRAM_SUB_BITS)) - SUB_COUNT);
}

/* The largest value that falls into @bucket. */
static guint64
bucket_upper (guint bucket)
{
  guint k, top, shift;

  if (bucket < BENCH_HISTOGRAM_LINEAR)
    return bucket;
  k = bucket - BENCH_HISTOGRAM_LINEAR;
  top = BENCH_HISTOGRAM_SUB_BITS + 1 + k / SUB_COUNT;
  shift = top - BENCH_HISTOGRAM_SUB_BITS;
  return (((guint64) (SUB_COUNT + k % SUB_COUNT) + 1) << shift) - 1;
}

void
bench_histogram_record (BenchHistogram *histogram, guint64 usec)
{
  histogram->counts[bucket_of (usec)]++;
  histogram->total++;
  histogram->max_us = MAX (histogram->max_us, usec);
}

void
bench_histogram_merge (BenchHistogram *into, const BenchHistogram *from)
{
  for (guint i = 0; i < BENCH_HISTOGRAM_BUCKETS; i++)
    into->counts[i] += from->counts[i];
  into->total += from->total;
  into->max_us = MAX (into->max_us, from->max_us);
}

guint64
bench_histogram_percentile (const BenchHistogram *histogram, gdouble percent)
{
  gdouble exact;
  guint64 rank, seen = 0;

  if (histogram->total == 0)
    return 0;
  /* The rank, from 1, of the call that @percent of them do not exceed:
   * rounded up, so p50 of two calls is the first and p100 the last. */
  exact = CLAMP (percent, 0.0, 100.0) / 100.0 * (gdouble) histogram->total;
  rank = (guint64) exact;
  if ((gdouble) rank < exact)
    rank++;
  rank = CLAMP (rank, 1, histogram->total);
  for (guint i = 0; i < BENCH_HISTOGRAM_BUCKETS; i++)
    {
      seen += histogram->counts[i];
      if (seen >= rank)
        return MIN (bucket_upper (i), histogram->max_us);
    }
  return histogram->max_us;
}

guint64
bench_histogram_count_below (const BenchHistogram *histogram, guint64 usec)
{
  guint64 below = 0;

  for (guint i = 0; i < BENCH_HISTOGRAM_BUCKETS && bucket_upper (i) < usec; i++)
    below += histogram->counts[i];
  return below;
}
