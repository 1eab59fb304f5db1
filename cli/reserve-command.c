/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "reserve-command.h"

#include <stdio.h>
#include <string.h>

#include "reserve-client.h"
#include "reserve-json.h"
#include "reserve-output.h"
#include "reserve-suggest.h"
#include "reserve-text.h"
#include "reserve-validate.h"

#define TIMEOUT_SECONDS_MAX 86400

static int call_timeout_msec = -1;

int
reserve_call_timeout_msec (void)
{
  return call_timeout_msec;
}

/* The long names of @entries ("--json"), added to @names. */
static void
add_long_names (GPtrArray *names, const GOptionEntry *entries)
{
  for (guint i = 0; entries != NULL && entries[i].long_name != NULL; i++)
    g_ptr_array_add (names, g_strconcat ("--", entries[i].long_name, NULL));
}

/* GOption's "Unknown option --quantiy" becomes ours, with the option the
 * user probably meant. @words is the command line as typed. */
static void
suggest_option (GError *error, char **words, const GOptionEntry *const *entry_lists, guint n_lists)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < n_lists; i++)
    add_long_names (names, entry_lists[i]);
  g_ptr_array_add (names, NULL);

  for (guint i = 1; words[i] != NULL && strcmp (words[i], "--") != 0; i++)
    {
      g_autofree char *name = g_strndup (words[i], strcspn (words[i], "="));
      const char *meant;

      if (!g_str_has_prefix (name, "--") ||
          g_strv_contains ((const char *const *) names->pdata, name))
        continue;
      meant = reserve_suggest (name, (const char *const *) names->pdata);
      g_free (error->message);
      error->message = meant != NULL
                         ? g_strdup_printf (_ ("unknown option %s; did you mean %s?"), name, meant)
                         : g_strdup_printf (_ ("unknown option %s"), name);
      return;
    }
}

/* RESERVE_BUS chooses the bus when neither --session nor --system does. */
static gboolean
bus_from_environment (GBusType *bus_type, GError **error)
{
  const char *value = g_getenv ("RESERVE_BUS");

  if (value == NULL || *value == '\0' || strcmp (value, "system") == 0)
    *bus_type = G_BUS_TYPE_SYSTEM;
  else if (strcmp (value, "session") == 0)
    *bus_type = G_BUS_TYPE_SESSION;
  else
    {
      g_autofree char *described = reserve_describe_text (value);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("RESERVE_BUS=%s: allowed are session and system"), described);
      return FALSE;
    }
  return TRUE;
}

void
reserve_command_count_arguments (const ReserveCommand *command, guint *min, guint *max)
{
  guint depth = 0;
  gboolean repeats = FALSE;

  *min = 0;
  *max = 0;
  for (const char *p = command->parameters; *p != '\0';)
    {
      gsize length = strcspn (p, " []");

      if (length == 0)
        {
          depth += *p == '[';
          depth -= *p == ']';
          p++;
          continue;
        }
      if (strncmp (p, "--", length) != 0)
        {
          *min += depth == 0;
          *max += 1;
        }
      repeats |= g_strstr_len (p, length, "…") != NULL;
      p += length;
    }
  if (repeats)
    *max = G_MAXUINT;
}

static gboolean
check_argument_count (const ReserveInvocation *invocation, GError **error)
{
  const ReserveCommand *command = invocation->command;
  guint min_arguments, max_arguments;

  reserve_command_count_arguments (command, &min_arguments, &max_arguments);
  if (invocation->n_arguments < min_arguments)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _ ("missing %s"),
                   command->parameters);
      return FALSE;
    }
  if (invocation->n_arguments > max_arguments)
    {
      g_autofree char *extra = reserve_describe_text (invocation->arguments[max_arguments]);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _ ("unexpected argument %s"),
                   extra);
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
  g_autofree char *timeout_text = NULL;
  g_auto(GStrv) words = g_strdupv (*argv);
  g_autoptr(GError) parse_error = NULL;
  guint64 timeout_seconds = 0;
  const GOptionEntry shared_entries[] = {
    { "session", 0, 0, G_OPTION_ARG_NONE, &session, N_ ("Talk to reserved on the session bus"),
      NULL },
    { "system", 0, 0, G_OPTION_ARG_NONE, &system,
      N_ ("Talk to reserved on the system bus (the default)"), NULL },
    { "timeout", 0, 0, G_OPTION_ARG_FILENAME, &timeout_text,
      N_ ("Seconds to wait for each answer, 1 to 86400 (default: 25)"), "SECONDS" },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, N_ ("Show this help"), NULL },
    { NULL }
  };
  const GOptionEntry json_entries[] = { { "json", 0, 0, G_OPTION_ARG_NONE, &invocation->json,
                                          N_ ("Print the answer as JSON"), NULL },
                                        { NULL } };
  g_autoptr(GOptionContext) context = g_option_context_new (command->parameters);

  /* GOption translates the entries, the summary and the description. */
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, command->summary);
  g_option_context_set_description (context, RESERVE_EXIT_STATUS_HELP);
  /* GOption's own --help exits the process from inside the parser; ours
   * returns, so `reserve help COMMAND` and the leak checkers see a normal
   * exit. */
  g_option_context_set_help_enabled (context, FALSE);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (command->has_json)
    g_option_context_add_main_entries (context, json_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, shared_entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, argc, argv, &parse_error))
    {
      /* A usage error of a --json command line is reported as JSON too.
       * (GOption puts back the values it set before the error.) */
      invocation->json =
        command->has_json && g_strv_contains ((const char *const *) words, "--json");
      if (g_error_matches (parse_error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION))
        {
          const GOptionEntry *const entry_lists[] = { entries,
                                                      command->has_json ? json_entries : NULL,
                                                      shared_entries };

          suggest_option (parse_error, words, entry_lists, G_N_ELEMENTS (entry_lists));
        }
      g_propagate_error (error, g_steal_pointer (&parse_error));
      return FALSE;
    }

  if (help)
    {
      g_autofree char *text = g_option_context_get_help (context, TRUE, NULL);
      g_autofree char *shown = reserve_text_for_locale (text);

      fputs (shown, stdout);
      invocation->help_shown = TRUE;
      return FALSE;
    }

  if (session && system)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _ ("--session and --system cannot be used together"));
      return FALSE;
    }
  invocation->bus_flag = session ? "--session" : system ? "--system" : NULL;
  if (session)
    invocation->bus_type = G_BUS_TYPE_SESSION;
  else if (system)
    invocation->bus_type = G_BUS_TYPE_SYSTEM;
  else if (!bus_from_environment (&invocation->bus_type, error))
    return FALSE;

  invocation->timeout_msec = -1;
  if (timeout_text != NULL)
    {
      if (!reserve_parse_number ("--timeout", timeout_text, 1, TIMEOUT_SECONDS_MAX,
                                 &timeout_seconds, error))
        return FALSE;
      invocation->timeout_msec = (int) timeout_seconds * 1000;
    }
  call_timeout_msec = invocation->timeout_msec;

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

gboolean
reserve_invocation_get_item (const ReserveInvocation *invocation, const char **item, GError **error)
{
  *item = reserve_invocation_get_argument (invocation, 0);
  return *item == NULL || reserve_check_item_name (*item, error);
}

gboolean
reserve_invocation_get_id (const ReserveInvocation *invocation,
                           const char *what,
                           guint64 *id,
                           GError **error)
{
  return reserve_parse_number (what, reserve_invocation_get_argument (invocation, 0), 1,
                               G_MAXUINT64, id, error);
}

/* Under --json a failure is one JSON object on stderr, so a script reads
 * why as it reads the answer: {"error": KIND, "message": ..., "exit_status": N}. */
static void
print_error_json (const char *kind, const char *message, ReserveExitStatus status)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  reserve_json_add_string (builder, "error", kind);
  reserve_json_add_string (builder, "message", message);
  reserve_json_add_int (builder, "exit_status", status);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = reserve_json_to_text (root, FALSE);
  fprintf (stderr, "%s\n", text);
}

ReserveExitStatus
reserve_invocation_report (const ReserveInvocation *invocation, GError *error)
{
  g_autofree char *kind = NULL;
  g_autofree char *message = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *hint = NULL;
  ReserveExitStatus status;

  if (error == NULL)
    return RESERVE_EXIT_OK;

  if (error->domain == G_OPTION_ERROR)
    {
      kind = g_strdup ("Usage");
      message = g_strdup (error->message);
      hint = g_strdup_printf (_ ("Try “reserve %s --help”."), invocation->command->name);
      status = RESERVE_EXIT_USAGE;
    }
  else
    status = reserve_client_describe_error (invocation->bus_type, error, &kind, &message);

  if (invocation->json)
    {
      print_error_json (kind, message, status);
      return status;
    }
  /* A message is the CLI's words or the daemon's, not data: shown as the
   * locale can show it. */
  shown = reserve_text_for_locale (message);
  fprintf (stderr, "reserve: %s\n", shown);
  if (hint != NULL)
    fprintf (stderr, "%s\n", hint);
  return status;
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
  if (g_error_matches (parse_error, G_NUMBER_PARSER_ERROR, G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS))
    /* TRANSLATORS: "--quantity “0” is out of range: allowed is 1 to 10000" */
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 _ ("%s %s is out of range: allowed is %llu to %llu"), flag, described,
                 (unsigned long long) min, (unsigned long long) max);
  else
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 _ ("%s %s is not a number: allowed is %llu to %llu"), flag, described,
                 (unsigned long long) min, (unsigned long long) max);
  return FALSE;
}

gboolean
reserve_parse_optional_number (const char *flag,
                               const char *text,
                               guint64 min,
                               guint64 max,
                               guint64 fallback,
                               guint64 *number,
                               GError **error)
{
  *number = fallback;
  return text == NULL || reserve_parse_number (flag, text, min, max, number, error);
}

gboolean
reserve_require_flag (const char *flag, const char *value, GError **error)
{
  if (value != NULL)
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _ ("%s is required"), flag);
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
