/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* For sigabbrev_np(): an interruption is reported as "SIGINT". */
#define _GNU_SOURCE

#include "race-pool.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"
#include "reserve-text.h"

/* How often the parent wakes up to redraw the progress line, and how long
 * a run must last before it shows one: short runs print nothing extra. */
#define PROGRESS_INTERVAL_MS 200
#define PROGRESS_AFTER_USEC  (1 * G_USEC_PER_SEC)

/* --- the messages ---------------------------------------------------------- */

typedef enum {
  MESSAGE_READY = 1, /* prepared, waiting at the barrier */
  MESSAGE_DYING,     /* the --kill-one buyer's last words */
  MESSAGE_RESULT,
} MessageKind;

/* One fixed-size record per message. A write of at most PIPE_BUF bytes to
 * a pipe is atomic, so the parent always reads whole messages, even from a
 * buyer that dies right after sending one. */
typedef struct {
  guint32 kind;
  guint32 index;
  gint32 pid;
  guint32 outcome;
  gint64 seen;
  gint64 start_time;
  gint64 read_time;
  gint64 write_time;
  gint64 end_time;
  guint64 order;
  guint32 busy_retries;
  char detail[256];
} Message;

G_STATIC_ASSERT (sizeof (Message) <= PIPE_BUF);
G_STATIC_ASSERT (sizeof (((Message *) NULL)->detail) == sizeof (((RaceBuyer *) NULL)->detail));

/* --- in the buyer ---------------------------------------------------------- */

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
  pool_write_or_exit (buyer->report_fd, &message, sizeof message);
}

void
race_buyer_wait_for_start (RaceBuyer *buyer)
{
  send_message (buyer, MESSAGE_READY);
  pool_wait_at_barrier (buyer->barrier_fd);
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

/* What the parent knows of the buyer in one slot of the process pool. */
typedef struct {
  guint index;    /* 0: the slot is free */
  gboolean ready; /* sent READY, or is gone */
  gsize have;     /* bytes of @message read so far */
  Message message;
} Slot;

typedef struct {
  const RacePoolSpec *spec;
  RaceBuyerResult *results;
  Pool *processes;
  Slot *slots; /* one per slot of @processes */
  guint n_slots;
  struct pollfd *pollfds;
  guint *polled; /* the slot of each pollfd */
  gint64 started;
  gint64 release_time; /* 0 until released */
  guint next;          /* the next buyer to fork */
  guint running;
  guint unready; /* forked before the release, not ready yet */
  guint done;
  guint sold;
  gint64 progress_time; /* 0: no progress line shown */
  struct sigaction old_sigint;
  struct sigaction old_sigterm;
} RacePool;

static volatile sig_atomic_t interrupted_by = 0;

static void
on_interrupt (int signal_number)
{
  interrupted_by = signal_number;
}

/* Without SA_RESTART, so that poll() returns at once. */
static void
catch_interrupts (RacePool *pool)
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
restore_interrupts (const RacePool *pool)
{
  sigaction (SIGINT, &pool->old_sigint, NULL);
  sigaction (SIGTERM, &pool->old_sigterm, NULL);
}

typedef struct {
  const RacePool *pool;
  guint index;
} BuyerStart;

static void
run_buyer (const PoolChildEnds *ends, gpointer data)
{
  const BuyerStart *start = data;
  const RacePoolSpec *spec = start->pool->spec;
  RaceBuyer buyer;

  restore_interrupts (start->pool);
  memset (&buyer, 0, sizeof buyer);
  buyer.index = start->index;
  g_snprintf (buyer.name, sizeof buyer.name, "buyer-%u", start->index);
  buyer.victim = spec->victim == start->index;
  buyer.outcome = RACE_OUTCOME_NONE;
  buyer.seen = -1;
  buyer.report_fd = ends->report_fd;
  buyer.barrier_fd = ends->barrier_fd;

  spec->body (&buyer, spec->data);
  send_message (&buyer, MESSAGE_RESULT);
}

static gboolean
spawn_buyer (RacePool *pool, guint slot, GError **error)
{
  BuyerStart start = { pool, pool->next };
  g_autoptr(GError) fork_error = NULL;

  if (!pool_spawn (pool->processes, slot, FALSE, run_buyer, &start, &fork_error))
    {
      g_set_error (error, fork_error->domain, fork_error->code,
                   _ ("cannot fork buyer-%u: %s; try a smaller --jobs"), start.index,
                   fork_error->message);
      return FALSE;
    }

  memset (&pool->slots[slot], 0, sizeof pool->slots[slot]);
  pool->slots[slot].index = start.index;
  pool->results[start.index - 1].pid = pool_get_child (pool->processes, slot)->pid;
  pool->next++;
  pool->running++;
  if (pool->release_time == 0)
    pool->unready++;
  return TRUE;
}

/* Forks buyers until the pool is full or all were forked. A failed fork
 * is fatal only if no buyer is left running, whose end would make room
 * for another try. */
static gboolean
fill_pool (RacePool *pool, GError **error)
{
  while (pool->running < pool->n_slots && pool->next <= pool->spec->n_buyers)
    {
      g_autoptr(GError) fork_error = NULL;

      if (spawn_buyer (pool, (guint) pool_find_free_slot (pool->processes), &fork_error))
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
release (RacePool *pool)
{
  pool->release_time = g_get_monotonic_time ();
  pool_release (pool->processes);
}

static void
take_message (RacePool *pool, Slot *slot)
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
reap (RacePool *pool, guint i)
{
  Slot *slot = &pool->slots[i];

  /* The buyer closed its pipe by exiting, or was killed, so this does not
   * wait long. */
  pool->results[slot->index - 1].wait_status = pool_finish (pool->processes, i);

  if (!slot->ready && pool->release_time == 0)
    pool->unready--;
  slot->index = 0;
  pool->running--;
  pool->done++;
}

/* FALSE once the buyer closed its end: it has exited, or is exiting. */
static gboolean
read_from_slot (RacePool *pool, guint i)
{
  Slot *slot = &pool->slots[i];
  int fd = pool_get_child (pool->processes, i)->report_fd;
  char *into = (char *) &slot->message + slot->have;
  ssize_t got = read (fd, into, sizeof slot->message - slot->have);

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
show_progress (RacePool *pool)
{
  gint64 now = g_get_monotonic_time ();

  if (!pool->spec->progress || now - pool->started < PROGRESS_AFTER_USEC ||
      now - pool->progress_time < PROGRESS_INTERVAL_MS * 1000)
    return;
  fputc ('\r', stderr);
  fprintf (stderr, _ ("%s: %u/%u buyers done, %u sold"), pool->spec->label, pool->done,
           pool->spec->n_buyers, pool->sold);
  pool->progress_time = now;
}

static void
clear_progress (const RacePool *pool)
{
  if (pool->progress_time != 0)
    fputs ("\r\033[K", stderr);
}

/* Waits (at most one progress interval) for reports and ends, and handles
 * them. */
static void
wait_for_buyers (RacePool *pool)
{
  guint n = 0;

  for (guint i = 0; i < pool->n_slots; i++)
    {
      if (pool->slots[i].index == 0)
        continue;
      pool->pollfds[n].fd = pool_get_child (pool->processes, i)->report_fd;
      pool->pollfds[n].events = POLLIN;
      pool->pollfds[n].revents = 0;
      pool->polled[n] = i;
      n++;
    }
  if (poll (pool->pollfds, n, PROGRESS_INTERVAL_MS) <= 0)
    return; /* a timeout, or EINTR: the caller looks at the time and the signals */

  for (guint i = 0; i < n; i++)
    {
      if (pool->pollfds[i].revents == 0)
        continue;
      if (!read_from_slot (pool, pool->polled[i]))
        reap (pool, pool->polled[i]);
    }
}

static void
kill_everyone (RacePool *pool)
{
  pool_kill_all (pool->processes);
  for (guint i = 0; i < pool->n_slots; i++)
    if (pool->slots[i].index != 0)
      reap (pool, i);
}

static gint64
relative_time (gint64 time, gint64 origin)
{
  return time == 0 ? -1 : MAX (time - origin, 0);
}

static void
make_times_relative (RacePool *pool)
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
race_pool_run (const RacePoolSpec *spec, RaceBuyerResult *results, gdouble *seconds, GError **error)
{
  RacePool pool;
  gboolean ok = TRUE;

  g_return_val_if_fail (spec->n_buyers > 0 && spec->jobs > 0, FALSE);

  memset (&pool, 0, sizeof pool);
  pool.spec = spec;
  pool.results = results;
  pool.n_slots = MIN (spec->jobs, spec->n_buyers);
  pool.next = 1;
  pool.started = g_get_monotonic_time ();
  for (guint i = 0; i < spec->n_buyers; i++)
    {
      memset (&results[i], 0, sizeof results[i]);
      results[i].index = i + 1;
      results[i].outcome = RACE_OUTCOME_NONE;
      results[i].seen = -1;
    }
  pool.processes = pool_new (pool.n_slots, error);
  if (pool.processes == NULL)
    return FALSE;
  pool.slots = g_new0 (Slot, pool.n_slots);
  pool.pollfds = g_new0 (struct pollfd, pool.n_slots);
  pool.polled = g_new0 (guint, pool.n_slots);
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
                       _ ("interrupted by SIG%s; stopped the buyers"),
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
  pool_free (pool.processes);
  g_free (pool.slots);
  g_free (pool.pollfds);
  g_free (pool.polled);
  return ok;
}
