/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved"

#include "config.h"

#include "reserved-daemon.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserved-authority.h"
#include "reserved-config.h"
#include "reserved-service.h"
#include "reserved-store.h"

struct _ReservedDaemon {
  GObject parent_instance;

  /* construct-only */
  GBusType bus_type;
  char *database;
  char *config_path;
  gboolean replace;

  GDBusConnection *connection;
  ReservedStore *store;
  ReservedService *service;
  ReservedConfig *config; /* the one in use */
  guint owner_id;
  gboolean name_acquired;
  gboolean name_lost;
  gboolean finished;
  int exit_status;
};

static void reserved_daemon_initable_init (GInitableIface *iface);

G_DEFINE_TYPE_WITH_CODE (ReservedDaemon,
                         reserved_daemon,
                         G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, reserved_daemon_initable_init))

enum { PROP_0, PROP_BUS_TYPE, PROP_DATABASE, PROP_CONFIG_PATH, PROP_REPLACE, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char *
bus_label (GBusType bus_type)
{
  return bus_type == G_BUS_TYPE_SESSION ? "session" : "system";
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
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot create %s: %s", folder,
                   g_strerror (saved));
      return NULL;
    }
  return g_build_filename (folder, "reserved.db", NULL);
}

static ReservedConfig *
load_config (ReservedDaemon *self, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  ReservedConfig *config =
    self->config_path != NULL
      ? reserved_config_load (self->config_path, FALSE, &local_error)
      : reserved_config_load (RESERVED_SYSCONFDIR "/reserved/reserved.conf", TRUE, &local_error);

  if (config == NULL)
    {
      g_set_error (error, local_error->domain, local_error->code, "bad configuration: %s",
                   local_error->message);
      return NULL;
    }
  for (guint i = 0; config->retired_keys[i] != NULL; i++)
    g_warning ("%s is no longer read: administrators are decided by polkit. Add them to the group "
               "reserved-admin, or grant the actions org.reserved.Reserve1.* in a rule of your own "
               "(reserved(8)); until then they have no administrator rights here",
               config->retired_keys[i]);
  return config;
}

static gboolean
reserved_daemon_initable_init_sync (GInitable *initable, GCancellable *cancellable, GError **error)
{
  ReservedDaemon *self = RESERVED_DAEMON (initable);
  ReservedConfig *config = NULL;
  g_autoptr(ReservedAuthority) authority = NULL;
  g_autoptr(GError) local_error = NULL;

  /* Registers the error names before the first reply can carry one. */
  (void) reserve_error_quark ();

  if ((config = self->config = load_config (self, error)) == NULL)
    return FALSE;

  /* Ready before visible: the database is open, checked and migrated
   * before the name is owned, so no client ever reaches a daemon that
   * cannot serve it. */
  if (self->database == NULL)
    self->database = g_strdup (config->database);
  if (self->database == NULL &&
      (self->database = default_database_path (self->bus_type, error)) == NULL)
    return FALSE;
  self->store = reserved_store_open_with (
    &(ReservedStoreSettings){
      .database = self->database,
      .default_item = config->default_item,
      .default_capacity = config->initial_capacity,
      .busy_timeout_ms = config->busy_timeout_ms,
      .node = config->node,
    },
    &local_error);
  if (self->store == NULL)
    {
      g_set_error (error, local_error->domain, local_error->code, "cannot use the database: %s",
                   local_error->message);
      return FALSE;
    }

  self->connection = g_bus_get_sync (self->bus_type, cancellable, &local_error);
  if (self->connection == NULL)
    {
      g_set_error (error, local_error->domain, local_error->code,
                   "cannot connect to the %s bus: %s", bus_label (self->bus_type),
                   local_error->message);
      return FALSE;
    }
  /* A closed bus is reported through name-lost and ends the daemon
   * cleanly, instead of GDBus raising SIGTERM behind our back. */
  g_dbus_connection_set_exit_on_close (self->connection, FALSE);

  authority = self->bus_type == G_BUS_TYPE_SYSTEM ? reserved_authority_new_polkit (self->connection)
                                                  : reserved_authority_new_owner (getuid ());
  self->service = reserved_service_new (self->store, authority, config->default_item);
  reserved_service_set_hold_limits (self->service, config->max_hold_seconds,
                                    config->max_holds_per_uid);
  if (!reserved_service_export (self->service, self->connection, &local_error))
    {
      g_set_error (error, local_error->domain, local_error->code, "cannot export %s: %s",
                   RESERVE_OBJECT_PATH, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* --- serving ------------------------------------------------------------------- */

/* Only asked when the daemon is about to exit, so a blocking call is fine. */
static gboolean
name_has_owner (GDBusConnection *connection, const char *name)
{
  g_autoptr(GVariant) reply =
               g_dbus_connection_call_sync (connection, "org.freedesktop.DBus",
                                            "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                            "NameHasOwner", g_variant_new ("(s)", name),
                                            G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                            NULL, NULL);
  gboolean has_owner = TRUE;

  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

/* Releases the name, delivers the replies already queued, and says so. */
static void
finish (ReservedDaemon *self)
{
  if (self->finished)
    return;
  self->finished = TRUE;
  /* After losing the name, releasing it would only earn a warning from
   * the bus; closing first makes the release a no-op. */
  if (self->name_lost && !g_dbus_connection_is_closed (self->connection))
    g_dbus_connection_close_sync (self->connection, NULL, NULL);
  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  g_signal_handlers_disconnect_by_data (self->service, self);
  reserved_service_stop (self->service);
  if (!g_dbus_connection_is_closed (self->connection))
    g_dbus_connection_flush_sync (self->connection, NULL, NULL);
  g_debug ("Closing %s", reserved_store_get_path (self->store));
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

static void
on_drained (ReservedService *service, ReservedDaemon *self)
{
  finish (self);
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  ReservedDaemon *self = user_data;

  self->name_acquired = TRUE;
  g_message ("Serving %s on the %s bus from %s", name, bus_label (self->bus_type),
             reserved_store_get_path (self->store));
}

/* Losing the name means another reserved took over (--replace) or the bus
 * went away; either way this process must not keep selling. */
static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  ReservedDaemon *self = user_data;

  if (connection == NULL || g_dbus_connection_is_closed (connection))
    g_printerr ("reserved: lost the connection to the %s bus\n", bus_label (self->bus_type));
  else if (self->name_acquired)
    g_printerr ("reserved: %s was taken over by another process; exiting\n", name);
  else if (name_has_owner (connection, name))
    g_printerr ("reserved: %s is already owned on the %s bus by another process; "
                "stop it first or start this one with --replace\n",
                name, bus_label (self->bus_type));
  else
    g_printerr ("reserved: the %s bus refused to let uid %u own %s "
                "(its policy names the users who may)\n",
                bus_label (self->bus_type), (guint) getuid (), name);
  self->name_lost = TRUE;
  self->exit_status = EXIT_FAILURE;
  finish (self);
}

void
reserved_daemon_start (ReservedDaemon *self)
{
  GBusNameOwnerFlags flags =
    G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT | G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE;

  g_return_if_fail (self->owner_id == 0 && !self->finished);
  if (self->replace)
    flags |= G_BUS_NAME_OWNER_FLAGS_REPLACE;
  g_signal_connect (self->service, "drained", G_CALLBACK (on_drained), self);
  self->owner_id = g_bus_own_name_on_connection (self->connection, RESERVE_BUS_NAME, flags,
                                                 on_name_acquired, on_name_lost, self, NULL);
}

static const char *
config_origin (ReservedDaemon *self)
{
  return self->config_path != NULL ? self->config_path
                                   : RESERVED_SYSCONFDIR "/reserved/reserved.conf";
}

void
reserved_daemon_reload (ReservedDaemon *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ReservedConfig) config = load_config (self, &error);
  ReservedConfig *old = self->config;

  if (config == NULL)
    {
      g_warning ("Keeping the configuration in use: the new one cannot be used: %s",
                 error->message);
      return;
    }
  reserved_store_set_busy_timeout (self->store, config->busy_timeout_ms);
  /* The default item is made once, on a fresh database; a running daemon
   * keeps announcing the item it made. */
  if (g_strcmp0 (config->default_item, old->default_item) != 0 ||
      config->initial_capacity != old->initial_capacity)
    g_message ("DefaultItem=%s and InitialCapacity=%u only take effect on a fresh database; "
               "this one keeps DefaultItem=%s",
               config->default_item, config->initial_capacity, old->default_item);
  if (g_strcmp0 (config->database, old->database) != 0 || g_strcmp0 (config->node, old->node) != 0)
    g_message ("Database= and Node= take effect when reserved starts again; this one goes on "
               "with %s",
               reserved_store_get_path (self->store));
  g_message ("Reloaded the configuration from %s: BusyTimeout=%u ms", config_origin (self),
             config->busy_timeout_ms);
  g_free (config->default_item);
  config->default_item = g_strdup (old->default_item);
  config->initial_capacity = old->initial_capacity;
  reserved_config_free (g_steal_pointer (&self->config));
  self->config = g_steal_pointer (&config);
}

void
reserved_daemon_stop (ReservedDaemon *self)
{
  if (self->finished)
    return;
  g_message ("Stopping: finishing the calls in flight");
  reserved_service_stop (self->service);
}

int
reserved_daemon_get_exit_status (ReservedDaemon *self)
{
  return self->exit_status;
}

ReservedDaemon *
reserved_daemon_new (GBusType bus_type,
                     const char *database,
                     const char *config_path,
                     gboolean replace,
                     GError **error)
{
  return g_initable_new (RESERVED_TYPE_DAEMON, NULL, error, "bus-type", bus_type, "database",
                         database, "config-path", config_path, "replace", replace, NULL);
}

/* --- GObject ------------------------------------------------------------------- */

static void
reserved_daemon_set_property (GObject *object,
                              guint prop_id,
                              const GValue *value,
                              GParamSpec *pspec)
{
  ReservedDaemon *self = RESERVED_DAEMON (object);

  switch (prop_id)
    {
    case PROP_BUS_TYPE:
      self->bus_type = g_value_get_enum (value);
      break;
    case PROP_DATABASE:
      self->database = g_value_dup_string (value);
      break;
    case PROP_CONFIG_PATH:
      self->config_path = g_value_dup_string (value);
      break;
    case PROP_REPLACE:
      self->replace = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
reserved_daemon_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  ReservedDaemon *self = RESERVED_DAEMON (object);

  switch (prop_id)
    {
    case PROP_BUS_TYPE:
      g_value_set_enum (value, self->bus_type);
      break;
    case PROP_DATABASE:
      g_value_set_string (value, self->database);
      break;
    case PROP_CONFIG_PATH:
      g_value_set_string (value, self->config_path);
      break;
    case PROP_REPLACE:
      g_value_set_boolean (value, self->replace);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
reserved_daemon_dispose (GObject *object)
{
  ReservedDaemon *self = RESERVED_DAEMON (object);

  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  if (self->service != NULL)
    g_signal_handlers_disconnect_by_data (self->service, self);
  g_clear_object (&self->service);
  g_clear_object (&self->connection);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (reserved_daemon_parent_class)->dispose (object);
}

static void
reserved_daemon_finalize (GObject *object)
{
  ReservedDaemon *self = RESERVED_DAEMON (object);

  g_free (self->database);
  g_free (self->config_path);
  g_clear_pointer (&self->config, reserved_config_free);
  G_OBJECT_CLASS (reserved_daemon_parent_class)->finalize (object);
}

static void
reserved_daemon_initable_init (GInitableIface *iface)
{
  iface->init = reserved_daemon_initable_init_sync;
}

static void
reserved_daemon_class_init (ReservedDaemonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->set_property = reserved_daemon_set_property;
  object_class->get_property = reserved_daemon_get_property;
  object_class->dispose = reserved_daemon_dispose;
  object_class->finalize = reserved_daemon_finalize;

  props[PROP_BUS_TYPE] =
    g_param_spec_enum ("bus-type", NULL, NULL, G_TYPE_BUS_TYPE, G_BUS_TYPE_SYSTEM, flags);
  props[PROP_DATABASE] = g_param_spec_string ("database", NULL, NULL, NULL, flags);
  props[PROP_CONFIG_PATH] = g_param_spec_string ("config-path", NULL, NULL, NULL, flags);
  props[PROP_REPLACE] = g_param_spec_boolean ("replace", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
reserved_daemon_init (ReservedDaemon *self)
{
  self->exit_status = EXIT_SUCCESS;
}
