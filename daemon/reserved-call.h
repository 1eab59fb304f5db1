/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one path every method call takes before its handler runs, driven by
 * a table with a row per method:
 *
 *   1. its arguments, unpacked once by the types the introspection XML
 *      gives them, are checked (InvalidArgument first of all errors);
 *   2. the caller's uid is asked of the bus (PermissionDenied when it
 *      cannot say) and counted against the per-uid limit on calls in
 *      flight (LimitsExceeded past it);
 *   3. whose target it is, for methods an owner may call (NoSuchOrder
 *      before PermissionDenied), read off the main loop;
 *   4. whether the caller may do it, asked of ReservedAuthority before the
 *      store is touched (PermissionDenied);
 *   5. the handler, which ends the call exactly once: with
 *      reserved_call_end() handed to a generated complete function, or
 *      with reserved_call_fail().
 *
 * While one call of a uid waits for step 3 or 4, that uid's later calls
 * wait behind it, so a client's calls still run in the order it sent them (a
 * CreateItem, then a Buy of that item). */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include "reserved-authority.h"
#include "reserved-callers.h"

G_BEGIN_DECLS

typedef enum {
  RESERVED_ACCESS_ANYONE, /* public: the caller's uid is not asked */
  RESERVED_ACCESS_CALLER, /* anyone; the handler uses the caller's uid */
  RESERVED_ACCESS_OWNER,  /* the owner of its target, or a caller allowed the action */
  RESERVED_ACCESS_ADMIN,  /* a caller allowed the action */
} ReservedAccess;

/* One argument, by the type the XML gives it. Strings point into the
 * call's parameters and containers are borrowed from them: both live as
 * long as the call. */
typedef union {
  const char *s; /* s, o, g */
  guint32 u;
  gint32 i;
  guint64 t;
  gint64 x;
  gboolean b;
  GVariant *v; /* any container */
} ReservedArg;

#define RESERVED_CALL_ARGS_MAX 8

typedef struct _ReservedCall ReservedCall;

typedef gboolean (*ReservedCheckArgs) (const ReservedArg *args, GError **error);
/* For RESERVED_ACCESS_OWNER: finds out whether the caller owns the call's
 * target, and says so with reserved_call_owner_known(), at once or from a
 * callback. */
typedef void (*ReservedIsOwner) (ReservedCall *call);
typedef void (*ReservedHandler) (ReservedCall *call, const ReservedArg *args);

typedef struct {
  const char *name; /* the D-Bus method */
  ReservedAccess access;
  const char *action;       /* polkit action id, for OWNER and ADMIN */
  const char *refusal;      /* what a refused caller may not do: "restock items" */
  ReservedCheckArgs check;  /* nullable */
  ReservedIsOwner is_owner; /* OWNER */
  /* OWNER: the owner may call it too, and sees more when allowed the
   * action (asked without prompting anyone): ListOrders. */
  gboolean owner_sees_own;
  ReservedHandler handler;
} ReservedMethod;

#define RESERVED_TYPE_DISPATCHER (reserved_dispatcher_get_type ())
G_DECLARE_FINAL_TYPE (ReservedDispatcher, reserved_dispatcher, RESERVED, DISPATCHER, GObject)

/* @methods (static, @n_methods rows) serve @interface_info's methods.
 * @handler_object (not owned) is what reserved_call_get_handler_data()
 * gives handlers; each call keeps it alive until it ends. */
ReservedDispatcher *reserved_dispatcher_new (GDBusInterfaceInfo *interface_info,
                                             const ReservedMethod *methods,
                                             guint n_methods,
                                             ReservedCallers *callers,
                                             ReservedAuthority *authority,
                                             GObject *handler_object);

/* Takes @invocation (transfer full) down the path above. */
void reserved_dispatcher_dispatch (ReservedDispatcher *self, GDBusMethodInvocation *invocation);

/* Calls accepted and not yet answered. */
guint reserved_dispatcher_get_in_flight (ReservedDispatcher *self);
ReservedCallers *reserved_dispatcher_get_callers (ReservedDispatcher *self);

/* After this, "drained" is emitted once no call is in flight (at once if
 * none is). */
void reserved_dispatcher_stop (ReservedDispatcher *self);

gpointer reserved_call_get_handler_data (ReservedCall *call);
const ReservedArg *reserved_call_get_args (ReservedCall *call);
uid_t reserved_call_get_caller (ReservedCall *call);
/* The unique bus name of the connection that sent the call. */
const char *reserved_call_get_sender (ReservedCall *call);
/* Whether the caller was allowed the method's action: always TRUE for
 * ADMIN, and for OWNER when it does not own the target. */
gboolean reserved_call_is_admin (ReservedCall *call);

/* The answer of the method's is_owner: whether the caller owns the
 * target, or @error (nullable) when there is no such target, which is
 * then the call's reply. */
void reserved_call_owner_known (ReservedCall *call, gboolean owned, const GError *error);

/* Ends @call and gives its invocation (transfer full) to reply with. */
GDBusMethodInvocation *reserved_call_end (ReservedCall *call);
/* Ends @call with @error as its reply. */
void reserved_call_fail (ReservedCall *call, const GError *error);

G_END_DECLS
