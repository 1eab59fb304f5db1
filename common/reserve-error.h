/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The error domain of the reserved API. Each code maps to one D-Bus error
 * name, org.reserved.Reserve1.Error.<Name>, so a GError raised anywhere in
 * the daemon reaches clients under its API name without translation code. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  RESERVE_ERROR_SOLD_OUT,
  RESERVE_ERROR_NO_SUCH_ITEM,
  RESERVE_ERROR_NO_SUCH_ORDER,
  RESERVE_ERROR_ALREADY_CANCELLED,
  RESERVE_ERROR_INVALID_ARGUMENT,
  RESERVE_ERROR_LIMIT_EXCEEDED,
  RESERVE_ERROR_PERMISSION_DENIED,
  RESERVE_ERROR_ITEM_EXISTS,
  RESERVE_ERROR_STORAGE_FAILURE,
  RESERVE_ERROR_NO_SUCH_HOLD,
  RESERVE_ERROR_HOLD_ENDED,
  RESERVE_ERROR_NOT_ON_SALE,
  RESERVE_ERROR_NO_SUCH_ENTRY,
} ReserveError;

#define RESERVE_ERROR_N_CODES (RESERVE_ERROR_NO_SUCH_ENTRY + 1)

#define RESERVE_ERROR (reserve_error_quark ())
GQuark reserve_error_quark (void);

/* The short API name of @code ("SoldOut"), or NULL for an unknown code. */
const char *reserve_error_to_name (ReserveError code);

/* If @error came from the daemon as one of the API's errors, sets @code and
 * returns TRUE. Works both for a GError in RESERVE_ERROR and for a remote
 * error whose D-Bus name is one of ours. */
gboolean reserve_error_get_code (const GError *error, ReserveError *code);

G_END_DECLS
