/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checks an a{sv} options argument against the keys a method takes, so an
 * unknown key, a wrongly typed value or a key given twice is an
 * InvalidArgument instead of being silently ignored or guessed at. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *key;
  const char *type; /* a GVariant type string */
} ReservedOptionSpec;

/* @specs ends with a { NULL } entry and has at most 64 keys. @method names
 * the method in messages. */
gboolean reserved_options_check (GVariant *options,
                                 const ReservedOptionSpec *specs,
                                 const char *method,
                                 GError **error);

/* The options each method takes (docs/api.md). */
extern const ReservedOptionSpec reserved_buy_options[];
extern const ReservedOptionSpec reserved_create_item_options[];
extern const ReservedOptionSpec reserved_list_orders_page_query[];
extern const ReservedOptionSpec reserved_list_items_page_query[];
extern const ReservedOptionSpec reserved_hold_options[];
extern const ReservedOptionSpec reserved_confirm_options[];
extern const ReservedOptionSpec reserved_join_waitlist_options[];

G_END_DECLS
