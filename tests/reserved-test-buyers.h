/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A crowd of buyers: helpers of the test program (see
 * reserved_test_spawn_helper ()) that start together and buy until told
 * to finish, while the test kills the daemon under them. */
#pragma once

#include <gio/gio.h>

#include "reserved-test-daemon.h"

G_BEGIN_DECLS

typedef struct {
  const char *role; /* the helper's name, for messages */
  GPid *pids;
  guint n;
  int out;       /* the read end of the pipe all of them print to */
  int stop;      /* the write end of their fd 3: closing it tells them to finish */
  int barrier;   /* the write end of their stdin until they are released, then -1 */
  GString *text; /* what they printed so far */
} ReservedTestBuyers;

/* Spawns @n helpers `ROLE ADDRESS INDEX [SEED]` (a SEED drawn from @rand
 * when @rand is not NULL) that start together: their stdin, a barrier,
 * reaches its end once all of them run. They print to one pipe with room
 * for 1 MiB; with @nonblocking, the test empties it with
 * reserved_test_buyers_drain () while they run. */
void reserved_test_buyers_spawn (ReservedTestBuyers *buyers,
                                 guint n,
                                 const char *role,
                                 const char *address,
                                 GRand *rand,
                                 gboolean nonblocking);
/* As reserved_test_buyers_spawn (), but they wait until
 * reserved_test_buyers_release (): crowds started together. */
void reserved_test_buyers_spawn_held (ReservedTestBuyers *buyers,
                                      guint n,
                                      const char *role,
                                      const char *address,
                                      GRand *rand,
                                      gboolean nonblocking);
void reserved_test_buyers_release (ReservedTestBuyers *buyers);
/* Adds what the buyers printed since to buyers->text, without waiting. */
void reserved_test_buyers_drain (ReservedTestBuyers *buyers);
/* Tells them to finish the purchase each is making and exit, reads the
 * rest of what they print, and waits for each (it must exit 0). Returns
 * (transfer full) all they printed. */
char *reserved_test_buyers_finish (ReservedTestBuyers *buyers);
/* reserved_test_buyers_finish (), then one more kill -9 and start of
 * @daemon right after the last answers, which must survive it too.
 * Returns what they said, line by line. (transfer full) */
GStrv reserved_test_buyers_finish_and_kill (ReservedTestBuyers *buyers, ReservedTestDaemon *daemon);

G_END_DECLS
