/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-holds"

#include "reserved-holds.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reserve-error.h"
#include "reserved-clock.h"

/* A hold bound to a descriptor records its FIFO as "fifo:PATH"; one bound
 * to a connection records "BUS-ID UNIQUE-NAME". */
#define FIFO_PREFIX "fifo:"

/* The timer waits at most this long before looking again, so a deadline
 * far away needs no timer that could overflow. */
#define LONGEST_WAIT_MS (3600u * 1000u)

struct _ReservedHolds {
  GObject parent_instance;
  ReservedStore *store;
  GDBusConnection *connection;
  char *bus_id;
  guint name_owner_changed_id;
  GHashTable *watched; /* holders whose departure ends holds */
  guint timer_id;
  gboolean expiring;   /* an expiry is with the writer */
  gboolean looking;    /* the next expiry is being read */
  gboolean look_again; /* and something changed since it was asked */
  GFileMonitor *clock_monitor;
  GHashTable *fifos;        /* holder -> Fifo */
  GHashTable *fifo_of_hold; /* hold id (guint64 *) -> holder */
};

/* The read end of a hold's FIFO, watched for the moment no write end is
 * left open anywhere. */
typedef struct {
  ReservedHolds *self; /* unowned: the table that owns this */
  char *holder;
  char *path;
  int fd;
  guint source;
} Fifo;

static void
fifo_free (Fifo *fifo)
{
  g_clear_handle_id (&fifo->source, g_source_remove);
  if (fifo->fd >= 0)
    close (fifo->fd);
  if (g_unlink (fifo->path) != 0 && errno != ENOENT)
    g_message ("Could not remove %s: %s", fifo->path, g_strerror (errno));
  g_free (fifo->holder);
  g_free (fifo->path);
  g_free (fifo);
}

G_DEFINE_TYPE (ReservedHolds, reserved_holds, G_TYPE_OBJECT)

enum { SIGNAL_ENDED, SIGNAL_OFFERED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
announce (ReservedHolds *self, GAsyncResult *result)
{
  g_autoptr(GArray) ended = reserved_store_take_ended_holds (self->store, result);
  g_autoptr(GArray) offers = reserved_store_take_offers (self->store, result);

  if (ended->len > 0)
    g_signal_emit (self, signals[SIGNAL_ENDED], 0, ended);
  /* The units those holds gave back went to the waitlist. */
  if (offers->len > 0)
    g_signal_emit (self, signals[SIGNAL_OFFERED], 0, offers);
}

/* --- expiry ------------------------------------------------------------------ */

static gboolean on_timer (gpointer user_data);

static void
on_next_expiry (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(ReservedHolds) self = user_data;
  g_autoptr(GError) error = NULL;
  gint64 expires = 0;
  gboolean found;
  gint64 wait_us;
  guint wait_ms;

  self->looking = FALSE;
  found = reserved_store_next_expiry_finish (self->store, result, &expires, &error);
  if (error != NULL)
    g_warning ("Could not read when the next hold expires: %s; looking again at the next change",
               error->message);
  /* An answer already out of date is followed by a newer one; the expiry
   * under way sets the timer when it is done. */
  if (self->look_again)
    {
      self->look_again = FALSE;
      reserved_holds_reschedule (self);
      return;
    }
  if (self->expiring || error != NULL)
    return;
  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (!found)
    return;
  wait_us = MAX (expires - reserved_clock_now (), 0);
  /* Rounded up: the timer must not fire before the deadline. */
  wait_ms = (guint) MIN ((wait_us + 999) / 1000, (gint64) LONGEST_WAIT_MS);
  self->timer_id = g_timeout_add (wait_ms, on_timer, self);
}

/* The timer is set once the next expiry was read, off the main loop; one
 * read at a time, and one more for whatever changed while it was read. */
void
reserved_holds_reschedule (ReservedHolds *self)
{
  /* The expiry under way sets the timer when it is done. */
  if (self->expiring)
    return;
  if (self->looking)
    {
      self->look_again = TRUE;
      return;
    }
  self->looking = TRUE;
  reserved_store_next_expiry_async (self->store, on_next_expiry, g_object_ref (self));
}

static void
on_expired (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(ReservedHolds) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!reserved_store_end_holds_finish (self->store, result, &error))
    g_warning ("Could not end the expired holds: %s; trying again at the next deadline",
               error->message);
  announce (self, result);
  self->expiring = FALSE;
  reserved_holds_reschedule (self);
}

static gboolean
on_timer (gpointer user_data)
{
  ReservedHolds *self = user_data;

  self->timer_id = 0;
  self->expiring = TRUE;
  reserved_store_end_holds_async (self->store, NULL, RESERVED_HOLD_EXPIRED, on_expired,
                                  g_object_ref (self));
  return G_SOURCE_REMOVE;
}

/* The test hook's clock moved (reserved-clock.h): the deadline is nearer
 * or further than the timer thinks. */
static void
on_clock_changed (GFileMonitor *monitor,
                  GFile *file,
                  GFile *other,
                  GFileMonitorEvent event,
                  gpointer user_data)
{
  reserved_holds_reschedule (user_data);
}

/* --- holders ----------------------------------------------------------------- */

char *
reserved_holds_holder_of (ReservedHolds *self, const char *sender)
{
  return g_strdup_printf ("%s %s", self->bus_id, sender);
}

void
reserved_holds_watch (ReservedHolds *self, const char *holder)
{
  g_hash_table_add (self->watched, g_strdup (holder));
}

static void
on_holder_ended (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(ReservedHolds) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!reserved_store_end_holds_finish (self->store, result, &error))
    g_warning ("Could not end the holds of a holder that left: %s", error->message);
  announce (self, result);
  reserved_holds_reschedule (self);
}

static void
end_holds_of (ReservedHolds *self, const char *holder)
{
  gboolean fifo = g_str_has_prefix (holder, FIFO_PREFIX);

  g_debug ("Holder %s has gone; ending its holds", holder);
  reserved_store_end_holds_async (self->store, holder,
                                  fifo ? RESERVED_HOLD_CLOSED : RESERVED_HOLD_DISCONNECTED,
                                  on_holder_ended, g_object_ref (self));
}

/* --- descriptors ------------------------------------------------------------- */

static const char *
runtime_directory (void)
{
  static char *folder = NULL;

  if (g_once_init_enter (&folder))
    {
      const char *systemd = g_getenv ("RUNTIME_DIRECTORY");
      char *chosen = systemd != NULL && systemd[0] != '\0'
                       ? g_strdup (systemd)
                       : g_build_filename (g_get_user_runtime_dir (), "reserved", NULL);

      g_once_init_leave (&folder, chosen);
    }
  return folder;
}

/* Every write end closed: the FIFO's read end reports a hang-up. */
static gboolean
on_fifo_hangup (int fd, GIOCondition condition, gpointer user_data)
{
  Fifo *fifo = user_data;

  fifo->source = 0;
  end_holds_of (fifo->self, fifo->holder);
  return G_SOURCE_REMOVE;
}

static Fifo *
fifo_watch (ReservedHolds *self, const char *holder, int fd)
{
  Fifo *fifo = g_new0 (Fifo, 1);

  fifo->self = self;
  fifo->holder = g_strdup (holder);
  fifo->path = g_strdup (holder + strlen (FIFO_PREFIX));
  fifo->fd = fd;
  fifo->source = g_unix_fd_add (fd, G_IO_HUP | G_IO_ERR, on_fifo_hangup, fifo);
  g_hash_table_replace (self->fifos, fifo->holder, fifo);
  return fifo;
}

int
reserved_holds_open_fifo (ReservedHolds *self, char **holder_out, GError **error)
{
  const char *folder = runtime_directory ();
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *name = g_strdup_printf ("hold-%s.fifo", uuid);
  g_autofree char *path = g_build_filename (folder, name, NULL);
  int read_end = -1, write_end = -1;
  int saved;

  if (g_mkdir_with_parents (folder, 0700) != 0 || mkfifo (path, 0600) != 0)
    goto failed;
  /* The read end first: a write end cannot be opened without blocking
   * until a reader exists. The daemon keeps its write end until the reply
   * is sent, so no hang-up comes before the hold is committed. */
  read_end = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (read_end < 0)
    goto failed;
  write_end = open (path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (write_end < 0)
    goto failed;
  *holder_out = g_strconcat (FIFO_PREFIX, path, NULL);
  fifo_watch (self, *holder_out, read_end);
  return write_end;

failed:
  saved = errno;
  if (read_end >= 0)
    close (read_end);
  g_unlink (path);
  g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
               "cannot make the descriptor of a hold, a FIFO in %s: %s", folder,
               g_strerror (saved));
  return -1;
}

void
reserved_holds_fifo_bind (ReservedHolds *self, const char *holder, guint64 hold)
{
  guint64 *key = g_memdup2 (&hold, sizeof hold);

  g_hash_table_replace (self->fifo_of_hold, key, g_strdup (holder));
}

void
reserved_holds_fifo_abandon (ReservedHolds *self, const char *holder)
{
  g_hash_table_remove (self->fifos, holder);
}

void
reserved_holds_forget (ReservedHolds *self, guint64 hold)
{
  const char *holder = g_hash_table_lookup (self->fifo_of_hold, &hold);

  if (holder == NULL)
    return;
  g_hash_table_remove (self->fifos, holder);
  g_hash_table_remove (self->fifo_of_hold, &hold);
}

/* After a restart: the FIFO is opened again. Opening and closing a write
 * end of its own makes the read end report a hang-up at once if no one
 * else has one open (a FIFO that never saw a writer since it was opened
 * reports none), and otherwise when the last holder closes it. */
static void
watch_fifo_again (ReservedHolds *self, const char *holder)
{
  const char *path = holder + strlen (FIFO_PREFIX);
  int read_end = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  int write_end;

  if (read_end < 0)
    {
      g_message ("The FIFO of a hold, %s, is gone (%s); ending the hold", path, g_strerror (errno));
      end_holds_of (self, holder);
      return;
    }
  write_end = open (path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  fifo_watch (self, holder, read_end);
  if (write_end >= 0)
    close (write_end);
}

static void
on_name_owner_changed (GDBusConnection *connection,
                       const char *sender_name,
                       const char *object_path,
                       const char *interface_name,
                       const char *signal_name,
                       GVariant *parameters,
                       gpointer user_data)
{
  ReservedHolds *self = user_data;
  const char *name, *old_owner, *new_owner;
  g_autofree char *holder = NULL;

  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (name[0] != ':' || new_owner[0] != '\0')
    return;
  holder = reserved_holds_holder_of (self, name);
  if (g_hash_table_remove (self->watched, holder))
    end_holds_of (self, holder);
}

typedef struct {
  ReservedHolds *self; /* owned */
  char *holder;
} HolderCheck;

static void
holder_check_free (HolderCheck *check)
{
  g_object_unref (check->self);
  g_free (check->holder);
  g_free (check);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HolderCheck, holder_check_free)

static void
on_name_has_owner (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(HolderCheck) check = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply =
               g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  gboolean present = TRUE;

  if (reply == NULL)
    {
      g_message ("Could not ask the bus whether %s is still there: %s", check->holder,
                 error->message);
      return;
    }
  g_variant_get (reply, "(b)", &present);
  if (!present)
    {
      g_hash_table_remove (check->self->watched, check->holder);
      end_holds_of (check->self, check->holder);
    }
}

void
reserved_holds_check_holder (ReservedHolds *self, const char *holder)
{
  const char *space = strchr (holder, ' ');
  g_autofree char *bus_id = space != NULL ? g_strndup (holder, space - holder) : NULL;
  HolderCheck *check;

  /* A holder from another bus (the daemon moved, or the bus restarted)
   * left with it. */
  if (space == NULL || g_strcmp0 (bus_id, self->bus_id) != 0)
    {
      end_holds_of (self, holder);
      return;
    }
  check = g_new0 (HolderCheck, 1);
  check->self = g_object_ref (self);
  check->holder = g_strdup (holder);
  g_dbus_connection_call (self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "NameHasOwner", g_variant_new ("(s)", space + 1),
                          G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                          on_name_has_owner, check);
}

/* After a restart: the holders of live holds are watched again, and those
 * already gone are ended. Read in two steps, off the main loop: the
 * waiters bound to their connection, whose offer is still to come, then
 * the live holds. */
typedef struct {
  ReservedHolds *self; /* owned */
  GPtrArray *waiting;  /* nullable */
} HoldersRead;

static void
on_live_holds (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HoldersRead *read = user_data;
  g_autoptr(ReservedHolds) self = read->self;
  g_autoptr(GPtrArray) waiting = read->waiting;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) holds = reserved_store_list_finish (self->store, result, &error);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  g_free (read);
  if (holds == NULL)
    {
      g_warning ("Could not list the holders of holds: %s", error->message);
      return;
    }
  for (guint i = 0; waiting != NULL && i < waiting->len; i++)
    {
      const char *holder = g_ptr_array_index (waiting, i);

      if (!g_hash_table_add (seen, (gpointer) holder))
        continue;
      reserved_holds_watch (self, holder);
      reserved_holds_check_holder (self, holder);
    }
  for (guint i = 0; i < holds->len; i++)
    {
      const ReservedHold *hold = &g_array_index (holds, ReservedHold, i);

      if (hold->holder == NULL)
        continue;
      if (g_str_has_prefix (hold->holder, FIFO_PREFIX))
        reserved_holds_fifo_bind (self, hold->holder, hold->id);
      if (!g_hash_table_add (seen, hold->holder))
        continue;
      if (g_str_has_prefix (hold->holder, FIFO_PREFIX))
        watch_fifo_again (self, hold->holder);
      else
        {
          reserved_holds_watch (self, hold->holder);
          reserved_holds_check_holder (self, hold->holder);
        }
    }
}

static void
on_waiting_holders (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HoldersRead *read = user_data;
  g_autoptr(GError) error = NULL;

  read->waiting = reserved_store_list_waiting_holders_finish (read->self->store, result, &error);
  if (read->waiting == NULL)
    g_warning ("Could not list the waiters of the waitlist: %s", error->message);
  reserved_store_list_holds_async (read->self->store, NULL, NULL, on_live_holds, read);
}

static void
check_holders (ReservedHolds *self)
{
  HoldersRead *read = g_new0 (HoldersRead, 1);

  read->self = g_object_ref (self);
  reserved_store_list_waiting_holders_async (self->store, on_waiting_holders, read);
}

/* --- life cycle ---------------------------------------------------------------- */

ReservedHolds *
reserved_holds_new (ReservedStore *store, GDBusConnection *connection)
{
  ReservedHolds *self = g_object_new (RESERVED_TYPE_HOLDS, NULL);
  const char *clock_file = reserved_clock_get_test_file ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) id = NULL;

  self->store = g_object_ref (store);
  self->connection = g_object_ref (connection);
  /* Asked once, before the first call is served. */
  id = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                    "org.freedesktop.DBus", "GetId", NULL, G_VARIANT_TYPE ("(s)"),
                                    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (id != NULL)
    g_variant_get (id, "(s)", &self->bus_id);
  else
    {
      g_warning ("The bus does not say its id (%s); holds bound to a connection are ended at "
                 "the next start",
                 error->message);
      self->bus_id = g_uuid_string_random ();
    }
  self->name_owner_changed_id =
    g_dbus_connection_signal_subscribe (connection, "org.freedesktop.DBus", "org.freedesktop.DBus",
                                        "NameOwnerChanged", "/org/freedesktop/DBus", NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed, self,
                                        NULL);
  if (clock_file != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (clock_file);

      self->clock_monitor = g_file_monitor_file (file, G_FILE_MONITOR_NONE, NULL, &error);
      if (self->clock_monitor != NULL)
        g_signal_connect (self->clock_monitor, "changed", G_CALLBACK (on_clock_changed), self);
    }
  check_holders (self);
  reserved_holds_reschedule (self);
  return self;
}

static void
reserved_holds_dispose (GObject *object)
{
  ReservedHolds *self = RESERVED_HOLDS (object);

  if (self->name_owner_changed_id != 0)
    {
      g_dbus_connection_signal_unsubscribe (self->connection, self->name_owner_changed_id);
      self->name_owner_changed_id = 0;
    }
  g_clear_handle_id (&self->timer_id, g_source_remove);
  /* The FIFOs stay: holds bound to them outlive the daemon. */
  if (self->fifos != NULL)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, self->fifos);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          Fifo *fifo = value;
          g_clear_handle_id (&fifo->source, g_source_remove);
          close (fifo->fd);
          fifo->fd = -1;
          g_hash_table_iter_steal (&iter);
          g_free (fifo->holder);
          g_free (fifo->path);
          g_free (fifo);
        }
    }
  if (self->clock_monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->clock_monitor, self);
      g_file_monitor_cancel (self->clock_monitor);
      g_clear_object (&self->clock_monitor);
    }
  g_clear_object (&self->connection);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (reserved_holds_parent_class)->dispose (object);
}

static void
reserved_holds_finalize (GObject *object)
{
  ReservedHolds *self = RESERVED_HOLDS (object);

  g_hash_table_unref (self->watched);
  g_hash_table_unref (self->fifos);
  g_hash_table_unref (self->fifo_of_hold);
  g_free (self->bus_id);
  G_OBJECT_CLASS (reserved_holds_parent_class)->finalize (object);
}

static void
reserved_holds_class_init (ReservedHoldsClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = reserved_holds_dispose;
  G_OBJECT_CLASS (klass)->finalize = reserved_holds_finalize;
  signals[SIGNAL_OFFERED] = g_signal_new ("offered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_ENDED] = g_signal_new ("ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
reserved_holds_init (ReservedHolds *self)
{
  self->watched = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->fifos = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) fifo_free);
  self->fifo_of_hold = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
}
