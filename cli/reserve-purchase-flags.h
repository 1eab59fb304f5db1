/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The flags `reserve buy` and `reserve hold` share: the customer, the item,
 * how many units and the retry key. Each command's table of GOptionEntry
 * points into one ReservePurchaseFlags, with the help in its own words;
 * the checks and what they tell the daemon are here, once. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  /* Values are taken as the bytes typed (G_OPTION_ARG_FILENAME), not
   * converted from the locale's charset, so a UTF-8 name works even under
   * LC_ALL=C and the checks, with the daemon's words, judge them. */
  char *user;
  char *item; /* NULL: the daemon's default item */
  char *quantity_text;
  char *request_id;
  guint64 quantity; /* once checked: 1 unless --quantity */
} ReservePurchaseFlags;

void reserve_purchase_flags_clear (ReservePurchaseFlags *flags);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ReservePurchaseFlags, reserve_purchase_flags_clear)

/* --user (required), --item and --quantity, in that order, as usage
 * errors that name the flag. */
gboolean reserve_purchase_flags_check (ReservePurchaseFlags *flags, GError **error);

/* --request-id, if given; checked apart so that a command checks its own
 * flags in the order its help lists them. */
gboolean reserve_purchase_flags_check_request_id (const ReservePurchaseFlags *flags,
                                                  GError **error);

/* The request id, if given, among the options of the call. */
void reserve_purchase_flags_add_options (const ReservePurchaseFlags *flags, GVariantDict *options);

G_END_DECLS
