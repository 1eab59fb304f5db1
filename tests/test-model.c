/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Randomized operation sequences against a model.
 *
 * This program is the generator and the model (test-model-state.c); it
 * makes none of the operations itself. Four callers (test-model-caller.c),
 * each this program run again with its own bus connection, make them as
 * different uids: root, "backup" (an admin because the daemon runs as
 * backup, and on the session bus the daemon's own user administers it),
 * "games" and "nobody" (ordinary callers). These are
 * accounts every Debian system has; the bus refuses a uid without a passwd
 * entry, as it cannot look up its groups.
 *
 * Each step picks a caller and a call with a GRand, predicts the answer
 * from the model, has the caller make the call, and asserts the answer is
 * exactly the prediction: error names (and that the message names the
 * value at fault), remaining stock, the order a repeated request_id gives
 * again, every listing. A new order's id cannot be predicted, only that it
 * was never given before; from then on it must be the same everywhere.
 * Every FULL_CHECK_EVERY steps, and at the end, everything an admin sees
 * (ListItems, GetItem, ListOrders of every customer and of each) must equal
 * the model, and the law must hold. /model/restarts also stops (SIGTERM)
 * or kills (SIGKILL) the daemon every 50 to 150 steps: nothing acknowledged
 * may be lost, and no order id reused.
 *
 * The sequence depends only on the seed and the model, never on timing,
 * so the seed, which the test prints first and every failure names,
 * reproduces a run; the summary's digest of every call made shows it did.
 *   RESERVED_TEST_SEED=N         replay the run of seed N (default: a new
 *                                random seed each run)
 *   RESERVED_TEST_MODEL_STEPS=N  steps of /model/random (default 3000);
 *                                /model/restarts runs a third as many
 */
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-main.h"
#include "test-model-caller.h"
#include "test-model-state.h"

/* docs/api.md's limits, for the notes of the tally. */
#define CAPACITY_CEILING     1000000000u
#define RESTOCK_QUANTITY_MAX 1000000u

#define DEFAULT_STEPS      3000
#define FULL_CHECK_EVERY   50
#define RESTART_MIN_GAP    50
#define RESTART_GAP_SPREAD 101

typedef struct {
  const char *name; /* the account the caller runs as */
  gboolean admin;
} CallerSpec;

#define N_CALLERS   4
#define DAEMON_USER "backup"

static const CallerSpec caller_specs[N_CALLERS] = {
  { "root", TRUE },
  { DAEMON_USER, TRUE },
  { "games", FALSE },
  { "nobody", FALSE },
};

/* "ghost" is never created; the others are until CreateItem makes them.
 * "bulk" is created near the capacity ceiling, for restocks to pass it. */
static const char *const item_names[] = { "ticket", "seat", "concert", "vip", "bulk", "ghost" };
#define N_CREATABLE_ITEMS (G_N_ELEMENTS (item_names) - 1)

static const char *const user_names[] = { "alice", "bob", "carol", "Zoë ☕ 'quoted'" };

/* A request_id a caller sent, with the purchase it last sent it with. */
typedef struct {
  guint caller;
  char *request_id;
  char *item;
  char *user;
  guint32 quantity;
} SentRequest;

typedef struct {
  ReservedTestDaemon *daemon;
  GDBusConnection *connection;
  ReservedTestClient admin; /* the test's own view, as root */
  Model *model;
  ModelCaller *callers[N_CALLERS];
  uid_t uids[N_CALLERS];
  GRand *rand;
  guint32 seed;
  guint step;
  GString *doing;    /* this step's call, for failure messages */
  GPtrArray *sent;   /* (element-type SentRequest) */
  GHashTable *tally; /* "Method outcome" -> count */
  /* Of every call made: equal digests, equal sequences. */
  GChecksum *sequence;
} Fixture;

/* --- failures name the seed and the step ------------------------------------ */

/* What a crash in the harness (a failed restart, the law) prints after its
 * own message; async-signal-safe to write. */
static char fatal_note[512];

static void
on_fatal_signal (int signum)
{
  ssize_t written = write (STDERR_FILENO, fatal_note, strlen (fatal_note));

  (void) written;
  signal (signum, SIG_DFL);
  raise (signum);
}

static void set_doing (Fixture *f, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
set_doing (Fixture *f, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_string_vprintf (f->doing, format, args);
  va_end (args);
  g_snprintf (fatal_note, sizeof fatal_note,
              "# failed at seed %u, step %u, %s; re-run with RESERVED_TEST_SEED=%u\n", f->seed,
              f->step, f->doing->str, f->seed);
}

G_NORETURN static void
fail_step (Fixture *f, const char *file, int line, const char *func, const char *format, ...)
  G_GNUC_PRINTF (5, 6);

G_NORETURN static void
fail_step (Fixture *f, const char *file, int line, const char *func, const char *format, ...)
{
  g_autofree char *what = NULL;
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  message = g_strdup_printf ("seed %u, step %u, %s: %s (re-run with RESERVED_TEST_SEED=%u)",
                             f->seed, f->step, f->doing->str, what, f->seed);
  g_assertion_message (G_LOG_DOMAIN, file, line, func, message);
  /* Only reached with non-fatal assertions, which would go on from a
   * model that no longer matches. */
  g_abort ();
}

#define STEP_FAIL(f, ...) fail_step ((f), __FILE__, __LINE__, G_STRFUNC, __VA_ARGS__)
#define STEP_CHECK(f, condition, ...) \
  G_STMT_START                        \
  {                                   \
    if (!(condition))                 \
      STEP_FAIL ((f), __VA_ARGS__);   \
  }                                   \
  G_STMT_END

/* --- choices ----------------------------------------------------------------- */

static guint
pick (Fixture *f, guint n)
{
  return (guint) g_rand_int_range (f->rand, 0, (gint32) n);
}

static gboolean
chance (Fixture *f, guint percent)
{
  return pick (f, 100) < percent;
}

static const char *
pick_item_name (Fixture *f)
{
  if (chance (f, 3))
    return "not an item!";
  return item_names[pick (f, G_N_ELEMENTS (item_names))];
}

static const char *
pick_user (Fixture *f)
{
  if (chance (f, 2))
    return chance (f, 50) ? "tab\tinside"
                          /* 65 bytes, one more than a name may have */
                          : "x123456789x123456789x123456789x123456789x123456789x123456789x1234";
  return user_names[pick (f, G_N_ELEMENTS (user_names))];
}

static guint32
pick_buy_quantity (Fixture *f)
{
  guint r = pick (f, 100);

  if (r < 85)
    return 1 + pick (f, 5);
  if (r < 91)
    return 6 + pick (f, 45);
  if (r < 95)
    return 10000; /* the most one Buy may take */
  if (r < 98)
    return 10001;
  return 0;
}

static guint32
pick_restock_quantity (Fixture *f)
{
  guint r = pick (f, 100);

  if (r < 75)
    return 1 + pick (f, 20);
  if (r < 85)
    return 1000000; /* the most one Restock may add */
  if (r < 90)
    return 100 + pick (f, 999901);
  if (r < 95)
    return 1000001;
  return 0;
}

static guint32
pick_capacity (Fixture *f, const char *item)
{
  guint r = pick (f, 100);

  if (r < 4)
    return 1000000001;
  if (r < 6)
    return G_MAXUINT32;
  if (g_str_equal (item, "bulk"))
    return 999999900 + pick (f, 101);
  if (r < 15)
    return 0; /* not on sale yet */
  return 1 + pick (f, 15);
}

static guint32
pick_per_user_limit (Fixture *f, const char *item)
{
  if (g_str_equal (item, "vip"))
    return 1 + pick (f, 4);
  if (g_str_equal (item, "concert") && chance (f, 50))
    return 3 + pick (f, 6);
  if (chance (f, 10))
    return 1 + pick (f, 10);
  return 0;
}

/* An option the daemon must refuse: an unknown key or a wrongly typed
 * value. */
static GVariant *
bad_options (Fixture *f, const char *key)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  if (chance (f, 50))
    g_variant_builder_add (&builder, "{sv}", key, g_variant_new_int32 (1));
  else
    g_variant_builder_add (&builder, "{sv}", "no-such-option", g_variant_new_uint32 (1));
  return g_variant_builder_end (&builder);
}

static SentRequest *
find_sent (Fixture *f, guint caller, const char *request_id)
{
  for (guint i = 0; i < f->sent->len; i++)
    {
      SentRequest *sent = g_ptr_array_index (f->sent, i);

      if (sent->caller == caller && g_str_equal (sent->request_id, request_id))
        return sent;
    }
  return NULL;
}

/* Sets the purchase @sent was last sent with; NULLs for none. */
static void
sent_set_purchase (SentRequest *sent, const char *item, const char *user, guint32 quantity)
{
  g_free (sent->item);
  g_free (sent->user);
  sent->item = g_strdup (item);
  sent->user = g_strdup (user);
  sent->quantity = quantity;
}

static void
sent_request_free (SentRequest *sent)
{
  sent_set_purchase (sent, NULL, NULL, 0);
  g_free (sent->request_id);
  g_free (sent);
}

/* @take was sent by @caller, with a request_id. */
static void
remember_sent (Fixture *f, guint caller, const ModelTake *take)
{
  SentRequest *sent = find_sent (f, caller, take->request_id);

  if (sent == NULL)
    {
      sent = g_new0 (SentRequest, 1);
      sent->caller = caller;
      sent->request_id = g_strdup (take->request_id);
      g_ptr_array_add (f->sent, sent);
    }
  sent_set_purchase (sent, take->item, take->user, take->quantity);
}

/* Replaces *@name with another one of @names. */
static void
replace_name (Fixture *f, char **name, const char *const *names, guint n_names)
{
  guint skip = n_names;
  guint chosen;

  for (guint i = 0; i < n_names; i++)
    if (g_str_equal (*name, names[i]))
      skip = i;
  chosen = pick (f, skip < n_names ? n_names - 1 : n_names);
  if (chosen >= skip)
    chosen++;
  g_free (*name);
  *name = g_strdup (names[chosen]);
}

/* Most purchases carry no request_id; some a new one; some repeat one the
 * same caller sent (a retry, or a mistake with other arguments); some one
 * another caller sent, which for this caller is a new key. Returns a note
 * for the tally, NULL for none. */
static const char *
pick_request (Fixture *f,
              guint caller,
              char **request_id,
              char **item,
              char **user,
              guint32 *quantity)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
  guint r = pick (f, 100);
  gboolean own = r < 90;
  SentRequest *sent;
  ModelOrder *bound;

  if (r < 60)
    return NULL;
  if (r >= 75)
    for (guint i = 0; i < f->sent->len; i++)
      {
        SentRequest *candidate = g_ptr_array_index (f->sent, i);

        /* Another caller's key only while it is new to this one. */
        if (own
              ? candidate->caller == caller
              : candidate->caller != caller && find_sent (f, caller, candidate->request_id) == NULL)
          g_ptr_array_add (candidates, candidate);
      }
  if (candidates->len == 0)
    {
      *request_id = g_strdup_printf ("request-%u", f->step);
      return "new request_id";
    }

  sent = g_ptr_array_index (candidates, pick (f, candidates->len));
  *request_id = g_strdup (sent->request_id);
  /* The same purchase as the one the key is bound to, if any. */
  bound = model_lookup_request (f->model, f->uids[sent->caller], sent->request_id);
  g_free (*item);
  g_free (*user);
  *item = g_strdup (bound != NULL ? bound->item : sent->item);
  *user = g_strdup (bound != NULL ? bound->user : sent->user);
  *quantity = bound != NULL ? bound->quantity : sent->quantity;
  if (!own)
    return "another uid's request_id";
  if (chance (f, 60))
    return "repeated request_id";

  switch (pick (f, 3))
    {
    case 0:
      replace_name (f, item, item_names, G_N_ELEMENTS (item_names));
      break;
    case 1:
      replace_name (f, user, user_names, G_N_ELEMENTS (user_names));
      break;
    default:
      *quantity = *quantity < 10000 ? *quantity + 1 : *quantity - 1;
      break;
    }
  return "repeated request_id, other arguments";
}

/* Returns a note for the tally. */
static const char *
pick_order_id (Fixture *f, guint caller, guint64 *id)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
  guint n_orders = model_get_n_orders (f->model);
  guint r = pick (f, 100);

  for (guint i = 0; r < 90 && i < n_orders; i++)
    {
      ModelOrder *order = model_get_order (f->model, i);
      gboolean wanted;

      if (r < 45)
        wanted = order->caller == f->uids[caller];
      else if (r < 65)
        wanted = order->caller != f->uids[caller];
      else if (r < 80)
        wanted = !order->active;
      else
        wanted = TRUE;
      if (wanted)
        g_ptr_array_add (candidates, order);
    }
  if (candidates->len > 0)
    {
      ModelOrder *order = g_ptr_array_index (candidates, pick (f, candidates->len));

      *id = order->id;
      return order->caller == f->uids[caller] ? "own order" : "another uid's order";
    }

  switch (pick (f, 4))
    {
    case 0:
      *id = 0;
      break;
    case 1:
      *id = G_MAXUINT64;
      break;
    case 2:
      *id = (guint64) G_MAXINT64 + 1;
      break;
    default:
      *id = model_get_max_order_id (f->model) + 1 + pick (f, 3);
      break;
    }
  return "never issued";
}

/* --- comparing answers with the model ------------------------------------- */

static void
tally (Fixture *f, const char *method, const char *result, const char *note)
{
  g_autofree char *key = note != NULL ? g_strdup_printf ("%s %s (%s)", method, result, note)
                                      : g_strdup_printf ("%s %s", method, result);
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (f->tally, key));

  g_hash_table_insert (f->tally, g_steal_pointer (&key), GUINT_TO_POINTER (count + 1));
}

static void
expect_error (Fixture *f,
              ModelOutcome *outcome,
              const ModelPrediction *prediction,
              const char *note)
{
  const char *name = reserve_error_to_name (prediction->error);

  if (outcome->failure != NULL)
    STEP_FAIL (f, "expected %s, the call failed: %s", name, outcome->failure);
  if (outcome->reply != NULL)
    {
      g_autofree char *reply = g_variant_print (outcome->reply, TRUE);
      STEP_FAIL (f, "expected %s, got the reply %s", name, reply);
    }
  STEP_CHECK (f, g_str_equal (outcome->error_name, name), "expected %s, got %s: %s", name,
              outcome->error_name, outcome->message);
  STEP_CHECK (f, *outcome->message != '\0', "the %s error has no message", name);
  /* docs/api.md: the message says what was wrong and with which value. */
  STEP_CHECK (f,
              *prediction->mentions == '\0' ||
                strstr (outcome->message, prediction->mentions) != NULL,
              "the %s message “%s” does not name %s", name, outcome->message, prediction->mentions);
  tally (f, outcome->method, name, note);
}

static GVariant *
expect_reply (Fixture *f, ModelOutcome *outcome, const char *type)
{
  if (outcome->failure != NULL)
    STEP_FAIL (f, "the call failed: %s", outcome->failure);
  if (outcome->error_name != NULL)
    STEP_FAIL (f, "expected a reply, got %s: %s", outcome->error_name, outcome->message);
  STEP_CHECK (f, g_variant_is_of_type (outcome->reply, G_VARIANT_TYPE (type)),
              "the reply is of type %s, not %s", g_variant_get_type_string (outcome->reply), type);
  return outcome->reply;
}

static GVariant *
model_items_variant (Fixture *f)
{
  g_autoptr(GPtrArray) items = model_list_items (f->model);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(suu)"));

  for (guint i = 0; i < items->len; i++)
    {
      ModelItem *item = g_ptr_array_index (items, i);

      if (!item->retired)
        g_variant_builder_add (&builder, "(suu)", item->name, item->capacity, item->remaining);
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/* @items: a(suu), as ListItems answers. */
static void
check_items (Fixture *f, GVariant *items)
{
  g_autoptr(GVariant) expected = model_items_variant (f);

  if (!g_variant_equal (items, expected))
    {
      g_autofree char *got = g_variant_print (items, FALSE);
      g_autofree char *want = g_variant_print (expected, FALSE);

      STEP_FAIL (f, "ListItems answered %s, the model has %s", got, want);
    }
}

/* @info: a{sv}, as GetItem answers. */
static void
check_item_info (Fixture *f, GVariant *info, const ModelItem *item)
{
  const char *keys[] = { "capacity", "remaining", "sold", "per_user_limit", "held", "available" };
  guint32 expected[] = {
    item->capacity,
    item->remaining,
    model_get_sold (f->model, item->name),
    item->per_user_limit,
    model_get_held (f->model, item->name),
    item->retired ? 0 : item->remaining, /* no hold expires within a run */
  };
  const char *name = NULL;
  gboolean retired = FALSE;

  STEP_CHECK (f, g_variant_lookup (info, "name", "&s", &name) && g_str_equal (name, item->name),
              "GetItem(%s) names the item %s", item->name, name != NULL ? name : "(missing)");
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      guint32 value = 0;

      STEP_CHECK (f, g_variant_lookup (info, keys[i], "u", &value),
                  "GetItem(%s) has no %s of type u", item->name, keys[i]);
      STEP_CHECK (f, value == expected[i], "GetItem(%s) says %s %u, the model %u", item->name,
                  keys[i], value, expected[i]);
    }
  STEP_CHECK (f, g_variant_lookup (info, "retired", "b", &retired) && retired == item->retired,
              "GetItem(%s) says retired %d, the model %d", item->name, retired, item->retired);
}

typedef struct {
  guint64 id;
  const char *item;
  guint32 quantity;
  gint64 created;
  const char *state;
} ListedOrder;

static int
compare_listed_by_id (gconstpointer a, gconstpointer b)
{
  const ListedOrder *x = a;
  const ListedOrder *y = b;

  return x->id < y->id ? -1 : x->id > y->id;
}

/* @orders: a(tsuxs), as ListOrders answers; @expected: from
 * model_list_orders(). */
static void
check_orders (Fixture *f, const char *what, GVariant *orders, GPtrArray *expected)
{
  g_autoptr(GArray) listed = g_array_new (FALSE, FALSE, sizeof (ListedOrder));
  GVariantIter iter;
  ListedOrder order;
  ListedOrder previous = { 0 };

  g_variant_iter_init (&iter, orders);
  while (g_variant_iter_next (&iter, "(t&sux&s)", &order.id, &order.item, &order.quantity,
                              &order.created, &order.state))
    {
      /* Oldest first, ties by order id. */
      STEP_CHECK (f,
                  listed->len == 0 || order.created > previous.created ||
                    (order.created == previous.created && order.id > previous.id),
                  "%s lists order %" G_GUINT64_FORMAT " (created %" G_GINT64_FORMAT
                  ") after order %" G_GUINT64_FORMAT " (created %" G_GINT64_FORMAT ")",
                  what, order.id, order.created, previous.id, previous.created);
      g_array_append_val (listed, order);
      previous = order;
    }
  STEP_CHECK (f, listed->len == expected->len, "%s lists %u orders, the model has %u", what,
              listed->len, expected->len);
  g_array_sort (listed, compare_listed_by_id);

  for (guint i = 0; i < listed->len; i++)
    {
      const ListedOrder *got = &g_array_index (listed, ListedOrder, i);
      ModelOrder *want = g_ptr_array_index (expected, i);
      const char *state = want->active ? RESERVE_ORDER_STATE_ACTIVE : RESERVE_ORDER_STATE_CANCELLED;

      STEP_CHECK (f,
                  got->id == want->id && g_str_equal (got->item, want->item) &&
                    got->quantity == want->quantity && g_str_equal (got->state, state),
                  "%s lists (%" G_GUINT64_FORMAT
                  ", %s, %u, %s) where the model has (%" G_GUINT64_FORMAT ", %s, %u, %s)",
                  what, got->id, got->item, got->quantity, got->state, want->id, want->item,
                  want->quantity, state);
      STEP_CHECK (f, got->created > 0,
                  "%s: order %" G_GUINT64_FORMAT " was created at %" G_GINT64_FORMAT, what, got->id,
                  got->created);
      if (want->created == 0)
        want->created = got->created;
      STEP_CHECK (f, got->created == want->created,
                  "%s: order %" G_GUINT64_FORMAT " was created at %" G_GINT64_FORMAT
                  ", an earlier listing said %" G_GINT64_FORMAT,
                  what, got->id, got->created, want->created);
    }
}

/* @holds: a(tssuxx), as ListHolds answers; @expected: from
 * model_list_holds(), by id. */
static void
check_holds (Fixture *f, const char *what, GVariant *holds, GPtrArray *expected)
{
  GVariantIter iter;
  guint64 id, previous = 0;
  const char *item, *user;
  guint32 quantity;
  gint64 created, expires;
  guint i = 0;

  g_variant_iter_init (&iter, holds);
  while (
    g_variant_iter_next (&iter, "(t&s&suxx)", &id, &item, &user, &quantity, &created, &expires))
    {
      ModelHold *want;

      STEP_CHECK (f, id > previous, "%s lists hold %" G_GUINT64_FORMAT " after %" G_GUINT64_FORMAT,
                  what, id, previous);
      STEP_CHECK (f, i < expected->len, "%s lists more holds than the model's %u", what,
                  expected->len);
      want = g_ptr_array_index (expected, i);
      STEP_CHECK (f,
                  id == want->id && g_str_equal (item, want->item) &&
                    g_str_equal (user, want->user) && quantity == want->quantity,
                  "%s lists (%" G_GUINT64_FORMAT
                  ", %s, %s, %u) where the model has (%" G_GUINT64_FORMAT ", %s, %s, %u)",
                  what, id, item, user, quantity, want->id, want->item, want->user, want->quantity);
      STEP_CHECK (f, created > 0 && expires >= 0,
                  "%s: hold %" G_GUINT64_FORMAT " created %" G_GINT64_FORMAT
                  ", expires %" G_GINT64_FORMAT,
                  what, id, created, expires);
      previous = id;
      i++;
    }
  STEP_CHECK (f, i == expected->len, "%s lists %u holds, the model has %u", what, i, expected->len);
}

/* Everything an admin sees equals the model, and the law holds. */
static void
check_everything (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) items = NULL;
  g_autoptr(GVariant) orders = NULL;
  g_autoptr(GPtrArray) model_items = model_list_items (f->model);
  g_autoptr(GPtrArray) expected = model_list_orders (f->model, NULL, 0, TRUE);

  set_doing (f, "root compares everything it sees with the model");
  /* The test never runs its main loop, so drop the StockChanged signals
   * its proxy has queued meanwhile. */
  while (g_main_context_iteration (NULL, FALSE))
    ;

  reserve_reserve1_call_list_items_sync (f->admin.proxy, G_DBUS_CALL_FLAGS_NONE, -1, &items, NULL,
                                         &error);
  STEP_CHECK (f, error == NULL, "ListItems failed: %s", error->message);
  check_items (f, items);

  for (guint i = 0; i < model_items->len; i++)
    {
      ModelItem *item = g_ptr_array_index (model_items, i);
      g_autoptr(GVariant) info = NULL;

      reserve_reserve1_call_get_item_sync (f->admin.proxy, item->name, G_DBUS_CALL_FLAGS_NONE, -1,
                                           &info, NULL, &error);
      STEP_CHECK (f, error == NULL, "GetItem(%s) failed: %s", item->name, error->message);
      check_item_info (f, info, item);
    }

  reserve_reserve1_call_list_orders_sync (f->admin.proxy, "", G_DBUS_CALL_FLAGS_NONE, -1, &orders,
                                          NULL, &error);
  STEP_CHECK (f, error == NULL, "ListOrders(\"\") failed: %s", error->message);
  check_orders (f, "ListOrders(\"\") as root", orders, expected);

  for (guint i = 0; i < G_N_ELEMENTS (user_names); i++)
    {
      g_autoptr(GVariant) of_user = NULL;
      g_autoptr(GPtrArray) expected_of_user = model_list_orders (f->model, user_names[i], 0, TRUE);
      g_autofree char *what = g_strdup_printf ("ListOrders(%s) as root", user_names[i]);

      reserve_reserve1_call_list_orders_sync (f->admin.proxy, user_names[i], G_DBUS_CALL_FLAGS_NONE,
                                              -1, &of_user, NULL, &error);
      STEP_CHECK (f, error == NULL, "%s failed: %s", what, error->message);
      check_orders (f, what, of_user, expected_of_user);
    }

  {
    g_autoptr(GVariant) holds = NULL;
    g_autoptr(GPtrArray) expected_holds = model_list_holds (f->model, NULL, 0, TRUE);

    reserve_reserve1_call_list_holds_sync (f->admin.proxy, "", G_DBUS_CALL_FLAGS_NONE, -1, &holds,
                                           NULL, &error);
    STEP_CHECK (f, error == NULL, "ListHolds(\"\") failed: %s", error->message);
    check_holds (f, "ListHolds(\"\") as root", holds, expected_holds);
  }

  reserved_test_assert_law (&f->admin);
}

/* --- the steps ---------------------------------------------------------------- */

static void
call (Fixture *f, guint caller, const char *method, GVariant *parameters, ModelOutcome *outcome)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (parameters);
  g_autofree char *printed = g_variant_print (owned, TRUE);

  set_doing (f, "%s (uid %u) calls %s%s", caller_specs[caller].name, (guint) f->uids[caller],
             method, printed);
  g_checksum_update (f->sequence, (const guchar *) f->doing->str, f->doing->len + 1);
  model_caller_call (f->callers[caller], method, owned, outcome);
}

/* call (), then, where the model predicts a refusal, expect_error ():
 * TRUE when the call was to succeed, for the step to check its reply. */
static gboolean
call_predicted (Fixture *f,
                guint caller,
                const char *method,
                GVariant *parameters,
                const ModelPrediction *prediction,
                ModelOutcome *outcome,
                const char *note)
{
  call (f, caller, method, parameters, outcome);
  if (prediction->ok)
    return TRUE;
  expect_error (f, outcome, prediction, note);
  return FALSE;
}

static void
step_buy (Fixture *f, guint caller)
{
  g_autofree char *item = g_strdup (pick_item_name (f));
  g_autofree char *user = g_strdup (pick_user (f));
  g_autofree char *request_id = NULL;
  guint32 quantity = pick_buy_quantity (f);
  const char *note = pick_request (f, caller, &request_id, &item, &user, &quantity);
  gboolean bad_option = chance (f, 2);
  g_auto(ModelOutcome) outcome = { 0 };
  ModelPrediction prediction;
  ModelTake take;
  ModelItem *bought;
  GVariant *options;
  guint64 order = 0;
  guint32 remaining = 0;

  if (bad_option)
    {
      options = bad_options (f, RESERVE_OPTION_REQUEST_ID);
      g_clear_pointer (&request_id, g_free);
      note = "bad option";
    }
  else
    options = reserved_test_options (request_id);

  take = (ModelTake){ f->uids[caller], item, user, quantity, request_id };
  prediction = model_predict_buy (f->model, &take, bad_option);
  call (f, caller, "Buy", g_variant_new ("(ssu@a{sv})", item, user, quantity, options), &outcome);
  if (request_id != NULL)
    remember_sent (f, caller, &take);
  if (!prediction.ok)
    {
      expect_error (f, &outcome, &prediction, note);
      return;
    }

  g_variant_get (expect_reply (f, &outcome, "(tu)"), "(tu)", &order, &remaining);
  bought = model_lookup_item (f->model, item);
  if (prediction.replayed != NULL)
    {
      /* Nothing taken: the first order again, and the stock as it is now. */
      STEP_CHECK (f, order == prediction.replayed->id,
                  "a repeated request_id gave order %" G_GUINT64_FORMAT
                  ", the first Buy got %" G_GUINT64_FORMAT,
                  order, prediction.replayed->id);
      STEP_CHECK (f, remaining == bought->remaining,
                  "a repeated request_id says %u remaining, the model %u", remaining,
                  bought->remaining);
      tally (f, "Buy", "replayed", note);
      return;
    }

  /* An order id is not predictable, only new: never one given before. */
  STEP_CHECK (f, order > 0, "Buy gave order 0");
  STEP_CHECK (f, model_lookup_order (f->model, order) == NULL,
              "Buy gave order %" G_GUINT64_FORMAT ", which was given before", order);
  STEP_CHECK (f, remaining == bought->remaining - quantity, "Buy says %u remaining, the model %u",
              remaining, bought->remaining - quantity);
  model_buy (f->model, order, &take);
  tally (f, "Buy", "ok", note);
}

static void
step_restock (Fixture *f, guint caller)
{
  const CallerSpec *spec = &caller_specs[caller];
  const char *item = pick_item_name (f);
  guint32 quantity = pick_restock_quantity (f);
  g_auto(ModelOutcome) outcome = { 0 };
  ModelPrediction prediction = model_predict_restock (f->model, spec->admin, item, quantity);
  ModelItem *restocked = model_lookup_item (f->model, item);
  gboolean past_ceiling = restocked != NULL && quantity > 0 && quantity <= RESTOCK_QUANTITY_MAX &&
                          (guint64) restocked->capacity + quantity > CAPACITY_CEILING;
  guint32 remaining = 0;

  if (!call_predicted (f, caller, "Restock", g_variant_new ("(su)", item, quantity), &prediction,
                       &outcome, past_ceiling ? "past the capacity ceiling" : NULL))
    return;
  g_variant_get (expect_reply (f, &outcome, "(u)"), "(u)", &remaining);
  STEP_CHECK (f, remaining == restocked->remaining + quantity,
              "Restock says %u remaining, the model %u", remaining,
              restocked->remaining + quantity);
  model_restock (f->model, item, quantity);
  tally (f, "Restock", "ok", NULL);
}

/* Lowered below what a customer holds, the limit refuses that customer's
 * next purchase (step_buy, step_hold) and changes no order. */
static void
step_set_per_user_limit (Fixture *f, guint caller)
{
  const CallerSpec *spec = &caller_specs[caller];
  const char *item = pick_item_name (f);
  guint r = pick (f, 100);
  guint32 limit = r < 30 ? 0 : r < 80 ? 1 + pick (f, 5) : r < 90 ? 1000000000u : 1000000001u;
  g_auto(ModelOutcome) outcome = { 0 };
  ModelPrediction prediction =
    model_predict_set_per_user_limit (f->model, spec->admin, item, limit);

  if (!call_predicted (f, caller, "SetPerUserLimit", g_variant_new ("(su)", item, limit),
                       &prediction, &outcome, NULL))
    return;
  expect_reply (f, &outcome, "()");
  model_set_per_user_limit (f->model, item, limit);
  tally (f, "SetPerUserLimit", "ok", limit == 0 ? "none" : NULL);
}

/* Rare, and never the default item, so that the run keeps selling. */
static void
step_retire_item (Fixture *f, guint caller)
{
  const CallerSpec *spec = &caller_specs[caller];
  const char *item = pick_item_name (f);
  g_auto(ModelOutcome) outcome = { 0 };
  ModelPrediction prediction;

  if (g_str_equal (item, RESERVE_DEFAULT_ITEM))
    return;
  prediction = model_predict_retire_item (f->model, spec->admin, item);
  if (!call_predicted (f, caller, "RetireItem", g_variant_new ("(s)", item), &prediction, &outcome,
                       NULL))
    return;
  expect_reply (f, &outcome, "()");
  tally (f, "RetireItem", "ok", model_lookup_item (f->model, item)->retired ? "again" : NULL);
  model_retire_item (f->model, item);
}

static void
step_create_item (Fixture *f, guint caller)
{
  const CallerSpec *spec = &caller_specs[caller];
  const char *item = chance (f, 3) ? "not an item!" : item_names[pick (f, N_CREATABLE_ITEMS)];
  guint32 capacity = pick_capacity (f, item);
  guint32 per_user_limit = pick_per_user_limit (f, item);
  gboolean bad_option = chance (f, 3);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_auto(ModelOutcome) outcome = { 0 };
  ModelPrediction prediction;
  GVariant *options;

  if (bad_option)
    options = bad_options (f, RESERVE_OPTION_PER_USER_LIMIT);
  else
    {
      if (per_user_limit > 0)
        g_variant_builder_add (&builder, "{sv}", RESERVE_OPTION_PER_USER_LIMIT,
                               g_variant_new_uint32 (per_user_limit));
      options = g_variant_builder_end (&builder);
    }
  prediction = model_predict_create_item (f->model, spec->admin, item, capacity, bad_option);
  if (!call_predicted (f, caller, "CreateItem",
                       g_variant_new ("(su@a{sv})", item, capacity, options), &prediction, &outcome,
                       bad_option                    ? "bad option"
                       : capacity > CAPACITY_CEILING ? "capacity past the ceiling"
                                                     : NULL))
    return;
  expect_reply (f, &outcome, "()");
  model_create_item (f->model, item, capacity, bad_option ? 0 : per_user_limit);
  tally (f, "CreateItem", "ok", NULL);
}

static void
step_get_item (Fixture *f, guint caller)
{
  const char *item = pick_item_name (f);
  g_auto(ModelOutcome) outcome = { 0 };
  ModelPrediction prediction = model_predict_get_item (f->model, item);
  g_autoptr(GVariant) info = NULL;

  if (!call_predicted (f, caller, "GetItem", g_variant_new ("(s)", item), &prediction, &outcome,
                       NULL))
    return;
  info = g_variant_get_child_value (expect_reply (f, &outcome, "(a{sv})"), 0);
  check_item_info (f, info, model_lookup_item (f->model, item));
  tally (f, "GetItem", "ok", NULL);
}

static void
step_list_orders (Fixture *f, guint caller)
{
  const CallerSpec *spec = &caller_specs[caller];
  const char *user = chance (f, 15) ? "" : pick_user (f);
  g_auto(ModelOutcome) outcome = { 0 };
  ModelPrediction prediction = model_predict_list_orders (f->model, user, spec->admin);
  g_autoptr(GVariant) orders = NULL;
  g_autoptr(GPtrArray) expected = NULL;
  g_autofree char *what = NULL;

  if (!call_predicted (f, caller, "ListOrders", g_variant_new ("(s)", user), &prediction, &outcome,
                       *user == '\0' ? "every customer" : NULL))
    return;
  orders = g_variant_get_child_value (expect_reply (f, &outcome, "(a(tsuxs))"), 0);
  expected =
    model_list_orders (f->model, *user != '\0' ? user : NULL, f->uids[caller], spec->admin);
  what = g_strdup_printf ("ListOrders as %s", spec->name);
  check_orders (f, what, orders, expected);
  tally (f, "ListOrders", "ok",
         *user == '\0' ? "every customer"
         : spec->admin ? "as an admin"
                       : "own orders");
}

static void
step_list_items (Fixture *f, guint caller)
{
  g_auto(ModelOutcome) outcome = { 0 };
  g_autoptr(GVariant) items = NULL;

  call (f, caller, "ListItems", g_variant_new ("()"), &outcome);
  items = g_variant_get_child_value (expect_reply (f, &outcome, "(a(suu))"), 0);
  check_items (f, items);
  tally (f, "ListItems", "ok", NULL);
}

/* --- holds ------------------------------------------------------------------------ */

/* Returns a note for the tally. */
static const char *
pick_hold_id (Fixture *f, guint caller, guint64 *id)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
  guint n_holds = model_get_n_holds (f->model);
  guint r = pick (f, 100);

  for (guint i = 0; r < 92 && i < n_holds; i++)
    {
      ModelHold *hold = model_get_hold (f->model, i);
      gboolean wanted;

      if (r < 60)
        wanted = hold->caller == f->uids[caller] && hold->live;
      else if (r < 75)
        wanted = hold->caller != f->uids[caller];
      else
        wanted = !hold->live;
      if (wanted)
        g_ptr_array_add (candidates, hold);
    }
  if (candidates->len > 0)
    {
      ModelHold *hold = g_ptr_array_index (candidates, pick (f, candidates->len));

      *id = hold->id;
      return hold->caller != f->uids[caller] ? "another uid's hold"
             : hold->live                    ? "own live hold"
                                             : "own ended hold";
    }
  *id = chance (f, 30) ? 0 : model_get_max_hold_id (f->model) + 1 + pick (f, 3);
  return "never issued";
}

static void
step_hold (Fixture *f, guint caller)
{
  const char *item = pick_item_name (f);
  const char *user = pick_user (f);
  guint32 quantity = pick_buy_quantity (f);
  guint r = pick (f, 100);
  /* Long enough that none expires within a run; some past the maximum,
   * some none (bound to the caller's connection, which never leaves). */
  guint32 ttl = r < 70 ? 3600 + pick (f, 3601) : r < 80 ? 7201 + pick (f, 100) : 0;
  gboolean bound = r >= 85 || chance (f, 10);
  gboolean bad_option = chance (f, 2);
  g_autofree char *request_id = NULL;
  g_auto(ModelOutcome) outcome = { 0 };
  const char *note = NULL;
  ModelPrediction prediction;
  ModelTake take;
  ModelItem *held;
  GVariant *options;
  guint64 id = 0;
  gint64 expires = 0;
  guint32 remaining = 0;

  if (chance (f, 20))
    {
      ModelHold *earlier = model_get_n_holds (f->model) > 0 && chance (f, 60)
                             ? model_get_hold (f->model, pick (f, model_get_n_holds (f->model)))
                             : NULL;

      /* A retry: the same key; sometimes with other arguments. */
      request_id = g_strdup_printf ("hold-request-%u", f->step % 7);
      note = "request_id";
      if (earlier != NULL && earlier->caller == f->uids[caller] && chance (f, 70))
        {
          item = earlier->item;
          user = earlier->user;
          quantity = earlier->quantity;
        }
    }
  if (bad_option)
    {
      options = bad_options (f, RESERVE_OPTION_TTL);
      g_clear_pointer (&request_id, g_free);
      note = "bad option";
    }
  else
    options =
      reserved_test_hold_options (RESERVE_OPTION_TTL, ttl > 0 ? g_variant_new_uint32 (ttl) : NULL,
                                  bound, request_id);
  take = (ModelTake){ f->uids[caller], item, user, quantity, request_id };
  prediction = model_predict_hold (f->model, &take, ttl, bound, bad_option);
  if (!call_predicted (f, caller, "Hold",
                       g_variant_new ("(ssu@a{sv})", item, user, quantity, options), &prediction,
                       &outcome, note))
    return;
  g_variant_get (expect_reply (f, &outcome, "(txu)"), "(txu)", &id, &expires, &remaining);
  held = model_lookup_item (f->model, item);
  if (prediction.replayed_hold != NULL)
    {
      STEP_CHECK (f, id == prediction.replayed_hold->id,
                  "a repeated request_id gave hold %" G_GUINT64_FORMAT
                  ", the first Hold got %" G_GUINT64_FORMAT,
                  id, prediction.replayed_hold->id);
      STEP_CHECK (f, remaining == held->remaining,
                  "a repeated request_id says %u remaining, the model %u", remaining,
                  held->remaining);
      tally (f, "Hold", "replayed", note);
      return;
    }
  STEP_CHECK (f, id > model_get_max_hold_id (f->model),
              "Hold gave hold %" G_GUINT64_FORMAT ", not above every earlier one", id);
  STEP_CHECK (f, (expires == 0) == (ttl == 0), "Hold with ttl %u expires %" G_GINT64_FORMAT, ttl,
              expires);
  STEP_CHECK (f, remaining == held->remaining - quantity, "Hold says %u remaining, the model %u",
              remaining, held->remaining - quantity);
  model_hold (f->model, id, &take);
  tally (f, "Hold", "ok", note);
}

static void
step_confirm (Fixture *f, guint caller)
{
  const CallerSpec *spec = &caller_specs[caller];
  gboolean or_buy = chance (f, 30);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_auto(ModelOutcome) outcome = { 0 };
  ModelPrediction prediction;
  ModelTake take;
  ModelHold *hold;
  ModelItem *item;
  const char *note;
  guint64 id = 0, order = 0;
  guint32 remaining = 0;

  note = pick_hold_id (f, caller, &id);
  if (or_buy)
    g_variant_builder_add (&builder, "{sv}", RESERVE_OPTION_OR_BUY, g_variant_new_boolean (TRUE));
  prediction = model_predict_confirm (f->model, f->uids[caller], spec->admin, id, or_buy);
  if (!call_predicted (f, caller, "Confirm",
                       g_variant_new ("(t@a{sv})", id, g_variant_builder_end (&builder)),
                       &prediction, &outcome, note))
    return;
  g_variant_get (expect_reply (f, &outcome, "(tu)"), "(tu)", &order, &remaining);
  hold = model_lookup_hold (f->model, id);
  item = model_lookup_item (f->model, hold->item);
  if (prediction.replayed != NULL)
    {
      STEP_CHECK (f, order == prediction.replayed->id,
                  "confirming again gave order %" G_GUINT64_FORMAT ", the first %" G_GUINT64_FORMAT,
                  order, prediction.replayed->id);
      STEP_CHECK (f, remaining == item->remaining, "Confirm again says %u remaining, the model %u",
                  remaining, item->remaining);
      tally (f, "Confirm", "again", note);
      return;
    }
  STEP_CHECK (f, order > 0 && model_lookup_order (f->model, order) == NULL,
              "Confirm gave order %" G_GUINT64_FORMAT ", which was given before", order);
  if (hold->live)
    {
      STEP_CHECK (f, remaining == item->remaining, "Confirm says %u remaining, the model %u",
                  remaining, item->remaining);
      model_confirm (f->model, hold, order);
      tally (f, "Confirm", "ok", note);
      return;
    }
  STEP_CHECK (f, remaining == item->remaining - hold->quantity,
              "Confirm with or_buy says %u remaining, the model %u", remaining,
              item->remaining - hold->quantity);
  take = model_hold_take (hold);
  model_buy (f->model, order, &take);
  tally (f, "Confirm", "bought", note);
}

/* Cancel and Release: the call gives an order's or a hold's units back to
 * its item and answers the item's stock with them. */
typedef struct {
  const char *method;
  const char *(*pick_id) (Fixture *f, guint caller, guint64 *id);
  ModelPrediction (*predict) (Model *model, uid_t caller, gboolean admin, guint64 id);
  /* Applies the call to the model; returns the item it gave units back to. */
  ModelItem *(*give_back) (Model *model, guint64 id);
} GiveBackCall;

static ModelItem *
cancel_order (Model *model, guint64 id)
{
  ModelOrder *order = model_lookup_order (model, id);

  model_cancel (model, order);
  return model_lookup_item (model, order->item);
}

static ModelItem *
release_hold (Model *model, guint64 id)
{
  ModelHold *hold = model_lookup_hold (model, id);

  model_release (model, hold);
  return model_lookup_item (model, hold->item);
}

static const GiveBackCall cancel_call = { "Cancel", pick_order_id, model_predict_cancel,
                                          cancel_order };
static const GiveBackCall release_call = { "Release", pick_hold_id, model_predict_release,
                                           release_hold };

static void
step_give_back (Fixture *f, guint caller, const GiveBackCall *kind)
{
  const CallerSpec *spec = &caller_specs[caller];
  g_auto(ModelOutcome) outcome = { 0 };
  ModelPrediction prediction;
  ModelItem *item;
  const char *note;
  guint64 id = 0;
  guint32 remaining = 0;

  note = kind->pick_id (f, caller, &id);
  prediction = kind->predict (f->model, f->uids[caller], spec->admin, id);
  if (!call_predicted (f, caller, kind->method, g_variant_new ("(t)", id), &prediction, &outcome,
                       note))
    return;
  g_variant_get (expect_reply (f, &outcome, "(u)"), "(u)", &remaining);
  /* The model's stock once the units are back. */
  item = kind->give_back (f->model, id);
  STEP_CHECK (f, remaining == item->remaining, "%s says %u remaining, the model %u", kind->method,
              remaining, item->remaining);
  tally (f, kind->method, "ok", note);
}

static void
step_extend (Fixture *f, guint caller)
{
  const CallerSpec *spec = &caller_specs[caller];
  guint32 ttl = chance (f, 10) ? (chance (f, 50) ? 0 : 7201) : 3600 + pick (f, 3601);
  g_auto(ModelOutcome) outcome = { 0 };
  ModelPrediction prediction;
  const char *note;
  guint64 id = 0;
  gint64 expires = 0;

  note = pick_hold_id (f, caller, &id);
  prediction = model_predict_extend (f->model, f->uids[caller], spec->admin, id, ttl);
  if (!call_predicted (f, caller, "Extend", g_variant_new ("(tu)", id, ttl), &prediction, &outcome,
                       note))
    return;
  g_variant_get (expect_reply (f, &outcome, "(x)"), "(x)", &expires);
  STEP_CHECK (f, expires > 0, "Extend says the hold expires at %" G_GINT64_FORMAT, expires);
  tally (f, "Extend", "ok", note);
}

static void
step_list_holds (Fixture *f, guint caller)
{
  const CallerSpec *spec = &caller_specs[caller];
  const char *user = chance (f, 40) ? "" : pick_user (f);
  g_auto(ModelOutcome) outcome = { 0 };
  g_autoptr(GVariant) holds = NULL;
  g_autoptr(GPtrArray) expected = NULL;
  g_autofree char *what = NULL;

  call (f, caller, "ListHolds", g_variant_new ("(s)", user), &outcome);
  if (*user != '\0' && !reserved_test_valid_user_name (user))
    {
      ModelPrediction prediction = { .ok = FALSE, .error = RESERVE_ERROR_INVALID_ARGUMENT };

      expect_error (f, &outcome, &prediction, NULL);
      return;
    }
  holds = g_variant_get_child_value (expect_reply (f, &outcome, "(a(tssuxx))"), 0);
  expected = model_list_holds (f->model, *user != '\0' ? user : NULL, f->uids[caller], spec->admin);
  what = g_strdup_printf ("ListHolds as %s", spec->name);
  check_holds (f, what, holds, expected);
  tally (f, "ListHolds", "ok", spec->admin ? "as an admin" : "own holds");
}

static void
one_step (Fixture *f)
{
  guint caller = pick (f, N_CALLERS);
  guint kind = pick (f, 100);

  /* A third of the steps are about holds. */
  if (chance (f, 33))
    {
      if (kind < 40)
        step_hold (f, caller);
      else if (kind < 60)
        step_confirm (f, caller);
      else if (kind < 80)
        step_give_back (f, caller, &release_call);
      else if (kind < 90)
        step_extend (f, caller);
      else
        step_list_holds (f, caller);
      return;
    }
  if (kind < 45)
    step_buy (f, caller);
  else if (kind < 65)
    step_give_back (f, caller, &cancel_call);
  else if (kind < 70)
    step_restock (f, caller);
  else if (kind < 72)
    step_set_per_user_limit (f, caller);
  else if (kind < 73)
    step_retire_item (f, caller);
  else if (kind < 80)
    step_create_item (f, caller);
  else if (kind < 87)
    step_get_item (f, caller);
  else if (kind < 95)
    step_list_orders (f, caller);
  else
    step_list_items (f, caller);
}

/* Stops (SIGTERM) or kills (SIGKILL) the daemon and starts it again; the
 * callers keep their bus connections and reach the new daemon by name. */
static void
restart_daemon (Fixture *f, gboolean kill)
{
  set_doing (f, "restarting the daemon after %s", kill ? "SIGKILL" : "SIGTERM");
  if (kill)
    {
      reserved_test_daemon_kill (f->daemon);
      reserved_test_daemon_start (f->daemon);
    }
  else
    reserved_test_daemon_restart (f->daemon);
  /* The test never runs its main loop, so its proxy would not learn of
   * the new owner: take a new one. */
  g_clear_object (&f->admin.proxy);
  f->admin.proxy = reserved_test_proxy_new (f->connection);
  tally (f, "restart", kill ? "SIGKILL" : "SIGTERM", NULL);
  /* Nothing acknowledged lost. */
  check_everything (f);
}

static void
print_tally (Fixture *f)
{
  g_autoptr(GList) keys = g_list_sort (g_hash_table_get_keys (f->tally), (GCompareFunc) strcmp);

  for (GList *l = keys; l != NULL; l = l->next)
    g_test_message ("%6u × %s", GPOINTER_TO_UINT (g_hash_table_lookup (f->tally, l->data)),
                    (const char *) l->data);
}

static void
run_steps (Fixture *f, guint n_steps, gboolean restarts)
{
  g_autoptr(GPtrArray) items = NULL;
  guint next_restart = 0;
  gboolean kill_next = FALSE;

  if (restarts)
    {
      next_restart = RESTART_MIN_GAP + pick (f, RESTART_GAP_SPREAD);
      kill_next = chance (f, 50);
    }

  /* A fresh database: only the default item. */
  f->step = 0;
  check_everything (f);
  for (f->step = 1; f->step <= n_steps; f->step++)
    {
      if (restarts && f->step == next_restart)
        {
          /* Both ways in turn, so every run has both. */
          restart_daemon (f, kill_next);
          kill_next = !kill_next;
          next_restart += RESTART_MIN_GAP + pick (f, RESTART_GAP_SPREAD);
        }
      one_step (f);
      if (f->step % FULL_CHECK_EVERY == 0)
        check_everything (f);
    }
  f->step = n_steps;
  check_everything (f);

  items = model_list_items (f->model);
  g_test_message ("seed %u: %u steps, %u orders placed, %u items, sequence digest %.16s; "
                  "by call and outcome:",
                  f->seed, n_steps, model_get_n_orders (f->model), items->len,
                  g_checksum_get_string (f->sequence));
  print_tally (f);
}

/* --- cases ---------------------------------------------------------------------- */

static guint
env_number (const char *name, guint64 fallback, guint64 max)
{
  const char *text = g_getenv (name);
  guint64 value = 0;

  if (text == NULL || *text == '\0')
    return (guint) fallback;
  if (!g_ascii_string_to_unsigned (text, 10, 0, max, &value, NULL))
    g_error ("%s=%s is not a number from 0 to %" G_GUINT64_FORMAT, name, text, max);
  return (guint) value;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const char *address;

  f->seed = g_getenv ("RESERVED_TEST_SEED") != NULL
              ? env_number ("RESERVED_TEST_SEED", 0, G_MAXUINT32)
              : g_random_int ();
  g_test_message ("seed %u: re-run this sequence with RESERVED_TEST_SEED=%u", f->seed, f->seed);
  f->rand = g_rand_new_with_seed (f->seed);
  f->doing = g_string_new (NULL);
  set_doing (f, "starting the daemon and the callers");
  f->sent = g_ptr_array_new_with_free_func ((GDestroyNotify) sent_request_free);
  f->tally = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f->sequence = g_checksum_new (G_CHECKSUM_SHA256);
  /* docs/api.md: a fresh database has the default item, capacity 100. */
  f->model = model_new ("ticket", 100);

  for (guint i = 0; i < N_CALLERS; i++)
    {
      struct passwd *pw = getpwnam (caller_specs[i].name);

      if (pw == NULL)
        g_error ("there is no account named %s to call as", caller_specs[i].name);
      f->uids[i] = pw->pw_uid;
    }

  f->daemon = reserved_test_daemon_new ();
  reserved_test_daemon_run_as_owner (f->daemon, f->uids[1]);
  reserved_test_daemon_start (f->daemon);
  address = reserved_test_daemon_get_address (f->daemon);
  /* Safe before spawning the callers: they are exec'd, not just forked. */
  f->connection = reserved_test_connect (address);
  f->admin.proxy = reserved_test_proxy_new (f->connection);
  f->admin.admin = TRUE;
  for (guint i = 0; i < N_CALLERS; i++)
    f->callers[i] = model_caller_spawn (caller_specs[i].name, address, f->uids[i]);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < N_CALLERS; i++)
    g_clear_pointer (&f->callers[i], model_caller_free);
  g_clear_object (&f->admin.proxy);
  g_dbus_connection_close_sync (f->connection, NULL, NULL);
  g_clear_object (&f->connection);
  reserved_test_daemon_stop (f->daemon);
  g_clear_pointer (&f->daemon, reserved_test_daemon_free);
  g_clear_pointer (&f->model, model_free);
  g_clear_pointer (&f->tally, g_hash_table_unref);
  g_clear_pointer (&f->sent, g_ptr_array_unref);
  g_string_free (f->doing, TRUE);
  g_rand_free (f->rand);
  g_checksum_free (f->sequence);
}

static guint
steps_wanted (void)
{
  return env_number ("RESERVED_TEST_MODEL_STEPS", DEFAULT_STEPS, G_MAXUINT32 - 1);
}

static void
test_random (Fixture *f, gconstpointer data)
{
  run_steps (f, steps_wanted (), FALSE);
}

static void
test_restarts (Fixture *f, gconstpointer data)
{
  run_steps (f, MAX (steps_wanted () / 3, 1), TRUE);
}

static const ReservedTestHelper helpers[] = {
  { MODEL_CALLER_HELPER, 1, model_caller_serve },
  { NULL },
};

static void
add_cases (void)
{
  /* A caller that died is reported by the step that wrote to it, with the
   * seed, rather than killing the test with SIGPIPE. */
  signal (SIGPIPE, SIG_IGN);
  /* A failed assertion (abort) or g_error() (trap) in the harness names
   * the seed and the step too. */
  signal (SIGABRT, on_fatal_signal);
  signal (SIGTRAP, on_fatal_signal);

  g_test_add ("/model/random", Fixture, NULL, fixture_set_up, test_random, fixture_tear_down);
  g_test_add ("/model/restarts", Fixture, NULL, fixture_set_up, test_restarts, fixture_tear_down);
}

RESERVED_TEST_MAIN (add_cases, helpers)
