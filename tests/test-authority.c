/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who is an administrator on the session bus (reserved-authority.c), and
 * the service's method table against the XML and the polkit policy. The
 * system bus, where polkitd answers (or cannot), is tested against a real
 * polkitd in test-authorization.c. */
#include <string.h>

#include "reserve-generated.h"
#include "reserved-authority.h"
#include "reserved-test-main.h"
#include "reserved-service.h"

/* No passwd entry has these uids. */
#define DAEMON_UID   3000004
#define STRANGER_UID 3000002

static gboolean
decided_now (ReservedAuthority *authority, uid_t caller, gboolean *allowed)
{
  g_autoptr(GError) error = NULL;
  gboolean decided;

  *allowed = -1;
  decided = reserved_authority_decide_now (authority, caller, allowed, &error);
  /* A no, and only a no, says why. */
  g_assert_true ((decided && !*allowed) == (error != NULL));
  return decided;
}

/* The session bus belongs to the user running the daemon: it and root
 * are the administrators, decided without asking anyone. */
static void
test_session (void)
{
  g_autoptr(ReservedAuthority) authority = reserved_authority_new_owner (DAEMON_UID);
  gboolean allowed;

  g_assert_true (decided_now (authority, DAEMON_UID, &allowed));
  g_assert_true (allowed);
  g_assert_true (decided_now (authority, 0, &allowed));
  g_assert_true (allowed);
  g_assert_true (decided_now (authority, STRANGER_UID, &allowed));
  g_assert_false (allowed);
}

static char **
policy_actions (void)
{
  g_autofree char *path =
    g_test_build_filename (G_TEST_DIST, "..", "data", "org.reserved.Reserve1.policy", NULL);
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
      gboolean asks =
        methods[j].access == RESERVED_ACCESS_OWNER || methods[j].access == RESERVED_ACCESS_ADMIN;

      if (!asks)
        {
          g_assert_null (methods[j].action);
          continue;
        }
      if (methods[j].action == NULL ||
          !g_strv_contains ((const char *const *) actions, methods[j].action))
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

static void
add_cases (void)
{
  g_test_add_func ("/authority/session", test_session);
  g_test_add_func ("/authority/method-table", test_method_table);
}

RESERVED_TEST_MAIN (add_cases, NULL)
