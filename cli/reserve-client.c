/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-client.h"

#include <stdio.h>
#include <string.h>

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserve-text.h"

static const char *
describe_bus (GBusType bus_type)
{
  return bus_type == G_BUS_TYPE_SESSION ? _ ("session bus") : _ ("system bus");
}

static const char *
start_command (GBusType bus_type)
{
  return bus_type == G_BUS_TYPE_SESSION ? "reserved --session" : "sudo systemctl start reserved";
}

ReserveReserve1 *
reserve_client_connect (GBusType bus_type, GError **error)
{
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) bus_error = NULL;

  /* Registers the API's error names before the first call, so the daemon's
   * errors arrive as RESERVE_ERROR codes. */
  (void) reserve_error_quark ();

  connection = g_bus_get_sync (bus_type, NULL, &bus_error);
  if (connection == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, _ ("cannot connect to the %s: %s"),
                   describe_bus (bus_type), bus_error->message);
      return NULL;
    }
  /* A bus that goes away mid-call should end in our error message and exit
   * status, not in the SIGTERM GDBus sends by default. */
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  return reserve_client_proxy_new (connection, error);
}

ReserveReserve1 *
reserve_client_proxy_new (GDBusConnection *connection, GError **error)
{
  ReserveReserve1 *proxy;

  proxy = reserve_reserve1_proxy_new_sync (connection,
                                           G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                             G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                           RESERVE_BUS_NAME, RESERVE_OBJECT_PATH, NULL, error);
  /* The calls pass RESERVE_CLIENT_TIMEOUT_MSEC, which is the proxy's
   * default: --timeout, when given. */
  if (proxy != NULL)
    g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), reserve_call_timeout_msec ());
  return proxy;
}

static char *
get_default_item (ReserveReserve1 *proxy, GError **error)
{
  GDBusProxy *dbus_proxy = G_DBUS_PROXY (proxy);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;

  /* The proxy caches no properties, so ask the daemon itself. */
  reply = g_dbus_connection_call_sync (g_dbus_proxy_get_connection (dbus_proxy),
                                       g_dbus_proxy_get_name (dbus_proxy),
                                       g_dbus_proxy_get_object_path (dbus_proxy),
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", RESERVE_INTERFACE, "DefaultItem"),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE,
                                       g_dbus_proxy_get_default_timeout (dbus_proxy), NULL, error);
  if (reply == NULL)
    return NULL;

  g_variant_get (reply, "(v)", &value);
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("reserved answered DefaultItem with a value of type %s instead of a string"),
                   g_variant_get_type_string (value));
      return NULL;
    }
  return g_variant_dup_string (value, NULL);
}

char *
reserve_client_resolve_item (ReserveReserve1 *proxy, const char *item, GError **error)
{
  if (item != NULL)
    return g_strdup (item);
  return get_default_item (proxy, error);
}

static gboolean
is_not_running (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
}

static gboolean
is_activation_failure (const GError *error)
{
  if (error->domain != G_DBUS_ERROR)
    return FALSE;
  switch (error->code)
    {
    case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
    case G_DBUS_ERROR_SPAWN_FORK_FAILED:
    case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
    case G_DBUS_ERROR_SPAWN_CHILD_SIGNALED:
    case G_DBUS_ERROR_SPAWN_FAILED:
    case G_DBUS_ERROR_SPAWN_SETUP_FAILED:
    case G_DBUS_ERROR_SPAWN_CONFIG_INVALID:
    case G_DBUS_ERROR_SPAWN_SERVICE_INVALID:
    case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
    case G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID:
    case G_DBUS_ERROR_SPAWN_FILE_INVALID:
    case G_DBUS_ERROR_SPAWN_NO_MEMORY:
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
is_timeout (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

static gboolean
is_lost_in_flight (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
}

/* Any other local I/O failure means we never had a working conversation
 * with the daemon; G_IO_ERROR_DBUS_ERROR is a remote error we have no
 * mapping for, which is the daemon (or the bus policy) saying no. */
static gboolean
is_local_io_failure (const GError *error)
{
  return error->domain == G_IO_ERROR && error->code != G_IO_ERROR_DBUS_ERROR;
}

void
reserve_client_explain_refusal (ReserveReserve1 *proxy, const char *item, GError *error)
{
  g_autoptr(GVariant) info = NULL;
  guint32 capacity = 0;

  if (!g_error_matches (error, RESERVE_ERROR, RESERVE_ERROR_SOLD_OUT) ||
      !reserve_reserve1_call_get_item_sync (proxy, item, G_DBUS_CALL_FLAGS_NONE,
                                            RESERVE_CLIENT_TIMEOUT_MSEC, &info, NULL, NULL) ||
      !g_variant_lookup (info, "capacity", "u", &capacity) || capacity != 0)
    return;
  g_free (error->message);
  error->message = g_strdup_printf (
    _ ("%s is not on sale: it has no units yet (an admin can add some with “reserve restock”)"),
    item);
}

/* The API's name for a refusal, "SoldOut" for org.reserved.Reserve1.Error.SoldOut. */
static char *
refusal_kind (const GError *error)
{
  g_autofree char *name = g_dbus_error_get_remote_error (error);
  const char *last_dot = name != NULL ? strrchr (name, '.') : NULL;

  return g_strdup (last_dot != NULL ? last_dot + 1 : "Refused");
}

ReserveExitStatus
reserve_client_describe_error (GBusType bus_type, GError *error, char **kind, char **message)
{
  const char *bus = describe_bus (bus_type);
  ReserveError code;

  if (is_not_running (error))
    {
      *kind = g_strdup ("NotRunning");
      *message = g_strdup_printf (
        _ ("reserved is not running on the %s (%s has no owner); start it with: %s"), bus,
        RESERVE_BUS_NAME, start_command (bus_type));
      return RESERVE_EXIT_UNREACHABLE;
    }
  if (is_activation_failure (error))
    {
      g_dbus_error_strip_remote_error (error);
      *kind = g_strdup ("CannotStart");
      *message = g_strdup_printf (_ ("the %s could not start reserved: %s"), bus, error->message);
      return RESERVE_EXIT_UNREACHABLE;
    }
  if (is_timeout (error))
    {
      int seconds = reserve_call_timeout_msec () > 0 ? reserve_call_timeout_msec () / 1000 : 25;

      /* A daemon that is stopped or stuck keeps its name, so this is all a
       * client can know; the retry key is what makes a second try safe. */
      *kind = g_strdup ("Timeout");
      *message = g_strdup_printf (
        P_ ("reserved did not answer on the %s within %d second; the request may or may not "
            "have taken effect. A buy repeated with the same --request-id buys nothing twice "
            "and says which.",
            "reserved did not answer on the %s within %d seconds; the request may or may not "
            "have taken effect. A buy repeated with the same --request-id buys nothing twice "
            "and says which.",
            seconds),
        bus, seconds);
      return RESERVE_EXIT_UNREACHABLE;
    }
  if (is_lost_in_flight (error))
    {
      g_dbus_error_strip_remote_error (error);
      *kind = g_strdup ("Lost");
      *message = g_strdup_printf (
        _ ("lost reserved on the %s before it answered (%s); the request may or may not have "
           "taken effect"),
        bus, error->message);
      return RESERVE_EXIT_UNREACHABLE;
    }
  if (is_local_io_failure (error))
    {
      *kind = g_strdup ("Unreachable");
      *message = g_strdup (error->message);
      return RESERVE_EXIT_UNREACHABLE;
    }

  *kind = refusal_kind (error);
  g_dbus_error_strip_remote_error (error);
  *message = g_strdup (error->message);
  if (reserve_error_get_code (error, &code) && code == RESERVE_ERROR_STORAGE_FAILURE)
    return RESERVE_EXIT_UNREACHABLE;
  return RESERVE_EXIT_REFUSED;
}
