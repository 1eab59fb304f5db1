/* The one place that decides who may do what. It knows uids and the
 * configured admins, nothing of D-Bus or SQLite, and denies whatever it was
 * not told to allow. */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include "reserved-config.h"

G_BEGIN_DECLS

typedef enum {
  RESERVED_ACTION_BUY,
  RESERVED_ACTION_CANCEL,              /* needs the order's owner */
  RESERVED_ACTION_LIST_EVERY_CUSTOMER, /* ListOrders with an empty user */
  RESERVED_ACTION_CREATE_ITEM,
  RESERVED_ACTION_RESTOCK,
} ReservedAction;

typedef struct _ReservedGate ReservedGate;

/* @daemon_uid_is_admin: on the session bus the daemon's own user owns it,
 * so callers with that uid are admins (docs/api.md). */
ReservedGate *reserved_gate_new (const GArray *admin_uids,
                                 const GArray *admin_gids,
                                 gboolean      daemon_uid_is_admin,
                                 uid_t         daemon_uid);
void          reserved_gate_free (ReservedGate *gate);

/* Membership of the admin groups comes from the user database, which may
 * be slow (a network service), so the service asks for it in a thread:
 * when needs_lookup() says so, look_up_async() fills the gate's memory of
 * @caller's groups (kept 30 seconds). is_admin() answers from that memory
 * without blocking while needs_lookup() is FALSE; otherwise it asks the
 * user database in place, which only tests and tools may do. */
gboolean reserved_gate_needs_lookup  (ReservedGate *gate, uid_t caller);
void     reserved_gate_look_up_async (ReservedGate       *gate,
                                      uid_t               caller,
                                      GAsyncReadyCallback callback,
                                      gpointer            user_data);

gboolean reserved_gate_is_admin (ReservedGate *gate, uid_t caller);

/* @caller_is_admin: what is_admin() said of @caller, decided once per
 * call. @owner: the uid that placed the order, for
 * RESERVED_ACTION_CANCEL. On refusal sets a RESERVE_ERROR_PERMISSION_DENIED
 * naming the caller. */
gboolean reserved_gate_check (ReservedAction action,
                              uid_t          caller,
                              gboolean       caller_is_admin,
                              uid_t          owner,
                              GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReservedGate, reserved_gate_free)

G_END_DECLS
