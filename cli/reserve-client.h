/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Talking to reserved: the proxy, the DefaultItem property, and what a
 * failed call means to the person who typed the command (the message and
 * the exit status). */
#pragma once

#include <gio/gio.h>

#include "reserve-command.h"
#include "reserve-generated.h"

G_BEGIN_DECLS

/* GDBus's default of 25 s: a commit under heavy load still fits, and a hung
 * daemon is reported instead of waited for forever. */
#define RESERVE_CLIENT_TIMEOUT_MSEC -1

/* A proxy for reserved on @bus_type. It loads no properties and connects no
 * signals (a one-shot command needs neither), but may start the daemon by
 * bus activation. */
ReserveReserve1 *reserve_client_connect (GBusType bus_type, GError **error);

/* @item if given, else the daemon's DefaultItem. */
char *reserve_client_resolve_item (ReserveReserve1 *proxy, const char *item, GError **error);

/* Prints @error, from the bus or the daemon, as a `reserve: ` line that says
 * what went wrong and what to do, and returns the exit status for it. */
ReserveExitStatus reserve_client_report_error (GBusType bus_type, GError *error);

G_END_DECLS
