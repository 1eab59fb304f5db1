/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading the a{sv} answers of reserved (GetItem, GetStatistics). A key
 * the answer lacks, or has with another type, is an error that names the
 * method and the key, never a silent zero. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean reserve_answer_lookup_u32 (GVariant *answer,
                                    const char *method,
                                    const char *key,
                                    guint32 *value,
                                    GError **error);

G_END_DECLS
