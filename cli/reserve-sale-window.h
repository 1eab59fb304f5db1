/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sale windows in reserve: the times a user types (local time, ISO 8601,
 * "now"), turned into the daemon's microseconds since the Unix epoch, and
 * a window shown in local time. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Parses @text, the value of @flag: "now"; a local date and time such as
 * "2026-12-24 10:00" or "2026-12-24 10:00:30"; a date alone (its
 * midnight); or ISO 8601 with an optional zone, "2026-12-24T10:00:00+01:00".
 * Without a zone the time is local ($TZ). A failure is a usage error that
 * names @flag, the value and the accepted forms. */
gboolean reserve_parse_sale_time (const char *flag, const char *text, gint64 *usec, GError **error);

/* Both bounds of a window, each given (non-NULL text) or 0 for none, as
 * reserve_parse_sale_time() reads them; when both are given the start must
 * come before the end. */
gboolean reserve_parse_sale_window (const char *start_flag,
                                    const char *start_text,
                                    const char *end_flag,
                                    const char *end_text,
                                    gint64 *start,
                                    gint64 *end,
                                    GError **error);

/* "from START until END", "from START" or "until END" in local time; NULL
 * when both are 0 (no window). (transfer full) */
char *reserve_describe_sale_window (gint64 start, gint64 end);

/* Reads GetItem's "sale_start" and "sale_end" (0 when absent) and
 * "on_sale" (TRUE when absent: a daemon older than sale windows). */
void reserve_sale_window_from_info (GVariant *info, gint64 *start, gint64 *end, gboolean *on_sale);

/* Whether a window of @start and @end (0: no bound) holds the present. */
gboolean reserve_sale_window_open_now (gint64 start, gint64 end);

/* The members "sale_start" and "sale_end" (RFC 3339 in UTC, or null for
 * no bound) and "on_sale". */
void
reserve_json_add_sale_window (JsonBuilder *builder, gint64 start, gint64 end, gboolean on_sale);

G_END_DECLS
