/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sale windows against the real reserved on a private bus: CreateItem's
 * sale_start and sale_end, SetSaleWindow, NotOnSale for Buy,
 * BuyWithDetails, Hold and HoldFd outside the window, a hold confirmed
 * after its window closed, bad windows refused with nothing changed, a
 * window kept across a restart, and windows that open and close as the
 * wall clock moves: the daemon's test hook (RESERVED_TEST_CLOCK_FILE, its
 * second number: the wall clock alone) moves it, and the test waits for
 * StockChanged, never sleeps. */
#include <gio/gunixfdlist.h>
#include <string.h>

#include "reserved-store.h"
#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"
#include "reserved-test-signals.h"

typedef ReservedTestFixture Fixture;

#define SECOND G_GINT64_CONSTANT (1000000)
#define HOUR   (3600 * SECOND)
#define DAY    (24 * HOUR)

/* --- calls ------------------------------------------------------------------ */

static GVariant *
window_options (gint64 start, gint64 end)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  if (start != 0)
    g_variant_builder_add (&builder, "{sv}", RESERVE_OPTION_SALE_START,
                           g_variant_new_int64 (start));
  if (end != 0)
    g_variant_builder_add (&builder, "{sv}", RESERVE_OPTION_SALE_END, g_variant_new_int64 (end));
  return g_variant_builder_end (&builder);
}

static void
create_with_window (Fixture *f, const char *item, guint32 capacity, gint64 start, gint64 end)
{
  g_autoptr(GError) error = NULL;

  reserve_reserve1_call_create_item_sync (f->proxy, item, capacity, window_options (start, end),
                                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
}

static void
set_window (Fixture *f, const char *item, gint64 start, gint64 end)
{
  g_autoptr(GError) error = NULL;

  reserve_reserve1_call_set_sale_window_sync (f->proxy, item, start, end, G_DBUS_CALL_FLAGS_NONE,
                                              -1, NULL, &error);
  g_assert_no_error (error);
}

static GVariant *
hold_options (void)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  g_variant_builder_add (&builder, "{sv}", RESERVE_OPTION_TTL, g_variant_new_uint32 (600));
  return g_variant_builder_end (&builder);
}

static guint64
hold (Fixture *f, const char *item, const char *user, guint32 quantity)
{
  return reserved_test_hold (&f->client, item, user, quantity, hold_options (), NULL, NULL);
}

/* Buy, BuyWithDetails, Hold and HoldFd of @item are each refused with
 * NotOnSale, and nothing changed. */
static void
assert_not_on_sale (Fixture *f, const char *item)
{
  g_autoptr(GVariant) before = reserved_test_snapshot (&f->client);
  g_autoptr(GVariant) info_before = reserved_test_get_item_info (&f->client, item);
  g_autoptr(GVariant) info_after = NULL;
  g_autoptr(GVariant) details = NULL;
  g_autoptr(GVariant) handle = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GError) error = NULL;

  reserved_test_buy_refused (&f->client, item, "ann", 1, NULL, RESERVE_ERROR_NOT_ON_SALE);
  reserve_reserve1_call_buy_with_details_sync (f->proxy, item, "ann", 1,
                                               reserved_test_options (NULL), G_DBUS_CALL_FLAGS_NONE,
                                               -1, &details, NULL, &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_NOT_ON_SALE);
  g_test_message ("refused as expected: %s", error->message);
  g_clear_error (&error);
  reserve_reserve1_call_hold_sync (f->proxy, item, "ann", 1, hold_options (),
                                   G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL, NULL, &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_NOT_ON_SALE);
  g_clear_error (&error);
  reserve_reserve1_call_hold_fd_sync (f->proxy, item, "ann", 1, reserved_test_options (NULL),
                                      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, &handle, NULL, NULL,
                                      &fds, NULL, &error);
  reserved_test_assert_api_error (error, RESERVE_ERROR_NOT_ON_SALE);
  reserved_test_assert_unchanged (&f->client, before);
  info_after = reserved_test_get_item_info (&f->client, item);
  g_assert_cmpvariant (info_after, info_before);
  g_assert_false (reserved_test_get_item (&f->client, item).on_sale);
  g_assert_cmpuint (reserved_test_get_item (&f->client, item).available, ==, 0);
}

/* --- StockChanged ---------------------------------------------------------------- */

/* item -> number of StockChanged */
typedef ReservedTestSignals Watch;

static void
on_stock_changed (GVariant *parameters, gpointer user_data)
{
  Watch *watch = user_data;
  const char *item;
  guint32 remaining;
  GVariant *count;

  g_variant_get (parameters, "(&su)", &item, &remaining);
  count = reserved_test_signals_get (watch, g_variant_new_string (item));
  reserved_test_signals_put (watch, g_variant_new_string (item),
                             g_variant_new_uint32 (
                               (count != NULL ? g_variant_get_uint32 (count) : 0) + 1));
}

/* Waits (bounded) for the next StockChanged of @item, and forgets it. */
static void
watch_wait (Watch *watch, const char *item)
{
  g_autoptr(GVariant) key = g_variant_ref_sink (g_variant_new_string (item));
  g_autofree char *what = g_strdup_printf ("StockChanged for %s", item);

  reserved_test_signals_wait (watch, key, what);
  g_hash_table_remove (watch->seen, key);
}

/* --- the wall clock ------------------------------------------------------------ */

static char *
clock_path (Fixture *f)
{
  return g_build_filename (reserved_test_daemon_get_tmpdir (f->daemon), "clock", NULL);
}

/* The daemon's wall clock @offset microseconds from the system's, as if
 * the system clock had been set (the hook's second number). */
static void
set_wall_offset (Fixture *f, gint64 offset)
{
  g_autofree char *path = clock_path (f);
  g_autofree char *text = g_strdup_printf ("0 %" G_GINT64_FORMAT "\n", offset);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static void
set_up_with_wall_clock (Fixture *f, gconstpointer config)
{
  g_autofree char *path = NULL;

  f->daemon = reserved_test_daemon_new ();
  path = clock_path (f);
  set_wall_offset (f, 0);
  reserved_test_daemon_set_env (f->daemon, "RESERVED_TEST_CLOCK_FILE", path);
  reserved_test_daemon_start (f->daemon);
  reserved_test_fixture_connect (f);
}

/* --- cases --------------------------------------------------------------------- */

/* The bounds themselves: the start is inside, the end is not. */
static void
test_bounds (void)
{
  const ReservedSaleWindow window = { .start = 1000, .end = 2000 };
  const ReservedSaleWindow from = { .start = 1000 };
  const ReservedSaleWindow until = { .end = 2000 };
  const ReservedSaleWindow none = { 0 };

  g_assert_false (reserved_sale_window_contains (&window, 999));
  g_assert_true (reserved_sale_window_contains (&window, 1000));
  g_assert_true (reserved_sale_window_contains (&window, 1999));
  g_assert_false (reserved_sale_window_contains (&window, 2000));
  g_assert_false (reserved_sale_window_contains (&from, 999));
  g_assert_true (reserved_sale_window_contains (&from, G_MAXINT64));
  g_assert_true (reserved_sale_window_contains (&until, 1));
  g_assert_false (reserved_sale_window_contains (&until, 2000));
  g_assert_true (reserved_sale_window_contains (&none, 0));
  g_assert_true (reserved_sale_window_contains (&none, G_MAXINT64));
}

/* A window given at creation: before it opens nothing is sold; GetItem
 * shows it; the listings still list the item. */
static void
test_create_with_window (Fixture *f, gconstpointer data)
{
  gint64 start = g_get_real_time () + DAY;
  gint64 end = start + DAY;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GVariant) items = NULL;
  g_autoptr(GError) error = NULL;
  gint64 value = 0;
  gboolean on_sale = TRUE;

  create_with_window (f, "gala", 10, start, end);
  info = reserved_test_get_item_info (&f->client, "gala");
  g_assert_true (g_variant_lookup (info, RESERVE_OPTION_SALE_START, "x", &value));
  g_assert_cmpint (value, ==, start);
  g_assert_true (g_variant_lookup (info, RESERVE_OPTION_SALE_END, "x", &value));
  g_assert_cmpint (value, ==, end);
  g_assert_true (g_variant_lookup (info, "on_sale", "b", &on_sale));
  g_assert_false (on_sale);
  assert_not_on_sale (f, "gala");
  reserve_reserve1_call_list_items_sync (f->proxy, G_DBUS_CALL_FLAGS_NONE, -1, &items, NULL,
                                         &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (items), ==, 2);

  /* Only an end: on sale until then. */
  create_with_window (f, "until", 10, 0, end);
  g_assert_true (reserved_test_get_item (&f->client, "until").on_sale);
  g_assert_cmpint (reserved_test_get_item (&f->client, "until").sale_start, ==, 0);
  g_assert_cmpint (reserved_test_get_item (&f->client, "until").sale_end, ==, end);
  reserved_test_buy (&f->client, "until", "ann", 2, NULL, NULL);
  /* An item without a window is on sale and shows no bounds. */
  g_assert_true (reserved_test_get_item (&f->client, "ticket").on_sale);
  g_assert_cmpint (reserved_test_get_item (&f->client, "ticket").sale_start, ==, 0);
}

/* SetSaleWindow: inside, before, after, and cleared. */
static void
test_set_window (Fixture *f, gconstpointer data)
{
  gint64 now = g_get_real_time ();
  ReservedTestItem item;

  reserved_test_create_item (&f->client, "show", 10, 0);
  set_window (f, "show", now - HOUR, now + HOUR);
  reserved_test_buy (&f->client, "show", "bob", 1, NULL, NULL);
  hold (f, "show", "bob", 1);

  set_window (f, "show", now + HOUR, now + 2 * HOUR);
  assert_not_on_sale (f, "show");
  set_window (f, "show", now - 2 * HOUR, now - HOUR);
  assert_not_on_sale (f, "show");
  set_window (f, "show", 0, now - HOUR);
  assert_not_on_sale (f, "show");

  /* Cleared: on sale again, no bounds shown. */
  set_window (f, "show", 0, 0);
  item = reserved_test_get_item (&f->client, "show");
  g_assert_true (item.on_sale);
  g_assert_cmpint (item.sale_start, ==, 0);
  g_assert_cmpint (item.sale_end, ==, 0);
  g_assert_cmpuint (item.available, ==, 8);
  reserved_test_buy (&f->client, "show", "bob", 1, NULL, NULL);
}

/* NotOnSale comes before LimitExceeded and SoldOut; a repeated
 * request_id is answered with its first order after the window closed. */
static void
test_precedence (Fixture *f, gconstpointer data)
{
  gint64 now = g_get_real_time ();
  guint64 first;

  reserved_test_create_item (&f->client, "last", 1, 1);
  first = reserved_test_buy (&f->client, "last", "cy", 1, "r1", NULL);
  set_window (f, "last", now - 2 * HOUR, now - HOUR);
  /* Past the per-user limit and sold out, yet the window is what is said. */
  reserved_test_buy_refused (&f->client, "last", "cy", 1, NULL, RESERVE_ERROR_NOT_ON_SALE);
  g_assert_cmpuint (reserved_test_buy (&f->client, "last", "cy", 1, "r1", NULL), ==, first);
  /* NoSuchItem before it. */
  reserved_test_buy_refused (&f->client, "missing", "cy", 1, NULL, RESERVE_ERROR_NO_SUCH_ITEM);
}

/* A hold taken inside the window is confirmed after it closed. */
static void
test_confirm_after_close (Fixture *f, gconstpointer data)
{
  gint64 now = g_get_real_time ();
  g_autoptr(GError) error = NULL;
  guint64 id, order = 0;

  create_with_window (f, "late", 5, now - HOUR, now + HOUR);
  id = hold (f, "late", "dee", 2);
  /* Each call reads the wall clock as it is. */
  set_wall_offset (f, 2 * HOUR);
  assert_not_on_sale (f, "late");
  reserve_reserve1_call_confirm_sync (f->proxy, id, reserved_test_options (NULL),
                                      G_DBUS_CALL_FLAGS_NONE, -1, &order, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (order, >, 0);
  g_assert_cmpuint (reserved_test_get_item (&f->client, "late").sold, ==, 2);
}

/* Each bad window is InvalidArgument naming the value, and changes
 * nothing. */
static void
test_bad_input (Fixture *f, gconstpointer data)
{
  gint64 now = g_get_real_time ();
  const struct {
    gint64 start, end;
    const char *says;
  } bad[] = {
    { now + HOUR, now, "is not before" },
    { now, now, "is not before" },
    { -1, 0, "-1" },
    { 0, G_MININT64, "no end" },
    { RESERVE_SALE_TIME_MAX + 1, 0, "year 9999" },
  };
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GVariant) after = NULL;

  create_with_window (f, "fair", 10, now - HOUR, now + HOUR);
  before = reserved_test_snapshot (&f->client);
  info = reserved_test_get_item_info (&f->client, "fair");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      reserve_reserve1_call_set_sale_window_sync (f->proxy, "fair", bad[i].start, bad[i].end,
                                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
      reserved_test_assert_api_error (error, RESERVE_ERROR_INVALID_ARGUMENT);
      g_test_message ("refused as expected: %s", error->message);
      g_assert_nonnull (strstr (error->message, bad[i].says));
      g_clear_error (&error);
      reserved_test_create_item_refused (&f->client, "fair2", 1,
                                         window_options (bad[i].start, bad[i].end),
                                         RESERVE_ERROR_INVALID_ARGUMENT);
    }
  /* A wrong type and an unknown option. */
  {
    g_auto(GVariantBuilder) wrong = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
    g_auto(GVariantBuilder) unknown = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

    g_variant_builder_add (&wrong, "{sv}", RESERVE_OPTION_SALE_START, g_variant_new_uint64 (1));
    reserved_test_create_item_refused (&f->client, "fair2", 1, g_variant_builder_end (&wrong),
                                       RESERVE_ERROR_INVALID_ARGUMENT);
    g_variant_builder_add (&unknown, "{sv}", "sale_begin", g_variant_new_int64 (1));
    reserved_test_create_item_refused (&f->client, "fair2", 1, g_variant_builder_end (&unknown),
                                       RESERVE_ERROR_INVALID_ARGUMENT);
  }
  /* No such item, and a retired one. */
  {
    g_autoptr(GError) error = NULL;

    reserve_reserve1_call_set_sale_window_sync (f->proxy, "nowhere", 0, 0, G_DBUS_CALL_FLAGS_NONE,
                                                -1, NULL, &error);
    reserved_test_assert_api_error (error, RESERVE_ERROR_NO_SUCH_ITEM);
  }
  reserved_test_assert_unchanged (&f->client, before);
  after = reserved_test_get_item_info (&f->client, "fair");
  g_assert_cmpvariant (after, info);
  {
    g_autoptr(GError) error = NULL;

    reserved_test_retire_item (&f->client, "fair");
    reserve_reserve1_call_set_sale_window_sync (f->proxy, "fair", 0, 0, G_DBUS_CALL_FLAGS_NONE, -1,
                                                NULL, &error);
    reserved_test_assert_api_error (error, RESERVE_ERROR_NO_SUCH_ITEM);
    g_assert_cmpint (reserved_test_get_item (&f->client, "fair").sale_start, ==, now - HOUR);
  }
}

/* The window is in the database: a restarted daemon keeps it. */
static void
test_restart (Fixture *f, gconstpointer data)
{
  gint64 start = g_get_real_time () + DAY;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GVariant) again = NULL;

  create_with_window (f, "kept", 3, start, 0);
  info = reserved_test_get_item_info (&f->client, "kept");
  reserved_test_fixture_restart (f);
  again = reserved_test_get_item_info (&f->client, "kept");
  g_assert_cmpvariant (again, info);
  assert_not_on_sale (f, "kept");
}

/* The wall clock set past the start opens the sale (StockChanged), and
 * set back before it closes it again; forward past the end closes it. */
static void
test_wall_clock_opens (Fixture *f, gconstpointer data)
{
  gint64 start = g_get_real_time () + DAY;
  Watch watch = { 0 };

  reserved_test_signals_watch (&watch, f->connection, "StockChanged", on_stock_changed);
  create_with_window (f, "dawn", 4, start, start + DAY);
  watch_wait (&watch, "dawn"); /* the creation's */
  assert_not_on_sale (f, "dawn");

  set_wall_offset (f, DAY + HOUR);
  watch_wait (&watch, "dawn");
  g_assert_true (reserved_test_get_item (&f->client, "dawn").on_sale);
  reserved_test_buy (&f->client, "dawn", "eve", 1, NULL, NULL);
  watch_wait (&watch, "dawn"); /* the purchase's */

  set_wall_offset (f, 0);
  watch_wait (&watch, "dawn");
  assert_not_on_sale (f, "dawn");

  set_wall_offset (f, 2 * DAY + HOUR);
  assert_not_on_sale (f, "dawn");
  reserved_test_signals_clear (&watch);
}

/* With no clock moved, the timer opens a window a second from now. */
static void
test_timer_opens (Fixture *f, gconstpointer data)
{
  Watch watch = { 0 };

  reserved_test_signals_watch (&watch, f->connection, "StockChanged", on_stock_changed);
  create_with_window (f, "soon", 4, g_get_real_time () + SECOND, 0);
  watch_wait (&watch, "soon"); /* the creation's */
  if (!reserved_test_get_item (&f->client, "soon").on_sale)
    watch_wait (&watch, "soon");
  g_assert_true (reserved_test_get_item (&f->client, "soon").on_sale);
  reserved_test_buy (&f->client, "soon", "fay", 1, NULL, NULL);
  reserved_test_signals_clear (&watch);
}

static void
add_cases (void)
{
#define ADD RESERVED_TEST_FIXTURE_ADD
#define ADD_CLOCK(path, func) \
  g_test_add (path, Fixture, NULL, set_up_with_wall_clock, func, reserved_test_fixture_tear_down)

  g_test_add_func ("/sale/bounds", test_bounds);
  ADD ("/sale/create-with-window", test_create_with_window);
  ADD ("/sale/set-window", test_set_window);
  ADD ("/sale/precedence", test_precedence);
  ADD ("/sale/bad-input", test_bad_input);
  ADD ("/sale/restart", test_restart);
  ADD ("/sale/timer-opens", test_timer_opens);
  ADD_CLOCK ("/sale/confirm-after-close", test_confirm_after_close);
  ADD_CLOCK ("/sale/wall-clock-opens", test_wall_clock_opens);

#undef ADD
#undef ADD_CLOCK
}

RESERVED_TEST_MAIN (add_cases, NULL)
