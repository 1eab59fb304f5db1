/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One queued write, as the store hands it to its backend: its inputs
 * (copied, so the caller's strings may go) and its outcome, which the
 * backend fills in on the writer thread. Private to the store and its
 * backends. */
#pragma once

#include "reserved-store.h"

G_BEGIN_DECLS

typedef enum {
  WRITE_BUY,
  WRITE_CANCEL,
  WRITE_CREATE_ITEM,
  WRITE_RESTOCK,
  WRITE_RETIRE_ITEM,
  WRITE_SET_PER_USER_LIMIT,
  WRITE_SET_SALE_WINDOW,
  WRITE_HOLD,
  WRITE_CONFIRM,
  WRITE_RELEASE,
  WRITE_EXTEND,
  WRITE_END_HOLDS,
  WRITE_JOIN_WAITLIST,
  WRITE_LEAVE_WAITLIST,
  WRITE_PROMOTE_WAITLIST,
} WriteKind;

typedef struct {
  WriteKind kind;
  char *item;
  char *user;
  char *request_id;
  guint32 quantity; /* buy, restock; capacity for create */
  guint32 per_user_limit;
  ReservedSaleWindow sale; /* create, set_sale_window */
  uid_t caller;
  guint64 order;
  ReservedReceipt receipt;
  guint32 remaining;
  char *item_out;
  GError *error;
  /* holds */
  guint64 hold;
  guint32 ttl;
  guint32 max;     /* MaxHoldsPerUid for a hold, MaxHoldSeconds to extend */
  char *holder;    /* hold; end_holds: whose (NULL: the overdue ones) */
  char *reason;    /* end_holds */
  gboolean or_buy; /* confirm */
  ReservedHoldReceipt hold_receipt;
  gint64 expires;
  GArray *ended; /* ReservedEndedHold: what it ended */
  /* waitlist */
  guint32 offer_seconds; /* create */
  gint64 deadline;       /* join */
  guint64 entry;         /* leave */
  ReservedJoinReceipt join_receipt;
  GArray *offered; /* ReservedOffer: the offers it made */
  /* Set by the backend once the transaction that held it committed. */
  gboolean committed;
  /* The answer of an operation that committed (it ended an overdue hold)
   * and yet must tell its caller HoldEnded. */
  GError *late;
} WriteOp;

void write_op_free (WriteOp *op);

/* Fails @ops[first..last) that have no error yet with @cause: the
 * transaction that held them is gone, so nothing they did was kept. */
void write_ops_fail (GPtrArray *ops, guint first, guint last, const GError *cause);

/* Empty arrays for what an operation ended and offered. */
GArray *write_op_new_ended (void);
GArray *write_op_new_offers (void);

G_END_DECLS
