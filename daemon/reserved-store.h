/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The inventory: items and orders, kept durable. The store knows SQLite and
 * nothing of D-Bus; the service asks it for whole operations, each of which
 * either commits all it does before it completes or changes nothing.
 *
 * Writes go to one writer thread that owns the write connection. Writes
 * that arrive while a commit is in progress are committed together in the
 * next transaction (group commit), each in its own savepoint so that one
 * refused purchase does not touch the others, in order of arrival. Each
 * completes only after its transaction committed. Reads run on threads
 * of their own with connections of their own (see "reads" below), so that
 * the caller's main loop never waits for the database, and, thanks to WAL,
 * never wait for a commit.
 *
 * Errors are RESERVE_ERROR codes, so they reach clients under their API
 * names: NoSuchItem, NoSuchOrder, AlreadyCancelled, ItemExists,
 * InvalidArgument, NotOnSale, LimitExceeded, SoldOut, and StorageFailure
 * for anything the database itself refused (disk full, I/O error,
 * locked). */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define RESERVED_TYPE_STORE (reserved_store_get_type ())
G_DECLARE_FINAL_TYPE (ReservedStore, reserved_store, RESERVED, STORE, GObject)

/* When an item is on sale: [start, end) in microseconds since the Unix
 * epoch, a calendar time of the wall clock; 0 is no bound. */
typedef struct {
  gint64 start;
  gint64 end;
} ReservedSaleWindow;

/* Whether @when falls inside @window. */
gboolean reserved_sale_window_contains (const ReservedSaleWindow *window, gint64 when);

typedef struct {
  char *name;
  guint32 capacity;
  guint32 remaining;
  guint32 sold;            /* units in active orders, counted from the orders */
  guint32 per_user_limit;  /* 0: none */
  guint32 held;            /* units in live holds (GetItem only) */
  guint32 available;       /* remaining plus units of overdue holds (GetItem only) */
  gboolean retired;        /* sold no more (GetItem only; the listings leave it out) */
  ReservedSaleWindow sale; /* GetItem and reserved_store_list_sale_windows() only */
  gboolean on_sale;        /* inside its window now (GetItem only) */
  guint32 waiting;         /* units of entries waiting on its waitlist (GetItem only) */
  guint32 offer_seconds;   /* how long a waitlist offer lasts (GetItem only) */
} ReservedItem;

typedef struct {
  guint64 id;
  char *item;
  char *user;
  guint32 quantity;
  gint64 created; /* microseconds since the Unix epoch */
  uid_t caller;   /* uid of the connection that placed it */
  gboolean cancelled;
} ReservedOrder;

typedef struct {
  const char *item;
  const char *user;
  guint32 quantity;
  uid_t caller;
  const char *request_id; /* nullable */
} ReservedPurchase;

typedef struct {
  guint64 order;
  guint32 remaining;
  gboolean replayed; /* a repeated request_id: nothing was taken */
} ReservedReceipt;

typedef enum {
  RESERVED_ORDER_STATE_ANY,
  RESERVED_ORDER_STATE_ACTIVE,
  RESERVED_ORDER_STATE_CANCELLED,
} ReservedOrderState;

/* One page of orders, in order of id. */
typedef struct {
  guint64 after_order; /* the page starts after this id; 0: at the first */
  guint limit;         /* at most this many orders */
  const char *user;    /* nullable: every customer */
  const char *item;    /* nullable: every item */
  ReservedOrderState state;
  gint64 created_from;      /* created >= this (G_MININT64: no bound) */
  gint64 created_before;    /* created < this (G_MAXINT64: no bound) */
  const uid_t *only_caller; /* nullable: placed by any uid */
} ReservedOrderQuery;

/* --- holds --------------------------------------------------------------- */

/* Why a hold ended: the words of the HoldEnded signal. */
#define RESERVED_HOLD_CONFIRMED    "confirmed"
#define RESERVED_HOLD_RELEASED     "released"
#define RESERVED_HOLD_EXPIRED      "expired"
#define RESERVED_HOLD_DISCONNECTED "disconnected"
#define RESERVED_HOLD_CLOSED       "closed"

typedef struct {
  const char *item;
  const char *user;
  guint32 quantity;
  uid_t caller;
  const char *request_id; /* nullable */
  guint32 ttl;            /* seconds; 0: no expiry, the holder binds it */
  const char *holder;     /* nullable: ended with reason disconnected once gone */
  guint32 max_holds;      /* live holds one uid may have (MaxHoldsPerUid) */
} ReservedHoldRequest;

typedef struct {
  guint64 hold;
  gint64 expires; /* microseconds since the Unix epoch; 0: none */
  guint32 remaining;
  gboolean replayed; /* a repeated request_id: nothing was taken */
} ReservedHoldReceipt;

typedef struct {
  guint64 id;
  char *item;
  char *user;
  guint32 quantity;
  gint64 created;
  gint64 expires; /* 0: none */
  uid_t caller;
  char *holder;  /* nullable */
  char *ended;   /* NULL while live, else the reason */
  guint64 order; /* the order it was confirmed into, or 0 */
} ReservedHold;

/* A hold a committed write ended, for the HoldEnded signal. */
typedef struct {
  guint64 hold;
  char *item;
  const char *reason; /* static */
  guint32 remaining;  /* the item's stock just after */
} ReservedEndedHold;

void reserved_hold_clear (ReservedHold *hold);
void reserved_ended_hold_clear (ReservedEndedHold *ended);

void reserved_item_clear (ReservedItem *item);
void reserved_order_clear (ReservedOrder *order);

/* Opens the database at @path, creating it when the file does not exist or
 * is empty. An existing file is checked (it must be a reserved database that
 * passes `PRAGMA quick_check`) before anything is written to it, then
 * migrated to the current schema. On a fresh database @default_item is
 * created with @default_capacity units. @busy_timeout_ms: how long opening,
 * and later every write, waits for a lock another process holds (see
 * reserved_store_set_busy_timeout()). */
ReservedStore *reserved_store_open (const char *path,
                                    const char *default_item,
                                    guint32 default_capacity,
                                    guint busy_timeout_ms,
                                    GError **error);

/* How to open a store: reserved_store_open() with all there is to say. */
typedef struct {
  const char *database;     /* a file path, or a postgresql:// URI */
  const char *default_item; /* created, with default_capacity, on a fresh database */
  guint32 default_capacity;
  guint busy_timeout_ms; /* how long a write waits for a lock another holds */
  /* Who this daemon is among those sharing one database (NULL: this
   * host's name): a PostgreSQL store records it beside the caller's uid
   * of each order, hold and waitlist entry, since a uid means something
   * only on its own host. */
  const char *node;
} ReservedStoreSettings;

/* As reserved_store_open(); a @settings->database that is a postgresql://
 * or postgres:// URI opens the PostgreSQL backend, anything else is a
 * SQLite file. */
ReservedStore *reserved_store_open_with (const ReservedStoreSettings *settings, GError **error);

/* Whether other daemons share the database. Then every change of an
 * item's stock, by any daemon, this one's own included, is reported by
 * the signal "stock-changed" (item, remaining, version), emitted in the
 * main context of the thread that opened the store, where versions of an
 * item only grow: a report whose version is not above the last one seen
 * is older news. */
gboolean reserved_store_is_shared (ReservedStore *self);

/* The database as given when opened, for messages: a URI's password
 * hidden (store_backend_describe). */
const char *reserved_store_get_path (ReservedStore *self);

/* How long a write waits for a lock held by another process before it
 * fails with StorageFailure. */
void reserved_store_set_busy_timeout (ReservedStore *self, guint milliseconds);

/* Statistics of the writer since the store was opened. */
typedef struct {
  guint64 commits;
  guint64 operations;
  guint64 largest_batch;
} ReservedStoreStats;

void reserved_store_get_stats (ReservedStore *self, ReservedStoreStats *stats);

/* Each write comes asynchronously (the callback runs in the thread-default
 * main context of the caller) and synchronously (blocks the caller until
 * the commit; for tools and tests). */
void reserved_store_buy_async (ReservedStore *self,
                               const ReservedPurchase *purchase,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean reserved_store_buy_finish (ReservedStore *self,
                                    GAsyncResult *result,
                                    ReservedReceipt *receipt,
                                    GError **error);
gboolean reserved_store_buy (ReservedStore *self,
                             const ReservedPurchase *purchase,
                             ReservedReceipt *receipt,
                             GError **error);

/* On success sets @item_out (transfer full) to the order's item and
 * @remaining to that item's stock afterwards. */
void reserved_store_cancel_async (ReservedStore *self,
                                  guint64 order,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean reserved_store_cancel_finish (ReservedStore *self,
                                       GAsyncResult *result,
                                       char **item_out,
                                       guint32 *remaining,
                                       GError **error);
gboolean reserved_store_cancel (ReservedStore *self,
                                guint64 order,
                                char **item_out,
                                guint32 *remaining,
                                GError **error);

/* --- reads ---------------------------------------------------------------- */

/* Every read is asynchronous: it runs on a thread of the store's, with a
 * connection of its own, and its callback runs in the caller's
 * thread-default main context. A read sees every write that completed
 * before it was asked. Reads are answered in the order they were asked,
 * but for the listings of orders, which may be a million rows long and go
 * on a thread of their own, one at a time, so that the other reads never
 * wait behind them. Arguments are copied: the caller's may go at once.
 *
 * The synchronous forms, for tools and tests, block the caller until the
 * answer came; a daemon's main loop must not call them. */

void reserved_store_get_item_async (ReservedStore *self,
                                    const char *name,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean reserved_store_get_item_finish (ReservedStore *self,
                                         GAsyncResult *result,
                                         ReservedItem *out,
                                         GError **error);
gboolean
reserved_store_get_item (ReservedStore *self, const char *name, ReservedItem *out, GError **error);

void reserved_store_get_order_async (ReservedStore *self,
                                     guint64 order,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
gboolean reserved_store_get_order_finish (ReservedStore *self,
                                          GAsyncResult *result,
                                          ReservedOrder *out,
                                          GError **error);
gboolean
reserved_store_get_order (ReservedStore *self, guint64 order, ReservedOrder *out, GError **error);

/* (transfer full) The answer of any listing of items, sale windows, holds
 * or waitlist entries below (a GArray of ReservedItem, ReservedHold or
 * ReservedEntry), or NULL with @error. */
GArray *reserved_store_list_finish (ReservedStore *self, GAsyncResult *result, GError **error);

/* (element-type ReservedItem) sorted by name; sold is not filled in. */
GArray *reserved_store_list_items (ReservedStore *self, GError **error);

/* (element-type ReservedOrder) oldest first, ties by id. @user NULL: every
 * customer. @only_caller non-NULL: only orders placed by that uid. */
GArray *reserved_store_list_orders (ReservedStore *self,
                                    const char *user,
                                    const uid_t *only_caller,
                                    GError **error);


/* As reserved_store_list_orders(), but at most @max_rows orders: a caller
 * that bounds its reply asks for one more than the bound to learn that the
 * listing is longer, without ever holding more. */
void reserved_store_list_orders_async (ReservedStore *self,
                                       const char *user,
                                       const uid_t *only_caller,
                                       guint max_rows,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
/* (element-type ReservedOrder) (transfer full) */
GArray *
reserved_store_list_orders_finish (ReservedStore *self, GAsyncResult *result, GError **error);

/* One page; @query is copied. Finish with reserved_store_list_orders_finish(). */
void reserved_store_list_orders_page_async (ReservedStore *self,
                                            const ReservedOrderQuery *query,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);

/* (element-type ReservedItem) at most @limit items named after @after
 * (NULL: from the first), sorted by name; sold is not filled in. Finish
 * with reserved_store_list_finish(). */
void reserved_store_list_items_page_async (ReservedStore *self,
                                           const char *after,
                                           guint limit,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);

/* @window: nullable, none. The sync form creates an item without one.
 * @offer_seconds: how long a waitlist offer of it lasts; 0: the default. */
void reserved_store_create_item_async (ReservedStore *self,
                                       const char *name,
                                       guint32 capacity,
                                       guint32 per_user_limit,
                                       const ReservedSaleWindow *window,
                                       guint32 offer_seconds,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean
reserved_store_create_item_finish (ReservedStore *self, GAsyncResult *result, GError **error);
gboolean reserved_store_create_item (ReservedStore *self,
                                     const char *name,
                                     guint32 capacity,
                                     guint32 per_user_limit,
                                     GError **error);

void reserved_store_restock_async (ReservedStore *self,
                                   const char *name,
                                   guint32 quantity,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean reserved_store_restock_finish (ReservedStore *self,
                                        GAsyncResult *result,
                                        guint32 *remaining,
                                        GError **error);
gboolean reserved_store_restock (ReservedStore *self,
                                 const char *name,
                                 guint32 quantity,
                                 guint32 *remaining,
                                 GError **error);

/* The item is sold no more (Buy and Hold refuse it with NoSuchItem) and
 * the listings leave it out, while its orders and holds stay; its name is
 * never reused. Retiring a retired item succeeds and changes nothing. */
void reserved_store_retire_item_async (ReservedStore *self,
                                       const char *name,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean
reserved_store_retire_item_finish (ReservedStore *self, GAsyncResult *result, GError **error);
gboolean reserved_store_retire_item (ReservedStore *self, const char *name, GError **error);

/* @limit: units one customer may have in active orders and live holds of
 * the item (0: no limit); checked on each later purchase and hold, never
 * on what is already held. Refused for a retired item. */
void reserved_store_set_per_user_limit_async (ReservedStore *self,
                                              const char *name,
                                              guint32 limit,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
gboolean reserved_store_set_per_user_limit_finish (ReservedStore *self,
                                                   GAsyncResult *result,
                                                   GError **error);
gboolean reserved_store_set_per_user_limit (ReservedStore *self,
                                            const char *name,
                                            guint32 limit,
                                            GError **error);

/* Buy, BuyWithDetails and Hold of the item are refused with NotOnSale
 * outside @window (both bounds 0: always on sale); live holds stay.
 * Refused for a retired item. The caller checks @window is well formed. */
void reserved_store_set_sale_window_async (ReservedStore *self,
                                           const char *name,
                                           const ReservedSaleWindow *window,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
gboolean
reserved_store_set_sale_window_finish (ReservedStore *self, GAsyncResult *result, GError **error);
gboolean reserved_store_set_sale_window (ReservedStore *self,
                                         const char *name,
                                         const ReservedSaleWindow *window,
                                         GError **error);

/* (element-type ReservedItem) the items not retired that have a sale
 * window, by name, with name and sale filled in. Finish with
 * reserved_store_list_finish(). */
void reserved_store_list_sale_windows_async (ReservedStore *self,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);

/* Holds take units out of remaining until they are confirmed into an
 * order, released or ended otherwise; overdue holds of an item are ended
 * by any write that needs its units, and the rest by
 * reserved_store_end_holds_async(). Each write's result may carry holds it
 * ended: reserved_store_take_ended_holds(). */
void reserved_store_hold_async (ReservedStore *self,
                                const ReservedHoldRequest *request,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean reserved_store_hold_finish (ReservedStore *self,
                                     GAsyncResult *result,
                                     ReservedHoldReceipt *receipt,
                                     GError **error);

/* @or_buy: a hold that ended (but not by confirmation) gives way to a Buy
 * of its item, user and quantity. @item_out (transfer full). */
void reserved_store_confirm_async (ReservedStore *self,
                                   guint64 hold,
                                   gboolean or_buy,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean reserved_store_confirm_finish (ReservedStore *self,
                                        GAsyncResult *result,
                                        guint64 *order,
                                        guint32 *remaining,
                                        char **item_out,
                                        GError **error);

void reserved_store_release_async (ReservedStore *self,
                                   guint64 hold,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean reserved_store_release_finish (ReservedStore *self,
                                        GAsyncResult *result,
                                        guint32 *remaining,
                                        GError **error);

/* The hold then expires @ttl seconds from now, but never past its
 * creation plus @max_seconds. */
void reserved_store_extend_async (ReservedStore *self,
                                  guint64 hold,
                                  guint32 ttl,
                                  guint32 max_seconds,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean reserved_store_extend_finish (ReservedStore *self,
                                       GAsyncResult *result,
                                       gint64 *expires,
                                       GError **error);

/* Ends every overdue hold (@holder NULL; reason expired), or every live
 * hold of @holder with @reason. */
void reserved_store_end_holds_async (ReservedStore *self,
                                     const char *holder,
                                     const char *reason,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
gboolean
reserved_store_end_holds_finish (ReservedStore *self, GAsyncResult *result, GError **error);

/* (element-type ReservedEndedHold) (transfer full) The holds the write
 * behind @result ended, empty unless it committed. Any write's result. */
GArray *reserved_store_take_ended_holds (ReservedStore *self, GAsyncResult *result);

void reserved_store_get_hold_async (ReservedStore *self,
                                    guint64 hold,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean reserved_store_get_hold_finish (ReservedStore *self,
                                         GAsyncResult *result,
                                         ReservedHold *out,
                                         GError **error);
/* (element-type ReservedHold) live holds, oldest first. @user NULL: every
 * customer. @only_caller non-NULL: only holds that uid made. Finish with
 * reserved_store_list_finish(). */
void reserved_store_list_holds_async (ReservedStore *self,
                                      const char *user,
                                      const uid_t *only_caller,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
/* The earliest expiry of a live hold, or deadline of a waiting entry:
 * FALSE when none comes, or with @error when it cannot be read. */
void reserved_store_next_expiry_async (ReservedStore *self,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean reserved_store_next_expiry_finish (ReservedStore *self,
                                            GAsyncResult *result,
                                            gint64 *expires,
                                            GError **error);

/* --- the waitlist ----------------------------------------------------------- */

/* Why a waitlist entry ended. */
#define RESERVED_ENTRY_SERVED       "served"       /* its offer was confirmed */
#define RESERVED_ENTRY_LAPSED       "lapsed"       /* its offer ended unconfirmed */
#define RESERVED_ENTRY_LEFT         "left"         /* LeaveWaitlist */
#define RESERVED_ENTRY_EXPIRED      "expired"      /* its deadline passed while it waited */
#define RESERVED_ENTRY_DISCONNECTED "disconnected" /* release_on_disconnect: its waiter left */
#define RESERVED_ENTRY_OVER_LIMIT   "over_limit"   /* the per-user limit refused it at promotion */

/* How long an offer lasts when the item does not say (CreateItem's
 * offer_seconds). */
#define RESERVED_OFFER_SECONDS_DEFAULT 3600u

typedef struct {
  const char *item;
  const char *user;
  guint32 quantity;
  uid_t caller;
  const char *request_id; /* nullable */
  gint64 deadline;        /* the daemon's time after which it waits no more; 0: none */
  const char *holder;     /* nullable: the entry, and its offer, end once it is gone */
} ReservedJoinRequest;

typedef struct {
  guint64 entry;
  guint32 position; /* 1 for the head of the queue; 0 once offered or ended */
  guint64 hold;     /* the offer, 0 while waiting */
  gint64 expires;   /* the offer's expiry */
  guint32 remaining;
  gboolean replayed;
} ReservedJoinReceipt;

typedef struct {
  guint64 id;
  char *item;
  char *user;
  guint32 quantity;
  gint64 created;
  gint64 deadline; /* 0: none */
  uid_t caller;
  guint32 position; /* 0 unless waiting */
  guint64 hold;     /* the offer, 0 while waiting */
  char *ended;      /* NULL while live */
} ReservedEntry;

/* An offer a committed write made: the head of a waitlist was given a
 * hold. For the WaitlistOffered signal. */
typedef struct {
  guint64 entry;
  guint64 hold;
  char *item;
  gint64 expires;
  guint32 remaining; /* the item's stock just after */
  char *holder;      /* nullable: the waiter's connection the offer is bound to */
} ReservedOffer;

void reserved_entry_clear (ReservedEntry *entry);
void reserved_offer_clear (ReservedOffer *offer);

/* Joins @request->item's waitlist. Served at once (a non-zero hold) when
 * its units are free and nobody waits before it. */
void reserved_store_join_waitlist_async (ReservedStore *self,
                                         const ReservedJoinRequest *request,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
gboolean reserved_store_join_waitlist_finish (ReservedStore *self,
                                              GAsyncResult *result,
                                              ReservedJoinReceipt *receipt,
                                              GError **error);

/* Ends @entry (reason left); an offered entry's hold is released. Each
 * unit it gave back is offered on at once. */
void reserved_store_leave_waitlist_async (ReservedStore *self,
                                          guint64 entry,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
gboolean
reserved_store_leave_waitlist_finish (ReservedStore *self, GAsyncResult *result, GError **error);

/* Offers what @item has left to its waiting entries, as every write that
 * gives units back does: for when units become sellable otherwise (its
 * sale window opened). @remaining: the item's stock afterwards. */
void reserved_store_promote_waitlist_async (ReservedStore *self,
                                            const char *item,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
gboolean reserved_store_promote_waitlist_finish (ReservedStore *self,
                                                 GAsyncResult *result,
                                                 guint32 *remaining,
                                                 GError **error);

/* (element-type ReservedOffer) (transfer full) The offers the write
 * behind @result made, empty unless it committed. Any write's result. */
GArray *reserved_store_take_offers (ReservedStore *self, GAsyncResult *result);

void reserved_store_get_entry_async (ReservedStore *self,
                                     guint64 entry,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
gboolean reserved_store_get_entry_finish (ReservedStore *self,
                                          GAsyncResult *result,
                                          ReservedEntry *out,
                                          GError **error);
/* (element-type ReservedEntry) live entries (waiting or offered) in order
 * of arrival. @item NULL: of every item. @only_caller non-NULL: only that
 * uid's. Finish with reserved_store_list_finish(). */
void reserved_store_list_waitlist_async (ReservedStore *self,
                                         const char *item,
                                         const uid_t *only_caller,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);

/* (element-type utf8) the holders (release_on_disconnect) of entries that
 * still wait, each once. */
void reserved_store_list_waiting_holders_async (ReservedStore *self,
                                                GAsyncReadyCallback callback,
                                                gpointer user_data);
/* (transfer full) */
GPtrArray *reserved_store_list_waiting_holders_finish (ReservedStore *self,
                                                       GAsyncResult *result,
                                                       GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ReservedHold, reserved_hold_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ReservedEntry, reserved_entry_clear)

G_END_DECLS
