/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE /* F_SETPIPE_SZ */

#include "reserved-test-buyers.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "reserved-test-daemon.h"

void
reserved_test_buyers_spawn (ReservedTestBuyers *buyers,
                            guint n,
                            const char *role,
                            const char *address,
                            GRand *rand,
                            gboolean nonblocking)
{
  reserved_test_buyers_spawn_held (buyers, n, role, address, rand, nonblocking);
  reserved_test_buyers_release (buyers);
}

void
reserved_test_buyers_spawn_held (ReservedTestBuyers *buyers,
                                 guint n,
                                 const char *role,
                                 const char *address,
                                 GRand *rand,
                                 gboolean nonblocking)
{
  int barrier[2], stop[2], out[2];

  g_assert_cmpint (pipe (barrier), ==, 0);
  g_assert_cmpint (pipe (stop), ==, 0);
  g_assert_cmpint (pipe (out), ==, 0);
  fcntl (out[0], F_SETPIPE_SZ, 1 << 20);
  if (nonblocking)
    g_assert_cmpint (fcntl (out[0], F_SETFL, O_NONBLOCK), ==, 0);
  *buyers = (ReservedTestBuyers){
    .role = role,
    .pids = g_new0 (GPid, n),
    .n = n,
    .out = out[0],
    .stop = stop[1],
    .text = g_string_new (NULL),
    .barrier = barrier[1],
  };
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *index = g_strdup_printf ("%u", i);
      g_autofree char *seed = rand != NULL ? g_strdup_printf ("%u", g_rand_int (rand)) : NULL;
      const char *args[] = { role, address, index, seed, NULL };

      buyers->pids[i] = reserved_test_spawn_helper (args, (uid_t) -1, barrier[0], out[1], stop[0]);
    }
  close (barrier[0]);
  close (stop[0]);
  close (out[1]);
}

void
reserved_test_buyers_release (ReservedTestBuyers *buyers)
{
  g_assert_cmpint (buyers->barrier, >=, 0);
  close (buyers->barrier);
  buyers->barrier = -1;
}

void
reserved_test_buyers_drain (ReservedTestBuyers *buyers)
{
  char buf[65536];
  ssize_t got;

  while ((got = read (buyers->out, buf, sizeof buf)) > 0)
    g_string_append_len (buyers->text, buf, got);
  g_assert_true (got == 0 || errno == EAGAIN || errno == EINTR);
}

char *
reserved_test_buyers_finish (ReservedTestBuyers *buyers)
{
  g_autofree char *rest = NULL;

  if (buyers->barrier >= 0)
    reserved_test_buyers_release (buyers);
  close (buyers->stop);
  g_assert_cmpint (fcntl (buyers->out, F_SETFL, 0), ==, 0);
  rest = reserved_test_read_all (buyers->out);
  g_string_append (buyers->text, rest);
  close (buyers->out);
  for (guint i = 0; i < buyers->n; i++)
    reserved_test_wait_helper (buyers->pids[i], buyers->role);
  g_clear_pointer (&buyers->pids, g_free);
  return g_string_free (g_steal_pointer (&buyers->text), FALSE);
}

GStrv
reserved_test_buyers_finish_and_kill (ReservedTestBuyers *buyers, ReservedTestDaemon *daemon)
{
  g_autofree char *text = reserved_test_buyers_finish (buyers);

  reserved_test_daemon_kill (daemon);
  reserved_test_daemon_start (daemon);
  return g_strsplit (text, "\n", -1);
}
