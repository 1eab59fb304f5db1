/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checks of the API's words (item and user names, request ids, quantities)
 * shared by the daemon, which enforces them, and the CLI, which can explain
 * a mistake before it reaches the bus. Every failure is a RESERVE_ERROR_INVALID_ARGUMENT
 * whose message names the value and says what is allowed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean reserve_validate_item_name (const char *item, GError **error);
gboolean reserve_validate_user_name (const char *user, GError **error);
gboolean reserve_validate_request_id (const char *request_id, GError **error);

/* @what names the argument in the message ("quantity", "capacity"). */
gboolean
reserve_validate_range (const char *what, guint64 value, guint64 min, guint64 max, GError **error);

/* A printable rendering of untrusted text for messages: control characters
 * and invalid UTF-8 bytes escaped as \xNN, cut after 80 characters. */
char *reserve_describe_text (const char *text);

G_END_DECLS
