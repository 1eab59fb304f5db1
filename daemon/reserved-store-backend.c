/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-store"

#include "reserved-store-backend.h"

#include "reserve-error.h"

gboolean
store_backend_is_postgresql (const char *database)
{
  return g_str_has_prefix (database, "postgresql://") || g_str_has_prefix (database, "postgres://");
}

StoreBackend *
store_backend_open (const StoreSettings *settings, GError **error)
{
  if (store_backend_is_postgresql (settings->database))
    return store_pg_open (settings, error);
  return store_sqlite_open (settings, error);
}
