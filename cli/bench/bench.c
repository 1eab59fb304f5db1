/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "bench.h"

#include <string.h>

#include "reserve-names.h"
#include "reserve-text.h"

G_DEFINE_QUARK (reserve - bench - error - quark, bench_error)

static void
error_count_clear (BenchErrorCount *count)
{
  g_clear_pointer (&count->name, g_free);
  g_clear_pointer (&count->message, g_free);
}

void
bench_phase_result_init (BenchPhaseResult *result, BenchPhase phase)
{
  memset (result, 0, sizeof *result);
  result->phase = phase;
  result->errors = g_array_new (FALSE, TRUE, sizeof (BenchErrorCount));
  g_array_set_clear_func (result->errors, (GDestroyNotify) error_count_clear);
}

void
bench_phase_result_clear (BenchPhaseResult *result)
{
  g_clear_pointer (&result->errors, g_array_unref);
  g_clear_pointer (&result->buses, g_free);
}

void
bench_phase_result_add_error (BenchPhaseResult *result,
                              const char *name,
                              const char *message,
                              guint64 count)
{
  BenchErrorCount added = { 0 };

  result->failed += count;
  for (guint i = 0; i < result->errors->len; i++)
    {
      BenchErrorCount *known = &g_array_index (result->errors, BenchErrorCount, i);
      if (g_str_equal (known->name, name))
        {
          known->count += count;
          return;
        }
    }
  added.name = g_strdup (name);
  added.message = g_strdup (message);
  added.count = count;
  g_array_append_val (result->errors, added);
}

gdouble
bench_phase_result_rate (const BenchPhaseResult *result)
{
  return result->seconds > 0 ? (gdouble) result->calls / result->seconds : 0.0;
}

gdouble
bench_bus_share_rate (const BenchBusShare *share)
{
  return share->seconds > 0 ? (gdouble) share->calls / share->seconds : 0.0;
}

void
bench_report_init (BenchReport *report, const BenchSettings *settings)
{
  memset (report, 0, sizeof *report);
  report->settings = *settings;
  for (guint i = 0; i < BENCH_N_PHASES; i++)
    bench_phase_result_init (&report->phases[i], (BenchPhase) i);
}

void
bench_report_clear (BenchReport *report)
{
  for (guint i = 0; i < BENCH_N_PHASES; i++)
    bench_phase_result_clear (&report->phases[i]);
  g_clear_pointer (&report->item, g_free);
  g_clear_pointer (&report->daemon_version, g_free);
  for (guint i = 0; i < report->n_daemons; i++)
    g_free (report->daemons[i].address);
  g_clear_pointer (&report->daemons, g_free);
}

const char *
bench_phase_method (BenchPhase phase)
{
  switch (phase)
    {
    case BENCH_PHASE_BASELINE:
      return "org.freedesktop.DBus.Properties.Get(Version)";
    case BENCH_PHASE_BUY:
      return RESERVE_INTERFACE ".Buy";
    case BENCH_PHASE_HOLD:
      return RESERVE_INTERFACE ".Hold+Confirm";
    default:
      g_assert_not_reached ();
    }
}

const char *
bench_phase_name (BenchPhase phase)
{
  switch (phase)
    {
    case BENCH_PHASE_BASELINE:
      return "baseline";
    case BENCH_PHASE_BUY:
      return "buy";
    case BENCH_PHASE_HOLD:
      return "hold";
    default:
      g_assert_not_reached ();
    }
}

void
bench_error_name_address (GError **error, const char *address)
{
  GError *original = *error;

  if (address == NULL || original == NULL ||
      !(g_error_matches (original, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
        g_error_matches (original, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)))
    return;
  /* A local error: the CLI tells it as a bus it could not use (exit 3). */
  *error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                        _ ("reserved is not running on the bus at %s (%s has no owner)"), address,
                        RESERVE_BUS_NAME);
  g_error_free (original);
}

GDBusConnection *
bench_connect_address (const char *address, GError **error)
{
  g_autoptr(GError) bus_error = NULL;
  GDBusConnection *connection;

  connection =
    g_dbus_connection_new_for_address_sync (address,
                                            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                              G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                            NULL, NULL, &bus_error);
  if (connection == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                   _ ("cannot connect to the bus at %s: %s"), address, bus_error->message);
      return NULL;
    }
  /* A bus that goes away ends in an error, not in GDBus's SIGTERM. */
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  return connection;
}
