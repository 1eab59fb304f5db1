#define G_LOG_DOMAIN "reserved-gate"

#include "reserved-gate.h"

#include <gio/gio.h>
#include <grp.h>
#include <pwd.h>

#include "reserve-error.h"

/* How long an answer of the user database about a uid's groups is used
 * before it is asked again: removing someone from an admin group takes
 * effect within this time, without a restart. */
#define GROUPS_VALID_USEC (30 * G_USEC_PER_SEC)

typedef struct {
  gboolean in_admin_group;
  gint64   asked_at;  /* monotonic */
} Membership;

struct _ReservedGate {
  GArray     *admin_uids;
  GArray     *admin_gids;
  gboolean    daemon_uid_is_admin;
  uid_t       daemon_uid;
  GMutex      lock;         /* guards memberships: threads fill it */
  GHashTable *memberships;  /* uid -> Membership */
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
  g_mutex_init (&gate->lock);
  gate->memberships = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return gate;
}

void
reserved_gate_free (ReservedGate *gate)
{
  if (gate == NULL)
    return;
  g_array_unref (gate->admin_uids);
  g_array_unref (gate->admin_gids);
  g_hash_table_unref (gate->memberships);
  g_mutex_clear (&gate->lock);
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

/* Asks the user database, which may be a network service (LDAP, sssd):
 * never on the main loop, where it would hold up every other caller. */
static gboolean
ask_admin_group (ReservedGate *gate, uid_t caller)
{
  struct passwd pw, *found = NULL;
  char buffer[4096];
  gid_t groups[256];
  int n_groups = G_N_ELEMENTS (groups);

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

static void
remember_membership (ReservedGate *gate, uid_t caller, gboolean in_admin_group)
{
  Membership *membership = g_new0 (Membership, 1);

  membership->in_admin_group = in_admin_group;
  membership->asked_at = g_get_monotonic_time ();
  g_mutex_lock (&gate->lock);
  /* Answers that are too old to use are dropped now and then, so callers
   * that came once and left take no room for good. */
  if (g_hash_table_size (gate->memberships) >= 1024)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, gate->memberships);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (membership->asked_at - ((Membership *) value)->asked_at >= GROUPS_VALID_USEC)
          g_hash_table_iter_remove (&iter);
    }
  g_hash_table_insert (gate->memberships, GUINT_TO_POINTER (caller), membership);
  g_mutex_unlock (&gate->lock);
}

/* Whether @caller's groups matter and no recent answer is known. */
static gboolean
groups_unknown (ReservedGate *gate, uid_t caller, gboolean *in_admin_group)
{
  Membership *membership;
  gboolean unknown = TRUE;

  if (gate->admin_gids->len == 0)
    {
      *in_admin_group = FALSE;
      return FALSE;
    }
  g_mutex_lock (&gate->lock);
  membership = g_hash_table_lookup (gate->memberships, GUINT_TO_POINTER (caller));
  if (membership != NULL && g_get_monotonic_time () - membership->asked_at < GROUPS_VALID_USEC)
    {
      *in_admin_group = membership->in_admin_group;
      unknown = FALSE;
    }
  g_mutex_unlock (&gate->lock);
  return unknown;
}

static gboolean
admin_by_uid (ReservedGate *gate, uid_t caller)
{
  return caller == 0 ||
         (gate->daemon_uid_is_admin && caller == gate->daemon_uid) ||
         ids_contain (gate->admin_uids, caller);
}

gboolean
reserved_gate_is_admin (ReservedGate *gate, uid_t caller)
{
  gboolean in_admin_group = FALSE;

  if (admin_by_uid (gate, caller))
    return TRUE;
  if (groups_unknown (gate, caller, &in_admin_group))
    {
      in_admin_group = ask_admin_group (gate, caller);
      remember_membership (gate, caller, in_admin_group);
    }
  return in_admin_group;
}

gboolean
reserved_gate_needs_lookup (ReservedGate *gate, uid_t caller)
{
  gboolean in_admin_group;

  return !admin_by_uid (gate, caller) && groups_unknown (gate, caller, &in_admin_group);
}

typedef struct {
  ReservedGate *gate;  /* kept alive by the service until the callback */
  uid_t         caller;
} GroupQuery;

static void
look_up_in_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  GroupQuery *query = task_data;

  remember_membership (query->gate, query->caller, ask_admin_group (query->gate, query->caller));
  g_task_return_boolean (task, TRUE);
}

void
reserved_gate_look_up_async (ReservedGate       *gate,
                             uid_t               caller,
                             GAsyncReadyCallback callback,
                             gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, callback, user_data);
  GroupQuery *query = g_new0 (GroupQuery, 1);

  query->gate = gate;
  query->caller = caller;
  g_task_set_task_data (task, query, g_free);
  g_task_run_in_thread (task, look_up_in_thread);
}

static gboolean
deny (GError **error, uid_t caller, const char *what)
{
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_PERMISSION_DENIED,
               "uid %u may not %s", (guint) caller, what);
  return FALSE;
}

gboolean
reserved_gate_check (ReservedAction action,
                     uid_t          caller,
                     gboolean       caller_is_admin,
                     uid_t          owner,
                     GError       **error)
{
  switch (action)
    {
    case RESERVED_ACTION_BUY:
      return TRUE;
    case RESERVED_ACTION_CANCEL:
      if (caller == owner || caller_is_admin)
        return TRUE;
      return deny (error, caller, "cancel an order placed by another user (only its buyer or an admin may)");
    case RESERVED_ACTION_LIST_EVERY_CUSTOMER:
      if (caller_is_admin)
        return TRUE;
      return deny (error, caller, "list the orders of every customer (admins only; name a user instead)");
    case RESERVED_ACTION_CREATE_ITEM:
      if (caller_is_admin)
        return TRUE;
      return deny (error, caller, "create items (admins only)");
    case RESERVED_ACTION_RESTOCK:
      if (caller_is_admin)
        return TRUE;
      return deny (error, caller, "restock items (admins only)");
    default:
      return deny (error, caller, "do this");
    }
}
