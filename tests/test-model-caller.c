/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-model-caller.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserved-test-daemon.h"

struct _ModelCaller {
  char *name;
  uid_t uid;
  GPid pid;
  FILE *requests; /* to the helper's stdin */
  FILE *answers;  /* from the helper's stdout */
};

/* --- the test's side --------------------------------------------------------- */

ModelCaller *
model_caller_spawn (const char *name, const char *address, uid_t uid)
{
  ModelCaller *caller = g_new0 (ModelCaller, 1);
  const char *args[] = { MODEL_CALLER_HELPER, address, NULL };

  caller->name = g_strdup (name);
  caller->uid = uid;
  caller->pid = reserved_test_spawn_conversation (args, uid, &caller->requests, &caller->answers);
  return caller;
}

void
model_caller_free (ModelCaller *caller)
{
  g_autofree char *what = NULL;

  if (caller == NULL)
    return;
  what = g_strdup_printf ("caller %s (uid %u)", caller->name, (guint) caller->uid);
  /* The end of its input is the helper's signal to disconnect and exit. */
  fclose (caller->requests);
  fclose (caller->answers);
  reserved_test_wait_helper (caller->pid, what);
  g_free (caller->name);
  g_free (caller);
}

const char *
model_caller_get_name (ModelCaller *caller)
{
  return caller->name;
}

uid_t
model_caller_get_uid (ModelCaller *caller)
{
  return caller->uid;
}

void
model_outcome_clear (ModelOutcome *outcome)
{
  g_clear_pointer (&outcome->reply, g_variant_unref);
  g_clear_pointer (&outcome->error_name, g_free);
  g_clear_pointer (&outcome->failure, g_free);
  g_clear_pointer (&outcome->message, g_free);
}

static void
set_failure (ModelOutcome *outcome, ModelCaller *caller, const char *what, const char *line)
{
  outcome->failure =
    g_strdup_printf ("caller %s (uid %u) %s%s%s", caller->name, (guint) caller->uid, what,
                     line != NULL ? ": " : "", line != NULL ? line : "");
}

void
model_caller_call (ModelCaller *caller,
                   const char *method,
                   GVariant *parameters,
                   ModelOutcome *outcome)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (parameters);
  g_autofree char *text = g_variant_print (owned, TRUE);
  g_autofree char *line = NULL;
  g_auto(GStrv) fields = NULL;
  size_t size = 0;
  ssize_t len;

  memset (outcome, 0, sizeof *outcome);
  outcome->method = method;
  if (fprintf (caller->requests, "%s\t%s\n", method, text) < 0 || fflush (caller->requests) != 0)
    {
      set_failure (outcome, caller, "could not be sent the call", g_strerror (errno));
      return;
    }
  len = getline (&line, &size, caller->answers);
  if (len <= 0)
    {
      set_failure (outcome, caller, "exited without answering", NULL);
      return;
    }
  if (line[len - 1] == '\n')
    line[len - 1] = '\0';

  fields = g_strsplit (line, "\t", 3);
  if (g_str_equal (fields[0], "ok") && fields[1] != NULL && fields[2] == NULL)
    {
      g_autoptr(GError) error = NULL;

      outcome->reply = g_variant_parse (NULL, fields[1], NULL, NULL, &error);
      if (outcome->reply == NULL)
        set_failure (outcome, caller, "gave a reply that does not parse", fields[1]);
    }
  else if (g_str_equal (fields[0], "error") && fields[1] != NULL && fields[2] != NULL)
    {
      outcome->error_name = g_strdup (fields[1]);
      outcome->message = g_strcompress (fields[2]);
    }
  else if (g_str_equal (fields[0], "failure") && fields[1] != NULL)
    outcome->failure = g_strdup_printf ("caller %s (uid %u): %s", caller->name, (guint) caller->uid,
                                        line + strlen ("failure\t"));
  else
    set_failure (outcome, caller, "answered with an unreadable line", line);
}

/* --- the helper's side ------------------------------------------------------- */

static void
serve_one (GDBusConnection *connection, char *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) parameters = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *escaped = NULL;
  char *tab = strchr (request, '\t');
  ReserveError code;

  if (tab == NULL)
    {
      reserved_test_helper_say ("failure\tthe request has no tab\n");
      return;
    }
  *tab = '\0';
  parameters = g_variant_parse (NULL, tab + 1, NULL, NULL, &error);
  if (parameters == NULL || !g_variant_is_of_type (parameters, G_VARIANT_TYPE_TUPLE))
    {
      reserved_test_helper_say ("failure\tthe parameters are not a tuple\n");
      return;
    }

  /* The well-known name, not a proxy: the call reaches whichever daemon
   * owns the name now, also after a restart. */
  reply = g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                       RESERVE_INTERFACE, request, parameters, NULL,
                                       G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       (int) reserved_test_timeout_seconds () * 1000, NULL, &error);
  if (reply != NULL)
    {
      g_autofree char *printed = g_variant_print (reply, TRUE);

      reserved_test_helper_say ("ok\t%s\n", printed);
      return;
    }
  if (reserve_error_get_code (error, &code))
    {
      /* The message as the daemon wrote it, without GDBus's prefix. */
      g_dbus_error_strip_remote_error (error);
      escaped = g_strescape (error->message, NULL);
      reserved_test_helper_say ("error\t%s\t%s\n", reserve_error_to_name (code), escaped);
    }
  else
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);

      escaped = g_strescape (error->message, NULL);
      reserved_test_helper_say ("failure\t%s: %s\n",
                                remote != NULL ? remote : g_quark_to_string (error->domain),
                                escaped);
    }
}

int
model_caller_serve (char **args)
{
  g_autoptr(GDBusConnection) connection = reserved_test_connect (args[0]);
  g_autofree char *line = NULL;
  size_t size = 0;
  ssize_t len;

  /* Registers the API's error names, so that they arrive as codes. */
  reserve_error_quark ();
  while ((len = getline (&line, &size, stdin)) > 0)
    {
      if (line[len - 1] == '\n')
        line[len - 1] = '\0';
      serve_one (connection, line);
    }
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return 0;
}
