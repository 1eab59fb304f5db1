/* For sigabbrev_np(): a death is reported as "signal 9 (SIGKILL)". */
#define _GNU_SOURCE

#include "race-pool.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

/* How often the parent wakes up to redraw the progress line, and how long
 * a run must last before it shows one: short runs print nothing extra. */
#define PROGRESS_INTERVAL_MS  200
#define PROGRESS_AFTER_USEC   (1 * G_USEC_PER_SEC)

/* --- the messages ---------------------------------------------------------- */

typedef enum {
  MESSAGE_READY = 1,   /* prepared, waiting at the barrier */
  MESSAGE_DYING,       /* the --kill-one buyer's last words */
  MESSAGE_RESULT,
} MessageKind;

/* One fixed-size record per message. A write of at most PIPE_BUF bytes to
 * a pipe is atomic, so the parent always reads whole messages, even from a
 * buyer that dies right after sending one. */
typedef struct {
  guint32 kind;
  guint32 index;
  gint32  pid;
  guint32 outcome;
  gint64  seen;
  gint64  start_time;
  gint64  read_time;
  gint64  write_time;
  gint64  end_time;
  guint64 order;
  guint32 busy_retries;
  char    detail[256];
} Message;

G_STATIC_ASSERT (sizeof (Message) <= PIPE_BUF);
G_STATIC_ASSERT (sizeof (((Message *) NULL)->detail) == sizeof (((RaceBuyer *) NULL)->detail));

/* The exit status of a buyer whose parent is gone: nobody is left to tell. */
#define EXIT_PARENT_GONE 70

/* --- in the buyer ---------------------------------------------------------- */

static void
write_all_or_exit (int fd, const void *data, gsize size)
{
  const char *next = data;

  while (size > 0)
    {
      ssize_t written = write (fd, next, size);

      if (written < 0 && errno == EINTR)
        continue;
      if (written <= 0)
        _exit (EXIT_PARENT_GONE);
      next += written;
      size -= (gsize) written;
    }
}

static void
send_message (const RaceBuyer *buyer, MessageKind kind)
{
  Message message;

  memset (&message, 0, sizeof message);
  message.kind = kind;
  message.index = buyer->index;
  message.pid = (gint32) getpid ();
  message.outcome = buyer->outcome;
  message.seen = buyer->seen;
  message.start_time = buyer->start_time;
  message.read_time = buyer->read_time;
  message.write_time = buyer->write_time;
  message.end_time = g_get_monotonic_time ();
  message.order = buyer->order;
  message.busy_retries = buyer->busy_retries;
  memcpy (message.detail, buyer->detail, sizeof message.detail);
  write_all_or_exit (buyer->report_fd, &message, sizeof message);
}

void
race_buyer_wait_for_start (RaceBuyer *buyer)
{
  char byte;
  ssize_t got;

  send_message (buyer, MESSAGE_READY);
  /* Only the parent holds the write end, and it never writes: read()
   * returns 0 for every waiting buyer at once when the parent closes it.
   * A buyer forked after the release finds it closed and goes at once. */
  do
    got = read (buyer->barrier_fd, &byte, 1);
  while (got < 0 && errno == EINTR);
  close (buyer->barrier_fd);
  buyer->barrier_fd = -1;
  buyer->start_time = g_get_monotonic_time ();
}

void
race_buyer_note_read (RaceBuyer *buyer, gint64 seen)
{
  buyer->seen = seen;
  buyer->read_time = g_get_monotonic_time ();
}

void
race_buyer_note_bought (RaceBuyer *buyer)
{
  buyer->outcome = RACE_OUTCOME_BOUGHT;
  buyer->write_time = g_get_monotonic_time ();
}

void
race_buyer_critical_moment (RaceBuyer *buyer)
{
  if (!buyer->victim)
    return;
  /* Told first, so the report can say where it died and what it held;
   * then a death no cleanup code can soften. */
  send_message (buyer, MESSAGE_DYING);
  raise (SIGKILL);
}

void
race_buyer_give_up (RaceBuyer *buyer, RaceOutcome outcome, const char *format, ...)
{
  va_list args;

  buyer->outcome = outcome;
  va_start (args, format);
  g_vsnprintf (buyer->detail, sizeof buyer->detail, format, args);
  va_end (args);
}

/* --- in the parent --------------------------------------------------------- */

typedef struct {
  guint    index;      /* 0: the slot is free */
  GPid     pid;
  int      fd;         /* the read end of the buyer's report pipe */
  gboolean ready;      /* sent READY, or is gone */
  gsize    have;       /* bytes of @message read so far */
  Message  message;
} Slot;

typedef struct {
  const RacePoolSpec *spec;
  RaceBuyerResult    *results;
  Slot               *slots;
  guint               n_slots;
  struct pollfd      *pollfds;
  Slot              **polled;        /* the slot of each pollfd */
  GPid                parent_pid;
  int                 barrier[2];    /* [1] is -1 once released */
  gint64              started;
  gint64              release_time;  /* 0 until released */
  guint               next;          /* the next buyer to fork */
  guint               running;
  guint               unready;       /* forked before the release, not ready yet */
  guint               done;
  guint               sold;
  gint64              progress_time; /* 0: no progress line shown */
  struct sigaction    old_sigint;
  struct sigaction    old_sigterm;
} Pool;

static volatile sig_atomic_t interrupted_by = 0;

static void
on_interrupt (int signal_number)
{
  interrupted_by = signal_number;
}

/* Without SA_RESTART, so that poll() returns at once. */
static void
catch_interrupts (Pool *pool)
{
  struct sigaction action;

  memset (&action, 0, sizeof action);
  action.sa_handler = on_interrupt;
  sigemptyset (&action.sa_mask);
  interrupted_by = 0;
  sigaction (SIGINT, &action, &pool->old_sigint);
  sigaction (SIGTERM, &action, &pool->old_sigterm);
}

static void
restore_interrupts (const Pool *pool)
{
  sigaction (SIGINT, &pool->old_sigint, NULL);
  sigaction (SIGTERM, &pool->old_sigterm, NULL);
}

char *
race_describe_wait_status (int status)
{
  if (WIFSIGNALED (status))
    {
      const char *name = sigabbrev_np (WTERMSIG (status));

      if (name == NULL)
        return g_strdup_printf ("was killed by signal %d", WTERMSIG (status));
      return g_strdup_printf ("was killed by signal %d (SIG%s)", WTERMSIG (status), name);
    }
  if (WIFEXITED (status))
    return g_strdup_printf ("exited with status %d", WEXITSTATUS (status));
  return g_strdup_printf ("ended with wait status 0x%x", (guint) status);
}

/* Everything a new child must shed before it becomes a buyer. */
static void
become_child (const Pool *pool, int own_read_end)
{
  close (own_read_end);
  /* Holding the barrier's write end would keep every buyer waiting. */
  if (pool->barrier[1] >= 0)
    close (pool->barrier[1]);
  for (guint i = 0; i < pool->n_slots; i++)
    if (pool->slots[i].index != 0)
      close (pool->slots[i].fd);
  restore_interrupts (pool);
  /* A buyer must not outlive the run, say if the parent is killed. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != pool->parent_pid)
    _exit (EXIT_PARENT_GONE);
}

static void G_GNUC_NORETURN
run_buyer (const Pool *pool, guint index, int report_fd)
{
  const RacePoolSpec *spec = pool->spec;
  RaceBuyer buyer;

  memset (&buyer, 0, sizeof buyer);
  buyer.index = index;
  g_snprintf (buyer.name, sizeof buyer.name, "buyer-%u", index);
  buyer.victim = spec->victim == index;
  buyer.outcome = RACE_OUTCOME_NONE;
  buyer.seen = -1;
  buyer.report_fd = report_fd;
  buyer.barrier_fd = pool->barrier[0];

  spec->body (&buyer, spec->data);
  send_message (&buyer, MESSAGE_RESULT);
  /* _exit: the parent's stdio buffers and atexit handlers are not ours. */
  _exit (0);
}

static gboolean
spawn_buyer (Pool *pool, Slot *slot, GError **error)
{
  guint index = pool->next;
  int fds[2];
  pid_t pid;

  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    return FALSE;
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid < 0)
    {
      int saved_errno = errno;

      close (fds[0]);
      close (fds[1]);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "cannot fork buyer-%u: %s; try a smaller --jobs",
                   index, g_strerror (saved_errno));
      return FALSE;
    }
  if (pid == 0)
    {
      become_child (pool, fds[0]);
      run_buyer (pool, index, fds[1]);
    }

  close (fds[1]);
  memset (slot, 0, sizeof *slot);
  slot->index = index;
  slot->pid = pid;
  slot->fd = fds[0];
  pool->results[index - 1].pid = pid;
  pool->next++;
  pool->running++;
  if (pool->release_time == 0)
    pool->unready++;
  return TRUE;
}

static Slot *
free_slot (Pool *pool)
{
  for (guint i = 0; i < pool->n_slots; i++)
    if (pool->slots[i].index == 0)
      return &pool->slots[i];
  return NULL;
}

/* Forks buyers until the pool is full or all were forked. A failed fork
 * is fatal only if no buyer is left running, whose end would make room
 * for another try. */
static gboolean
fill_pool (Pool *pool, GError **error)
{
  while (pool->running < pool->n_slots && pool->next <= pool->spec->n_buyers)
    {
      g_autoptr(GError) fork_error = NULL;

      if (spawn_buyer (pool, free_slot (pool), &fork_error))
        continue;
      if (pool->running == 0)
        {
          g_propagate_error (error, g_steal_pointer (&fork_error));
          return FALSE;
        }
      break;
    }
  return TRUE;
}

static void
release (Pool *pool)
{
  pool->release_time = g_get_monotonic_time ();
  close (pool->barrier[1]);
  pool->barrier[1] = -1;
}

static void
take_message (Pool *pool, Slot *slot)
{
  const Message *message = &slot->message;
  RaceBuyerResult *result = &pool->results[slot->index - 1];

  /* Our own children write these; anything else is not worth trusting. */
  if (message->index != slot->index)
    return;

  if (message->kind == MESSAGE_READY)
    {
      if (!slot->ready && pool->release_time == 0)
        pool->unready--;
      slot->ready = TRUE;
      return;
    }

  /* Absolute times for now; made relative to the release at the end. */
  result->seen = message->seen;
  result->start = message->start_time;
  result->read = message->read_time;
  result->write = message->write_time;
  result->end = message->end_time;
  result->busy_retries = message->busy_retries;
  result->order = message->order;
  g_clear_pointer (&result->detail, g_free);
  if (message->detail[0] != '\0')
    result->detail = g_strndup (message->detail, sizeof message->detail);

  if (message->kind == MESSAGE_DYING)
    {
      result->killed_itself = TRUE;
      return;
    }
  result->outcome = (RaceOutcome) message->outcome;
  if (result->outcome == RACE_OUTCOME_BOUGHT)
    pool->sold++;
}

static void
reap (Pool *pool, Slot *slot)
{
  int status = 0;
  pid_t got;

  close (slot->fd);
  /* The buyer closed its pipe by exiting, so this does not wait long. */
  do
    got = waitpid (slot->pid, &status, 0);
  while (got < 0 && errno == EINTR);
  pool->results[slot->index - 1].wait_status = status;

  if (!slot->ready && pool->release_time == 0)
    pool->unready--;
  slot->index = 0;
  pool->running--;
  pool->done++;
}

/* FALSE once the buyer closed its end: it has exited, or is exiting. */
static gboolean
read_from_slot (Pool *pool, Slot *slot)
{
  char *into = (char *) &slot->message + slot->have;
  ssize_t got = read (slot->fd, into, sizeof slot->message - slot->have);

  if (got < 0)
    return errno == EINTR || errno == EAGAIN;
  if (got == 0)
    return FALSE;
  slot->have += (gsize) got;
  if (slot->have == sizeof slot->message)
    {
      take_message (pool, slot);
      slot->have = 0;
    }
  return TRUE;
}

static void
show_progress (Pool *pool)
{
  gint64 now = g_get_monotonic_time ();

  if (!pool->spec->progress || now - pool->started < PROGRESS_AFTER_USEC ||
      now - pool->progress_time < PROGRESS_INTERVAL_MS * 1000)
    return;
  fprintf (stderr, "\r%s: %u/%u buyers done, %u sold",
           pool->spec->label, pool->done, pool->spec->n_buyers, pool->sold);
  pool->progress_time = now;
}

static void
clear_progress (const Pool *pool)
{
  if (pool->progress_time != 0)
    fputs ("\r\033[K", stderr);
}

/* Waits (at most one progress interval) for reports and ends, and handles
 * them. */
static void
wait_for_buyers (Pool *pool)
{
  guint n = 0;

  for (guint i = 0; i < pool->n_slots; i++)
    {
      if (pool->slots[i].index == 0)
        continue;
      pool->pollfds[n].fd = pool->slots[i].fd;
      pool->pollfds[n].events = POLLIN;
      pool->pollfds[n].revents = 0;
      pool->polled[n] = &pool->slots[i];
      n++;
    }
  if (poll (pool->pollfds, n, PROGRESS_INTERVAL_MS) <= 0)
    return;  /* a timeout, or EINTR: the caller looks at the time and the signals */

  for (guint i = 0; i < n; i++)
    {
      if (pool->pollfds[i].revents == 0)
        continue;
      if (!read_from_slot (pool, pool->polled[i]))
        reap (pool, pool->polled[i]);
    }
}

static void
kill_everyone (Pool *pool)
{
  for (guint i = 0; i < pool->n_slots; i++)
    if (pool->slots[i].index != 0)
      kill (pool->slots[i].pid, SIGKILL);
  for (guint i = 0; i < pool->n_slots; i++)
    if (pool->slots[i].index != 0)
      reap (pool, &pool->slots[i]);
}

static gint64
relative_time (gint64 time, gint64 origin)
{
  return time == 0 ? -1 : MAX (time - origin, 0);
}

static void
make_times_relative (Pool *pool)
{
  for (guint i = 0; i < pool->spec->n_buyers; i++)
    {
      RaceBuyerResult *result = &pool->results[i];

      result->start = relative_time (result->start, pool->release_time);
      result->read = relative_time (result->read, pool->release_time);
      result->write = relative_time (result->write, pool->release_time);
      result->end = relative_time (result->end, pool->release_time);
    }
}

gboolean
race_pool_run (const RacePoolSpec *spec,
               RaceBuyerResult    *results,
               gdouble            *seconds,
               GError            **error)
{
  Pool pool;
  gboolean ok = TRUE;

  g_return_val_if_fail (spec->n_buyers > 0 && spec->jobs > 0, FALSE);

  memset (&pool, 0, sizeof pool);
  pool.spec = spec;
  pool.results = results;
  pool.n_slots = MIN (spec->jobs, spec->n_buyers);
  pool.next = 1;
  pool.parent_pid = getpid ();
  pool.started = g_get_monotonic_time ();
  for (guint i = 0; i < spec->n_buyers; i++)
    {
      memset (&results[i], 0, sizeof results[i]);
      results[i].index = i + 1;
      results[i].outcome = RACE_OUTCOME_NONE;
      results[i].seen = -1;
    }
  if (!g_unix_open_pipe (pool.barrier, FD_CLOEXEC, error))
    return FALSE;
  pool.slots = g_new0 (Slot, pool.n_slots);
  pool.pollfds = g_new0 (struct pollfd, pool.n_slots);
  pool.polled = g_new0 (Slot *, pool.n_slots);
  catch_interrupts (&pool);

  while (pool.done < spec->n_buyers)
    {
      if (!fill_pool (&pool, error))
        {
          ok = FALSE;
          break;
        }
      /* The whole first batch waits at the barrier before any buyer goes,
       * so they race on every run, not when the scheduler happens to
       * start them together. */
      if (pool.release_time == 0 && pool.unready == 0)
        release (&pool);
      if (interrupted_by != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       "interrupted by SIG%s; stopped the buyers",
                       sigabbrev_np (interrupted_by));
          ok = FALSE;
          break;
        }
      wait_for_buyers (&pool);
      show_progress (&pool);
    }

  kill_everyone (&pool);
  clear_progress (&pool);
  if (pool.release_time == 0)
    pool.release_time = g_get_monotonic_time ();
  *seconds = (gdouble) (g_get_monotonic_time () - pool.release_time) / G_USEC_PER_SEC;
  make_times_relative (&pool);

  restore_interrupts (&pool);
  close (pool.barrier[0]);
  if (pool.barrier[1] >= 0)
    close (pool.barrier[1]);
  g_free (pool.slots);
  g_free (pool.pollfds);
  g_free (pool.polled);
  return ok;
}

/* --- one-off children ------------------------------------------------------ */

gboolean
race_pool_call_in_child (const char   *what,
                         RaceChildFunc func,
                         gconstpointer data,
                         gpointer      answer,
                         gsize         size,
                         GError      **error)
{
  g_autofree char *ending = NULL;
  int fds[2];
  gsize got = 0;
  int status = 0;
  pid_t pid;

  g_return_val_if_fail (size <= PIPE_BUF, FALSE);

  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    return FALSE;
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid < 0)
    {
      int saved_errno = errno;

      close (fds[0]);
      close (fds[1]);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "cannot fork a process for %s: %s", what, g_strerror (saved_errno));
      return FALSE;
    }
  if (pid == 0)
    {
      close (fds[0]);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      memset (answer, 0, size);
      func (data, answer);
      write_all_or_exit (fds[1], answer, size);
      _exit (0);
    }

  close (fds[1]);
  while (got < size)
    {
      ssize_t n = read (fds[0], (char *) answer + got, size - got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (gsize) n;
    }
  close (fds[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;

  if (got == size && WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return TRUE;
  ending = race_describe_wait_status (status);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               "the process for %s (pid %d) %s before it answered",
               what, (int) pid, ending);
  return FALSE;
}
