/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-log.h"

#include <stdlib.h>

static GLogWriterOutput
write_or_abort (GLogLevelFlags log_level,
                const GLogField *fields,
                gsize n_fields,
                gpointer user_data)
{
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
      abort ();
    }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

void
reserve_fuzz_abort_on_warnings (void)
{
  g_log_set_writer_func (write_or_abort, NULL, NULL);
}
