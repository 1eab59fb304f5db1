/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The conventions of `reserve` that people bring from other command lines,
 * against the real daemon on a private bus: options before the command,
 * RESERVE_BUS, --timeout for a daemon that does not answer, "did you mean",
 * singular and plural, what a cancellation gave back, an item not on sale,
 * and plain ASCII where the locale has no other characters. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "reserved-test-cli.h"
#include "reserved-test-daemon.h"
#include "reserved-test-main.h"

typedef ReservedTestCliFixture Fixture;

static void
assert_out_has (const ReservedTestRun *run, const char *text)
{
  if (strstr (run->out, text) == NULL)
    g_error ("%s: stdout lacks “%s”:\n%s", run->command_line, text, run->out);
}

static void
assert_err_has (const ReservedTestRun *run, const char *text)
{
  if (strstr (run->err, text) == NULL)
    g_error ("%s: stderr lacks “%s”:\n%s", run->command_line, text, run->err);
}

/* As git and systemctl take them: the shared options before the command. */
static void
test_options_before_command (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) status = reserved_test_run_reserve ("--session", "status", NULL);
  g_autoptr(ReservedTestRun) several =
               reserved_test_run_reserve ("--session", "--timeout", "5", "--json", "status",
                                          "ticket", NULL);
  g_autoptr(ReservedTestRun) command_option =
               reserved_test_run_reserve ("--user", "alice", "buy", "--session", NULL);
  g_autoptr(JsonNode) json = NULL;

  reserved_test_assert_exit (status, 0);
  assert_out_has (status, "Remaining:       100\n");
  reserved_test_assert_exit (several, 0);
  json = reserved_test_parse_json (several->out);
  g_assert_cmpint (reserved_test_json_int (json_node_get_object (json), "remaining"), ==, 100);
  /* A command's own options still go after it. */
  reserved_test_assert_exit (command_option, 2);
  assert_err_has (command_option, "--user");
}

static void
test_bus_from_environment (Fixture *fixture, gconstpointer data)
{
  static const char *const session[] = { "RESERVE_BUS", "session", NULL };
  static const char *const bogus[] = { "RESERVE_BUS", "sesion", NULL };
  g_autoptr(ReservedTestRun) chosen = reserved_test_run_reserve_with_env (session, "items", NULL);
  g_autoptr(ReservedTestRun) refused = reserved_test_run_reserve_with_env (bogus, "items", NULL);

  reserved_test_assert_exit (chosen, 0);
  assert_out_has (chosen, "ticket");
  reserved_test_assert_exit (refused, 2);
  assert_err_has (refused, "RESERVE_BUS");
}

/* A stopped daemon keeps its name and answers nothing: --timeout bounds
 * the wait, and the message says how to find out what happened. */
static void
test_timeout (Fixture *fixture, gconstpointer data)
{
  GPid daemon = reserved_test_daemon_get_owner_pid (fixture->daemon);
  g_autoptr(ReservedTestRun) buy = NULL;
  g_autoptr(ReservedTestRun) status = NULL;

  g_assert_cmpint (daemon, >, 0);
  g_assert_cmpint (kill (daemon, SIGSTOP), ==, 0);
  buy = reserved_test_run_reserve ("buy", "--session", "--timeout", "1", "--user", "alice",
                                   "--item", "ticket", "--request-id", "k1", NULL);
  status = reserved_test_run_reserve ("--timeout=1", "status", "--session", "ticket", NULL);
  g_assert_cmpint (kill (daemon, SIGCONT), ==, 0);

  reserved_test_assert_exit (buy, 3);
  assert_err_has (buy, "did not answer on the session bus within 1 second;");
  assert_err_has (buy, "same --request-id");
  reserved_test_assert_exit (status, 3);
}

static void
test_did_you_mean (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) command = reserved_test_run_reserve ("stauts", "--session", NULL);
  g_autoptr(ReservedTestRun) option = reserved_test_run_reserve ("buy", "--session", "--user",
                                                                  "alice", "--quantiy", "2", NULL);
  g_autoptr(ReservedTestRun) leading = reserved_test_run_reserve ("--sesion", "items", NULL);
  g_autoptr(ReservedTestRun) far = reserved_test_run_reserve ("frobnicate", NULL);

  reserved_test_assert_exit (command, 2);
  g_assert_true (
    g_str_has_prefix (command->err, "reserve: unknown command “stauts”; did you mean “status”?\n"));
  reserved_test_assert_exit (option, 2);
  g_assert_true (
    g_str_has_prefix (option->err,
                      "reserve: unknown option --quantiy; did you mean --quantity?\n"));
  reserved_test_assert_exit (leading, 2);
  assert_err_has (leading, "did you mean --session?");
  /* Nothing is suggested for a word that is no near miss. */
  reserved_test_assert_exit (far, 2);
  g_assert_null (strstr (far->err, "did you mean"));
}

static void
test_plurals (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) one =
               reserved_test_run_reserve ("create", "--session", "solo", "--capacity", "1", NULL);
  g_autoptr(ReservedTestRun) more =
               reserved_test_run_reserve ("restock", "--session", "solo", "--quantity", "1", NULL);
  g_autoptr(ReservedTestRun) many =
               reserved_test_run_reserve ("restock", "--session", "solo", "--quantity", "3", NULL);

  reserved_test_assert_exit (one, 0);
  g_assert_cmpstr (one->out, ==, "Created solo with 1 unit.\n");
  reserved_test_assert_exit (more, 0);
  g_assert_cmpstr (more->out, ==, "Restocked solo with 1 unit; 2 left.\n");
  reserved_test_assert_exit (many, 0);
  g_assert_cmpstr (many->out, ==, "Restocked solo with 3 units; 5 left.\n");
}

static void
test_cancel_names_item (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) buy =
               reserved_test_run_reserve ("buy", "--session", "--user", "alice", "--item", "ticket",
                                          "--quantity", "4", NULL);
  g_autoptr(ReservedTestRun) cancel = NULL;
  g_autofree char *order = NULL;
  g_autofree char *expected = NULL;

  reserved_test_assert_exit (buy, 0);
  order = reserved_test_match_id ("^Order ([0-9]+):", buy->out);
  cancel = reserved_test_run_ok ("cancel", "--session", order, NULL);
  expected =
    g_strdup_printf ("Order %s cancelled: 4 units back in stock; ticket has 100 left.\n", order);
  g_assert_cmpstr (cancel->out, ==, expected);
}

/* An item created with no units is not on sale yet; "sold out" would say
 * it had been and was gone. */
static void
test_not_on_sale (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) create =
               reserved_test_run_reserve ("create", "--session", "gala", "--capacity", "0", NULL);
  g_autoptr(ReservedTestRun) buy = reserved_test_run_reserve ("buy", "--session", "--user",
                                                               "alice", "--item", "gala", NULL);
  g_autoptr(ReservedTestRun) sold_out =
               reserved_test_run_reserve ("buy", "--session", "--user", "alice", "--item", "ticket",
                                          "--quantity", "101", NULL);

  reserved_test_assert_exit (create, 0);
  g_assert_cmpstr (create->out, ==, "Created gala, not on sale yet (no units).\n");
  reserved_test_assert_exit (buy, 1);
  g_assert_true (g_str_has_prefix (buy->err, "reserve: gala is not on sale: it has no units yet"));
  reserved_test_assert_exit (sold_out, 1);
  assert_err_has (sold_out, "sold out");
}

static gboolean
is_ascii (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p >= 0x80)
      return FALSE;
  return TRUE;
}

static void
assert_ascii (const ReservedTestRun *run)
{
  if (!is_ascii (run->out) || !is_ascii (run->err))
    g_error ("%s printed non-ASCII under LC_ALL=C:\n%s%s", run->command_line, run->out, run->err);
}

/* reserve(1): the locale's character set is the output's. Under LC_ALL=C
 * that is ASCII, for the CLI's own words; a customer's name is still
 * printed as it was given. */
static void
test_ascii_in_c_locale (Fixture *fixture, gconstpointer data)
{
  static const char *const c_locale[] = { "LC_ALL", "C", NULL };
  static const char *const commands[][4] = {
    { "--help", NULL }, { "buy", "--help", NULL },          { "race", "--help", NULL },
    { "stauts", NULL }, { "buy", "--quantity", "x", NULL },
  };
  g_autoptr(ReservedTestRun) buy =
               reserved_test_run_reserve_with_env (c_locale, "buy", "--session", "--user", "alice",
                                                   "--quantity", "2", NULL);

  reserved_test_assert_exit (buy, 0);
  assert_ascii (buy);
  assert_out_has (buy, ": alice bought 2 x ticket; 98 left.\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autoptr(ReservedTestRun) run =
                   reserved_test_run_reserve_with_env (c_locale, commands[i][0], commands[i][1],
                                                       commands[i][2], commands[i][3], NULL);

      assert_ascii (run);
    }
}

static void
add_cases (void)
{
#define ADD RESERVED_TEST_CLI_ADD

  ADD ("/cli-conventions/options-before-command", test_options_before_command);
  ADD ("/cli-conventions/bus-from-environment", test_bus_from_environment);
  ADD ("/cli-conventions/timeout", test_timeout);
  ADD ("/cli-conventions/did-you-mean", test_did_you_mean);
  ADD ("/cli-conventions/plurals", test_plurals);
  ADD ("/cli-conventions/cancel-names-item", test_cancel_names_item);
  ADD ("/cli-conventions/not-on-sale", test_not_on_sale);
  ADD ("/cli-conventions/ascii-in-c-locale", test_ascii_in_c_locale);

#undef ADD
}

RESERVED_TEST_MAIN (add_cases, NULL)
