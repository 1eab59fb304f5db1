/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running `reserve` from the tests; see reserved-test-cli.h. */
#include "config.h"

#include "reserved-test-cli.h"

#include <string.h>
#include <sys/wait.h>

#include "reserved-test-error.h"
#include "reserved-test-main.h"

void
reserved_test_run_free (ReservedTestRun *run)
{
  g_free (run->command_line);
  g_free (run->out);
  g_free (run->err);
  g_free (run);
}

static void
add_wrapper (GPtrArray *argv)
{
  const char *wrapper = g_getenv ("RESERVE_TEST_CLI_WRAPPER");
  g_auto(GStrv) words = NULL;
  g_autoptr(GError) error = NULL;

  if (wrapper == NULL || *wrapper == '\0')
    return;
  g_shell_parse_argv (wrapper, NULL, &words, &error);
  g_assert_no_error (error);
  for (guint i = 0; words[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (words[i]));
}

ReservedTestRun *
reserved_test_run_reserve_va (const char *const *extra_env, const char *first_arg, va_list args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) envp = g_get_environ ();
  g_autoptr(GError) error = NULL;
  ReservedTestRun *run = g_new0 (ReservedTestRun, 1);
  int wait_status = 0;

  add_wrapper (argv);
  g_ptr_array_add (argv, g_strdup (reserved_test_binary ("RESERVE_BINARY")));
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, g_strdup (arg));
  g_ptr_array_add (argv, NULL);
  run->command_line = g_strjoinv (" ", (char **) argv->pdata);

  for (guint i = 0; extra_env != NULL && extra_env[i] != NULL; i += 2)
    envp = g_environ_setenv (envp, extra_env[i], extra_env[i + 1], TRUE);

  g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_SEARCH_PATH, NULL, NULL, &run->out,
                &run->err, &wait_status, &error);
  g_assert_no_error (error);
  if (!WIFEXITED (wait_status))
    g_error ("%s did not exit normally (wait status 0x%x); stderr:\n%s", run->command_line,
             (guint) wait_status, run->err);
  run->exit_status = WEXITSTATUS (wait_status);
  g_test_message ("%s -> %d\nstdout:\n%sstderr:\n%s", run->command_line, run->exit_status, run->out,
                  run->err);
  return run;
}

ReservedTestRun *
reserved_test_run_reserve_with_env (const char *const *extra_env, const char *first_arg, ...)
{
  va_list args;
  ReservedTestRun *run;

  va_start (args, first_arg);
  run = reserved_test_run_reserve_va (extra_env, first_arg, args);
  va_end (args);
  return run;
}

ReservedTestRun *
reserved_test_run_ok (const char *first_arg, ...)
{
  va_list args;
  ReservedTestRun *run;

  va_start (args, first_arg);
  run = reserved_test_run_reserve_va (NULL, first_arg, args);
  va_end (args);
  reserved_test_assert_exit (run, 0);
  return run;
}

void
reserved_test_reserve_fails (int expected_exit, const char *needle, const char *first_arg, ...)
{
  g_autoptr(ReservedTestRun) run = NULL;
  va_list args;

  va_start (args, first_arg);
  run = reserved_test_run_reserve_va (NULL, first_arg, args);
  va_end (args);
  reserved_test_assert_exit (run, expected_exit);
  reserved_test_assert_contains (run->err, needle);
}

const char *const reserved_test_item_status_keys[] = {
  "item",     "capacity", "remaining", "sold", "per_user_limit", "retired", "sale_start",
  "sale_end", "on_sale",  "waiting",   NULL
};

JsonNode *
reserved_test_run_json (const char *first_arg, ...)
{
  g_autoptr(ReservedTestRun) run = NULL;
  va_list args;

  va_start (args, first_arg);
  run = reserved_test_run_reserve_va (NULL, first_arg, args);
  va_end (args);
  reserved_test_assert_completed (run);
  return reserved_test_parse_json (run->out);
}

GSubprocess *
reserved_test_spawn_reserve (const char *first_arg, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;
  va_list args;

  add_wrapper (argv);
  g_ptr_array_add (argv, g_strdup (reserved_test_binary ("RESERVE_BINARY")));
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process =
    g_subprocess_newv ((const char *const *) argv->pdata,
                       G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  return process;
}

char *
reserved_test_spawn_finish (GSubprocess *process)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  if (g_subprocess_get_exit_status (process) != 0)
    g_error ("reserve exited with %d; its output:\n%s", g_subprocess_get_exit_status (process),
             out);
  return g_steal_pointer (&out);
}

void
reserved_test_assert_exit (const ReservedTestRun *run, int expected)
{
  if (run->exit_status != expected)
    g_error ("%s: expected exit status %d, got %d\nstdout:\n%sstderr:\n%s", run->command_line,
             expected, run->exit_status, run->out, run->err);
}

void
reserved_test_assert_contains (const char *text, const char *part)
{
  if (strstr (text, part) == NULL)
    g_error ("“%s” not found in:\n%s", part, text);
}

void
reserved_test_assert_completed (const ReservedTestRun *run)
{
  reserved_test_assert_exit (run, 0);
  if (run->err[0] != '\0')
    g_error ("%s wrote on stderr:\n%s", run->command_line, run->err);
}

guint64
reserved_test_match_number (const char *pattern, GRegexCompileFlags flags, const char *text)
{
  g_autoptr(GRegex) regex = g_regex_new (pattern, flags, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *digits = NULL;
  guint64 number = 0;

  g_assert_nonnull (regex);
  if (!g_regex_match (regex, text, 0, &match))
    g_error ("no match for /%s/ in:\n%s", pattern, text);
  digits = g_match_info_fetch (match, 1);
  g_assert_true (g_ascii_string_to_unsigned (digits, 10, 1, G_MAXUINT64, &number, NULL));
  return number;
}

char *
reserved_test_match_id (const char *pattern, const char *text)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT, reserved_test_match_number (pattern, 0, text));
}

JsonNode *
reserved_test_parse_json (const char *text)
{
  g_autoptr(GError) error = NULL;

  return reserved_test_ok (json_from_string (text, &error), &error);
}

void
reserved_test_json_assert_keys (JsonObject *object, const char *const *keys)
{
  g_assert_nonnull (object);
  for (guint i = 0; keys[i] != NULL; i++)
    if (!json_object_has_member (object, keys[i]))
      g_error ("JSON object lacks “%s”", keys[i]);
  g_assert_cmpuint (json_object_get_size (object), ==, g_strv_length ((char **) keys));
}

static JsonNode *
member (JsonObject *object, const char *name, GType type)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    g_error ("JSON object lacks “%s”", name);
  g_assert_cmpint (json_node_get_value_type (node), ==, type);
  return node;
}

gint64
reserved_test_json_int (JsonObject *object, const char *name)
{
  return json_node_get_int (member (object, name, G_TYPE_INT64));
}

const char *
reserved_test_json_string (JsonObject *object, const char *name)
{
  return json_node_get_string (member (object, name, G_TYPE_STRING));
}

void
reserved_test_cli_fixture_set_up (ReservedTestCliFixture *fixture, gconstpointer data)
{
  fixture->daemon = reserved_test_daemon_new ();
  reserved_test_daemon_write_config (fixture->daemon, "[reserved]\n");
  reserved_test_daemon_start (fixture->daemon);
}

void
reserved_test_cli_fixture_tear_down (ReservedTestCliFixture *fixture, gconstpointer data)
{
  if (reserved_test_daemon_get_process (fixture->daemon) != NULL)
    reserved_test_daemon_stop (fixture->daemon);
  g_clear_pointer (&fixture->daemon, reserved_test_daemon_free);
}

void
reserved_test_json_assert_ints (JsonObject *object, const char *first_name, ...)
{
  va_list args;

  va_start (args, first_name);
  for (const char *name = first_name; name != NULL; name = va_arg (args, const char *))
    {
      int expected = va_arg (args, int);
      gint64 value = reserved_test_json_int (object, name);

      if (value != expected)
        g_error ("“%s” is %" G_GINT64_FORMAT ", expected %d", name, value, expected);
    }
  va_end (args);
}
