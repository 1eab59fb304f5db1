// SPDX-License-Identifier: LGPL-2.1-or-later
/* A write function's answer rows (reserved_step) turned into the outcome
 * of its WriteOp: the fields the SQLite backend fills in, and for a
 * refusal its RESERVE_ERROR in the SQLite backend's words. */
#define G_LOG_DOMAIN "reserved-store"

#include "reserve-error.h"
#include "reserved-store-answers.h"
#include "reserved-store-pg.h"

/* One answer row. */
typedef struct {
  const PGresult *result;
  int row;
  int first;
} Step;

static gint64
num (const Step *s, int column)
{
  return store_pg_int (s->result, s->row, s->first + column);
}

static const char *
text (const Step *s, int column)
{
  if (PQgetisnull (s->result, s->row, s->first + column))
    return NULL;
  return PQgetvalue (s->result, s->row, s->first + column);
}

/* What the messages of a refusal name. A Confirm that gave way to a Buy
 * names the hold's item, user and quantity, which the answer carries. */
typedef struct {
  const char *item;
  const char *user;
  guint32 quantity;
  const char *what; /* what a request_id names */
} Subject;

static Subject
subject_of (const WriteOp *op, const Step *s)
{
  if (op->kind == WRITE_CONFIRM)
    return (Subject){ .item = text (s, STEP_T1),
                      .user = text (s, STEP_T2),
                      .quantity = (guint32) num (s, STEP_N3),
                      .what = "order" };
  return (Subject){ .item = op->item,
                    .user = op->user,
                    .quantity = op->quantity,
                    .what = op->kind == WRITE_HOLD            ? "hold"
                            : op->kind == WRITE_JOIN_WAITLIST ? "waitlist entry"
                                                              : "order" };
}

/* Sets @op->error from a refusal. */
static void
refuse (WriteOp *op, const char *status, const Step *s)
{
  Subject subject = subject_of (op, s);
  GError **error = &op->error;

  if (g_str_equal (status, "no_such_item"))
    store_refuse_no_such_item (error, subject.item);
  else if (g_str_equal (status, "retired"))
    store_refuse_retired (error, subject.item);
  else if (g_str_equal (status, "not_on_sale"))
    {
      const ReservedSaleWindow window = { .start = num (s, STEP_N1), .end = num (s, STEP_N2) };
      store_refuse_not_on_sale (error, subject.item, &window, num (s, STEP_EXPIRES));
    }
  else if (g_str_equal (status, "limit"))
    store_refuse_per_user_limit (error, subject.item, subject.user, (guint32) num (s, STEP_N1),
                                 num (s, STEP_N2), subject.quantity);
  else if (g_str_equal (status, "sold_out"))
    store_refuse_sold_out (error, subject.item, num (s, STEP_N1), num (s, STEP_N2),
                           subject.quantity);
  else if (g_str_equal (status, "request_reused"))
    store_refuse_request_reused (error, op->request_id, subject.what, num (s, STEP_ID),
                                 num (s, STEP_N1), text (s, STEP_T1), text (s, STEP_T2));
  else if (g_str_equal (status, "no_such_order"))
    store_refuse_no_such_order (error, op->order);
  else if (g_str_equal (status, "already_cancelled"))
    store_refuse_already_cancelled (error, op->order);
  else if (g_str_equal (status, "item_exists"))
    store_refuse_item_exists (error, op->item, num (s, STEP_N1) != 0);
  else if (g_str_equal (status, "restock_over"))
    store_refuse_restock (error, op->item, op->quantity, (guint32) num (s, STEP_N1));
  else if (g_str_equal (status, "no_such_hold"))
    store_refuse_no_such_hold (error, op->hold);
  else if (g_str_equal (status, "hold_ended"))
    store_refuse_hold_ended (error, op->hold, text (s, STEP_T1), (guint64) num (s, STEP_N1));
  else if (g_str_equal (status, "max_holds"))
    store_refuse_max_holds (error, op->caller, num (s, STEP_N1), (guint32) num (s, STEP_N2));
  else if (g_str_equal (status, "too_big"))
    store_refuse_too_big (error, op->item, op->quantity, num (s, STEP_N1));
  else if (g_str_equal (status, "one_entry"))
    store_refuse_one_entry (error, op->item, op->user, num (s, STEP_N1));
  else if (g_str_equal (status, "no_such_entry"))
    store_refuse_no_such_entry (error, op->entry);
  else if (g_str_equal (status, "entry_ended"))
    store_refuse_entry_ended (error, op->entry, text (s, STEP_T1));
  else
    g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                 "the PostgreSQL server answered an unknown status “%s”", status);
}

/* The outcome of an operation that was kept. */
static void
fill_outcome (WriteOp *op, const Step *s)
{
  switch (op->kind)
    {
    case WRITE_BUY:
      op->receipt.order = (guint64) num (s, STEP_ID);
      op->receipt.remaining = (guint32) num (s, STEP_REMAINING);
      op->receipt.replayed = num (s, STEP_N1) != 0;
      break;
    case WRITE_CANCEL:
      op->remaining = (guint32) num (s, STEP_REMAINING);
      g_free (op->item_out);
      op->item_out = g_strdup (text (s, STEP_T1));
      break;
    case WRITE_CONFIRM:
      op->order = (guint64) num (s, STEP_ID);
      op->remaining = (guint32) num (s, STEP_REMAINING);
      g_free (op->item_out);
      op->item_out = g_strdup (text (s, STEP_T1));
      break;
    case WRITE_RESTOCK:
    case WRITE_RELEASE:
    case WRITE_PROMOTE_WAITLIST:
      op->remaining = (guint32) num (s, STEP_REMAINING);
      break;
    case WRITE_HOLD:
      op->hold_receipt.hold = (guint64) num (s, STEP_ID);
      op->hold_receipt.remaining = (guint32) num (s, STEP_REMAINING);
      op->hold_receipt.expires = num (s, STEP_EXPIRES);
      op->hold_receipt.replayed = num (s, STEP_N1) != 0;
      break;
    case WRITE_EXTEND:
      op->expires = num (s, STEP_EXPIRES);
      break;
    case WRITE_JOIN_WAITLIST:
      op->join_receipt.entry = (guint64) num (s, STEP_ID);
      op->join_receipt.position = (guint32) num (s, STEP_N1);
      op->join_receipt.hold = (guint64) num (s, STEP_N2);
      op->join_receipt.expires = num (s, STEP_EXPIRES);
      op->join_receipt.remaining = (guint32) num (s, STEP_REMAINING);
      op->join_receipt.replayed = num (s, STEP_N3) != 0;
      break;
    case WRITE_CREATE_ITEM:
    case WRITE_RETIRE_ITEM:
    case WRITE_SET_PER_USER_LIMIT:
    case WRITE_SET_SALE_WINDOW:
    case WRITE_END_HOLDS:
    case WRITE_LEAVE_WAITLIST:
    default:
      break;
    }
}

static void
add_event (WriteOp *op, const char *kind, const Step *s)
{
  if (g_str_equal (kind, "ended"))
    {
      ReservedEndedHold ended = {
        .hold = (guint64) num (s, STEP_ID),
        .item = g_strdup (text (s, STEP_T1)),
        .reason = store_hold_reason (text (s, STEP_T2)),
        .remaining = (guint32) num (s, STEP_REMAINING),
      };
      g_array_append_val (op->ended, ended);
    }
  else if (g_str_equal (kind, "offered"))
    {
      ReservedOffer offer = {
        .entry = (guint64) num (s, STEP_ID),
        .hold = (guint64) num (s, STEP_N1),
        .item = g_strdup (text (s, STEP_T1)),
        .expires = num (s, STEP_EXPIRES),
        .remaining = (guint32) num (s, STEP_REMAINING),
        .holder = g_strdup (text (s, STEP_T2)),
      };
      g_array_append_val (op->offered, offer);
    }
}

gboolean
store_pg_answer (WriteOp *op, const PGresult *result, int first_row, int end_row, int first_column)
{
  gboolean kept = FALSE;

  g_clear_pointer (&op->ended, g_array_unref);
  g_clear_pointer (&op->offered, g_array_unref);
  g_clear_error (&op->error);
  g_clear_error (&op->late);
  op->ended = write_op_new_ended ();
  op->offered = write_op_new_offers ();
  for (int row = first_row; row < end_row; row++)
    {
      const Step s = { .result = result, .row = row, .first = first_column };
      const char *kind = text (&s, STEP_KIND);
      const char *status = text (&s, STEP_STATUS);

      if (g_strcmp0 (kind, "result") != 0)
        {
          add_event (op, kind != NULL ? kind : "", &s);
          continue;
        }
      if (g_strcmp0 (status, "ok") == 0)
        {
          fill_outcome (op, &s);
          kept = TRUE;
        }
      else if (g_strcmp0 (status, "late") == 0)
        {
          /* It ended an overdue hold, which committed; the caller hears
           * HoldEnded. */
          store_refuse_hold_ended (&op->late, op->hold, text (&s, STEP_T1),
                                   (guint64) num (&s, STEP_N1));
          kept = TRUE;
        }
      else
        refuse (op, status != NULL ? status : "", &s);
    }
  if (!kept && op->error == NULL)
    g_set_error_literal (&op->error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                         "the PostgreSQL server gave no answer for the operation");
  return kept;
}
