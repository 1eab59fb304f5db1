/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bench-pool.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool.h"
#include "reserve-names.h"
#include "reserve-text.h"

/* A buyer tells the parent how far it got this often, for the progress
 * line; rarely enough that the messages cost nothing next to the calls. */
#define PROGRESS_INTERVAL_US (200 * 1000)
/* Distinct kinds of error one buyer reports by name; more are "other". */
#define MAX_ERROR_KINDS 16
/* How long a buyer that was told to exit may take before it is killed:
 * longer than one call's timeout would only matter for a hung daemon. */
#define REAP_GRACE_US (5 * G_USEC_PER_SEC)

/* --- messages ----------------------------------------------------------- */

/* Down a buyer's command pipe. Smaller than PIPE_BUF, so written whole. */
typedef enum {
  COMMAND_RUN = 1,
  COMMAND_QUIT,
} CommandKind;

typedef struct {
  guint32 kind;
  guint32 phase;
  guint64 calls; /* 0: timed */
  gint64 duration_us;
  char item[RESERVE_NAME_MAX_BYTES + 1];
} Command;

/* Up a buyer's report pipe: a header, then @size bytes of payload. */
typedef enum {
  MESSAGE_READY = 1,
  MESSAGE_FAILED,     /* could not connect or call: FailedPayload */
  MESSAGE_PROGRESS,   /* ProgressPayload */
  MESSAGE_ERROR_KIND, /* ErrorKindPayload, before the result */
  MESSAGE_RESULT,     /* ResultPayload: the phase is over */
} MessageKind;

typedef struct {
  guint32 kind;
  guint32 size;
} MessageHeader;

typedef struct {
  gint32 code;
  char domain[64];
  char message[512];
} FailedPayload;

typedef struct {
  guint64 calls;
  guint64 failed;
} ProgressPayload;

typedef struct {
  guint64 count;
  guint32 uncertain;
  char name[128];
  char message[256];
} ErrorKindPayload;

typedef struct {
  gint64 start; /* g_get_monotonic_time(): one clock for all processes */
  gint64 end;
  guint64 calls;
  guint64 failed;
  guint64 uncertain;
  BenchHistogram latency;
} ResultPayload;


/* --- in a buyer ---------------------------------------------------------- */

typedef struct {
  guint index;    /* from 1 */
  int command_fd; /* read end */
  int report_fd;  /* write end */
  GDBusConnection *connection;
  char user[32]; /* the customer it buys for */
} Buyer;

typedef struct {
  ErrorKindPayload kinds[MAX_ERROR_KINDS];
  guint n_kinds;
} ErrorTally;

static void
send_message (Buyer *buyer, MessageKind kind, const void *payload, gsize size)
{
  MessageHeader header = { kind, (guint32) size };

  pool_write_or_exit (buyer->report_fd, &header, sizeof header);
  if (size > 0)
    pool_write_or_exit (buyer->report_fd, payload, size);
}

/* Calls that failed without a verdict: the daemon may or may not have
 * sold, so the check afterwards allows for them. */
static gboolean
is_uncertain (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED);
}

/* The D-Bus error name, or for a failure that never reached the bus,
 * "local:" and GIO's name for it ("local:timed-out"). */
static char *
error_name (const GError *error)
{
  char *remote = g_dbus_error_get_remote_error (error);

  if (remote != NULL)
    return remote;
  if (error->domain == G_IO_ERROR)
    {
      g_autoptr(GEnumClass) codes = g_type_class_ref (G_TYPE_IO_ERROR_ENUM);
      GEnumValue *value = g_enum_get_value (codes, error->code);

      if (value != NULL)
        return g_strconcat ("local:", value->value_nick, NULL);
    }
  return g_strdup_printf ("local:%s:%d", g_quark_to_string (error->domain), error->code);
}

static void
tally_error (ErrorTally *tally, GError *error)
{
  g_autofree char *name = error_name (error);
  ErrorKindPayload *kind = NULL;

  g_dbus_error_strip_remote_error (error);
  for (guint i = 0; i < tally->n_kinds && kind == NULL; i++)
    if (strcmp (tally->kinds[i].name, name) == 0)
      kind = &tally->kinds[i];
  if (kind == NULL && tally->n_kinds < MAX_ERROR_KINDS)
    {
      kind = &tally->kinds[tally->n_kinds++];
      g_strlcpy (kind->name, name, sizeof kind->name);
      g_strlcpy (kind->message, error->message, sizeof kind->message);
      kind->uncertain = is_uncertain (error);
    }
  if (kind == NULL)
    {
      /* The last slot gathers everything past the limit. */
      kind = &tally->kinds[MAX_ERROR_KINDS - 1];
      g_strlcpy (kind->name, "other", sizeof kind->name);
    }
  kind->count++;
}

/* One call of the phase; the answer is dropped, only its arrival counts. */
static GVariant *
call_once (Buyer *buyer, BenchPhase phase, const char *item, GError **error)
{
  if (phase == BENCH_PHASE_BASELINE)
    return g_dbus_connection_call_sync (buyer->connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                        "org.freedesktop.DBus.Properties", "Get",
                                        g_variant_new ("(ss)", RESERVE_INTERFACE, "Version"),
                                        G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                        error);
  if (phase == BENCH_PHASE_HOLD)
    {
      g_autoptr(GVariant) held = NULL;
      guint64 hold = 0;

      /* A unit held for a minute, then paid for: the two steps of a sale
       * with a cart. */
      held =
        g_dbus_connection_call_sync (buyer->connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                     RESERVE_INTERFACE, "Hold",
                                     g_variant_new ("(ssu@a{sv})", item, buyer->user, 1u,
                                                    g_variant_new_parsed ("{'ttl': <uint32 60>}")),
                                     G_VARIANT_TYPE ("(txu)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                     error);
      if (held == NULL)
        return NULL;
      g_variant_get (held, "(txu)", &hold, NULL, NULL);
      return g_dbus_connection_call_sync (buyer->connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                          RESERVE_INTERFACE, "Confirm",
                                          g_variant_new ("(t@a{sv})", hold,
                                                         g_variant_new_array (G_VARIANT_TYPE (
                                                                                "{sv}"),
                                                                              NULL, 0)),
                                          G_VARIANT_TYPE ("(tu)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                          error);
    }
  return g_dbus_connection_call_sync (buyer->connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                      RESERVE_INTERFACE, "Buy",
                                      g_variant_new ("(ssu@a{sv})", item, buyer->user, 1u,
                                                     g_variant_new_array (G_VARIANT_TYPE ("{sv}"),
                                                                          NULL, 0)),
                                      G_VARIANT_TYPE ("(tu)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                      error);
}

static void
run_phase (Buyer *buyer, const Command *command)
{
  ResultPayload result = { 0 };
  ErrorTally tally = { 0 };
  BenchPhase phase = command->phase;
  gint64 deadline, next_progress, now;

  result.start = g_get_monotonic_time ();
  deadline = result.start + command->duration_us;
  next_progress = result.start + PROGRESS_INTERVAL_US;
  now = result.start;

  while (command->calls > 0 ? result.calls + result.failed < command->calls : now < deadline)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;
      gint64 sent = now;

      reply = call_once (buyer, phase, command->item, &error);
      now = g_get_monotonic_time ();
      if (reply != NULL)
        {
          result.calls++;
          bench_histogram_record (&result.latency, (guint64) (now - sent));
        }
      else
        {
          result.failed++;
          if (is_uncertain (error))
            result.uncertain++;
          tally_error (&tally, error);
        }
      if (now >= next_progress)
        {
          ProgressPayload progress = { result.calls, result.failed };

          send_message (buyer, MESSAGE_PROGRESS, &progress, sizeof progress);
          next_progress = now + PROGRESS_INTERVAL_US;
        }
    }
  result.end = now;

  for (guint i = 0; i < tally.n_kinds; i++)
    send_message (buyer, MESSAGE_ERROR_KIND, &tally.kinds[i], sizeof tally.kinds[i]);
  send_message (buyer, MESSAGE_RESULT, &result, sizeof result);
}

static void
send_failure (Buyer *buyer, const GError *error)
{
  FailedPayload failed = { 0 };

  failed.code = error->code;
  g_strlcpy (failed.domain, g_quark_to_string (error->domain), sizeof failed.domain);
  g_strlcpy (failed.message, error->message, sizeof failed.message);
  send_message (buyer, MESSAGE_FAILED, &failed, sizeof failed);
}

typedef struct {
  guint index; /* from 1 */
  GBusType bus_type;
  const char *address; /* nullable: @bus_type */
} BuyerStart;

static GDBusConnection *
connect_buyer (const BuyerStart *start, GError **error)
{
  if (start->address == NULL)
    return g_bus_get_sync (start->bus_type, NULL, error);
  return bench_connect_address (start->address, error);
}

/* The whole life of a buyer, in the forked child. */
static void
run_buyer (const PoolChildEnds *ends, gpointer data)
{
  const BuyerStart *start = data;
  Buyer buyer = { .index = start->index,
                  .command_fd = ends->command_fd,
                  .report_fd = ends->report_fd };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  Command command;

  g_snprintf (buyer.user, sizeof buyer.user, "bench-buyer-%u", buyer.index);

  buyer.connection = connect_buyer (start, &error);
  if (buyer.connection != NULL)
    {
      g_dbus_connection_set_exit_on_close (buyer.connection, FALSE);
      /* Also the first round trip, which costs more than the others:
       * the bus and the daemon meet this connection for the first time. */
      reply = call_once (&buyer, BENCH_PHASE_BASELINE, NULL, &error);
    }
  if (reply == NULL)
    {
      bench_error_name_address (&error, start->address);
      send_failure (&buyer, error);
      return;
    }
  send_message (&buyer, MESSAGE_READY, NULL, 0);

  while (pool_read_all (buyer.command_fd, &command, sizeof command) && command.kind == COMMAND_RUN)
    {
      command.item[sizeof command.item - 1] = '\0';
      run_phase (&buyer, &command);
    }
}

/* --- in the parent -------------------------------------------------------- */

/* What the parent knows of a buyer beside its process (pool.h). */
typedef struct {
  guint bus;                /* the index of its address */
  GByteArray *inbox;        /* bytes read, not yet a whole message */
  gboolean answered;        /* said READY or FAILED, or sent its result */
  ProgressPayload progress; /* of the current phase */
} BuyerSlot;

struct _BenchPool {
  Pool *processes;
  BuyerSlot *slots;
  GPid *pids;         /* of the slots, for bench_pool_get_pids() */
  guint n_slots;      /* forked so far */
  guint n_buses;      /* addresses; 0: one bus by type */
  gboolean mid_phase; /* a phase was cut short: buyers may be busy */
  void (*old_sigpipe) (int);
};

static gboolean
set_errno_error (GError **error, int saved_errno, const char *doing)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), _ ("could not %s: %s"),
               _ (doing), g_strerror (saved_errno));
  return FALSE;
}

static int
report_fd (BenchPool *pool, guint index)
{
  return pool_get_child (pool->processes, index)->report_fd;
}

BenchPool *
bench_pool_new (guint n_buyers,
                GBusType bus_type,
                const char *const *addresses,
                guint n_addresses,
                GError **error)
{
  g_autoptr(BenchPool) pool = g_new0 (BenchPool, 1);

  g_return_val_if_fail (n_buyers > 0, NULL);

  /* A buyer that died closes its pipe; writing to it must be an error
   * here, not a signal that kills the whole run. */
  pool->old_sigpipe = signal (SIGPIPE, SIG_IGN);
  pool->processes = pool_new (n_buyers, error);
  if (pool->processes == NULL)
    return NULL;
  pool->slots = g_new0 (BuyerSlot, n_buyers);
  pool->pids = g_new0 (GPid, n_buyers);
  pool->n_buses = n_addresses;
  for (guint i = 0; i < n_buyers; i++)
    {
      guint bus = n_addresses > 0 ? i % n_addresses : 0;
      BuyerStart start = { .index = i + 1,
                           .bus_type = bus_type,
                           .address = n_addresses > 0 ? addresses[bus] : NULL };
      g_autoptr(GError) fork_error = NULL;

      if (!pool_spawn (pool->processes, i, TRUE, run_buyer, &start, &fork_error))
        {
          g_set_error (error, fork_error->domain, fork_error->code,
                       _ ("could not fork a buyer: %s"), fork_error->message);
          return NULL;
        }
      pool->slots[i].bus = bus;
      pool->slots[i].inbox = g_byte_array_new ();
      pool->pids[i] = pool_get_child (pool->processes, i)->pid;
      pool->n_slots++;
    }
  return g_steal_pointer (&pool);
}

/* A buyer closed its pipe, or garbled it, before it answered. */
static gboolean
buyer_vanished (BenchPool *pool, guint index, GError **error)
{
  PoolChild *child = pool_get_child (pool->processes, index);
  g_autofree char *how = NULL;

  /* It may still run if it only garbled its pipe. */
  if (!pool_reap (pool->processes, index, WNOHANG))
    {
      kill (child->pid, SIGKILL);
      pool_reap (pool->processes, index, 0);
    }
  how = pool_describe_wait_status (child->wait_status);
  g_set_error (error, BENCH_ERROR, BENCH_ERROR_FAILED,
               _ ("buyer %u (pid %d) %s before it answered"), index + 1, (int) child->pid, how);
  return FALSE;
}

/* Turns a buyer's failure back into the GError it had, so the CLI reports
 * "not running" or "no bus" exactly as its other commands do. */
static void
set_buyer_failure (GError **error, const guint8 *payload)
{
  FailedPayload copy;

  /* Copied, not cast: the payload sits anywhere in the inbox. */
  memcpy (&copy, payload, sizeof copy);
  copy.domain[sizeof copy.domain - 1] = '\0';
  copy.message[sizeof copy.message - 1] = '\0';
  /* Registers the domains a buyer's error may come from, so their names
   * become the same quarks here. */
  (void) G_DBUS_ERROR;
  (void) G_IO_ERROR;
  g_set_error_literal (error, g_quark_from_string (copy.domain), copy.code, copy.message);
}

/* What the parent gathers while it waits for the buyers. */
typedef struct {
  BenchPool *pool;
  BenchPhaseResult *result; /* nullable: waiting for READY */
  guint pending;            /* buyers yet to answer */
  GError *failure;          /* the first buyer's failure to get ready */
  gint64 first_start;       /* of any buyer's phase */
  gint64 last_end;
  gint64 *bus_start; /* the same per address (n_buses) */
  gint64 *bus_end;
} Collect;

static void
add_result (Collect *collect, const BuyerSlot *slot, const ResultPayload *result)
{
  BenchPhaseResult *sum = collect->result;

  if (sum->buses != NULL)
    {
      BenchBusShare *share = &sum->buses[slot->bus];

      share->calls += result->calls;
      share->failed += result->failed;
      collect->bus_start[slot->bus] = MIN (collect->bus_start[slot->bus], result->start);
      collect->bus_end[slot->bus] = MAX (collect->bus_end[slot->bus], result->end);
    }

  /* The failures were added with their kinds, before the result. */
  sum->calls += result->calls;
  sum->uncertain += result->uncertain;
  bench_histogram_merge (&sum->latency, &result->latency);
  collect->first_start = MIN (collect->first_start, result->start);
  collect->last_end = MAX (collect->last_end, result->end);
}

/* FALSE for a message the buyer should not have sent now. */
static gboolean
handle_message (Collect *collect, BuyerSlot *slot, guint32 kind, const guint8 *payload)
{
  gboolean in_phase = collect->result != NULL;

  switch (kind)
    {
    case MESSAGE_READY:
    case MESSAGE_FAILED:
      if (in_phase || slot->answered)
        return FALSE;
      if (kind == MESSAGE_FAILED && collect->failure == NULL)
        set_buyer_failure (&collect->failure, payload);
      break;
    case MESSAGE_PROGRESS:
      if (!in_phase)
        return FALSE;
      memcpy (&slot->progress, payload, sizeof slot->progress);
      return TRUE;
    case MESSAGE_ERROR_KIND:
      {
        ErrorKindPayload error_kind;

        if (!in_phase)
          return FALSE;
        memcpy (&error_kind, payload, sizeof error_kind);
        error_kind.name[sizeof error_kind.name - 1] = '\0';
        error_kind.message[sizeof error_kind.message - 1] = '\0';
        bench_phase_result_add_error (collect->result, error_kind.name, error_kind.message,
                                      error_kind.count);
      }
      return TRUE;
    case MESSAGE_RESULT:
      {
        /* A copy, aligned: the payload sits anywhere in the inbox. */
        g_autofree ResultPayload *result = g_memdup2 (payload, sizeof *result);

        if (!in_phase || slot->answered)
          return FALSE;
        add_result (collect, slot, result);
        slot->progress.calls = result->calls;
        slot->progress.failed = result->failed;
      }
      break;
    default:
      return FALSE;
    }
  slot->answered = TRUE;
  collect->pending--;
  return TRUE;
}

static gsize
payload_size (guint32 kind)
{
  switch (kind)
    {
    case MESSAGE_READY:
      return 0;
    case MESSAGE_FAILED:
      return sizeof (FailedPayload);
    case MESSAGE_PROGRESS:
      return sizeof (ProgressPayload);
    case MESSAGE_ERROR_KIND:
      return sizeof (ErrorKindPayload);
    case MESSAGE_RESULT:
      return sizeof (ResultPayload);
    default:
      return G_MAXSIZE;
    }
}

/* Reads what buyer @index sent and handles every whole message in it.
 * FALSE when the buyer closed its pipe or sent what it never would. */
static gboolean
read_reports (Collect *collect, guint index)
{
  BuyerSlot *slot = &collect->pool->slots[index];
  guint8 buffer[16384];
  ssize_t got;
  gsize offset = 0;

  do
    got = read (report_fd (collect->pool, index), buffer, sizeof buffer);
  while (got < 0 && errno == EINTR);
  if (got <= 0)
    return FALSE;
  g_byte_array_append (slot->inbox, buffer, (guint) got);

  while (slot->inbox->len - offset >= sizeof (MessageHeader))
    {
      MessageHeader header;

      memcpy (&header, slot->inbox->data + offset, sizeof header);
      if (payload_size (header.kind) != header.size)
        return FALSE;
      if (slot->inbox->len - offset < sizeof header + header.size)
        break;
      if (!handle_message (collect, slot, header.kind, slot->inbox->data + offset + sizeof header))
        return FALSE;
      offset += sizeof header + header.size;
    }
  g_byte_array_remove_range (slot->inbox, 0, (guint) offset);
  return TRUE;
}

static void
report_progress (BenchPool *pool, const BenchPhaseSpec *spec, gint64 started)
{
  guint64 calls = 0, failed = 0;

  for (guint i = 0; i < pool->n_slots; i++)
    {
      calls += pool->slots[i].progress.calls;
      failed += pool->slots[i].progress.failed;
    }
  spec->progress (spec->phase, (gdouble) (g_get_monotonic_time () - started) / G_USEC_PER_SEC,
                  calls, failed, spec->user_data);
}

/* Waits until every buyer has answered, calling @spec's progress function
 * (if any) on the way. */
static gboolean
collect_answers (Collect *collect, const BenchPhaseSpec *spec, GError **error)
{
  BenchPool *pool = collect->pool;
  g_autofree struct pollfd *fds = g_new0 (struct pollfd, pool->n_slots);
  g_autofree guint *index_of = g_new0 (guint, pool->n_slots);
  gint64 started = g_get_monotonic_time ();

  collect->pending = pool->n_slots;
  collect->first_start = G_MAXINT64;
  collect->last_end = G_MININT64;
  for (guint i = 0; i < pool->n_slots; i++)
    {
      pool->slots[i].answered = FALSE;
      memset (&pool->slots[i].progress, 0, sizeof pool->slots[i].progress);
    }

  while (collect->pending > 0)
    {
      guint n_fds = 0;
      int ready;

      for (guint i = 0; i < pool->n_slots; i++)
        if (!pool->slots[i].answered)
          {
            fds[n_fds].fd = report_fd (pool, i);
            fds[n_fds].events = POLLIN;
            fds[n_fds].revents = 0;
            index_of[n_fds++] = i;
          }
      ready = poll (fds, n_fds, PROGRESS_INTERVAL_US / 1000);
      if (ready < 0 && errno != EINTR)
        return set_errno_error (error, errno, N_ ("wait for the buyers"));

      for (guint f = 0; ready > 0 && f < n_fds; f++)
        if (fds[f].revents != 0 && !read_reports (collect, index_of[f]))
          return buyer_vanished (pool, index_of[f], error);

      if (spec != NULL && spec->progress != NULL)
        report_progress (pool, spec, started);
    }
  return TRUE;
}

gboolean
bench_pool_wait_ready (BenchPool *pool, GError **error)
{
  Collect collect = { .pool = pool };

  if (!collect_answers (&collect, NULL, error))
    {
      g_clear_error (&collect.failure);
      return FALSE;
    }
  if (collect.failure != NULL)
    {
      g_propagate_error (error, collect.failure);
      return FALSE;
    }
  return TRUE;
}

gboolean
bench_pool_run_phase (BenchPool *pool,
                      const BenchPhaseSpec *spec,
                      BenchPhaseResult *result,
                      GError **error)
{
  Command command = {
    .kind = COMMAND_RUN,
    .phase = spec->phase,
    .calls = spec->calls,
    .duration_us = (gint64) spec->seconds * G_USEC_PER_SEC,
  };
  Collect collect = { .pool = pool, .result = result };
  g_autofree gint64 *bus_start = NULL;
  g_autofree gint64 *bus_end = NULL;

  g_return_val_if_fail (spec->phase == BENCH_PHASE_BASELINE || spec->item != NULL, FALSE);
  if (spec->item != NULL)
    g_strlcpy (command.item, spec->item, sizeof command.item);
  if (pool->n_buses > 0)
    {
      g_free (result->buses);
      result->buses = g_new0 (BenchBusShare, pool->n_buses);
      result->n_buses = pool->n_buses;
      collect.bus_start = bus_start = g_new (gint64, pool->n_buses);
      collect.bus_end = bus_end = g_new (gint64, pool->n_buses);
      for (guint b = 0; b < pool->n_buses; b++)
        {
          bus_start[b] = G_MAXINT64;
          bus_end[b] = G_MININT64;
        }
    }

  pool->mid_phase = TRUE;
  for (guint i = 0; i < pool->n_slots; i++)
    {
      ssize_t done;

      /* Smaller than PIPE_BUF: written whole or not at all. */
      do
        done = write (pool_get_child (pool->processes, i)->command_fd, &command, sizeof command);
      while (done < 0 && errno == EINTR);
      if (done != (ssize_t) sizeof command)
        return buyer_vanished (pool, i, error);
    }
  if (!collect_answers (&collect, spec, error))
    return FALSE;
  pool->mid_phase = FALSE;

  result->seconds = (gdouble) (collect.last_end - collect.first_start) / G_USEC_PER_SEC;
  for (guint b = 0; b < result->n_buses; b++)
    result->buses[b].seconds =
      bus_end[b] > bus_start[b] ? (gdouble) (bus_end[b] - bus_start[b]) / G_USEC_PER_SEC : 0.0;
  return TRUE;
}

const GPid *
bench_pool_get_pids (BenchPool *pool, guint *n_pids)
{
  *n_pids = pool->n_slots;
  return pool->pids;
}

void
bench_pool_free (BenchPool *pool)
{
  gint64 deadline;
  gboolean all_reaped;

  if (pool == NULL)
    return;

  /* The end of its command pipe tells an idle buyer to exit; one still in
   * a phase that was cut short is killed, its work no longer wanted. */
  for (guint i = 0; i < pool->n_slots; i++)
    {
      PoolChild *child = pool_get_child (pool->processes, i);

      close (child->command_fd);
      child->command_fd = -1;
      if (pool->mid_phase)
        kill (child->pid, SIGKILL);
    }
  deadline = g_get_monotonic_time () + REAP_GRACE_US;
  do
    {
      all_reaped = TRUE;
      for (guint i = 0; i < pool->n_slots; i++)
        all_reaped &= pool_reap (pool->processes, i, WNOHANG);
      if (!all_reaped)
        g_usleep (10 * 1000);
    }
  while (!all_reaped && g_get_monotonic_time () < deadline);
  /* Kills and reaps whoever is still there. */
  g_clear_pointer (&pool->processes, pool_free);
  for (guint i = 0; i < pool->n_slots; i++)
    g_byte_array_unref (pool->slots[i].inbox);
  signal (SIGPIPE, pool->old_sigpipe);
  g_free (pool->slots);
  g_free (pool->pids);
  g_free (pool);
}
