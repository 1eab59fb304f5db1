// SPDX-License-Identifier: LGPL-2.1-or-later
/* The PostgreSQL backend's watch for changes of stock: a thread with a
 * connection of its own that LISTENs on reserved_stock, where the
 * database notifies every change any daemon commits (the trigger
 * reserved_stock_changed), and reports each through StoreBackend.changed.
 * After the connection was lost and made again, notifications may have
 * been missed, so every item is reported as it stands; the versions tell
 * the store which reports are news. */
#define G_LOG_DOMAIN "reserved-store"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <glib-unix.h>

#include "reserved-store-pg.h"

/* Between attempts to connect again. */
#define RETRY_MS 1000

struct _StorePgWatch {
  StoreBackend *backend;
  PGconn *conn;
  GThread *thread;
  int wake[2];       /* written to stop the thread */
  gboolean listened; /* once tried: a later connection may have missed changes */
};

/* "VERSION STOCK NAME". */
static void
report_payload (StorePgWatch *watch, const char *payload)
{
  g_auto(GStrv) words = g_strsplit (payload, " ", 3);
  guint64 version = 0, stock = 0;

  if (g_strv_length (words) != 3 ||
      !g_ascii_string_to_unsigned (words[0], 10, 0, G_MAXUINT64, &version, NULL) ||
      !g_ascii_string_to_unsigned (words[1], 10, 0, G_MAXUINT32, &stock, NULL))
    {
      g_message ("Ignored a stock notification that is not reserved's: %s", payload);
      return;
    }
  watch->backend->changed (watch->backend->changed_data, words[2], (guint32) stock, version);
}

/* Every item as it stands, for what a lost connection missed. */
static gboolean
report_all (StorePgWatch *watch)
{
  PGresult *result =
    PQexec (watch->conn, "SELECT version, CASE WHEN retired THEN 0 ELSE remaining END, name"
                         " FROM items ORDER BY id");
  gboolean ok = PQresultStatus (result) == PGRES_TUPLES_OK;

  for (int row = 0; ok && row < PQntuples (result); row++)
    watch->backend->changed (watch->backend->changed_data, PQgetvalue (result, row, 2),
                             (guint32) store_pg_int (result, row, 1),
                             (guint64) store_pg_int (result, row, 0));
  PQclear (result);
  return ok;
}

/* Waits until the connection has input, or @timeout_ms passed, or the
 * watch is stopped: FALSE then. */
static gboolean
wait_input (StorePgWatch *watch, int timeout_ms)
{
  struct pollfd fds[2] = {
    { .fd = watch->wake[0], .events = POLLIN },
    { .fd = watch->conn != NULL ? PQsocket (watch->conn) : -1, .events = POLLIN },
  };

  while (poll (fds, 2, timeout_ms) < 0 && errno == EINTR)
    ;
  return (fds[0].revents & POLLIN) == 0;
}

static gboolean
listen_stock (StorePgWatch *watch)
{
  const char *uri = store_pg_backend_uri (watch->backend);
  PGresult *result;
  gboolean ok;

  g_clear_pointer (&watch->conn, PQfinish);
  watch->conn = store_pg_connect (uri);
  if (PQstatus (watch->conn) != CONNECTION_OK)
    return FALSE;
  store_pg_log_notices (watch->conn, NULL);
  result = PQexec (watch->conn, "LISTEN reserved_stock");
  ok = PQresultStatus (result) == PGRES_COMMAND_OK;
  PQclear (result);
  /* At the first connection nothing was missed: the store had just
   * opened. Any later one reports every item as it stands. */
  ok = ok && (!watch->listened || report_all (watch));
  if (ok && watch->listened)
    g_message ("Watching the stock of the PostgreSQL server again; every item was reported as it "
               "stands for the changes missed meanwhile");
  watch->listened = watch->listened || ok;
  return ok;
}

static gpointer
watch_thread (gpointer user_data)
{
  StorePgWatch *watch = user_data;

  for (;;)
    {
      PGnotify *notify;

      if ((watch->conn == NULL || PQstatus (watch->conn) != CONNECTION_OK) && !listen_stock (watch))
        {
          if (!wait_input (watch, RETRY_MS))
            break;
          continue;
        }
      if (!wait_input (watch, -1))
        break;
      if (PQconsumeInput (watch->conn) != 1)
        {
          g_autofree char *why =
            store_pg_connection_message (watch->conn, store_pg_backend_uri (watch->backend));

          g_message ("Lost the connection that watches the stock: %s; connecting again", why);
          g_clear_pointer (&watch->conn, PQfinish);
          continue;
        }
      while ((notify = PQnotifies (watch->conn)) != NULL)
        {
          report_payload (watch, notify->extra);
          PQfreemem (notify);
        }
    }
  g_clear_pointer (&watch->conn, PQfinish);
  return NULL;
}

StorePgWatch *
store_pg_watch_start (StoreBackend *backend)
{
  StorePgWatch *watch = g_new0 (StorePgWatch, 1);
  g_autoptr(GError) error = NULL;

  watch->backend = backend;
  if (!g_unix_open_pipe (watch->wake, FD_CLOEXEC, &error))
    g_error ("Cannot make a pipe to stop the stock watch: %s", error->message);
  /* Connected here, so the first changes after opening are not missed. */
  if (!listen_stock (watch))
    {
      /* The changes until the thread connects are missed: it reports
       * every item then. */
      watch->listened = TRUE;
      g_autofree char *why =
        store_pg_connection_message (watch->conn, store_pg_backend_uri (watch->backend));

      g_message ("Cannot watch the stock yet: %s; trying again", why);
    }
  watch->thread = g_thread_new ("reserved-pg-watch", watch_thread, watch);
  return watch;
}

void
store_pg_watch_stop (StorePgWatch *watch)
{
  if (watch == NULL)
    return;
  if (write (watch->wake[1], "x", 1) != 1)
    g_message ("Could not wake the stock watch: %s", g_strerror (errno));
  g_thread_join (watch->thread);
  close (watch->wake[0]);
  close (watch->wake[1]);
  g_free (watch);
}
