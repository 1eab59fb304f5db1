/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserve-admin-call.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "reserve-client.h"

#define POLKIT_TEXT_AGENT "/usr/bin/pkttyagent"

/* pkttyagent registers for this process's session unless another agent
 * already does (--fallback), and closes fd 3 once it has registered or
 * given up; until then a call could find no agent. Its complaints (no
 * session to register for) are not ours to print. */
static GPid
start_text_agent (void)
{
  const char *argv[] = { POLKIT_TEXT_AGENT, "--notify-fd", "3", "--fallback", NULL };
  int notify[2];
  int target_fds[] = { 3 };
  GPid pid = 0;
  char byte;

  if (!g_file_test (POLKIT_TEXT_AGENT, G_FILE_TEST_IS_EXECUTABLE) ||
      !g_unix_open_pipe (notify, FD_CLOEXEC, NULL))
    return 0;
  if (!g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL,
                                         NULL, NULL, -1, -1, -1, &notify[1], target_fds, 1, &pid,
                                         NULL, NULL, NULL, NULL))
    pid = 0;
  close (notify[1]);
  while (pid != 0 && read (notify[0], &byte, 1) < 0 && errno == EINTR)
    ;
  close (notify[0]);
  return pid;
}

ReserveAdminCall
reserve_admin_call (void)
{
  if (!isatty (STDIN_FILENO))
    return (ReserveAdminCall){ G_DBUS_CALL_FLAGS_NONE, RESERVE_CLIENT_TIMEOUT_MSEC, 0 };
  return (ReserveAdminCall){ G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT,
                             start_text_agent () };
}

void
reserve_admin_call_clear (ReserveAdminCall *call)
{
  if (call->agent == 0)
    return;
  kill (call->agent, SIGTERM);
  while (waitpid (call->agent, NULL, 0) < 0 && errno == EINTR)
    ;
  g_spawn_close_pid (call->agent);
  call->agent = 0;
}
