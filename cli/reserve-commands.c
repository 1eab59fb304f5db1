/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The subcommands of `reserve`, in the order its help lists them. */
#include <string.h>

#include "reserve-bench.h"
#include "reserve-command.h"
#include "reserve-race.h"

const ReserveCommand *const reserve_commands[] = {
  &reserve_buy_command,     &reserve_cancel_command,
  &reserve_status_command,  &reserve_items_command,
  &reserve_orders_command,  &reserve_create_command,
  &reserve_restock_command, &reserve_retire_command,
  &reserve_limit_command,   &reserve_sale_window_command,
  &reserve_race_command,    &reserve_bench_command,
  &reserve_watch_command,   &reserve_hold_command,
  &reserve_confirm_command, &reserve_release_command,
  &reserve_extend_command,  &reserve_holds_command,
  &reserve_wait_command,    &reserve_waitlist_command,
  &reserve_leave_command,   NULL
};

const ReserveCommand *
reserve_find_command (const char *name)
{
  for (const ReserveCommand *const *command = reserve_commands; *command != NULL; command++)
    if (strcmp ((*command)->name, name) == 0)
      return *command;
  return NULL;
}
