/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved"

#include "config.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "reserved-daemon.h"

static gboolean
on_quit_signal (gpointer user_data)
{
  reserved_daemon_stop (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_reload_signal (gpointer user_data)
{
  reserved_daemon_reload (user_data);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  gboolean session = FALSE;
  gboolean system = FALSE;
  gboolean replace = FALSE;
  gboolean verbose = FALSE;
  gboolean version = FALSE;
  g_autofree char *database = NULL;
  g_autofree char *config_path = NULL;
  const GOptionEntry entries[] = {
    { "session", 0, 0, G_OPTION_ARG_NONE, &session, "Serve on the session bus (demos, tests)",
      NULL },
    { "system", 0, 0, G_OPTION_ARG_NONE, &system, "Serve on the system bus (the default)", NULL },
    { "database", 0, 0, G_OPTION_ARG_FILENAME, &database,
      "The SQLite file, or the postgresql:// URI of the server, to use (overrides Database=)",
      "DATABASE" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path,
      "Configuration file (default " RESERVED_SYSCONFDIR "/reserved/reserved.conf)", "PATH" },
    { "replace", 0, 0, G_OPTION_ARG_NONE, &replace,
      "Take the bus name over from a running reserved", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log every purchase (debug messages)", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- sell limited stock over D-Bus");
  g_autoptr(GError) error = NULL;
  g_autoptr(ReservedDaemon) daemon = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  guint sigterm_id, sigint_id, sighup_id;

  /* Orders are nobody else's business: the database, its WAL and its
   * shared-memory file are created readable by the daemon's user only,
   * whoever started it (systemd sets this too; dbus-daemon does not). */
  umask (0077);
  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (
    context,
    "Holds inventory in SQLite and sells it to many concurrent buyers over\n"
    "D-Bus, committing every purchase to disk before acknowledging it.\n"
    "SIGHUP reloads the configuration file.\n"
    "Exit status: 0 after SIGTERM or SIGINT, 1 when it cannot start or loses its bus name.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("reserved: %s (see reserved --help)\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("reserved: unexpected argument “%s” (see reserved --help)\n", argv[1]);
      return 2;
    }
  if (session && system)
    {
      g_printerr ("reserved: --session and --system exclude each other\n");
      return 2;
    }
  if (version)
    {
      g_print ("reserved %s\n", RESERVED_VERSION);
      return EXIT_SUCCESS;
    }
  if (verbose)
    g_log_set_debug_enabled (TRUE);

  daemon = reserved_daemon_new (session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, database,
                                config_path, replace, &error);
  if (daemon == NULL)
    {
      g_printerr ("reserved: %s\n", error->message);
      return EXIT_FAILURE;
    }

  loop = g_main_loop_new (NULL, FALSE);
  g_signal_connect_swapped (daemon, "finished", G_CALLBACK (g_main_loop_quit), loop);
  sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, daemon);
  sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, daemon);
  sighup_id = g_unix_signal_add (SIGHUP, on_reload_signal, daemon);
  reserved_daemon_start (daemon);
  g_main_loop_run (loop);
  g_source_remove (sigterm_id);
  g_source_remove (sigint_id);
  g_source_remove (sighup_id);
  return reserved_daemon_get_exit_status (daemon);
}
