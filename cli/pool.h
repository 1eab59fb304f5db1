/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Forked child processes that report to their parent through pipes: the
 * buyers of `reserve race` and `reserve bench`, and the one-off children
 * through which a parent talks to the bus without holding GDBus itself.
 *
 * Processes, not threads, because both commands are about separate
 * programs: each child has its own file descriptors, locks and bus
 * connection. Pipes, not shared memory, so that a child can only tell the
 * parent something, never touch the parent's counts.
 *
 * A pool has a fixed number of slots, each holding at most one child at a
 * time (a slot is reused once its child is finished). Every child gets a
 * pipe to report up, optionally a pipe to be told things down, and the
 * read end of the pool's start barrier: children that wait at it all go at
 * once when the parent releases it, however the scheduler started them.
 *
 * A child must not outlive its parent (it is killed when the parent dies),
 * and holds none of the parent's ends of other children's pipes, so that
 * closing a pipe in the parent is seen by its own child alone. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The exit status of a child whose parent is gone: nobody is left to tell. */
#define POOL_EXIT_PARENT_GONE 70

/* --- in the parent --------------------------------------------------------- */

typedef struct {
  GPid pid;       /* 0: the slot is free */
  int report_fd;  /* read end of the pipe the child writes to */
  int command_fd; /* write end of the pipe the child reads; -1 if none */
  gboolean reaped;
  int wait_status; /* waitpid()'s, once reaped */
} PoolChild;

/* What a child holds of its pipes. */
typedef struct {
  int report_fd;  /* write end */
  int command_fd; /* read end; -1 if none */
  int barrier_fd; /* read end of the start barrier */
} PoolChildEnds;

/* The child's work, run after the fork. When it returns, the child exits
 * with status 0 (with _exit(): the parent's stdio buffers and atexit
 * handlers are not the child's to run). */
typedef void (*PoolChildFunc) (const PoolChildEnds *ends, gpointer data);

typedef struct _Pool Pool;

Pool *pool_new (guint n_slots, GError **error);
/* Kills every child still running, reaps it and closes every pipe. */
void pool_free (Pool *pool);

guint pool_get_n_slots (Pool *pool);
PoolChild *pool_get_child (Pool *pool, guint slot);
/* The first free slot, or -1 when all are taken. */
int pool_find_free_slot (Pool *pool);

/* Forks a child into the free @slot and runs @body (@data) in it. On
 * failure @error (a G_IO_ERROR) carries only the system's reason, for the
 * caller to say what it was forking. */
gboolean pool_spawn (Pool *pool,
                     guint slot,
                     gboolean with_commands,
                     PoolChildFunc body,
                     gpointer data,
                     GError **error);

/* Lets every child waiting at the barrier go; a child that reaches it
 * afterwards goes at once. */
void pool_release (Pool *pool);
gboolean pool_is_released (Pool *pool);

/* Waits for @slot's child (waitpid() @flags: 0 or WNOHANG); TRUE once it
 * has been reaped. */
gboolean pool_reap (Pool *pool, guint slot, int flags);
/* SIGKILL for every child not yet reaped. */
void pool_kill_all (Pool *pool);
/* Closes @slot's pipes, waits for its child (which must have exited or
 * been killed) and frees the slot. Returns the child's wait status. */
int pool_finish (Pool *pool, guint slot);

/* How a process ended, from its waitpid() status, as the end of a
 * sentence: "was killed by signal 9 (SIGKILL)", "exited with status 1". */
char *pool_describe_wait_status (int status);

/* Runs @func in a forked child, which fills in @answer (@size bytes, at
 * most PIPE_BUF), and copies that answer back: how a parent that must
 * keep forking talks D-Bus without ever starting GDBus itself (a process
 * that forks after GDBus started its worker thread leaves the child
 * without one). @what names the work in an error. */
typedef void (*PoolCallFunc) (gconstpointer data, gpointer answer);

gboolean pool_call_in_child (const char *what,
                             PoolCallFunc func,
                             gconstpointer data,
                             gpointer answer,
                             gsize size,
                             GError **error);

/* --- in a child ------------------------------------------------------------ */

/* Writes all of @data to the parent, or exits with POOL_EXIT_PARENT_GONE
 * when the parent no longer reads. */
void pool_write_or_exit (int fd, const void *data, gsize size);
/* Reads exactly @size bytes: FALSE at the end of the pipe. */
gboolean pool_read_all (int fd, void *data, gsize size);
/* Blocks until the parent releases the barrier, then closes @barrier_fd. */
void pool_wait_at_barrier (int barrier_fd);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pool, pool_free)

G_END_DECLS
