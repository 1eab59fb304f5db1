/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's configuration file: a GKeyFile with one [reserved] group.
 * Every key is optional; unknown groups and keys are refused so a typo is
 * reported instead of silently ignored. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *default_item;
  guint32 initial_capacity;
  guint32 busy_timeout_ms;
  guint32 max_hold_seconds;  /* MaxHoldSeconds */
  guint32 max_holds_per_uid; /* MaxHoldsPerUid */
  char *database;            /* Database: NULL, the bus's default file */
  char *node;                /* Node: NULL, this host's name */
  /* Keys of earlier versions given a value, which this one does not read
   * (AdminUsers, AdminGroups: administrators are polkit's to decide). */
  char **retired_keys;
} ReservedConfig;

ReservedConfig *reserved_config_new_default (void);

/* Loads @path. A missing file gives the defaults when @missing_ok; any
 * other problem is an error naming the file, the key and the value. */
ReservedConfig *reserved_config_load (const char *path, gboolean missing_ok, GError **error);

/* Parses configuration text; @origin names it in messages. */
ReservedConfig *
reserved_config_parse (const char *data, gsize length, const char *origin, GError **error);

void reserved_config_free (ReservedConfig *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReservedConfig, reserved_config_free)

G_END_DECLS
