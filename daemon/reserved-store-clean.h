/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The record of a clean stop, kept beside the database as
 * "<database>-clean", as fsck keeps a clean flag: written once the daemon
 * has closed the file whole, and taken away at the next start before
 * anything is written, so it can only ever vouch for a file that was
 * closed cleanly and not touched since. A start that finds it checks the
 * file's structure only; any other start reads every page. Private to the
 * store. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads and removes the record beside @path, durably, before the caller
 * writes anything. *clean says whether it vouches for the file as it is
 * now; if not, *why (transfer full) says why not. FALSE with @error set
 * when the record cannot be removed: a start must not go on while it
 * might outlive this life. */
gboolean store_clean_take (const char *path, gboolean *clean, char **why, GError **error);

/* Records that the file at @path was closed cleanly just now: its log
 * checkpointed into it, synced, and removed. Logs, and records nothing,
 * when it cannot tell that (the next start then checks every page). */
void store_clean_record (const char *path);

G_END_DECLS
