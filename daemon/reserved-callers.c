/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-callers"

#include "reserved-callers.h"

#include "reserve-error.h"

struct _ReservedCallers {
  GObject parent_instance;
  GDBusConnection *connection;
  guint name_owner_changed_id;
  GHashTable *uids;    /* unique name -> uid, as GUINT_TO_POINTER */
  GHashTable *waiting; /* unique name -> GPtrArray of GTask */
};

G_DEFINE_TYPE (ReservedCallers, reserved_callers, G_TYPE_OBJECT)

static void
on_name_owner_changed (GDBusConnection *connection,
                       const char *sender_name,
                       const char *object_path,
                       const char *interface_name,
                       const char *signal_name,
                       GVariant *parameters,
                       gpointer user_data)
{
  ReservedCallers *self = user_data;
  const char *name, *old_owner, *new_owner;

  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (name[0] == ':' && new_owner[0] == '\0')
    g_hash_table_remove (self->uids, name);
}

static void
finish_waiting (ReservedCallers *self,
                const char *sender,
                gboolean found,
                uid_t uid,
                const GError *error)
{
  g_autoptr(GPtrArray) tasks = NULL;
  g_autofree char *key = NULL;

  if (!g_hash_table_steal_extended (self->waiting, sender, (gpointer *) &key, (gpointer *) &tasks))
    return;
  for (guint i = 0; i < tasks->len; i++)
    {
      GTask *task = g_ptr_array_index (tasks, i);
      if (found)
        g_task_return_int (task, uid);
      else
        g_task_return_error (task, g_error_copy (error));
    }
}

typedef struct {
  ReservedCallers *self; /* owned */
  char *sender;
} Lookup;

static void
lookup_free (Lookup *lookup)
{
  g_object_unref (lookup->self);
  g_free (lookup->sender);
  g_free (lookup);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Lookup, lookup_free)

static void
on_unix_user_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(Lookup) lookup = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply =
               g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  guint32 uid = 0;

  if (reply == NULL)
    {
      g_autoptr(GError) refusal = NULL;

      /* Fail closed: without a uid nothing is allowed. */
      g_dbus_error_strip_remote_error (error);
      refusal = g_error_new (RESERVE_ERROR, RESERVE_ERROR_PERMISSION_DENIED,
                             "cannot tell who is calling (%s), so nothing was done: %s",
                             lookup->sender, error->message);
      g_debug ("Looking up the uid of %s failed: %s", lookup->sender, error->message);
      finish_waiting (lookup->self, lookup->sender, FALSE, 0, refusal);
      return;
    }
  g_variant_get (reply, "(u)", &uid);
  g_hash_table_insert (lookup->self->uids, g_strdup (lookup->sender), GUINT_TO_POINTER (uid));
  finish_waiting (lookup->self, lookup->sender, TRUE, uid, NULL);
}

void
reserved_callers_lookup_async (ReservedCallers *self,
                               const char *sender,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);
  gpointer cached = NULL;
  GPtrArray *tasks;
  Lookup *lookup;

  if (sender == NULL)
    {
      g_task_return_new_error (task, RESERVE_ERROR, RESERVE_ERROR_PERMISSION_DENIED,
                               "the call has no sender, so its caller cannot be identified");
      return;
    }
  if (g_hash_table_lookup_extended (self->uids, sender, NULL, &cached))
    {
      g_task_return_int (task, GPOINTER_TO_UINT (cached));
      return;
    }

  /* Several calls from one new connection share one question to the bus. */
  tasks = g_hash_table_lookup (self->waiting, sender);
  if (tasks != NULL)
    {
      g_ptr_array_add (tasks, g_steal_pointer (&task));
      return;
    }
  tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (tasks, g_steal_pointer (&task));
  g_hash_table_insert (self->waiting, g_strdup (sender), tasks);

  lookup = g_new0 (Lookup, 1);
  lookup->self = g_object_ref (self);
  lookup->sender = g_strdup (sender);
  g_dbus_connection_call (self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixUser",
                          g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(u)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_unix_user_reply, lookup);
}

gboolean
reserved_callers_lookup_finish (ReservedCallers *self,
                                GAsyncResult *result,
                                uid_t *uid,
                                GError **error)
{
  gssize value;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  value = g_task_propagate_int (G_TASK (result), error);
  if (value < 0)
    return FALSE;
  *uid = (uid_t) value;
  return TRUE;
}

gboolean
reserved_callers_lookup_cached (ReservedCallers *self, const char *sender, uid_t *uid)
{
  gpointer cached = NULL;

  if (sender == NULL || !g_hash_table_lookup_extended (self->uids, sender, NULL, &cached))
    return FALSE;
  *uid = GPOINTER_TO_UINT (cached);
  return TRUE;
}

guint
reserved_callers_get_n_cached (ReservedCallers *self)
{
  return g_hash_table_size (self->uids);
}

ReservedCallers *
reserved_callers_new (GDBusConnection *connection)
{
  ReservedCallers *self = g_object_new (RESERVED_TYPE_CALLERS, NULL);

  self->connection = g_object_ref (connection);
  self->name_owner_changed_id =
    g_dbus_connection_signal_subscribe (connection, "org.freedesktop.DBus", "org.freedesktop.DBus",
                                        "NameOwnerChanged", "/org/freedesktop/DBus", NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed, self,
                                        NULL);
  return self;
}

static void
reserved_callers_dispose (GObject *object)
{
  ReservedCallers *self = RESERVED_CALLERS (object);

  if (self->name_owner_changed_id != 0)
    {
      g_dbus_connection_signal_unsubscribe (self->connection, self->name_owner_changed_id);
      self->name_owner_changed_id = 0;
    }
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (reserved_callers_parent_class)->dispose (object);
}

static void
reserved_callers_finalize (GObject *object)
{
  ReservedCallers *self = RESERVED_CALLERS (object);

  g_hash_table_unref (self->uids);
  g_hash_table_unref (self->waiting);
  G_OBJECT_CLASS (reserved_callers_parent_class)->finalize (object);
}

static void
reserved_callers_class_init (ReservedCallersClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = reserved_callers_dispose;
  object_class->finalize = reserved_callers_finalize;
}

static void
reserved_callers_init (ReservedCallers *self)
{
  self->uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->waiting =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
}
