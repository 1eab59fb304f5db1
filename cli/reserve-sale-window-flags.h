/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The two flags that bound a sale window, as `reserve create` (--sale-start,
 * --sale-end) and `reserve sale-window` (--start, --end) take them: each
 * command's table of GOptionEntry points into one ReserveSaleWindowFlags,
 * with its own names and help; reading them is here, once. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  /* As typed (G_OPTION_ARG_FILENAME); NULL: no such bound. */
  char *start;
  char *end;
} ReserveSaleWindowFlags;

void reserve_sale_window_flags_clear (ReserveSaleWindowFlags *flags);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ReserveSaleWindowFlags, reserve_sale_window_flags_clear)

/* Whether either bound was given. */
gboolean reserve_sale_window_flags_given (const ReserveSaleWindowFlags *flags);

/* Both bounds in microseconds since the Unix epoch, 0 for one not given,
 * as reserve_parse_sale_window() reads them; a mistake is a usage error
 * that names @start_flag or @end_flag, the command's names for them. */
gboolean reserve_sale_window_flags_parse (const ReserveSaleWindowFlags *flags,
                                          const char *start_flag,
                                          const char *end_flag,
                                          gint64 *start,
                                          gint64 *end,
                                          GError **error);

G_END_DECLS
