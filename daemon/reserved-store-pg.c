/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-store-backend.h"

#include "reserve-error.h"

StoreBackend *
store_pg_open (const StoreSettings *settings, GError **error)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
               "%s: this reserved was built without PostgreSQL", settings->database);
  return NULL;
}
