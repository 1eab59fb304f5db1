/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-sale-window-flags.h"

#include "reserve-sale-window.h"

void
reserve_sale_window_flags_clear (ReserveSaleWindowFlags *flags)
{
  g_clear_pointer (&flags->start, g_free);
  g_clear_pointer (&flags->end, g_free);
}

gboolean
reserve_sale_window_flags_given (const ReserveSaleWindowFlags *flags)
{
  return flags->start != NULL || flags->end != NULL;
}

gboolean
reserve_sale_window_flags_parse (const ReserveSaleWindowFlags *flags,
                                 const char *start_flag,
                                 const char *end_flag,
                                 gint64 *start,
                                 gint64 *end,
                                 GError **error)
{
  return reserve_parse_sale_window (start_flag, flags->start, end_flag, flags->end, start, end,
                                    error);
}
