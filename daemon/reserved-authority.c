/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-authority"

#include "reserved-authority.h"

/* polkitd's interface: a stable D-Bus API, asked as systemd's own daemons
 * ask it, over the connection the daemon already has, so each question
 * can carry its own time limit. */
#define POLKIT_BUS_NAME               "org.freedesktop.PolicyKit1"
#define POLKIT_PATH                   "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE              "org.freedesktop.PolicyKit1.Authority"
#define POLKIT_ALLOW_USER_INTERACTION 1u

struct _ReservedAuthority {
  GObject parent_instance;
  GDBusConnection *polkit_connection; /* NULL: the session bus, no polkit */
  uid_t owner;
};

G_DEFINE_TYPE (ReservedAuthority, reserved_authority, G_TYPE_OBJECT)

ReservedAuthority *
reserved_authority_new_polkit (GDBusConnection *connection)
{
  ReservedAuthority *self = g_object_new (RESERVED_TYPE_AUTHORITY, NULL);

  self->polkit_connection = g_object_ref (connection);
  return self;
}

ReservedAuthority *
reserved_authority_new_owner (uid_t owner)
{
  ReservedAuthority *self = g_object_new (RESERVED_TYPE_AUTHORITY, NULL);

  self->owner = owner;
  return self;
}

gboolean
reserved_authority_decide_now (ReservedAuthority *self,
                               uid_t caller,
                               gboolean *allowed,
                               GError **error)
{
  if (caller == 0)
    {
      *allowed = TRUE;
      return TRUE;
    }
  if (self->polkit_connection != NULL)
    return FALSE;
  *allowed = caller == self->owner;
  if (!*allowed)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 "only the user running the daemon and root administer it on the session bus");
  return TRUE;
}

/* What was asked, for the words of the answer. */
typedef struct {
  char *action_id;
  gboolean interactive;
} Question;

static void
question_free (Question *question)
{
  g_free (question->action_id);
  g_free (question);
}

static void
on_polkit_answer (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) details = NULL;
  const Question *question = g_task_get_task_data (task);
  const char *action_id = question->action_id;
  gboolean authorized = FALSE, challenge = FALSE;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      /* Fail closed: no answer is a no, and the message says why. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                 "polkit did not answer in time, so it is refused");
      else
        {
          g_dbus_error_strip_remote_error (error);
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                                   "polkit could not be asked (%s), so it is refused",
                                   error->message);
        }
      return;
    }
  g_variant_get (reply, "((bb@a{ss}))", &authorized, &challenge, &details);
  if (authorized)
    g_task_return_boolean (task, TRUE);
  else if (challenge && question->interactive)
    g_task_return_new_error (
      task, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
      "polkit action %s needs the caller to authenticate, and that did not happen "
      "(no authentication agent, or it was dismissed)",
      action_id);
  else if (challenge)
    g_task_return_new_error (
      task, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
      "polkit action %s needs the caller to authenticate, and the call did not "
      "allow interactive authorization",
      action_id);
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                             "polkit action %s is not granted to it", action_id);
}

void
reserved_authority_check_async (ReservedAuthority *self,
                                const char *sender,
                                uid_t caller,
                                const char *action_id,
                                gboolean interactive,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);
  g_autoptr(GError) error = NULL;
  gboolean allowed;
  GVariantBuilder subject;
  Question *question;

  question = g_new0 (Question, 1);
  question->action_id = g_strdup (action_id);
  question->interactive = interactive;
  g_task_set_task_data (task, question, (GDestroyNotify) question_free);
  if (reserved_authority_decide_now (self, caller, &allowed, &error))
    {
      if (allowed)
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The subject is the caller's bus name, not its pid: polkitd asks the
   * bus who that is, so a process that exits and whose pid is reused
   * cannot borrow another's rights. */
  g_variant_builder_init (&subject, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&subject, "{sv}", "name", g_variant_new_string (sender));
  g_dbus_connection_call (self->polkit_connection, POLKIT_BUS_NAME, POLKIT_PATH, POLKIT_INTERFACE,
                          "CheckAuthorization",
                          g_variant_new ("((sa{sv})s@a{ss}us)", "system-bus-name", &subject,
                                         action_id,
                                         g_variant_new_array (G_VARIANT_TYPE ("{ss}"), NULL, 0),
                                         interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u, ""),
                          G_VARIANT_TYPE ("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE,
                          interactive ? RESERVED_AUTHORITY_INTERACTIVE_TIMEOUT_MSEC
                                      : RESERVED_AUTHORITY_TIMEOUT_MSEC,
                          NULL, on_polkit_answer, g_steal_pointer (&task));
}

gboolean
reserved_authority_check_finish (ReservedAuthority *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
reserved_authority_dispose (GObject *object)
{
  ReservedAuthority *self = RESERVED_AUTHORITY (object);

  g_clear_object (&self->polkit_connection);
  G_OBJECT_CLASS (reserved_authority_parent_class)->dispose (object);
}

static void
reserved_authority_class_init (ReservedAuthorityClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = reserved_authority_dispose;
}

static void
reserved_authority_init (ReservedAuthority *self)
{
}
