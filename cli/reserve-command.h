/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a subcommand of `reserve` is, and the parsing every subcommand
 * shares: the bus flags, --json, --help, the count of positional
 * arguments, and strict checks of numbers and names that turn a mistake
 * into a usage error before anything reaches the bus.
 *
 * A subcommand is one file that defines one ReserveCommand;
 * reserve-commands.c lists them. Its run function reports every failure as a GError, and
 * reserve_invocation_report() alone turns that into a message and an exit
 * status, so all subcommands fail the same way. */
#pragma once

#include <gio/gio.h>

#include "reserve-text.h"

G_BEGIN_DECLS

typedef enum {
  RESERVE_EXIT_OK = 0,
  RESERVE_EXIT_REFUSED = 1,
  RESERVE_EXIT_USAGE = 2,
  RESERVE_EXIT_UNREACHABLE = 3,
} ReserveExitStatus;

#define RESERVE_EXIT_STATUS_HELP                                                \
  N_ ("Exit status:\n"                                                          \
      "  0  success\n"                                                          \
      "  1  refused by reserved (sold out, no such item or order, limit\n"      \
      "     exceeded, permission denied, invalid argument, …)\n"              \
      "  2  usage error (unknown flag, bad value, missing or extra argument)\n" \
      "  3  reserved could not be reached (no bus, not running, no answer)\n"   \
      "     or could not store the change\n")

typedef struct _ReserveCommand ReserveCommand;
typedef struct _ReserveInvocation ReserveInvocation;

/* Parses @argv (argv[0] is "reserve NAME") and does the work. Returns FALSE
 * with @error set on any failure, usage errors included. */
typedef gboolean (*ReserveCommandFunc) (ReserveInvocation *invocation,
                                        int argc,
                                        char **argv,
                                        GError **error);

struct _ReserveCommand {
  const char *name;
  /* The positional arguments, for the usage line and the count of them
   * (reserve_command_count_arguments): "" none, "ITEM" one, "[ITEM]" one
   * or none, "[-- COMMAND [ARGUMENT…]]" any number. */
  const char *parameters;
  const char *summary;
  gboolean has_json; /* takes --json */
  ReserveCommandFunc run;
};

struct _ReserveInvocation {
  const ReserveCommand *command;
  GBusType bus_type;
  /* "--session" or "--system" when one was given, NULL when the bus came
   * from RESERVE_BUS or the default: for a command with other ways to
   * name a bus, which must not be mixed with these. */
  const char *bus_flag;
  int timeout_msec; /* for each call; -1: GDBus's default of 25 s */
  gboolean json;
  gboolean help_shown; /* --help was printed: nothing more to do */
  char **arguments;    /* positional arguments, borrowed from argv */
  guint n_arguments;
};

#define RESERVE_WITH_JSON    TRUE
#define RESERVE_WITHOUT_JSON FALSE

/* Defines reserve_NAME_command: `reserve NAME`, run by the function NAME,
 * with its @PARAMETERS, whether it takes --json (RESERVE_WITH_JSON or
 * RESERVE_WITHOUT_JSON) and its translatable @SUMMARY (N_()). */
#define RESERVE_DEFINE_COMMAND(NAME, PARAMETERS, JSON, SUMMARY) \
  RESERVE_DEFINE_NAMED_COMMAND (NAME, #NAME, PARAMETERS, JSON, SUMMARY)

/* The same for a command whose name is no C identifier:
 * RESERVE_DEFINE_NAMED_COMMAND (sale_window, "sale-window", …) defines
 * reserve_sale_window_command, `reserve sale-window`, run by sale_window. */
#define RESERVE_DEFINE_NAMED_COMMAND(ID, NAME, PARAMETERS, JSON, SUMMARY) \
  const ReserveCommand reserve_##ID##_command = {                         \
    .name = NAME,                                                         \
    .parameters = PARAMETERS,                                             \
    .summary = SUMMARY,                                                   \
    .has_json = JSON,                                                     \
    .run = ID,                                                            \
  }

extern const ReserveCommand reserve_buy_command;
extern const ReserveCommand reserve_cancel_command;
extern const ReserveCommand reserve_status_command;
extern const ReserveCommand reserve_items_command;
extern const ReserveCommand reserve_orders_command;
extern const ReserveCommand reserve_create_command;
extern const ReserveCommand reserve_restock_command;
extern const ReserveCommand reserve_retire_command;
extern const ReserveCommand reserve_limit_command;
extern const ReserveCommand reserve_sale_window_command;
extern const ReserveCommand reserve_watch_command;
extern const ReserveCommand reserve_hold_command;
extern const ReserveCommand reserve_confirm_command;
extern const ReserveCommand reserve_release_command;
extern const ReserveCommand reserve_extend_command;
extern const ReserveCommand reserve_holds_command;
extern const ReserveCommand reserve_wait_command;
extern const ReserveCommand reserve_waitlist_command;
extern const ReserveCommand reserve_leave_command;

/* Every subcommand, race and bench included, in the order the help lists
 * them; NULL-terminated. */
extern const ReserveCommand *const reserve_commands[];

/* The subcommand called @name, or NULL. */
const ReserveCommand *reserve_find_command (const char *name);

/* How many positional arguments @command takes, as its parameters say: a
 * word counts once, in [brackets] it is optional, and a word with "…"
 * repeats without end (@max G_MAXUINT). "--" is no argument. */
void reserve_command_count_arguments (const ReserveCommand *command, guint *min, guint *max);

/* Parses the command's own @entries plus the shared flags, then checks the
 * number of positional arguments. FALSE when the command has nothing more
 * to do: on a usage error (@error, G_OPTION_ERROR), or after printing the
 * help for --help (invocation->help_shown, no error). So a command starts
 *
 *   if (!reserve_invocation_parse (invocation, entries, &argc, &argv, error))
 *     return invocation->help_shown;
 */
gboolean reserve_invocation_parse (ReserveInvocation *invocation,
                                   const GOptionEntry *entries,
                                   int *argc,
                                   char ***argv,
                                   GError **error);

/* The timeout the command line asked for (--timeout), in milliseconds, or
 * -1 for GDBus's default. reserve runs one command per process, and the
 * proxy is made from the bus type alone (reserve-client.h), so this is
 * where it finds it. */
int reserve_call_timeout_msec (void);

/* The @index-th positional argument, or NULL if there are fewer. */
const char *reserve_invocation_get_argument (const ReserveInvocation *invocation, guint index);

/* The first positional argument, an item name checked as the daemon checks
 * it (a usage error with its words); NULL, and TRUE, when an optional
 * [ITEM] was left out. */
gboolean reserve_invocation_get_item (const ReserveInvocation *invocation,
                                      const char **item,
                                      GError **error);

/* The first positional argument, an id (of an order, a hold) from 1 up;
 * @what names it in the error: "order". */
gboolean reserve_invocation_get_id (const ReserveInvocation *invocation,
                                    const char *what,
                                    guint64 *id,
                                    GError **error);

/* Prints @error (if any) the way its kind calls for and returns the exit
 * status. */
ReserveExitStatus reserve_invocation_report (const ReserveInvocation *invocation, GError *error);

/* Strict parse of a decimal @text given for @flag ("--quantity"), within
 * [@min, @max]; a failure names the flag, the value and the allowed range.
 * A NULL @text (the flag was not given) is the error that @flag is
 * required. */
gboolean reserve_parse_number (const char *flag,
                               const char *text,
                               guint64 min,
                               guint64 max,
                               guint64 *number,
                               GError **error);

/* The same for a flag that may be left out: @number is then @fallback. */
gboolean reserve_parse_optional_number (const char *flag,
                                        const char *text,
                                        guint64 min,
                                        guint64 max,
                                        guint64 fallback,
                                        guint64 *number,
                                        GError **error);

/* A required flag that was not given is a usage error naming it. */
gboolean reserve_require_flag (const char *flag, const char *value, GError **error);

/* The API's own checks, with the daemon's wording, as usage errors. */
gboolean reserve_check_item_name (const char *item, GError **error);
gboolean reserve_check_user_name (const char *user, GError **error);
gboolean reserve_check_request_id (const char *request_id, GError **error);

G_END_DECLS
