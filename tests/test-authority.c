/* Who is an administrator (reserved-authority.c) without polkitd, and the
 * service's method table against the XML and the polkit policy. What
 * polkitd itself answers is tested against a real polkitd in
 * test-authorization.c. */
#include <locale.h>
#include <string.h>

#include "reserve-generated.h"
#include "reserved-authority.h"
#include "reserved-service.h"

/* No passwd entry has these uids. */
#define DAEMON_UID   3000004
#define STRANGER_UID 3000002

static gboolean
decided_now (ReservedAuthority *authority, uid_t caller, gboolean *allowed)
{
  *allowed = -1;
  return reserved_authority_decide_now (authority, caller, allowed);
}

typedef struct {
  GMainLoop *loop;
  gboolean   allowed;
  GError    *error;
} Answer;

static void
on_answer (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Answer *answer = user_data;

  answer->allowed = reserved_authority_check_finish (RESERVED_AUTHORITY (source), result, &answer->error);
  g_main_loop_quit (answer->loop);
}

/* Asks @authority, as the connection @sender of uid @caller, and waits for
 * the answer. */
static gboolean
ask (ReservedAuthority *authority, const char *sender, uid_t caller, GError **error)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Answer answer = { loop, FALSE, NULL };

  reserved_authority_check_async (authority, sender, caller, "org.reserved.Reserve1.restock", TRUE,
                                  on_answer, &answer);
  g_main_loop_run (loop);
  g_assert_true (answer.allowed == (answer.error == NULL));
  if (answer.error != NULL)
    g_propagate_error (error, answer.error);
  return answer.allowed;
}

/* The session bus belongs to the user running the daemon: it and root
 * are the administrators, decided without asking anyone. */
static void
test_session (void)
{
  g_autoptr(ReservedAuthority) authority = reserved_authority_new_owner (DAEMON_UID);
  g_autoptr(GError) error = NULL;
  gboolean allowed;

  g_assert_true (decided_now (authority, DAEMON_UID, &allowed));
  g_assert_true (allowed);
  g_assert_true (decided_now (authority, 0, &allowed));
  g_assert_true (allowed);
  g_assert_true (decided_now (authority, STRANGER_UID, &allowed));
  g_assert_false (allowed);

  g_assert_true (ask (authority, ":1.1", DAEMON_UID, NULL));
  g_assert_false (ask (authority, ":1.2", STRANGER_UID, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (error->message, "session bus"));
}

/* On the system bus only root is known without asking polkitd; the
 * daemon's own uid is nothing special there. */
static void
test_system_root (void)
{
  g_autoptr(GTestDBus) bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(ReservedAuthority) authority = NULL;
  g_autoptr(GError) error = NULL;
  gboolean allowed;

  g_test_dbus_up (bus);
  connection = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (bus),
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  authority = reserved_authority_new_polkit (connection);
  g_assert_true (decided_now (authority, 0, &allowed));
  g_assert_true (allowed);
  g_assert_false (decided_now (authority, getuid () == 0 ? STRANGER_UID : getuid (), &allowed));
  g_assert_true (ask (authority, g_dbus_connection_get_unique_name (connection), 0, NULL));

  g_clear_object (&authority);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  g_test_dbus_down (bus);
}

/* With no polkitd on the bus, nobody but root is an administrator, and
 * the refusal says why at once instead of waiting out a time limit. */
static void
test_system_no_polkitd (void)
{
  g_autoptr(GTestDBus) bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(ReservedAuthority) authority = NULL;
  g_autoptr(GError) error = NULL;

  g_test_dbus_up (bus);
  connection = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (bus),
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  authority = reserved_authority_new_polkit (connection);
  g_assert_false (ask (authority, g_dbus_connection_get_unique_name (connection), STRANGER_UID, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "polkit could not be asked"));
  g_assert_nonnull (strstr (error->message, "org.freedesktop.PolicyKit1"));

  g_clear_object (&authority);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  g_test_dbus_down (bus);
}

static char **
policy_actions (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "org.reserved.Reserve1.policy", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GStrvBuilder) actions = g_strv_builder_new ();
  const char *at;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  for (at = strstr (text, "<action id=\""); at != NULL; at = strstr (at, "<action id=\""))
    {
      const char *start = at + strlen ("<action id=\"");
      const char *end = strchr (start, '"');

      g_autofree char *id = NULL;

      g_assert_nonnull (end);
      id = g_strndup (start, end - start);
      g_strv_builder_add (actions, id);
      at = end;
    }
  return g_strv_builder_end (actions);
}

/* Every method of the XML has exactly one row; every row that asks for an
 * action names one the policy file defines, and says what is refused;
 * every action of the policy is asked for by some row. */
static void
test_method_table (void)
{
  GDBusInterfaceInfo *info = reserve_reserve1_interface_info ();
  g_auto(GStrv) actions = policy_actions ();
  g_autoptr(GHashTable) used = g_hash_table_new (g_str_hash, g_str_equal);
  const ReservedMethod *methods;
  guint n_methods;

  methods = reserved_service_get_methods (&n_methods);
  g_assert_cmpuint (n_methods, ==, g_strv_length ((char **) info->methods));
  for (guint i = 0; info->methods[i] != NULL; i++)
    {
      guint rows = 0;

      for (guint j = 0; j < n_methods; j++)
        rows += g_str_equal (methods[j].name, info->methods[i]->name);
      if (rows != 1)
        g_error ("%s has %u rows in the method table", info->methods[i]->name, rows);
    }
  for (guint j = 0; j < n_methods; j++)
    {
      gboolean asks = methods[j].access == RESERVED_ACCESS_OWNER || methods[j].access == RESERVED_ACCESS_ADMIN;

      if (!asks)
        {
          g_assert_null (methods[j].action);
          continue;
        }
      if (methods[j].action == NULL || !g_strv_contains ((const char *const *) actions, methods[j].action))
        g_error ("%s asks for %s, which the policy file does not define", methods[j].name,
                 methods[j].action);
      g_assert_nonnull (methods[j].refusal);
      g_hash_table_add (used, (gpointer) methods[j].action);
    }
  for (guint i = 0; actions[i] != NULL; i++)
    if (!g_hash_table_contains (used, actions[i]))
      g_error ("the policy file defines %s, which no method asks for", actions[i]);
  g_assert_cmpuint (g_strv_length (actions), >=, 4);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/authority/session", test_session);
  g_test_add_func ("/authority/system/root", test_system_root);
  g_test_add_func ("/authority/system/no-polkitd", test_system_no_polkitd);
  g_test_add_func ("/authority/method-table", test_method_table);

  return g_test_run ();
}
