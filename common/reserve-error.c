/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-error.h"

#include <gio/gio.h>

#include "reserve-names.h"

static const GDBusErrorEntry reserve_error_entries[] = {
  { RESERVE_ERROR_SOLD_OUT, RESERVE_ERROR_PREFIX "SoldOut" },
  { RESERVE_ERROR_NO_SUCH_ITEM, RESERVE_ERROR_PREFIX "NoSuchItem" },
  { RESERVE_ERROR_NO_SUCH_ORDER, RESERVE_ERROR_PREFIX "NoSuchOrder" },
  { RESERVE_ERROR_ALREADY_CANCELLED, RESERVE_ERROR_PREFIX "AlreadyCancelled" },
  { RESERVE_ERROR_INVALID_ARGUMENT, RESERVE_ERROR_PREFIX "InvalidArgument" },
  { RESERVE_ERROR_LIMIT_EXCEEDED, RESERVE_ERROR_PREFIX "LimitExceeded" },
  { RESERVE_ERROR_PERMISSION_DENIED, RESERVE_ERROR_PREFIX "PermissionDenied" },
  { RESERVE_ERROR_ITEM_EXISTS, RESERVE_ERROR_PREFIX "ItemExists" },
  { RESERVE_ERROR_STORAGE_FAILURE, RESERVE_ERROR_PREFIX "StorageFailure" },
  { RESERVE_ERROR_NO_SUCH_HOLD, RESERVE_ERROR_PREFIX "NoSuchHold" },
  { RESERVE_ERROR_HOLD_ENDED, RESERVE_ERROR_PREFIX "HoldEnded" },
  { RESERVE_ERROR_NOT_ON_SALE, RESERVE_ERROR_PREFIX "NotOnSale" },
  { RESERVE_ERROR_NO_SUCH_ENTRY, RESERVE_ERROR_PREFIX "NoSuchEntry" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (reserve_error_entries) == RESERVE_ERROR_N_CODES);

GQuark
reserve_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("reserve-error-quark", &quark, reserve_error_entries,
                                      G_N_ELEMENTS (reserve_error_entries));
  return (GQuark) quark;
}

const char *
reserve_error_to_name (ReserveError code)
{
  if ((guint) code >= G_N_ELEMENTS (reserve_error_entries))
    return NULL;
  return reserve_error_entries[code].dbus_error_name + strlen (RESERVE_ERROR_PREFIX);
}

gboolean
reserve_error_get_code (const GError *error, ReserveError *code)
{
  /* Registering the domain makes GDBus turn our remote error names back
   * into RESERVE_ERROR codes on the client side. */
  GQuark domain = RESERVE_ERROR;

  if (error == NULL || error->domain != domain)
    return FALSE;
  if (error->code < 0 || error->code >= RESERVE_ERROR_N_CODES)
    return FALSE;
  *code = (ReserveError) error->code;
  return TRUE;
}
