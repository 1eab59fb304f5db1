/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON text as `reserve` prints it. json-glib's generator writes every
 * double with 17 significant digits, so a measured 0.016774 s comes out as
 * 0.016774000000000001; this writer gives each number the fewest digits
 * that read back as the same double, and is otherwise plain JSON: UTF-8
 * text as it is, the characters JSON requires escaped. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* @node as JSON text, indented by two spaces per level if @pretty, else
 * on one line. */
char *reserve_json_to_text (JsonNode *node, gboolean pretty);

G_END_DECLS
