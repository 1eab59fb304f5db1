/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-output.h"

#include <stdio.h>
#include <string.h>

#include "reserve-json.h"
#include "reserve-text.h"

#define COLUMN_GAP "  "

struct _ReserveTable {
  const ReserveColumn *columns;
  guint n_columns;
  GPtrArray *cells; /* (element-type utf8) row after row */
};

ReserveTable *
reserve_table_new (const ReserveColumn *columns, guint n_columns)
{
  ReserveTable *table;

  g_return_val_if_fail (n_columns > 0, NULL);

  table = g_new0 (ReserveTable, 1);
  table->columns = columns;
  table->n_columns = n_columns;
  table->cells = g_ptr_array_new_with_free_func (g_free);
  return table;
}

void
reserve_table_free (ReserveTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->cells);
  g_free (table);
}

void
reserve_table_take (ReserveTable *table, char *cell)
{
  g_ptr_array_add (table->cells, cell);
}

void
reserve_table_add (ReserveTable *table, const char *cell)
{
  reserve_table_take (table, g_strdup (cell));
}

void
reserve_table_add_number (ReserveTable *table, guint64 number)
{
  reserve_table_take (table, g_strdup_printf ("%" G_GUINT64_FORMAT, number));
}

/* Columns, not bytes, so a non-ASCII cell (or a Chinese heading) does not
 * push its row out of line. */
static gsize
text_width (const char *text)
{
  return g_utf8_validate (text, -1, NULL) ? reserve_text_width (text) : strlen (text);
}

static void
print_cell (const ReserveTable *table, guint column, const char *text, const gsize *widths)
{
  gboolean last = column + 1 == table->n_columns;
  gsize padding = widths[column] - text_width (text);

  if (column > 0)
    fputs (COLUMN_GAP, stdout);
  if (table->columns[column].align_right)
    printf ("%*s%s", (int) padding, "", text);
  else if (last)
    fputs (text, stdout);
  else
    printf ("%s%*s", text, (int) padding, "");
  if (last)
    fputc ('\n', stdout);
}

void
reserve_table_print (const ReserveTable *table)
{
  g_autofree gsize *widths = g_new0 (gsize, table->n_columns);

  g_return_if_fail (table->cells->len % table->n_columns == 0);

  for (guint column = 0; column < table->n_columns; column++)
    widths[column] = text_width (_ (table->columns[column].heading));
  for (guint i = 0; i < table->cells->len; i++)
    {
      guint column = i % table->n_columns;
      widths[column] = MAX (widths[column], text_width (table->cells->pdata[i]));
    }

  for (guint column = 0; column < table->n_columns; column++)
    print_cell (table, column, _ (table->columns[column].heading), widths);
  for (guint i = 0; i < table->cells->len; i++)
    print_cell (table, i % table->n_columns, table->cells->pdata[i], widths);
}

char *
reserve_format_local_time (gint64 usec)
{
  g_autoptr(GDateTime) epoch = g_date_time_new_from_unix_utc (0);
  g_autoptr(GDateTime) utc = g_date_time_add (epoch, usec);
  g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;

  /* Out of GDateTime's range (years 1 to 9999): still say what we got. */
  if (local == NULL)
    return g_strdup_printf (_ ("%lld µs since 1970"), (long long) usec);
  return g_date_time_format (local, "%Y-%m-%dT%H:%M:%S%:z");
}

static void
print_json (JsonBuilder *builder, gboolean pretty)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = reserve_json_to_text (root, pretty);

  puts (text);
}

void
reserve_print_json (JsonBuilder *builder)
{
  print_json (builder, TRUE);
}

void
reserve_print_json_line (JsonBuilder *builder)
{
  print_json (builder, FALSE);
}

void
reserve_json_add_purchase (JsonBuilder *builder,
                           const char *item,
                           const char *user,
                           guint64 quantity)
{
  reserve_json_add_string (builder, "item", item);
  reserve_json_add_string (builder, "user", user);
  reserve_json_add_int (builder, "quantity", (gint64) quantity);
}

JsonBuilder *
reserve_json_object_new (void)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  return builder;
}

void
reserve_print_json_object (JsonBuilder *builder)
{
  json_builder_end_object (builder);
  reserve_print_json (builder);
}

static gint64
variant_to_int (GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return (gint64) g_variant_get_uint64 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    return g_variant_get_int64 (value);
  return g_variant_get_uint32 (value);
}

void
reserve_print_json_rows (GVariant *rows, const char *const *names)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  GVariantIter iter;
  GVariant *row;

  json_builder_begin_array (builder);
  g_variant_iter_init (&iter, rows);
  while ((row = g_variant_iter_next_value (&iter)) != NULL)
    {
      json_builder_begin_object (builder);
      for (gsize i = 0; names[i] != NULL; i++)
        {
          g_autoptr(GVariant) value = g_variant_get_child_value (row, i);

          if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
            reserve_json_add_string (builder, names[i], g_variant_get_string (value, NULL));
          else
            reserve_json_add_int (builder, names[i], variant_to_int (value));
        }
      json_builder_end_object (builder);
      g_variant_unref (row);
    }
  json_builder_end_array (builder);
  reserve_print_json (builder);
}

/* Every member goes through here: its name, then its value (taken). */
static void
add_member (JsonBuilder *builder, const char *name, JsonNode *value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_value (builder, value);
}

static char *
format_utc (GDateTime *time)
{
  g_autoptr(GDateTime) utc = g_date_time_to_utc (time);

  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%S.%fZ");
}

void
reserve_json_add_time (JsonBuilder *builder, const char *name, GDateTime *time)
{
  g_autofree char *text = format_utc (time);

  reserve_json_add_string (builder, name, text);
}

void
reserve_json_add_usec_time (JsonBuilder *builder, const char *name, gint64 usec)
{
  g_autoptr(GDateTime) epoch = g_date_time_new_from_unix_utc (0);
  g_autoptr(GDateTime) time = g_date_time_add (epoch, usec);
  g_autofree char *text = time != NULL ? format_utc (time) : NULL;

  reserve_json_add_nullable_string (builder, name, text);
}

void
reserve_json_add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  add_member (builder, name, json_node_init_int (json_node_alloc (), value));
}

void
reserve_json_add_string (JsonBuilder *builder, const char *name, const char *value)
{
  add_member (builder, name, json_node_init_string (json_node_alloc (), value));
}

void
reserve_json_add_double (JsonBuilder *builder, const char *name, gdouble value)
{
  add_member (builder, name, json_node_init_double (json_node_alloc (), value));
}

void
reserve_json_add_null (JsonBuilder *builder, const char *name)
{
  add_member (builder, name, json_node_init_null (json_node_alloc ()));
}

void
reserve_json_add_boolean (JsonBuilder *builder, const char *name, gboolean value)
{
  add_member (builder, name, json_node_init_boolean (json_node_alloc (), value));
}

void
reserve_json_add_nullable_string (JsonBuilder *builder, const char *name, const char *value)
{
  if (value == NULL)
    reserve_json_add_null (builder, name);
  else
    reserve_json_add_string (builder, name, value);
}
