/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's life: a GInitable whose initialization loads the
 * configuration, opens, checks and migrates the database, connects to the
 * bus and exports the service, so that by the time the bus name is asked
 * for (reserved_daemon_start()), every client that can reach the daemon
 * can be served. Then it serves until stopped or until it loses the name,
 * and says so with "finished". */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RESERVED_TYPE_DAEMON (reserved_daemon_get_type ())
G_DECLARE_FINAL_TYPE (ReservedDaemon, reserved_daemon, RESERVED, DAEMON, GObject)

/* @database, @config_path: NULL for the default places (the default
 * configuration file may be missing). @error's message reads on after
 * "reserved: ". */
ReservedDaemon *reserved_daemon_new (GBusType bus_type,
                                     const char *database,
                                     const char *config_path,
                                     gboolean replace,
                                     GError **error);

/* Asks for the bus name. */
void reserved_daemon_start (ReservedDaemon *self);

/* Reads the configuration file again (SIGHUP). What applies to a running
 * daemon (BusyTimeout) takes effect at once; DefaultItem and
 * InitialCapacity only shape a fresh database, so a change of them is
 * logged and waits for one. A file that cannot be used leaves the
 * configuration in use as it was, and the reason is logged. */
void reserved_daemon_reload (ReservedDaemon *self);

/* Stops taking calls, answers those in flight, then finishes. */
void reserved_daemon_stop (ReservedDaemon *self);

/* What the process should exit with once "finished" was emitted: 0 after
 * a stop, 1 when the name was lost or could not be had. */
int reserved_daemon_get_exit_status (ReservedDaemon *self);

G_END_DECLS
