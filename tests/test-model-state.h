/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The model of test-model.c: what docs/api.md says the daemon's state is after a
 * sequence of calls, kept in plain memory, and what it says each next call
 * must answer. It knows nothing of D-Bus or of processes: a call's caller
 * is a uid and whether that uid is an admin. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "reserve-error.h"

G_BEGIN_DECLS

typedef struct {
  char *name;
  guint32 capacity;
  guint32 remaining;
  guint32 per_user_limit;
  gboolean retired; /* sold no more, not listed; its orders and holds stay */
} ModelItem;

/* What an order and a hold both are: units of an item for a customer,
 * taken by a caller. */
#define MODEL_UNITS_FIELDS \
  guint64 id;              \
  char *item;              \
  char *user;              \
  guint32 quantity;        \
  uid_t caller

typedef struct {
  MODEL_UNITS_FIELDS;
  gboolean active;
  /* Not predictable: 0 until a listing shows it; from then on it must
   * never change. */
  gint64 created;
} ModelOrder;

/* A hold, live until it ends; a confirmed one names its order. */
typedef struct {
  MODEL_UNITS_FIELDS;
  gboolean live;
  const char *ended; /* "confirmed", "released": why it is not live */
  guint64 order;     /* confirmed: its order */
} ModelHold;

typedef struct _Model Model;

/* A Buy or a Hold: @caller takes @quantity units of @item for @user,
 * under @request_id (nullable). */
typedef struct {
  uid_t caller;
  const char *item;
  const char *user;
  guint32 quantity;
  const char *request_id;
} ModelTake;

/* A fresh database: only the default item, with the default capacity. */
Model *model_new (const char *default_item, guint32 default_capacity);
void model_free (Model *model);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Model, model_free)

ModelItem *model_lookup_item (Model *model, const char *name);
ModelOrder *model_lookup_order (Model *model, guint64 id);
/* The order @request_id is bound to for @caller: its first successful
 * Buy. NULL if none. */
ModelOrder *model_lookup_request (Model *model, uid_t caller, const char *request_id);
/* (element-type ModelItem) (transfer container) Sorted by name, as
 * ListItems sorts them; retired ones too, which ListItems leaves out. */
GPtrArray *model_list_items (Model *model);
/* Orders in the order they were placed. */
guint model_get_n_orders (Model *model);
ModelOrder *model_get_order (Model *model, guint index);
/* The highest order id ever given out, 0 if none. */
guint64 model_get_max_order_id (Model *model);
/* Units in active orders of @item, all customers. */
guint32 model_get_sold (Model *model, const char *item);
/* (element-type ModelOrder) (transfer container) What ListOrders(@user)
 * must show @caller (NULL user: every customer), sorted by order id. */
GPtrArray *model_list_orders (Model *model, const char *user, uid_t caller, gboolean admin);

/* What a call must answer, as the model predicts it before the call. */
typedef struct {
  gboolean ok;
  ReserveError error; /* when !ok */
  /* when !ok and not empty: the value the error's message must name */
  char mentions[96];
  /* Buy when ok: the order a repeated request_id gives again, or NULL for
   * a new order. */
  ModelOrder *replayed;
  /* Hold when ok: the hold a repeated request_id gives again, or NULL. */
  ModelHold *replayed_hold;
} ModelPrediction;

/* @bad_option: the call carries an option of an
 * unknown key or a wrong type. */
ModelPrediction model_predict_buy (Model *model, const ModelTake *take, gboolean bad_option);
ModelPrediction model_predict_cancel (Model *model, uid_t caller, gboolean admin, guint64 order);
ModelPrediction
model_predict_restock (Model *model, gboolean admin, const char *item, guint32 quantity);
ModelPrediction model_predict_create_item (Model *model,
                                           gboolean admin,
                                           const char *item,
                                           guint32 capacity,
                                           gboolean bad_option);
ModelPrediction
model_predict_set_per_user_limit (Model *model, gboolean admin, const char *item, guint32 limit);
/* GetItem and ListOrders: ok means the model's view is the answer. */
ModelPrediction model_predict_get_item (Model *model, const char *item);
ModelPrediction model_predict_list_orders (Model *model, const char *user, gboolean admin);

/* Applying calls that succeeded. model_buy() records a new order with the
 * id the daemon gave it (and binds the request_id to it for the caller). */
ModelOrder *model_buy (Model *model, guint64 id, const ModelTake *take);
void model_cancel (Model *model, ModelOrder *order);
void model_restock (Model *model, const char *item, guint32 quantity);
/* Changes no order or hold: only the purchases to come are held to it. */
void model_set_per_user_limit (Model *model, const char *item, guint32 limit);
ModelPrediction model_predict_retire_item (Model *model, gboolean admin, const char *item);
void model_retire_item (Model *model, const char *item);
void model_create_item (Model *model, const char *item, guint32 capacity, guint32 per_user_limit);

/* --- holds (docs/api.md, Holds): none expires within a run, whose ttls are
 * long; none is bound to a connection that leaves. */

#define MODEL_MAX_HOLD_SECONDS  7200u
#define MODEL_MAX_HOLDS_PER_UID 32u

ModelHold *model_lookup_hold (Model *model, guint64 id);
guint model_get_n_holds (Model *model);
ModelHold *model_get_hold (Model *model, guint index);
guint64 model_get_max_hold_id (Model *model);
/* Units in live holds of @item. */
guint32 model_get_held (Model *model, const char *item);
/* (element-type ModelHold) (transfer container) What ListHolds(@user) must
 * show @caller (NULL user: every customer), by id. */
GPtrArray *model_list_holds (Model *model, const char *user, uid_t caller, gboolean admin);

ModelPrediction model_predict_hold (Model *model,
                                    const ModelTake *take,
                                    guint32 ttl,
                                    gboolean bound,
                                    gboolean bad_option);
/* Confirm: ok with replayed set to the order of a hold confirmed before,
 * or ok for a new order; with @or_buy a Buy's prediction for an ended
 * hold. */
ModelPrediction
model_predict_confirm (Model *model, uid_t caller, gboolean admin, guint64 id, gboolean or_buy);
ModelPrediction model_predict_release (Model *model, uid_t caller, gboolean admin, guint64 id);
ModelPrediction
model_predict_extend (Model *model, uid_t caller, gboolean admin, guint64 id, guint32 ttl);

ModelHold *model_hold (Model *model, guint64 id, const ModelTake *take);
/* A Buy of what @hold holds, for its caller, with no request_id. */
ModelTake model_hold_take (const ModelHold *hold);
/* A live hold becomes order @order (its units stay taken). */
void model_confirm (Model *model, ModelHold *hold, guint64 order);
void model_release (Model *model, ModelHold *hold);

G_END_DECLS
