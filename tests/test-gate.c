/* Who may do what (the gate), and the check of a{sv} options. The gate
 * denies by default; these cases try every action as an admin of each kind,
 * as the owner of an order and as a stranger. */
#include <grp.h>
#include <locale.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserved-gate.h"
#include "reserved-options.h"

/* No passwd entry has these uids (checked where it matters). */
#define OWNER_UID    3000001
#define STRANGER_UID 3000002
#define ADMIN_UID    3000003
#define DAEMON_UID   3000004
#define UNKNOWN_UID  4000000

static const ReservedAction all_actions[] = {
  RESERVED_ACTION_BUY,
  RESERVED_ACTION_CANCEL,
  RESERVED_ACTION_LIST_EVERY_CUSTOMER,
  RESERVED_ACTION_CREATE_ITEM,
  RESERVED_ACTION_RESTOCK,
};

static GArray *
ids_new (const guint32 *ids, guint n_ids)
{
  GArray *array = g_array_new (FALSE, FALSE, sizeof (guint32));

  g_array_append_vals (array, ids, n_ids);
  return array;
}

static ReservedGate *
gate_new (const guint32 *uids,
          guint          n_uids,
          const guint32 *gids,
          guint          n_gids,
          gboolean       daemon_uid_is_admin)
{
  g_autoptr(GArray) admin_uids = ids_new (uids, n_uids);
  g_autoptr(GArray) admin_gids = ids_new (gids, n_gids);

  return reserved_gate_new (admin_uids, admin_gids, daemon_uid_is_admin, DAEMON_UID);
}

static void
assert_allowed (ReservedGate *gate, ReservedAction action, uid_t caller, uid_t owner)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (reserved_gate_check (action, caller, reserved_gate_is_admin (gate, caller), owner, &error));
  g_assert_no_error (error);
}

static void
assert_denied (ReservedGate *gate, ReservedAction action, uid_t caller, uid_t owner)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *named = g_strdup_printf ("uid %u ", (guint) caller);

  g_assert_false (reserved_gate_check (action, caller, reserved_gate_is_admin (gate, caller), owner, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_PERMISSION_DENIED);
  if (strstr (error->message, named) == NULL)
    g_error ("the message “%s” does not name the caller (%s)", error->message, named);
}

/* An admin may do everything, whoever placed the order. */
static void
assert_admin (ReservedGate *gate, uid_t caller)
{
  g_assert_true (reserved_gate_is_admin (gate, caller));
  for (guint i = 0; i < G_N_ELEMENTS (all_actions); i++)
    {
      assert_allowed (gate, all_actions[i], caller, OWNER_UID);
      assert_allowed (gate, all_actions[i], caller, caller);
    }
}

/* Anyone else may buy and cancel their own orders, nothing more. */
static void
assert_not_admin (ReservedGate *gate, uid_t caller)
{
  g_assert_false (reserved_gate_is_admin (gate, caller));
  assert_allowed (gate, RESERVED_ACTION_BUY, caller, caller);
  assert_allowed (gate, RESERVED_ACTION_CANCEL, caller, caller);
  assert_denied (gate, RESERVED_ACTION_CANCEL, caller, caller == OWNER_UID ? STRANGER_UID : OWNER_UID);
  assert_denied (gate, RESERVED_ACTION_LIST_EVERY_CUSTOMER, caller, caller);
  assert_denied (gate, RESERVED_ACTION_CREATE_ITEM, caller, caller);
  assert_denied (gate, RESERVED_ACTION_RESTOCK, caller, caller);
}

static void
test_root (void)
{
  g_autoptr(ReservedGate) gate = gate_new (NULL, 0, NULL, 0, FALSE);
  g_autoptr(ReservedGate) with_config = NULL;
  const guint32 uids[] = { ADMIN_UID };
  const guint32 gids[] = { 4000001 };

  assert_admin (gate, 0);
  assert_not_admin (gate, STRANGER_UID);

  /* Configuring other admins does not take root's rights away. */
  with_config = gate_new (uids, G_N_ELEMENTS (uids), gids, G_N_ELEMENTS (gids), FALSE);
  assert_admin (with_config, 0);
}

static void
test_daemon_uid (void)
{
  g_autoptr(ReservedGate) session = gate_new (NULL, 0, NULL, 0, TRUE);
  g_autoptr(ReservedGate) system = gate_new (NULL, 0, NULL, 0, FALSE);

  /* On the session bus the daemon's own user is an admin ... */
  assert_admin (session, DAEMON_UID);
  assert_not_admin (session, DAEMON_UID + 1);
  assert_not_admin (session, STRANGER_UID);
  /* ... on the system bus it is not. */
  assert_not_admin (system, DAEMON_UID);
}

static void
test_admin_uids (void)
{
  const guint32 uids[] = { 17, ADMIN_UID };
  g_autoptr(GArray) admin_uids = ids_new (uids, G_N_ELEMENTS (uids));
  g_autoptr(GArray) no_gids = ids_new (NULL, 0);
  g_autoptr(ReservedGate) gate =
    reserved_gate_new (admin_uids, no_gids, FALSE, DAEMON_UID);

  assert_admin (gate, ADMIN_UID);
  assert_admin (gate, 17);
  assert_not_admin (gate, ADMIN_UID + 1);
  assert_not_admin (gate, OWNER_UID);

  /* The gate keeps its own copy of the configuration. */
  g_array_index (admin_uids, guint32, 1) = STRANGER_UID;
  g_array_set_size (admin_uids, 1);
  assert_admin (gate, ADMIN_UID);
  assert_not_admin (gate, STRANGER_UID);
}

static gboolean
user_in_group (const struct passwd *pw, gid_t gid)
{
  gid_t groups[256];
  int n_groups = G_N_ELEMENTS (groups);

  g_assert_cmpint (getgrouplist (pw->pw_name, pw->pw_gid, groups, &n_groups), >=, 0);
  for (int i = 0; i < n_groups; i++)
    if (groups[i] == gid)
      return TRUE;
  return FALSE;
}

/* A user other than root, with the fields the test needs copied. */
typedef struct {
  uid_t uid;
  gid_t gid;
  char *name;
} User;

static void
user_clear (User *user)
{
  g_clear_pointer (&user->name, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (User, user_clear)

static gboolean
find_user_not_root (User *out)
{
  struct passwd *pw;

  setpwent ();
  while ((pw = getpwent ()) != NULL)
    if (pw->pw_uid != 0)
      {
        out->uid = pw->pw_uid;
        out->gid = pw->pw_gid;
        out->name = g_strdup (pw->pw_name);
        break;
      }
  endpwent ();
  return out->name != NULL;
}

/* A group that lists a user other than root as a member, though it is not
 * that user's primary group. */
static gboolean
find_supplementary_member (User *member, gid_t *gid)
{
  struct group *gr;

  setgrent ();
  while ((gr = getgrent ()) != NULL && member->name == NULL)
    for (char **name = gr->gr_mem; name != NULL && *name != NULL; name++)
      {
        struct passwd *pw = getpwnam (*name);

        if (pw != NULL && pw->pw_uid != 0 && pw->pw_gid != gr->gr_gid)
          {
            member->uid = pw->pw_uid;
            member->gid = pw->pw_gid;
            member->name = g_strdup (pw->pw_name);
            *gid = gr->gr_gid;
            break;
          }
      }
  endgrent ();
  return member->name != NULL;
}

static void
test_admin_groups (void)
{
  g_auto(User) user = { 0 };
  g_auto(User) member = { 0 };
  struct passwd *root = getpwuid (0);
  const guint32 other_gid = 4000001;
  gid_t supplementary = 0;
  gid_t root_gid;

  /* getpw*() share one buffer: keep what is needed of root's entry. */
  g_assert_nonnull (root);
  root_gid = root->pw_gid;
  g_assert_null (getpwuid (UNKNOWN_UID));
  g_assert_null (getgrgid (other_gid));
  g_assert_true (find_user_not_root (&user));
  g_test_message ("user %s (uid %u, gid %u)", user.name, (guint) user.uid, (guint) user.gid);

  /* The user's primary group makes it an admin. */
  {
    const guint32 gids[] = { other_gid, user.gid };
    g_autoptr(ReservedGate) gate = gate_new (NULL, 0, gids, G_N_ELEMENTS (gids), FALSE);

    assert_admin (gate, user.uid);
    /* No passwd entry, no groups. */
    assert_not_admin (gate, UNKNOWN_UID);
  }
  /* Root's group makes an admin only of its members. */
  {
    const guint32 gids[] = { root_gid };
    g_autoptr(ReservedGate) gate = gate_new (NULL, 0, gids, G_N_ELEMENTS (gids), FALSE);
    struct passwd *pw = getpwuid (user.uid);

    g_assert_nonnull (pw);
    if (user_in_group (pw, root_gid))
      assert_admin (gate, user.uid);
    else
      assert_not_admin (gate, user.uid);
    assert_not_admin (gate, UNKNOWN_UID);
    assert_admin (gate, 0);
  }
  /* A group the user is not in does not. */
  {
    const guint32 gids[] = { other_gid };
    g_autoptr(ReservedGate) gate = gate_new (NULL, 0, gids, G_N_ELEMENTS (gids), FALSE);

    assert_not_admin (gate, user.uid);
  }
  /* A supplementary group counts too, where the system has one. */
  if (find_supplementary_member (&member, &supplementary))
    {
      const guint32 gids[] = { supplementary };
      g_autoptr(ReservedGate) gate = gate_new (NULL, 0, gids, G_N_ELEMENTS (gids), FALSE);

      g_test_message ("user %s is a member of group %u", member.name, (guint) supplementary);
      assert_admin (gate, member.uid);
    }
  else
    g_test_message ("no user has a supplementary group here; only primary groups were checked");
}

static void
test_actions (void)
{
  const guint32 uids[] = { ADMIN_UID };
  g_autoptr(ReservedGate) gate = gate_new (uids, G_N_ELEMENTS (uids), NULL, 0, TRUE);

  assert_admin (gate, ADMIN_UID);
  assert_admin (gate, DAEMON_UID);
  assert_admin (gate, 0);

  /* The owner of an order may cancel it; a stranger may not. */
  assert_not_admin (gate, OWNER_UID);
  assert_not_admin (gate, STRANGER_UID);
  assert_allowed (gate, RESERVED_ACTION_CANCEL, OWNER_UID, OWNER_UID);
  assert_denied (gate, RESERVED_ACTION_CANCEL, STRANGER_UID, OWNER_UID);
  /* Root's orders are not special: a stranger may not cancel them. */
  assert_denied (gate, RESERVED_ACTION_CANCEL, STRANGER_UID, 0);
  assert_allowed (gate, RESERVED_ACTION_BUY, STRANGER_UID, OWNER_UID);
}

static void
test_unknown_action (void)
{
  g_autoptr(ReservedGate) gate = gate_new (NULL, 0, NULL, 0, FALSE);

  /* Deny by default: an action the gate does not know is refused, even
   * for an admin. */
  assert_denied (gate, (ReservedAction) 99, STRANGER_UID, STRANGER_UID);
  assert_denied (gate, (ReservedAction) 99, 0, 0);
}

/* --- options --------------------------------------------------------------- */

static const ReservedOptionSpec buy_specs[] = {
  { RESERVE_OPTION_REQUEST_ID, "s" },
  { NULL },
};

static const ReservedOptionSpec create_specs[] = {
  { RESERVE_OPTION_PER_USER_LIMIT, "u" },
  { NULL },
};

static const ReservedOptionSpec no_specs[] = {
  { NULL },
};

static GVariant *
options_parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *options = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return options;
}

static void
assert_options_ok (const char *text, const ReservedOptionSpec *specs)
{
  g_autoptr(GVariant) options = options_parse (text);
  g_autoptr(GError) error = NULL;

  g_assert_true (reserved_options_check (options, specs, "Buy", &error));
  g_assert_no_error (error);
}

/* Refused as InvalidArgument, with a message that names @parts. */
static void
assert_options_refused (const char *text, const ReservedOptionSpec *specs, const char *method, ...)
{
  g_autoptr(GVariant) options = options_parse (text);
  g_autoptr(GError) error = NULL;
  const char *part;
  va_list parts;

  g_assert_false (reserved_options_check (options, specs, method, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT);
  va_start (parts, method);
  while ((part = va_arg (parts, const char *)) != NULL)
    if (strstr (error->message, part) == NULL)
      g_error ("the message “%s” does not mention “%s”", error->message, part);
  va_end (parts);
}

static void
test_options_empty (void)
{
  assert_options_ok ("@a{sv} {}", buy_specs);
  assert_options_ok ("@a{sv} {}", create_specs);
  assert_options_ok ("@a{sv} {}", no_specs);
}

static void
test_options_valid (void)
{
  assert_options_ok ("{'request_id': <'retry-1'>}", buy_specs);
  assert_options_ok ("{'per_user_limit': <uint32 4>}", create_specs);
}

static void
test_options_unknown_key (void)
{
  assert_options_refused ("{'requestid': <'x'>}", buy_specs, "Buy", "requestid", "Buy", "request_id", NULL);
  assert_options_refused ("{'request_id': <'x'>}", create_specs, "CreateItem",
                          "request_id", "CreateItem", "per_user_limit", NULL);
  assert_options_refused ("{'anything': <true>}", no_specs, "Cancel", "anything", "Cancel", NULL);
  /* A bad key after a good one. */
  assert_options_refused ("{'request_id': <'x'>, 'Request_id': <'y'>}", buy_specs, "Buy",
                          "Request_id", NULL);
}

static void
test_options_wrong_type (void)
{
  assert_options_refused ("{'request_id': <uint32 5>}", buy_specs, "Buy", "request_id", NULL);
  assert_options_refused ("{'request_id': <['x']>}", buy_specs, "Buy", "request_id", NULL);
  assert_options_refused ("{'per_user_limit': <int32 4>}", create_specs, "CreateItem",
                          "per_user_limit", NULL);
  assert_options_refused ("{'per_user_limit': <'4'>}", create_specs, "CreateItem",
                          "per_user_limit", NULL);
  assert_options_refused ("{'per_user_limit': <<uint32 4>>}", create_specs, "CreateItem",
                          "per_user_limit", NULL);
}

/* Which of two values would count is a guess; the call is refused. */
static void
test_options_duplicate_key (void)
{
  assert_options_refused ("{'request_id': <'x'>, 'request_id': <'x'>}", buy_specs, "Buy",
                          "request_id", "more than once", NULL);
  assert_options_refused ("{'per_user_limit': <uint32 1>, 'per_user_limit': <uint32 2>}", create_specs,
                          "CreateItem", "per_user_limit", "more than once", NULL);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gate/root", test_root);
  g_test_add_func ("/gate/daemon-uid", test_daemon_uid);
  g_test_add_func ("/gate/admin-uids", test_admin_uids);
  g_test_add_func ("/gate/admin-groups", test_admin_groups);
  g_test_add_func ("/gate/actions", test_actions);
  g_test_add_func ("/gate/unknown-action", test_unknown_action);
  g_test_add_func ("/options/empty", test_options_empty);
  g_test_add_func ("/options/valid", test_options_valid);
  g_test_add_func ("/options/unknown-key", test_options_unknown_key);
  g_test_add_func ("/options/wrong-type", test_options_wrong_type);
  g_test_add_func ("/options/duplicate-key", test_options_duplicate_key);

  return g_test_run ();
}
