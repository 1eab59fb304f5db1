/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-sale"

#include "reserved-sale.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "reserve-names.h"
#include "reserved-clock.h"

struct _ReservedSale {
  GObject parent_instance;
  ReservedStore *store;
  int timer_fd;
  guint timer_source;
  GFileMonitor *clock_monitor;
  GHashTable *on_sale; /* item name -> whether it was on sale at the last look */
};

G_DEFINE_TYPE (ReservedSale, reserved_sale, G_TYPE_OBJECT)

enum { SIGNAL_OPENED, SIGNAL_CLOSED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* Sets the timer for @next, a time of the wall clock as
 * reserved_clock_wall_now() reads it (0: none). The timer is cancelled
 * when the system clock is set, which the next read reports as ECANCELED. */
static void
arm (ReservedSale *self, gint64 next)
{
  struct itimerspec spec = { 0 };

  if (self->timer_fd < 0)
    return;
  if (next > 0)
    {
      /* The system's clock, without what the test hook adds to it; at
       * least 1 ns, as 0 would disarm the timer. */
      gint64 at = MAX (next - reserved_clock_wall_shift (), 1);

      spec.it_value.tv_sec = at / G_USEC_PER_SEC;
      spec.it_value.tv_nsec = (at % G_USEC_PER_SEC) * 1000;
    }
  if (timerfd_settime (self->timer_fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, NULL) <
      0)
    g_warning ("Could not set the timer of sale windows: %s", g_strerror (errno));
}

static void
announce (ReservedSale *self, const char *item, gboolean on_sale)
{
  g_debug ("The sale window of %s %s", item, on_sale ? "opened" : "closed");
  g_signal_emit (self, signals[on_sale ? SIGNAL_OPENED : SIGNAL_CLOSED], 0, item);
}

/* One look at every window: the GTask of reserved_sale_check_async(),
 * done once its reads are answered. */
typedef struct {
  ReservedSale *self; /* owned */
  guint reads;        /* not answered yet */
} Look;

static void
look_free (Look *look)
{
  g_object_unref (look->self);
  g_free (look);
}

static void
look_read_done (GTask *task)
{
  Look *look = g_task_get_task_data (task);

  if (--look->reads == 0)
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

typedef struct {
  GTask *task; /* owned */
  char *item;
} GoneItem;

static void
on_gone_item_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GoneItem *gone = user_data;
  Look *look = g_task_get_task_data (gone->task);
  ReservedItem now = { 0 };

  if (reserved_store_get_item_finish (look->self->store, result, &now, NULL) && !now.retired)
    announce (look->self, gone->item, TRUE);
  reserved_item_clear (&now);
  look_read_done (gone->task);
  g_free (gone->item);
  g_free (gone);
}

/* An item that had a window at the last look has none now, or was
 * retired: if it was off sale and is still sold, it is on sale now. */
static void
check_gone (GTask *task, const char *item, gboolean was_on_sale)
{
  Look *look = g_task_get_task_data (task);
  GoneItem *gone;

  if (was_on_sale)
    return;
  gone = g_new0 (GoneItem, 1);
  gone->task = g_object_ref (task);
  gone->item = g_strdup (item);
  look->reads++;
  reserved_store_get_item_async (look->self->store, item, on_gone_item_read, gone);
}

static void
on_windows_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Look *look = g_task_get_task_data (task);
  ReservedSale *self = look->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) windows = reserved_store_list_finish (self->store, result, &error);
  g_autoptr(GHashTable) looked = NULL;
  GHashTableIter iter;
  gpointer name, was;
  gint64 now = reserved_clock_wall_now ();
  gint64 next = 0;

  /* Gone since the look was asked for. */
  if (self->on_sale == NULL)
    {
      look_read_done (task);
      return;
    }
  if (windows == NULL)
    {
      /* The next write that changes a window looks again. */
      g_warning ("Could not read the sale windows: %s", error->message);
      look_read_done (task);
      return;
    }
  looked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < windows->len; i++)
    {
      const ReservedItem *item = &g_array_index (windows, ReservedItem, i);
      gboolean on_sale = reserved_sale_window_contains (&item->sale, now);
      gboolean was_on_sale = GPOINTER_TO_INT (g_hash_table_lookup (self->on_sale, item->name)) != 0;

      g_hash_table_add (looked, g_strdup (item->name));
      g_hash_table_insert (self->on_sale, g_strdup (item->name), GINT_TO_POINTER (on_sale));
      if (on_sale != was_on_sale)
        announce (self, item->name, on_sale);
      if (item->sale.start > now)
        next = next == 0 ? item->sale.start : MIN (next, item->sale.start);
      if (item->sale.end > now)
        next = next == 0 ? item->sale.end : MIN (next, item->sale.end);
    }
  g_hash_table_iter_init (&iter, self->on_sale);
  while (g_hash_table_iter_next (&iter, &name, &was))
    if (!g_hash_table_contains (looked, name))
      {
        g_autofree char *item = g_strdup (name);

        g_hash_table_iter_remove (&iter);
        check_gone (task, item, GPOINTER_TO_INT (was) != 0);
      }
  /* Windows whose bounds have all passed still want to hear of the clock
   * being set back: a timer that will not fire before year 9999 is still
   * cancelled by that. */
  if (next == 0 && windows->len > 0)
    next = RESERVE_SALE_TIME_MAX;
  arm (self, next);
  look_read_done (task);
}

void
reserved_sale_check_async (ReservedSale *self, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  Look *look = g_new0 (Look, 1);

  look->self = g_object_ref (self);
  look->reads = 1;
  g_task_set_task_data (task, look, (GDestroyNotify) look_free);
  reserved_store_list_sale_windows_async (self->store, on_windows_read, task);
}

void
reserved_sale_check_finish (ReservedSale *self, GAsyncResult *result)
{
  g_task_propagate_boolean (G_TASK (result), NULL);
}

void
reserved_sale_check (ReservedSale *self)
{
  reserved_sale_check_async (self, NULL, NULL);
}

static gboolean
on_timer (int fd, GIOCondition condition, gpointer user_data)
{
  ReservedSale *self = user_data;
  guint64 expirations;

  /* ECANCELED: the system clock was set; either way, look again. */
  if (read (fd, &expirations, sizeof expirations) < 0 && errno != ECANCELED && errno != EAGAIN)
    g_warning ("Could not read the timer of sale windows: %s", g_strerror (errno));
  reserved_sale_check (self);
  return G_SOURCE_CONTINUE;
}

/* The test hook's clock moved (reserved-clock.h), as if the system clock
 * had been set. */
static void
on_clock_changed (GFileMonitor *monitor,
                  GFile *file,
                  GFile *other,
                  GFileMonitorEvent event,
                  gpointer user_data)
{
  reserved_sale_check (user_data);
}

ReservedSale *
reserved_sale_new (ReservedStore *store)
{
  ReservedSale *self = g_object_new (RESERVED_TYPE_SALE, NULL);
  const char *clock_file = reserved_clock_get_test_file ();

  self->store = g_object_ref (store);
  self->timer_fd = timerfd_create (CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
  if (self->timer_fd < 0)
    g_warning ("Could not make a timer for sale windows (%s): they open and close only when a "
               "window is set",
               g_strerror (errno));
  else
    self->timer_source = g_unix_fd_add (self->timer_fd, G_IO_IN, on_timer, self);
  if (clock_file != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (clock_file);

      self->clock_monitor = g_file_monitor_file (file, G_FILE_MONITOR_NONE, NULL, NULL);
      if (self->clock_monitor != NULL)
        g_signal_connect (self->clock_monitor, "changed", G_CALLBACK (on_clock_changed), self);
    }
  return self;
}

static void
reserved_sale_dispose (GObject *object)
{
  ReservedSale *self = RESERVED_SALE (object);

  if (self->clock_monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->clock_monitor, self);
      g_file_monitor_cancel (self->clock_monitor);
      g_clear_object (&self->clock_monitor);
    }
  g_clear_handle_id (&self->timer_source, g_source_remove);
  if (self->timer_fd >= 0)
    {
      close (self->timer_fd);
      self->timer_fd = -1;
    }
  g_clear_pointer (&self->on_sale, g_hash_table_unref);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (reserved_sale_parent_class)->dispose (object);
}

static void
reserved_sale_class_init (ReservedSaleClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = reserved_sale_dispose;
  signals[SIGNAL_OPENED] = g_signal_new ("opened", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
reserved_sale_init (ReservedSale *self)
{
  self->timer_fd = -1;
  self->on_sale = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}
