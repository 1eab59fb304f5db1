/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit trail: one record at info level for every purchase, replay,
 * cancellation, refusal and administrator action, with the customer, the
 * caller's uid, the item, the order and the request_id as structured
 * fields, and a MESSAGE_ID per kind, so that
 *
 *     journalctl MESSAGE_ID=<id of the kind>
 *
 * finds them (the ids are listed in reserved(8)). Records are written
 * whether or not debug messages are on: to the journal when stderr is
 * connected to it, else as one line on stderr that carries the same
 * fields. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef enum {
  RESERVED_AUDIT_PURCHASE,        /* a Buy took stock */
  RESERVED_AUDIT_REPLAY,          /* a repeated request_id answered with its first order */
  RESERVED_AUDIT_CANCELLATION,    /* an order's units went back to stock */
  RESERVED_AUDIT_REFUSAL,         /* a call refused with one of the API's errors */
  RESERVED_AUDIT_ITEM_CREATED,    /* administrator action */
  RESERVED_AUDIT_RESTOCKED,       /* administrator action */
  RESERVED_AUDIT_ITEM_RETIRED,    /* administrator action */
  RESERVED_AUDIT_LIMIT_SET,       /* administrator action: an item's per-user limit */
  RESERVED_AUDIT_SALE_WINDOW_SET, /* administrator action: when an item is on sale */
  RESERVED_AUDIT_N_KINDS
} ReservedAuditKind;

/* Each field is optional: NULL, 0, or RESERVED_AUDIT_NO_UID leave it out. */
#define RESERVED_AUDIT_NO_UID ((uid_t) -1)

typedef struct {
  const char *customer;
  uid_t uid;
  const char *item;
  guint64 order;
  const char *request_id;
  guint32 quantity;
  const char *method; /* refusals: the method refused */
  const char *error;  /* refusals: the D-Bus error name */
} ReservedAuditRecord;

/* The MESSAGE_ID of @kind: 32 lowercase hex digits. */
const char *reserved_audit_message_id (ReservedAuditKind kind);

void
reserved_audit (ReservedAuditKind kind, const ReservedAuditRecord *record, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

G_END_DECLS
