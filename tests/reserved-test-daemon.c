/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-test-daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "reserved-test-files.h"
#include "reserved-test-postgresql.h"

#define POLL_INTERVAL_US (10 * 1000)

struct _ReservedTestProcess {
  GPid pid;
  char *what;     /* "reserved", "dbus-daemon": for messages */
  char *log_path; /* nullable: output not captured */
  gboolean exited;
  int status;
};

struct _ReservedTestDaemon {
  char *tmpdir;
  char *address;
  char *database;      /* a file, or a postgresql:// URI */
  gboolean postgresql; /* a database of its own on $RESERVED_TEST_POSTGRESQL, dropped at the end */
  char *config;
  uid_t run_as;
  guint n_spawned; /* numbers the log files */
  ReservedTestProcess *bus;
  ReservedTestProcess *daemon; /* the managed daemon, nullable */
  GHashTable *extra_env;       /* name -> value (NULL: unset), for later daemons */
  GStrv prefix;                /* nullable: put before the daemon's command line */
  gboolean system_bus;         /* later daemons serve it as the system bus */
};

/* --- small things -------------------------------------------------------- */

static const char *
wrapper (void)
{
  const char *value = g_getenv ("RESERVED_TEST_DAEMON_WRAPPER");

  return (value != NULL && *value != '\0') ? value : NULL;
}

guint
reserved_test_timeout_seconds (void)
{
  /* valgrind makes start-up and every call many times slower. */
  return wrapper () != NULL ? 120 : 20;
}

static gint64
deadline_after (guint seconds)
{
  return g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
}

static gboolean
on_iterate_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
reserved_test_iterate_until (gboolean (*done) (gpointer data), gpointer data, const char *what)
{
  gboolean timed_out = FALSE;
  guint timeout =
    g_timeout_add_seconds (reserved_test_timeout_seconds (), on_iterate_timeout, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("%s did not happen within %u seconds", what, reserved_test_timeout_seconds ());
  g_source_remove (timeout);
}

char *
reserved_test_read_all (int fd)
{
  GString *out = g_string_new (NULL);
  char buf[4096];

  for (;;)
    {
      ssize_t got = read (fd, buf, sizeof buf);

      if (got < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (got, >=, 0);
      if (got == 0)
        break;
      g_string_append_len (out, buf, got);
    }
  return g_string_free (out, FALSE);
}

static char *
describe_status (int status)
{
  if (WIFEXITED (status))
    return g_strdup_printf ("exit status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return g_strdup_printf ("killed by signal %d (%s)", WTERMSIG (status),
                            g_strsignal (WTERMSIG (status)));
  return g_strdup_printf ("wait status 0x%x", (guint) status);
}

void
reserved_test_assert_exit_status (int status, int code, const char *what, const char *log)
{
  g_autofree char *described = NULL;

  if (WIFEXITED (status) && WEXITSTATUS (status) == code)
    return;
  described = describe_status (status);
  g_error ("%s: expected exit status %d, got %s; its output was:\n%s", what, code, described,
           log != NULL ? log : "(not captured)");
}

/* --- processes ----------------------------------------------------------- */

typedef struct {
  uid_t uid;
  gid_t gid;
} ChildSetup;

/* Runs in the child between fork and exec: only async-signal-safe calls.
 * The child dies with the test, so a failed assertion in the test never
 * leaves a daemon or a bus behind that would keep `meson test` waiting. */
static void
child_setup (gpointer user_data)
{
  const ChildSetup *setup = user_data;

  if (setup != NULL && setup->uid != (uid_t) -1)
    {
      if (setgroups (0, NULL) != 0 || setgid (setup->gid) != 0 || setuid (setup->uid) != 0)
        _exit (126);
    }
  /* After setuid(), which clears the parent-death signal. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
child_setup_init (ChildSetup *setup, uid_t uid)
{
  setup->uid = uid;
  setup->gid = (gid_t) -1;
  if (uid != (uid_t) -1)
    {
      struct passwd *pw = getpwuid (uid);

      setup->gid = pw != NULL ? pw->pw_gid : (gid_t) uid;
    }
}

/* Spawns @argv with stdin from /dev/null and stdout+stderr into @log_path
 * (or inherited when NULL). */
static ReservedTestProcess *
process_spawn (const char *what, char **argv, char **envp, const char *log_path, uid_t run_as)
{
  g_autoptr(GError) error = NULL;
  ReservedTestProcess *process = g_new0 (ReservedTestProcess, 1);
  ChildSetup setup;
  int log_fd = -1;

  child_setup_init (&setup, run_as);
  if (log_path != NULL)
    {
      log_fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      g_assert_cmpint (log_fd, >=, 0);
    }

  g_spawn_async_with_pipes_and_fds (NULL, (const char *const *) argv, (const char *const *) envp,
                                    /* PATH: for a wrapper such as "valgrind". */
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL |
                                      G_SPAWN_SEARCH_PATH,
                                    child_setup, &setup, -1, log_fd, log_fd, NULL, NULL, 0,
                                    &process->pid, NULL, NULL, NULL, &error);
  if (log_fd >= 0)
    close (log_fd);
  g_assert_no_error (error);

  process->what = g_strdup (what);
  process->log_path = g_strdup (log_path);
  return process;
}

GPid
reserved_test_process_get_pid (ReservedTestProcess *process)
{
  return process->pid;
}

gboolean
reserved_test_process_has_exited (ReservedTestProcess *process)
{
  pid_t got;

  if (process->exited)
    return TRUE;
  do
    got = waitpid (process->pid, &process->status, WNOHANG);
  while (got < 0 && errno == EINTR);
  g_assert_cmpint (got, >=, 0);
  if (got == process->pid)
    process->exited = TRUE;
  return process->exited;
}

int
reserved_test_process_wait (ReservedTestProcess *process)
{
  gint64 deadline = deadline_after (reserved_test_timeout_seconds ());

  while (!reserved_test_process_has_exited (process))
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_autofree char *log = reserved_test_process_get_log (process);

          g_error ("%s (pid %d) did not exit within %u s; its output so far:\n%s", process->what,
                   (int) process->pid, reserved_test_timeout_seconds (), log);
        }
      g_usleep (POLL_INTERVAL_US);
    }
  return process->status;
}

char *
reserved_test_process_get_log (ReservedTestProcess *process)
{
  char *contents = NULL;

  if (process->log_path == NULL)
    return g_strdup ("(not captured)");
  if (!g_file_get_contents (process->log_path, &contents, NULL, NULL))
    return g_strdup ("");
  return contents;
}

guint
reserved_test_count_occurrences (const char *text, const char *needle)
{
  guint n = 0;

  for (const char *at = strstr (text, needle); at != NULL; at = strstr (at + 1, needle))
    n++;
  return n;
}

void
reserved_test_process_wait_log (ReservedTestProcess *process, const char *needle, guint count)
{
  gint64 deadline = deadline_after (reserved_test_timeout_seconds ());

  for (;;)
    {
      g_autofree char *log = reserved_test_process_get_log (process);

      if (reserved_test_count_occurrences (log, needle) >= count)
        return;
      if (reserved_test_process_has_exited (process))
        g_error ("%s (pid %d) exited (wait status %d) before saying “%s” %u times; its output:\n%s",
                 process->what, (int) process->pid, process->status, needle, count, log);
      if (g_get_monotonic_time () > deadline)
        g_error ("%s (pid %d) did not say “%s” %u times within %u s; its output so far:\n%s",
                 process->what, (int) process->pid, needle, count, reserved_test_timeout_seconds (),
                 log);
      g_usleep (POLL_INTERVAL_US);
    }
}

void
reserved_test_process_free (ReservedTestProcess *process)
{
  if (process == NULL)
    return;
  if (!reserved_test_process_has_exited (process))
    {
      kill (process->pid, SIGKILL);
      reserved_test_process_wait (process);
    }
  g_spawn_close_pid (process->pid);
  g_free (process->what);
  g_free (process->log_path);
  g_free (process);
}

/* --- helpers ------------------------------------------------------------- */

GPid
reserved_test_spawn_helper (const char *const *args,
                            uid_t run_as,
                            int stdin_fd,
                            int stdout_fd,
                            int fd3)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", &error);
  int source_fds[1] = { fd3 };
  int target_fds[1] = { 3 };
  ChildSetup setup;
  GPid pid = 0;

  g_assert_no_error (error);
  child_setup_init (&setup, run_as);
  g_ptr_array_add (argv, g_steal_pointer (&self_exe));
  g_ptr_array_add (argv, g_strdup (RESERVED_TEST_HELPER_ARG));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  g_spawn_async_with_pipes_and_fds (NULL, (const char *const *) argv->pdata, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD |
                                      (stdin_fd < 0 ? G_SPAWN_STDIN_FROM_DEV_NULL : 0),
                                    child_setup, &setup, stdin_fd, stdout_fd, -1,
                                    fd3 >= 0 ? source_fds : NULL, fd3 >= 0 ? target_fds : NULL,
                                    fd3 >= 0 ? 1 : 0, &pid, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return pid;
}

void
reserved_test_wait_helper (GPid pid, const char *what)
{
  ReservedTestProcess process = { .pid = pid, .what = (char *) what };
  int status = reserved_test_process_wait (&process);

  g_spawn_close_pid (pid);
  /* The helper's own output went straight to the test's stderr. */
  reserved_test_assert_exit_status (status, 0, what, "(see above)");
}

GPid
reserved_test_spawn_conversation (const char *const *args,
                                  uid_t run_as,
                                  FILE **requests,
                                  FILE **answers)
{
  g_autoptr(GError) error = NULL;
  int to_helper[2], from_helper[2];
  GPid pid;

  g_unix_open_pipe (to_helper, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  g_unix_open_pipe (from_helper, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  pid = reserved_test_spawn_helper (args, run_as, to_helper[0], from_helper[1], -1);
  close (to_helper[0]);
  close (from_helper[1]);
  *requests = fdopen (to_helper[1], "w");
  *answers = fdopen (from_helper[0], "r");
  g_assert_nonnull (*requests);
  g_assert_nonnull (*answers);
  return pid;
}

char *
reserved_test_run_helper (const char *const *args, uid_t run_as, const char *what)
{
  g_autoptr(GError) error = NULL;
  int out[2];
  GPid pid;
  char *output;

  g_unix_open_pipe (out, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  pid = reserved_test_spawn_helper (args, run_as, -1, out[1], -1);
  close (out[1]);
  output = reserved_test_read_all (out[0]);
  close (out[0]);
  reserved_test_wait_helper (pid, what);
  return output;
}

/* --- the bus ------------------------------------------------------------- */

/* @name: a bus configuration file in the tests' data folder. */
static char *
bus_config_path (const char *name)
{
  const char *srcdir = g_getenv ("G_TEST_SRCDIR");

  if (srcdir == NULL)
    g_error ("G_TEST_SRCDIR is not set: run the tests with `meson test`");
  return g_build_filename (srcdir, "data", name, NULL);
}

static void
start_bus (ReservedTestDaemon *self, const char *bus_config)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config = bus_config_path (bus_config);
  g_autofree char *socket_arg = g_strdup_printf ("--address=unix:path=%s/bus", self->tmpdir);
  g_autofree char *config_arg = g_strdup_printf ("--config-file=%s", config);
  g_autofree char *log_path = g_build_filename (self->tmpdir, "dbus-daemon.log", NULL);
  g_autofree char *printed = NULL;
  const char *argv[] = {
    "dbus-daemon", config_arg, socket_arg, "--print-address=1", "--nofork", "--nopidfile", NULL,
  };
  ChildSetup setup;
  int out_fd = -1;
  int log_fd;
  GPid pid = 0;

  child_setup_init (&setup, (uid_t) -1);
  log_fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  g_assert_cmpint (log_fd, >=, 0);
  g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
                                      G_SPAWN_STDIN_FROM_DEV_NULL,
                                    child_setup, &setup, -1, -1, log_fd, NULL, NULL, 0, &pid, NULL,
                                    &out_fd, NULL, &error);
  close (log_fd);
  g_assert_no_error (error);

  self->bus = g_new0 (ReservedTestProcess, 1);
  self->bus->pid = pid;
  self->bus->what = g_strdup ("dbus-daemon");
  self->bus->log_path = g_steal_pointer (&log_path);

  /* The bus prints its address once it listens and keeps stdout open
   * until it exits, so read just the first line. */
  {
    GString *line = g_string_new (NULL);
    char c;

    for (;;)
      {
        ssize_t got = read (out_fd, &c, 1);

        if (got < 0 && errno == EINTR)
          continue;
        if (got <= 0 || c == '\n')
          break;
        g_string_append_c (line, c);
      }
    printed = g_string_free (line, FALSE);
  }
  close (out_fd);
  if (*printed == '\0')
    {
      g_autofree char *log = reserved_test_process_get_log (self->bus);
      g_error ("dbus-daemon did not start; its output:\n%s", log);
    }
  self->address = g_steal_pointer (&printed);
}

/* --- the daemon ---------------------------------------------------------- */

static ReservedTestDaemon *daemon_new (const char *parent, const char *bus_config);

ReservedTestDaemon *
reserved_test_daemon_new (void)
{
  return reserved_test_daemon_new_with_bus_config ("test-bus.conf");
}

ReservedTestDaemon *
reserved_test_daemon_new_with_bus_config (const char *bus_config)
{
  return daemon_new (NULL, bus_config);
}

ReservedTestDaemon *
reserved_test_daemon_new_in (const char *parent)
{
  return daemon_new (parent, "test-bus.conf");
}

/* @parent: nullable, for the system's temporary folder. */
static ReservedTestDaemon *
daemon_new (const char *parent, const char *bus_config)
{
  g_autoptr(GError) error = NULL;
  ReservedTestDaemon *self = g_new0 (ReservedTestDaemon, 1);

  if (parent != NULL)
    {
      self->tmpdir = g_build_filename (parent, "reserved-test-XXXXXX", NULL);
      g_assert_nonnull (g_mkdtemp (self->tmpdir));
    }
  else
    self->tmpdir = g_dir_make_tmp ("reserved-test-XXXXXX", &error);
  g_assert_no_error (error);
  /* Other uids (the permission tests' callers, a daemon run as nobody)
   * must reach the bus socket in here. */
  g_assert_cmpint (g_chmod (self->tmpdir, 0755), ==, 0);
  if (reserved_test_postgresql_enabled ())
    {
      g_autofree char *tag = g_path_get_basename (self->tmpdir);

      self->database = reserved_test_postgresql_create (tag);
      self->postgresql = TRUE;
    }
  else
    self->database = g_build_filename (self->tmpdir, "reserved.db", NULL);
  self->config = g_build_filename (self->tmpdir, "reserved.conf", NULL);
  self->run_as = (uid_t) -1;

  /* An empty configuration: the defaults. (The daemon is always given
   * --config, so that no file of the machine's can leak into a test.) */
  reserved_test_daemon_write_config (self, "");

  start_bus (self, bus_config);
  /* For tools the tests run and for anything that asks for the session
   * bus; the daemon gets it in its own environment anyway. */
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", self->address, TRUE);
  g_test_message ("test folder %s, bus %s", self->tmpdir, self->address);
  return self;
}

void
reserved_test_daemon_free (ReservedTestDaemon *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->daemon, reserved_test_process_free);
  if (self->bus != NULL)
    {
      kill (self->bus->pid, SIGTERM);
      reserved_test_process_wait (self->bus);
      g_clear_pointer (&self->bus, reserved_test_process_free);
    }
  if (self->postgresql)
    reserved_test_postgresql_drop (self->database);
  if (g_strcmp0 (g_getenv ("RESERVED_TEST_KEEP_TMPDIR"), "1") == 0)
    g_printerr ("# kept %s\n", self->tmpdir);
  else
    reserved_test_remove_tree (self->tmpdir, FALSE);
  g_free (self->tmpdir);
  g_free (self->address);
  g_free (self->database);
  g_free (self->config);
  g_clear_pointer (&self->extra_env, g_hash_table_unref);
  g_strfreev (self->prefix);
  g_free (self);
}

/* The paths and the address the harness keeps, each read as it is. */
#define DEFINE_GETTER(field)                                              \
  const char *reserved_test_daemon_get_##field (ReservedTestDaemon *self) \
  {                                                                       \
    return self->field;                                                   \
  }

DEFINE_GETTER (tmpdir)
DEFINE_GETTER (address)
DEFINE_GETTER (database)
DEFINE_GETTER (config)

void
reserved_test_daemon_set_database (ReservedTestDaemon *self, const char *path)
{
  /* Its own database goes; one it is given (another daemon's) is not
   * its to drop. */
  if (self->postgresql && g_strcmp0 (path, self->database) != 0)
    {
      reserved_test_postgresql_drop (self->database);
      self->postgresql = FALSE;
    }
  g_free (self->database);
  self->database = g_strdup (path);
}

void
reserved_test_daemon_write_config (ReservedTestDaemon *self, const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (self->config, contents, -1, &error);
  g_assert_no_error (error);
  /* Readable by a daemon run as another uid. */
  g_assert_cmpint (g_chmod (self->config, 0644), ==, 0);
}

void
reserved_test_daemon_set_run_as (ReservedTestDaemon *self, uid_t uid)
{
  g_assert_true (uid == (uid_t) -1 || geteuid () == 0);
  self->run_as = uid;
}

void
reserved_test_daemon_set_env (ReservedTestDaemon *self, const char *name, const char *value)
{
  if (self->extra_env == NULL)
    self->extra_env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (self->extra_env, g_strdup (name), g_strdup (value));
}

ReservedTestProcess *
reserved_test_daemon_spawn (ReservedTestDaemon *self, const char *const *extra_args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) envp = g_get_environ ();
  g_autofree char *log_name = NULL;
  g_autofree char *log_path = NULL;

  for (guint i = 0; self->prefix != NULL && self->prefix[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (self->prefix[i]));
  if (wrapper () != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) words = NULL;

      g_shell_parse_argv (wrapper (), NULL, &words, &error);
      g_assert_no_error (error);
      for (guint i = 0; words[i] != NULL; i++)
        g_ptr_array_add (argv, g_strdup (words[i]));
    }
  g_ptr_array_add (argv, g_strdup (reserved_test_binary ("RESERVED_BINARY")));
  g_ptr_array_add (argv, g_strdup (self->system_bus ? "--system" : "--session"));
  g_ptr_array_add (argv, g_strdup ("--database"));
  g_ptr_array_add (argv, g_strdup (self->database));
  g_ptr_array_add (argv, g_strdup ("--config"));
  g_ptr_array_add (argv, g_strdup (self->config));
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (extra_args[i]));
  g_ptr_array_add (argv, NULL);

  envp = g_environ_setenv (envp, "DBUS_SESSION_BUS_ADDRESS", self->address, TRUE);
  if (self->system_bus)
    envp = g_environ_setenv (envp, "DBUS_SYSTEM_BUS_ADDRESS", self->address, TRUE);
  /* The tests run with fatal warnings; the daemon logs warnings as part of
   * its job (a lost name, a refused file), so only criticals, which are
   * programming errors, abort it. */
  envp = g_environ_setenv (envp, "G_DEBUG", "gc-friendly,fatal-criticals", TRUE);
  envp = g_environ_unsetenv (envp, "STATE_DIRECTORY");
  if (self->extra_env != NULL)
    {
      GHashTableIter iter;
      gpointer name, value;

      /* Last, so that a test may override the settings above too. */
      g_hash_table_iter_init (&iter, self->extra_env);
      while (g_hash_table_iter_next (&iter, &name, &value))
        envp = value != NULL ? g_environ_setenv (envp, name, value, TRUE)
                             : g_environ_unsetenv (envp, name);
    }

  log_name = g_strdup_printf ("reserved-%u.log", ++self->n_spawned);
  log_path = g_build_filename (self->tmpdir, log_name, NULL);
  return process_spawn ("reserved", (char **) argv->pdata, envp, log_path, self->run_as);
}

static GPid
owner_pid (ReservedTestDaemon *self, const char *name)
{
  g_autofree char *bus_arg = g_strdup_printf ("--bus=%s", self->address);
  g_autofree char *name_arg = g_strdup_printf ("string:%s", name);
  g_autofree char *reply_timeout_arg =
    g_strdup_printf ("--reply-timeout=%u", reserved_test_timeout_seconds () * 1000);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[] = {
    "dbus-send",
    bus_arg,
    reply_timeout_arg,
    "--print-reply=literal",
    "--dest=org.freedesktop.DBus",
    "/org/freedesktop/DBus",
    "org.freedesktop.DBus.GetConnectionUnixProcessID",
    name_arg,
    NULL,
  };
  const char *number;
  int status = 0;
  guint64 pid = 0;

  /* A separate process, so that the test process holds no GDBus state. */
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      /* Only the bus's answer means "no owner": a dbus-send that failed
       * otherwise (slow to connect on a loaded machine, say) must not be
       * taken for a name that is gone, or a wait for it would end early. */
      if (strstr (err, "org.freedesktop.DBus.Error.NameHasNoOwner") == NULL)
        g_error ("dbus-send could not ask the bus who owns %s: %s", name, err);
      return 0;
    }
  /* The literal reply is "   uint32 1234". */
  g_strstrip (out);
  number = strrchr (out, ' ');
  number = number != NULL ? number + 1 : out;
  g_assert_true (g_ascii_string_to_unsigned (number, 10, 1, G_MAXINT, &pid, NULL));
  return (GPid) pid;
}

GPid
reserved_test_daemon_get_owner_pid (ReservedTestDaemon *self)
{
  return owner_pid (self, RESERVE_BUS_NAME);
}

void
reserved_test_daemon_run_as_owner (ReservedTestDaemon *self, uid_t uid)
{
  g_autofree char *folder = g_build_filename (self->tmpdir, "state", NULL);
  g_autofree char *database = g_build_filename (folder, "reserved.db", NULL);

  g_assert_cmpint (g_mkdir (folder, 0700), ==, 0);
  g_assert_cmpint (chown (folder, uid, (gid_t) -1), ==, 0);
  /* A server's database is not a file the uid must own. */
  if (!self->postgresql)
    reserved_test_daemon_set_database (self, database);
  reserved_test_daemon_set_run_as (self, uid);
}

void
reserved_test_daemon_set_prefix (ReservedTestDaemon *self, const char *const *prefix)
{
  g_strfreev (self->prefix);
  self->prefix = g_strdupv ((char **) prefix);
}

void
reserved_test_daemon_use_system_bus (ReservedTestDaemon *self)
{
  self->system_bus = TRUE;
}

ReservedTestProcess *
reserved_test_daemon_spawn_service (ReservedTestDaemon *self,
                                    const char *const *argv,
                                    const char *bus_name,
                                    const char *log_name)
{
  g_autofree char *log_path = g_build_filename (self->tmpdir, log_name, NULL);
  g_auto(GStrv) envp = g_get_environ ();
  ReservedTestProcess *process;
  gint64 deadline = deadline_after (reserved_test_timeout_seconds ());

  envp = g_environ_setenv (envp, "DBUS_SESSION_BUS_ADDRESS", self->address, TRUE);
  envp = g_environ_setenv (envp, "DBUS_SYSTEM_BUS_ADDRESS", self->address, TRUE);
  process = process_spawn (argv[0], (char **) argv, envp, log_path, (uid_t) -1);
  while (owner_pid (self, bus_name) != process->pid)
    {
      if (reserved_test_process_has_exited (process) || g_get_monotonic_time () > deadline)
        {
          g_autofree char *log = reserved_test_process_get_log (process);

          g_error ("%s did not own %s (within %u s); its output:\n%s", argv[0], bus_name,
                   reserved_test_timeout_seconds (), log);
        }
      g_usleep (POLL_INTERVAL_US);
    }
  return process;
}

void
reserved_test_daemon_wait_ready (ReservedTestDaemon *self, ReservedTestProcess *process)
{
  gint64 deadline = deadline_after (reserved_test_timeout_seconds ());

  /* Ready means the bus reports *this* process as the owner: a restarted
   * daemon must not be mistaken for its predecessor, nor a --replace for
   * the daemon it replaces. (A wrapper such as valgrind runs the daemon in
   * the very process it was started as.) */
  while (reserved_test_daemon_get_owner_pid (self) != process->pid)
    {
      if (reserved_test_process_has_exited (process))
        {
          g_autofree char *log = reserved_test_process_get_log (process);
          g_autofree char *status = describe_status (process->status);

          g_error ("reserved exited during start-up (%s); its output:\n%s", status, log);
        }
      if (g_get_monotonic_time () > deadline)
        {
          g_autofree char *log = reserved_test_process_get_log (process);

          g_error ("reserved did not own %s within %u s; its output so far:\n%s", RESERVE_BUS_NAME,
                   reserved_test_timeout_seconds (), log);
        }
      g_usleep (POLL_INTERVAL_US);
    }
}

void
reserved_test_daemon_start_with_args (ReservedTestDaemon *self, const char *const *extra_args)
{
  g_assert_null (self->daemon);
  self->daemon = reserved_test_daemon_spawn (self, extra_args);
  reserved_test_daemon_wait_ready (self, self->daemon);
}

void
reserved_test_daemon_start (ReservedTestDaemon *self)
{
  reserved_test_daemon_start_with_args (self, NULL);
}

ReservedTestProcess *
reserved_test_daemon_get_process (ReservedTestDaemon *self)
{
  return self->daemon;
}

ReservedTestProcess *
reserved_test_daemon_steal_process (ReservedTestDaemon *self)
{
  return g_steal_pointer (&self->daemon);
}

void
reserved_test_daemon_wait_name_gone (ReservedTestDaemon *self)
{
  gint64 deadline = deadline_after (reserved_test_timeout_seconds ());

  /* The bus drops the name when it notices the closed socket, which can
   * be a moment after the process is gone. */
  while (reserved_test_daemon_get_owner_pid (self) != 0)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("%s still has an owner %u s after its daemon exited", RESERVE_BUS_NAME,
                 reserved_test_timeout_seconds ());
      g_usleep (POLL_INTERVAL_US);
    }
}

void
reserved_test_daemon_kill (ReservedTestDaemon *self)
{
  g_assert_nonnull (self->daemon);
  g_assert_cmpint (kill (self->daemon->pid, SIGKILL), ==, 0);
  reserved_test_process_wait (self->daemon);
  g_clear_pointer (&self->daemon, reserved_test_process_free);
  reserved_test_daemon_wait_name_gone (self);
}

void
reserved_test_daemon_stop (ReservedTestDaemon *self)
{
  g_autofree char *log = NULL;
  int status;

  g_assert_nonnull (self->daemon);
  g_assert_cmpint (kill (self->daemon->pid, SIGTERM), ==, 0);
  status = reserved_test_process_wait (self->daemon);
  log = reserved_test_process_get_log (self->daemon);
  reserved_test_assert_exit_status (status, 0, "reserved stopped with SIGTERM", log);
  g_clear_pointer (&self->daemon, reserved_test_process_free);
  reserved_test_daemon_wait_name_gone (self);
}

void
reserved_test_daemon_restart (ReservedTestDaemon *self)
{
  reserved_test_daemon_stop (self);
  reserved_test_daemon_start (self);
}

/* --- clients ------------------------------------------------------------- */

GDBusConnection *
reserved_test_connect (const char *address)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection =
    g_dbus_connection_new_for_address_sync (address,
                                            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                              G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                            NULL, NULL, &error);

  g_assert_no_error (error);
  /* The test decides when a connection goes; losing the bus must not take
   * the test process down with SIGTERM. */
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  return connection;
}

ReserveReserve1 *
reserved_test_proxy_new (GDBusConnection *connection)
{
  g_autoptr(GError) error = NULL;
  ReserveReserve1 *proxy =
    reserve_reserve1_proxy_new_sync (connection, G_DBUS_PROXY_FLAGS_NONE, RESERVE_BUS_NAME,
                                     RESERVE_OBJECT_PATH, NULL, &error);

  g_assert_no_error (error);
  /* Generous: a valgrind-wrapped daemon answers slowly, and the crash
   * tests' calls must outlive a restart. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy),
                                    (int) reserved_test_timeout_seconds () * 1000);
  return proxy;
}

char *
reserved_test_asan_runtime (const char *binary)
{
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  const char *argv[] = { "ldd", binary, NULL };
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      /* "\tlibasan.so.8 => /lib/x86_64-linux-gnu/libasan.so.8 (0x...)" */
      g_auto(GStrv) words = g_strsplit_set (g_strstrip (lines[i]), " ", -1);

      if (g_strv_length (words) >= 3 && g_str_has_prefix (words[0], "libasan.so") &&
          g_str_equal (words[1], "=>"))
        return g_strdup (words[2]);
    }
  return NULL;
}
