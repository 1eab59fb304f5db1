/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fixture of the tests that talk to the daemon: a fresh private bus,
 * folder and database, the real reserved started on them, and the test
 * process as an admin client (it runs as root or as the daemon's uid) on
 * a connection of its own. Each case gets its own, and ends by checking
 * the law and stopping the daemon with SIGTERM, which must exit 0. */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"

G_BEGIN_DECLS

/* An admin client on a private connection of its own. */
typedef struct {
  GDBusConnection *connection;
  ReservedTestClient client;
} ReservedTestAdmin;

/* Connects to the bus at @address as an admin: *@connection and
 * @client's proxy; asserts success. */
void reserved_test_connect_admin (const char *address,
                                  GDBusConnection **connection,
                                  ReservedTestClient *client);
/* Clears @client's proxy and closes and clears *@connection (nothing if it
 * is closed already). */
void reserved_test_disconnect_admin (GDBusConnection **connection, ReservedTestClient *client);

/* The end of a case that talked to @daemon as @client on *@connection:
 * unless the case has failed already, and while connected, asserts the
 * law; disconnects; stops the daemon if one runs (asserting exit status
 * 0). */
void reserved_test_finish (ReservedTestDaemon *daemon,
                           GDBusConnection **connection,
                           ReservedTestClient *client);

/* Connects to @daemon's bus; asserts success. */
void reserved_test_admin_open (ReservedTestAdmin *admin, ReservedTestDaemon *daemon);
/* Closes the connection; nothing if it is closed already. */
void reserved_test_admin_close (ReservedTestAdmin *admin);

/* Starts @daemon and connects @admin to it. */
void reserved_test_admin_start (ReservedTestAdmin *admin, ReservedTestDaemon *daemon);
/* Closes @admin's connection and stops @daemon (asserting exit status 0). */
void reserved_test_admin_stop (ReservedTestAdmin *admin, ReservedTestDaemon *daemon);

typedef struct {
  ReservedTestDaemon *daemon;
  GDBusConnection *connection;
  ReserveReserve1 *proxy;    /* the same as client.proxy */
  ReservedTestClient client; /* an admin */
  /* (nullable) The test's own view of the database file, as another
   * program opens it: reserved_test_fixture_open_database(). */
  sqlite3 *db;
} ReservedTestFixture;

/* Starts a daemon on a fresh bus, with @config (a string) as its
 * configuration file (NULL: none), and connects to it. The signatures of
 * a GTestFixtureFunc, for g_test_add (PATH, ReservedTestFixture, CONFIG,
 * reserved_test_fixture_set_up, TEST, reserved_test_fixture_tear_down). */
void reserved_test_fixture_set_up (ReservedTestFixture *f, gconstpointer config);
/* Closes the test's own view of the file, if open; unless the case has
 * failed already and while connected, asserts the law; then disconnects,
 * stops the daemon if one runs (asserting exit status 0), and deletes the
 * folder. */
void reserved_test_fixture_tear_down (ReservedTestFixture *f, gconstpointer data);

/* As reserved_test_fixture_set_up(), with the daemon's clock in the
 * test's hands (its test hook, RESERVED_TEST_CLOCK_FILE, a file in the
 * test's folder: tests move time instead of sleeping) and its runtime
 * folder (HoldFd's FIFOs) in the test's folder. */
void reserved_test_fixture_set_up_with_clock (ReservedTestFixture *f, gconstpointer config);
/* Moves the daemon's time @seconds ahead of real time, and the wall clock
 * alone @wall_seconds more (the hook's second number: as if the system
 * clock were set, which the daemon reads at start only). */
void reserved_test_fixture_set_clocks (ReservedTestFixture *f, gint64 seconds, gint64 wall_seconds);
/* Moves the daemon's time @seconds ahead of real time. */
void reserved_test_fixture_set_clock (ReservedTestFixture *f, gint64 seconds);

/* Connects to the daemon's bus (for a fixture whose daemon the test
 * started itself), and closes that connection again. */
void reserved_test_fixture_connect (ReservedTestFixture *f);
void reserved_test_fixture_disconnect (ReservedTestFixture *f);
/* Restarts the daemon on the same database, and connects again. */
void reserved_test_fixture_restart (ReservedTestFixture *f);
/* Opens the daemon's database read-write in f->db, e.g. to hold its
 * write lock or read what the daemon committed. */
void reserved_test_fixture_open_database (ReservedTestFixture *f);

/* Registers @function as the case @path (a string literal, which
 * tests/meson.build reads) with the fixture above, its daemon configured
 * by @config (a string; NULL: none), or with the clock in the test's
 * hands. */
#define RESERVED_TEST_FIXTURE_ADD_CONFIG(path, function, config)                               \
  g_test_add ((path), ReservedTestFixture, (config), reserved_test_fixture_set_up, (function), \
              reserved_test_fixture_tear_down)
#define RESERVED_TEST_FIXTURE_ADD(path, function) \
  RESERVED_TEST_FIXTURE_ADD_CONFIG ((path), (function), NULL)
#define RESERVED_TEST_FIXTURE_ADD_CLOCK(path, function)                                   \
  g_test_add ((path), ReservedTestFixture, NULL, reserved_test_fixture_set_up_with_clock, \
              (function), reserved_test_fixture_tear_down)

G_END_DECLS
