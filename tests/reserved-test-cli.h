/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running the built `reserve` ($RESERVE_BINARY) from a test and reading
 * what it printed: its exit status, its output, and its --json.
 *
 * $RESERVE_TEST_CLI_WRAPPER is put in front of every `reserve`, e.g.
 *   valgrind -q --leak-check=full --show-leak-kinds=definite
 *     --errors-for-leak-kinds=definite --error-exitcode=99
 *     --suppressions=/usr/share/glib-2.0/valgrind/glib.supp
 * A finding changes the exit status and fails the test. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "reserved-test-daemon.h"

G_BEGIN_DECLS

typedef struct {
  char *command_line; /* for messages */
  int exit_status;
  char *out;
  char *err;
} ReservedTestRun;

void reserved_test_run_free (ReservedTestRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReservedTestRun, reserved_test_run_free)

/* Runs reserve with the arguments (NULL-terminated) and waits for it; the
 * bus is the test's private one (DBUS_SESSION_BUS_ADDRESS, set by the
 * harness). @extra_env: pairs of name and value, NULL-terminated, added to
 * the environment; nullable. A crash fails the test. */
ReservedTestRun *
reserved_test_run_reserve_va (const char *const *extra_env, const char *first_arg, va_list args);
ReservedTestRun *reserved_test_run_reserve_with_env (const char *const *extra_env,
                                                     const char *first_arg,
                                                     ...) G_GNUC_NULL_TERMINATED;
/* The same without @extra_env. */
#define reserved_test_run_reserve(...) reserved_test_run_reserve_with_env (NULL, __VA_ARGS__)

/* Runs reserve like reserved_test_run_reserve () and fails, with its
 * output, unless it exits 0. */
ReservedTestRun *reserved_test_run_ok (const char *first_arg, ...) G_GNUC_NULL_TERMINATED;
/* The same for a command whose output the test does not read. */
#define reserved_test_reserve_ok(...) reserved_test_run_free (reserved_test_run_ok (__VA_ARGS__))
/* Runs reserve and fails unless it exits with @expected_exit, saying
 * @needle on stderr. */
void reserved_test_reserve_fails (int expected_exit, const char *needle, const char *first_arg, ...)
  G_GNUC_NULL_TERMINATED;
/* (transfer full) Runs reserve, fails unless it exits 0 with nothing on
 * stderr, and parses its stdout as JSON. */
JsonNode *reserved_test_run_json (const char *first_arg, ...) G_GNUC_NULL_TERMINATED;

/* The keys of an item as `reserve status --json` and `create --json`
 * print it. */
extern const char *const reserved_test_item_status_keys[];

/* Starts reserve with the arguments (NULL-terminated) without waiting, its
 * stdout and stderr piped to the caller, for a command that runs until it
 * is told to stop (`reserve watch`). */
GSubprocess *reserved_test_spawn_reserve (const char *first_arg, ...) G_GNUC_NULL_TERMINATED;
/* Waits for the reserve that reserved_test_spawn_reserve () started, which
 * must exit 0, and returns (transfer full) the rest of its stdout. */
char *reserved_test_spawn_finish (GSubprocess *process);

/* Fails with the run's output unless it exited with @expected. */
void reserved_test_assert_exit (const ReservedTestRun *run, int expected);
/* Fails unless the run exited 0 with nothing on stderr. */
void reserved_test_assert_completed (const ReservedTestRun *run);

/* Fails, with @text, unless @text contains @part. */
void reserved_test_assert_contains (const char *text, const char *part);

/* The number in group 1 of the first match of @pattern (compiled with
 * @flags) in @text; fails with @text if there is none. */
guint64
reserved_test_match_number (const char *pattern, GRegexCompileFlags flags, const char *text);

/* (transfer full) The same number as text, as a command line takes it. */
char *reserved_test_match_id (const char *pattern, const char *text);

/* (transfer full) @text as JSON; fails unless it parses. */
JsonNode *reserved_test_parse_json (const char *text);
/* Fails unless @object has exactly @keys (NULL-terminated), no more and
 * no fewer: scripts rely on them. */
void reserved_test_json_assert_keys (JsonObject *object, const char *const *keys);
/* Member @name, which must exist and be an integer or a string. */
gint64 reserved_test_json_int (JsonObject *object, const char *name);
const char *reserved_test_json_string (JsonObject *object, const char *name);
/* Fails, naming the member, unless each integer member named (NULL-
 * terminated pairs of a name and an int) has that value. */
void reserved_test_json_assert_ints (JsonObject *object,
                                     const char *first_name,
                                     ...) G_GNUC_NULL_TERMINATED;

/* A real reserved on the test's private bus, started with an empty
 * configuration file, for the tests of what reserve prints. */
typedef struct {
  ReservedTestDaemon *daemon;
} ReservedTestCliFixture;

void reserved_test_cli_fixture_set_up (ReservedTestCliFixture *fixture, gconstpointer data);
void reserved_test_cli_fixture_tear_down (ReservedTestCliFixture *fixture, gconstpointer data);

/* Registers @function as the case @path (a string literal, which
 * tests/meson.build reads) with the fixture above. */
#define RESERVED_TEST_CLI_ADD(path, function)                                                     \
  g_test_add ((path), ReservedTestCliFixture, NULL, reserved_test_cli_fixture_set_up, (function), \
              reserved_test_cli_fixture_tear_down)

G_END_DECLS
