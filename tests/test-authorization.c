/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may do what, against the real reserved serving a private bus as its
 * system bus, with a real polkitd on it that reads reserved's own policy
 * and rule (data/org.reserved.Reserve1.policy, .rules) and a rule of the
 * test's, and callers of several uids (docs/api.md: "caller", "admin",
 * Cancel, ListOrders, CreateItem, Restock and request_id).
 *
 * /authorization/matrix/CALLER runs one row of `callers` below: every
 * method and property of org.reserved.Reserve1 called by that caller, each
 * cell asserting its exact outcome, and for a refusal that it was
 * PermissionDenied naming the caller's uid and what is needed, and that
 * nothing changed. The callers: root (an administrator without asking
 * polkit), a user a rule of the test's allows, a member of the group
 * reserved-admin (the package's rule), the daemon's own user (nothing
 * special on the system bus), two ordinary users and nobody. Each caller is
 * this program run again as a helper with the caller's uid and its own
 * connection, driven one call at a time through a pipe.
 *
 * /authorization/polkit/...: polkitd absent (administrator calls refused
 * at once, everything else served), hung (stopped with SIGSTOP: the call
 * that asked is refused once the daemon's time limit passes, and other
 * callers are served meanwhile), and a rule that wants a password (refused,
 * saying so, with and without the caller allowing interaction).
 *
 * /authorization/request-id/scoped: a request_id belongs to the uid that
 * used it; another uid can neither replay it nor be refused because of it.
 *
 * /authorization/fail-closed/bus-error: reserved runs as nobody on a bus
 * that refuses nobody the question of who is calling
 * (data/test-bus-no-uid-lookup.conf). Every call that needs the caller is
 * PermissionDenied and changes nothing; the others still work.
 *
 * /authorization/fail-closed/disconnected: the daemon is stopped (SIGSTOP)
 * while a new connection sends calls and goes away; resumed, it reads the
 * calls but cannot look their sender up, and must do nothing. Repeated
 * RESERVED_TEST_AUTHORIZATION_ROUNDS times (default 2).
 *
 * polkitd must find the test's users and groups in the user database, so
 * every case runs in a private mount namespace where /etc/passwd and
 * /etc/group are copies with them added, and polkit's folders are the
 * test's; the system's files are never written. Needs root: other uids
 * and a mount namespace. */
#define _GNU_SOURCE /* unshare, getline, posix_openpt */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"
#include "reserved-test-polkit.h"
#include "reserved-test-reply.h"

/* An administrator because the test's polkit rule names the user. */
#define ADMIN_UID ((uid_t) 4242)
/* The group the package's polkit rule names, reserved-admin. */
#define ADMIN_GID ((gid_t) 4545)
/* An administrator only through a supplementary group (ADMIN_GID) in the
 * user database; its own primary group is nothing special. */
#define GROUP_ADMIN_UID ((uid_t) 4244)
/* Ordinary callers; the test's rule wants a password of BUYER_2 to
 * restock. */
#define BUYER_UID   ((uid_t) 4343)
#define BUYER_2_UID ((uid_t) 4344)
/* The daemon runs as this uid, the owner of the policy's actions, which
 * makes it no administrator on the system bus. */
#define DAEMON_UID  ((uid_t) 4646)
#define DAEMON_USER "reserved-daemon"

#define TEST_RULES                                                                                    \
  "polkit.addRule(function(action, subject) {\n"                                                      \
  "    if (action.id.indexOf(\"org.reserved.Reserve1.\") != 0)\n"                                     \
  "        return polkit.Result.NOT_HANDLED;\n"                                                       \
  "    if (subject.user == \"reserved-rule-admin\")\n"                                                \
  "        return polkit.Result.YES;\n"                                                               \
  "    if (subject.user == \"reserved-buyer-2\" && action.id == \"org.reserved.Reserve1.restock\")\n" \
  "        return polkit.Result.AUTH_ADMIN;\n"                                                        \
  "    return polkit.Result.NOT_HANDLED;\n"                                                           \
  "});\n"

/* dbus-daemon refuses connections from a uid the user database does not
 * know, so every uid here has an entry. */
#define TEST_PASSWD_LINES                                              \
  "reserved-rule-admin:x:4242:4242::/nonexistent:/usr/sbin/nologin\n"  \
  "reserved-group-admin:x:4244:4244::/nonexistent:/usr/sbin/nologin\n" \
  "reserved-buyer:x:4343:4343::/nonexistent:/usr/sbin/nologin\n"       \
  "reserved-buyer-2:x:4344:4344::/nonexistent:/usr/sbin/nologin\n"     \
  "reserved-daemon:x:4646:4646::/nonexistent:/usr/sbin/nologin\n"
#define TEST_GROUP_LINES           \
  "reserved-rule-admin:x:4242:\n"  \
  "reserved-group-admin:x:4244:\n" \
  "reserved-buyer:x:4343:\n"       \
  "reserved-buyer-2:x:4344:\n"     \
  "reserved-daemon:x:4646:\n"      \
  "reserved-admin:x:4545:reserved-group-admin\n"

#define ITEM              "matrix"
#define CUSTOMER          "shared-customer"
#define PERMISSION_DENIED RESERVE_ERROR_PREFIX "PermissionDenied"

/* --- the table -------------------------------------------------------------- */

typedef enum {
  ALLOW,
  DENY,     /* PermissionDenied, and nothing changed */
  SEES_ALL, /* ListOrders: every caller's orders for the customer */
  SEES_OWN, /* ListOrders: only the orders this caller's uid placed */
} Outcome;

enum {
  COLUMN_BUY,
  COLUMN_GET_ORDER_OWN,
  COLUMN_GET_ORDER_OTHERS,
  COLUMN_CANCEL_OWN,
  COLUMN_CANCEL_OTHERS,
  COLUMN_GET_ITEM,
  COLUMN_LIST_ITEMS,
  COLUMN_LIST_ORDERS,
  COLUMN_LIST_EVERY_CUSTOMER,
  COLUMN_CREATE_ITEM,
  COLUMN_RESTOCK,
  COLUMN_GET_STATISTICS,
  COLUMN_GET_PROPERTY,
  COLUMN_GET_ALL_PROPERTIES,
  COLUMN_LIST_ORDERS_PAGE,
  COLUMN_LIST_ORDERS_PAGE_EVERY_CUSTOMER,
  COLUMN_RETIRE_ITEM,
  COLUMN_SET_PER_USER_LIMIT,
  COLUMN_SET_SALE_WINDOW,
  COLUMN_JOIN_WAITLIST,
  COLUMN_LEAVE_WAITLIST_OTHERS,
  COLUMN_LIST_WAITLIST_EVERY_CALLER,
  N_COLUMNS
};

enum {
  CALLER_ROOT,
  CALLER_ADMIN_USER,
  CALLER_ADMIN_GROUP,
  CALLER_DAEMON_USER,
  CALLER_BUYER,
  CALLER_BUYER_2,
  CALLER_NOBODY,
  N_CALLERS
};

typedef struct {
  const char *name;
  uid_t uid;
  Outcome outcomes[N_COLUMNS];
} Caller;

/* What docs/api.md promises each caller. Columns: Buy, GetOrder of its own
 * order, GetOrder of another uid's order, Cancel of its own order,
 * Cancel of another uid's order, GetItem, ListItems, ListOrders of a
 * customer, ListOrders "" (every customer), CreateItem, Restock,
 * GetStatistics, Properties.Get, Properties.GetAll, ListOrdersPage of a
 * customer, ListOrdersPage of every customer, RetireItem, SetPerUserLimit,
 * SetSaleWindow, JoinWaitlist, LeaveWaitlist of another uid's entry,
 * ListWaitlist of every item. */
/* An admin (root, AdminUsers, AdminGroups): everything, every caller's. */
#define AS_ADMIN                                                                                  \
  {                                                                                               \
    ALLOW, ALLOW, ALLOW, ALLOW, ALLOW, ALLOW, ALLOW, SEES_ALL, ALLOW, ALLOW, ALLOW, ALLOW, ALLOW, \
      ALLOW, SEES_ALL, ALLOW, ALLOW, ALLOW, ALLOW, ALLOW, ALLOW, SEES_ALL                         \
  }
/* Any other caller, the daemon's own user too: its own orders and
 * entries, and the public reads; none of an admin's calls on items. */
#define AS_CUSTOMER                                                                          \
  {                                                                                          \
    ALLOW, ALLOW, DENY, ALLOW, DENY, ALLOW, ALLOW, SEES_OWN, DENY, DENY, DENY, ALLOW, ALLOW, \
      ALLOW, SEES_OWN, DENY, DENY, DENY, DENY, ALLOW, DENY, SEES_OWN                         \
  }

static const Caller callers[N_CALLERS] = {
  [CALLER_ROOT] = { "root", 0, AS_ADMIN },
  [CALLER_ADMIN_USER] = { "admin-user", ADMIN_UID, AS_ADMIN },
  [CALLER_ADMIN_GROUP] = { "admin-group", GROUP_ADMIN_UID, AS_ADMIN },
  [CALLER_DAEMON_USER] = { "daemon-user", DAEMON_UID, AS_CUSTOMER },
  [CALLER_BUYER] = { "buyer", BUYER_UID, AS_CUSTOMER },
  [CALLER_BUYER_2] = { "buyer-2", BUYER_2_UID, AS_CUSTOMER },
  [CALLER_NOBODY] = { "nobody", RESERVED_TEST_NOBODY_UID, AS_CUSTOMER },
};

/* --- callers in their own processes ------------------------------------------ */

/* A helper with its own connection. It reads one call per line, as the
 * GVariant text of (interface, method, <arguments>, GDBusCallFlags),
 * makes it, and answers one line: (TRUE, <reply>, "", "") or
 * (FALSE, <()>, error name, message). */
typedef struct {
  const Caller *caller;
  GPid pid;
  FILE *calls;
  FILE *answers;
} Agent;

static Agent *
agent_start (const Caller *caller, const char *address)
{
  const char *args[] = { "caller", address, NULL };
  Agent *agent = g_new0 (Agent, 1);

  agent->caller = caller;
  agent->pid = reserved_test_spawn_conversation (args, caller->uid == 0 ? (uid_t) -1 : caller->uid,
                                                 &agent->calls, &agent->answers);
  return agent;
}

/* Ends the helper (end of input) and asserts it exited cleanly. */
static void
agent_stop (Agent *agent)
{
  if (agent == NULL)
    return;
  fclose (agent->calls);
  fclose (agent->answers);
  reserved_test_wait_helper (agent->pid, agent->caller->name);
  g_free (agent);
}

/* Has @agent make a call, without waiting for its answer; @args
 * (floating) may be NULL for none. */
static void
agent_send (Agent *agent,
            const char *interface,
            const char *method,
            GVariant *args,
            GDBusCallFlags flags)
{
  g_autoptr(GVariant) call = g_variant_ref_sink (
    g_variant_new ("(ssvu)", interface, method, args != NULL ? args : g_variant_new ("()"),
                   (guint32) flags));
  g_autofree char *text = g_variant_print (call, TRUE);

  g_assert_cmpint (fprintf (agent->calls, "%s\n", text), >, 0);
  g_assert_cmpint (fflush (agent->calls), ==, 0);
}

/* (transfer full) The (bvss) answer to @agent's oldest call not answered
 * yet. */
static GVariant *
agent_receive (Agent *agent)
{
  g_autoptr(GError) error = NULL;
  char *line = NULL;
  size_t size = 0;
  GVariant *answer;

  if (getline (&line, &size, agent->answers) <= 0)
    g_error ("caller %s gave no answer", agent->caller->name);
  answer = g_variant_parse (G_VARIANT_TYPE ("(bvss)"), line, NULL, NULL, &error);
  free (line);
  g_assert_no_error (error);
  return answer;
}

/* (transfer full) The (bvss) answer to one call made by @agent. */
static GVariant *
agent_call (Agent *agent, const char *interface, const char *method, GVariant *args)
{
  agent_send (agent, interface, method, args, G_DBUS_CALL_FLAGS_NONE);
  return agent_receive (agent);
}

/* The helper's half. */
static int
helper_caller (const char *address)
{
  g_autoptr(GDBusConnection) connection = reserved_test_connect (address);
  int timeout_ms = (int) reserved_test_timeout_seconds () * 1000;
  char *line = NULL;
  size_t size = 0;

  while (getline (&line, &size, stdin) > 0)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) call =
                   g_variant_parse (G_VARIANT_TYPE ("(ssvu)"), line, NULL, NULL, &error);
      g_autoptr(GVariant) args = NULL;
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GVariant) answer = NULL;
      g_autofree char *text = NULL;
      const char *interface, *method;
      guint32 flags;

      g_assert_no_error (error);
      g_variant_get (call, "(&s&svu)", &interface, &method, &args, &flags);
      reply = g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                           interface, method, args, NULL, (GDBusCallFlags) flags,
                                           timeout_ms, NULL, &error);
      if (reply != NULL)
        answer = g_variant_new ("(bvss)", TRUE, reply, "", "");
      else
        {
          g_autofree char *name = g_dbus_error_get_remote_error (error);

          if (name == NULL)
            name = g_strdup_printf ("(not from the bus: %s %d)", g_quark_to_string (error->domain),
                                    error->code);
          g_dbus_error_strip_remote_error (error);
          answer = g_variant_new ("(bvss)", FALSE, g_variant_new ("()"), name, error->message);
        }
      text = g_variant_print (g_variant_ref_sink (answer), TRUE);
      printf ("%s\n", text);
      fflush (stdout);
    }
  free (line);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return 0;
}

/* --- the fixture ---------------------------------------------------------------- */

typedef struct {
  uid_t daemon_uid;
  gboolean debug_log;  /* G_MESSAGES_DEBUG=all for the daemon */
  const Caller *row;   /* the matrix row, or NULL */
  gboolean no_polkitd; /* the bus has none */
} CaseSetup;

typedef struct {
  ReservedTestDaemon *daemon;
  char *address; /* of the bus the agents and the admin use */
  GDBusConnection *connection;
  ReserveReserve1 *proxy;
  ReservedTestClient admin; /* the test process, uid 0 */
  Agent *agents[N_CALLERS];
  GHashTable *placed_by; /* order id -> uid that placed it */
  char *mounted[2];
  ReservedTestPolkit *polkit;
  guint64 own_order;    /* the matrix row's caller placed it */
  guint64 others_order; /* another uid placed it */
} Fixture;

static void
fixture_connect (Fixture *f)
{
  reserved_test_connect_admin (f->address, &f->connection, &f->admin);
  f->proxy = f->admin.proxy;
}

static void
fixture_disconnect (Fixture *f)
{
  /* f->proxy is f->admin.proxy, owned there. */
  f->proxy = NULL;
  reserved_test_disconnect_admin (&f->connection, &f->admin);
}

static Agent *
fixture_agent (Fixture *f, guint caller)
{
  if (f->agents[caller] == NULL)
    f->agents[caller] = agent_start (&callers[caller], f->address);
  return f->agents[caller];
}

static void
fixture_stop_agents (Fixture *f)
{
  for (guint i = 0; i < N_CALLERS; i++)
    g_clear_pointer (&f->agents[i], agent_stop);
}

/* Everything below, the bus and the daemons included, sees the mounts made
 * from now on; nothing outside does. Before any thread exists. */
static void
enter_private_mount_namespace (void)
{
  if (geteuid () != 0)
    g_error ("the authorization tests need root: they call as other uids and "
             "give the daemon a user database of their own in a mount namespace");
  if (unshare (CLONE_NEWNS) != 0)
    g_error ("unshare(CLONE_NEWNS): %s", g_strerror (errno));
  g_assert_cmpint (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);
}

/* Mounts a copy of @system_file with @lines added over it; returns where. */
static char *
mount_copy_with_lines (Fixture *f, const char *system_file, const char *lines)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *extended = NULL;
  char *copy = g_build_filename (reserved_test_daemon_get_tmpdir (f->daemon),
                                 strrchr (system_file, '/') + 1, NULL);

  g_file_get_contents (system_file, &contents, NULL, &error);
  g_assert_no_error (error);
  extended =
    g_strconcat (contents, (*contents != '\0' && !g_str_has_suffix (contents, "\n")) ? "\n" : "",
                 lines, NULL);
  g_file_set_contents (copy, extended, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (copy, 0644), ==, 0);
  if (mount (copy, system_file, NULL, MS_BIND, NULL) != 0)
    g_error ("bind-mounting %s over %s: %s", copy, system_file, g_strerror (errno));
  return copy;
}

static void
add_test_users (Fixture *f)
{
  static const uid_t uids[] = { ADMIN_UID, GROUP_ADMIN_UID, BUYER_UID, BUYER_2_UID, DAEMON_UID };
  static const gid_t gids[] = { ADMIN_GID, ADMIN_UID,   GROUP_ADMIN_UID,
                                BUYER_UID, BUYER_2_UID, DAEMON_UID };

  /* The test's users must be exactly the ones it adds. */
  for (guint i = 0; i < G_N_ELEMENTS (uids); i++)
    if (getpwuid (uids[i]) != NULL)
      g_error ("uid %u already has a user database entry; the tests need it unused",
               (guint) uids[i]);
  for (guint i = 0; i < G_N_ELEMENTS (gids); i++)
    if (getgrgid (gids[i]) != NULL)
      g_error ("gid %u already has a group database entry; the tests need it unused",
               (guint) gids[i]);

  f->mounted[0] = mount_copy_with_lines (f, "/etc/passwd", TEST_PASSWD_LINES);
  f->mounted[1] = mount_copy_with_lines (f, "/etc/group", TEST_GROUP_LINES);
  g_assert_nonnull (getpwuid (GROUP_ADMIN_UID));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const CaseSetup *setup = data;

  enter_private_mount_namespace ();
  f->daemon = reserved_test_daemon_new ();
  f->address = g_strdup (reserved_test_daemon_get_address (f->daemon));
  add_test_users (f);
  f->polkit = reserved_test_polkit_new (f->daemon, DAEMON_USER, TEST_RULES);
  if (!setup->no_polkitd)
    reserved_test_polkit_start (f->polkit);
  reserved_test_daemon_run_as_owner (f->daemon, setup->daemon_uid);
  reserved_test_daemon_use_system_bus (f->daemon);
  if (setup->debug_log)
    reserved_test_daemon_set_env (f->daemon, "G_MESSAGES_DEBUG", "all");
  reserved_test_daemon_start (f->daemon);
  fixture_connect (f);
  f->placed_by = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  fixture_stop_agents (f);
  f->proxy = NULL;
  reserved_test_finish (f->daemon, &f->connection, &f->admin);
  g_clear_pointer (&f->polkit, reserved_test_polkit_free);
  for (guint i = 0; i < G_N_ELEMENTS (f->mounted); i++)
    if (f->mounted[i] != NULL)
      {
        const char *target = i == 0 ? "/etc/passwd" : "/etc/group";

        g_assert_cmpint (umount2 (target, MNT_DETACH), ==, 0);
        g_clear_pointer (&f->mounted[i], g_free);
      }
  g_clear_pointer (&f->daemon, reserved_test_daemon_free);
  g_clear_pointer (&f->placed_by, g_hash_table_unref);
  g_clear_pointer (&f->address, g_free);
}

/* --- small things ---------------------------------------------------------------- */

static void
record_order (Fixture *f, guint64 order, uid_t uid)
{
  g_assert_false (g_hash_table_contains (f->placed_by, &order));
  g_hash_table_insert (f->placed_by, g_memdup2 (&order, sizeof order), GUINT_TO_POINTER (uid));
}

static uid_t
uid_of (Fixture *f, guint64 order)
{
  gpointer found = NULL;

  if (!g_hash_table_lookup_extended (f->placed_by, &order, NULL, &found))
    g_error ("order %" G_GUINT64_FORMAT " was not placed by any of the test's callers", order);
  return GPOINTER_TO_UINT (found);
}

/* The call succeeds; (transfer full) its reply, of @reply_type. */
static GVariant *
expect_reply (Agent *agent, GVariant *answer, const char *method, const char *reply_type)
{
  gboolean ok = FALSE;
  GVariant *reply = NULL;
  const char *name, *message;

  g_variant_get (answer, "(bv&s&s)", &ok, &reply, &name, &message);
  if (!ok)
    g_error ("%s as %s (uid %u): expected success, got %s: %s", method, agent->caller->name,
             (guint) agent->caller->uid, name, message);
  if (!g_variant_is_of_type (reply, G_VARIANT_TYPE (reply_type)))
    g_error ("%s as %s: the reply %s is not of type %s", method, agent->caller->name,
             g_variant_get_type_string (reply), reply_type);
  return reply;
}

/* The call is refused with @error_name; (transfer none) the message. */
static const char *
expect_error (Agent *agent, GVariant *answer, const char *method, const char *error_name)
{
  g_autoptr(GVariant) reply = NULL;
  gboolean ok = FALSE;
  const char *name, *message;

  g_variant_get (answer, "(bv&s&s)", &ok, &reply, &name, &message);
  if (ok)
    {
      g_autofree char *text = g_variant_print (reply, TRUE);

      g_error ("%s as %s (uid %u): expected %s, got the reply %s", method, agent->caller->name,
               (guint) agent->caller->uid, error_name, text);
    }
  g_assert_cmpstr (name, ==, error_name);
  g_assert_cmpstr (message, !=, "");
  return message;
}

/* Buy as @agent, with @args (floating, reserved_test_buy_args ()), which
 * must succeed: returns the order, and the units left in @remaining_out
 * (nullable). */
static guint64
agent_buy (Agent *agent, GVariant *args, guint32 *remaining_out)
{
  g_autoptr(GVariant) answer = agent_call (agent, RESERVE_INTERFACE, "Buy", args);
  g_autoptr(GVariant) reply = expect_reply (agent, answer, "Buy", "(tu)");

  return reserved_test_bought (reply, remaining_out);
}

static ReservedTestOrder *
find_order (GArray *orders, guint64 id)
{
  for (guint i = 0; i < orders->len; i++)
    if (g_array_index (orders, ReservedTestOrder, i).id == id)
      return &g_array_index (orders, ReservedTestOrder, i);
  return NULL;
}

static void
assert_order_state (Fixture *f, guint64 id, guint32 quantity, gboolean active)
{
  g_autoptr(GArray) orders = reserved_test_list_orders (&f->admin, "");
  ReservedTestOrder *order = find_order (orders, id);

  if (order == NULL)
    g_error ("order %" G_GUINT64_FORMAT " is not in the admin's list of every order", id);
  g_assert_cmpuint (order->quantity, ==, quantity);
  g_assert_cmpint (order->active, ==, active);
}

static GVariant *
admin_call (Fixture *f, const char *interface, const char *method, GVariant *args)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply =
    g_dbus_connection_call_sync (f->connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH, interface,
                                 method, args, NULL, G_DBUS_CALL_FLAGS_NONE,
                                 (int) reserved_test_timeout_seconds () * 1000, NULL, &error);

  g_assert_no_error (error);
  return reply;
}

/* --- the cells ------------------------------------------------------------------- */

/* Makes one call as @agent. For DENY asserts PermissionDenied with a
 * message naming the caller's uid and that admins may, and that nothing
 * changed, and returns NULL. Otherwise asserts success, and when the call
 * only @reads, that nothing changed either, and returns the reply
 * (transfer full). */
static GVariant *
run_cell (Fixture *f,
          Agent *agent,
          Outcome outcome,
          const char *interface,
          const char *method,
          GVariant *args,
          const char *reply_type,
          gboolean reads)
{
  g_autoptr(GVariant) before = reserved_test_snapshot (&f->admin);
  g_autoptr(GVariant) answer = agent_call (agent, interface, method, args);
  GVariant *reply;

  if (outcome == DENY)
    {
      const char *message = expect_error (agent, answer, method, PERMISSION_DENIED);
      g_autofree char *names_uid = g_strdup_printf ("uid %u ", (guint) agent->caller->uid);

      if (strstr (message, names_uid) == NULL || strstr (message, "admin") == NULL)
        g_error ("%s as %s: the refusal “%s” should name the caller (%s) and say that admins may",
                 method, agent->caller->name, message, names_uid);
      reserved_test_assert_unchanged (&f->admin, before);
      return NULL;
    }
  reply = expect_reply (agent, answer, method, reply_type);
  if (reads)
    reserved_test_assert_unchanged (&f->admin, before);
  return reply;
}

static void
cell_buy (Fixture *f, Agent *agent, Outcome outcome)
{
  ReservedTestItem before = reserved_test_get_item (&f->admin, ITEM);
  g_autoptr(GVariant) reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "Buy",
                                         g_variant_new ("(ssu@a{sv})", ITEM, CUSTOMER, 2,
                                                        reserved_test_options (NULL)),
                                         "(tu)", FALSE);
  guint64 order = 0;
  guint32 remaining = 0;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(tu)", &order, &remaining);
  g_assert_cmpuint (remaining, ==, before.remaining - 2);
  g_assert_cmpuint (reserved_test_get_item (&f->admin, ITEM).remaining, ==, remaining);
  record_order (f, order, agent->caller->uid);
  assert_order_state (f, order, 2, TRUE);
}

static void
get_order_cell (Fixture *f, Agent *agent, Outcome outcome, guint64 order)
{
  g_autoptr(GVariant) reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "GetOrder",
                                         g_variant_new ("(t)", order), "(a{sv})", FALSE);
  g_autoptr(GVariant) info = NULL;
  const char *item = NULL, *user = NULL, *state = NULL;
  guint64 id = 0;
  guint32 quantity = 0;

  if (reply == NULL)
    return;
  info = g_variant_get_child_value (reply, 0);
  g_assert_true (g_variant_lookup (info, "order", "t", &id));
  g_assert_true (g_variant_lookup (info, "item", "&s", &item));
  g_assert_true (g_variant_lookup (info, "user", "&s", &user));
  g_assert_true (g_variant_lookup (info, "quantity", "u", &quantity));
  g_assert_true (g_variant_lookup (info, "state", "&s", &state));
  g_assert_cmpuint (id, ==, order);
  g_assert_cmpstr (item, ==, ITEM);
  g_assert_cmpstr (user, ==, CUSTOMER);
  g_assert_cmpuint (quantity, ==, 1);
  g_assert_cmpstr (state, ==, RESERVE_ORDER_STATE_ACTIVE);
}

static void
cancel_cell (Fixture *f, Agent *agent, Outcome outcome, guint64 order)
{
  ReservedTestItem before = reserved_test_get_item (&f->admin, ITEM);
  g_autoptr(GVariant) reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "Cancel",
                                         g_variant_new ("(t)", order), "(u)", FALSE);
  guint32 remaining = 0;

  if (reply == NULL)
    {
      assert_order_state (f, order, 1, TRUE);
      return;
    }
  g_variant_get (reply, "(u)", &remaining);
  g_assert_cmpuint (remaining, ==, before.remaining + 1);
  assert_order_state (f, order, 1, FALSE);
}

static void
cell_get_item (Fixture *f, Agent *agent, Outcome outcome)
{
  g_autoptr(GVariant) reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "GetItem",
                                         g_variant_new ("(s)", ITEM), "(a{sv})", TRUE);
  g_autoptr(GVariant) expected = NULL;

  if (reply == NULL)
    return;
  expected = admin_call (f, RESERVE_INTERFACE, "GetItem", g_variant_new ("(s)", ITEM));
  g_assert_cmpvariant (reply, expected);
}

static void
cell_list_items (Fixture *f, Agent *agent, Outcome outcome)
{
  g_autoptr(GVariant) reply =
               run_cell (f, agent, outcome, RESERVE_INTERFACE, "ListItems", NULL, "(a(suu))", TRUE);
  g_autoptr(GVariant) expected = NULL;

  if (reply == NULL)
    return;
  expected = admin_call (f, RESERVE_INTERFACE, "ListItems", NULL);
  g_assert_cmpvariant (reply, expected);
}

/* (transfer full) The admin's view of @user's orders as a ListOrders
 * reply, narrowed to those @uid placed when @only_uid; @n_uids gets how
 * many uids placed the orders in it. */
static GVariant *
orders_seen (Fixture *f, const char *user, gboolean only_uid, uid_t uid, guint *n_uids)
{
  g_autoptr(GVariant) reply =
               admin_call (f, RESERVE_INTERFACE, "ListOrders", g_variant_new ("(s)", user));
  g_autoptr(GVariant) orders = g_variant_get_child_value (reply, 0);
  g_autoptr(GHashTable) uids = g_hash_table_new (NULL, NULL);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(tsuxs)"));

  for (gsize i = 0; i < g_variant_n_children (orders); i++)
    {
      g_autoptr(GVariant) order = g_variant_get_child_value (orders, i);
      guint64 id = 0;

      g_variant_get_child (order, 0, "t", &id);
      if (only_uid && uid_of (f, id) != uid)
        continue;
      g_hash_table_add (uids, GUINT_TO_POINTER (uid_of (f, id)));
      g_variant_builder_add_value (&builder, order);
    }
  *n_uids = g_hash_table_size (uids);
  return g_variant_ref_sink (g_variant_new ("(@a(tsuxs))", g_variant_builder_end (&builder)));
}

static void
cell_list_orders (Fixture *f, Agent *agent, Outcome outcome)
{
  g_autoptr(GVariant) reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "ListOrders",
                                         g_variant_new ("(s)", CUSTOMER), "(a(tsuxs))", TRUE);
  g_autoptr(GVariant) expected = NULL;
  g_autoptr(GVariant) everyone = NULL;
  guint n_uids = 0, n_everyone_uids = 0;

  if (reply == NULL)
    return;
  g_assert_true (outcome == SEES_ALL || outcome == SEES_OWN);
  /* Several uids placed orders for this one customer name, so seeing all
   * and seeing one's own are different answers. */
  everyone = orders_seen (f, CUSTOMER, FALSE, 0, &n_everyone_uids);
  g_assert_cmpuint (n_everyone_uids, >=, N_CALLERS);
  expected = orders_seen (f, CUSTOMER, outcome == SEES_OWN, agent->caller->uid, &n_uids);
  if (outcome == SEES_OWN)
    {
      g_autoptr(GVariant) own = g_variant_get_child_value (expected, 0);

      g_assert_cmpuint (g_variant_n_children (own), >, 0);
      g_assert_cmpuint (n_uids, ==, 1);
      g_assert_false (g_variant_equal (expected, everyone));
    }
  g_assert_cmpvariant (reply, expected);
}

static void
cell_list_every_customer (Fixture *f, Agent *agent, Outcome outcome)
{
  g_autoptr(GVariant) reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "ListOrders",
                                         g_variant_new ("(s)", ""), "(a(tsuxs))", TRUE);
  g_autoptr(GVariant) expected = NULL;

  if (reply == NULL)
    return;
  expected = admin_call (f, RESERVE_INTERFACE, "ListOrders", g_variant_new ("(s)", ""));
  g_assert_cmpvariant (reply, expected);
}

static int
compare_ids (gconstpointer a, gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

/* The order ids of a ListOrders or ListOrdersPage reply (its first
 * child), sorted: the two list the same orders in their own orders. */
static char *
sorted_ids (GVariant *reply)
{
  g_autoptr(GVariant) orders = g_variant_get_child_value (reply, 0);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(GString) text = g_string_new (NULL);

  for (gsize i = 0; i < g_variant_n_children (orders); i++)
    {
      g_autoptr(GVariant) order = g_variant_get_child_value (orders, i);
      guint64 id = 0;

      g_variant_get_child (order, 0, "t", &id);
      g_array_append_val (ids, id);
    }
  g_array_sort (ids, compare_ids);
  for (guint i = 0; i < ids->len; i++)
    g_string_append_printf (text, "%" G_GUINT64_FORMAT " ", g_array_index (ids, guint64, i));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* ListOrdersPage decides as ListOrders does: the same orders, whole in one
 * page here. */
static void
run_page_cell (Fixture *f, Agent *agent, Outcome outcome, const char *user)
{
  g_auto(GVariantDict) query = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) expected = NULL;
  g_autofree char *next_cursor = NULL;
  g_autofree char *got_ids = NULL;
  g_autofree char *expected_ids = NULL;
  guint n_uids = 0;

  if (user != NULL)
    g_variant_dict_insert (&query, RESERVE_QUERY_USER, "s", user);
  reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "ListOrdersPage",
                    g_variant_new ("(@a{sv})", g_variant_dict_end (&query)), "(a(tssuxs)s)", TRUE);
  if (reply == NULL)
    return;
  g_variant_get_child (reply, 1, "s", &next_cursor);
  g_assert_cmpstr (next_cursor, ==, "");
  if (user != NULL)
    {
      g_assert_true (outcome == SEES_ALL || outcome == SEES_OWN);
      expected = orders_seen (f, user, outcome == SEES_OWN, agent->caller->uid, &n_uids);
    }
  else
    expected = admin_call (f, RESERVE_INTERFACE, "ListOrders", g_variant_new ("(s)", ""));
  got_ids = sorted_ids (reply);
  expected_ids = sorted_ids (expected);
  g_assert_cmpstr (got_ids, ==, expected_ids);
}

static void
cell_list_orders_page (Fixture *f, Agent *agent, Outcome outcome)
{
  run_page_cell (f, agent, outcome, CUSTOMER);
}

static void
cell_list_orders_page_every_customer (Fixture *f, Agent *agent, Outcome outcome)
{
  run_page_cell (f, agent, outcome, NULL);
}

static void
cell_create_item (Fixture *f, Agent *agent, Outcome outcome)
{
  g_autofree char *item = g_strdup_printf ("made-by-%s", agent->caller->name);
  g_autoptr(GVariant) reply =
               run_cell (f, agent, outcome, RESERVE_INTERFACE, "CreateItem",
                         g_variant_new ("(su@a{sv})", item, 5, reserved_test_options (NULL)), "()",
                         FALSE);

  if (reply == NULL)
    {
      reserved_test_get_item_refused (&f->admin, item, RESERVE_ERROR_NO_SUCH_ITEM);
      return;
    }
  g_assert_cmpuint (reserved_test_get_item (&f->admin, item).capacity, ==, 5);
  g_assert_cmpuint (reserved_test_get_item (&f->admin, item).remaining, ==, 5);
}

static void
cell_restock (Fixture *f, Agent *agent, Outcome outcome)
{
  ReservedTestItem before = reserved_test_get_item (&f->admin, ITEM);
  g_autoptr(GVariant) reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "Restock",
                                         g_variant_new ("(su)", ITEM, 3), "(u)", FALSE);
  ReservedTestItem after;
  guint32 remaining = 0;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(u)", &remaining);
  after = reserved_test_get_item (&f->admin, ITEM);
  g_assert_cmpuint (remaining, ==, before.remaining + 3);
  g_assert_cmpuint (after.remaining, ==, remaining);
  g_assert_cmpuint (after.capacity, ==, before.capacity + 3);
}

/* Its own item, so the columns after it still find ITEM on sale; one
 * order of it stays active. */
static void
cell_retire_item (Fixture *f, Agent *agent, Outcome outcome)
{
  g_autofree char *item = g_strdup_printf ("retired-by-%s", agent->caller->name);
  g_autoptr(GVariant) reply = NULL;
  ReservedTestItem after;

  reserved_test_create_item (&f->admin, item, 4, 0);
  reserved_test_buy (&f->admin, item, CUSTOMER, 1, NULL, NULL);
  reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "RetireItem", g_variant_new ("(s)", item),
                    "()", FALSE);
  after = reserved_test_get_item (&f->admin, item);
  g_assert_cmpuint (after.sold, ==, 1);
  g_assert_cmpuint (after.remaining, ==, 3);
  g_assert_true (after.retired == (reply != NULL));
}

static void
cell_set_per_user_limit (Fixture *f, Agent *agent, Outcome outcome)
{
  ReservedTestItem before = reserved_test_get_item (&f->admin, ITEM);
  guint32 limit = before.per_user_limit + 7;
  g_autoptr(GVariant) reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "SetPerUserLimit",
                                         g_variant_new ("(su)", ITEM, limit), "()", FALSE);
  ReservedTestItem after = reserved_test_get_item (&f->admin, ITEM);

  g_assert_cmpuint (after.per_user_limit, ==, reply != NULL ? limit : before.per_user_limit);
  if (reply != NULL)
    reserved_test_set_per_user_limit (&f->admin, ITEM, before.per_user_limit);
}

/* Its own item, so the columns after it still find ITEM on sale: a window
 * that has not opened yet. */
static void
cell_set_sale_window (Fixture *f, Agent *agent, Outcome outcome)
{
  g_autofree char *item = g_strdup_printf ("windowed-by-%s", agent->caller->name);
  gint64 start = g_get_real_time () + (gint64) 3600 * G_USEC_PER_SEC;
  g_autoptr(GVariant) reply = NULL;
  ReservedTestItem after;

  reserved_test_create_item (&f->admin, item, 4, 0);
  reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "SetSaleWindow",
                    g_variant_new ("(sxx)", item, start, (gint64) 0), "()", FALSE);
  after = reserved_test_get_item (&f->admin, item);
  g_assert_cmpint (after.sale_start, ==, reply != NULL ? start : 0);
  g_assert_cmpint (after.sale_end, ==, 0);
  g_assert_true (after.on_sale == (reply == NULL));
  if (reply == NULL)
    return;
  reserved_test_buy_refused (&f->admin, item, CUSTOMER, 1, NULL, RESERVE_ERROR_NOT_ON_SALE);
}

static void
cell_get_statistics (Fixture *f, Agent *agent, Outcome outcome)
{
  static const char *const keys[][2] = {
    { "commits", "t" },         { "operations", "t" },    { "largest_batch", "t" },
    { "calls_in_flight", "u" }, { "callers_known", "u" },
  };
  g_autoptr(GVariant) reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "GetStatistics",
                                         NULL, "(a{sv})", TRUE);
  g_autoptr(GVariant) stats = NULL;

  if (reply == NULL)
    return;
  stats = g_variant_get_child_value (reply, 0);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(GVariant) value =
                   g_variant_lookup_value (stats, keys[i][0], G_VARIANT_TYPE (keys[i][1]));

      if (value == NULL)
        g_error ("GetStatistics has no %s of type %s", keys[i][0], keys[i][1]);
    }
}

static void
cell_get_property (Fixture *f, Agent *agent, Outcome outcome)
{
  g_autoptr(GVariant) reply =
               run_cell (f, agent, outcome, "org.freedesktop.DBus.Properties", "Get",
                         g_variant_new ("(ss)", RESERVE_INTERFACE, "Version"), "(v)", TRUE);
  g_autoptr(GVariant) expected = NULL;

  if (reply == NULL)
    return;
  expected = admin_call (f, "org.freedesktop.DBus.Properties", "Get",
                         g_variant_new ("(ss)", RESERVE_INTERFACE, "Version"));
  g_assert_cmpvariant (reply, expected);
}

static void
cell_get_all_properties (Fixture *f, Agent *agent, Outcome outcome)
{
  g_autoptr(GVariant) reply =
               run_cell (f, agent, outcome, "org.freedesktop.DBus.Properties", "GetAll",
                         g_variant_new ("(s)", RESERVE_INTERFACE), "(a{sv})", TRUE);
  g_autoptr(GVariant) properties = NULL;
  const char *version = NULL, *default_item = NULL;

  if (reply == NULL)
    return;
  properties = g_variant_get_child_value (reply, 0);
  g_assert_true (g_variant_lookup (properties, "Version", "&s", &version));
  g_assert_true (g_variant_lookup (properties, "DefaultItem", "&s", &default_item));
  g_assert_cmpstr (version, ==, reserve_reserve1_get_version (f->proxy));
  g_assert_cmpstr (default_item, ==, RESERVE_DEFAULT_ITEM);
}

/* The waitlist's item: sold out, so an entry waits. */
#define QUEUE_ITEM "queue"

static void
cell_join_waitlist (Fixture *f, Agent *agent, Outcome outcome)
{
  g_autoptr(GVariant) reply =
               run_cell (f, agent, outcome, RESERVE_INTERFACE, "JoinWaitlist",
                         g_variant_new ("(ssu@a{sv})", QUEUE_ITEM, agent->caller->name, 1,
                                        reserved_test_options (NULL)),
                         "(tut)", FALSE);
  guint64 entry = 0, hold = 0;
  guint32 position = 0;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(tut)", &entry, &position, &hold);
  g_assert_cmpuint (position, >, 0);
  g_assert_cmpuint (hold, ==, 0);
  g_assert_cmpuint (reserved_test_get_item (&f->admin, QUEUE_ITEM).waiting, ==, position);
}

static void
cell_leave_waitlist_others (Fixture *f, Agent *agent, Outcome outcome)
{
  g_autofree char *user = g_strdup_printf ("left-by-%s", agent->caller->name);
  guint64 entry = reserved_test_join_waitlist (&f->admin, QUEUE_ITEM, user, 1, NULL, NULL, NULL);
  guint32 waiting = reserved_test_get_item (&f->admin, QUEUE_ITEM).waiting;
  g_autoptr(GVariant) reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "LeaveWaitlist",
                                         g_variant_new ("(t)", entry), "()", FALSE);

  g_assert_cmpuint (reserved_test_get_item (&f->admin, QUEUE_ITEM).waiting, ==,
                    reply != NULL ? waiting - 1 : waiting);
  if (reply == NULL)
    {
      g_autoptr(GError) error = NULL;

      reserve_reserve1_call_leave_waitlist_sync (f->proxy, entry, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                                 &error);
      g_assert_no_error (error);
    }
}

static void
cell_list_waitlist_every_caller (Fixture *f, Agent *agent, Outcome outcome)
{
  g_autoptr(GVariant) reply = run_cell (f, agent, outcome, RESERVE_INTERFACE, "ListWaitlist",
                                         g_variant_new ("(s)", ""), "(a(tssuuxxt))", TRUE);
  g_autoptr(GVariant) everyone = NULL;
  g_autoptr(GVariant) entries = NULL;
  const char *user = NULL;

  if (reply == NULL)
    return;
  everyone = admin_call (f, RESERVE_INTERFACE, "ListWaitlist", g_variant_new ("(s)", ""));
  if (outcome == SEES_ALL)
    g_assert_cmpvariant (reply, everyone);
  else
    {
      /* Its own entry (JoinWaitlist's column) alone, of the several. */
      g_assert_cmpint (outcome, ==, SEES_OWN);
      entries = g_variant_get_child_value (reply, 0);
      g_assert_cmpuint (g_variant_n_children (entries), ==, 1);
      g_variant_get_child (entries, 0, "(t&s&suuxxt)", NULL, NULL, &user, NULL, NULL, NULL, NULL,
                           NULL);
      g_assert_cmpstr (user, ==, agent->caller->name);
      g_assert_false (g_variant_equal (reply, everyone));
    }
}

/* Which of the orders test_matrix_row() placed a column's call is about. */
typedef enum {
  NO_ORDER,
  OWN_ORDER,    /* the row's caller placed it */
  OTHERS_ORDER, /* another uid placed it */
} Target;

static const struct {
  const char *name;
  void (*run) (Fixture *f, Agent *agent, Outcome outcome); /* NO_ORDER */
  void (*run_on) (Fixture *f, Agent *agent, Outcome outcome, guint64 order);
  Target target;
} columns[N_COLUMNS] = {
  [COLUMN_BUY] = { "Buy", cell_buy },
  [COLUMN_GET_ORDER_OWN] = { "GetOrder own", NULL, get_order_cell, OWN_ORDER },
  [COLUMN_GET_ORDER_OTHERS] = { "GetOrder others'", NULL, get_order_cell, OTHERS_ORDER },
  [COLUMN_CANCEL_OWN] = { "Cancel own order", NULL, cancel_cell, OWN_ORDER },
  [COLUMN_CANCEL_OTHERS] = { "Cancel another uid's order", NULL, cancel_cell, OTHERS_ORDER },
  [COLUMN_GET_ITEM] = { "GetItem", cell_get_item },
  [COLUMN_LIST_ITEMS] = { "ListItems", cell_list_items },
  [COLUMN_LIST_ORDERS] = { "ListOrders of a customer", cell_list_orders },
  [COLUMN_LIST_EVERY_CUSTOMER] = { "ListOrders of every customer", cell_list_every_customer },
  [COLUMN_CREATE_ITEM] = { "CreateItem", cell_create_item },
  [COLUMN_RESTOCK] = { "Restock", cell_restock },
  [COLUMN_GET_STATISTICS] = { "GetStatistics", cell_get_statistics },
  [COLUMN_GET_PROPERTY] = { "Properties.Get", cell_get_property },
  [COLUMN_GET_ALL_PROPERTIES] = { "Properties.GetAll", cell_get_all_properties },
  [COLUMN_LIST_ORDERS_PAGE] = { "ListOrdersPage of a customer", cell_list_orders_page },
  [COLUMN_LIST_ORDERS_PAGE_EVERY_CUSTOMER] = { "ListOrdersPage of every customer",
                                               cell_list_orders_page_every_customer },
  [COLUMN_RETIRE_ITEM] = { "RetireItem", cell_retire_item },
  [COLUMN_SET_PER_USER_LIMIT] = { "SetPerUserLimit", cell_set_per_user_limit },
  [COLUMN_SET_SALE_WINDOW] = { "SetSaleWindow", cell_set_sale_window },
  [COLUMN_JOIN_WAITLIST] = { "JoinWaitlist", cell_join_waitlist },
  [COLUMN_LEAVE_WAITLIST_OTHERS] = { "LeaveWaitlist of another uid's entry",
                                     cell_leave_waitlist_others },
  [COLUMN_LIST_WAITLIST_EVERY_CALLER] = { "ListWaitlist of every item",
                                          cell_list_waitlist_every_caller },
};

/* --- /authorization/matrix -------------------------------------------------------- */

static void
test_matrix_row (Fixture *f, gconstpointer data)
{
  const CaseSetup *setup = data;
  guint row = (guint) (setup->row - callers);
  guint other = row == CALLER_BUYER ? CALLER_BUYER_2 : CALLER_BUYER;
  Agent *agent;

  reserved_test_create_item (&f->admin, ITEM, 1000, 0);
  reserved_test_create_item (&f->admin, QUEUE_ITEM, 1, 0);
  record_order (f, reserved_test_buy (&f->admin, QUEUE_ITEM, "filler", 1, NULL, NULL), 0);
  /* Every admin's entry waits behind another already there. */
  reserved_test_join_waitlist (&f->admin, QUEUE_ITEM, "first", 1, NULL, NULL, NULL);
  /* Every uid has an order for the same customer name, and the row's
   * caller one for somebody else too. */
  for (guint c = 0; c < N_CALLERS; c++)
    {
      guint64 order =
        agent_buy (fixture_agent (f, c), reserved_test_buy_args (ITEM, CUSTOMER, 1, NULL), NULL);
      record_order (f, order, callers[c].uid);
    }
  agent = fixture_agent (f, row);
  record_order (f, agent_buy (agent, reserved_test_buy_args (ITEM, "somebody-else", 1, NULL), NULL),
                agent->caller->uid);
  f->own_order = agent_buy (agent, reserved_test_buy_args (ITEM, CUSTOMER, 1, NULL), NULL);
  record_order (f, f->own_order, agent->caller->uid);
  f->others_order =
    agent_buy (fixture_agent (f, other), reserved_test_buy_args (ITEM, CUSTOMER, 1, NULL), NULL);
  record_order (f, f->others_order, callers[other].uid);

  for (guint column = 0; column < N_COLUMNS; column++)
    {
      Outcome outcome = agent->caller->outcomes[column];

      g_test_message ("%s as %s (uid %u)", columns[column].name, agent->caller->name,
                      (guint) agent->caller->uid);
      if (columns[column].target == OWN_ORDER)
        {
          g_assert_true (uid_of (f, f->own_order) == agent->caller->uid);
          columns[column].run_on (f, agent, outcome, f->own_order);
        }
      else if (columns[column].target == OTHERS_ORDER)
        {
          g_assert_false (uid_of (f, f->others_order) == agent->caller->uid);
          columns[column].run_on (f, agent, outcome, f->others_order);
        }
      else
        columns[column].run (f, agent, outcome);
      reserved_test_assert_law (&f->admin);
    }
}

/* --- /authorization/request-id ---------------------------------------------------- */

static void
buy_replayed (Fixture *f, Agent *agent, const char *user, guint32 quantity, guint64 first)
{
  g_autoptr(GVariant) before = reserved_test_snapshot (&f->admin);
  guint32 remaining = 0;

  g_assert_cmpuint (agent_buy (agent, reserved_test_buy_args ("rid", user, quantity, "r1"),
                               &remaining),
                    ==, first);
  g_assert_cmpuint (remaining, ==, reserved_test_get_item (&f->admin, "rid").remaining);
  reserved_test_assert_unchanged (&f->admin, before);
}

static void
test_request_id_scoped (Fixture *f, gconstpointer data)
{
  Agent *a = fixture_agent (f, CALLER_BUYER);
  Agent *b = fixture_agent (f, CALLER_BUYER_2);
  Agent *admin = fixture_agent (f, CALLER_ADMIN_USER);
  Agent *root = fixture_agent (f, CALLER_ROOT);
  Agent *nobody = fixture_agent (f, CALLER_NOBODY);
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) answer = NULL;
  g_autoptr(GArray) seen = NULL;
  guint64 a1, b1, admin1, root1, nobody1;
  guint32 remaining = 0;

  reserved_test_create_item (&f->admin, "rid", 100, 0);
  a1 = agent_buy (a, reserved_test_buy_args ("rid", "alice", 1, "r1"), &remaining);
  g_assert_cmpuint (remaining, ==, 99);

  /* The same request_id and arguments from other uids, admins included:
   * new orders, never A's. */
  b1 = agent_buy (b, reserved_test_buy_args ("rid", "alice", 1, "r1"), &remaining);
  g_assert_cmpuint (remaining, ==, 98);
  admin1 = agent_buy (admin, reserved_test_buy_args ("rid", "alice", 1, "r1"), &remaining);
  g_assert_cmpuint (remaining, ==, 97);
  root1 = agent_buy (root, reserved_test_buy_args ("rid", "alice", 1, "r1"), &remaining);
  g_assert_cmpuint (remaining, ==, 96);
  g_assert_cmpuint (b1, !=, a1);
  g_assert_cmpuint (admin1, !=, a1);
  g_assert_cmpuint (admin1, !=, b1);
  g_assert_cmpuint (root1, !=, a1);
  g_assert_cmpuint (root1, !=, b1);
  g_assert_cmpuint (root1, !=, admin1);

  /* Different arguments under a request_id another uid used: not
   * InvalidArgument, a purchase of its own. */
  nobody1 = agent_buy (nobody, reserved_test_buy_args ("rid", "bob", 3, "r1"), &remaining);
  g_assert_cmpuint (remaining, ==, 93);

  /* Each uid's replay returns its own first order and takes nothing. */
  buy_replayed (f, a, "alice", 1, a1);
  buy_replayed (f, b, "alice", 1, b1);
  buy_replayed (f, admin, "alice", 1, admin1);
  buy_replayed (f, root, "alice", 1, root1);
  buy_replayed (f, nobody, "bob", 3, nobody1);

  /* The check of arguments is there, for the uid's own request_id. */
  before = reserved_test_snapshot (&f->admin);
  answer =
    agent_call (a, RESERVE_INTERFACE, "Buy",
                g_variant_new ("(ssu@a{sv})", "rid", "bob", 3, reserved_test_options ("r1")));
  expect_error (a, answer, "Buy", RESERVE_ERROR_PREFIX "InvalidArgument");
  reserved_test_assert_unchanged (&f->admin, before);

  /* After A cancels, its replay still answers A's order and B's is
   * untouched. */
  g_clear_pointer (&answer, g_variant_unref);
  answer = agent_call (a, RESERVE_INTERFACE, "Cancel", g_variant_new ("(t)", a1));
  g_variant_unref (expect_reply (a, answer, "Cancel", "(u)"));
  buy_replayed (f, a, "alice", 1, a1);
  assert_order_state (f, a1, 1, FALSE);
  buy_replayed (f, b, "alice", 1, b1);
  assert_order_state (f, b1, 1, TRUE);

  /* Nor does A see the others' orders for alice. */
  g_clear_pointer (&answer, g_variant_unref);
  answer = agent_call (a, RESERVE_INTERFACE, "ListOrders", g_variant_new ("(s)", "alice"));
  {
    g_autoptr(GVariant) reply = expect_reply (a, answer, "ListOrders", "(a(tsuxs))");
    g_autoptr(GVariant) orders = g_variant_get_child_value (reply, 0);
    guint64 id = 0;

    g_assert_cmpuint (g_variant_n_children (orders), ==, 1);
    g_variant_get_child (orders, 0, "(tsuxs)", &id, NULL, NULL, NULL, NULL);
    g_assert_cmpuint (id, ==, a1);
  }
  seen = reserved_test_list_orders (&f->admin, "alice");
  g_assert_cmpuint (seen->len, ==, 4);
}

/* --- /authorization/fail-closed/bus-error ------------------------------------------ */

typedef enum {
  NO_CALLER_NEEDED,
  NEEDS_CALLER,
} Needs;

/* Every method and property, and whether the daemon must know the caller
 * to answer it (docs/api.md: reading items is public). */
static const struct {
  const char *interface;
  const char *method;
  Needs needs;
} unknown_caller_calls[] = {
  { RESERVE_INTERFACE, "Buy", NEEDS_CALLER },
  { RESERVE_INTERFACE, "Cancel", NEEDS_CALLER },
  { RESERVE_INTERFACE, "GetOrder", NEEDS_CALLER },
  { RESERVE_INTERFACE, "ListOrders", NEEDS_CALLER }, /* of a customer */
  { RESERVE_INTERFACE, "ListOrders", NEEDS_CALLER }, /* of every customer */
  { RESERVE_INTERFACE, "CreateItem", NEEDS_CALLER },
  { RESERVE_INTERFACE, "Restock", NEEDS_CALLER },
  { RESERVE_INTERFACE, "GetItem", NO_CALLER_NEEDED },
  { RESERVE_INTERFACE, "ListItems", NO_CALLER_NEEDED },
  { RESERVE_INTERFACE, "GetStatistics", NO_CALLER_NEEDED },
  { "org.freedesktop.DBus.Properties", "Get", NO_CALLER_NEEDED },
  { "org.freedesktop.DBus.Properties", "GetAll", NO_CALLER_NEEDED },
  { RESERVE_INTERFACE, "BuyWithDetails", NEEDS_CALLER },
  { RESERVE_INTERFACE, "ListOrdersPage", NEEDS_CALLER }, /* of a customer */
  { RESERVE_INTERFACE, "ListItemsPage", NO_CALLER_NEEDED },
};

static GVariant *
unknown_caller_args (guint i, guint64 order)
{
  switch (i)
    {
    case 0:
      return g_variant_new ("(ssu@a{sv})", ITEM, CUSTOMER, 1, reserved_test_options ("fc"));
    case 1:
    case 2:
      return g_variant_new ("(t)", order);
    case 3:
      return g_variant_new ("(s)", CUSTOMER);
    case 4:
      return g_variant_new ("(s)", "");
    case 5:
      return g_variant_new ("(su@a{sv})", "made-unknown", 5, reserved_test_options (NULL));
    case 6:
      return g_variant_new ("(su)", ITEM, 5);
    case 7:
      return g_variant_new ("(s)", ITEM);
    case 8:
    case 9:
      return NULL;
    case 10:
      return g_variant_new ("(ss)", RESERVE_INTERFACE, "Version");
    case 11:
      return g_variant_new ("(s)", RESERVE_INTERFACE);
    case 12:
      return g_variant_new ("(ssu@a{sv})", ITEM, CUSTOMER, 1, reserved_test_options ("fc"));
    case 13:
      {
        GVariantDict query;

        g_variant_dict_init (&query, NULL);
        g_variant_dict_insert (&query, RESERVE_QUERY_USER, "s", CUSTOMER);
        return g_variant_new ("(@a{sv})", g_variant_dict_end (&query));
      }
    case 14:
      return g_variant_new ("(@a{sv})", reserved_test_options (NULL));
    default:
      g_assert_not_reached ();
    }
}

static void
test_fail_closed_bus_error (Fixture *f, gconstpointer data)
{
  static const guint tried[] = { CALLER_ROOT, CALLER_ADMIN_USER, CALLER_BUYER };
  g_autoptr(ReservedTestDaemon) denying = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) stats = NULL;
  guint64 order;
  guint32 callers_known = G_MAXUINT32;

  /* On a bus that answers, as the same uid and database: an order to try
   * to cancel, and the state that must survive. */
  reserved_test_create_item (&f->admin, ITEM, 50, 0);
  order = agent_buy (fixture_agent (f, CALLER_BUYER),
                     reserved_test_buy_args (ITEM, CUSTOMER, 2, NULL), NULL);
  agent_buy (fixture_agent (f, CALLER_ADMIN_USER), reserved_test_buy_args (ITEM, CUSTOMER, 1, NULL),
             NULL);
  before = reserved_test_snapshot (&f->admin);
  fixture_stop_agents (f);
  fixture_disconnect (f);
  reserved_test_daemon_stop (f->daemon);

  /* The same daemon on a bus that refuses it GetConnectionUnixUser. */
  denying = reserved_test_daemon_new_with_bus_config ("test-bus-no-uid-lookup.conf");
  reserved_test_daemon_set_database (denying, reserved_test_daemon_get_database (f->daemon));
  reserved_test_daemon_set_run_as (denying, RESERVED_TEST_NOBODY_UID);
  reserved_test_daemon_use_system_bus (denying);
  reserved_test_daemon_start (denying);
  g_free (f->address);
  f->address = g_strdup (reserved_test_daemon_get_address (denying));
  fixture_connect (f);
  /* Without a caller, the test process is no admin either. */
  f->admin.admin = FALSE;

  for (guint t = 0; t < G_N_ELEMENTS (tried); t++)
    {
      Agent *agent = fixture_agent (f, tried[t]);

      for (guint i = 0; i < G_N_ELEMENTS (unknown_caller_calls); i++)
        {
          g_autoptr(GVariant) items_before = reserved_test_snapshot (&f->admin);
          g_autoptr(GVariant) answer =
                       agent_call (agent, unknown_caller_calls[i].interface,
                                   unknown_caller_calls[i].method, unknown_caller_args (i, order));

          g_test_message ("%s as %s with no way to look the caller up",
                          unknown_caller_calls[i].method, agent->caller->name);
          if (unknown_caller_calls[i].needs == NEEDS_CALLER)
            {
              const char *message =
                expect_error (agent, answer, unknown_caller_calls[i].method, PERMISSION_DENIED);

              if (strstr (message, "who is calling") == NULL)
                g_error ("%s as %s: the refusal “%s” should say the caller is unknown",
                         unknown_caller_calls[i].method, agent->caller->name, message);
            }
          else
            g_variant_unref (expect_reply (agent, answer, unknown_caller_calls[i].method, "*"));
          reserved_test_assert_unchanged (&f->admin, items_before);
        }
    }
  /* The items as they were on the answering bus. */
  {
    g_autoptr(GVariant) now = reserved_test_snapshot (&f->admin);
    g_autoptr(GVariant) items_now = g_variant_get_child_value (now, 0);
    g_autoptr(GVariant) items_before = g_variant_get_child_value (before, 0);

    g_assert_cmpvariant (items_now, items_before);
  }

  /* Nobody's uid was ever learnt. */
  reply = admin_call (f, RESERVE_INTERFACE, "GetStatistics", NULL);
  stats = g_variant_get_child_value (reply, 0);
  g_assert_true (g_variant_lookup (stats, "callers_known", "u", &callers_known));
  g_assert_cmpuint (callers_known, ==, 0);

  /* Back on a bus that answers: every order and item as it was. */
  fixture_stop_agents (f);
  fixture_disconnect (f);
  reserved_test_daemon_stop (denying);
  g_clear_pointer (&denying, reserved_test_daemon_free);
  g_free (f->address);
  f->address = g_strdup (reserved_test_daemon_get_address (f->daemon));
  reserved_test_daemon_start (f->daemon);
  fixture_connect (f);
  after = reserved_test_snapshot (&f->admin);
  g_assert_cmpvariant (before, after);
}

/* --- /authorization/fail-closed/disconnected ---------------------------------------- */

/* What the leaving caller sends: every call that needs the caller, each
 * once expecting a reply and once not. */
static const struct {
  const char *method;
  gboolean no_reply_expected;
} leaving_calls[] = {
  { "Buy", FALSE },        { "Buy", TRUE },        { "CreateItem", FALSE }, { "CreateItem", TRUE },
  { "Restock", FALSE },    { "Restock", TRUE },    { "Cancel", FALSE },     { "Cancel", TRUE },
  { "ListOrders", FALSE }, { "ListOrders", TRUE },
};

static GVariant *
leaving_call_args (const char *method, guint i, guint64 order, const char *round)
{
  if (g_str_equal (method, "Buy"))
    {
      g_autofree char *request_id = g_strdup_printf ("leaving-%s-%u", round, i);
      return g_variant_new ("(ssu@a{sv})", ITEM, "leaver", 1, reserved_test_options (request_id));
    }
  if (g_str_equal (method, "CreateItem"))
    {
      g_autofree char *item = g_strdup_printf ("left-%s-%u", round, i);
      return g_variant_new ("(su@a{sv})", item, 5, reserved_test_options (NULL));
    }
  if (g_str_equal (method, "Restock"))
    return g_variant_new ("(su)", ITEM, 5);
  if (g_str_equal (method, "Cancel"))
    return g_variant_new ("(t)", order);
  return g_variant_new ("(s)", "");
}

/* The helper's half: a new connection whose first messages to the daemon
 * are these calls; it prints its unique name and leaves without waiting
 * for any answer. */
static int
helper_leave (const char *address, guint64 order, const char *round)
{
  g_autoptr(GDBusConnection) connection = reserved_test_connect (address);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (leaving_calls); i++)
    {
      g_autoptr(GDBusMessage) message =
                   g_dbus_message_new_method_call (RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                                   RESERVE_INTERFACE, leaving_calls[i].method);

      g_dbus_message_set_body (message,
                               leaving_call_args (leaving_calls[i].method, i, order, round));
      if (leaving_calls[i].no_reply_expected)
        g_dbus_message_set_flags (message, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
      g_dbus_connection_send_message (connection, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                      &error);
      g_assert_no_error (error);
    }
  g_dbus_connection_flush_sync (connection, NULL, &error);
  g_assert_no_error (error);
  printf ("%s\n", g_dbus_connection_get_unique_name (connection));
  fflush (stdout);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return 0;
}

static guint32
stat_u (Fixture *f, const char *key)
{
  g_autoptr(GVariant) reply = admin_call (f, RESERVE_INTERFACE, "GetStatistics", NULL);
  g_autoptr(GVariant) stats = g_variant_get_child_value (reply, 0);
  guint32 value = 0;

  g_assert_true (g_variant_lookup (stats, key, "u", &value));
  return value;
}

static gboolean
name_has_owner (Fixture *f, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply =
               g_dbus_connection_call_sync (f->connection, "org.freedesktop.DBus",
                                            "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                            "NameHasOwner", g_variant_new ("(s)", name),
                                            G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE,
                                            (int) reserved_test_timeout_seconds () * 1000, NULL,
                                            &error);
  gboolean has_owner = TRUE;

  g_assert_no_error (error);
  g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

/* Waits (bounded) for @done; a condition, never a duration. */
static void
wait_until (Fixture *f,
            gboolean (*done) (Fixture *f, gconstpointer data),
            gconstpointer data,
            const char *what)
{
  gint64 deadline =
    g_get_monotonic_time () + (gint64) reserved_test_timeout_seconds () * G_USEC_PER_SEC;

  while (!done (f, data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("still waiting after %u s until %s", reserved_test_timeout_seconds (), what);
      g_usleep (10 * 1000);
    }
}

static gboolean
name_gone (Fixture *f, gconstpointer name)
{
  return !name_has_owner (f, name);
}

static gboolean
nothing_in_flight (Fixture *f, gconstpointer data)
{
  return stat_u (f, "calls_in_flight") == 0;
}

static void
leave_while_stopped (Fixture *f, guint round, guint64 order)
{
  GPid daemon_pid = reserved_test_process_get_pid (reserved_test_daemon_get_process (f->daemon));
  g_autofree char *round_text = g_strdup_printf ("%u", round);
  g_autofree char *name = NULL;
  g_autofree char *log = NULL;
  g_autoptr(GVariant) before = reserved_test_snapshot (&f->admin);
  const char *args[] = { "leave", f->address, NULL, round_text, NULL };
  g_autofree char *order_text = g_strdup_printf ("%" G_GUINT64_FORMAT, order);
  guint32 callers_known = stat_u (f, "callers_known");
  int status = 0;

  args[2] = order_text;
  g_assert_cmpint (kill (daemon_pid, SIGSTOP), ==, 0);
  g_assert_cmpint (waitpid (daemon_pid, &status, WUNTRACED), ==, daemon_pid);
  g_assert_true (WIFSTOPPED (status));

  name = reserved_test_run_helper (args, ADMIN_UID, "leaving caller");
  g_strstrip (name);
  g_assert_true (g_dbus_is_unique_name (name));
  /* The bus has read all of its calls (queued for the stopped daemon)
   * before it lets the name go. */
  wait_until (f, name_gone, name, "the leaving caller's name is gone");

  g_assert_cmpint (kill (daemon_pid, SIGCONT), ==, 0);
  /* Our call is behind the leaver's in the daemon's queue, so once it
   * reports nothing in flight, every one of them was answered. */
  wait_until (f, nothing_in_flight, NULL, "the daemon has answered every call");

  reserved_test_assert_unchanged (&f->admin, before);
  reserved_test_assert_law (&f->admin);
  /* Nor was a uid kept for the name that left. */
  g_assert_cmpuint (stat_u (f, "callers_known"), ==, callers_known);

  /* Every call reached the daemon and was refused for not knowing who
   * sent it (the daemon runs with G_MESSAGES_DEBUG=all). */
  log = reserved_test_process_get_log (reserved_test_daemon_get_process (f->daemon));
  for (guint i = 0; i < G_N_ELEMENTS (leaving_calls); i++)
    {
      g_autofree char *refusal = g_strdup_printf ("%s refused: cannot tell who is calling (%s)",
                                                  leaving_calls[i].method, name);
      guint expected = 0;

      for (guint j = 0; j < G_N_ELEMENTS (leaving_calls); j++)
        expected += g_str_equal (leaving_calls[i].method, leaving_calls[j].method);
      if (reserved_test_count_occurrences (log, refusal) != expected)
        g_error ("expected %u times “%s” in the daemon's output, found %u:\n%s", expected, refusal,
                 reserved_test_count_occurrences (log, refusal), log);
    }
}

static void
test_fail_closed_disconnected (Fixture *f, gconstpointer data)
{
  Agent *admin;
  guint64 order;
  guint32 remaining = 0;
  guint n_rounds;

  reserved_test_create_item (&f->admin, ITEM, 100, 0);
  /* An order of the leaving caller's uid, placed through another
   * connection: which the leaver will try to cancel. */
  admin = fixture_agent (f, CALLER_ADMIN_USER);
  order = agent_buy (admin, reserved_test_buy_args (ITEM, CUSTOMER, 1, NULL), NULL);

  n_rounds = reserved_test_env_uint ("RESERVED_TEST_AUTHORIZATION_ROUNDS", 2, 10000);
  for (guint round = 0; round < n_rounds; round++)
    leave_while_stopped (f, round, order);

  /* The daemon still serves: a buy, and the cancel the leaver could not
   * make. */
  agent_buy (fixture_agent (f, CALLER_BUYER), reserved_test_buy_args (ITEM, CUSTOMER, 1, NULL),
             &remaining);
  g_assert_cmpuint (remaining, ==, 98);
  {
    g_autoptr(GVariant) answer =
                 agent_call (admin, RESERVE_INTERFACE, "Cancel", g_variant_new ("(t)", order));
    g_autoptr(GVariant) reply = expect_reply (admin, answer, "Cancel", "(u)");

    g_variant_get (reply, "(u)", &remaining);
    g_assert_cmpuint (remaining, ==, 99);
  }
}

/* --- an admin by group, pipelining ------------------------------------------------ */

#define PIPELINED_PAIRS 20

static void
send_pipelined (GDBusConnection *connection,
                const char *method,
                GVariant *args,
                ReservedTestReply *answer)
{
  g_dbus_connection_call (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH, RESERVE_INTERFACE,
                          method, args, NULL, G_DBUS_CALL_FLAGS_NONE,
                          (int) reserved_test_timeout_seconds () * 1000, NULL,
                          reserved_test_reply_ready, answer);
}

/* The helper's half: on a new connection, sends every pair of CreateItem
 * and Buy of the new item before any answer can arrive, then prints one
 * line per answer, in sending order. */
static int
helper_pipeline (const char *address)
{
  g_autoptr(GDBusConnection) connection = reserved_test_connect (address);
  ReservedTestReply answers[2 * PIPELINED_PAIRS] = { { 0 } };

  for (guint i = 0; i < PIPELINED_PAIRS; i++)
    {
      g_autofree char *item = g_strdup_printf ("pipelined-%u", i);

      send_pipelined (connection, "CreateItem",
                      g_variant_new ("(su@a{sv})", item, 1u, g_variant_new ("a{sv}", NULL)),
                      &answers[2 * i]);
      send_pipelined (connection, "Buy",
                      g_variant_new ("(ssu@a{sv})", item, CUSTOMER, 1u,
                                     g_variant_new ("a{sv}", NULL)),
                      &answers[2 * i + 1]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
    {
      const GError *error = NULL;
      g_autofree char *name = NULL;

      reserved_test_reply_wait (&answers[i]);
      error = answers[i].error;
      name = error != NULL ? g_dbus_error_get_remote_error (error) : NULL;
      printf ("%s\n", answers[i].reply != NULL ? "ok" : name != NULL ? name : error->message);
      reserved_test_reply_clear (&answers[i]);
    }
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return 0;
}

/* An administrator through a group, whose CreateItem calls each wait for
 * polkitd's answer: a Buy sent after a CreateItem of the same item must
 * not overtake it while that question is out, whatever the Buy itself
 * needs. */
static void
test_admin_group_in_order (Fixture *f, gconstpointer data)
{
  const char *args[] = { "pipeline", f->address, NULL };
  g_autofree char *output =
    reserved_test_run_helper (args, GROUP_ADMIN_UID, "pipelining admin by group");
  g_auto(GStrv) lines = NULL;

  lines = g_strsplit (output, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2 * PIPELINED_PAIRS + 1);
  for (guint i = 0; i < 2 * PIPELINED_PAIRS; i++)
    if (!g_str_equal (lines[i], "ok"))
      g_error ("call %u of the pipeline (%s of pipelined-%u) was answered %s: it ran out of order",
               i + 1, i % 2 == 0 ? "CreateItem" : "Buy", i / 2, lines[i]);
}

/* --- /authorization/polkit ------------------------------------------------------------ */

/* @answer is PermissionDenied, naming @agent's uid and saying @why. */
static void
expect_refused_because (Agent *agent, GVariant *answer, const char *method, const char *why)
{
  const char *message = expect_error (agent, answer, method, PERMISSION_DENIED);

  if (strstr (message, why) == NULL)
    g_error ("%s as %s: the refusal “%s” should say “%s”", method, agent->caller->name, message,
             why);
}

/* The calls only an administrator may make, by one who is one when polkitd
 * answers. */
static void
refuse_admin_calls (Fixture *f, Agent *agent, guint64 others_order, const char *why)
{
  g_autoptr(GVariant) before = reserved_test_snapshot (&f->admin);
  const struct {
    const char *method;
    GVariant *args;
  } calls[] = {
    { "CreateItem", g_variant_new ("(su@a{sv})", "not-made", 5, reserved_test_options (NULL)) },
    { "Restock", g_variant_new ("(su)", ITEM, 5) },
    { "Cancel", g_variant_new ("(t)", others_order) },
    { "ListOrders", g_variant_new ("(s)", "") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      g_autoptr(GVariant) answer =
                   agent_call (agent, RESERVE_INTERFACE, calls[i].method, calls[i].args);

      expect_refused_because (agent, answer, calls[i].method, why);
    }
  reserved_test_assert_unchanged (&f->admin, before);
}

/* No polkitd on the bus: an administrator's calls are refused at once,
 * saying why; root, the owner of an order and the public reads need no
 * polkit and go on. */
static void
test_polkit_absent (Fixture *f, gconstpointer data)
{
  Agent *admin = fixture_agent (f, CALLER_ADMIN_USER);
  Agent *buyer = fixture_agent (f, CALLER_BUYER);
  g_autoptr(GVariant) answer = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) orders = NULL;
  guint64 order;
  guint32 remaining = 0;

  reserved_test_create_item (&f->admin, ITEM, 10, 0);
  order = agent_buy (buyer, reserved_test_buy_args (ITEM, CUSTOMER, 1, NULL), NULL);
  refuse_admin_calls (f, admin, order, "polkit could not be asked");

  answer = agent_call (buyer, RESERVE_INTERFACE, "Cancel", g_variant_new ("(t)", order));
  reply = expect_reply (buyer, answer, "Cancel", "(u)");
  g_variant_get (reply, "(u)", &remaining);
  g_assert_cmpuint (remaining, ==, 10);
  /* A customer's orders without polkit: the caller's own, no error. */
  g_clear_pointer (&answer, g_variant_unref);
  g_clear_pointer (&reply, g_variant_unref);
  answer = agent_call (buyer, RESERVE_INTERFACE, "ListOrders", g_variant_new ("(s)", CUSTOMER));
  reply = expect_reply (buyer, answer, "ListOrders", "(a(tsuxs))");
  orders = g_variant_get_child_value (reply, 0);
  g_assert_cmpuint (g_variant_n_children (orders), ==, 1);
  g_assert_cmpuint (reserved_test_restock (&f->admin, ITEM, 1), ==, 11);
}

/* polkitd stopped: the administrator's call waits for it, and only that
 * call; once the daemon's time limit passes it is refused, saying so. */
static void
test_polkit_hung (Fixture *f, gconstpointer data)
{
  GPid polkitd = reserved_test_process_get_pid (reserved_test_polkit_get_process (f->polkit));
  Agent *admin = fixture_agent (f, CALLER_ADMIN_USER);
  Agent *buyer = fixture_agent (f, CALLER_BUYER);
  g_autoptr(GVariant) answer = NULL;
  g_autoptr(GVariant) before = NULL;
  int status = 0;

  reserved_test_create_item (&f->admin, ITEM, 10, 0);
  /* Allowed while polkitd answers. */
  answer = agent_call (admin, RESERVE_INTERFACE, "Restock", g_variant_new ("(su)", ITEM, 1));
  g_variant_unref (expect_reply (admin, answer, "Restock", "(u)"));
  g_clear_pointer (&answer, g_variant_unref);
  before = reserved_test_snapshot (&f->admin);

  g_assert_cmpint (kill (polkitd, SIGSTOP), ==, 0);
  g_assert_cmpint (waitpid (polkitd, &status, WUNTRACED), ==, polkitd);
  g_assert_true (WIFSTOPPED (status));
  agent_send (admin, RESERVE_INTERFACE, "Restock", g_variant_new ("(su)", ITEM, 1),
              G_DBUS_CALL_FLAGS_NONE);

  /* Everyone else is served meanwhile: buyers, root, and the reads. While
   * they were, the Restock was still waiting (it is the one call in
   * flight), so the daemon never waited for polkitd itself. */
  for (guint i = 0; i < 3; i++)
    agent_buy (buyer, reserved_test_buy_args (ITEM, CUSTOMER, 1, NULL), NULL);
  reserved_test_create_item (&f->admin, "made-meanwhile", 1, 0);
  g_assert_cmpuint (reserved_test_get_item (&f->admin, ITEM).remaining, ==, 8);
  g_assert_cmpuint (stat_u (f, "calls_in_flight"), ==, 1);

  answer = agent_receive (admin);
  expect_refused_because (admin, answer, "Restock", "polkit did not answer in time");
  g_assert_cmpuint (reserved_test_get_item (&f->admin, ITEM).capacity, ==, 11);

  /* Resumed, polkitd answers again, and so does the daemon. */
  g_assert_cmpint (kill (polkitd, SIGCONT), ==, 0);
  g_clear_pointer (&answer, g_variant_unref);
  answer = agent_call (admin, RESERVE_INTERFACE, "Restock", g_variant_new ("(su)", ITEM, 1));
  g_variant_unref (expect_reply (admin, answer, "Restock", "(u)"));
}

/* A rule that wants the caller to authenticate: refused, saying so, and
 * saying whether the call let polkit ask (the test has no authentication
 * agent to answer). */
static void
test_polkit_challenge (Fixture *f, gconstpointer data)
{
  Agent *buyer = fixture_agent (f, CALLER_BUYER_2);
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) answer = NULL;

  reserved_test_create_item (&f->admin, ITEM, 10, 0);
  before = reserved_test_snapshot (&f->admin);
  answer = agent_call (buyer, RESERVE_INTERFACE, "Restock", g_variant_new ("(su)", ITEM, 1));
  expect_refused_because (buyer, answer, "Restock", "did not allow interactive authorization");
  g_clear_pointer (&answer, g_variant_unref);
  agent_send (buyer, RESERVE_INTERFACE, "Restock", g_variant_new ("(su)", ITEM, 1),
              G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION);
  answer = agent_receive (buyer);
  expect_refused_because (buyer, answer, "Restock", "needs the caller to authenticate");
  reserved_test_assert_unchanged (&f->admin, before);
}

/* The helper's half: as its uid, runs `reserve restock ITEM --quantity 1
 * --system` against @address with a terminal for its stdin (@on_tty)
 * or /dev/null, and prints its exit status and what it wrote to stderr. */
static int
helper_reserve_restock (const char *address, gboolean on_tty)
{
  const char *argv[] = {
    g_getenv ("RESERVE_BINARY"), "restock", ITEM, "--quantity", "1", "--system", NULL
  };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) envp =
            g_environ_setenv (g_get_environ (), "DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
  g_autofree char *err = NULL;
  int terminal = -1, stdin_fd, err_fd = -1, status = 0;
  GPid pid;

  g_assert_nonnull (argv[0]);
  if (on_tty)
    {
      terminal = posix_openpt (O_RDWR | O_NOCTTY);
      g_assert_cmpint (terminal, >=, 0);
      g_assert_cmpint (grantpt (terminal), ==, 0);
      g_assert_cmpint (unlockpt (terminal), ==, 0);
      stdin_fd = open (ptsname (terminal), O_RDWR | O_NOCTTY);
    }
  else
    stdin_fd = open ("/dev/null", O_RDONLY);
  g_assert_cmpint (stdin_fd, >=, 0);
  g_spawn_async_with_pipes_and_fds (NULL, argv, (const char *const *) envp,
                                    G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, stdin_fd, -1, -1, NULL,
                                    NULL, 0, &pid, NULL, NULL, &err_fd, &error);
  g_assert_no_error (error);
  close (stdin_fd);
  err = reserved_test_read_all (err_fd);
  close (err_fd);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  if (terminal >= 0)
    close (terminal);
  printf ("%d %s", WIFEXITED (status) ? WEXITSTATUS (status) : -1, err);
  return 0;
}

/* What `reserve restock` says, as the buyer whom a rule asks for a
 * password, with stdin on a terminal or not. */
static char *
reserve_restock_as_buyer_2 (Fixture *f, gboolean on_tty)
{
  const char *args[] = { "reserve-restock", f->address, on_tty ? "tty" : "no-tty", NULL };

  return reserved_test_run_helper (args, BUYER_2_UID, "reserve restock as buyer-2");
}

/* From a terminal, reserve lets polkit ask for a password (here nobody can
 * answer, so it is refused saying that); from a script it does not. */
static void
test_polkit_cli_terminal (Fixture *f, gconstpointer data)
{
  g_autofree char *on_tty = NULL;
  g_autofree char *not_on_tty = NULL;
  g_autoptr(GVariant) before = NULL;

  reserved_test_create_item (&f->admin, ITEM, 10, 0);
  before = reserved_test_snapshot (&f->admin);
  not_on_tty = reserve_restock_as_buyer_2 (f, FALSE);
  on_tty = reserve_restock_as_buyer_2 (f, TRUE);
  g_test_message ("stdin not a terminal: %s", not_on_tty);
  g_test_message ("stdin a terminal: %s", on_tty);
  if (!g_str_has_prefix (not_on_tty, "1 ") ||
      strstr (not_on_tty, "did not allow interactive authorization") == NULL)
    g_error ("reserve restock without a terminal: expected exit 1 and no interaction, got: %s",
             not_on_tty);
  if (!g_str_has_prefix (on_tty, "1 ") ||
      strstr (on_tty, "needs the caller to authenticate, and that did not happen") == NULL)
    g_error ("reserve restock on a terminal: expected exit 1 after polkit could ask, got: %s",
             on_tty);
  reserved_test_assert_unchanged (&f->admin, before);
}

/* --- main --------------------------------------------------------------------------- */

/* caller ADDRESS */
static int
run_caller (char **args)
{
  return helper_caller (args[0]);
}

/* leave ADDRESS ORDER ROUND */
static int
run_leave (char **args)
{
  return helper_leave (args[0], reserved_test_helper_uint (args[1], 1, G_MAXUINT64), args[2]);
}

/* pipeline ADDRESS */
static int
run_pipeline (char **args)
{
  return helper_pipeline (args[0]);
}

/* reserve-restock ADDRESS tty|no-tty */
static int
run_reserve_restock (char **args)
{
  return helper_reserve_restock (args[0], g_str_equal (args[1], "tty"));
}

static const ReservedTestHelper helpers[] = {
  { "caller", 1, run_caller },
  { "leave", 3, run_leave },
  { "pipeline", 1, run_pipeline },
  { "reserve-restock", 2, run_reserve_restock },
  { NULL },
};

#define MATRIX_ROW(caller) [caller] = { DAEMON_UID, FALSE, &callers[caller], FALSE }

static const CaseSetup matrix_rows[N_CALLERS] = {
  MATRIX_ROW (CALLER_ROOT),        MATRIX_ROW (CALLER_ADMIN_USER), MATRIX_ROW (CALLER_ADMIN_GROUP),
  MATRIX_ROW (CALLER_DAEMON_USER), MATRIX_ROW (CALLER_BUYER),      MATRIX_ROW (CALLER_BUYER_2),
  MATRIX_ROW (CALLER_NOBODY),
};
static const CaseSetup plain = { DAEMON_UID, FALSE, NULL, FALSE };
static const CaseSetup daemon_as_nobody = { RESERVED_TEST_NOBODY_UID, FALSE, NULL, FALSE };
static const CaseSetup with_debug_log = { DAEMON_UID, TRUE, NULL, FALSE };
static const CaseSetup no_polkitd = { DAEMON_UID, FALSE, NULL, TRUE };

static void
add_cases (void)
{
#define ADD(path, setup, func) \
  g_test_add (path, Fixture, setup, fixture_set_up, func, fixture_tear_down)

  /* One row of the matrix each; the caller's name ends the path. */
  ADD ("/authorization/matrix/root", &matrix_rows[CALLER_ROOT], test_matrix_row);
  ADD ("/authorization/matrix/admin-user", &matrix_rows[CALLER_ADMIN_USER], test_matrix_row);
  ADD ("/authorization/matrix/admin-group", &matrix_rows[CALLER_ADMIN_GROUP], test_matrix_row);
  ADD ("/authorization/matrix/daemon-user", &matrix_rows[CALLER_DAEMON_USER], test_matrix_row);
  ADD ("/authorization/matrix/buyer", &matrix_rows[CALLER_BUYER], test_matrix_row);
  ADD ("/authorization/matrix/buyer-2", &matrix_rows[CALLER_BUYER_2], test_matrix_row);
  ADD ("/authorization/matrix/nobody", &matrix_rows[CALLER_NOBODY], test_matrix_row);
  ADD ("/authorization/polkit/absent", &no_polkitd, test_polkit_absent);
  ADD ("/authorization/polkit/hung", &plain, test_polkit_hung);
  ADD ("/authorization/polkit/challenge", &plain, test_polkit_challenge);
  ADD ("/authorization/polkit/cli-terminal", &plain, test_polkit_cli_terminal);
  ADD ("/authorization/admin-group/in-order", &plain, test_admin_group_in_order);
  ADD ("/authorization/request-id/scoped", &plain, test_request_id_scoped);
  ADD ("/authorization/fail-closed/bus-error", &daemon_as_nobody, test_fail_closed_bus_error);
  ADD ("/authorization/fail-closed/disconnected", &with_debug_log, test_fail_closed_disconnected);
}

RESERVED_TEST_MAIN (add_cases, helpers)
