/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve race --svg FILE`: the timelines of every mode as one picture a
 * browser shows, on one time axis, so that a mode that took 20 ms looks
 * twenty times shorter than one that took 400 ms. */
#pragma once

#include "race.h"

G_BEGIN_DECLS

/* Writes the picture of @runs to @path (replacing it). */
gboolean race_svg_write (const char *path, RaceRun *const *runs, guint n_runs, GError **error);

G_END_DECLS
