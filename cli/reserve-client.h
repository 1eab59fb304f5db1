/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Talking to reserved: the proxy, the DefaultItem property, and what a
 * failed call means to the person who typed the command (the message and
 * the exit status). */
#pragma once

#include <gio/gio.h>

#include "reserve-command.h"
#include "reserve-generated.h"

G_BEGIN_DECLS

/* The proxy's default timeout: --timeout if given, else GDBus's 25 s, in
 * which a commit under heavy load still fits; a hung daemon is reported
 * instead of waited for forever. */
#define RESERVE_CLIENT_TIMEOUT_MSEC -1

/* A proxy for reserved on @bus_type. It loads no properties and connects no
 * signals (a one-shot command needs neither), but may start the daemon by
 * bus activation. */
ReserveReserve1 *reserve_client_connect (GBusType bus_type, GError **error);
/* A proxy for reserved on @connection, as reserve_client_connect () makes
 * one: no properties loaded, no signals, --timeout as its default. */
ReserveReserve1 *reserve_client_proxy_new (GDBusConnection *connection, GError **error);

/* @item if given, else the daemon's DefaultItem. */
char *reserve_client_resolve_item (ReserveReserve1 *proxy, const char *item, GError **error);

/* A refusal to sell @item, told as it is: an item with no capacity at all
 * is not on sale (yet), which "sold out" would misstate. Changes the
 * message of a SoldOut @error for such an item; leaves anything else. */
void reserve_client_explain_refusal (ReserveReserve1 *proxy, const char *item, GError *error);

/* What @error, from the bus or the daemon, means to the person who typed
 * the command: a @message that says what went wrong and what to do, its
 * @kind for scripts (the API's error name, as "SoldOut", or one of
 * NotRunning, CannotStart, Timeout, Lost, Unreachable), and the exit
 * status. */
ReserveExitStatus
reserve_client_describe_error (GBusType bus_type, GError *error, char **kind, char **message);

G_END_DECLS
