/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve`: the command line for reserved. This file only finds the
 * subcommand (reserve-commands.c lists them); each one lives in its own
 * reserve-NAME.c, race and bench in folders of their own. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "reserve-command.h"

/* The first line of a command's summary, for the list of commands. */
static char *
summary_headline (const ReserveCommand *command)
{
  const char *end = strchr (command->summary, '\n');

  return end != NULL ? g_strndup (command->summary, end - command->summary)
                     : g_strdup (command->summary);
}

static void
print_main_help (FILE *out)
{
  fputs ("Usage:\n"
         "  reserve COMMAND [OPTION…]\n"
         "  reserve help COMMAND\n"
         "\n"
         "Buy and manage the limited stock that reserved sells, without overselling.\n"
         "\n"
         "Commands:\n",
         out);
  for (const ReserveCommand *const *command = reserve_commands; *command != NULL; command++)
    {
      g_autofree char *headline = summary_headline (*command);

      fprintf (out, "  %-9s %s\n", (*command)->name, headline);
    }
  fputs ("  help      Show a command's options\n"
         "\n"
         "Every command takes --session, or --system (the default), to choose the bus\n"
         "reserved is on, and --help.\n"
         "\n"
         "Options:\n"
         "  -h, --help  Show this help\n"
         "  --version   Show the version of reserve\n"
         "\n" RESERVE_EXIT_STATUS_HELP,
         out);
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
  fprintf (stderr, "reserve: %s\nTry “reserve --help”.\n", message);
  return RESERVE_EXIT_USAGE;
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

  setlocale (LC_ALL, "");

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
        return usage_error ("unexpected argument “%s”", argv[3]);
      command = reserve_find_command (argv[2]);
      if (command == NULL)
        return usage_error ("unknown command “%s”", argv[2]);
      command_argv0 = g_strconcat ("reserve ", command->name, NULL);
      return show_command_help (command, command_argv0);
    }

  if (argv[1][0] == '-')
    return usage_error ("unknown option %s (options go after the command)", argv[1]);
  command = reserve_find_command (argv[1]);
  if (command == NULL)
    return usage_error ("unknown command “%s”", argv[1]);

  /* GOption names the program after argv[0] in the usage line:
   * "reserve buy [OPTION…]". */
  command_argv0 = g_strconcat ("reserve ", command->name, NULL);
  argv[1] = command_argv0;
  return run_command (command, argc - 1, argv + 1);
}
