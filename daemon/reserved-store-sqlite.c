/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SQLite backend: the store's database is one file on this host,
 * written by one connection on the writer thread, each write of a batch in
 * a savepoint of its own inside one transaction, read through further
 * connections that WAL lets read while the writer commits. */
#define G_LOG_DOMAIN "reserved-store"

#include "reserve-error.h"
#include "reserved-store-backend.h"
#include "reserved-store-clean.h"
#include "reserved-store-holds.h"
#include "reserved-store-sql.h"
#include "reserved-store-waitlist.h"

typedef struct {
  StoreBackend parent;
  char *path;
  StoreConnection writer; /* the writer thread only, once it runs */
  gint busy_timeout_ms;   /* (atomic) as set last */
  guint applied_busy_timeout_ms;
  /* A failed commit left frames in the write-ahead log that could not be
   * cleared yet. Until they are, a crash could revive a purchase that was
   * answered StorageFailure, so nothing else is written. */
  GError *uncleared_log;
} StoreSqlite;

/* A reader is a connection of its own to the same file. */
struct _StoreReader {
  StoreConnection c;
};

/* --- the writer thread ------------------------------------------------------ */

static gboolean
run_write (StoreConnection *c, WriteOp *op)
{
  switch (op->kind)
    {
    case WRITE_BUY:
      {
        const ReservedPurchase purchase = {
          .item = op->item,
          .user = op->user,
          .quantity = op->quantity,
          .caller = op->caller,
          .request_id = op->request_id,
        };
        return store_sql_buy (c, &purchase, &op->receipt, &op->error);
      }
    case WRITE_CANCEL:
      return store_sql_cancel (c, op->order, &op->item_out, &op->remaining, &op->error);
    case WRITE_CREATE_ITEM:
      return store_sql_create_item (c, op->item, op->quantity, op->per_user_limit, &op->sale,
                                    op->offer_seconds, &op->error);
    case WRITE_RESTOCK:
      return store_sql_restock (c, op->item, op->quantity, &op->remaining, &op->error);
    case WRITE_RETIRE_ITEM:
      return store_sql_retire_item (c, op->item, &op->error);
    case WRITE_SET_PER_USER_LIMIT:
      return store_sql_set_per_user_limit (c, op->item, op->per_user_limit, &op->error);
    case WRITE_SET_SALE_WINDOW:
      return store_sql_set_sale_window (c, op->item, &op->sale, &op->error);
    case WRITE_HOLD:
      {
        const ReservedHoldRequest request = {
          .item = op->item,
          .user = op->user,
          .quantity = op->quantity,
          .caller = op->caller,
          .request_id = op->request_id,
          .ttl = op->ttl,
          .holder = op->holder,
          .max_holds = op->max,
        };
        return store_holds_hold (c, &request, &op->hold_receipt, &op->error);
      }
    case WRITE_CONFIRM:
      return store_holds_confirm (c, op->hold, op->or_buy, &op->order, &op->remaining,
                                  &op->item_out, &op->late, &op->error);
    case WRITE_RELEASE:
      return store_holds_release (c, op->hold, &op->remaining, &op->late, &op->error);
    case WRITE_EXTEND:
      return store_holds_extend (c, op->hold, op->ttl, op->max, &op->expires, &op->late,
                                 &op->error);
    case WRITE_END_HOLDS:
      return op->holder != NULL ? store_holds_end_of_holder (c, op->holder, op->reason, &op->error)
                                : store_holds_end_overdue (c, -1, &op->error);
    case WRITE_JOIN_WAITLIST:
      {
        const ReservedJoinRequest request = {
          .item = op->item,
          .user = op->user,
          .quantity = op->quantity,
          .caller = op->caller,
          .request_id = op->request_id,
          .deadline = op->deadline,
          .holder = op->holder,
        };
        return store_waitlist_join (c, &request, &op->join_receipt, &op->error);
      }
    case WRITE_LEAVE_WAITLIST:
      return store_waitlist_leave (c, op->entry, &op->error);
    case WRITE_PROMOTE_WAITLIST:
      return store_waitlist_promote_item (c, op->item, &op->remaining, &op->error);
    default:
      g_assert_not_reached ();
    }
}


/* Runs one operation inside the open transaction in a savepoint of its
 * own, counting it in @kept unless it was refused. Returns FALSE when the
 * transaction itself is lost. */
static gboolean
run_in_savepoint (StoreConnection *c, WriteOp *op, guint *kept, GError **transaction_error)
{
  gboolean done;

  if (!store_sql_savepoint (c, transaction_error))
    return FALSE;
  /* The holds the operation ends, announced only if it stands. */
  g_clear_pointer (&op->ended, g_array_unref);
  op->ended = write_op_new_ended ();
  g_clear_pointer (&op->offered, g_array_unref);
  op->offered = write_op_new_offers ();
  c->ended = op->ended;
  c->offered = op->offered;
  done = run_write (c, op);
  c->ended = NULL;
  c->offered = NULL;
  if (done)
    {
      (*kept)++;
      return store_sql_release (c, transaction_error);
    }
  g_array_set_size (op->ended, 0);
  g_array_set_size (op->offered, 0);

  /* An I/O error or a full disk may have made SQLite roll back the whole
   * transaction; then there is no savepoint left to return to. */
  if (!store_sql_in_transaction (c))
    {
      g_set_error_literal (transaction_error, op->error->domain, op->error->code,
                           op->error->message);
      return FALSE;
    }
  return store_sql_rollback_to (c, transaction_error) && store_sql_release (c, transaction_error);
}

/* After a failed commit: empties the log, or remembers why it could not.
 * Returns FALSE while the log holds what a crash must not revive. */
static gboolean
clear_failed_commit (StoreSqlite *self)
{
  g_autoptr(GError) error = NULL;

  if (store_sql_clear_log (&self->writer, &error))
    {
      if (self->uncleared_log != NULL)
        g_message ("The write-ahead log of %s is clear again; writes go on", self->path);
      g_clear_error (&self->uncleared_log);
      return TRUE;
    }
  if (self->uncleared_log == NULL)
    g_warning ("After a failed commit: %s; writes are refused until it can be", error->message);
  g_clear_error (&self->uncleared_log);
  self->uncleared_log = g_steal_pointer (&error);
  return FALSE;
}

/* Fails @ops[first..last), which were not attempted, while the log still
 * holds a failed commit's frames. */
static void
refuse_while_uncleared (StoreSqlite *self, GPtrArray *ops, guint first, guint last)
{
  g_autoptr(GError) refusal = g_error_new (
    RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
    "nothing was done: nothing can be written to %s until an earlier failed commit is "
    "cleared from its write-ahead log: %s",
    self->path, self->uncleared_log->message);

  write_ops_fail (ops, first, last, refusal);
}

static void
sqlite_run_batch (StoreBackend *backend, GPtrArray *ops, StoreBatchCount *count)
{
  StoreSqlite *self = (StoreSqlite *) backend;
  StoreConnection *c = &self->writer;
  guint first_in_transaction = 0;
  guint i = 0;

  if (self->uncleared_log != NULL && !clear_failed_commit (self))
    {
      refuse_while_uncleared (self, ops, 0, ops->len);
      return;
    }

  while (i < ops->len)
    {
      g_autoptr(GError) transaction_error = NULL;
      gboolean commit_failed = FALSE;
      guint kept = 0;

      first_in_transaction = i;
      if (!store_sql_begin (c, &transaction_error))
        {
          write_ops_fail (ops, i, ops->len, transaction_error);
          break;
        }
      for (; i < ops->len; i++)
        {
          WriteOp *op = g_ptr_array_index (ops, i);
          if (!run_in_savepoint (c, op, &kept, &transaction_error))
            {
              i++;
              break;
            }
        }
      /* Refusals alone changed nothing: there is nothing to make durable,
       * and no reason to wait for a sync. */
      if (transaction_error == NULL && kept == 0)
        {
          store_sql_rollback (c);
          continue;
        }
      if (transaction_error == NULL)
        commit_failed = !store_sql_commit (c, &transaction_error);
      if (transaction_error == NULL)
        {
          count->commits++;
          count->operations += i - first_in_transaction;
          count->largest_batch = MAX (count->largest_batch, i - first_in_transaction);
          for (guint j = first_in_transaction; j < i; j++)
            ((WriteOp *) g_ptr_array_index (ops, j))->committed = TRUE;
          g_debug ("Committed %u operations in one transaction", i - first_in_transaction);
          continue;
        }
      store_sql_rollback (c);
      g_debug ("A transaction of %u operations was not committed: %s", i - first_in_transaction,
               transaction_error->message);
      /* A failed COMMIT may have left its frames, commit mark and all, in
       * the log; those answered StorageFailure must stay untaken after a
       * crash too, so the log is cleared before they are answered. (A
       * transaction lost before its COMMIT wrote no commit mark.) */
      if (commit_failed && !clear_failed_commit (self))
        {
          g_prefix_error (&transaction_error, "%s; ", self->uncleared_log->message);
          g_prefix_error (&transaction_error,
                          "in doubt until reserved clears its write-ahead log, which failed: ");
          write_ops_fail (ops, first_in_transaction, i, transaction_error);
          refuse_while_uncleared (self, ops, i, ops->len);
          break;
        }
      write_ops_fail (ops, first_in_transaction, i, transaction_error);
      /* The operations after the failure start again in a new one. */
    }
}


static void
sqlite_set_busy_timeout (StoreBackend *backend, guint milliseconds)
{
  g_atomic_int_set (&((StoreSqlite *) backend)->busy_timeout_ms,
                    (gint) MIN (milliseconds, (guint) G_MAXINT));
}

/* Runs before each batch on the writer thread: a reload may have changed
 * the busy timeout since the last one. */
static void
apply_busy_timeout (StoreSqlite *self)
{
  guint busy_timeout = (guint) g_atomic_int_get (&self->busy_timeout_ms);

  if (busy_timeout != self->applied_busy_timeout_ms)
    {
      sqlite3_busy_timeout (self->writer.db, (int) busy_timeout);
      self->applied_busy_timeout_ms = busy_timeout;
    }
}

static void
sqlite_run_batch_applying_timeout (StoreBackend *backend, GPtrArray *ops, StoreBatchCount *count)
{
  apply_busy_timeout ((StoreSqlite *) backend);
  sqlite_run_batch (backend, ops, count);
}

static gboolean
sqlite_close (StoreBackend *backend, gboolean clean_so_far)
{
  StoreSqlite *self = (StoreSqlite *) backend;
  /* The readers are closed already: the writer goes last, so its close
   * checkpoints the log and removes it; only then is the stop recorded as
   * clean, and only if this life saw no storage error that could have
   * left the file damaged. */
  gboolean clean = clean_so_far && self->uncleared_log == NULL;

  clean = store_connection_close (&self->writer) && clean;
  if (clean)
    store_clean_record (self->path);
  g_clear_error (&self->uncleared_log);
  g_free (self->path);
  g_free (self);
  return clean;
}

/* --- reads ----------------------------------------------------------------- */

static StoreReader *
sqlite_open_reader (StoreBackend *backend, GError **error)
{
  StoreSqlite *self = (StoreSqlite *) backend;
  StoreReader *reader = g_new0 (StoreReader, 1);

  reader->c.path = self->path;
  reader->c.busy_timeout_ms = (guint) g_atomic_int_get (&self->busy_timeout_ms);
  if (!store_connection_open_secondary (&reader->c, error))
    {
      store_connection_close (&reader->c);
      g_free (reader);
      return NULL;
    }
  return reader;
}

static void
sqlite_reader_set_busy_timeout (StoreReader *reader, guint milliseconds)
{
  reader->c.busy_timeout_ms = milliseconds;
  sqlite3_busy_timeout (reader->c.db, (int) MIN (milliseconds, (guint) G_MAXINT));
}

static gboolean
sqlite_close_reader (StoreReader *reader)
{
  gboolean clean = store_connection_close (&reader->c);

  g_free (reader);
  return clean;
}

static gboolean
sqlite_get_order (StoreReader *r, guint64 order, ReservedOrder *out, GError **error)
{
  return store_sql_get_order (&r->c, order, out, error);
}

static gboolean
sqlite_get_item (StoreReader *r, const char *name, ReservedItem *out, GError **error)
{
  return store_sql_get_item (&r->c, name, out, error);
}

static GArray *
sqlite_list_items (StoreReader *r, GError **error)
{
  return store_sql_list_items (&r->c, error);
}

static GArray *
sqlite_list_items_page (StoreReader *r, const char *after, guint limit, GError **error)
{
  return store_sql_list_items_page (&r->c, after, limit, error);
}

static GArray *
sqlite_list_orders (StoreReader *r,
                    const char *user,
                    const uid_t *only_caller,
                    guint max_rows,
                    GError **error)
{
  return store_sql_list_orders (&r->c, user, only_caller, max_rows, error);
}

static GArray *
sqlite_list_orders_page (StoreReader *r, const ReservedOrderQuery *query, GError **error)
{
  return store_sql_list_orders_page (&r->c, query, error);
}

static GArray *
sqlite_list_sale_windows (StoreReader *r, GError **error)
{
  return store_sql_list_sale_windows (&r->c, error);
}

static gboolean
sqlite_get_hold (StoreReader *r, guint64 hold, ReservedHold *out, GError **error)
{
  return store_holds_get (&r->c, hold, out, error);
}

static GArray *
sqlite_list_holds (StoreReader *r, const char *user, const uid_t *only_caller, GError **error)
{
  return store_holds_list (&r->c, user, only_caller, error);
}

static gboolean
sqlite_next_expiry (StoreReader *r, gint64 *expires)
{
  return store_holds_next_expiry (&r->c, expires);
}

static gboolean
sqlite_get_entry (StoreReader *r, guint64 entry, ReservedEntry *out, GError **error)
{
  return store_waitlist_get (&r->c, entry, out, error);
}

static GArray *
sqlite_list_waitlist (StoreReader *r, const char *item, const uid_t *only_caller, GError **error)
{
  return store_waitlist_list (&r->c, item, only_caller, error);
}

static GPtrArray *
sqlite_list_waiting_holders (StoreReader *r, GError **error)
{
  return store_waitlist_waiting_holders (&r->c, error);
}

static const StoreBackendClass sqlite_class = {
  .engine = "SQLite",
  .run_batch = sqlite_run_batch_applying_timeout,
  .set_busy_timeout = sqlite_set_busy_timeout,
  .close = sqlite_close,
  .open_reader = sqlite_open_reader,
  .reader_set_busy_timeout = sqlite_reader_set_busy_timeout,
  .close_reader = sqlite_close_reader,
  .get_order = sqlite_get_order,
  .get_item = sqlite_get_item,
  .list_items = sqlite_list_items,
  .list_items_page = sqlite_list_items_page,
  .list_orders = sqlite_list_orders,
  .list_orders_page = sqlite_list_orders_page,
  .list_sale_windows = sqlite_list_sale_windows,
  .get_hold = sqlite_get_hold,
  .list_holds = sqlite_list_holds,
  .next_expiry = sqlite_next_expiry,
  .get_entry = sqlite_get_entry,
  .list_waitlist = sqlite_list_waitlist,
  .list_waiting_holders = sqlite_list_waiting_holders,
};

/* --- opening ---------------------------------------------------------------- */

StoreBackend *
store_sqlite_open (const StoreSettings *settings, GError **error)
{
  StoreSqlite *self = g_new0 (StoreSqlite, 1);

  self->parent.klass = &sqlite_class;
  self->path = g_strdup (settings->database);
  self->writer.path = self->path;
  self->writer.busy_timeout_ms = settings->busy_timeout_ms;
  self->busy_timeout_ms = (gint) MIN (settings->busy_timeout_ms, (guint) G_MAXINT);
  self->applied_busy_timeout_ms = settings->busy_timeout_ms;
  /* The writer connection checks and migrates the file before the writer
   * thread exists, so until then it is used by this thread alone. */
  if (!store_connection_open_primary (&self->writer, settings->default_item,
                                      settings->default_capacity, error) ||
      !store_holds_clamp (&self->writer, error))
    {
      store_connection_close (&self->writer);
      g_free (self->path);
      g_free (self);
      return NULL;
    }
  return &self->parent;
}
