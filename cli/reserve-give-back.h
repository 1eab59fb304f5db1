/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The commands that put units back in stock by one id, `reserve cancel
 * ORDER` and `reserve release HOLD`: their calls (Cancel, Release) take the
 * id and answer with the stock left, so parsing, connecting and calling
 * are one step for both. */
#pragma once

#include "reserve-call.h"

G_BEGIN_DECLS

/* The generated call of such a method (reserve_reserve1_call_cancel_sync,
 * reserve_reserve1_call_release_sync). */
typedef gboolean (*ReserveGiveBackMethod) (ReserveReserve1 *proxy,
                                           guint64 id,
                                           GDBusCallFlags flags,
                                           gint timeout_msec,
                                           guint *remaining,
                                           GCancellable *cancellable,
                                           GError **error);

/* One such command: what it calls and, once called, the answer. */
typedef struct {
  const char *what; /* the argument, in errors: "order", "hold" */
  ReserveCallKind kind;
  ReserveGiveBackMethod method;
  guint64 id;      /* the argument, once read */
  guint remaining; /* the stock left, once called */
} ReserveGiveBack;

/* Parses the command line (no flags of its own), reads the one argument as
 * the id of a @back->what, connects @call and calls @back->method. FALSE
 * if any step fails or --help was shown: the command then returns
 * invocation->help_shown. */
gboolean reserve_give_back (ReserveCall *call,
                            ReserveInvocation *invocation,
                            int argc,
                            char **argv,
                            ReserveGiveBack *back,
                            GError **error);

G_END_DECLS
