/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The four ways `reserve race` shares one stock between its buyers: what
 * each mode prepares before its buyers start, what one buyer does, and the
 * check afterwards of what the buyers were told against what was stored.
 *
 * file and locked-file live in race-modes.c, with the orchestration;
 * sqlite in race-sqlite.c; dbus in race-dbus.c. */
#pragma once

#include "race.h"

G_BEGIN_DECLS

/* What the report says about a mode. */
typedef struct {
  const char *name;       /* "locked-file": the --mode word */
  const char *seen;       /* what a buyer reads ("count"); NULL: reads nothing (dbus) */
  const char *critical;   /* where --kill-one strikes: "while holding the lock" */
  const char *aftermath;  /* what became of the victim's half-done purchase */
  const char *queued_for; /* what buyers took turns at ("the lock"); NULL: no turns */
  gboolean busy_retries;  /* the mode counts them */
} RaceModeInfo;

const RaceModeInfo *race_mode_get_info (RaceMode mode);
const char *race_mode_get_name (RaceMode mode);
gboolean race_mode_from_name (const char *name, RaceMode *mode);

/* TRUE if @text is what the file modes keep: {"count": N}, N >= 0. */
gboolean race_file_parse_count (const char *text, gint64 *count);

typedef struct _RaceSetup RaceSetup;

/* Makes what the chosen @modes (RACE_N_MODES flags) share: a scratch
 * folder, and for the dbus mode the item (a fresh one with the stock, or
 * --item), so that a daemon out of reach stops the run before any mode. */
RaceSetup *race_setup_new (const RaceSettings *settings, const gboolean *modes, GError **error);
/* Removes the scratch folder, and retires the dbus mode's fresh item
 * unless settings->keep (a warning on stderr if it cannot). */
void race_setup_free (RaceSetup *setup);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RaceSetup, race_setup_free)

/* Gives @mode fresh stock, runs its buyers, and checks the stock after.
 * Fails only if the mode could not run or be checked; buyers that fail or
 * die are part of the run. */
RaceRun *race_setup_run (RaceSetup *setup, RaceMode mode, GError **error);

G_END_DECLS
