/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve`: the command line for reserved. This file only finds the
 * subcommand (reserve-commands.c lists them); each one lives in its own
 * reserve-NAME.c, race and bench in folders of their own. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "reserve-command.h"
#include "reserve-suggest.h"
#include "reserve-text.h"

/* The first line of a command's summary, for the list of commands. */
static char *
summary_headline (const ReserveCommand *command)
{
  const char *summary = _ (command->summary);
  const char *end = strchr (summary, '\n');

  return end != NULL ? g_strndup (summary, end - summary) : g_strdup (summary);
}

static void
print_main_help (FILE *out)
{
  fputs (_ ("Usage:\n"
            "  reserve [OPTION…] COMMAND [OPTION…]\n"
            "  reserve help COMMAND\n"
            "\n"
            "Buy and manage the limited stock that reserved sells, without overselling.\n"
            "\n"
            "Commands:\n"),
         out);
  for (const ReserveCommand *const *command = reserve_commands; *command != NULL; command++)
    {
      g_autofree char *headline = summary_headline (*command);

      fprintf (out, "  %-9s %s\n", (*command)->name, headline);
    }
  fputs (_ ("  help      Show a command's options\n"
            "\n"
            "Every command takes --session, or --system (the default), to choose the bus\n"
            "reserved is on (RESERVE_BUS=session or system in the environment chooses it\n"
            "too), --timeout SECONDS to wait for an answer (default 25), and --help.\n"
            "These and --json may also come before the command.\n"
            "\n"
            "Options:\n"
            "  -h, --help  Show this help\n"
            "  --version   Show the version of reserve\n"
            "\n"),
         out);
  fputs (_ (RESERVE_EXIT_STATUS_HELP), out);
}

static int usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "reserve: %s\n%s\n", message, _ ("Try “reserve --help”."));
  return RESERVE_EXIT_USAGE;
}

static int
unknown_command (const char *name)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  const char *meant;

  for (const ReserveCommand *const *command = reserve_commands; *command != NULL; command++)
    g_ptr_array_add (names, (gpointer) (*command)->name);
  g_ptr_array_add (names, (gpointer) "help");
  g_ptr_array_add (names, NULL);

  meant = reserve_suggest (name, (const char *const *) names->pdata);
  if (meant != NULL)
    return usage_error (_ ("unknown command “%s”; did you mean “%s”?"), name, meant);
  return usage_error (_ ("unknown command “%s”"), name);
}

/* The options every command takes may also come before it, as with git
 * and systemctl: `reserve --session status`. */
static const char *const leading_options[] = { "--session", "--system", "--json", "--timeout",
                                               NULL };
/* Of those, the ones whose value may be the next argument. */
#define LEADING_OPTION_WITH_VALUE "--timeout"

/* Finds the command after the leading options of @argv, and returns the
 * index of its name, or 0 after printing a usage error (*status). */
static int
find_command_name (int argc, char **argv, int *status)
{
  int i = 1;

  while (i < argc && argv[i][0] == '-')
    {
      g_autofree char *name = g_strndup (argv[i], strcspn (argv[i], "="));

      if (!g_strv_contains (leading_options, name))
        {
          const char *meant = reserve_suggest (name, leading_options);

          if (meant != NULL)
            *status = usage_error (_ ("unknown option %s; did you mean %s?"), name, meant);
          else
            *status = usage_error (
              _ ("unknown option %s (before the command only --session, --system, --timeout and "
                 "--json; the others go after it)"),
              name);
          return 0;
        }
      if (strcmp (name, LEADING_OPTION_WITH_VALUE) == 0 && strchr (argv[i], '=') == NULL)
        i++;
      i++;
    }
  if (i >= argc)
    {
      *status = usage_error ("%s", _ ("missing command"));
      return 0;
    }
  return i;
}

static int
run_command (const ReserveCommand *command, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  ReserveInvocation invocation = { .command = command };

  if (command->run (&invocation, argc, argv, &error))
    return RESERVE_EXIT_OK;
  return reserve_invocation_report (&invocation, error);
}

/* `reserve help COMMAND` is `reserve COMMAND --help`, so the two cannot
 * drift apart. */
static int
show_command_help (const ReserveCommand *command, char *argv0)
{
  char help_flag[] = "--help";
  char *help_argv[] = { argv0, help_flag, NULL };

  return run_command (command, G_N_ELEMENTS (help_argv) - 1, help_argv);
}

int
main (int argc, char **argv)
{
  const ReserveCommand *command;
  g_autofree char *command_argv0 = NULL;
  g_autofree char **command_argv = NULL;
  int command_index;
  int status = RESERVE_EXIT_OK;

  setlocale (LC_ALL, "");
  reserve_text_init ();

  if (argc < 2)
    {
      print_main_help (stderr);
      return RESERVE_EXIT_USAGE;
    }

  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      print_main_help (stdout);
      return RESERVE_EXIT_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("reserve %s\n", RESERVED_VERSION);
      return RESERVE_EXIT_OK;
    }

  if (strcmp (argv[1], "help") == 0)
    {
      if (argc == 2)
        {
          print_main_help (stdout);
          return RESERVE_EXIT_OK;
        }
      if (argc > 3)
        return usage_error (_ ("unexpected argument “%s”"), argv[3]);
      command = reserve_find_command (argv[2]);
      if (command == NULL)
        return unknown_command (argv[2]);
      command_argv0 = g_strconcat ("reserve ", command->name, NULL);
      return show_command_help (command, command_argv0);
    }

  command_index = find_command_name (argc, argv, &status);
  if (command_index == 0)
    return status;
  command = reserve_find_command (argv[command_index]);
  if (command == NULL)
    return unknown_command (argv[command_index]);

  /* The command's own argv: its name, the options that came before it,
   * then what followed it. GOption names the program after argv[0] in the
   * usage line: "reserve buy [OPTION…]". */
  command_argv0 = g_strconcat ("reserve ", command->name, NULL);
  command_argv = g_new0 (char *, argc + 1);
  command_argv[0] = command_argv0;
  memcpy (command_argv + 1, argv + 1, (command_index - 1) * sizeof (char *));
  memcpy (command_argv + command_index, argv + command_index + 1,
          (argc - command_index - 1) * sizeof (char *));
  return run_command (command, argc - 1, command_argv);
}
