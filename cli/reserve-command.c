/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-command.h"

#include <stdio.h>

#include "reserve-client.h"
#include "reserve-validate.h"

static gboolean
check_argument_count (const ReserveInvocation *invocation, GError **error)
{
  const ReserveCommand *command = invocation->command;

  if (invocation->n_arguments < command->min_arguments)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "missing %s", command->parameters);
      return FALSE;
    }
  if (invocation->n_arguments > command->max_arguments)
    {
      g_autofree char *extra =
        reserve_describe_text (invocation->arguments[command->max_arguments]);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "unexpected argument %s", extra);
      return FALSE;
    }
  return TRUE;
}

gboolean
reserve_invocation_parse (ReserveInvocation *invocation,
                          const GOptionEntry *entries,
                          int *argc,
                          char ***argv,
                          GError **error)
{
  const ReserveCommand *command = invocation->command;
  gboolean session = FALSE;
  gboolean system = FALSE;
  gboolean help = FALSE;
  const GOptionEntry shared_entries[] = {
    { "session", 0, 0, G_OPTION_ARG_NONE, &session, "Talk to reserved on the session bus", NULL },
    { "system", 0, 0, G_OPTION_ARG_NONE, &system,
      "Talk to reserved on the system bus (the default)", NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
    { NULL }
  };
  const GOptionEntry json_entries[] = { { "json", 0, 0, G_OPTION_ARG_NONE, &invocation->json,
                                          "Print the answer as JSON", NULL },
                                        { NULL } };
  g_autoptr(GOptionContext) context = g_option_context_new (command->parameters);

  g_option_context_set_summary (context, command->summary);
  g_option_context_set_description (context, RESERVE_EXIT_STATUS_HELP);
  /* GOption's own --help exits the process from inside the parser; ours
   * returns, so `reserve help COMMAND` and the leak checkers see a normal
   * exit. */
  g_option_context_set_help_enabled (context, FALSE);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  if (command->has_json)
    g_option_context_add_main_entries (context, json_entries, NULL);
  g_option_context_add_main_entries (context, shared_entries, NULL);

  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (help)
    {
      g_autofree char *text = g_option_context_get_help (context, TRUE, NULL);

      fputs (text, stdout);
      invocation->help_shown = TRUE;
      return FALSE;
    }

  if (session && system)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           "--session and --system cannot be used together");
      return FALSE;
    }
  invocation->bus_type = session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM;

  /* argv[0] is the command itself; the rest is what GOption left over. */
  invocation->arguments = *argv + 1;
  invocation->n_arguments = *argc - 1;
  return check_argument_count (invocation, error);
}

const char *
reserve_invocation_get_argument (const ReserveInvocation *invocation, guint index)
{
  return index < invocation->n_arguments ? invocation->arguments[index] : NULL;
}

ReserveExitStatus
reserve_invocation_report (const ReserveInvocation *invocation, GError *error)
{
  if (error == NULL)
    return RESERVE_EXIT_OK;

  if (error->domain == G_OPTION_ERROR)
    {
      fprintf (stderr, "reserve: %s\nTry “reserve %s --help”.\n", error->message,
               invocation->command->name);
      return RESERVE_EXIT_USAGE;
    }

  return reserve_client_report_error (invocation->bus_type, error);
}

gboolean
reserve_parse_number (const char *flag,
                      const char *text,
                      guint64 min,
                      guint64 max,
                      guint64 *number,
                      GError **error)
{
  g_autoptr(GError) parse_error = NULL;
  g_autofree char *described = NULL;

  if (!reserve_require_flag (flag, text, error))
    return FALSE;
  if (g_ascii_string_to_unsigned (text, 10, min, max, number, &parse_error))
    return TRUE;

  described = reserve_describe_text (text);
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "%s %s %s: allowed is %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT, flag, described,
               g_error_matches (parse_error, G_NUMBER_PARSER_ERROR,
                                G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS)
                 ? "is out of range"
                 : "is not a number",
               min, max);
  return FALSE;
}

gboolean
reserve_require_flag (const char *flag, const char *value, GError **error)
{
  if (value != NULL)
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "%s is required", flag);
  return FALSE;
}

/* The validators speak RESERVE_ERROR like the daemon does; a mistake caught
 * here is the user's, so it becomes a usage error with the same words. */
static gboolean
check_as_usage (gboolean (*validate) (const char *text, GError **error),
                const char *text,
                GError **error)
{
  g_autoptr(GError) invalid = NULL;

  if (validate (text, &invalid))
    return TRUE;
  g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, invalid->message);
  return FALSE;
}

gboolean
reserve_check_item_name (const char *item, GError **error)
{
  return check_as_usage (reserve_validate_item_name, item, error);
}

gboolean
reserve_check_user_name (const char *user, GError **error)
{
  return check_as_usage (reserve_validate_user_name, user, error);
}

gboolean
reserve_check_request_id (const char *request_id, GError **error)
{
  return check_as_usage (reserve_validate_request_id, request_id, error);
}
