/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The test harness: a private dbus-daemon in a fresh temporary folder, and
 * the real reserved (from $RESERVED_BINARY) started on it with its own
 * database and configuration file.
 *
 * Starting, waiting for and stopping daemons creates no GDBusConnection in
 * the test process (only reserved_test_connect() does): waiting polls the
 * bus with short-lived dbus-send processes. A process that forks after
 * GDBus has started its worker thread leaves the child with a dead one, so
 * tests never plain-fork: reserved_test_spawn_helper() forks *and execs*
 * this test program again (buyers, a caller with another uid), and the
 * child starts with no GLib state at all, whatever the parent holds.
 *
 * $RESERVED_TEST_DAEMON_WRAPPER (e.g. "valgrind --leak-check=full
 * --error-exitcode=99") is put in front of the daemon's command line; waits
 * then allow much longer, and reserved_test_daemon_stop(), which asserts exit
 * status 0, turns the wrapper's findings into test failures. */
#pragma once

#include <stdio.h>

#include <gio/gio.h>
#include <sys/types.h>

#include "reserve-error.h"
#include "reserve-generated.h"
#include "reserve-names.h"
#include "reserved-test-main.h"

G_BEGIN_DECLS

/* Bound on every wait in the harness. It only stops a hung test from
 * hanging the whole suite; no test asserts how fast anything is. */
guint reserved_test_timeout_seconds (void);

/* Runs the thread-default main context until @done (@data) is TRUE, for
 * what a test waits on (a signal, a reply); fails naming @what after
 * reserved_test_timeout_seconds(). */
void
reserved_test_iterate_until (gboolean (*done) (gpointer data), gpointer data, const char *what);

/* One spawned process (a daemon, or a helper) whose output goes to a log
 * file in the test's folder. */
typedef struct _ReservedTestProcess ReservedTestProcess;

GPid reserved_test_process_get_pid (ReservedTestProcess *process);
/* TRUE once the process has exited (reaping it if needed). */
gboolean reserved_test_process_has_exited (ReservedTestProcess *process);
/* Waits (bounded) for the process to exit; returns its wait status. */
int reserved_test_process_wait (ReservedTestProcess *process);
/* (transfer full) Everything it wrote to stdout and stderr so far. */
char *reserved_test_process_get_log (ReservedTestProcess *process);
/* How many times @needle stands in @text (a log), overlapping ones too. */
guint reserved_test_count_occurrences (const char *text, const char *needle);
/* Waits (bounded) until the process has written @needle (counting from
 * the start of its output) @count times; fails with its output if it exits
 * first. For what a process says only in its log, such as a reload. */
void reserved_test_process_wait_log (ReservedTestProcess *process, const char *needle, guint count);
/* Kills the process with SIGKILL if it is still running. */
void reserved_test_process_free (ReservedTestProcess *process);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReservedTestProcess, reserved_test_process_free)

/* Asserts that @status (from waitpid) is a normal exit with @code; on
 * failure prints @log, which is the process's output, and aborts. */
void reserved_test_assert_exit_status (int status, int code, const char *what, const char *log);

typedef struct _ReservedTestDaemon ReservedTestDaemon;

/* Creates the temporary folder and starts the private bus; exports its
 * address as DBUS_SESSION_BUS_ADDRESS. No daemon is started yet. */
ReservedTestDaemon *reserved_test_daemon_new (void);
/* The same, with the bus configured by @bus_config, a file name in the
 * tests' data folder, instead of data/test-bus.conf (e.g. a policy that
 * refuses one uid some of the bus's own methods). */
ReservedTestDaemon *reserved_test_daemon_new_with_bus_config (const char *bus_config);
/* The same, with the temporary folder made in @parent (e.g. one that is
 * removed even when the test dies). */
ReservedTestDaemon *reserved_test_daemon_new_in (const char *parent);
/* Kills whatever still runs (daemons, the bus) and deletes the folder,
 * unless $RESERVED_TEST_KEEP_TMPDIR is 1 (to look at a failed case's logs:
 * reserved-N.log holds the output of the Nth daemon started). */
void reserved_test_daemon_free (ReservedTestDaemon *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReservedTestDaemon, reserved_test_daemon_free)

const char *reserved_test_daemon_get_tmpdir (ReservedTestDaemon *self);
const char *reserved_test_daemon_get_address (ReservedTestDaemon *self);
/* TMPDIR/reserved.db unless changed with set_database(); under
 * $RESERVED_TEST_POSTGRESQL, the URI of a database of its own on that
 * server (reserved-test-postgresql.h). */
const char *reserved_test_daemon_get_database (ReservedTestDaemon *self);
/* TMPDIR/reserved.conf, empty until write_config(). */
const char *reserved_test_daemon_get_config (ReservedTestDaemon *self);

void reserved_test_daemon_set_database (ReservedTestDaemon *self, const char *path);
void reserved_test_daemon_write_config (ReservedTestDaemon *self, const char *contents);
/* Runs later daemons as @uid (and its primary group); (uid_t) -1 for the
 * test's own uid. Needs root. */
void reserved_test_daemon_set_run_as (ReservedTestDaemon *self, uid_t uid);
/* Runs later daemons as @uid, with their database in TMPDIR/state, a
 * folder @uid owns (the daemon must be able to write beside its database).
 * Needs root. */
void reserved_test_daemon_run_as_owner (ReservedTestDaemon *self, uid_t uid);
/* Sets @name to @value in the environment of the daemons spawned from now
 * on (after the harness's own settings, so it may override them); @value
 * NULL removes @name from it. E.g. LD_PRELOAD for a fault-injection shim. */
void reserved_test_daemon_set_env (ReservedTestDaemon *self, const char *name, const char *value);

/* Puts @prefix (e.g. "ip", "netns", "exec", NAME: the daemon on another
 * host of a test bed) in front of the command line of the daemons spawned
 * from now on, before any wrapper; NULL for none. The prefix must exec the
 * daemon in its own process, which the bus then reports as the owner. */
void reserved_test_daemon_set_prefix (ReservedTestDaemon *self, const char *const *prefix);

/* The daemons spawned from now on serve the private bus as their system
 * bus (--system, with DBUS_SYSTEM_BUS_ADDRESS pointing at it), where
 * polkit decides who is an administrator; see reserved-test-polkit.h. */
void reserved_test_daemon_use_system_bus (ReservedTestDaemon *self);

/* Spawns @argv, another service such as polkitd, with the private bus as
 * its system and session bus and its output in TMPDIR/@log_name, and waits
 * until it owns @bus_name. */
ReservedTestProcess *reserved_test_daemon_spawn_service (ReservedTestDaemon *self,
                                                         const char *const *argv,
                                                         const char *bus_name,
                                                         const char *log_name);

/* Spawns `reserved --session --database D --config C` plus @extra_args
 * (nullable) without waiting for anything. The caller owns the process. */
ReservedTestProcess *reserved_test_daemon_spawn (ReservedTestDaemon *self,
                                                 const char *const *extra_args);

/* Spawns the daemon the harness manages (there must be none running) and
 * waits until it owns the bus name; if it exits first, fails with its
 * output. Used for the first start and for every restart. */
void reserved_test_daemon_start (ReservedTestDaemon *self);
void reserved_test_daemon_start_with_args (ReservedTestDaemon *self, const char *const *extra_args);
/* Waits until @process owns the bus name; fails with its output if it
 * exits first. */
void reserved_test_daemon_wait_ready (ReservedTestDaemon *self, ReservedTestProcess *process);
/* The managed daemon, or NULL. */
ReservedTestProcess *reserved_test_daemon_get_process (ReservedTestDaemon *self);
/* Takes over the managed daemon (transfer full), e.g. to watch it lose
 * the name; the harness then manages none. */
ReservedTestProcess *reserved_test_daemon_steal_process (ReservedTestDaemon *self);

/* Stops the managed daemon (asserting exit status 0) and starts it again on
 * the same database and configuration. */
void reserved_test_daemon_restart (ReservedTestDaemon *self);
/* SIGKILL, reap, and wait until the bus has dropped its name. */
void reserved_test_daemon_kill (ReservedTestDaemon *self);
/* SIGTERM, and assert exit status 0 (the wrapper's verdict included). */
void reserved_test_daemon_stop (ReservedTestDaemon *self);
/* The pid of the connection that owns org.reserved.Reserve1, 0 if none. */
GPid reserved_test_daemon_get_owner_pid (ReservedTestDaemon *self);
/* Waits until nobody owns org.reserved.Reserve1. */
void reserved_test_daemon_wait_name_gone (ReservedTestDaemon *self);

/* A new private connection to the test bus; asserts success. */
GDBusConnection *reserved_test_connect (const char *address);
/* A proxy for the daemon's object on @connection; asserts success. */
ReserveReserve1 *reserved_test_proxy_new (GDBusConnection *connection);

/* Helpers: the test program itself, run again in another role.
 *
 * reserved_test_main() runs the role its helper table names, and
 * reserved_test_spawn_helper() runs `/proc/self/exe --helper ARGS...`
 * with @stdin_fd as its stdin, @stdout_fd as its stdout and @fd3 as its
 * file descriptor 3 (each -1 for none: /dev/null, inherited, closed), as
 * @run_as ((uid_t) -1: the same uid). Helpers die with the test. */

GPid reserved_test_spawn_helper (const char *const *args,
                                 uid_t run_as,
                                 int stdin_fd,
                                 int stdout_fd,
                                 int fd3);
/* Waits (bounded) for a helper and asserts it exited with status 0. */
void reserved_test_wait_helper (GPid pid, const char *what);

/* Spawns a helper as @run_as that reads requests on its stdin and answers
 * on its stdout: the test writes to *@requests and reads *@answers. The
 * pipes are close-on-exec, so that no other child (another helper, a
 * restarted daemon) holds them open and hides the helper's exit. */
GPid reserved_test_spawn_conversation (const char *const *args,
                                       uid_t run_as,
                                       FILE **requests,
                                       FILE **answers);

/* (transfer full) Runs a helper as @run_as to its end, asserting it exited
 * with status 0 (@what names it in messages); returns what it printed. */
char *reserved_test_run_helper (const char *const *args, uid_t run_as, const char *what);

/* (transfer full) Reads @fd to its end. */
char *reserved_test_read_all (int fd);

/* (transfer full) The AddressSanitizer runtime @binary (e.g. the daemon
 * under test) links, as ldd resolves it, or NULL for a build without it. */
char *reserved_test_asan_runtime (const char *binary);

/* The uid the permission tests call as. */
#define RESERVED_TEST_NOBODY_UID ((uid_t) 65534)

G_END_DECLS
