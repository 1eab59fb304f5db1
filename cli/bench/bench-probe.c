/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bench-probe.h"

#include <string.h>
#include <unistd.h>

#include "reserve-answer.h"
#include "reserve-client.h"
#include "reserve-names.h"
#include "reserve-text.h"

/* One bus the probe watches: the only one, or one --bus address. */
typedef struct {
  ReserveReserve1 *proxy;
  GPid daemon_pid; /* 0: unknown */
  GPid bus_pid;
  gboolean repeated; /* an earlier end reaches the same daemon */
} ProbeEnd;

struct _BenchProbe {
  ReserveReserve1 *proxy; /* the first end's: the item is created and read there */
  ProbeEnd *ends;
  guint n_ends;
  glong ticks_per_second;
};

/* The pid of @name's owner, 0 if the bus will not say (a bus on another
 * machine, a policy that forbids asking). */
static GPid
owner_pid (GDBusConnection *connection, const char *name)
{
  g_autoptr(GVariant) reply = NULL;
  guint32 pid = 0;

  reply =
    g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                 g_variant_new ("(s)", name), G_VARIANT_TYPE ("(u)"),
                                 G_DBUS_CALL_FLAGS_NONE, RESERVE_CLIENT_TIMEOUT_MSEC, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(u)", &pid);
  return (GPid) pid;
}

/* A string that is the same for two ends exactly when they reach the same
 * daemon: the bus's id and the unique name that owns reserved's name there.
 * NULL, with @error set, if nobody owns it. */
static char *
daemon_identity (GDBusConnection *connection, const char *address, GError **error)
{
  g_autoptr(GVariant) bus_id = NULL;
  g_autoptr(GVariant) owner = NULL;
  const char *id = NULL, *unique = NULL;

  owner =
    g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", "GetNameOwner",
                                 g_variant_new ("(s)", RESERVE_BUS_NAME), G_VARIANT_TYPE ("(s)"),
                                 G_DBUS_CALL_FLAGS_NONE, RESERVE_CLIENT_TIMEOUT_MSEC, NULL, error);
  if (owner == NULL)
    {
      bench_error_name_address (error, address);
      return NULL;
    }
  bus_id =
    g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", "GetId", NULL, G_VARIANT_TYPE ("(s)"),
                                 G_DBUS_CALL_FLAGS_NONE, RESERVE_CLIENT_TIMEOUT_MSEC, NULL, NULL);
  g_variant_get (owner, "(&s)", &unique);
  if (bus_id != NULL)
    g_variant_get (bus_id, "(&s)", &id);
  /* A bus that will not give its id: told apart by the address. */
  return g_strdup_printf ("%s %s", id != NULL ? id : address, unique);
}

/* The daemon behind one --bus address, on a connection of its own. */
static ReserveReserve1 *
connect_address (const char *address, GError **error)
{
  g_autoptr(GDBusConnection) connection = bench_connect_address (address, error);

  return connection != NULL ? reserve_client_proxy_new (connection, error) : NULL;
}

BenchProbe *
bench_probe_new (GBusType bus_type, const char *const *addresses, guint n_addresses, GError **error)
{
  g_autoptr(BenchProbe) probe = g_new0 (BenchProbe, 1);
  g_autoptr(GPtrArray) identities = g_ptr_array_new_with_free_func (g_free);

  probe->n_ends = MAX (n_addresses, 1);
  probe->ends = g_new0 (ProbeEnd, probe->n_ends);
  for (guint i = 0; i < probe->n_ends; i++)
    {
      ProbeEnd *end = &probe->ends[i];
      GDBusConnection *connection;

      end->proxy = n_addresses > 0 ? connect_address (addresses[i], error)
                                   : reserve_client_connect (bus_type, error);
      if (end->proxy == NULL)
        return NULL;
      connection = g_dbus_proxy_get_connection (G_DBUS_PROXY (end->proxy));
      end->daemon_pid = owner_pid (connection, RESERVE_BUS_NAME);
      /* dbus-daemon answers for itself too. */
      end->bus_pid = owner_pid (connection, "org.freedesktop.DBus");
      if (n_addresses > 0)
        {
          char *identity = daemon_identity (connection, addresses[i], error);

          if (identity == NULL)
            return NULL;
          end->repeated =
            g_ptr_array_find_with_equal_func (identities, identity, g_str_equal, NULL);
          g_ptr_array_add (identities, identity);
        }
    }
  probe->proxy = probe->ends[0].proxy;
  probe->ticks_per_second = sysconf (_SC_CLK_TCK);
  return g_steal_pointer (&probe);
}

void
bench_probe_free (BenchProbe *probe)
{
  if (probe == NULL)
    return;
  for (guint i = 0; i < probe->n_ends; i++)
    g_clear_object (&probe->ends[i].proxy);
  g_free (probe->ends);
  g_free (probe);
}

guint
bench_probe_get_n_daemons (BenchProbe *probe)
{
  guint n = 0;

  for (guint i = 0; i < probe->n_ends; i++)
    n += !probe->ends[i].repeated;
  return n;
}

gboolean
bench_probe_is_repeated (BenchProbe *probe, guint end)
{
  return probe->ends[end].repeated;
}

gboolean
bench_probe_create_item (BenchProbe *probe, const char *item, guint32 capacity, GError **error)
{
  return reserve_reserve1_call_create_item_sync (probe->proxy, item, capacity,
                                                 g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL,
                                                                      0),
                                                 G_DBUS_CALL_FLAGS_NONE,
                                                 RESERVE_CLIENT_TIMEOUT_MSEC, NULL, error);
}

gboolean
bench_probe_retire_item (BenchProbe *probe, const char *item, GError **error)
{
  return reserve_reserve1_call_retire_item_sync (probe->proxy, item, G_DBUS_CALL_FLAGS_NONE,
                                                 RESERVE_CLIENT_TIMEOUT_MSEC, NULL, error);
}

gboolean
bench_probe_count_other_items (BenchProbe *probe, const char *except, guint *n, GError **error)
{
  g_autofree char *cursor = g_strdup ("");
  g_autofree char *default_item = reserve_client_resolve_item (probe->proxy, NULL, error);

  if (default_item == NULL)
    return FALSE;
  *n = 0;
  do
    {
      g_auto(GVariantDict) query = G_VARIANT_DICT_INIT (NULL);
      g_autoptr(GVariant) items = NULL;
      g_autofree char *next = NULL;
      GVariantIter iter;
      const char *name = NULL;
      guint32 capacity = 0, remaining = 0;

      g_variant_dict_insert (&query, RESERVE_QUERY_LIMIT, "u", RESERVE_PAGE_LIMIT_MAX);
      if (*cursor != '\0')
        g_variant_dict_insert (&query, RESERVE_QUERY_CURSOR, "s", cursor);
      if (!reserve_reserve1_call_list_items_page_sync (probe->proxy, g_variant_dict_end (&query),
                                                       G_DBUS_CALL_FLAGS_NONE,
                                                       RESERVE_CLIENT_TIMEOUT_MSEC, &items, &next,
                                                       NULL, error))
        return FALSE;
      g_variant_iter_init (&iter, items);
      while (g_variant_iter_next (&iter, "(&suuu)", &name, &capacity, &remaining, NULL))
        {
          /* Every daemon starts with its default item: only once some of
           * it is gone does it say the daemon is in use. */
          if (g_strcmp0 (name, except) == 0 ||
              (g_strcmp0 (name, default_item) == 0 && remaining == capacity))
            continue;
          (*n)++;
        }
      g_free (cursor);
      cursor = g_steal_pointer (&next);
    }
  while (*cursor != '\0');
  return TRUE;
}

gboolean
bench_probe_get_item (BenchProbe *probe, const char *item, BenchItemState *state, GError **error)
{
  g_autoptr(GVariant) info = NULL;

  return reserve_reserve1_call_get_item_sync (probe->proxy, item, G_DBUS_CALL_FLAGS_NONE,
                                              RESERVE_CLIENT_TIMEOUT_MSEC, &info, NULL, error) &&
         reserve_answer_lookup_u32 (info, "GetItem", "capacity", &state->capacity, error) &&
         reserve_answer_lookup_u32 (info, "GetItem", "remaining", &state->remaining, error) &&
         reserve_answer_lookup_u32 (info, "GetItem", "sold", &state->sold, error);
}

static gboolean
get_counters_of (ReserveReserve1 *proxy, BenchBatching *counters, GError **error)
{
  g_autoptr(GVariant) stats = NULL;
  g_autoptr(GError) local_error = NULL;

  memset (counters, 0, sizeof *counters);
  if (!reserve_reserve1_call_get_statistics_sync (proxy, G_DBUS_CALL_FLAGS_NONE,
                                                  RESERVE_CLIENT_TIMEOUT_MSEC, &stats, NULL,
                                                  &local_error))
    {
      /* A daemon from before GetStatistics still gets benchmarked. */
      if (g_error_matches (local_error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!g_variant_lookup (stats, "commits", "t", &counters->commits) ||
      !g_variant_lookup (stats, "operations", "t", &counters->operations) ||
      !g_variant_lookup (stats, "largest_batch", "t", &counters->largest_batch))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _ ("reserved's answer to GetStatistics lacks “commits”, “operations” "
                              "or “largest_batch” as 64-bit numbers"));
      return FALSE;
    }
  counters->known = TRUE;
  return TRUE;
}

gboolean
bench_probe_get_counters (BenchProbe *probe,
                          BenchBatching *counters,
                          BenchBatching *each,
                          GError **error)
{
  memset (counters, 0, sizeof *counters);
  counters->known = TRUE;
  for (guint i = 0; i < probe->n_ends; i++)
    {
      BenchBatching one;

      if (!get_counters_of (probe->ends[i].proxy, &one, error))
        return FALSE;
      if (each != NULL)
        each[i] = one;
      if (probe->ends[i].repeated)
        continue;
      /* The sum is known only if every daemon's part is. */
      counters->known &= one.known;
      counters->commits += one.commits;
      counters->operations += one.operations;
      counters->largest_batch = MAX (counters->largest_batch, one.largest_batch);
    }
  return TRUE;
}

char *
bench_probe_get_daemon_version (BenchProbe *probe)
{
  GDBusProxy *proxy = G_DBUS_PROXY (probe->proxy);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;

  /* The proxy loads no properties: asked for, as the baseline asks. */
  reply =
    g_dbus_connection_call_sync (g_dbus_proxy_get_connection (proxy), g_dbus_proxy_get_name (proxy),
                                 g_dbus_proxy_get_object_path (proxy),
                                 "org.freedesktop.DBus.Properties", "Get",
                                 g_variant_new ("(ss)", RESERVE_INTERFACE, "Version"),
                                 G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE,
                                 RESERVE_CLIENT_TIMEOUT_MSEC, NULL, NULL);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(v)", &value);
  return g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) ? g_variant_dup_string (value, NULL)
                                                             : NULL;
}

GPid
bench_probe_get_daemon_pid (BenchProbe *probe, guint end)
{
  return probe->ends[end].daemon_pid;
}

/* --- /proc ----------------------------------------------------------------- */

/* utime + stime of @pid: fields 14 and 15 of /proc/PID/stat, counted after
 * the command name, which may itself hold spaces and parentheses. */
static gboolean
read_process_ticks (GPid pid, guint64 *ticks)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_name;

  if (pid <= 0 || !g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  after_name = strrchr (contents, ')');
  if (after_name == NULL)
    return FALSE;
  /* Field 3 (state) is the first after the name, so utime is at 11. */
  fields = g_strsplit (after_name + 2, " ", 14);
  if (g_strv_length (fields) < 14)
    return FALSE;
  *ticks = g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10);
  return TRUE;
}

/* The first line of /proc/stat: user nice system idle iowait irq softirq
 * steal ...; busy is everything but idle and iowait. */
static gboolean
read_machine_busy (guint64 *busy)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  guint64 sum = 0;

  if (!g_file_get_contents ("/proc/stat", &contents, NULL, NULL) ||
      !g_str_has_prefix (contents, "cpu "))
    return FALSE;
  *strchr (contents, '\n') = '\0';
  fields = g_strsplit_set (contents + 4, " ", -1);
  for (guint i = 0, column = 0; fields[i] != NULL; i++)
    {
      if (fields[i][0] == '\0')
        continue;
      /* guest time is counted in user already */
      if (column != 3 && column != 4 && column < 8)
        sum += g_ascii_strtoull (fields[i], NULL, 10);
      column++;
    }
  *busy = sum;
  return TRUE;
}

static gboolean
bus_seen_before (BenchProbe *probe, guint end)
{
  for (guint i = 0; i < end; i++)
    if (probe->ends[i].bus_pid > 0 && probe->ends[i].bus_pid == probe->ends[end].bus_pid)
      return TRUE;
  return FALSE;
}

void
bench_probe_sample (BenchProbe *probe, const GPid *buyers, guint n_buyers, BenchSample *sample)
{
  memset (sample, 0, sizeof *sample);
  sample->time = g_get_monotonic_time ();
  sample->daemon_known = sample->bus_known = TRUE;
  for (guint i = 0; i < probe->n_ends; i++)
    {
      const ProbeEnd *end = &probe->ends[i];
      guint64 ticks = 0;

      if (!end->repeated)
        {
          sample->daemon_known &= read_process_ticks (end->daemon_pid, &ticks);
          sample->daemon_ticks += ticks;
        }
      /* Each bus once, however many addresses or daemons reach it. */
      if (!bus_seen_before (probe, i))
        {
          ticks = 0;
          sample->bus_known &= read_process_ticks (end->bus_pid, &ticks);
          sample->bus_ticks += ticks;
        }
    }
  sample->buyers_known = TRUE;
  for (guint i = 0; i < n_buyers; i++)
    {
      guint64 ticks = 0;

      sample->buyers_known &= read_process_ticks (buyers[i], &ticks);
      sample->buyers_ticks += ticks;
    }
  sample->machine_known = read_machine_busy (&sample->machine_busy);
}

static void
cpu_between (gboolean known, guint64 before, guint64 after, gdouble seconds, BenchCpu *cpu)
{
  glong ticks_per_second = sysconf (_SC_CLK_TCK);

  cpu->known = known && seconds > 0 && after >= before && ticks_per_second > 0;
  cpu->cpu = cpu->known ? (gdouble) (after - before) / (gdouble) ticks_per_second / seconds : 0.0;
}

void
bench_probe_cpu_between (const BenchSample *before, const BenchSample *after, BenchCpuUse *use)
{
  gdouble seconds = (gdouble) (after->time - before->time) / G_USEC_PER_SEC;

  cpu_between (before->daemon_known && after->daemon_known, before->daemon_ticks,
               after->daemon_ticks, seconds, &use->daemon);
  cpu_between (before->bus_known && after->bus_known, before->bus_ticks, after->bus_ticks, seconds,
               &use->bus);
  cpu_between (before->buyers_known && after->buyers_known, before->buyers_ticks,
               after->buyers_ticks, seconds, &use->buyers);
  cpu_between (before->machine_known && after->machine_known, before->machine_busy,
               after->machine_busy, seconds, &use->machine);
  /* What else ran meanwhile; the ticks are counted apart, so a small
   * negative difference is rounding. */
  use->others.known =
    use->machine.known && use->daemon.known && use->bus.known && use->buyers.known;
  use->others.cpu =
    use->others.known
      ? MAX (0.0, use->machine.cpu - use->daemon.cpu - use->bus.cpu - use->buyers.cpu)
      : 0.0;
}

gboolean
bench_probe_read_load (gdouble load[3])
{
  g_autofree char *contents = NULL;
  char *end = NULL;
  const char *at;

  if (!g_file_get_contents ("/proc/loadavg", &contents, NULL, NULL))
    return FALSE;
  at = contents;
  for (guint i = 0; i < 3; i++, at = end)
    {
      load[i] = g_ascii_strtod (at, &end);
      if (end == at)
        return FALSE;
    }
  return TRUE;
}

static gboolean
status_kib (const char *status, const char *key, guint64 *kib)
{
  const char *line = strstr (status, key);

  if (line == NULL)
    return FALSE;
  *kib = g_ascii_strtoull (line + strlen (key), NULL, 10);
  return TRUE;
}

void
bench_probe_read_memory (BenchProbe *probe, BenchMemory *memory)
{
  memset (memory, 0, sizeof *memory);
  memory->known = TRUE;
  for (guint i = 0; i < probe->n_ends && memory->known; i++)
    {
      const ProbeEnd *end = &probe->ends[i];
      g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) end->daemon_pid);
      g_autofree char *status = NULL;
      guint64 rss = 0, hwm = 0;

      if (end->repeated)
        continue;
      memory->known = end->daemon_pid > 0 && g_file_get_contents (path, &status, NULL, NULL) &&
                      status_kib (status, "\nVmRSS:", &rss) &&
                      status_kib (status, "\nVmHWM:", &hwm);
      memory->rss_kib += rss;
      memory->hwm_kib += hwm;
    }
  if (!memory->known)
    memory->rss_kib = memory->hwm_kib = 0;
}
