/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one main() of every test program: the locale, g_test_init(), the
 * D-Bus error names of the API, and the helper mode of the programs that
 * run themselves again in another role (a buyer, a caller with another
 * uid; see reserved_test_spawn_helper()).
 *
 * A test program defines a function that registers its cases with
 * g_test_add() and friends, each with a literal path: tests/meson.build
 * reads those paths from the source to make one `meson test` per case, so
 * the registration is the only list of a program's cases. The environment
 * the cases run in (LC_ALL, G_DEBUG, where the binaries are) is set by
 * tests/meson.build, for the test programs and the daemons they start. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The first argument of a test program run as a helper. */
#define RESERVED_TEST_HELPER_ARG "--helper"

/* Runs one role of the program: @args holds exactly the number of
 * arguments the helper's entry says. Returns the exit status. */
typedef int (*ReservedTestHelperFunc) (char **args);

typedef struct {
  const char *name; /* the first argument after --helper */
  guint n_args;     /* how many follow it */
  ReservedTestHelperFunc run;
} ReservedTestHelper;

/* With `--helper NAME ARGS...` as its arguments, runs the entry of
 * @helpers (ending with an entry whose name is NULL; nullable for a
 * program without helpers) that has NAME and as many ARGS; exits 2 if
 * none has. Otherwise initializes the test framework, calls @add_cases
 * and runs the cases the command line selects. */
int reserved_test_main (int argc,
                        char **argv,
                        void (*add_cases) (void),
                        const ReservedTestHelper *helpers);

/* The main() of a test program: RESERVED_TEST_MAIN (add_cases, helpers)
 * at the end of its file. */
#define RESERVED_TEST_MAIN(add_cases, helpers)                      \
  int main (int argc, char **argv)                                  \
  {                                                                 \
    return reserved_test_main (argc, argv, (add_cases), (helpers)); \
  }

/* @text as a number between @min and @max, for a helper's arguments; a
 * malformed one ends the helper with an error (the test that spawned it
 * then fails on its exit status). */
guint64 reserved_test_helper_uint (const char *text, guint64 min, guint64 max);

/* The built program under test that $@variable names (RESERVED_BINARY,
 * RESERVE_BINARY, set by tests/meson.build); an error if it is unset. */
const char *reserved_test_binary (const char *variable);

/* What a helper tells the test: one line (@format ends with its newline)
 * written to stdout in one write(), so that the lines of helpers sharing
 * a pipe never interleave, and unbuffered, so that the test reads it at
 * once. */
void reserved_test_helper_say (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* A knob for longer runs: $@name as a whole number from 1 to @max, or
 * @fallback when it is unset or empty; anything else is an error. */
guint reserved_test_env_uint (const char *name, guint fallback, guint max);

G_END_DECLS
