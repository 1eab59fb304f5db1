/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Printing answers for people (aligned tables, local times) and for
 * scripts (JSON). Text is written byte for byte: user names are the
 * customer's own words and must come out exactly as they went in. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *heading;
  gboolean align_right; /* for numbers */
} ReserveColumn;

typedef struct _ReserveTable ReserveTable;

ReserveTable *reserve_table_new (const ReserveColumn *columns, guint n_columns);
void reserve_table_free (ReserveTable *table);

/* Cells fill the table row by row, left to right. */
void reserve_table_add (ReserveTable *table, const char *cell);
void reserve_table_add_number (ReserveTable *table, guint64 number);
void reserve_table_take (ReserveTable *table, char *cell);

void reserve_table_print (const ReserveTable *table);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReserveTable, reserve_table_free)

/* @usec since the Unix epoch as local ISO 8601 time with its UTC offset,
 * to the second: "2024-05-01T14:03:27+02:00". */
char *reserve_format_local_time (gint64 usec);

/* One member of the object being built: its name, then its value. */
void reserve_json_add_int (JsonBuilder *builder, const char *name, gint64 value);
void reserve_json_add_double (JsonBuilder *builder, const char *name, gdouble value);
void reserve_json_add_string (JsonBuilder *builder, const char *name, const char *value);
void reserve_json_add_boolean (JsonBuilder *builder, const char *name, gboolean value);
/* null: "none", "not known". A NULL @value is null. */
void reserve_json_add_null (JsonBuilder *builder, const char *name);
void reserve_json_add_nullable_string (JsonBuilder *builder, const char *name, const char *value);
/* Every time in JSON is RFC 3339 in UTC, to the microsecond the daemon
 * keeps: "2024-05-01T12:03:27.125000Z". */
void reserve_json_add_time (JsonBuilder *builder, const char *name, GDateTime *time);
/* The same for @usec since the Unix epoch; null if GDateTime cannot hold it. */
void reserve_json_add_usec_time (JsonBuilder *builder, const char *name, gint64 usec);

/* The members "item", "user" and "quantity": what a customer bought,
 * holds or waits for. */
void reserve_json_add_purchase (JsonBuilder *builder,
                                const char *item,
                                const char *user,
                                guint64 quantity);

/* Prints the builder's value followed by a newline. */
void reserve_print_json (JsonBuilder *builder);
/* An answer that is one object: a builder with the object begun, then
 * its members, then the object ended and printed as above. */
JsonBuilder *reserve_json_object_new (void);
void reserve_print_json_object (JsonBuilder *builder);
/* A listing as the daemon sent it, an array of tuples of strings and
 * integers: an array of objects, each member named by @names (one for each
 * field of the tuple, NULL-terminated). */
void reserve_print_json_rows (GVariant *rows, const char *const *names);
/* Prints it on one line, for a stream of JSON lines. */
void reserve_print_json_line (JsonBuilder *builder);

G_END_DECLS
