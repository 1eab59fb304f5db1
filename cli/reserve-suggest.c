/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-suggest.h"

#include <string.h>

/* Optimal string alignment distance: insertions, deletions, substitutions
 * and swaps of neighbours, the mistakes fingers make. */
static gsize
edit_distance (const char *a, const char *b)
{
  gsize n = strlen (a);
  gsize m = strlen (b);
  g_autofree gsize *d = g_new0 (gsize, (n + 1) * (m + 1));

#define D(i, j) d[(i) * (m + 1) + (j)]
  for (gsize i = 0; i <= n; i++)
    D (i, 0) = i;
  for (gsize j = 0; j <= m; j++)
    D (0, j) = j;
  for (gsize i = 1; i <= n; i++)
    for (gsize j = 1; j <= m; j++)
      {
        gsize cost = a[i - 1] == b[j - 1] ? 0 : 1;
        gsize best = MIN (MIN (D (i - 1, j) + 1, D (i, j - 1) + 1), D (i - 1, j - 1) + cost);

        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          best = MIN (best, D (i - 2, j - 2) + 1);
        D (i, j) = best;
      }
  return D (n, m);
#undef D
}

const char *
reserve_suggest (const char *typed, const char *const *candidates)
{
  const char *best = NULL;
  gsize best_distance = G_MAXSIZE;
  /* One mistake in a short word, two in a longer one: beyond that the
   * "suggestion" is a guess at another word entirely. */
  gsize allowed = strlen (typed) <= 4 ? 1 : 2;

  for (guint i = 0; candidates[i] != NULL; i++)
    {
      gsize distance = edit_distance (typed, candidates[i]);

      if (distance < best_distance)
        {
          best = candidates[i];
          best_distance = distance;
        }
    }
  return best_distance <= allowed ? best : NULL;
}
