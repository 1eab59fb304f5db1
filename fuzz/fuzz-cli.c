/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the command line of `reserve`, up to the point where a
 * subcommand would talk to the bus. The input is an argv: words separated
 * by NUL bytes, the first one naming the subcommand (buy, cancel, status,
 * items, orders, create, restock, retire, limit, sale-window, watch, wait,
 * waitlist, leave), the rest its arguments, as main() hands them over.
 *
 * Each subcommand parses and checks everything it was given before its
 * first call to reserve_client_connect(). This target links the real
 * subcommands (the library cli/ builds, with its list of commands) with its
 * own reserve_client_*() in place of reserve-client.c: its "connection" records that the bus was reached and
 * fails, so nothing beyond the parsing runs, and no bus is needed.
 *
 * What must hold: a subcommand succeeds only by printing its --help;
 * anything else fails with an error that has a message, and every failure
 * before the bus is a usage error (G_OPTION_ERROR, exit status 2); what
 * reaches the bus has the positional arguments the command takes, already
 * checked. `reserve race` and `reserve bench` are left out: past their
 * parsing they start processes and open databases. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "fuzz-log.h"
#include "reserve-bench.h"
#include "reserve-client.h"
#include "reserve-command.h"
#include "reserve-race.h"
#include "reserve-validate.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Past their parsing these start processes and open databases. */
static gboolean
is_left_out (const ReserveCommand *command)
{
  return command == &reserve_race_command || command == &reserve_bench_command;
}

/* The command being run and its words, for the stand-in connection. */
static const ReserveInvocation *current_invocation;
static char *const *current_words;
static gboolean reached_bus;

static GQuark
bus_reached_quark (void)
{
  return g_quark_from_static_string ("reserve-fuzz-bus-reached");
}

static gboolean
is_one_of_the_words (const char *argument)
{
  for (char *const *word = current_words; *word != NULL; word++)
    if (*word == argument)
      return TRUE;
  return FALSE;
}

/* The positional arguments a command sends to the bus are those it
 * documents, checked as the daemon would check them. */
static void
assert_checked_arguments (const ReserveInvocation *invocation)
{
  const ReserveCommand *command = invocation->command;
  const char *first = reserve_invocation_get_argument (invocation, 0);
  guint min_arguments, max_arguments;

  g_assert_false (invocation->help_shown);
  g_assert_true (invocation->bus_type == G_BUS_TYPE_SYSTEM ||
                 invocation->bus_type == G_BUS_TYPE_SESSION);
  reserve_command_count_arguments (command, &min_arguments, &max_arguments);
  g_assert_cmpuint (invocation->n_arguments, >=, min_arguments);
  g_assert_cmpuint (invocation->n_arguments, <=, max_arguments);
  for (guint i = 0; i < invocation->n_arguments; i++)
    g_assert_true (is_one_of_the_words (invocation->arguments[i]));

  if (command == &reserve_cancel_command || command == &reserve_leave_command)
    g_assert_true (g_ascii_string_to_unsigned (first, 10, 1, G_MAXUINT64, NULL, NULL));
  else if (command == &reserve_create_command || command == &reserve_restock_command ||
           command == &reserve_retire_command || command == &reserve_limit_command ||
           command == &reserve_sale_window_command ||
           ((command == &reserve_status_command || command == &reserve_waitlist_command) &&
            first != NULL))
    g_assert_true (reserve_validate_item_name (first, NULL));
}

ReserveReserve1 *
reserve_client_connect (GBusType bus_type, GError **error)
{
  g_assert_nonnull (current_invocation);
  g_assert_false (reached_bus);
  g_assert_true (bus_type == current_invocation->bus_type);
  assert_checked_arguments (current_invocation);
  reached_bus = TRUE;
  g_set_error_literal (error, bus_reached_quark (), 0, "the bus was reached");
  return NULL;
}

/* Only `reserve bench --bus` makes a proxy on a connection of its own, and
 * bench is left out (is_left_out): never reached. */
ReserveReserve1 *
reserve_client_proxy_new (GDBusConnection *connection, GError **error)
{
  g_assert_not_reached ();
}

char *
reserve_client_resolve_item (ReserveReserve1 *proxy, const char *item, GError **error)
{
  g_assert_not_reached ();
}

void
reserve_client_explain_refusal (ReserveReserve1 *proxy, const char *item, GError *error)
{
  g_assert_not_reached ();
}

ReserveExitStatus
reserve_client_describe_error (GBusType bus_type, GError *error, char **kind, char **message)
{
  g_assert_not_reached ();
}

/* NUL-separated words; a NUL at the very end ends the last word rather than
 * starting an empty one. */
static char **
split_words (const uint8_t *data, size_t size)
{
  GPtrArray *words = g_ptr_array_new ();
  const char *start = (const char *) data;
  const char *end = start + size;

  while (start < end)
    {
      const char *nul = memchr (start, '\0', end - start);
      const char *word_end = nul != NULL ? nul : end;

      g_ptr_array_add (words, g_strndup (start, word_end - start));
      start = word_end + 1;
    }
  g_ptr_array_add (words, NULL);
  return (char **) g_ptr_array_free (words, FALSE);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* --help prints pages to stdout; the fuzzer reports on stderr. */
  int null_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);

  reserve_fuzz_abort_on_warnings ();
  g_assert_cmpint (null_fd, >=, 0);
  g_assert_cmpint (dup2 (null_fd, STDOUT_FILENO), ==, STDOUT_FILENO);
  close (null_fd);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_auto(GStrv) words = split_words (data, size);
  const ReserveCommand *command = words[0] != NULL ? reserve_find_command (words[0]) : NULL;
  guint n_words = g_strv_length (words);
  g_autofree char *argv0 = NULL;
  g_autofree char **argv = NULL;
  g_autoptr(GError) error = NULL;
  ReserveInvocation invocation = { 0 };
  gboolean succeeded;

  if (command == NULL || is_left_out (command))
    return 0;

  /* As main() does: argv[0] is "reserve NAME", then the words after the
   * name. GOption reorders and drops entries of argv, so it gets its own
   * array and the words are freed from theirs. */
  argv0 = g_strconcat ("reserve ", command->name, NULL);
  argv = g_new0 (char *, n_words + 1);
  argv[0] = argv0;
  memcpy (argv + 1, words + 1, (n_words - 1) * sizeof (char *));

  invocation.command = command;
  current_invocation = &invocation;
  current_words = words;
  reached_bus = FALSE;
  succeeded = command->run (&invocation, (int) n_words, argv, &error);
  current_invocation = NULL;
  current_words = NULL;

  if (succeeded)
    {
      g_assert_no_error (error);
      g_assert_true (invocation.help_shown);
      g_assert_false (reached_bus);
      return 0;
    }
  g_assert_nonnull (error);
  g_assert_cmpuint (strlen (error->message), >, 0);
  if (reached_bus)
    g_assert_true (error->domain == bus_reached_quark ());
  else
    g_assert_true (error->domain == G_OPTION_ERROR);
  return 0;
}
