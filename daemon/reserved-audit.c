/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-audit"

#include "reserved-audit.h"

#include <stdio.h>

/* Made once with a random generator and never changed: scripts and saved
 * journal queries depend on them. reserved(8) lists them. */
static const char *const message_ids[RESERVED_AUDIT_N_KINDS] = {
  [RESERVED_AUDIT_PURCHASE] = "48dc9d21766e4906884cd4bd68896ce7",
  [RESERVED_AUDIT_REPLAY] = "14d2b2700dc14d2eb10c930c3fc61b25",
  [RESERVED_AUDIT_CANCELLATION] = "e799b6650aec406a883a0c874e1b1d48",
  [RESERVED_AUDIT_REFUSAL] = "dc7107df251841fd965f220d3b283de5",
  [RESERVED_AUDIT_ITEM_CREATED] = "f347347f81db4caaa9838736a1c5152d",
  [RESERVED_AUDIT_RESTOCKED] = "68bba6c8846443b38deab622bfe6b8c2",
  [RESERVED_AUDIT_ITEM_RETIRED] = "95cb6f664c564b1ab61a4b03655f6604",
  [RESERVED_AUDIT_LIMIT_SET] = "7c0823b1eec44f6491c830b89fa2261c",
  [RESERVED_AUDIT_SALE_WINDOW_SET] = "01537d82c2cc4ec1b97695be897644ba",
};

#define MAX_FIELDS 12

/* 0 until the first record: g_once_init_enter() wants it so. */
enum { STDERR_JOURNAL = 1, STDERR_OTHER };
static gsize stderr_kind;

const char *
reserved_audit_message_id (ReservedAuditKind kind)
{
  g_return_val_if_fail (kind < RESERVED_AUDIT_N_KINDS, NULL);
  return message_ids[kind];
}

static void
add_field (GLogField *fields, gsize *n, const char *key, const char *value)
{
  if (value == NULL)
    return;
  g_assert (*n < MAX_FIELDS);
  fields[*n] = (GLogField){ key, value, -1 };
  (*n)++;
}

/* Without a journal, one line a record, its fields after the message, so
 * that a log file can be searched as the journal would be. */
static void
write_line (const GLogField *fields, gsize n_fields)
{
  g_autoptr(GString) line = g_string_new ("reserved: ");

  g_string_append (line, fields[0].value);
  g_string_append (line, " [");
  for (gsize i = 1; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "PRIORITY") || g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        continue;
      /* Appended piece by piece: a printf per field cost more than the
       * rest of the record. */
      if (line->str[line->len - 1] != '[')
        g_string_append_c (line, ' ');
      g_string_append (line, fields[i].key);
      g_string_append_c (line, '=');
      g_string_append (line, fields[i].value);
    }
  g_string_append (line, "]\n");
  fputs (line->str, stderr);
}

void
reserved_audit (ReservedAuditKind kind, const ReservedAuditRecord *record, const char *format, ...)
{
  g_autofree char *message = NULL;
  char uid_text[16], order_text[24], quantity_text[16];
  GLogField fields[MAX_FIELDS];
  gsize n = 0;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  add_field (fields, &n, "MESSAGE", message);
  add_field (fields, &n, "MESSAGE_ID", reserved_audit_message_id (kind));
  add_field (fields, &n, "PRIORITY", "6");
  add_field (fields, &n, "GLIB_DOMAIN", G_LOG_DOMAIN);
  add_field (fields, &n, "RESERVED_CUSTOMER", record->customer);
  if (record->uid != RESERVED_AUDIT_NO_UID)
    {
      g_snprintf (uid_text, sizeof uid_text, "%u", (guint) record->uid);
      add_field (fields, &n, "RESERVED_UID", uid_text);
    }
  add_field (fields, &n, "RESERVED_ITEM", record->item);
  if (record->order != 0)
    {
      g_snprintf (order_text, sizeof order_text, "%" G_GUINT64_FORMAT, record->order);
      add_field (fields, &n, "RESERVED_ORDER", order_text);
    }
  add_field (fields, &n, "RESERVED_REQUEST_ID", record->request_id);
  if (record->quantity != 0)
    {
      g_snprintf (quantity_text, sizeof quantity_text, "%u", record->quantity);
      add_field (fields, &n, "RESERVED_QUANTITY", quantity_text);
    }
  add_field (fields, &n, "RESERVED_METHOD", record->method);
  add_field (fields, &n, "RESERVED_ERROR", record->error);

  /* GLib's default writer drops info messages unless debugging is on;
   * the audit trail is written whatever the debug setting. Where stderr
   * leads does not change while the daemon runs, so it is asked once, not
   * with a system call per purchase. */
  if (g_once_init_enter (&stderr_kind))
    g_once_init_leave (&stderr_kind,
                       g_log_writer_is_journald (fileno (stderr)) ? STDERR_JOURNAL : STDERR_OTHER);
  if (stderr_kind == STDERR_JOURNAL &&
      g_log_writer_journald (G_LOG_LEVEL_INFO, fields, n, NULL) == G_LOG_WRITER_HANDLED)
    return;
  write_line (fields, n);
}
