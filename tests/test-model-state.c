/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-model-state.h"

#include <string.h>

#include "reserved-test-client.h"

/* The API's limits, written out again rather than taken from the code
 * under test, so that a changed limit shows up as a disagreement. */
#define BUY_QUANTITY_MAX     10000u
#define CAPACITY_MAX         1000000000u
#define RESTOCK_QUANTITY_MAX 1000000u

/* Orders or holds: each takes units of an item for a customer, has an
 * id, and may be bound to a caller's request_id. */
typedef struct {
  GPtrArray *all;       /* (owned) in the order they were made */
  GHashTable *by_id;    /* &entry->id -> entry */
  GHashTable *requests; /* "uid:request_id" -> entry */
  guint64 max_id;
} ModelBook;

struct _Model {
  GHashTable *items; /* name -> (owned) ModelItem */
  ModelBook orders;  /* ModelOrder */
  ModelBook holds;   /* ModelHold */
};

static void
hold_free (ModelHold *hold)
{
  g_free (hold->item);
  g_free (hold->user);
  g_free (hold);
}

static void
item_free (ModelItem *item)
{
  g_free (item->name);
  g_free (item);
}

static void
order_free (ModelOrder *order)
{
  g_free (order->item);
  g_free (order->user);
  g_free (order);
}

static void
book_init (ModelBook *book, GDestroyNotify free_entry)
{
  book->all = g_ptr_array_new_with_free_func (free_entry);
  book->by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  book->requests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
book_clear (ModelBook *book)
{
  g_hash_table_unref (book->requests);
  g_hash_table_unref (book->by_id);
  g_ptr_array_unref (book->all);
}

Model *
model_new (const char *default_item, guint32 default_capacity)
{
  Model *model = g_new0 (Model, 1);

  model->items = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) item_free);
  book_init (&model->orders, (GDestroyNotify) order_free);
  book_init (&model->holds, (GDestroyNotify) hold_free);
  model_create_item (model, default_item, default_capacity, 0);
  return model;
}

void
model_free (Model *model)
{
  if (model == NULL)
    return;
  book_clear (&model->holds);
  book_clear (&model->orders);
  g_hash_table_unref (model->items);
  g_free (model);
}

ModelItem *
model_lookup_item (Model *model, const char *name)
{
  return g_hash_table_lookup (model->items, name);
}

ModelOrder *
model_lookup_order (Model *model, guint64 id)
{
  return g_hash_table_lookup (model->orders.by_id, &id);
}

static char *
request_key (uid_t caller, const char *request_id)
{
  return g_strdup_printf ("%u:%s", (guint) caller, request_id);
}

ModelOrder *
model_lookup_request (Model *model, uid_t caller, const char *request_id)
{
  g_autofree char *key = request_key (caller, request_id);

  return g_hash_table_lookup (model->orders.requests, key);
}

static int
compare_items (gconstpointer a, gconstpointer b)
{
  const ModelItem *x = *(ModelItem *const *) a;
  const ModelItem *y = *(ModelItem *const *) b;

  /* Byte order, as SQLite's default collation sorts. */
  return strcmp (x->name, y->name);
}

GPtrArray *
model_list_items (Model *model)
{
  GPtrArray *items = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer item;

  g_hash_table_iter_init (&iter, model->items);
  while (g_hash_table_iter_next (&iter, NULL, &item))
    g_ptr_array_add (items, item);
  g_ptr_array_sort (items, compare_items);
  return items;
}

guint
model_get_n_orders (Model *model)
{
  return model->orders.all->len;
}

ModelOrder *
model_get_order (Model *model, guint index)
{
  return g_ptr_array_index (model->orders.all, index);
}

guint64
model_get_max_order_id (Model *model)
{
  return model->orders.max_id;
}

guint32
model_get_sold (Model *model, const char *item)
{
  guint64 sold = 0;

  for (guint i = 0; i < model->orders.all->len; i++)
    {
      ModelOrder *order = g_ptr_array_index (model->orders.all, i);

      if (order->active && g_str_equal (order->item, item))
        sold += order->quantity;
    }
  g_assert_cmpuint (sold, <=, G_MAXUINT32);
  return (guint32) sold;
}

static guint32
units_held (Model *model, const char *item, const char *user)
{
  guint64 held = 0;

  for (guint i = 0; i < model->orders.all->len; i++)
    {
      ModelOrder *order = g_ptr_array_index (model->orders.all, i);

      if (order->active && g_str_equal (order->item, item) && g_str_equal (order->user, user))
        held += order->quantity;
    }
  /* Holds count with the orders. */
  for (guint i = 0; i < model->holds.all->len; i++)
    {
      ModelHold *hold = g_ptr_array_index (model->holds.all, i);

      if (hold->live && g_str_equal (hold->item, item) && g_str_equal (hold->user, user))
        held += hold->quantity;
    }
  return (guint32) MIN (held, G_MAXUINT32);
}

static int
compare_orders_by_id (gconstpointer a, gconstpointer b)
{
  const ModelOrder *x = *(ModelOrder *const *) a;
  const ModelOrder *y = *(ModelOrder *const *) b;

  return x->id < y->id ? -1 : x->id > y->id;
}

GPtrArray *
model_list_orders (Model *model, const char *user, uid_t caller, gboolean admin)
{
  GPtrArray *orders = g_ptr_array_new ();

  for (guint i = 0; i < model->orders.all->len; i++)
    {
      ModelOrder *order = g_ptr_array_index (model->orders.all, i);

      if (user != NULL && !g_str_equal (order->user, user))
        continue;
      /* Who bought what is private: a non-admin sees what it placed. */
      if (!admin && order->caller != caller)
        continue;
      g_ptr_array_add (orders, order);
    }
  g_ptr_array_sort (orders, compare_orders_by_id);
  return orders;
}

/* --- predictions ------------------------------------------------------------ */

static ModelPrediction
predict_ok (void)
{
  ModelPrediction prediction = { .ok = TRUE };

  return prediction;
}

static ModelPrediction
predict_error (ReserveError error, const char *mentions)
{
  ModelPrediction prediction = { .ok = FALSE, .error = error };

  if (mentions != NULL)
    g_strlcpy (prediction.mentions, mentions, sizeof prediction.mentions);
  return prediction;
}

static ModelPrediction
predict_no_such_order (guint64 order)
{
  char id[24];

  g_snprintf (id, sizeof id, "%" G_GUINT64_FORMAT, order);
  return predict_error (RESERVE_ERROR_NO_SUCH_ORDER, id);
}

static guint
live_holds_of (Model *model, uid_t caller)
{
  guint live = 0;

  for (guint i = 0; i < model->holds.all->len; i++)
    {
      ModelHold *hold = g_ptr_array_index (model->holds.all, i);

      live += hold->live && hold->caller == caller;
    }
  return live;
}

/* Buy's and Hold's arguments, as the daemon checks them. */
static gboolean
take_valid (const ModelTake *take)
{
  return reserved_test_valid_item_name (take->item) && reserved_test_valid_user_name (take->user) &&
         take->quantity > 0 && take->quantity <= BUY_QUANTITY_MAX;
}

/* A repeated request_id, bound to a Buy or Hold of @item, @user and
 * @quantity: the same arguments again are a replay, others are refused. */
static ModelPrediction
predict_replay (const ModelTake *take, const char *item, const char *user, guint32 quantity)
{
  if (!g_str_equal (item, take->item) || !g_str_equal (user, take->user) ||
      quantity != take->quantity)
    return predict_error (RESERVE_ERROR_INVALID_ARGUMENT, take->request_id);
  return predict_ok ();
}

/* What Buy and Hold (@holding) of new units answer, the arguments being
 * valid: a retired item is sold no more (NoSuchItem, the message naming
 * it); the limit counts the customer's name, whoever placed the orders,
 * and cancelled orders do not count. */
static ModelPrediction
predict_take (Model *model, const ModelTake *take, gboolean holding)
{
  ModelItem *found = model_lookup_item (model, take->item);

  if (found == NULL || found->retired)
    return predict_error (RESERVE_ERROR_NO_SUCH_ITEM, take->item);
  if (found->per_user_limit > 0 &&
      (guint64) units_held (model, take->item, take->user) + take->quantity > found->per_user_limit)
    return predict_error (RESERVE_ERROR_LIMIT_EXCEEDED, take->item);
  if (holding && live_holds_of (model, take->caller) >= MODEL_MAX_HOLDS_PER_UID)
    return predict_error (RESERVE_ERROR_LIMIT_EXCEEDED, "MaxHoldsPerUid");
  if (found->remaining < take->quantity)
    return predict_error (RESERVE_ERROR_SOLD_OUT, take->item);
  return predict_ok ();
}

/* When several errors apply, the first of docs/api.md's order wins:
 * InvalidArgument, NoSuchItem/NoSuchOrder, PermissionDenied,
 * ItemExists/AlreadyCancelled, LimitExceeded, SoldOut. */
ModelPrediction
model_predict_buy (Model *model, const ModelTake *take, gboolean bad_option)
{
  ModelOrder *first;

  if (!take_valid (take) || bad_option)
    return predict_error (RESERVE_ERROR_INVALID_ARGUMENT, NULL);
  /* The request_id is scoped to the caller, and only a purchase that was
   * made binds it: a refused Buy took nothing and gave no order. */
  first =
    take->request_id != NULL ? model_lookup_request (model, take->caller, take->request_id) : NULL;
  if (first != NULL)
    {
      ModelPrediction prediction = predict_replay (take, first->item, first->user, first->quantity);

      prediction.replayed = prediction.ok ? first : NULL;
      return prediction;
    }
  return predict_take (model, take, FALSE);
}

ModelPrediction
model_predict_cancel (Model *model, uid_t caller, gboolean admin, guint64 id)
{
  ModelOrder *order = model_lookup_order (model, id);

  if (order == NULL)
    return predict_no_such_order (id);
  if (order->caller != caller && !admin)
    return predict_error (RESERVE_ERROR_PERMISSION_DENIED, NULL);
  if (!order->active)
    {
      ModelPrediction prediction = predict_no_such_order (id);

      prediction.error = RESERVE_ERROR_ALREADY_CANCELLED;
      return prediction;
    }
  return predict_ok ();
}

ModelPrediction
model_predict_restock (Model *model, gboolean admin, const char *item, guint32 quantity)
{
  ModelItem *found;

  if (!reserved_test_valid_item_name (item) || quantity == 0 || quantity > RESTOCK_QUANTITY_MAX)
    return predict_error (RESERVE_ERROR_INVALID_ARGUMENT, NULL);
  /* The caller is authorized before the store is read, so for anyone but
   * an admin PermissionDenied wins over what only the item can tell. */
  if (!admin)
    return predict_error (RESERVE_ERROR_PERMISSION_DENIED, NULL);
  found = model_lookup_item (model, item);
  if (found == NULL)
    return predict_error (RESERVE_ERROR_NO_SUCH_ITEM, item);
  /* Passing the capacity ceiling is an invalid argument; it needs the
   * item, so it comes after NoSuchItem. */
  if ((guint64) found->capacity + quantity > CAPACITY_MAX)
    return predict_error (RESERVE_ERROR_INVALID_ARGUMENT, NULL);
  return predict_ok ();
}

ModelPrediction
model_predict_create_item (Model *model,
                           gboolean admin,
                           const char *item,
                           guint32 capacity,
                           gboolean bad_option)
{
  if (!reserved_test_valid_item_name (item) || capacity > CAPACITY_MAX || bad_option)
    return predict_error (RESERVE_ERROR_INVALID_ARGUMENT, NULL);
  if (!admin)
    return predict_error (RESERVE_ERROR_PERMISSION_DENIED, NULL);
  if (model_lookup_item (model, item) != NULL)
    return predict_error (RESERVE_ERROR_ITEM_EXISTS, item);
  return predict_ok ();
}

ModelPrediction
model_predict_get_item (Model *model, const char *item)
{
  if (!reserved_test_valid_item_name (item))
    return predict_error (RESERVE_ERROR_INVALID_ARGUMENT, NULL);
  if (model_lookup_item (model, item) == NULL)
    return predict_error (RESERVE_ERROR_NO_SUCH_ITEM, item);
  return predict_ok ();
}

ModelPrediction
model_predict_list_orders (Model *model, const char *user, gboolean admin)
{
  /* The empty name means every customer, which only admins may list. */
  if (*user == '\0')
    return admin ? predict_ok () : predict_error (RESERVE_ERROR_PERMISSION_DENIED, NULL);
  if (!reserved_test_valid_user_name (user))
    return predict_error (RESERVE_ERROR_INVALID_ARGUMENT, NULL);
  return predict_ok ();
}

/* --- applying ---------------------------------------------------------------- */

/* The fields orders and holds share (MODEL_UNITS_FIELDS), of a new
 * one with id @id for @take. */
#define MODEL_UNITS_INIT(id, take)                                              \
  .id = (id), .item = g_strdup ((take)->item), .user = g_strdup ((take)->user), \
  .quantity = (take)->quantity, .caller = (take)->caller

/* Takes @take's units for @entry, a new order or hold of @book whose id
 * is *@id, and files it (bound to the request_id for the caller when it
 * has one). */
static void
book_take (Model *model, ModelBook *book, gpointer entry, guint64 *id, const ModelTake *take)
{
  ModelItem *found = model_lookup_item (model, take->item);

  g_assert_nonnull (found);
  g_assert_cmpuint (found->remaining, >=, take->quantity);
  g_assert_null (g_hash_table_lookup (book->by_id, id));
  found->remaining -= take->quantity;
  g_ptr_array_add (book->all, entry);
  g_hash_table_insert (book->by_id, id, entry);
  if (take->request_id != NULL)
    g_hash_table_insert (book->requests, request_key (take->caller, take->request_id), entry);
  book->max_id = MAX (book->max_id, *id);
}

ModelOrder *
model_buy (Model *model, guint64 id, const ModelTake *take)
{
  ModelOrder *order = g_new (ModelOrder, 1);

  *order = (ModelOrder){ MODEL_UNITS_INIT (id, take), .active = TRUE };
  book_take (model, &model->orders, order, &order->id, take);
  return order;
}

void
model_cancel (Model *model, ModelOrder *order)
{
  ModelItem *item = model_lookup_item (model, order->item);

  g_assert_true (order->active);
  order->active = FALSE;
  item->remaining += order->quantity;
  g_assert_cmpuint (item->remaining, <=, item->capacity);
}

ModelPrediction
model_predict_set_per_user_limit (Model *model, gboolean admin, const char *item, guint32 limit)
{
  ModelItem *found;

  if (!reserved_test_valid_item_name (item) || limit > CAPACITY_MAX)
    return predict_error (RESERVE_ERROR_INVALID_ARGUMENT, NULL);
  /* Authorized before the store is read, as Restock. */
  if (!admin)
    return predict_error (RESERVE_ERROR_PERMISSION_DENIED, NULL);
  found = model_lookup_item (model, item);
  if (found == NULL || found->retired)
    return predict_error (RESERVE_ERROR_NO_SUCH_ITEM, item);
  return predict_ok ();
}

ModelPrediction
model_predict_retire_item (Model *model, gboolean admin, const char *item)
{
  if (!reserved_test_valid_item_name (item))
    return predict_error (RESERVE_ERROR_INVALID_ARGUMENT, NULL);
  if (!admin)
    return predict_error (RESERVE_ERROR_PERMISSION_DENIED, NULL);
  /* Retiring a retired item is no error. */
  if (model_lookup_item (model, item) == NULL)
    return predict_error (RESERVE_ERROR_NO_SUCH_ITEM, item);
  return predict_ok ();
}

void
model_retire_item (Model *model, const char *item)
{
  model_lookup_item (model, item)->retired = TRUE;
}

void
model_set_per_user_limit (Model *model, const char *item, guint32 limit)
{
  model_lookup_item (model, item)->per_user_limit = limit;
}

void
model_restock (Model *model, const char *item, guint32 quantity)
{
  ModelItem *found = model_lookup_item (model, item);

  found->capacity += quantity;
  found->remaining += quantity;
  g_assert_cmpuint (found->capacity, <=, CAPACITY_MAX);
}

void
model_create_item (Model *model, const char *item, guint32 capacity, guint32 per_user_limit)
{
  ModelItem *created = g_new0 (ModelItem, 1);

  g_assert_null (model_lookup_item (model, item));
  created->name = g_strdup (item);
  created->capacity = capacity;
  created->remaining = capacity;
  created->per_user_limit = per_user_limit;
  g_hash_table_insert (model->items, created->name, created);
}

/* --- holds ---------------------------------------------------------------------- */

ModelHold *
model_lookup_hold (Model *model, guint64 id)
{
  return g_hash_table_lookup (model->holds.by_id, &id);
}

guint
model_get_n_holds (Model *model)
{
  return model->holds.all->len;
}

ModelHold *
model_get_hold (Model *model, guint index)
{
  return g_ptr_array_index (model->holds.all, index);
}

guint64
model_get_max_hold_id (Model *model)
{
  return model->holds.max_id;
}

guint32
model_get_held (Model *model, const char *item)
{
  guint64 held = 0;

  for (guint i = 0; i < model->holds.all->len; i++)
    {
      ModelHold *hold = g_ptr_array_index (model->holds.all, i);

      if (hold->live && g_str_equal (hold->item, item))
        held += hold->quantity;
    }
  return (guint32) held;
}

GPtrArray *
model_list_holds (Model *model, const char *user, uid_t caller, gboolean admin)
{
  GPtrArray *holds = g_ptr_array_new ();

  for (guint i = 0; i < model->holds.all->len; i++)
    {
      ModelHold *hold = g_ptr_array_index (model->holds.all, i);

      if (!hold->live || (user != NULL && !g_str_equal (hold->user, user)) ||
          (!admin && hold->caller != caller))
        continue;
      g_ptr_array_add (holds, hold);
    }
  return holds;
}

ModelPrediction
model_predict_hold (Model *model,
                    const ModelTake *take,
                    guint32 ttl,
                    gboolean bound,
                    gboolean bad_option)
{
  g_autofree char *key = NULL;
  ModelHold *first = NULL;

  if (!take_valid (take) || bad_option || (ttl == 0 && !bound))
    return predict_error (RESERVE_ERROR_INVALID_ARGUMENT, NULL);
  if (ttl > MODEL_MAX_HOLD_SECONDS)
    return predict_error (RESERVE_ERROR_INVALID_ARGUMENT, "ttl");
  /* As Buy's, in a space of their own. */
  if (take->request_id != NULL)
    {
      key = request_key (take->caller, take->request_id);
      first = g_hash_table_lookup (model->holds.requests, key);
    }
  if (first != NULL)
    {
      ModelPrediction prediction = predict_replay (take, first->item, first->user, first->quantity);

      prediction.replayed_hold = prediction.ok ? first : NULL;
      return prediction;
    }
  return predict_take (model, take, TRUE);
}

ModelTake
model_hold_take (const ModelHold *hold)
{
  return (ModelTake){ hold->caller, hold->item, hold->user, hold->quantity, NULL };
}

static ModelPrediction
predict_hold_target (Model *model, uid_t caller, gboolean admin, guint64 id, ModelHold **hold)
{
  char text[24];

  g_snprintf (text, sizeof text, "%" G_GUINT64_FORMAT, id);
  *hold = model_lookup_hold (model, id);
  if (*hold == NULL)
    return predict_error (RESERVE_ERROR_NO_SUCH_HOLD, text);
  /* Hold ids are not secret: another caller's is PermissionDenied. */
  if ((*hold)->caller != caller && !admin)
    return predict_error (RESERVE_ERROR_PERMISSION_DENIED, NULL);
  return predict_ok ();
}

ModelPrediction
model_predict_confirm (Model *model, uid_t caller, gboolean admin, guint64 id, gboolean or_buy)
{
  ModelHold *hold = NULL;
  ModelPrediction prediction = predict_hold_target (model, caller, admin, id, &hold);

  if (!prediction.ok || hold->live)
    return prediction;
  if (hold->order != 0)
    {
      prediction.replayed = model_lookup_order (model, hold->order);
      return prediction;
    }
  if (or_buy)
    {
      ModelTake take = model_hold_take (hold);

      return model_predict_buy (model, &take, FALSE);
    }
  return predict_error (RESERVE_ERROR_HOLD_ENDED, hold->ended);
}

ModelPrediction
model_predict_release (Model *model, uid_t caller, gboolean admin, guint64 id)
{
  ModelHold *hold = NULL;
  ModelPrediction prediction = predict_hold_target (model, caller, admin, id, &hold);

  if (!prediction.ok || hold->live)
    return prediction;
  return predict_error (RESERVE_ERROR_HOLD_ENDED, hold->ended);
}

ModelPrediction
model_predict_extend (Model *model, uid_t caller, gboolean admin, guint64 id, guint32 ttl)
{
  if (ttl == 0 || ttl > MODEL_MAX_HOLD_SECONDS)
    return predict_error (RESERVE_ERROR_INVALID_ARGUMENT, "ttl");
  return model_predict_release (model, caller, admin, id);
}

ModelHold *
model_hold (Model *model, guint64 id, const ModelTake *take)
{
  ModelHold *hold = g_new (ModelHold, 1);

  *hold = (ModelHold){ MODEL_UNITS_INIT (id, take), .live = TRUE };
  book_take (model, &model->holds, hold, &hold->id, take);
  return hold;
}

void
model_confirm (Model *model, ModelHold *hold, guint64 order)
{
  ModelItem *item = model_lookup_item (model, hold->item);
  ModelTake take = model_hold_take (hold);

  g_assert_true (hold->live);
  /* The order takes the hold's units: remaining does not move. */
  item->remaining += hold->quantity;
  model_buy (model, order, &take);
  hold->live = FALSE;
  hold->ended = "confirmed";
  hold->order = order;
}

void
model_release (Model *model, ModelHold *hold)
{
  ModelItem *item = model_lookup_item (model, hold->item);

  g_assert_true (hold->live);
  hold->live = FALSE;
  hold->ended = "released";
  item->remaining += hold->quantity;
}
