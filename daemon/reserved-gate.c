#define G_LOG_DOMAIN "reserved-gate"

#include "reserved-gate.h"

#include <grp.h>
#include <pwd.h>

#include "reserve-error.h"

struct _ReservedGate {
  GArray  *admin_uids;
  GArray  *admin_gids;
  gboolean daemon_uid_is_admin;
  uid_t    daemon_uid;
};

static GArray *
copy_ids (const GArray *ids)
{
  GArray *copy = g_array_sized_new (FALSE, FALSE, sizeof (guint32), ids->len);

  g_array_append_vals (copy, ids->data, ids->len);
  return copy;
}

ReservedGate *
reserved_gate_new (const GArray *admin_uids,
                   const GArray *admin_gids,
                   gboolean      daemon_uid_is_admin,
                   uid_t         daemon_uid)
{
  ReservedGate *gate = g_new0 (ReservedGate, 1);

  G_STATIC_ASSERT (sizeof (uid_t) == sizeof (guint32) && sizeof (gid_t) == sizeof (guint32));
  gate->admin_uids = copy_ids (admin_uids);
  gate->admin_gids = copy_ids (admin_gids);
  gate->daemon_uid_is_admin = daemon_uid_is_admin;
  gate->daemon_uid = daemon_uid;
  return gate;
}

void
reserved_gate_free (ReservedGate *gate)
{
  if (gate == NULL)
    return;
  g_array_unref (gate->admin_uids);
  g_array_unref (gate->admin_gids);
  g_free (gate);
}

static gboolean
ids_contain (const GArray *ids, guint32 id)
{
  for (guint i = 0; i < ids->len; i++)
    if (g_array_index (ids, guint32, i) == id)
      return TRUE;
  return FALSE;
}

/* Group membership is asked of the system each time, so removing someone
 * from an admin group takes effect without restarting the daemon. Only
 * callers that are neither root nor named admins get here (for admin-only
 * calls, another caller's Cancel and ListOrders), and only when groups are
 * configured. */
static gboolean
in_admin_group (ReservedGate *gate, uid_t caller)
{
  struct passwd pw, *found = NULL;
  char buffer[4096];
  gid_t groups[256];
  int n_groups = G_N_ELEMENTS (groups);

  if (gate->admin_gids->len == 0)
    return FALSE;
  if (getpwuid_r (caller, &pw, buffer, sizeof buffer, &found) != 0 || found == NULL)
    return FALSE;
  if (ids_contain (gate->admin_gids, pw.pw_gid))
    return TRUE;
  if (getgrouplist (pw.pw_name, pw.pw_gid, groups, &n_groups) < 0)
    {
      g_warning ("User %s (uid %u) is in more than %u groups; only those were checked for admin rights",
                 pw.pw_name, (guint) caller, (guint) G_N_ELEMENTS (groups));
      n_groups = G_N_ELEMENTS (groups);
    }
  for (int i = 0; i < n_groups; i++)
    if (ids_contain (gate->admin_gids, groups[i]))
      return TRUE;
  return FALSE;
}

gboolean
reserved_gate_is_admin (ReservedGate *gate, uid_t caller)
{
  if (caller == 0)
    return TRUE;
  if (gate->daemon_uid_is_admin && caller == gate->daemon_uid)
    return TRUE;
  if (ids_contain (gate->admin_uids, caller))
    return TRUE;
  return in_admin_group (gate, caller);
}

static gboolean
deny (GError **error, uid_t caller, const char *what)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_PERMISSION_DENIED,
               "uid %u may not %s", (guint) caller, what);
  return FALSE;
}

gboolean
reserved_gate_check (ReservedGate  *gate,
                     ReservedAction action,
                     uid_t          caller,
                     uid_t          owner,
                     GError       **error)
{
  switch (action)
    {
    case RESERVED_ACTION_BUY:
      return TRUE;
    case RESERVED_ACTION_CANCEL:
      if (caller == owner || reserved_gate_is_admin (gate, caller))
        return TRUE;
      return deny (error, caller, "cancel an order placed by another user (only its buyer or an admin may)");
    case RESERVED_ACTION_LIST_EVERY_CUSTOMER:
      if (reserved_gate_is_admin (gate, caller))
        return TRUE;
      return deny (error, caller, "list the orders of every customer (admins only; name a user instead)");
    case RESERVED_ACTION_CREATE_ITEM:
      if (reserved_gate_is_admin (gate, caller))
        return TRUE;
      return deny (error, caller, "create items (admins only)");
    case RESERVED_ACTION_RESTOCK:
      if (reserved_gate_is_admin (gate, caller))
        return TRUE;
      return deny (error, caller, "restock items (admins only)");
    default:
      return deny (error, caller, "do this");
    }
}
