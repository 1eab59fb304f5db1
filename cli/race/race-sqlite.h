/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sqlite mode of `reserve race`: no daemon, every buyer opens the same
 * SQLite file itself and does its read-modify-write inside a BEGIN
 * IMMEDIATE transaction. Correct, but the buyers queue on the database's
 * write lock for as long as each one pauses inside its transaction.
 *
 * The database is the race's own scratch file with a tiny schema, not the
 * daemon's. */
#pragma once

#include "race-pool.h"

G_BEGIN_DECLS

typedef struct {
  const char *path;
  guint delay_ms;
  guint busy_timeout_ms; /* a buyer gives up after waiting this long */
} RaceSqliteBuyerData;

/* A fresh database at @path (which must not exist) with @stock units. */
gboolean race_sqlite_create (const char *path, guint stock, GError **error);

/* The buyer's body, for RacePoolSpec; @data is a RaceSqliteBuyerData. */
void race_sqlite_buyer (RaceBuyer *buyer, gconstpointer data);

/* What the database recorded: its sales and what is left. */
gboolean race_sqlite_count (const char *path, gint64 *sales, gint64 *remaining, GError **error);

G_END_DECLS
