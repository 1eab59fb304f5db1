/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-store"

#include "reserved-store.h"

#include <string.h>

#include "reserve-error.h"
#include "reserved-store-backend.h"

/* A batch larger than this is split: the replies of the first ones should
 * not wait for an unbounded queue. */
#define MAX_BATCH 512

typedef struct _ReadOp ReadOp;

/* A thread that runs reads one at a time, with a connection of its own;
 * see start_read(). */
typedef struct {
  ReservedStore *store;  /* unowned: the store drains its lanes before it goes */
  GThreadPool *pool;     /* at most one thread */
  StoreReader *reader;   /* the lane's, opened by its first read if need be */
  guint busy_timeout_ms; /* as last set on reader */
} ReadLane;

struct _ReservedStore {
  GObject parent_instance;
  char *database;        /* as given: a file path or a postgresql:// URI */
  StoreBackend *backend; /* runs batches on the writer thread */
  GThread *thread;
  ReadLane reads;    /* every read but the listings of orders */
  ReadLane listings; /* the listings of orders, which may be long */

  GMutex lock; /* guards the fields below */
  GCond wake;
  GQueue queue; /* of GTask, whose task data is a WriteOp */
  gboolean closing;
  ReservedStoreStats stats;
  guint busy_timeout_ms;
  GMainContext *owner; /* where "stock-changed" is emitted */
  GWeakRef *relay;     /* the backend's way back to the store, while it lasts */
};

enum { SIGNAL_STOCK_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (ReservedStore, reserved_store, G_TYPE_OBJECT)

void
write_op_free (WriteOp *op)
{
  g_free (op->item);
  g_free (op->user);
  g_free (op->request_id);
  g_free (op->item_out);
  g_free (op->holder);
  g_free (op->reason);
  g_clear_pointer (&op->ended, g_array_unref);
  g_clear_pointer (&op->offered, g_array_unref);
  g_clear_error (&op->error);
  g_clear_error (&op->late);
  g_free (op);
}

void
write_ops_fail (GPtrArray *ops, guint first, guint last, const GError *cause)
{
  for (guint i = first; i < last; i++)
    {
      WriteOp *op = g_ptr_array_index (ops, i);
      if (op->error == NULL)
        op->error = g_error_copy (cause);
    }
}

GArray *
write_op_new_ended (void)
{
  GArray *ended = g_array_new (FALSE, TRUE, sizeof (ReservedEndedHold));

  g_array_set_clear_func (ended, (GDestroyNotify) reserved_ended_hold_clear);
  return ended;
}

GArray *
write_op_new_offers (void)
{
  GArray *offers = g_array_new (FALSE, TRUE, sizeof (ReservedOffer));

  g_array_set_clear_func (offers, (GDestroyNotify) reserved_offer_clear);
  return offers;
}

/* --- the writer thread ------------------------------------------------------ */

static void
return_results (GPtrArray *tasks)
{
  for (guint i = 0; i < tasks->len; i++)
    {
      GTask *task = g_ptr_array_index (tasks, i);
      WriteOp *op = g_task_get_task_data (task);

      if (!op->committed && op->ended != NULL)
        g_array_set_size (op->ended, 0);
      if (!op->committed && op->offered != NULL)
        g_array_set_size (op->offered, 0);
      if (op->error == NULL && op->late != NULL)
        op->error = g_steal_pointer (&op->late);
      if (op->error != NULL)
        g_task_return_error (task, g_steal_pointer (&op->error));
      else
        g_task_return_boolean (task, TRUE);
    }
}

static gboolean
return_results_in_owner (gpointer user_data)
{
  return_results (user_data);
  return G_SOURCE_REMOVE;
}

/* Completing a GTask from this thread would wake its main context once per
 * write. Instead the writes of a batch go back to the thread that asked for
 * them in one go, in their order, where each task then answers at once. */
static void
hand_back (GPtrArray *ops)
{
  guint first = 0;

  while (first < ops->len)
    {
      GMainContext *context = g_task_get_context (g_ptr_array_index (ops, first));
      g_autoptr(GPtrArray) group = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(GSource) source = g_idle_source_new ();
      guint next = first;

      for (; next < ops->len && g_task_get_context (g_ptr_array_index (ops, next)) == context;
           next++)
        g_ptr_array_add (group, g_object_ref (g_ptr_array_index (ops, next)));
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, return_results_in_owner, g_steal_pointer (&group),
                             (GDestroyNotify) g_ptr_array_unref);
      g_source_attach (source, context);
      first = next;
    }
}

/* Runs one batch through the backend, counts it, and hands it back. */
static void
run_batch (ReservedStore *self, GPtrArray *tasks)
{
  g_autoptr(GPtrArray) ops = g_ptr_array_sized_new (tasks->len);
  StoreBatchCount count = { 0 };

  for (guint i = 0; i < tasks->len; i++)
    g_ptr_array_add (ops, g_task_get_task_data (g_ptr_array_index (tasks, i)));
  self->backend->klass->run_batch (self->backend, ops, &count);
  g_mutex_lock (&self->lock);
  self->stats.commits += count.commits;
  self->stats.operations += count.operations;
  self->stats.largest_batch = MAX (self->stats.largest_batch, count.largest_batch);
  g_mutex_unlock (&self->lock);
  hand_back (tasks);
}

static gpointer
writer_thread (gpointer user_data)
{
  ReservedStore *self = user_data;

  for (;;)
    {
      g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func (g_object_unref);

      g_mutex_lock (&self->lock);
      while (g_queue_is_empty (&self->queue) && !self->closing)
        g_cond_wait (&self->wake, &self->lock);
      if (g_queue_is_empty (&self->queue))
        {
          g_mutex_unlock (&self->lock);
          return NULL;
        }
      /* Everything that queued up during the last commit goes into this
       * one: a lone write is committed at once, never held back. */
      while (!g_queue_is_empty (&self->queue) && ops->len < MAX_BATCH)
        g_ptr_array_add (ops, g_queue_pop_head (&self->queue));
      g_mutex_unlock (&self->lock);

      run_batch (self, ops);
    }
}

static void
submit (ReservedStore *self, WriteOp *op, GAsyncReadyCallback callback, gpointer user_data)
{
  /* No source object: a task must not keep the store alive, or its last
   * reference could be dropped on the writer thread, which cannot join
   * itself. The store drains its queue before it goes. */
  GTask *task = g_task_new (NULL, NULL, callback, user_data);

  g_task_set_task_data (task, op, (GDestroyNotify) write_op_free);
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->queue, task);
  g_cond_signal (&self->wake);
  g_mutex_unlock (&self->lock);
}

/* The WriteOp or ReadOp behind @result, or NULL with @error. */
static gpointer
finish_op (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  return g_task_get_task_data (G_TASK (result));
}

/* The synchronous forms run the asynchronous path to its end in a private
 * main context, so they share every line of it. Returns the result
 * (transfer full) for the matching _finish(). */
static void
on_sync_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
start_read (ReservedStore *self, ReadOp *op, GAsyncReadyCallback callback, gpointer user_data);

/* Runs @write, or else @read. */
static GAsyncResult *
run_and_wait (ReservedStore *self, WriteOp *write, ReadOp *read)
{
  GMainContext *context = g_main_context_new ();
  GAsyncResult *result = NULL;

  g_main_context_push_thread_default (context);
  if (write != NULL)
    submit (self, write, on_sync_done, &result);
  else
    start_read (self, read, on_sync_done, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return result;
}

static GAsyncResult *
submit_and_wait (ReservedStore *self, WriteOp *op)
{
  return run_and_wait (self, op, NULL);
}

static GAsyncResult *
read_and_wait (ReservedStore *self, ReadOp *op)
{
  return run_and_wait (self, NULL, op);
}

/* --- writes ---------------------------------------------------------------- */

static WriteOp *
buy_op_new (const ReservedPurchase *purchase)
{
  WriteOp *op = g_new0 (WriteOp, 1);

  op->kind = WRITE_BUY;
  op->item = g_strdup (purchase->item);
  op->user = g_strdup (purchase->user);
  op->request_id = g_strdup (purchase->request_id);
  op->quantity = purchase->quantity;
  op->caller = purchase->caller;
  return op;
}

void
reserved_store_buy_async (ReservedStore *self,
                          const ReservedPurchase *purchase,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  submit (self, buy_op_new (purchase), callback, user_data);
}

gboolean
reserved_store_buy_finish (ReservedStore *self,
                           GAsyncResult *result,
                           ReservedReceipt *receipt,
                           GError **error)
{
  WriteOp *op = finish_op (result, error);

  if (op == NULL)
    return FALSE;
  *receipt = op->receipt;
  return TRUE;
}

gboolean
reserved_store_buy (ReservedStore *self,
                    const ReservedPurchase *purchase,
                    ReservedReceipt *receipt,
                    GError **error)
{
  g_autoptr(GAsyncResult) result = submit_and_wait (self, buy_op_new (purchase));

  return reserved_store_buy_finish (self, result, receipt, error);
}

static WriteOp *
cancel_op_new (guint64 order)
{
  WriteOp *op = g_new0 (WriteOp, 1);

  op->kind = WRITE_CANCEL;
  op->order = order;
  return op;
}

void
reserved_store_cancel_async (ReservedStore *self,
                             guint64 order,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  submit (self, cancel_op_new (order), callback, user_data);
}

gboolean
reserved_store_cancel_finish (ReservedStore *self,
                              GAsyncResult *result,
                              char **item_out,
                              guint32 *remaining,
                              GError **error)
{
  WriteOp *op = finish_op (result, error);

  if (op == NULL)
    return FALSE;
  *item_out = g_steal_pointer (&op->item_out);
  *remaining = op->remaining;
  return TRUE;
}

gboolean
reserved_store_cancel (ReservedStore *self,
                       guint64 order,
                       char **item_out,
                       guint32 *remaining,
                       GError **error)
{
  g_autoptr(GAsyncResult) result = submit_and_wait (self, cancel_op_new (order));

  return reserved_store_cancel_finish (self, result, item_out, remaining, error);
}

static WriteOp *
create_item_op_new (const char *name,
                    guint32 capacity,
                    guint32 per_user_limit,
                    const ReservedSaleWindow *window,
                    guint32 offer_seconds)
{
  WriteOp *op = g_new0 (WriteOp, 1);

  op->kind = WRITE_CREATE_ITEM;
  op->item = g_strdup (name);
  op->quantity = capacity;
  op->per_user_limit = per_user_limit;
  if (window != NULL)
    op->sale = *window;
  op->offer_seconds = offer_seconds;
  return op;
}

void
reserved_store_create_item_async (ReservedStore *self,
                                  const char *name,
                                  guint32 capacity,
                                  guint32 per_user_limit,
                                  const ReservedSaleWindow *window,
                                  guint32 offer_seconds,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  submit (self, create_item_op_new (name, capacity, per_user_limit, window, offer_seconds),
          callback, user_data);
}

gboolean
reserved_store_create_item_finish (ReservedStore *self, GAsyncResult *result, GError **error)
{
  return finish_op (result, error) != NULL;
}

gboolean
reserved_store_create_item (ReservedStore *self,
                            const char *name,
                            guint32 capacity,
                            guint32 per_user_limit,
                            GError **error)
{
  g_autoptr(GAsyncResult) result =
               submit_and_wait (self, create_item_op_new (name, capacity, per_user_limit, NULL, 0));

  return reserved_store_create_item_finish (self, result, error);
}

static WriteOp *
restock_op_new (const char *name, guint32 quantity)
{
  WriteOp *op = g_new0 (WriteOp, 1);

  op->kind = WRITE_RESTOCK;
  op->item = g_strdup (name);
  op->quantity = quantity;
  return op;
}

void
reserved_store_restock_async (ReservedStore *self,
                              const char *name,
                              guint32 quantity,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  submit (self, restock_op_new (name, quantity), callback, user_data);
}

gboolean
reserved_store_restock_finish (ReservedStore *self,
                               GAsyncResult *result,
                               guint32 *remaining,
                               GError **error)
{
  WriteOp *op = finish_op (result, error);

  if (op == NULL)
    return FALSE;
  *remaining = op->remaining;
  return TRUE;
}

gboolean
reserved_store_restock (ReservedStore *self,
                        const char *name,
                        guint32 quantity,
                        guint32 *remaining,
                        GError **error)
{
  g_autoptr(GAsyncResult) result = submit_and_wait (self, restock_op_new (name, quantity));

  return reserved_store_restock_finish (self, result, remaining, error);
}

static WriteOp *
item_op_new (WriteKind kind, const char *name, guint32 per_user_limit)
{
  WriteOp *op = g_new0 (WriteOp, 1);

  op->kind = kind;
  op->item = g_strdup (name);
  op->per_user_limit = per_user_limit;
  return op;
}

void
reserved_store_retire_item_async (ReservedStore *self,
                                  const char *name,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  submit (self, item_op_new (WRITE_RETIRE_ITEM, name, 0), callback, user_data);
}

gboolean
reserved_store_retire_item_finish (ReservedStore *self, GAsyncResult *result, GError **error)
{
  return finish_op (result, error) != NULL;
}

gboolean
reserved_store_retire_item (ReservedStore *self, const char *name, GError **error)
{
  g_autoptr(GAsyncResult) result =
               submit_and_wait (self, item_op_new (WRITE_RETIRE_ITEM, name, 0));

  return reserved_store_retire_item_finish (self, result, error);
}

void
reserved_store_set_per_user_limit_async (ReservedStore *self,
                                         const char *name,
                                         guint32 limit,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  submit (self, item_op_new (WRITE_SET_PER_USER_LIMIT, name, limit), callback, user_data);
}

gboolean
reserved_store_set_per_user_limit_finish (ReservedStore *self, GAsyncResult *result, GError **error)
{
  return finish_op (result, error) != NULL;
}

gboolean
reserved_store_set_per_user_limit (ReservedStore *self,
                                   const char *name,
                                   guint32 limit,
                                   GError **error)
{
  g_autoptr(GAsyncResult) result =
               submit_and_wait (self, item_op_new (WRITE_SET_PER_USER_LIMIT, name, limit));

  return reserved_store_set_per_user_limit_finish (self, result, error);
}

static WriteOp *
sale_window_op_new (const char *name, const ReservedSaleWindow *window)
{
  WriteOp *op = item_op_new (WRITE_SET_SALE_WINDOW, name, 0);

  op->sale = *window;
  return op;
}

void
reserved_store_set_sale_window_async (ReservedStore *self,
                                      const char *name,
                                      const ReservedSaleWindow *window,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  submit (self, sale_window_op_new (name, window), callback, user_data);
}

gboolean
reserved_store_set_sale_window_finish (ReservedStore *self, GAsyncResult *result, GError **error)
{
  return finish_op (result, error) != NULL;
}

gboolean
reserved_store_set_sale_window (ReservedStore *self,
                                const char *name,
                                const ReservedSaleWindow *window,
                                GError **error)
{
  g_autoptr(GAsyncResult) result = submit_and_wait (self, sale_window_op_new (name, window));

  return reserved_store_set_sale_window_finish (self, result, error);
}

/* --- holds ---------------------------------------------------------------- */

static WriteOp *
write_op_new (WriteKind kind)
{
  WriteOp *op = g_new0 (WriteOp, 1);

  op->kind = kind;
  return op;
}

void
reserved_store_hold_async (ReservedStore *self,
                           const ReservedHoldRequest *request,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  WriteOp *op = write_op_new (WRITE_HOLD);

  op->item = g_strdup (request->item);
  op->user = g_strdup (request->user);
  op->quantity = request->quantity;
  op->caller = request->caller;
  op->request_id = g_strdup (request->request_id);
  op->ttl = request->ttl;
  op->holder = g_strdup (request->holder);
  op->max = request->max_holds;
  submit (self, op, callback, user_data);
}

gboolean
reserved_store_hold_finish (ReservedStore *self,
                            GAsyncResult *result,
                            ReservedHoldReceipt *receipt,
                            GError **error)
{
  WriteOp *op = finish_op (result, error);

  if (op == NULL)
    return FALSE;
  *receipt = op->hold_receipt;
  return TRUE;
}

void
reserved_store_confirm_async (ReservedStore *self,
                              guint64 hold,
                              gboolean or_buy,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  WriteOp *op = write_op_new (WRITE_CONFIRM);

  op->hold = hold;
  op->or_buy = or_buy;
  submit (self, op, callback, user_data);
}

gboolean
reserved_store_confirm_finish (ReservedStore *self,
                               GAsyncResult *result,
                               guint64 *order,
                               guint32 *remaining,
                               char **item_out,
                               GError **error)
{
  WriteOp *op = finish_op (result, error);

  if (op == NULL)
    return FALSE;
  *order = op->order;
  *remaining = op->remaining;
  *item_out = g_steal_pointer (&op->item_out);
  return TRUE;
}

void
reserved_store_release_async (ReservedStore *self,
                              guint64 hold,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  WriteOp *op = write_op_new (WRITE_RELEASE);

  op->hold = hold;
  submit (self, op, callback, user_data);
}

gboolean
reserved_store_release_finish (ReservedStore *self,
                               GAsyncResult *result,
                               guint32 *remaining,
                               GError **error)
{
  WriteOp *op = finish_op (result, error);

  if (op == NULL)
    return FALSE;
  *remaining = op->remaining;
  return TRUE;
}

void
reserved_store_extend_async (ReservedStore *self,
                             guint64 hold,
                             guint32 ttl,
                             guint32 max_seconds,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  WriteOp *op = write_op_new (WRITE_EXTEND);

  op->hold = hold;
  op->ttl = ttl;
  op->max = max_seconds;
  submit (self, op, callback, user_data);
}

gboolean
reserved_store_extend_finish (ReservedStore *self,
                              GAsyncResult *result,
                              gint64 *expires,
                              GError **error)
{
  WriteOp *op = finish_op (result, error);

  if (op == NULL)
    return FALSE;
  *expires = op->expires;
  return TRUE;
}

void
reserved_store_end_holds_async (ReservedStore *self,
                                const char *holder,
                                const char *reason,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  WriteOp *op = write_op_new (WRITE_END_HOLDS);

  op->holder = g_strdup (holder);
  op->reason = g_strdup (reason);
  submit (self, op, callback, user_data);
}

gboolean
reserved_store_end_holds_finish (ReservedStore *self, GAsyncResult *result, GError **error)
{
  return finish_op (result, error) != NULL;
}

GArray *
reserved_store_take_ended_holds (ReservedStore *self, GAsyncResult *result)
{
  WriteOp *op = g_task_get_task_data (G_TASK (result));
  GArray *ended = g_steal_pointer (&op->ended);

  if (ended == NULL)
    {
      ended = g_array_new (FALSE, TRUE, sizeof (ReservedEndedHold));
      g_array_set_clear_func (ended, (GDestroyNotify) reserved_ended_hold_clear);
    }
  return ended;
}

/* --- the waitlist ----------------------------------------------------------- */

void
reserved_store_join_waitlist_async (ReservedStore *self,
                                    const ReservedJoinRequest *request,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  WriteOp *op = write_op_new (WRITE_JOIN_WAITLIST);

  op->item = g_strdup (request->item);
  op->user = g_strdup (request->user);
  op->quantity = request->quantity;
  op->caller = request->caller;
  op->request_id = g_strdup (request->request_id);
  op->deadline = request->deadline;
  op->holder = g_strdup (request->holder);
  submit (self, op, callback, user_data);
}

gboolean
reserved_store_join_waitlist_finish (ReservedStore *self,
                                     GAsyncResult *result,
                                     ReservedJoinReceipt *receipt,
                                     GError **error)
{
  WriteOp *op = finish_op (result, error);

  if (op == NULL)
    return FALSE;
  *receipt = op->join_receipt;
  return TRUE;
}

void
reserved_store_leave_waitlist_async (ReservedStore *self,
                                     guint64 entry,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  WriteOp *op = write_op_new (WRITE_LEAVE_WAITLIST);

  op->entry = entry;
  submit (self, op, callback, user_data);
}

gboolean
reserved_store_leave_waitlist_finish (ReservedStore *self, GAsyncResult *result, GError **error)
{
  return finish_op (result, error) != NULL;
}

void
reserved_store_promote_waitlist_async (ReservedStore *self,
                                       const char *item,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  WriteOp *op = write_op_new (WRITE_PROMOTE_WAITLIST);

  op->item = g_strdup (item);
  submit (self, op, callback, user_data);
}

gboolean
reserved_store_promote_waitlist_finish (ReservedStore *self,
                                        GAsyncResult *result,
                                        guint32 *remaining,
                                        GError **error)
{
  WriteOp *op = finish_op (result, error);

  if (op == NULL)
    return FALSE;
  *remaining = op->remaining;
  return TRUE;
}

GArray *
reserved_store_take_offers (ReservedStore *self, GAsyncResult *result)
{
  WriteOp *op = g_task_get_task_data (G_TASK (result));
  GArray *offers = g_steal_pointer (&op->offered);

  return offers != NULL ? offers : write_op_new_offers ();
}

/* --- reads ----------------------------------------------------------------- */

/* Reads run on threads of the store's, never on the caller's: with the
 * database on another host, a read on the main loop would hold up every
 * buyer it serves for a round trip, or for a whole failover. They go in
 * two lanes, each run by one thread at a time with a connection of its
 * own, so that the reads of a lane are answered in the order they were
 * asked: the listings of orders, which may be a million rows long, and
 * every other read, which must not wait behind them. A read sees every
 * write that completed before it was asked, since a write completes only
 * once committed; WAL lets it read while the writer commits. */
typedef enum {
  READ_GET_ITEM,
  READ_GET_ORDER,
  READ_GET_HOLD,
  READ_GET_ENTRY,
  READ_LIST_ITEMS,
  READ_LIST_ITEMS_PAGE,
  READ_LIST_SALE_WINDOWS,
  READ_LIST_HOLDS,
  READ_LIST_WAITLIST,
  READ_LIST_WAITING_HOLDERS,
  READ_NEXT_EXPIRY,
  /* On the lane of listings: */
  READ_LIST_ORDERS,
  READ_LIST_ORDERS_PAGE,
} ReadKind;

/* One read: its arguments, copied since the caller's may go before it
 * runs, and its answer. */
struct _ReadOp {
  ReadKind kind;
  guint64 id; /* the order, hold or entry */
  /* The listings' filters; query.limit bounds a page of items, max_rows
   * a whole listing of orders. */
  ReservedOrderQuery query;
  guint max_rows;
  char *name; /* the item; a page of items starts after it */
  char *user;
  uid_t only_caller;
  union {
    ReservedItem item;
    ReservedOrder order;
    ReservedHold hold;
    ReservedEntry entry;
  } row;
  gpointer rows; /* a GArray; a GPtrArray of the waiting holders */
  gboolean found;
  gint64 expires;
};

static void
read_op_free (ReadOp *op)
{
  switch (op->kind)
    {
    case READ_GET_ITEM:
      reserved_item_clear (&op->row.item);
      break;
    case READ_GET_ORDER:
      reserved_order_clear (&op->row.order);
      break;
    case READ_GET_HOLD:
      reserved_hold_clear (&op->row.hold);
      break;
    case READ_GET_ENTRY:
      reserved_entry_clear (&op->row.entry);
      break;
    case READ_LIST_WAITING_HOLDERS:
      g_clear_pointer ((GPtrArray **) &op->rows, g_ptr_array_unref);
      break;
    default:
      g_clear_pointer ((GArray **) &op->rows, g_array_unref);
      break;
    }
  g_free (op->name);
  g_free (op->user);
  g_free (op);
}

static ReadOp *
read_op_new (ReadKind kind, const char *name, const char *user, const uid_t *only_caller)
{
  ReadOp *op = g_new0 (ReadOp, 1);

  op->kind = kind;
  op->name = g_strdup (name);
  op->user = g_strdup (user);
  op->query.item = op->name;
  op->query.user = op->user;
  if (only_caller != NULL)
    {
      op->only_caller = *only_caller;
      op->query.only_caller = &op->only_caller;
    }
  return op;
}

static ReadOp *
read_op_new_id (ReadKind kind, guint64 id)
{
  ReadOp *op = read_op_new (kind, NULL, NULL, NULL);

  op->id = id;
  return op;
}

/* On the lane's thread, with its connection. */
static gboolean
read_op_run (const StoreBackendClass *klass, StoreReader *r, ReadOp *op, GError **error)
{
  const ReservedOrderQuery *q = &op->query;

  switch (op->kind)
    {
    case READ_GET_ITEM:
      return klass->get_item (r, op->name, &op->row.item, error);
    case READ_GET_ORDER:
      return klass->get_order (r, op->id, &op->row.order, error);
    case READ_GET_HOLD:
      return klass->get_hold (r, op->id, &op->row.hold, error);
    case READ_GET_ENTRY:
      return klass->get_entry (r, op->id, &op->row.entry, error);
    case READ_LIST_ITEMS:
      op->rows = klass->list_items (r, error);
      break;
    case READ_LIST_ITEMS_PAGE:
      op->rows = klass->list_items_page (r, op->name, q->limit, error);
      break;
    case READ_LIST_SALE_WINDOWS:
      op->rows = klass->list_sale_windows (r, error);
      break;
    case READ_LIST_HOLDS:
      op->rows = klass->list_holds (r, q->user, q->only_caller, error);
      break;
    case READ_LIST_WAITLIST:
      op->rows = klass->list_waitlist (r, q->item, q->only_caller, error);
      break;
    case READ_LIST_WAITING_HOLDERS:
      op->rows = klass->list_waiting_holders (r, error);
      break;
    case READ_NEXT_EXPIRY:
      op->found = klass->next_expiry (r, &op->expires);
      return TRUE;
    case READ_LIST_ORDERS:
      op->rows = klass->list_orders (r, q->user, q->only_caller, op->max_rows, error);
      break;
    case READ_LIST_ORDERS_PAGE:
      op->rows = klass->list_orders_page (r, q, error);
      break;
    default:
      g_assert_not_reached ();
    }
  return op->rows != NULL;
}

/* A lane's GThreadPool function: @data is the read's GTask. */
static void
run_read (gpointer data, gpointer user_data)
{
  g_autoptr(GTask) task = data;
  ReadLane *lane = user_data;
  ReservedStore *self = lane->store;
  const StoreBackendClass *klass = self->backend->klass;
  GError *error = NULL;
  guint busy_timeout;

  /* The busy timeout as it is now: a reload may have changed it. */
  g_mutex_lock (&self->lock);
  busy_timeout = self->busy_timeout_ms;
  g_mutex_unlock (&self->lock);
  if (lane->reader == NULL && (lane->reader = klass->open_reader (self->backend, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (lane->busy_timeout_ms != busy_timeout)
    {
      klass->reader_set_busy_timeout (lane->reader, busy_timeout);
      lane->busy_timeout_ms = busy_timeout;
    }
  if (read_op_run (klass, lane->reader, g_task_get_task_data (task), &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
lane_init (ReadLane *lane, ReservedStore *self)
{
  lane->store = self;
  lane->busy_timeout_ms = G_MAXUINT; /* set before the first read */
  /* One thread at a time: the reads of a lane keep their order. */
  lane->pool = g_thread_pool_new (run_read, lane, 1, FALSE, NULL);
}

/* After this no read of the lane is left: each queued one has run. */
static gboolean
lane_close (ReadLane *lane, const StoreBackendClass *klass)
{
  gboolean clean = TRUE;

  if (lane->pool != NULL)
    g_thread_pool_free (g_steal_pointer (&lane->pool), FALSE, TRUE);
  if (lane->reader != NULL)
    clean = klass->close_reader (g_steal_pointer (&lane->reader));
  return clean;
}

static void
start_read (ReservedStore *self, ReadOp *op, GAsyncReadyCallback callback, gpointer user_data)
{
  /* No source object, as for writes: a lane's thread must never drop the
   * last reference to the store, whose finalization waits for it. */
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  ReadLane *lane = op->kind >= READ_LIST_ORDERS ? &self->listings : &self->reads;

  g_task_set_task_data (task, op, (GDestroyNotify) read_op_free);
  g_thread_pool_push (lane->pool, task, NULL);
}

/* The answer of a read of one row, moved into @out (@size bytes). */
static gboolean
finish_row (GAsyncResult *result, gpointer out, gsize size, GError **error)
{
  ReadOp *op = finish_op (result, error);

  if (op == NULL)
    return FALSE;
  memcpy (out, &op->row, size);
  memset (&op->row, 0, sizeof op->row);
  return TRUE;
}

/* (transfer full) The answer of a listing. */
static gpointer
finish_rows (GAsyncResult *result, GError **error)
{
  ReadOp *op = finish_op (result, error);

  return op != NULL ? g_steal_pointer (&op->rows) : NULL;
}

void
reserved_store_get_item_async (ReservedStore *self,
                               const char *name,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  start_read (self, read_op_new (READ_GET_ITEM, name, NULL, NULL), callback, user_data);
}

gboolean
reserved_store_get_item_finish (ReservedStore *self,
                                GAsyncResult *result,
                                ReservedItem *out,
                                GError **error)
{
  return finish_row (result, out, sizeof *out, error);
}

gboolean
reserved_store_get_item (ReservedStore *self, const char *name, ReservedItem *out, GError **error)
{
  g_autoptr(GAsyncResult) result =
               read_and_wait (self, read_op_new (READ_GET_ITEM, name, NULL, NULL));

  return reserved_store_get_item_finish (self, result, out, error);
}

void
reserved_store_get_order_async (ReservedStore *self,
                                guint64 order,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  start_read (self, read_op_new_id (READ_GET_ORDER, order), callback, user_data);
}

gboolean
reserved_store_get_order_finish (ReservedStore *self,
                                 GAsyncResult *result,
                                 ReservedOrder *out,
                                 GError **error)
{
  return finish_row (result, out, sizeof *out, error);
}

gboolean
reserved_store_get_order (ReservedStore *self, guint64 order, ReservedOrder *out, GError **error)
{
  g_autoptr(GAsyncResult) result = read_and_wait (self, read_op_new_id (READ_GET_ORDER, order));

  return reserved_store_get_order_finish (self, result, out, error);
}

void
reserved_store_get_hold_async (ReservedStore *self,
                               guint64 hold,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  start_read (self, read_op_new_id (READ_GET_HOLD, hold), callback, user_data);
}

gboolean
reserved_store_get_hold_finish (ReservedStore *self,
                                GAsyncResult *result,
                                ReservedHold *out,
                                GError **error)
{
  return finish_row (result, out, sizeof *out, error);
}

void
reserved_store_get_entry_async (ReservedStore *self,
                                guint64 entry,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  start_read (self, read_op_new_id (READ_GET_ENTRY, entry), callback, user_data);
}

gboolean
reserved_store_get_entry_finish (ReservedStore *self,
                                 GAsyncResult *result,
                                 ReservedEntry *out,
                                 GError **error)
{
  return finish_row (result, out, sizeof *out, error);
}

GArray *
reserved_store_list_items (ReservedStore *self, GError **error)
{
  g_autoptr(GAsyncResult) result =
               read_and_wait (self, read_op_new (READ_LIST_ITEMS, NULL, NULL, NULL));

  return finish_rows (result, error);
}

void
reserved_store_list_items_page_async (ReservedStore *self,
                                      const char *after,
                                      guint limit,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  ReadOp *op = read_op_new (READ_LIST_ITEMS_PAGE, after, NULL, NULL);

  op->query.limit = limit;
  start_read (self, op, callback, user_data);
}

void
reserved_store_list_sale_windows_async (ReservedStore *self,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  start_read (self, read_op_new (READ_LIST_SALE_WINDOWS, NULL, NULL, NULL), callback, user_data);
}

void
reserved_store_list_holds_async (ReservedStore *self,
                                 const char *user,
                                 const uid_t *only_caller,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  start_read (self, read_op_new (READ_LIST_HOLDS, NULL, user, only_caller), callback, user_data);
}

void
reserved_store_list_waitlist_async (ReservedStore *self,
                                    const char *item,
                                    const uid_t *only_caller,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  start_read (self, read_op_new (READ_LIST_WAITLIST, item, NULL, only_caller), callback, user_data);
}

GArray *
reserved_store_list_finish (ReservedStore *self, GAsyncResult *result, GError **error)
{
  return finish_rows (result, error);
}

void
reserved_store_list_waiting_holders_async (ReservedStore *self,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data)
{
  start_read (self, read_op_new (READ_LIST_WAITING_HOLDERS, NULL, NULL, NULL), callback, user_data);
}

GPtrArray *
reserved_store_list_waiting_holders_finish (ReservedStore *self,
                                            GAsyncResult *result,
                                            GError **error)
{
  return finish_rows (result, error);
}

void
reserved_store_next_expiry_async (ReservedStore *self,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  start_read (self, read_op_new (READ_NEXT_EXPIRY, NULL, NULL, NULL), callback, user_data);
}

gboolean
reserved_store_next_expiry_finish (ReservedStore *self,
                                   GAsyncResult *result,
                                   gint64 *expires,
                                   GError **error)
{
  ReadOp *op = finish_op (result, error);

  if (op == NULL || !op->found)
    return FALSE;
  *expires = op->expires;
  return TRUE;
}

GArray *
reserved_store_list_orders (ReservedStore *self,
                            const char *user,
                            const uid_t *only_caller,
                            GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  ReadOp *op = read_op_new (READ_LIST_ORDERS, NULL, user, only_caller);

  op->max_rows = G_MAXUINT;
  result = read_and_wait (self, op);
  return finish_rows (result, error);
}

void
reserved_store_list_orders_async (ReservedStore *self,
                                  const char *user,
                                  const uid_t *only_caller,
                                  guint max_rows,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  ReadOp *op = read_op_new (READ_LIST_ORDERS, NULL, user, only_caller);

  op->max_rows = max_rows;
  start_read (self, op, callback, user_data);
}

void
reserved_store_list_orders_page_async (ReservedStore *self,
                                       const ReservedOrderQuery *query,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  ReadOp *op = read_op_new (READ_LIST_ORDERS_PAGE, query->item, query->user, query->only_caller);
  const char *item = op->query.item, *user = op->query.user;
  const uid_t *only_caller = op->query.only_caller;

  op->query = *query;
  op->query.item = item;
  op->query.user = user;
  op->query.only_caller = only_caller;
  start_read (self, op, callback, user_data);
}

GArray *
reserved_store_list_orders_finish (ReservedStore *self, GAsyncResult *result, GError **error)
{
  return finish_rows (result, error);
}

void
reserved_store_get_stats (ReservedStore *self, ReservedStoreStats *stats)
{
  g_mutex_lock (&self->lock);
  *stats = self->stats;
  g_mutex_unlock (&self->lock);
}

void
reserved_store_set_busy_timeout (ReservedStore *self, guint milliseconds)
{
  g_mutex_lock (&self->lock);
  self->busy_timeout_ms = milliseconds;
  g_mutex_unlock (&self->lock);
  /* The lanes' readers take it before their next read. */
  self->backend->klass->set_busy_timeout (self->backend, milliseconds);
}

const char *
reserved_store_get_path (ReservedStore *self)
{
  return self->database;
}

/* --- life cycle ------------------------------------------------------------ */

/* --- changes other daemons made ------------------------------------------ */

typedef struct {
  ReservedStore *self;
  char *item;
  guint32 remaining;
  guint64 version;
} StockChange;

static void
stock_change_free (StockChange *change)
{
  g_object_unref (change->self);
  g_free (change->item);
  g_free (change);
}

static gboolean
emit_stock_change (gpointer user_data)
{
  StockChange *change = user_data;

  g_signal_emit (change->self, signals[SIGNAL_STOCK_CHANGED], 0, change->item, change->remaining,
                 change->version);
  return G_SOURCE_REMOVE;
}

/* The backend's StoreChangedFunc, on whatever thread it watches from: a
 * change that comes while the store is going is dropped. */
static void
on_backend_changed (gpointer relay, const char *item, guint32 remaining, guint64 version)
{
  ReservedStore *self = g_weak_ref_get (relay);
  StockChange *change;

  if (self == NULL)
    return;
  change = g_new0 (StockChange, 1);
  change->self = self;
  change->item = g_strdup (item);
  change->remaining = remaining;
  change->version = version;
  g_main_context_invoke_full (self->owner, G_PRIORITY_DEFAULT, emit_stock_change, change,
                              (GDestroyNotify) stock_change_free);
}

gboolean
reserved_store_is_shared (ReservedStore *self)
{
  return self->backend->klass->notifies_changes;
}

ReservedStore *
reserved_store_open_with (const StoreSettings *settings, GError **error)
{
  g_autoptr(ReservedStore) self = g_object_new (RESERVED_TYPE_STORE, NULL);

  g_return_val_if_fail (settings->database != NULL, NULL);

  self->database = store_backend_describe (settings->database);
  self->busy_timeout_ms = settings->busy_timeout_ms;
  /* The connection for reads is opened here, so that a database that
   * cannot be read is refused before anyone is served. */
  if ((self->backend = store_backend_open (settings, error)) == NULL ||
      (self->reads.reader = self->backend->klass->open_reader (self->backend, error)) == NULL)
    return NULL;
  lane_init (&self->reads, self);
  lane_init (&self->listings, self);
  self->owner = g_main_context_ref_thread_default ();
  if (self->backend->klass->notifies_changes)
    {
      self->relay = g_new0 (GWeakRef, 1);
      g_weak_ref_init (self->relay, self);
      self->backend->changed = on_backend_changed;
      self->backend->changed_data = self->relay;
      self->backend->klass->watch_changes (self->backend);
    }
  self->thread = g_thread_new ("reserved-writer", writer_thread, self);
  return g_steal_pointer (&self);
}

ReservedStore *
reserved_store_open (const char *path,
                     const char *default_item,
                     guint32 default_capacity,
                     guint busy_timeout_ms,
                     GError **error)
{
  const StoreSettings settings = {
    .database = path,
    .default_item = default_item,
    .default_capacity = default_capacity,
    .busy_timeout_ms = busy_timeout_ms,
  };

  return reserved_store_open_with (&settings, error);
}

static void
reserved_store_finalize (GObject *object)
{
  ReservedStore *self = RESERVED_STORE (object);
  gboolean clean = self->thread != NULL;

  /* The reads still queued are run, then the lanes' threads and their
   * connections go. */
  if (self->backend != NULL)
    {
      clean = lane_close (&self->reads, self->backend->klass) && clean;
      clean = lane_close (&self->listings, self->backend->klass) && clean;
    }

  /* The thread commits what is still queued, then ends. */
  if (self->thread != NULL)
    {
      g_mutex_lock (&self->lock);
      self->closing = TRUE;
      g_cond_signal (&self->wake);
      g_mutex_unlock (&self->lock);
      g_thread_join (self->thread);
    }

  /* The writer thread is gone: the backend's writer can be closed. */
  if (self->backend != NULL)
    self->backend->klass->close (self->backend, clean);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->wake);
  g_free (self->database);
  g_clear_pointer (&self->owner, g_main_context_unref);
  /* The backend, closed, calls it no more. */
  if (self->relay != NULL)
    {
      g_weak_ref_clear (self->relay);
      g_free (self->relay);
    }

  G_OBJECT_CLASS (reserved_store_parent_class)->finalize (object);
}

static void
reserved_store_class_init (ReservedStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = reserved_store_finalize;

  signals[SIGNAL_STOCK_CHANGED] =
    g_signal_new ("stock-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_UINT64);
}

static void
reserved_store_init (ReservedStore *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->wake);
  g_queue_init (&self->queue);
}
