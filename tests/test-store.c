/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The store on its own: real SQLite files in a fresh temporary folder, no
 * bus and no mocks. Every case checks the law
 *
 *     remaining + sum(quantity of active orders) == capacity
 *
 * for every item, and every refused operation is checked to have changed
 * nothing. Files the store refuses to open must be left byte-identical. */
#include <errno.h>
#include <grp.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserved-store.h"
#include "reserved-test-files.h"
#include "reserved-test-error.h"
#include "reserved-test-main.h"
#include "reserved-test-sqlite.h"

#define ALICE_UID 1000
#define BOB_UID   1001

typedef struct {
  char *dir;            /* (owned) a fresh temporary folder */
  char *path;           /* (owned) dir/reserved.db */
  ReservedStore *store; /* (owned) (nullable) */
} Fixture;

/* --- files ----------------------------------------------------------------- */

static void
assert_file_is (const char *path, GBytes *expected)
{
  g_autoptr(GBytes) now = reserved_test_read_bytes (path);
  gsize now_length = 0, expected_length = 0;
  const void *now_data = g_bytes_get_data (now, &now_length);
  const void *expected_data = g_bytes_get_data (expected, &expected_length);

  g_assert_cmpmem (now_data, now_length, expected_data, expected_length);
}

/* The first column of the first row of @sql in @path, read through a
 * connection of the test's own, as another program would. */
static gint64
sqlite_query_int (const char *path, const char *sql)
{
  sqlite3 *db = reserved_test_sql_open (path, SQLITE_OPEN_READONLY);
  ReservedTestQuery q;
  gint64 value;

  reserved_test_query_start (&q, db, sql);
  value = reserved_test_query_int (&q);
  reserved_test_sql_close (db);
  return value;
}

/* --- the store ------------------------------------------------------------- */

static ReservedStore *
open_store (const char *path)
{
  g_autoptr(GError) error = NULL;

  return reserved_test_ok (reserved_store_open (path, RESERVE_DEFAULT_ITEM,
                                                RESERVE_DEFAULT_CAPACITY,
                                                RESERVE_BUSY_TIMEOUT_DEFAULT_MS, &error),
                           &error);
}

/* Opening @path with the defaults must fail with @domain/@code, the
 * message naming the file (and @also, when not NULL). */
static void
assert_path_refused (const char *path, GQuark domain, int code, const char *also)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ReservedStore) store = reserved_store_open (path, RESERVE_DEFAULT_ITEM, 100,
                                                         RESERVE_BUSY_TIMEOUT_DEFAULT_MS, &error);

  g_assert_null (store);
  g_assert_error (error, domain, code);
  reserved_test_assert_message_has (error, path);
  if (also != NULL)
    reserved_test_assert_message_has (error, also);
  g_test_message ("refused as expected: %s", error->message);
}

static void
fixture_set_up_empty (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("reserved-test-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "reserved.db", NULL);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  fixture_set_up_empty (f, data);
  f->store = open_store (f->path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->store);
  reserved_test_remove_tree (f->dir, TRUE);
  g_clear_pointer (&f->dir, g_free);
  g_clear_pointer (&f->path, g_free);
}

static void
fixture_reopen (Fixture *f)
{
  g_clear_object (&f->store);
  f->store = open_store (f->path);
}

static gboolean
buy (ReservedStore *store,
     const char *item,
     const char *user,
     guint32 quantity,
     uid_t caller,
     const char *request_id,
     ReservedReceipt *receipt,
     GError **error)
{
  ReservedPurchase purchase = {
    .item = item,
    .user = user,
    .quantity = quantity,
    .caller = caller,
    .request_id = request_id,
  };

  *receipt = (ReservedReceipt){ .order = 0, .remaining = G_MAXUINT32, .replayed = TRUE };
  return reserved_store_buy (store, &purchase, receipt, error);
}

/* A purchase that must succeed, take its units and leave @remaining. */
static guint64
buy_ok (ReservedStore *store,
        const char *item,
        const char *user,
        guint32 quantity,
        uid_t caller,
        guint32 remaining)
{
  g_autoptr(GError) error = NULL;
  ReservedReceipt receipt;

  g_assert_true (buy (store, item, user, quantity, caller, NULL, &receipt, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (receipt.order, >, 0);
  g_assert_cmpuint (receipt.remaining, ==, remaining);
  g_assert_false (receipt.replayed);
  return receipt.order;
}

static void
create_item (ReservedStore *store, const char *name, guint32 capacity, guint32 per_user_limit)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (reserved_store_create_item (store, name, capacity, per_user_limit, &error));
  g_assert_no_error (error);
}

static void
get_item (ReservedStore *store, const char *name, ReservedItem *out)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (reserved_store_get_item (store, name, out, &error));
  g_assert_no_error (error);
}

static guint32
remaining_of (ReservedStore *store, const char *name)
{
  ReservedItem item = { 0 };
  guint32 remaining;

  get_item (store, name, &item);
  remaining = item.remaining;
  reserved_item_clear (&item);
  return remaining;
}

static GArray *
list_orders (ReservedStore *store, const char *user, const uid_t *only_caller)
{
  g_autoptr(GError) error = NULL;

  return reserved_test_ok (reserved_store_list_orders (store, user, only_caller, &error), &error);
}

static GArray *
list_items (ReservedStore *store)
{
  g_autoptr(GError) error = NULL;

  return reserved_test_ok (reserved_store_list_items (store, &error), &error);
}

/* The law, for every item: its remaining units plus the units of its active
 * orders (summed from the orders themselves) make its capacity, and
 * GetItem's `sold` is that sum. Every order belongs to a listed item. */
static void
assert_law (ReservedStore *store)
{
  g_autoptr(GArray) items = list_items (store);
  g_autoptr(GArray) orders = list_orders (store, NULL, NULL);
  guint matched = 0;

  for (guint i = 0; i < items->len; i++)
    {
      const ReservedItem *item = &g_array_index (items, ReservedItem, i);
      ReservedItem info = { 0 };
      guint64 active = 0;

      for (guint j = 0; j < orders->len; j++)
        {
          const ReservedOrder *order = &g_array_index (orders, ReservedOrder, j);

          if (g_strcmp0 (order->item, item->name) != 0)
            continue;
          matched++;
          if (!order->cancelled)
            active += order->quantity;
        }
      g_assert_cmpuint ((guint64) item->remaining + active, ==, item->capacity);

      get_item (store, item->name, &info);
      g_assert_cmpuint (info.sold, ==, active);
      g_assert_cmpuint (info.remaining, ==, item->remaining);
      g_assert_cmpuint (info.capacity, ==, item->capacity);
      reserved_item_clear (&info);
    }
  g_assert_cmpuint (matched, ==, orders->len);
}

/* Everything a client can read, as text, to compare before and after a
 * refused operation. */
static char *
snapshot (ReservedStore *store)
{
  g_autoptr(GArray) items = list_items (store);
  g_autoptr(GArray) orders = list_orders (store, NULL, NULL);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < items->len; i++)
    {
      const ReservedItem *item = &g_array_index (items, ReservedItem, i);

      g_string_append_printf (out, "item %s capacity %u remaining %u limit %u\n", item->name,
                              item->capacity, item->remaining, item->per_user_limit);
    }
  for (guint i = 0; i < orders->len; i++)
    {
      const ReservedOrder *order = &g_array_index (orders, ReservedOrder, i);

      g_string_append_printf (out,
                              "order %" G_GUINT64_FORMAT
                              " %s × %u for %s by uid %u at %" G_GINT64_FORMAT " %s\n",
                              order->id, order->item, order->quantity, order->user,
                              (guint) order->caller, order->created,
                              order->cancelled ? "cancelled" : "active");
    }
  return g_string_free (out, FALSE);
}

/* After a refusal: nothing a client can see changed, and the law holds. */
static void
assert_unchanged (ReservedStore *store, const char *before)
{
  g_autofree char *after = snapshot (store);

  g_assert_cmpstr (after, ==, before);
  assert_law (store);
}

/* @purchase refused with @code, whose message names @needle (nullable),
 * leaving the store as it was. */
static void
buy_refused (ReservedStore *store, ReservedPurchase purchase, int code, const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = snapshot (store);
  ReservedReceipt receipt;

  g_assert_false (reserved_store_buy (store, &purchase, &receipt, &error));
  g_assert_error (error, RESERVE_ERROR, code);
  if (needle != NULL)
    reserved_test_assert_message_has (error, needle);
  assert_unchanged (store, before);
}

/* @store is as a new database is: its one item @name, of @capacity, all
 * of it left, with no limit; no orders. */
static void
assert_fresh (ReservedStore *store, const char *name, guint32 capacity)
{
  g_autoptr(GArray) items = list_items (store);
  g_autoptr(GArray) orders = list_orders (store, NULL, NULL);
  ReservedItem item = { 0 };

  g_assert_cmpuint (items->len, ==, 1);
  g_assert_cmpstr (g_array_index (items, ReservedItem, 0).name, ==, name);
  get_item (store, name, &item);
  g_assert_cmpuint (item.capacity, ==, capacity);
  g_assert_cmpuint (item.remaining, ==, capacity);
  g_assert_cmpuint (item.sold, ==, 0);
  g_assert_cmpuint (item.per_user_limit, ==, 0);
  reserved_item_clear (&item);
  g_assert_cmpuint (orders->len, ==, 0);
  assert_law (store);
}

/* --- opening --------------------------------------------------------------- */

static void
test_open_fresh (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ReservedStore) store = NULL;
  g_autofree char *path = g_build_filename (f->dir, "seats.db", NULL);

  /* The fixture's store: the default item with the default capacity. */
  g_assert_cmpstr (RESERVE_DEFAULT_ITEM, ==, "ticket");
  assert_fresh (f->store, "ticket", 100);
  g_assert_cmpstr (reserved_store_get_path (f->store), ==, f->path);

  /* A configured default item and capacity. */
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  store = reserved_store_open (path, "seat", 7, RESERVE_BUSY_TIMEOUT_DEFAULT_MS, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  assert_fresh (store, "seat", 7);

  /* The file is marked as reserved's. */
  g_clear_object (&store);
  g_assert_cmpint (sqlite_query_int (path, "PRAGMA application_id"), ==, 0x52535644);
}

static void
test_open_empty_file (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (f->store);
  g_assert_true (g_file_set_contents (f->path, "", 0, &error));
  g_assert_no_error (error);

  f->store = reserved_store_open (f->path, "seat", 0, RESERVE_BUSY_TIMEOUT_DEFAULT_MS, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
  assert_fresh (f->store, "seat", 0);
}

static void
copy_file (const char *from, const char *to)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (from, &contents, &length, &error));
  g_assert_true (g_file_set_contents (to, contents, (gssize) length, &error));
  g_assert_no_error (error);
}

/* The database was removed, but its write-ahead log (here another
 * database's, with frames not yet checkpointed) was not: SQLite would
 * replay it into whatever file comes to have that name. A fresh database
 * is made as if it were not there. */
static void
test_open_stale_log (Fixture *f, gconstpointer data)
{
  g_autofree char *other = g_build_filename (f->dir, "other.db", NULL);
  g_autofree char *other_wal = g_strconcat (other, "-wal", NULL);
  g_autofree char *other_shm = g_strconcat (other, "-shm", NULL);
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (f->path, "-shm", NULL);
  sqlite3 *db = NULL;

  g_assert_null (f->store);
  g_assert_cmpint (sqlite3_open (other, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
                                 "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; "
                                 "CREATE TABLE other_application (x); "
                                 "INSERT INTO other_application VALUES (1);",
                                 NULL, NULL, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (g_file_test (other_wal, G_FILE_TEST_EXISTS), ==, TRUE);
  copy_file (other_wal, wal);
  copy_file (other_shm, shm);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));

  f->store = open_store (f->path);
  assert_fresh (f->store, RESERVE_DEFAULT_ITEM, RESERVE_DEFAULT_CAPACITY);
  g_clear_object (&f->store);
  g_assert_cmpint (
    sqlite_query_int (f->path,
                      "SELECT count(*) FROM sqlite_schema WHERE name = 'other_application'"),
    ==, 0);
  g_assert_cmpint (sqlite_query_int (f->path, "PRAGMA application_id"), ==, 0x52535644);
}

static void
test_open_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *item_name = NULL;
  g_autofree char *after = NULL;
  ReservedItem item = { 0 };
  guint32 remaining = 0;
  guint64 first, last;
  ReservedReceipt receipt;

  create_item (f->store, "seat", 10, 3);
  first = buy_ok (f->store, "ticket", "alice", 2, ALICE_UID, 98);
  buy_ok (f->store, "seat", "bob", 3, BOB_UID, 7);
  g_assert_true (buy (f->store, "seat", "carol", 1, BOB_UID, "retry-1", &receipt, &error));
  g_assert_no_error (error);
  last = receipt.order;
  g_assert_true (reserved_store_cancel (f->store, first, &item_name, &remaining, &error));
  g_assert_no_error (error);
  g_assert_true (reserved_store_restock (f->store, "seat", 5, &remaining, &error));
  g_assert_no_error (error);
  before = snapshot (f->store);

  /* Reopening with other defaults creates nothing and changes nothing. */
  g_clear_object (&f->store);
  f->store = reserved_store_open (f->path, "other", 5, RESERVE_BUSY_TIMEOUT_DEFAULT_MS, &error);
  g_assert_no_error (error);
  after = snapshot (f->store);
  g_assert_cmpstr (after, ==, before);
  g_assert_false (reserved_store_get_item (f->store, "other", &item, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ITEM);
  g_clear_error (&error);
  assert_law (f->store);

  /* The request_id survived too, and so did the per-user limit. */
  g_assert_true (buy (f->store, "seat", "carol", 1, BOB_UID, "retry-1", &receipt, &error));
  g_assert_no_error (error);
  g_assert_true (receipt.replayed);
  g_assert_cmpuint (receipt.order, ==, last);
  buy_refused (f->store, (ReservedPurchase){ "seat", "bob", 1, BOB_UID, NULL },
               RESERVE_ERROR_LIMIT_EXCEEDED, NULL);
}

/* --- buying ---------------------------------------------------------------- */

static void
test_buy_basic (Fixture *f, gconstpointer data)
{
  g_autoptr(GArray) orders = NULL;
  gint64 start = g_get_real_time ();
  guint64 a, b, c;
  const ReservedOrder *order;

  a = buy_ok (f->store, "ticket", "alice", 1, ALICE_UID, 99);
  b = buy_ok (f->store, "ticket", "bob", 5, BOB_UID, 94);
  c = buy_ok (f->store, "ticket", "alice", 10, ALICE_UID, 84);
  g_assert_cmpuint (a, <, b);
  g_assert_cmpuint (b, <, c);
  g_assert_cmpuint (remaining_of (f->store, "ticket"), ==, 84);
  assert_law (f->store);

  /* What was recorded is what was asked. */
  orders = list_orders (f->store, "bob", NULL);
  g_assert_cmpuint (orders->len, ==, 1);
  order = &g_array_index (orders, ReservedOrder, 0);
  g_assert_cmpuint (order->id, ==, b);
  g_assert_cmpstr (order->item, ==, "ticket");
  g_assert_cmpstr (order->user, ==, "bob");
  g_assert_cmpuint (order->quantity, ==, 5);
  g_assert_cmpuint (order->caller, ==, BOB_UID);
  g_assert_false (order->cancelled);
  g_assert_cmpint (order->created, >=, start);
  g_assert_cmpint (order->created, <=, g_get_real_time ());
}

static void
test_buy_user_verbatim (Fixture *f, gconstpointer data)
{
  static const char *const users[] = {
    "'; DROP TABLE orders; --",
    "O'Brien \"the\" %s %n",
    "😀 émile",
    "alice",
  };
  ReservedOrder order = { 0 };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autoptr(GArray) orders = NULL;
      guint64 id = buy_ok (f->store, "ticket", users[i], 1, ALICE_UID, 99 - i);

      orders = list_orders (f->store, users[i], NULL);
      g_assert_cmpuint (orders->len, ==, 1);
      g_assert_cmpstr (g_array_index (orders, ReservedOrder, 0).user, ==, users[i]);
      g_assert_true (reserved_store_get_order (f->store, id, &order, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (order.user, ==, users[i]);
      reserved_order_clear (&order);
    }
  assert_law (f->store);
}

static void
test_buy_ids_never_reused (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *item = NULL;
  guint32 remaining = 0;
  guint64 ids[4];

  ids[0] = buy_ok (f->store, "ticket", "alice", 1, ALICE_UID, 99);
  ids[1] = buy_ok (f->store, "ticket", "alice", 1, ALICE_UID, 98);
  ids[2] = buy_ok (f->store, "ticket", "alice", 1, ALICE_UID, 97);

  /* The newest order is cancelled and the file reopened: its id stays
   * taken. */
  g_assert_true (reserved_store_cancel (f->store, ids[2], &item, &remaining, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (remaining, ==, 98);
  fixture_reopen (f);
  ids[3] = buy_ok (f->store, "ticket", "bob", 1, BOB_UID, 97);
  g_assert_cmpuint (ids[0], <, ids[1]);
  g_assert_cmpuint (ids[1], <, ids[2]);
  g_assert_cmpuint (ids[2], <, ids[3]);
  assert_law (f->store);
}

static void
test_buy_sold_out (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ReservedReceipt receipt;

  create_item (f->store, "seat", 3, 0);
  buy_ok (f->store, "seat", "alice", 2, ALICE_UID, 1);

  /* Two asked, one left: nothing is taken. */
  buy_refused (f->store, (ReservedPurchase){ "seat", "bob", 2, BOB_UID, NULL },
               RESERVE_ERROR_SOLD_OUT, "seat");

  /* The largest quantity there is. */
  buy_refused (f->store,
               (ReservedPurchase){ "seat", "bob", RESERVE_BUY_QUANTITY_MAX, BOB_UID, NULL },
               RESERVE_ERROR_SOLD_OUT, NULL);

  /* A refused purchase does not use up its request_id. */
  buy_refused (f->store, (ReservedPurchase){ "seat", "bob", 2, BOB_UID, "late" },
               RESERVE_ERROR_SOLD_OUT, NULL);

  /* An item with capacity 0 is not on sale yet. */
  create_item (f->store, "empty", 0, 0);
  buy_refused (f->store, (ReservedPurchase){ "empty", "bob", 1, BOB_UID, NULL },
               RESERVE_ERROR_SOLD_OUT, NULL);

  g_assert_true (reserved_store_restock (f->store, "seat", 1, &receipt.remaining, &error));
  g_assert_no_error (error);
  g_assert_true (buy (f->store, "seat", "bob", 2, BOB_UID, "late", &receipt, &error));
  g_assert_no_error (error);
  g_assert_false (receipt.replayed);
  g_assert_cmpuint (receipt.remaining, ==, 0);
  assert_law (f->store);
}

static void
test_buy_exact_remaining (Fixture *f, gconstpointer data)
{
  buy_ok (f->store, "ticket", "alice", 37, ALICE_UID, 63);
  buy_ok (f->store, "ticket", "bob", 63, BOB_UID, 0);
  assert_law (f->store);

  buy_refused (f->store, (ReservedPurchase){ "ticket", "carol", 1, ALICE_UID, NULL },
               RESERVE_ERROR_SOLD_OUT, NULL);
}

static void
test_buy_no_such_item (Fixture *f, gconstpointer data)
{
  buy_refused (f->store, (ReservedPurchase){ "tickets", "alice", 1, ALICE_UID, "r" },
               RESERVE_ERROR_NO_SUCH_ITEM, "tickets");
}

static void
test_buy_per_user_limit (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *item = NULL;
  guint32 remaining = 0;
  guint64 first;

  create_item (f->store, "seat", 100, 3);
  first = buy_ok (f->store, "seat", "alice", 2, ALICE_UID, 98);

  /* 2 held + 2 asked > 3. */
  buy_refused (f->store, (ReservedPurchase){ "seat", "alice", 2, ALICE_UID, NULL },
               RESERVE_ERROR_LIMIT_EXCEEDED, "alice");

  /* The limit counts the user name, whoever the caller is. */
  buy_refused (f->store, (ReservedPurchase){ "seat", "alice", 2, BOB_UID, NULL },
               RESERVE_ERROR_LIMIT_EXCEEDED, NULL);

  /* Exactly up to the limit is fine, from any caller; one more is not. */
  buy_ok (f->store, "seat", "alice", 1, BOB_UID, 97);
  buy_refused (f->store, (ReservedPurchase){ "seat", "alice", 1, ALICE_UID, NULL },
               RESERVE_ERROR_LIMIT_EXCEEDED, NULL);

  /* Other customers and other items are not affected. */
  buy_ok (f->store, "seat", "bob", 3, ALICE_UID, 94);
  buy_ok (f->store, "ticket", "alice", 10, ALICE_UID, 90);

  /* The smallest limit there is. */
  create_item (f->store, "one-each", 10, 1);
  buy_ok (f->store, "one-each", "alice", 1, ALICE_UID, 9);
  buy_refused (f->store, (ReservedPurchase){ "one-each", "alice", 1, ALICE_UID, NULL },
               RESERVE_ERROR_LIMIT_EXCEEDED, NULL);

  /* Cancelled orders do not count. */
  g_assert_true (reserved_store_cancel (f->store, first, &item, &remaining, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (remaining, ==, 96);
  buy_ok (f->store, "seat", "alice", 2, ALICE_UID, 94);
  buy_refused (f->store, (ReservedPurchase){ "seat", "alice", 1, ALICE_UID, NULL },
               RESERVE_ERROR_LIMIT_EXCEEDED, NULL);
}

static void
test_buy_replay (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *item = NULL;
  ReservedReceipt receipt;
  ReservedOrder order = { 0 };
  guint32 remaining = 0;
  guint64 first;

  g_assert_true (buy (f->store, "ticket", "alice", 2, ALICE_UID, "r1", &receipt, &error));
  g_assert_no_error (error);
  g_assert_false (receipt.replayed);
  g_assert_cmpuint (receipt.remaining, ==, 98);
  first = receipt.order;
  buy_ok (f->store, "ticket", "bob", 3, BOB_UID, 95);

  /* The retry takes nothing and answers with the first order and the
   * current stock. */
  before = snapshot (f->store);
  g_assert_true (buy (f->store, "ticket", "alice", 2, ALICE_UID, "r1", &receipt, &error));
  g_assert_no_error (error);
  g_assert_true (receipt.replayed);
  g_assert_cmpuint (receipt.order, ==, first);
  g_assert_cmpuint (receipt.remaining, ==, 95);
  assert_unchanged (f->store, before);

  /* Even after the first order was cancelled. */
  g_assert_true (reserved_store_cancel (f->store, first, &item, &remaining, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (remaining, ==, 97);
  g_free (before);
  before = snapshot (f->store);
  g_assert_true (buy (f->store, "ticket", "alice", 2, ALICE_UID, "r1", &receipt, &error));
  g_assert_no_error (error);
  g_assert_true (receipt.replayed);
  g_assert_cmpuint (receipt.order, ==, first);
  g_assert_cmpuint (receipt.remaining, ==, 97);
  assert_unchanged (f->store, before);
  g_assert_true (reserved_store_get_order (f->store, first, &order, &error));
  g_assert_no_error (error);
  g_assert_true (order.cancelled);
  reserved_order_clear (&order);
}

static void
test_buy_replay_refusals_do_not_apply (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  ReservedReceipt receipt;
  guint64 sold_out, limited;

  /* A retry of the purchase that sold the item out is still answered. */
  create_item (f->store, "last", 1, 0);
  g_assert_true (buy (f->store, "last", "alice", 1, ALICE_UID, "s", &receipt, &error));
  g_assert_no_error (error);
  sold_out = receipt.order;
  g_assert_cmpuint (receipt.remaining, ==, 0);

  /* So is a retry of one that reached the customer's limit. */
  create_item (f->store, "limited", 10, 2);
  g_assert_true (buy (f->store, "limited", "alice", 2, ALICE_UID, "l", &receipt, &error));
  g_assert_no_error (error);
  limited = receipt.order;

  before = snapshot (f->store);
  g_assert_true (buy (f->store, "last", "alice", 1, ALICE_UID, "s", &receipt, &error));
  g_assert_no_error (error);
  g_assert_true (receipt.replayed);
  g_assert_cmpuint (receipt.order, ==, sold_out);
  g_assert_cmpuint (receipt.remaining, ==, 0);
  g_assert_true (buy (f->store, "limited", "alice", 2, ALICE_UID, "l", &receipt, &error));
  g_assert_no_error (error);
  g_assert_true (receipt.replayed);
  g_assert_cmpuint (receipt.order, ==, limited);
  g_assert_cmpuint (receipt.remaining, ==, 8);
  assert_unchanged (f->store, before);
}

static void
test_buy_replay_other_caller (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ReservedReceipt receipt;
  guint64 alices, bobs;

  g_assert_true (buy (f->store, "ticket", "alice", 2, ALICE_UID, "same", &receipt, &error));
  g_assert_no_error (error);
  alices = receipt.order;

  /* The same key from another uid is another purchase. */
  g_assert_true (buy (f->store, "ticket", "alice", 2, BOB_UID, "same", &receipt, &error));
  g_assert_no_error (error);
  g_assert_false (receipt.replayed);
  g_assert_cmpuint (receipt.remaining, ==, 96);
  bobs = receipt.order;
  g_assert_cmpuint (bobs, !=, alices);

  /* Each caller's retry finds its own order. */
  g_assert_true (buy (f->store, "ticket", "alice", 2, ALICE_UID, "same", &receipt, &error));
  g_assert_no_error (error);
  g_assert_true (receipt.replayed);
  g_assert_cmpuint (receipt.order, ==, alices);
  g_assert_true (buy (f->store, "ticket", "alice", 2, BOB_UID, "same", &receipt, &error));
  g_assert_no_error (error);
  g_assert_true (receipt.replayed);
  g_assert_cmpuint (receipt.order, ==, bobs);
  g_assert_cmpuint (remaining_of (f->store, "ticket"), ==, 96);
  assert_law (f->store);
}

static void
test_buy_replay_different_args (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  ReservedReceipt receipt;

  create_item (f->store, "seat", 10, 0);
  g_assert_true (buy (f->store, "ticket", "alice", 2, ALICE_UID, "key-7", &receipt, &error));
  g_assert_no_error (error);

  /* Another item, another user, another quantity: each refused. */
  buy_refused (f->store, (ReservedPurchase){ "seat", "alice", 2, ALICE_UID, "key-7" },
               RESERVE_ERROR_INVALID_ARGUMENT, "key-7");

  buy_refused (f->store, (ReservedPurchase){ "ticket", "bob", 2, ALICE_UID, "key-7" },
               RESERVE_ERROR_INVALID_ARGUMENT, NULL);

  buy_refused (f->store, (ReservedPurchase){ "ticket", "alice", 3, ALICE_UID, "key-7" },
               RESERVE_ERROR_INVALID_ARGUMENT, NULL);

  /* Even for an item that does not exist. */
  buy_refused (f->store, (ReservedPurchase){ "nothing", "alice", 2, ALICE_UID, "key-7" },
               RESERVE_ERROR_INVALID_ARGUMENT, NULL);
}

/* --- cancelling ------------------------------------------------------------ */

static void
test_cancel (Fixture *f, gconstpointer data)
{
  static const guint64 missing[] = {
    0, 3, 1000, (guint64) G_MAXINT64, (guint64) G_MAXINT64 + 1, G_MAXUINT64,
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *item = NULL;
  g_autoptr(GArray) orders = NULL;
  ReservedOrder order = { 0 };
  guint32 remaining = 0;
  guint64 a, b;

  create_item (f->store, "seat", 10, 0);
  a = buy_ok (f->store, "ticket", "alice", 4, ALICE_UID, 96);
  b = buy_ok (f->store, "seat", "alice", 10, ALICE_UID, 0);
  g_assert_cmpuint (b, ==, a + 1);

  /* The units go back to their item, and the answer names it. */
  g_assert_true (reserved_store_cancel (f->store, b, &item, &remaining, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (item, ==, "seat");
  g_assert_cmpuint (remaining, ==, 10);
  g_assert_cmpuint (remaining_of (f->store, "seat"), ==, 10);
  g_assert_cmpuint (remaining_of (f->store, "ticket"), ==, 96);
  assert_law (f->store);

  /* The order is kept, marked cancelled. */
  g_assert_true (reserved_store_get_order (f->store, b, &order, &error));
  g_assert_no_error (error);
  g_assert_true (order.cancelled);
  g_assert_cmpuint (order.quantity, ==, 10);
  reserved_order_clear (&order);

  /* Twice is refused, and gives nothing back twice. */
  before = snapshot (f->store);
  g_clear_pointer (&item, g_free);
  g_assert_false (reserved_store_cancel (f->store, b, &item, &remaining, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_ALREADY_CANCELLED);
  g_assert_null (item);
  g_clear_error (&error);
  assert_unchanged (f->store, before);

  for (guint i = 0; i < G_N_ELEMENTS (missing); i++)
    {
      g_autofree char *id = g_strdup_printf ("%" G_GUINT64_FORMAT, missing[i]);

      g_assert_false (reserved_store_cancel (f->store, missing[i], &item, &remaining, &error));
      g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ORDER);
      reserved_test_assert_message_has (error, id);
      g_assert_null (item);
      g_clear_error (&error);
      g_assert_false (reserved_store_get_order (f->store, missing[i], &order, &error));
      g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ORDER);
      g_clear_error (&error);
      assert_unchanged (f->store, before);
    }

  orders = list_orders (f->store, "alice", NULL);
  g_assert_cmpuint (orders->len, ==, 2);
  g_assert_false (g_array_index (orders, ReservedOrder, 0).cancelled);
  g_assert_true (g_array_index (orders, ReservedOrder, 1).cancelled);
}

/* --- reading --------------------------------------------------------------- */

static void
test_get_item (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *item_name = NULL;
  ReservedItem item = { 0 };
  guint32 remaining = 0;
  guint64 cancelled;

  create_item (f->store, "seat", 50, 7);
  buy_ok (f->store, "seat", "alice", 5, ALICE_UID, 45);
  cancelled = buy_ok (f->store, "seat", "bob", 7, BOB_UID, 38);
  buy_ok (f->store, "seat", "carol", 1, BOB_UID, 37);
  buy_ok (f->store, "ticket", "alice", 20, ALICE_UID, 80);
  g_assert_true (reserved_store_cancel (f->store, cancelled, &item_name, &remaining, &error));
  g_assert_no_error (error);
  g_assert_true (reserved_store_restock (f->store, "seat", 10, &remaining, &error));
  g_assert_no_error (error);

  get_item (f->store, "seat", &item);
  g_assert_cmpstr (item.name, ==, "seat");
  g_assert_cmpuint (item.capacity, ==, 60);
  g_assert_cmpuint (item.remaining, ==, 54);
  g_assert_cmpuint (item.sold, ==, 6);
  g_assert_cmpuint (item.per_user_limit, ==, 7);
  reserved_item_clear (&item);
  assert_law (f->store);

  g_assert_false (reserved_store_get_item (f->store, "seats", &item, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ITEM);
  reserved_test_assert_message_has (error, "seats");
  g_assert_null (item.name);
}

static void
test_list_items (Fixture *f, gconstpointer data)
{
  static const char *const names[] = { "zeta", "Alpha", "beta", "10-rows", "b", "alpha" };
  g_autoptr(GArray) items = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    create_item (f->store, names[i], 10 * (i + 1), i);
  buy_ok (f->store, "zeta", "alice", 3, ALICE_UID, 7);

  items = list_items (f->store);
  g_assert_cmpuint (items->len, ==, G_N_ELEMENTS (names) + 1);
  for (guint i = 1; i < items->len; i++)
    g_assert_cmpint (strcmp (g_array_index (items, ReservedItem, i - 1).name,
                             g_array_index (items, ReservedItem, i).name),
                     <, 0);
  g_assert_cmpstr (g_array_index (items, ReservedItem, 0).name, ==, "10-rows");
  g_assert_cmpstr (g_array_index (items, ReservedItem, items->len - 1).name, ==, "zeta");
  g_assert_cmpuint (g_array_index (items, ReservedItem, items->len - 1).capacity, ==, 10);
  g_assert_cmpuint (g_array_index (items, ReservedItem, items->len - 1).remaining, ==, 7);
  g_assert_cmpuint (g_array_index (items, ReservedItem, 1).per_user_limit, ==, 1);
  assert_law (f->store);
}

static void
assert_order_ids (GArray *orders, const guint64 *ids, guint n_ids)
{
  g_assert_cmpuint (orders->len, ==, n_ids);
  for (guint i = 0; i < n_ids; i++)
    g_assert_cmpuint (g_array_index (orders, ReservedOrder, i).id, ==, ids[i]);
}

static void
test_list_orders (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *item = NULL;
  g_autofree char *sql = NULL;
  uid_t alice_uid = ALICE_UID, bob_uid = BOB_UID, nobody_uid = 4242;
  guint32 remaining = 0;
  guint64 o[5];

  create_item (f->store, "seat", 10, 0);
  o[0] = buy_ok (f->store, "ticket", "alice", 1, ALICE_UID, 99);
  o[1] = buy_ok (f->store, "seat", "bob", 2, BOB_UID, 8);
  o[2] = buy_ok (f->store, "seat", "alice", 3, BOB_UID, 5);
  o[3] = buy_ok (f->store, "ticket", "alice", 4, ALICE_UID, 95);
  o[4] = buy_ok (f->store, "ticket", "bob", 5, ALICE_UID, 90);
  g_assert_true (reserved_store_cancel (f->store, o[3], &item, &remaining, &error));
  g_assert_no_error (error);

  /* By customer, whoever placed them; oldest first. */
  {
    g_autoptr(GArray) orders = list_orders (f->store, "alice", NULL);
    const guint64 ids[] = { o[0], o[2], o[3] };
    const ReservedOrder *cancelled = &g_array_index (orders, ReservedOrder, 2);

    assert_order_ids (orders, ids, G_N_ELEMENTS (ids));
    g_assert_cmpstr (g_array_index (orders, ReservedOrder, 1).item, ==, "seat");
    g_assert_cmpuint (g_array_index (orders, ReservedOrder, 1).caller, ==, BOB_UID);
    g_assert_false (g_array_index (orders, ReservedOrder, 1).cancelled);
    g_assert_true (cancelled->cancelled);
    g_assert_cmpstr (cancelled->item, ==, "ticket");
    g_assert_cmpuint (cancelled->quantity, ==, 4);
  }
  /* Only what one caller placed. */
  {
    g_autoptr(GArray) orders = list_orders (f->store, "alice", &alice_uid);
    const guint64 ids[] = { o[0], o[3] };

    assert_order_ids (orders, ids, G_N_ELEMENTS (ids));
  }
  {
    g_autoptr(GArray) orders = list_orders (f->store, "bob", &alice_uid);
    const guint64 ids[] = { o[4] };

    assert_order_ids (orders, ids, G_N_ELEMENTS (ids));
  }
  {
    g_autoptr(GArray) orders = list_orders (f->store, "bob", &nobody_uid);

    g_assert_cmpuint (orders->len, ==, 0);
  }
  /* Every customer; every customer of one caller; nobody's orders. */
  {
    g_autoptr(GArray) orders = list_orders (f->store, NULL, NULL);

    assert_order_ids (orders, o, G_N_ELEMENTS (o));
  }
  {
    g_autoptr(GArray) orders = list_orders (f->store, NULL, &bob_uid);
    const guint64 ids[] = { o[1], o[2] };

    assert_order_ids (orders, ids, G_N_ELEMENTS (ids));
  }
  {
    g_autoptr(GArray) orders = list_orders (f->store, "carol", NULL);

    g_assert_cmpuint (orders->len, ==, 0);
  }

  /* Oldest first is by the time of purchase, ties by id, even when the
   * clock went back between purchases. */
  sql = g_strdup_printf ("UPDATE orders SET created = 2000 WHERE id = %" G_GUINT64_FORMAT ";"
                         "UPDATE orders SET created = 1000 WHERE id IN (%" G_GUINT64_FORMAT
                         ", %" G_GUINT64_FORMAT ");",
                         o[0], o[3], o[2]);
  reserved_test_sql_exec_file (f->path, sql);
  {
    g_autoptr(GArray) orders = list_orders (f->store, "alice", NULL);
    const guint64 ids[] = { o[2], o[3], o[0] };

    assert_order_ids (orders, ids, G_N_ELEMENTS (ids));
    g_assert_cmpint (g_array_index (orders, ReservedOrder, 0).created, ==, 1000);
    g_assert_cmpint (g_array_index (orders, ReservedOrder, 2).created, ==, 2000);
  }
  {
    g_autoptr(GArray) orders = list_orders (f->store, NULL, NULL);
    const guint64 ids[] = { o[2], o[3], o[0], o[1], o[4] };

    assert_order_ids (orders, ids, G_N_ELEMENTS (ids));
  }
  assert_law (f->store);
}

/* --- items ----------------------------------------------------------------- */

static void
test_create_item (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  ReservedItem item = { 0 };
  guint32 remaining = 0;

  create_item (f->store, "seat", 20, 4);
  get_item (f->store, "seat", &item);
  g_assert_cmpuint (item.capacity, ==, 20);
  g_assert_cmpuint (item.remaining, ==, 20);
  g_assert_cmpuint (item.sold, ==, 0);
  g_assert_cmpuint (item.per_user_limit, ==, 4);
  reserved_item_clear (&item);
  buy_ok (f->store, "seat", "alice", 4, ALICE_UID, 16);

  /* An existing name is refused and the item keeps its stock. */
  before = snapshot (f->store);
  g_assert_false (reserved_store_create_item (f->store, "seat", 500, 0, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_ITEM_EXISTS);
  reserved_test_assert_message_has (error, "seat");
  g_clear_error (&error);
  assert_unchanged (f->store, before);
  g_assert_false (reserved_store_create_item (f->store, RESERVE_DEFAULT_ITEM, 1, 0, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_ITEM_EXISTS);
  g_clear_error (&error);
  assert_unchanged (f->store, before);

  /* Capacity 0: listed, not on sale until restocked. */
  create_item (f->store, "soon", 0, 0);
  get_item (f->store, "soon", &item);
  g_assert_cmpuint (item.capacity, ==, 0);
  g_assert_cmpuint (item.remaining, ==, 0);
  reserved_item_clear (&item);
  g_assert_true (reserved_store_restock (f->store, "soon", 2, &remaining, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (remaining, ==, 2);
  buy_ok (f->store, "soon", "bob", 2, BOB_UID, 0);

  /* The largest capacity there is. */
  create_item (f->store, "stadium", RESERVE_CAPACITY_MAX, 0);
  buy_ok (f->store, "stadium", "bob", RESERVE_BUY_QUANTITY_MAX, BOB_UID,
          RESERVE_CAPACITY_MAX - RESERVE_BUY_QUANTITY_MAX);
  assert_law (f->store);

  /* It lasts. */
  g_free (before);
  before = snapshot (f->store);
  fixture_reopen (f);
  assert_unchanged (f->store, before);
}

static void
test_restock (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  ReservedItem item = { 0 };
  guint32 remaining = G_MAXUINT32;

  buy_ok (f->store, "ticket", "alice", 30, ALICE_UID, 70);
  g_assert_true (reserved_store_restock (f->store, "ticket", 5, &remaining, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (remaining, ==, 75);
  get_item (f->store, "ticket", &item);
  g_assert_cmpuint (item.capacity, ==, 105);
  g_assert_cmpuint (item.remaining, ==, 75);
  g_assert_cmpuint (item.sold, ==, 30);
  reserved_item_clear (&item);
  assert_law (f->store);

  before = snapshot (f->store);
  remaining = G_MAXUINT32;
  g_assert_false (reserved_store_restock (f->store, "tickets", 5, &remaining, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_NO_SUCH_ITEM);
  reserved_test_assert_message_has (error, "tickets");
  g_clear_error (&error);
  assert_unchanged (f->store, before);

  /* Capacity may reach 1000000000, and not one unit more. */
  create_item (f->store, "big", RESERVE_CAPACITY_MAX - RESERVE_RESTOCK_QUANTITY_MAX, 0);
  buy_ok (f->store, "big", "alice", 1, ALICE_UID,
          RESERVE_CAPACITY_MAX - RESERVE_RESTOCK_QUANTITY_MAX - 1);
  g_assert_true (
    reserved_store_restock (f->store, "big", RESERVE_RESTOCK_QUANTITY_MAX - 1, &remaining, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (remaining, ==, RESERVE_CAPACITY_MAX - 2);
  g_free (before);
  before = snapshot (f->store);
  g_assert_false (reserved_store_restock (f->store, "big", 2, &remaining, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT);
  reserved_test_assert_message_has (error, "big");
  reserved_test_assert_message_has (error, "1000000000");
  g_clear_error (&error);
  assert_unchanged (f->store, before);
  g_assert_false (
    reserved_store_restock (f->store, "big", RESERVE_RESTOCK_QUANTITY_MAX, &remaining, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_unchanged (f->store, before);

  g_assert_true (reserved_store_restock (f->store, "big", 1, &remaining, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (remaining, ==, RESERVE_CAPACITY_MAX - 1);
  get_item (f->store, "big", &item);
  g_assert_cmpuint (item.capacity, ==, RESERVE_CAPACITY_MAX);
  reserved_item_clear (&item);
  g_free (before);
  before = snapshot (f->store);
  g_assert_false (reserved_store_restock (f->store, "big", 1, &remaining, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT);
  assert_unchanged (f->store, before);
}

/* --- refusals at open ------------------------------------------------------ */

/* Opening @f->path must fail with @domain/@code, name the file (and
 * @also, when not NULL), and leave its bytes as they were. */
static void
assert_open_refused (Fixture *f, GQuark domain, int code, const char *also)
{
  g_autoptr(GBytes) before = reserved_test_read_bytes (f->path);

  assert_path_refused (f->path, domain, code, also);
  assert_file_is (f->path, before);
}

/* A reserved database with some orders, closed. */
static void
make_reserved_database (Fixture *f, guint n_orders)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *item = NULL;
  guint32 remaining = 0;

  f->store = open_store (f->path);
  for (guint i = 0; i < n_orders; i++)
    {
      g_autofree char *user = g_strdup_printf ("customer-%u", i);
      buy_ok (f->store, "ticket", user, 1, ALICE_UID, 99 - i);
    }
  if (n_orders > 0)
    {
      g_assert_true (reserved_store_cancel (f->store, 1, &item, &remaining, &error));
      g_assert_no_error (error);
    }
  g_clear_object (&f->store);
}

static void
test_refuse_not_sqlite (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char text[] = "[reserved]\nDefaultItem=ticket\n# not a database at all\n";

  g_assert_true (g_file_set_contents (f->path, text, -1, &error));
  g_assert_no_error (error);
  assert_open_refused (f, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, NULL);

  /* Shorter than an SQLite header. */
  g_assert_true (g_file_set_contents (f->path, "SQLite", -1, &error));
  g_assert_no_error (error);
  assert_open_refused (f, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, NULL);
}

static void
test_refuse_other_application (Fixture *f, gconstpointer data)
{
  reserved_test_sql_exec_file (f->path, "PRAGMA application_id = 1179402567;"
                                        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
                                        "INSERT INTO notes (body) VALUES ('keep me');");
  assert_open_refused (f, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, NULL);
  g_assert_cmpint (sqlite_query_int (f->path, "SELECT count(*) FROM notes"), ==, 1);
}

static void
test_refuse_unmarked_sqlite (Fixture *f, gconstpointer data)
{
  /* Even one whose tables look like ours: without the mark it is not. */
  reserved_test_sql_exec_file (f->path,
                               "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);"
                               "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT);"
                               "INSERT INTO items (name) VALUES ('ticket');");
  assert_open_refused (f, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, NULL);
}

static void
test_refuse_damaged_page (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  gsize length = 0;
  gint64 page_size, page;

  make_reserved_database (f, 50);
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));

  /* Scribble over the first page of the index of orders by customer. */
  page_size = sqlite_query_int (f->path, "PRAGMA page_size");
  page = sqlite_query_int (f->path,
                           "SELECT rootpage FROM sqlite_schema WHERE name = 'orders_by_customer'");
  g_assert_cmpint (page, >, 1);
  g_file_get_contents (f->path, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpint ((gint64) length, >=, page * page_size);
  memset (contents + (page - 1) * page_size, 0xa5, (gsize) page_size);
  g_file_set_contents (f->path, contents, (gssize) length, &error);
  g_assert_no_error (error);

  assert_open_refused (f, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "integrity check");
}

static void
test_refuse_newer_schema (Fixture *f, gconstpointer data)
{
  make_reserved_database (f, 3);
  reserved_test_sql_exec_file (f->path, "PRAGMA user_version = 99");
  assert_open_refused (f, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, NULL);

  /* The same file with its own version is served. */
  reserved_test_sql_exec_file (f->path, "PRAGMA user_version = 5");
  f->store = open_store (f->path);
  g_assert_cmpuint (remaining_of (f->store, "ticket"), ==, 98);
  assert_law (f->store);
}

/* A database of schema version 4, before the waitlist, is migrated: its
 * orders stay, its items' offers last the default hour, nobody waits, and
 * units are sold as before. */
static void
test_open_migrate_waitlist (Fixture *f, gconstpointer data)
{
  ReservedItem item = { 0 };

  make_reserved_database (f, 3);
  reserved_test_sql_exec_file (f->path, "DROP TABLE waitlist; ALTER TABLE items DROP COLUMN "
                                        "offer_seconds; PRAGMA user_version = 4");
  f->store = open_store (f->path);
  get_item (f->store, "ticket", &item);
  g_assert_cmpuint (item.remaining, ==, 98);
  g_assert_cmpuint (item.remaining + item.sold, ==, item.capacity);
  g_assert_cmpuint (item.waiting, ==, 0);
  g_assert_cmpuint (item.offer_seconds, ==, 3600);
  g_assert_cmpuint (item.available, ==, 98);
  reserved_item_clear (&item);
  buy_ok (f->store, "ticket", "after", 1, ALICE_UID, 97);
  assert_law (f->store);
}

/* A database of schema version 2, before items could be retired, is
 * migrated: its items are on sale and may then be retired. */
static void
test_open_migrate_retired (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) items = NULL;
  ReservedItem item = { 0 };

  make_reserved_database (f, 3);
  reserved_test_sql_exec_file (f->path, "DROP TABLE waitlist; ALTER TABLE items DROP COLUMN"
                                        " offer_seconds;"
                                        " ALTER TABLE items DROP COLUMN sale_end;"
                                        " ALTER TABLE items DROP COLUMN sale_start;"
                                        " ALTER TABLE items DROP COLUMN retired;"
                                        " PRAGMA user_version = 2");
  f->store = open_store (f->path);
  g_assert_cmpuint (remaining_of (f->store, "ticket"), ==, 98);
  get_item (f->store, "ticket", &item);
  g_assert_false (item.retired);
  reserved_item_clear (&item);
  g_assert_true (reserved_store_retire_item (f->store, "ticket", &error));
  g_assert_no_error (error);
  get_item (f->store, "ticket", &item);
  g_assert_true (item.retired);
  g_assert_cmpuint (item.remaining, ==, 98);
  g_assert_cmpuint (item.remaining + item.sold, ==, item.capacity);
  reserved_item_clear (&item);
  items = reserved_store_list_items (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 0);
}

static void
test_refuse_missing_folder (Fixture *f, gconstpointer data)
{
  g_autofree char *folder = g_build_filename (f->dir, "missing", NULL);
  g_autofree char *path = g_build_filename (folder, "reserved.db", NULL);

  assert_path_refused (path, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, NULL);
  g_assert_false (g_file_test (folder, G_FILE_TEST_EXISTS));
}

static void
test_refuse_directory (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (g_mkdir (f->path, 0700), ==, 0);
  assert_path_refused (f->path, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, NULL);
  g_assert_true (g_file_test (f->path, G_FILE_TEST_IS_DIR));
}

/* A new database is renamed into place, which would replace a link that
 * points to where it should go: refused, with the link left as it was. */
static void
test_refuse_fresh_symlink (Fixture *f, gconstpointer data)
{
  g_autofree char *target = g_build_filename (f->dir, "target.db", NULL);

  g_assert_cmpint (symlink (target, f->path), ==, 0);
  assert_path_refused (f->path, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "symbolic link");
  g_assert_true (g_file_test (f->path, G_FILE_TEST_IS_SYMLINK));
  g_assert_false (g_file_test (target, G_FILE_TEST_EXISTS));
}

#define READ_ONLY_PATH_VARIABLE "RESERVED_TEST_READ_ONLY_PATH"

/* The child: an unprivileged user (root gives its rights away first, as
 * chmod does not stop root) opens a reserved database it may only read. */
static void
open_read_only_as_unprivileged (void)
{
  const char *path = g_getenv (READ_ONLY_PATH_VARIABLE);

  g_assert_nonnull (path);
  if (geteuid () == 0)
    {
      g_assert_cmpint (setgroups (0, NULL), ==, 0);
      g_assert_cmpint (setgid (65534), ==, 0);
      g_assert_cmpint (setuid (65534), ==, 0);
    }
  g_assert_cmpint (geteuid (), !=, 0);
  g_assert_cmpint (access (path, R_OK), ==, 0);
  g_assert_cmpint (access (path, W_OK), !=, 0);

  assert_path_refused (path, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, NULL);
}

/* Without a fixture: the child, which gives its rights away, must not make
 * or remove a folder of its own. */
static void
test_refuse_read_only (void)
{
  Fixture fixture = { NULL }, *f = &fixture;
  g_autoptr(GBytes) before = NULL;

  if (g_test_subprocess ())
    {
      open_read_only_as_unprivileged ();
      return;
    }

  fixture_set_up_empty (f, NULL);
  make_reserved_database (f, 3);
  g_assert_cmpint (g_chmod (f->path, 0444), ==, 0);
  /* The unprivileged child must reach the file, not write the folder. */
  g_assert_cmpint (g_chmod (f->dir, 0755), ==, 0);
  before = reserved_test_read_bytes (f->path);

  g_setenv (READ_ONLY_PATH_VARIABLE, f->path, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv (READ_ONLY_PATH_VARIABLE);
  g_test_trap_assert_passed ();
  assert_file_is (f->path, before);
  fixture_tear_down (f, NULL);
}

/* --- storage failures ------------------------------------------------------ */

static gpointer
release_lock_later (gpointer data)
{
  sqlite3 *other = data;

  g_usleep (RESERVE_BUSY_TIMEOUT_DEFAULT_MS * 1000 + G_USEC_PER_SEC / 2);
  g_assert_cmpint (sqlite3_exec (other, "ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
  return NULL;
}

/* Opening also writes (the schema check runs in a write transaction), so
 * it waits for another program's lock as long as it is told to: with a
 * short wait it fails, naming the file; with a long one it outlasts a lock
 * held past the default wait. */
static void
test_open_waits_for_lock (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ReservedStore) store = NULL;
  sqlite3 *other = NULL;
  GThread *releaser;

  g_clear_object (&f->store);
  g_assert_cmpint (sqlite3_open_v2 (f->path, &other, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);

  store = reserved_store_open (f->path, RESERVE_DEFAULT_ITEM, 100, 50, &error);
  g_assert_null (store);
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE);
  reserved_test_assert_message_has (error, f->path);
  reserved_test_assert_message_has (error, "locked");
  g_clear_error (&error);

  releaser = g_thread_new ("release-lock", release_lock_later, other);
  store = reserved_store_open (f->path, RESERVE_DEFAULT_ITEM, 100,
                               RESERVE_BUSY_TIMEOUT_DEFAULT_MS * 10, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_thread_join (releaser);
  g_assert_cmpint (sqlite3_close (other), ==, SQLITE_OK);
  assert_law (store);
}

static void
test_storage_locked (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *item = NULL;
  ReservedReceipt receipt;
  sqlite3 *other = NULL;
  guint32 remaining = 0;
  guint64 order;

  order = buy_ok (f->store, "ticket", "alice", 1, ALICE_UID, 99);
  before = snapshot (f->store);
  reserved_store_set_busy_timeout (f->store, 50);

  /* Another program holds the write lock. */
  g_assert_cmpint (sqlite3_open_v2 (f->path, &other, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);

  g_assert_false (buy (f->store, "ticket", "bob", 2, BOB_UID, "locked", &receipt, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE);
  reserved_test_assert_message_has (error, f->path);
  g_clear_error (&error);
  g_assert_false (reserved_store_cancel (f->store, order, &item, &remaining, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE);
  g_assert_null (item);
  g_clear_error (&error);
  g_assert_false (reserved_store_create_item (f->store, "seat", 5, 0, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE);
  g_clear_error (&error);
  g_assert_false (reserved_store_restock (f->store, "ticket", 5, &remaining, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE);
  g_clear_error (&error);

  /* Reading goes on meanwhile, and shows nothing was recorded. */
  assert_unchanged (f->store, before);

  g_assert_cmpint (sqlite3_exec (other, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_close (other), ==, SQLITE_OK);
  assert_unchanged (f->store, before);

  /* Once the lock is gone, the same purchase is a new one. */
  g_assert_true (buy (f->store, "ticket", "bob", 2, BOB_UID, "locked", &receipt, &error));
  g_assert_no_error (error);
  g_assert_false (receipt.replayed);
  g_assert_cmpuint (receipt.order, >, order);
  g_assert_cmpuint (receipt.remaining, ==, 97);
  g_assert_true (reserved_store_cancel (f->store, order, &item, &remaining, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (remaining, ==, 98);
  assert_law (f->store);

  /* And what was written survives a reopen. */
  g_free (before);
  before = snapshot (f->store);
  fixture_reopen (f);
  assert_unchanged (f->store, before);
}

static void
add_cases (void)
{
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
#define ADD_EMPTY(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up_empty, func, fixture_tear_down)

  ADD ("/store/open/fresh", test_open_fresh);
  ADD_EMPTY ("/store/open/empty-file", test_open_empty_file);
  ADD_EMPTY ("/store/open/stale-log", test_open_stale_log);
  ADD ("/store/open/reopen", test_open_reopen);
  ADD ("/store/buy/basic", test_buy_basic);
  ADD ("/store/buy/user-verbatim", test_buy_user_verbatim);
  ADD ("/store/buy/ids-never-reused", test_buy_ids_never_reused);
  ADD ("/store/buy/sold-out", test_buy_sold_out);
  ADD ("/store/buy/exact-remaining", test_buy_exact_remaining);
  ADD ("/store/buy/no-such-item", test_buy_no_such_item);
  ADD ("/store/buy/per-user-limit", test_buy_per_user_limit);
  ADD ("/store/buy/replay", test_buy_replay);
  ADD ("/store/buy/replay-after-refusals", test_buy_replay_refusals_do_not_apply);
  ADD ("/store/buy/replay-other-caller", test_buy_replay_other_caller);
  ADD ("/store/buy/replay-different-args", test_buy_replay_different_args);
  ADD ("/store/cancel", test_cancel);
  ADD ("/store/get-item", test_get_item);
  ADD ("/store/list-items", test_list_items);
  ADD ("/store/list-orders", test_list_orders);
  ADD ("/store/create-item", test_create_item);
  ADD ("/store/restock", test_restock);
  ADD_EMPTY ("/store/refuse/not-sqlite", test_refuse_not_sqlite);
  ADD_EMPTY ("/store/refuse/other-application", test_refuse_other_application);
  ADD_EMPTY ("/store/refuse/unmarked-sqlite", test_refuse_unmarked_sqlite);
  ADD_EMPTY ("/store/refuse/damaged-page", test_refuse_damaged_page);
  ADD_EMPTY ("/store/refuse/newer-schema", test_refuse_newer_schema);
  ADD_EMPTY ("/store/open/migrate-retired", test_open_migrate_retired);
  ADD_EMPTY ("/store/open/migrate-waitlist", test_open_migrate_waitlist);
  ADD_EMPTY ("/store/refuse/missing-folder", test_refuse_missing_folder);
  ADD_EMPTY ("/store/refuse/directory", test_refuse_directory);
  ADD_EMPTY ("/store/refuse/fresh-symlink", test_refuse_fresh_symlink);
  g_test_add_func ("/store/refuse/read-only", test_refuse_read_only);
  ADD ("/store/storage/locked", test_storage_locked);
  ADD ("/store/open/waits-for-lock", test_open_waits_for_lock);

#undef ADD
#undef ADD_EMPTY
}

RESERVED_TEST_MAIN (add_cases, NULL)
