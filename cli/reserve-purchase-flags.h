/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The flags `reserve buy`, `reserve hold` and `reserve wait` share: the
 * customer, the item, how many units and the retry key. Each command's
 * table of GOptionEntry has their rows from the macros below, pointing
 * into one ReservePurchaseFlags, with the help in its own words; the
 * checks and what they tell the daemon are here, once. */
#pragma once

#include <gio/gio.h>

#include "reserve-call.h"

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

/* The rows of --user, --item and --quantity, in that order, with each
 * one's help (N_()); a command's own flags may follow them. */
#define RESERVE_PURCHASE_FLAG_ENTRIES(FLAGS, USER_HELP, ITEM_HELP, QUANTITY_HELP)          \
  { "user", 'u', 0, G_OPTION_ARG_FILENAME, &(FLAGS)->user, USER_HELP, "NAME" },            \
    { "item", 'i', 0, G_OPTION_ARG_FILENAME, &(FLAGS)->item, ITEM_HELP, "ITEM" },          \
  {                                                                                        \
    "quantity", 'q', 0, G_OPTION_ARG_FILENAME, &(FLAGS)->quantity_text, QUANTITY_HELP, "N" \
  }

/* The row of --request-id, with its help. */
#define RESERVE_PURCHASE_REQUEST_ID_ENTRY(FLAGS, HELP)                          \
  {                                                                             \
    "request-id", 0, 0, G_OPTION_ARG_FILENAME, &(FLAGS)->request_id, HELP, "ID" \
  }

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

/* Connects @call plainly (reserve-call.h) and returns the item the
 * purchase is of: --item, or else the daemon's default item. NULL with
 * @error set if either fails. (transfer full) */
char *reserve_purchase_flags_connect (const ReservePurchaseFlags *flags,
                                      ReserveCall *call,
                                      const ReserveInvocation *invocation,
                                      GError **error);

G_END_DECLS
