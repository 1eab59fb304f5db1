/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every fuzz target does before its first input. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Makes a GLib warning, critical or error abort the target, so the fuzzer
 * reports it and keeps the input. GLib's own G_DEBUG=fatal-warnings stops
 * the process with SIGTRAP, which libFuzzer does not catch: the input that
 * caused it would be lost. */
void reserve_fuzz_abort_on_warnings (void);

G_END_DECLS
