/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the fault tests share: counts and seeds from the environment, a
 * purchase sent to the well-known name, the fault-injection shim seen from
 * the test, and the check of a database file as another process reads it. */
#pragma once

#include <gio/gio.h>

#include "reserved-fault.h"
#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"

G_BEGIN_DECLS

/* --- knobs ------------------------------------------------------------------ */

/* (transfer full) Seeded from $RESERVED_TEST_SEED, else at random; the seed
 * is printed either way, so that a failure can be replayed. */
GRand *reserved_test_fault_rand_new (void);

/* --- clients ------------------------------------------------------------------ */

/* Buys one unit of the default item for @user on @connection, sent to the
 * well-known name (so that it reaches a restarted daemon too) and bounded
 * by the harness's timeout. TRUE with *order_out set, or FALSE with
 * @error. */
gboolean reserved_test_fault_buy (GDBusConnection *connection,
                                  const char *user,
                                  const char *request_id,
                                  guint64 *order_out,
                                  GError **error);

/* --- the shim ---------------------------------------------------------------- */

typedef struct _ReservedTestFaultShim ReservedTestFaultShim;

/* A control block (mode PASS) in the daemon's test folder. No daemon
 * loads the shim until reserved_test_fault_shim_attach(). */
ReservedTestFaultShim *reserved_test_fault_shim_new (ReservedTestDaemon *daemon);
void reserved_test_fault_shim_free (ReservedTestFaultShim *shim);
/* Daemons spawned from now on load the shim, or not. Under a sanitizer
 * the runtime the daemon or the shim links goes first in LD_PRELOAD. */
void reserved_test_fault_shim_attach (ReservedTestFaultShim *shim, gboolean attached);
/* The block the running daemon's shim reads; change it with __atomic. */
ReservedFaultControl *reserved_test_fault_shim_control (ReservedTestFaultShim *shim);
/* Back to mode PASS with every setting and counter at zero. */
void reserved_test_fault_shim_reset (ReservedTestFaultShim *shim);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReservedTestFaultShim, reserved_test_fault_shim_free)

#define RESERVED_TEST_FAULT_SET(field, value) __atomic_store_n (&(field), (value), __ATOMIC_RELEASE)
#define RESERVED_TEST_FAULT_GET(field)        __atomic_load_n (&(field), __ATOMIC_ACQUIRE)

/* --- the file ---------------------------------------------------------------- */

typedef enum {
  RESERVED_TEST_ORDER_ACTIVE = 1,
  RESERVED_TEST_ORDER_CANCELLED = 2,
} ReservedTestOrderState;

/* (transfer full) order id -> ReservedTestOrderState, to fill in. */
GHashTable *reserved_test_fault_orders_new (void);
void reserved_test_fault_orders_set (GHashTable *orders, guint64 id, ReservedTestOrderState state);

/* Reads @path as another process would, without changing it (no
 * checkpoint when it closes), and asserts: PRAGMA integrity_check is "ok";
 * for every item, remaining + the units of its active orders == capacity;
 * every order is of an existing item; no caller used a request_id twice.
 * Returns (transfer full) every order in the file, id -> state. */
GHashTable *reserved_test_fault_check_file (const char *path);

/* Asserts that every order of @expected is in @in_file, in its state. */
void
reserved_test_fault_assert_orders (GHashTable *in_file, GHashTable *expected, const char *what);

/* A hold's state in a file: live, or ended and why (the holds table's
 * "ended"). */
typedef enum {
  RESERVED_TEST_HOLD_LIVE = 1,
  RESERVED_TEST_HOLD_CONFIRMED,
  RESERVED_TEST_HOLD_RELEASED,
  RESERVED_TEST_HOLD_EXPIRED,
  RESERVED_TEST_HOLD_DISCONNECTED,
  RESERVED_TEST_HOLD_CLOSED,
} ReservedTestHoldState;

/* (transfer full) Every hold in @path, id -> ReservedTestHoldState, read
 * as reserved_test_fault_check_file() reads the file (call that first: it
 * checks integrity and the law, which counts the live holds). A confirmed
 * hold must name an order of the file. */
GHashTable *reserved_test_fault_holds_in_file (const char *path);

/* Asserts that every hold of @expected (id -> ReservedTestHoldState, made
 * with reserved_test_fault_orders_new()) is in @in_file, in its state: an
 * acknowledged hold not lost, an ended one not revived. */
void reserved_test_fault_assert_holds (GHashTable *in_file, GHashTable *expected, const char *what);

/* The number of rows of @table ("orders" or "holds") in @path with
 * @request_id. */
gint64
reserved_test_fault_count_request_id (const char *path, const char *table, const char *request_id);

G_END_DECLS
