/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* For sigabbrev_np(): a death is reported as "signal 9 (SIGKILL)". */
#define _GNU_SOURCE

#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reserve-text.h"

#include <gio/gio.h>
#include <glib-unix.h>

struct _Pool {
  PoolChild *children;
  guint n_slots;
  GPid parent_pid;
  int barrier[2]; /* [1] is -1 once released */
};

/* --- in a child ------------------------------------------------------------ */

void
pool_write_or_exit (int fd, const void *data, gsize size)
{
  const char *next = data;

  while (size > 0)
    {
      ssize_t written = write (fd, next, size);

      if (written < 0 && errno == EINTR)
        continue;
      if (written <= 0)
        _exit (POOL_EXIT_PARENT_GONE);
      next += written;
      size -= (gsize) written;
    }
}

gboolean
pool_read_all (int fd, void *data, gsize size)
{
  char *next = data;

  while (size > 0)
    {
      ssize_t got = read (fd, next, size);

      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        return FALSE;
      next += got;
      size -= (gsize) got;
    }
  return TRUE;
}

void
pool_wait_at_barrier (int barrier_fd)
{
  char byte;
  ssize_t got;

  /* Only the parent holds the write end, and it never writes: read()
   * returns 0 for every waiting child at once when the parent closes it.
   * A child forked after the release finds it closed and goes at once. */
  do
    got = read (barrier_fd, &byte, 1);
  while (got < 0 && errno == EINTR);
  close (barrier_fd);
}

/* Everything a new child must shed before it does its work. */
static void
become_child (const Pool *pool)
{
  /* Holding the barrier's write end would keep every child waiting, and
   * holding another child's pipes would hide that child's end of them. */
  if (pool->barrier[1] >= 0)
    close (pool->barrier[1]);
  for (guint i = 0; i < pool->n_slots; i++)
    {
      const PoolChild *other = &pool->children[i];

      if (other->pid == 0)
        continue;
      close (other->report_fd);
      if (other->command_fd >= 0)
        close (other->command_fd);
    }
  /* The parent may ignore SIGPIPE to survive a child's death; a child
   * whose parent stopped reading has nothing left to do. */
  signal (SIGPIPE, SIG_DFL);
  /* A child must not outlive the run, say if the parent is killed. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != pool->parent_pid)
    _exit (POOL_EXIT_PARENT_GONE);
}

/* --- in the parent --------------------------------------------------------- */

Pool *
pool_new (guint n_slots, GError **error)
{
  g_autoptr(Pool) pool = g_new0 (Pool, 1);

  g_return_val_if_fail (n_slots > 0, NULL);

  pool->barrier[0] = pool->barrier[1] = -1;
  pool->children = g_new0 (PoolChild, n_slots);
  pool->n_slots = n_slots;
  pool->parent_pid = getpid ();
  if (!g_unix_open_pipe (pool->barrier, FD_CLOEXEC, error))
    return NULL;
  return g_steal_pointer (&pool);
}

guint
pool_get_n_slots (Pool *pool)
{
  return pool->n_slots;
}

PoolChild *
pool_get_child (Pool *pool, guint slot)
{
  /* A slot past the end is a bug in the caller, not a state to handle. */
  g_assert (slot < pool->n_slots);
  return &pool->children[slot];
}

int
pool_find_free_slot (Pool *pool)
{
  for (guint i = 0; i < pool->n_slots; i++)
    if (pool->children[i].pid == 0)
      return (int) i;
  return -1;
}

static gboolean
set_errno_error (GError **error, int saved_errno)
{
  g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       g_strerror (saved_errno));
  return FALSE;
}

static void
close_pipe (int fds[2])
{
  if (fds[0] >= 0)
    close (fds[0]);
  if (fds[1] >= 0)
    close (fds[1]);
}

gboolean
pool_spawn (Pool *pool,
            guint slot,
            gboolean with_commands,
            PoolChildFunc body,
            gpointer data,
            GError **error)
{
  PoolChild *child = pool_get_child (pool, slot);
  int report[2] = { -1, -1 };
  int commands[2] = { -1, -1 };
  pid_t pid;

  g_return_val_if_fail (child->pid == 0, FALSE);

  if (pipe2 (report, O_CLOEXEC) != 0 || (with_commands && pipe2 (commands, O_CLOEXEC) != 0))
    {
      int saved_errno = errno;

      close_pipe (report);
      close_pipe (commands);
      return set_errno_error (error, saved_errno);
    }

  /* Whatever stdio holds would otherwise be written again by the child. */
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid < 0)
    {
      int saved_errno = errno;

      close_pipe (report);
      close_pipe (commands);
      return set_errno_error (error, saved_errno);
    }
  if (pid == 0)
    {
      PoolChildEnds ends = {
        .report_fd = report[1],
        .command_fd = commands[0],
        .barrier_fd = pool->barrier[0],
      };

      close (report[0]);
      if (commands[1] >= 0)
        close (commands[1]);
      become_child (pool);
      body (&ends, data);
      _exit (0);
    }

  close (report[1]);
  if (commands[0] >= 0)
    close (commands[0]);
  memset (child, 0, sizeof *child);
  child->pid = pid;
  child->report_fd = report[0];
  child->command_fd = commands[1];
  return TRUE;
}

void
pool_release (Pool *pool)
{
  if (pool->barrier[1] < 0)
    return;
  close (pool->barrier[1]);
  pool->barrier[1] = -1;
}

gboolean
pool_is_released (Pool *pool)
{
  return pool->barrier[1] < 0;
}

gboolean
pool_reap (Pool *pool, guint slot, int flags)
{
  PoolChild *child = pool_get_child (pool, slot);
  pid_t got;

  if (child->reaped)
    return TRUE;
  do
    got = waitpid (child->pid, &child->wait_status, flags);
  while (got < 0 && errno == EINTR);
  if (got == child->pid || (got < 0 && errno == ECHILD))
    child->reaped = TRUE;
  return child->reaped;
}

void
pool_kill_all (Pool *pool)
{
  for (guint i = 0; i < pool->n_slots; i++)
    if (pool->children[i].pid != 0 && !pool->children[i].reaped)
      kill (pool->children[i].pid, SIGKILL);
}

int
pool_finish (Pool *pool, guint slot)
{
  PoolChild *child = pool_get_child (pool, slot);
  int status;

  close (child->report_fd);
  if (child->command_fd >= 0)
    close (child->command_fd);
  pool_reap (pool, slot, 0);
  status = child->wait_status;
  memset (child, 0, sizeof *child);
  return status;
}

void
pool_free (Pool *pool)
{
  if (pool == NULL)
    return;

  pool_kill_all (pool);
  for (guint i = 0; i < pool->n_slots; i++)
    if (pool->children[i].pid != 0)
      pool_finish (pool, i);
  close_pipe (pool->barrier);
  g_free (pool->children);
  g_free (pool);
}

char *
pool_describe_wait_status (int status)
{
  if (WIFSIGNALED (status))
    {
      const char *name = sigabbrev_np (WTERMSIG (status));

      if (name == NULL)
        return g_strdup_printf (_ ("was killed by signal %d"), WTERMSIG (status));
      return g_strdup_printf (_ ("was killed by signal %d (SIG%s)"), WTERMSIG (status), name);
    }
  if (WIFEXITED (status))
    return g_strdup_printf (_ ("exited with status %d"), WEXITSTATUS (status));
  return g_strdup_printf (_ ("ended with wait status 0x%x"), (guint) status);
}

/* --- one-off children ------------------------------------------------------ */

typedef struct {
  PoolCallFunc func;
  gconstpointer data;
  gpointer answer;
  gsize size;
} Call;

static void
answer_call (const PoolChildEnds *ends, gpointer user_data)
{
  const Call *call = user_data;

  memset (call->answer, 0, call->size);
  call->func (call->data, call->answer);
  pool_write_or_exit (ends->report_fd, call->answer, call->size);
}

gboolean
pool_call_in_child (const char *what,
                    PoolCallFunc func,
                    gconstpointer data,
                    gpointer answer,
                    gsize size,
                    GError **error)
{
  g_autoptr(Pool) pool = NULL;
  g_autoptr(GError) fork_error = NULL;
  g_autofree char *ending = NULL;
  Call call = { func, data, answer, size };
  gboolean answered;
  GPid pid;
  int status;

  g_return_val_if_fail (size <= PIPE_BUF, FALSE);

  pool = pool_new (1, error);
  if (pool == NULL)
    return FALSE;
  if (!pool_spawn (pool, 0, FALSE, answer_call, &call, &fork_error))
    {
      g_set_error (error, fork_error->domain, fork_error->code,
                   _ ("cannot fork a process for %s: %s"), _ (what), fork_error->message);
      return FALSE;
    }
  pid = pool_get_child (pool, 0)->pid;
  answered = pool_read_all (pool_get_child (pool, 0)->report_fd, answer, size);
  status = pool_finish (pool, 0);

  if (answered && WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return TRUE;
  ending = pool_describe_wait_status (status);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               _ ("the process for %s (pid %d) %s before it answered"), _ (what), (int) pid,
               ending);
  return FALSE;
}
