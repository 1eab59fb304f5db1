/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Assertions about the daemon's answers, shared by the tests that talk to
 * it: typed calls that assert success, calls that assert one API error and
 * that nothing changed, and the check of the law
 *
 *     remaining + held + sum(quantity of active orders) == capacity
 *
 * for every item. */
#pragma once

#include <gio/gio.h>

#include "reserve-error.h"
#include "reserve-generated.h"
#include "reserve-names.h"

G_BEGIN_DECLS

typedef struct {
  ReserveReserve1 *proxy;
  /* Admins can see every order (ListOrders ""), which the snapshot of
   * "nothing changed" and the law need; other callers see less. */
  gboolean admin;
} ReservedTestClient;

typedef struct {
  guint64 id;
  char *item;
  guint32 quantity;
  gint64 created;
  gboolean active;
} ReservedTestOrder;

typedef struct {
  guint32 capacity;
  guint32 remaining;
  guint32 sold;
  guint32 per_user_limit;
  guint32 held;      /* units in live holds */
  guint32 available; /* remaining plus the units of overdue holds */
  gboolean retired;
  gboolean on_sale;  /* inside its sale window now (always without one) */
  gint64 sale_start; /* 0: none */
  gint64 sale_end;   /* 0: none */
  guint32 waiting;   /* units of entries waiting on its waitlist */
} ReservedTestItem;

/* a{sv} options (floating): empty, or with request_id when non-NULL. */
GVariant *reserved_test_options (const char *request_id);

/* a{sv} options (floating) of a hold or a waitlist entry: @value
 * (floating, nullable: none) under @key ("ttl", "deadline"),
 * release_on_disconnect when @bound, and request_id when non-NULL. */
GVariant *reserved_test_hold_options (const char *key,
                                      GVariant *value,
                                      gboolean bound,
                                      const char *request_id);

guint64 reserved_test_buy (ReservedTestClient *client,
                           const char *item,
                           const char *user,
                           guint32 quantity,
                           const char *request_id,
                           guint32 *remaining_out);
/* The arguments (floating) of Buy, Hold or JoinWaitlist: @options
 * (floating) or NULL (empty). */
GVariant *reserved_test_request_args (const char *item,
                                      const char *user,
                                      guint32 quantity,
                                      GVariant *options);
/* The arguments of Buy (floating), options with @request_id when non-NULL. */
GVariant *reserved_test_buy_args (const char *item,
                                  const char *user,
                                  guint32 quantity,
                                  const char *request_id);
/* The order of Buy's @reply, asserting it is one; its remaining units in
 * @remaining_out (nullable). */
guint64 reserved_test_bought (GVariant *reply, guint32 *remaining_out);
/* @options: floating or NULL (empty). Asserts @code and no change. */
void reserved_test_buy_refused (ReservedTestClient *client,
                                const char *item,
                                const char *user,
                                guint32 quantity,
                                GVariant *options,
                                ReserveError code);

guint32 reserved_test_cancel (ReservedTestClient *client, guint64 order);
void reserved_test_cancel_refused (ReservedTestClient *client, guint64 order, ReserveError code);

void reserved_test_create_item (ReservedTestClient *client,
                                const char *item,
                                guint32 capacity,
                                guint32 per_user_limit);
void reserved_test_create_item_refused (ReservedTestClient *client,
                                        const char *item,
                                        guint32 capacity,
                                        GVariant *options,
                                        ReserveError code);

guint32 reserved_test_restock (ReservedTestClient *client, const char *item, guint32 quantity);
void reserved_test_restock_refused (ReservedTestClient *client,
                                    const char *item,
                                    guint32 quantity,
                                    ReserveError code);

/* SetSaleWindow; 0 for no bound, both 0 for no window. */
void reserved_test_set_sale_window (ReservedTestClient *client,
                                    const char *item,
                                    gint64 start,
                                    gint64 end);
void reserved_test_retire_item (ReservedTestClient *client, const char *item);
/* Asserts @code and no change. */
void
reserved_test_retire_item_refused (ReservedTestClient *client, const char *item, ReserveError code);
void reserved_test_set_per_user_limit (ReservedTestClient *client, const char *item, guint32 limit);
void reserved_test_set_per_user_limit_refused (ReservedTestClient *client,
                                               const char *item,
                                               guint32 limit,
                                               ReserveError code);

ReservedTestItem reserved_test_get_item (ReservedTestClient *client, const char *item);
void
reserved_test_get_item_refused (ReservedTestClient *client, const char *item, ReserveError code);

/* (element-type ReservedTestOrder) as ListOrders returned them. */
GArray *reserved_test_list_orders (ReservedTestClient *client, const char *user);
void
reserved_test_list_orders_refused (ReservedTestClient *client, const char *user, ReserveError code);

/* The orders of the customers "buyer0" to "buyerN-1" (N = @n_buyers),
 * whose purchases were each retried until acknowledged: asserts that
 * buyer I has exactly the @n_acked[I] orders that @owners (order id ->
 * GUINT_TO_POINTER (I + 1), every acknowledged order) gives it, none lost
 * and none extra. (element-type ReservedTestOrder) (transfer full) */
GArray *reserved_test_list_acknowledged (ReservedTestClient *client,
                                         guint n_buyers,
                                         const guint *n_acked,
                                         GHashTable *owners);

/* Hold; asserts success, and returns the hold. @options: floating or NULL
 * (empty). @expires_out and @remaining_out nullable. */
guint64 reserved_test_hold (ReservedTestClient *client,
                            const char *item,
                            const char *user,
                            guint32 quantity,
                            GVariant *options,
                            gint64 *expires_out,
                            guint32 *remaining_out);
/* Confirm; asserts success, and returns the order. @options: floating or
 * NULL (empty). @remaining_out nullable. */
guint64 reserved_test_confirm (ReservedTestClient *client,
                               guint64 hold,
                               GVariant *options,
                               guint32 *remaining_out);
/* Asserts @code, with @in_message (nullable) in its message, and no
 * change. */
void reserved_test_confirm_refused (ReservedTestClient *client,
                                    guint64 hold,
                                    ReserveError code,
                                    const char *in_message);
/* Release; asserts success, and returns the units remaining. */
guint32 reserved_test_release (ReservedTestClient *client, guint64 hold);
void reserved_test_release_refused (ReservedTestClient *client, guint64 hold, ReserveError code);

/* LeaveWaitlist; asserts success. */
void reserved_test_leave_waitlist (ReservedTestClient *client, guint64 entry);
void
reserved_test_leave_waitlist_refused (ReservedTestClient *client, guint64 entry, ReserveError code);

/* JoinWaitlist; asserts success. @options: floating or NULL (empty).
 * @position and @hold nullable. */
guint64 reserved_test_join_waitlist (ReservedTestClient *client,
                                     const char *item,
                                     const char *user,
                                     guint32 quantity,
                                     GVariant *options,
                                     guint32 *position,
                                     guint64 *hold);
/* ListWaitlist(@item): (entry, item, user, quantity, position, created,
 * deadline, hold) of the live entries. (transfer full) */
GVariant *reserved_test_list_waitlist (ReservedTestClient *client, const char *item);

/* ListHolds(@user): (hold, item, user, quantity, created, expires) of the
 * live holds. (transfer full) */
GVariant *reserved_test_list_holds (ReservedTestClient *client, const char *user);
/* GetItem(@item)'s a{sv}, as it came. (transfer full) */
GVariant *reserved_test_get_item_info (ReservedTestClient *client, const char *item);

/* The waitlist's promise for @item, as an admin sees it: the head of the
 * queue asks for more than is left (else it would have been offered), and
 * every unit held is in an offer when @only_offers_hold (no other holds
 * were made). Returns the live entries (transfer full). */
GVariant *reserved_test_assert_waitlist_served (ReservedTestClient *client,
                                                const char *item,
                                                gboolean only_offers_hold);

/* Calls @method with @parameters (floating) and asserts that it fails
 * with the API error @code, with a message that says @in_message
 * (nullable: any), and that nothing the client can see changed. */
void reserved_test_call_refused (ReservedTestClient *client,
                                 const char *method,
                                 GVariant *parameters,
                                 ReserveError code,
                                 const char *in_message);

/* What a client can see of the whole state: ListItems, and ListOrders("")
 * and ListWaitlist("") for an admin. (transfer full) */
GVariant *reserved_test_snapshot (ReservedTestClient *client);
void reserved_test_assert_unchanged (ReservedTestClient *client, GVariant *before);

/* Asserts the law for every item, and that GetItem agrees with ListItems,
 * with the active orders and with the live holds (ListHolds). Needs an
 * admin client. */
void reserved_test_assert_law (ReservedTestClient *client);

/* The contract's rules for names, restated here rather than taken from
 * the daemon's code, to predict its answers. An item name: 1 to 64 bytes
 * of [A-Za-z0-9._:-], starting with a letter or digit. A user name: 1 to
 * 64 bytes of UTF-8 with none of U+0000..U+001F, U+007F..U+009F. */
gboolean reserved_test_valid_item_name (const char *name);
gboolean reserved_test_valid_user_name (const char *name);

/* The value of @key in GetStatistics, asked on @connection of the daemon
 * that owns the well-known name; asserts it is there. */
guint64 reserved_test_get_statistic (GDBusConnection *connection, const char *key);

/* A HoldEnded signal: which hold, of which item, and why it ended. */
typedef void (*ReservedTestHoldEndedFunc) (guint64 hold,
                                           const char *item,
                                           const char *reason,
                                           gpointer user_data);
/* Calls @func for every HoldEnded signal @connection receives from the
 * daemon's object; returns the subscription, for
 * g_dbus_connection_signal_unsubscribe (). */
guint reserved_test_watch_hold_ended (GDBusConnection *connection,
                                      ReservedTestHoldEndedFunc func,
                                      gpointer user_data);

/* Asserts @error is the API error @code (and not, say, a D-Bus timeout). */
#define reserved_test_assert_api_error(error, code) \
  g_assert_error ((error), RESERVE_ERROR, (int) (code))

G_END_DECLS
