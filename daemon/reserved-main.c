#define G_LOG_DOMAIN "reserved"

#include "config.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserved-config.h"
#include "reserved-gate.h"
#include "reserved-service.h"
#include "reserved-store.h"

typedef struct {
  GMainLoop       *loop;
  GBusType         bus_type;
  gboolean         name_acquired;
  gboolean         name_lost;
  int              exit_status;
} Daemon;

static const char *
bus_label (GBusType bus_type)
{
  return bus_type == G_BUS_TYPE_SESSION ? "session" : "system";
}

static gboolean
on_quit_signal (gpointer user_data)
{
  ReservedService *service = user_data;

  g_message ("Stopping: finishing the calls in flight");
  reserved_service_stop (service);
  return G_SOURCE_CONTINUE;
}

static void
on_drained (ReservedService *service, Daemon *daemon)
{
  g_main_loop_quit (daemon->loop);
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;

  daemon->name_acquired = TRUE;
  g_message ("Serving %s on the %s bus", name, bus_label (daemon->bus_type));
}

/* Only asked when the daemon is about to exit, so a blocking call is fine. */
static gboolean
name_has_owner (GDBusConnection *connection, const char *name)
{
  g_autoptr(GVariant) reply =
    g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", "NameHasOwner", g_variant_new ("(s)", name),
                                 G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean has_owner = TRUE;

  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

/* Losing the name means another reserved took over (--replace) or the bus
 * went away; either way this process must not keep selling. */
static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;

  if (connection == NULL || g_dbus_connection_is_closed (connection))
    g_printerr ("reserved: lost the connection to the %s bus\n", bus_label (daemon->bus_type));
  else if (daemon->name_acquired)
    g_printerr ("reserved: %s was taken over by another process; exiting\n", name);
  else if (name_has_owner (connection, name))
    g_printerr ("reserved: %s is already owned on the %s bus by another process; "
                "stop it first or start this one with --replace\n",
                name, bus_label (daemon->bus_type));
  else
    g_printerr ("reserved: the %s bus refused to let uid %u own %s "
                "(its policy names the users who may)\n",
                bus_label (daemon->bus_type), (guint) getuid (), name);
  daemon->name_lost = TRUE;
  daemon->exit_status = EXIT_FAILURE;
  g_main_loop_quit (daemon->loop);
}

static char *
default_database_path (GBusType bus_type, GError **error)
{
  const char *state_directory = g_getenv ("STATE_DIRECTORY");
  g_autofree char *folder = NULL;

  /* systemd's StateDirectory= may list several folders; ours is first. */
  if (state_directory != NULL && *state_directory != '\0')
    {
      g_auto(GStrv) folders = g_strsplit (state_directory, ":", 2);
      return g_build_filename (folders[0], "reserved.db", NULL);
    }
  if (bus_type == G_BUS_TYPE_SYSTEM)
    return g_build_filename (RESERVED_LOCALSTATEDIR, "lib", "reserved", "reserved.db", NULL);

  /* The per-user default is created on first use, as any XDG data folder. */
  folder = g_build_filename (g_get_user_data_dir (), "reserved", NULL);
  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot create %s: %s", folder, g_strerror (saved));
      return NULL;
    }
  return g_build_filename (folder, "reserved.db", NULL);
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
    { "session", 0, 0, G_OPTION_ARG_NONE, &session, "Serve on the session bus (demos, tests)", NULL },
    { "system", 0, 0, G_OPTION_ARG_NONE, &system, "Serve on the system bus (the default)", NULL },
    { "database", 0, 0, G_OPTION_ARG_FILENAME, &database, "The SQLite database to use", "PATH" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path,
      "Configuration file (default " RESERVED_SYSCONFDIR "/reserved/reserved.conf)", "PATH" },
    { "replace", 0, 0, G_OPTION_ARG_NONE, &replace, "Take the bus name over from a running reserved", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log every purchase (debug messages)", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- sell limited stock over D-Bus");
  g_autoptr(GError) error = NULL;
  g_autoptr(ReservedConfig) config = NULL;
  g_autoptr(ReservedStore) store = NULL;
  g_autoptr(ReservedService) service = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  Daemon daemon = { 0 };
  GBusNameOwnerFlags owner_flags = G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
                                   G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE;
  guint owner_id, sigterm_id, sigint_id;

  /* Orders are nobody else's business: the database, its WAL and its
   * shared-memory file are created readable by the daemon's user only,
   * whoever started it (systemd sets this too; dbus-daemon does not). */
  umask (0077);
  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Holds inventory in SQLite and sells it to many concurrent buyers over\n"
    "D-Bus, committing every purchase to disk before acknowledging it.\n"
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

  daemon.bus_type = session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM;
  /* Registers the error names before the first reply can carry one. */
  (void) reserve_error_quark ();

  config = config_path != NULL
    ? reserved_config_load (config_path, FALSE, &error)
    : reserved_config_load (RESERVED_SYSCONFDIR "/reserved/reserved.conf", TRUE, &error);
  if (config == NULL)
    {
      g_printerr ("reserved: bad configuration: %s\n", error->message);
      return EXIT_FAILURE;
    }

  /* Ready before visible: the database is open, checked and migrated
   * before the name is owned, so no client ever reaches a daemon that
   * cannot serve it. */
  if (database == NULL && (database = default_database_path (daemon.bus_type, &error)) == NULL)
    {
      g_printerr ("reserved: %s\n", error->message);
      return EXIT_FAILURE;
    }
  store = reserved_store_open (database, config->default_item, config->initial_capacity,
                               config->busy_timeout_ms, &error);
  if (store == NULL)
    {
      g_printerr ("reserved: cannot use the database: %s\n", error->message);
      return EXIT_FAILURE;
    }

  connection = g_bus_get_sync (daemon.bus_type, NULL, &error);
  if (connection == NULL)
    {
      g_printerr ("reserved: cannot connect to the %s bus: %s\n", bus_label (daemon.bus_type), error->message);
      return EXIT_FAILURE;
    }
  /* A closed bus is reported through name-lost and ends the loop
   * cleanly, instead of GDBus raising SIGTERM behind our back. */
  g_dbus_connection_set_exit_on_close (connection, FALSE);

  service = reserved_service_new (store,
                                  reserved_gate_new (config->admin_uids, config->admin_gids,
                                                     daemon.bus_type == G_BUS_TYPE_SESSION, getuid ()),
                                  config->default_item);
  if (!reserved_service_export (service, connection, &error))
    {
      g_printerr ("reserved: cannot export %s: %s\n", RESERVE_OBJECT_PATH, error->message);
      return EXIT_FAILURE;
    }

  loop = g_main_loop_new (NULL, FALSE);
  daemon.loop = loop;
  daemon.exit_status = EXIT_SUCCESS;
  g_signal_connect (service, "drained", G_CALLBACK (on_drained), &daemon);
  sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, service);
  sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, service);

  if (replace)
    owner_flags |= G_BUS_NAME_OWNER_FLAGS_REPLACE;
  owner_id = g_bus_own_name_on_connection (connection, RESERVE_BUS_NAME, owner_flags,
                                           on_name_acquired, on_name_lost, &daemon, NULL);

  g_main_loop_run (loop);

  /* After losing the name, releasing it would only earn a warning from
   * the bus; closing first makes the release a no-op. */
  if (daemon.name_lost && !g_dbus_connection_is_closed (connection))
    g_dbus_connection_close_sync (connection, NULL, NULL);
  g_bus_unown_name (owner_id);
  g_source_remove (sigterm_id);
  g_source_remove (sigint_id);
  g_signal_handlers_disconnect_by_data (service, &daemon);
  reserved_service_stop (service);
  /* Deliver the replies already queued before the connection goes. */
  if (!g_dbus_connection_is_closed (connection))
    g_dbus_connection_flush_sync (connection, NULL, NULL);
  g_debug ("Closing %s", reserved_store_get_path (store));
  return daemon.exit_status;
}
