/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hostile arguments: every method of org.reserved.Reserve1 called with raw
 * GVariants (not the typed proxy, so anything the bus carries can be sent),
 * every argument at its limit (accepted) and just past it (refused), every
 * forbidden character class, wrongly typed and unknown option values, keys
 * given twice, wrong method signatures, the properties, and strings as long
 * as the test bus lets through.
 *
 * Every refusal must be org.reserved.Reserve1.Error.InvalidArgument (or,
 * where the API says so, another of its errors) with a short message that
 * names the argument, and nothing may change: the state a client can see
 * (ListItems, ListOrders "") is compared after every refused call, and
 * after every InvalidArgument also the daemon's count of committed write
 * transactions (GetStatistics "commits"): a bad argument must not even
 * reach the store. Between the tables a valid purchase shows the daemon
 * still serves; each case ends with the law and a clean stop (exit status
 * 0 at SIGTERM).
 *
 * The one place the error is not the API's: a call whose arguments do not
 * match the method's signature never reaches the daemon's code. GDBus
 * answers it from the introspection data with
 * org.freedesktop.DBus.Error.InvalidArgs naming the expected signature, and
 * it answers unknown properties, interfaces and methods the same way
 * (InvalidArgs, UnknownMethod; a Properties call of the wrong signature is
 * an UnknownMethod of that interface). /arguments/signatures and
 * /arguments/properties assert exactly that.
 *
 * Each case prints how many calls it made (g_test_message).
 *
 * Environment:
 *   RESERVED_TEST_ARGUMENTS=N  calls in /arguments/random (default 300,
 *                              1 to 1000000; anything else fails the test):
 *                              random item names, user names and quantities
 *                              from hostile alphabets, checked against the
 *                              API's rules restated here. The log's
 *                              "# random seed: ..." line gives the seed;
 *                              --seed=SEED replays a run. */
#include <string.h>
#include <unistd.h>

#include "reserve-validate.h"
#include "reserved-test-client.h"
#include "reserved-test-daemon.h"
#include "reserved-test-fixture.h"
#include "reserved-test-main.h"

#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"
#define INVALID_ARGS         "org.freedesktop.DBus.Error.InvalidArgs"
#define UNKNOWN_METHOD       "org.freedesktop.DBus.Error.UnknownMethod"

/* What a refusal may send back at most: the daemon quotes a bad value
 * (cut short) and says what is allowed, it never echoes the value whole. */
#define MESSAGE_MAX_BYTES 1024

/* An item with stock for every accepted purchase the tables make. */
#define PROBE_ITEM     "probe"
#define PROBE_CAPACITY 1000000u

/* dbus-daemon's own max_message_size when its configuration sets none
 * (bus/config-parser.c: 32 MiB), as data/test-bus.conf does not. */
#define DBUS_DAEMON_DEFAULT_MAX_MESSAGE_SIZE (32u * 1024u * 1024u)

typedef struct {
  ReservedTestFixture bus;
  /* The state every refusal since the last accepted change must leave as
   * it was; NULL after an accepted call, taken again before the next
   * refusal. */
  GVariant *before;
  guint64 commits_before;
  guint calls;
  guint refusals;
} Fixture;

/* --- calls and what they must answer ------------------------------------- */

static GVariant *
empty_options (void)
{
  return g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
}

static GVariant *
options_with (const char *key, GVariant *value)
{
  GVariant *entry =
    g_variant_new_dict_entry (g_variant_new_string (key), g_variant_new_variant (value));

  return g_variant_new_array (NULL, &entry, 1);
}

/* An a{sv} that holds @key twice: GVariant and D-Bus allow it. */
static GVariant *
options_twice (const char *key, GVariant *first, GVariant *second)
{
  GVariant *entries[] = {
    g_variant_new_dict_entry (g_variant_new_string (key), g_variant_new_variant (first)),
    g_variant_new_dict_entry (g_variant_new_string (key), g_variant_new_variant (second)),
  };

  return g_variant_new_array (NULL, entries, G_N_ELEMENTS (entries));
}

static GVariant *
buy_params (const char *item, const char *user, guint32 quantity, GVariant *options)
{
  return g_variant_new ("(ssu@a{sv})", item, user, quantity, options ? options : empty_options ());
}

static GVariant *
create_item_params (const char *item, guint32 capacity, GVariant *options)
{
  return g_variant_new ("(su@a{sv})", item, capacity, options ? options : empty_options ());
}

/* A label for the log and for failures: values can be megabytes long. */
static char *
show (const char *text)
{
  return reserve_describe_text (text);
}

static GVariant *
call_on (GDBusConnection *connection,
         guint *calls,
         const char *interface,
         const char *method,
         GVariant *parameters,
         const GVariantType *reply_type,
         GError **error)
{
  (*calls)++;
  return g_dbus_connection_call_sync (connection, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH, interface,
                                      method, parameters, reply_type, G_DBUS_CALL_FLAGS_NONE, -1,
                                      NULL, error);
}

/* Asserts @error is the D-Bus error @error_name (in @domain, @code) with a
 * message that contains @names (and @value when not NULL). @short_message:
 * whether the message must stay under MESSAGE_MAX_BYTES (the daemon's own
 * messages; GDBus's echo what they were sent). */
static void
assert_refusal (const char *what,
                GError *error,
                GQuark domain,
                int code,
                const char *error_name,
                const char *names,
                const char *value,
                gboolean short_message)
{
  g_autofree char *remote = NULL;

  if (error == NULL)
    g_error ("%s: accepted, but must be refused with %s", what, error_name);
  remote = g_dbus_error_get_remote_error (error);
  if (!g_error_matches (error, domain, code) || g_strcmp0 (remote, error_name) != 0)
    g_error ("%s: refused with %s (%.300s), but must be %s", what, remote, error->message,
             error_name);
  g_dbus_error_strip_remote_error (error);
  if (strstr (error->message, names) == NULL)
    g_error ("%s: the message “%.300s” does not name “%s”", what, error->message, names);
  if (value != NULL && strstr (error->message, value) == NULL)
    g_error ("%s: the message “%.300s” does not show the value %s", what, error->message, value);
  if (short_message && strlen (error->message) > MESSAGE_MAX_BYTES)
    g_error ("%s: the message has %zu bytes (at most %u): “%.300s…”", what, strlen (error->message),
             MESSAGE_MAX_BYTES, error->message);
}

static void
assert_api_refusal (const char *what,
                    GError *error,
                    ReserveError code,
                    const char *names,
                    const char *value)
{
  g_autofree char *name = g_strconcat (RESERVE_ERROR_PREFIX, reserve_error_to_name (code), NULL);

  assert_refusal (what, error, RESERVE_ERROR, (int) code, name, names, value, TRUE);
}

static guint64
commits_now (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call_on (f->bus.connection, &f->calls, RESERVE_INTERFACE,
                                        "GetStatistics", NULL, G_VARIANT_TYPE ("(a{sv})"), &error);
  g_autoptr(GVariant) stats = NULL;
  guint64 commits = 0;

  g_assert_no_error (error);
  stats = g_variant_get_child_value (reply, 0);
  g_assert_true (g_variant_lookup (stats, "commits", "t", &commits));
  return commits;
}

static void
remember_state (Fixture *f)
{
  if (f->before != NULL)
    return;
  f->before = reserved_test_snapshot (&f->bus.client);
  f->calls += 2; /* ListItems, ListOrders "" */
  f->commits_before = commits_now (f);
}

/* @check_commits: also that the daemon committed no write transaction. */
static void
assert_state_unchanged (Fixture *f, const char *what, gboolean check_commits)
{
  g_autoptr(GVariant) after = reserved_test_snapshot (&f->bus.client);
  guint64 commits;

  f->calls += 2;
  if (!g_variant_equal (f->before, after))
    {
      g_autofree char *before_text = g_variant_print (f->before, FALSE);
      g_autofree char *after_text = g_variant_print (after, FALSE);

      g_error ("%s: refused, but the state changed from %s to %s", what, before_text, after_text);
    }
  commits = commits_now (f);
  if (!check_commits)
    {
      /* The refusals that follow compare with this count. */
      f->commits_before = commits;
      return;
    }
  if (commits != f->commits_before)
    g_error ("%s: the daemon committed %" G_GUINT64_FORMAT " write(s) for a refused call", what,
             commits - f->commits_before);
}

/* Calls @method, which must succeed with a reply of @reply_type. */
static GVariant *
accept (Fixture *f,
        const char *method,
        GVariant *parameters,
        const char *reply_type,
        const char *what)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = call_on (f->bus.connection, &f->calls, RESERVE_INTERFACE, method, parameters,
                             G_VARIANT_TYPE (reply_type), &error);

  if (error != NULL)
    g_error ("%s: refused (%s), but must be accepted", what, error->message);
  g_clear_pointer (&f->before, g_variant_unref);
  return reply;
}

/* Calls @interface.@method, which must be refused with @error_name and
 * change nothing. */
static void
refuse_on (Fixture *f,
           const char *interface,
           const char *method,
           GVariant *parameters,
           GQuark domain,
           int code,
           const char *error_name,
           const char *names,
           const char *value,
           gboolean short_message,
           const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  /* A bad argument, or a call GDBus turns away, must not reach the store
   * at all. A refusal the store makes (NoSuchItem for Buy, SoldOut,
   * AlreadyCancelled...) runs in a savepoint of a write transaction that
   * is then committed, so the count moves although nothing changed. */
  gboolean never_written = domain != RESERVE_ERROR || code == RESERVE_ERROR_INVALID_ARGUMENT;

  if (parameters != NULL)
    g_variant_ref_sink (parameters);
  remember_state (f);
  reply = call_on (f->bus.connection, &f->calls, interface, method, parameters, NULL, &error);
  g_clear_pointer (&parameters, g_variant_unref);
  assert_refusal (what, error, domain, code, error_name, names, value, short_message);
  f->refusals++;
  assert_state_unchanged (f, what, never_written);
}

/* The API's error @code for @method, with a message naming @names. */
static void
refuse (Fixture *f,
        const char *method,
        GVariant *parameters,
        ReserveError code,
        const char *names,
        const char *value,
        const char *what)
{
  g_autofree char *name = g_strconcat (RESERVE_ERROR_PREFIX, reserve_error_to_name (code), NULL);

  refuse_on (f, RESERVE_INTERFACE, method, parameters, RESERVE_ERROR, (int) code, name, names,
             value, TRUE, what);
}

static void
refuse_invalid (Fixture *f,
                const char *method,
                GVariant *parameters,
                const char *names,
                const char *what)
{
  refuse (f, method, parameters, RESERVE_ERROR_INVALID_ARGUMENT, names, NULL, what);
}

/* GDBus's answer for a call that does not fit the introspection data. */
static void
refuse_by_gdbus (Fixture *f,
                 const char *interface,
                 const char *method,
                 GVariant *parameters,
                 GDBusError code,
                 const char *names,
                 const char *what)
{
  refuse_on (f, interface, method, parameters, G_DBUS_ERROR, code,
             code == G_DBUS_ERROR_INVALID_ARGS ? INVALID_ARGS : UNKNOWN_METHOD, names, NULL, FALSE,
             what);
}

static guint32
remaining_of (Fixture *f, const char *item)
{
  g_autoptr(GVariant) reply =
               accept (f, "GetItem", g_variant_new ("(s)", item), "(a{sv})", "GetItem");
  g_autoptr(GVariant) info = g_variant_get_child_value (reply, 0);
  guint32 remaining = 0;

  g_assert_true (g_variant_lookup (info, "remaining", "u", &remaining));
  return remaining;
}

/* Buys one unit of the probe item: the daemon still serves, refusals left
 * no trace in the stock. */
static void
assert_still_serving (Fixture *f)
{
  guint32 before = remaining_of (f, PROBE_ITEM);
  g_autoptr(GVariant) reply = accept (f, "Buy", buy_params (PROBE_ITEM, "still-serving", 1, NULL),
                                       "(tu)", "a valid Buy between the tables");
  guint64 order = 0;
  guint32 remaining = 0;

  g_variant_get (reply, "(tu)", &order, &remaining);
  g_assert_cmpuint (order, >, 0);
  g_assert_cmpuint (remaining, ==, before - 1);
}

/* --- the fixture ----------------------------------------------------------- */

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  reserved_test_fixture_set_up (&f->bus, NULL);
  g_variant_unref (accept (f, "CreateItem", create_item_params (PROBE_ITEM, PROBE_CAPACITY, NULL),
                           "()", "create the probe item"));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (!g_test_failed ())
    assert_still_serving (f);
  g_test_message ("%u calls to the daemon, %u of them refused and checked", f->calls, f->refusals);
  g_clear_pointer (&f->before, g_variant_unref);
  /* The law, then the daemon's exit status. */
  reserved_test_fixture_tear_down (&f->bus, NULL);
}

/* --- Buy: quantity ---------------------------------------------------------- */

static void
test_buy_quantity (Fixture *f, gconstpointer data)
{
  const guint32 refused[] = { 0, RESERVE_BUY_QUANTITY_MAX + 1, RESERVE_BUY_QUANTITY_MAX * 2,
                              G_MAXINT32 + 1u, G_MAXUINT32 };
  g_autoptr(GVariant) reply = NULL;
  guint64 order = 0;
  guint32 remaining = 0;

  g_variant_unref (accept (f, "CreateItem",
                           create_item_params ("bulk", 3 * RESERVE_BUY_QUANTITY_MAX, NULL), "()",
                           "create bulk"));
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *what = g_strdup_printf ("Buy quantity %u", refused[i]);
      g_autofree char *value = g_strdup_printf ("%u", refused[i]);

      refuse (f, "Buy", buy_params ("bulk", "alice", refused[i], NULL),
              RESERVE_ERROR_INVALID_ARGUMENT, "quantity", value, what);
    }

  reply = accept (f, "Buy", buy_params ("bulk", "alice", 1, NULL), "(tu)", "Buy quantity 1");
  g_variant_get (reply, "(tu)", &order, &remaining);
  g_assert_cmpuint (remaining, ==, 3 * RESERVE_BUY_QUANTITY_MAX - 1);
  g_clear_pointer (&reply, g_variant_unref);
  reply = accept (f, "Buy", buy_params ("bulk", "alice", RESERVE_BUY_QUANTITY_MAX, NULL), "(tu)",
                  "Buy quantity 10000");
  g_variant_get (reply, "(tu)", &order, &remaining);
  g_assert_cmpuint (remaining, ==, 2 * RESERVE_BUY_QUANTITY_MAX - 1);

  /* The limit is per call, whatever the stock: 10001 of 19999 left. */
  refuse (f, "Buy", buy_params ("bulk", "bob", RESERVE_BUY_QUANTITY_MAX + 1, NULL),
          RESERVE_ERROR_INVALID_ARGUMENT, "quantity", "10001",
          "Buy quantity 10001 with stock left");
  assert_still_serving (f);
}

/* --- item names, in every method that takes one --------------------------- */

static const char item_punctuation[] = "._:-";

/* Text that looks like a name but is not ASCII. */
static const char *const not_ascii[] = {
  "\xc3\xa9",         /* é */
  "\xc2\xa0",         /* no-break space */
  "\xd0\xb0",         /* Cyrillic а, drawn like a Latin a */
  "\xef\xbc\xa1",     /* fullwidth A */
  "\xe2\x80\x8b",     /* zero-width space */
  "\xe2\x80\xae",     /* right-to-left override */
  "\xef\xbb\xbf",     /* byte order mark */
  "\xf0\x9f\x8e\x9f", /* an emoji, four bytes */
};

static GPtrArray *
bad_item_names (void)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (names, g_strdup (""));
  g_ptr_array_add (names, g_strnfill (RESERVE_NAME_MAX_BYTES + 1, 'a'));
  g_ptr_array_add (names, g_strnfill (4096, 'a'));
  /* 64 bytes, the last one not allowed. */
  g_ptr_array_add (
    names, g_strdup_printf ("%.*s!", RESERVE_NAME_MAX_BYTES - 1,
                            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
  /* Allowed inside a name, not as its first character. */
  for (const char *p = item_punctuation; *p != '\0'; p++)
    {
      g_ptr_array_add (names, g_strdup_printf ("%cname", *p));
      g_ptr_array_add (names, g_strdup_printf ("%c", *p));
    }
  /* Every other ASCII character, controls included, inside a name and
   * in front of it. */
  for (int c = 1; c < 0x80; c++)
    {
      if (g_ascii_isalnum (c) || strchr (item_punctuation, c) != NULL)
        continue;
      g_ptr_array_add (names, g_strdup_printf ("a%cb", c));
      g_ptr_array_add (names, g_strdup_printf ("%cab", c));
    }
  for (guint i = 0; i < G_N_ELEMENTS (not_ascii); i++)
    {
      g_ptr_array_add (names, g_strdup_printf ("a%sb", not_ascii[i]));
      g_ptr_array_add (names, g_strdup_printf ("%sab", not_ascii[i]));
    }
  return names;
}

static void
test_item_names (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) bad = bad_item_names ();
  g_autofree char *longest = g_strnfill (RESERVE_NAME_MAX_BYTES, 'a');
  g_autofree char *longest_mixed = NULL;
  g_autofree char *longest_punctuated = g_strconcat ("9", longest + 2, "-", NULL);
  GString *mixed = g_string_new (NULL);
  const char *good[] = {
    "a",
    "Z",
    "0",
    "9a",
    "a.",
    "a_",
    "a:",
    "a-",
    "a.b_c:d-e",
    "0.leading-digit",
    "A..__::--z",
    longest,
    longest_punctuated,
    NULL,
  };

  /* Every allowed character, 64 bytes in all. */
  while (mixed->len < RESERVE_NAME_MAX_BYTES)
    g_string_append (mixed, "aZ09._:-");
  longest_mixed = g_string_free (mixed, FALSE);
  good[G_N_ELEMENTS (good) - 1] = longest_mixed;

  for (guint i = 0; i < bad->len; i++)
    {
      const char *name = g_ptr_array_index (bad, i);
      g_autofree char *shown = show (name);
      g_autofree char *what_buy = g_strdup_printf ("Buy item %s", shown);
      g_autofree char *what_get = g_strdup_printf ("GetItem %s", shown);
      g_autofree char *what_create = g_strdup_printf ("CreateItem %s", shown);
      g_autofree char *what_restock = g_strdup_printf ("Restock %s", shown);

      refuse_invalid (f, "Buy", buy_params (name, "alice", 1, NULL), "item name", what_buy);
      refuse_invalid (f, "GetItem", g_variant_new ("(s)", name), "item name", what_get);
      refuse_invalid (f, "CreateItem", create_item_params (name, 1, NULL), "item name",
                      what_create);
      refuse_invalid (f, "Restock", g_variant_new ("(su)", name, 1), "item name", what_restock);
    }
  g_test_message ("%u bad item names refused by Buy, GetItem, CreateItem and Restock", bad->len);
  assert_still_serving (f);

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *what = g_strdup_printf ("item “%s”", good[i]);
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GVariant) info = NULL;
      const char *name = NULL;
      guint64 order = 0;
      guint32 remaining = 0;

      g_variant_unref (accept (f, "CreateItem", create_item_params (good[i], 2, NULL), "()", what));
      reply = accept (f, "GetItem", g_variant_new ("(s)", good[i]), "(a{sv})", what);
      info = g_variant_get_child_value (reply, 0);
      g_assert_true (g_variant_lookup (info, "name", "&s", &name));
      g_assert_cmpstr (name, ==, good[i]);
      g_clear_pointer (&reply, g_variant_unref);
      reply = accept (f, "Buy", buy_params (good[i], "alice", 1, NULL), "(tu)", what);
      g_variant_get (reply, "(tu)", &order, &remaining);
      g_assert_cmpuint (remaining, ==, 1);
      g_clear_pointer (&reply, g_variant_unref);
      reply = accept (f, "Restock", g_variant_new ("(su)", good[i], 1), "(u)", what);
      g_variant_get (reply, "(u)", &remaining);
      g_assert_cmpuint (remaining, ==, 2);
    }
}

/* --- user names: Buy and ListOrders ---------------------------------------- */

static GPtrArray *
bad_user_names (void)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *a63 = g_strnfill (63, 'a');
  g_autofree char *a62 = g_strnfill (62, 'a');
  g_autofree char *a61 = g_strnfill (61, 'a');

  g_ptr_array_add (names, g_strdup (""));
  g_ptr_array_add (names, g_strnfill (RESERVE_NAME_MAX_BYTES + 1, 'u'));
  g_ptr_array_add (names, g_strnfill (4096, 'u'));
  /* 65 bytes whose 65th byte is inside a character of two, three and four
   * bytes: the limit counts bytes, not characters. */
  g_ptr_array_add (names, g_strconcat (a63, "\xc3\xa9", NULL));
  g_ptr_array_add (names, g_strconcat (a62, "\xe2\x82\xac", NULL));
  g_ptr_array_add (names, g_strconcat (a61, "\xf0\x9f\x8e\x9f", NULL));
  /* Every control character U+0001..U+001F (U+0000 cannot be in a D-Bus
   * string), in the middle, and first and last for some. */
  for (gunichar c = 0x01; c <= 0x1f; c++)
    g_ptr_array_add (names, g_strdup_printf ("al%cce", (char) c));
  g_ptr_array_add (names, g_strdup ("\x01"
                                    "alice"));
  g_ptr_array_add (names, g_strdup ("alice\x1f"));
  g_ptr_array_add (names, g_strdup ("\n"));
  /* U+007F..U+009F: DEL and the C1 controls, two bytes each from U+0080. */
  g_ptr_array_add (names, g_strdup ("al\x7f"
                                    "ce"));
  for (gunichar c = 0x80; c <= 0x9f; c++)
    {
      char utf8[8] = { 0 };

      g_unichar_to_utf8 (c, utf8);
      g_ptr_array_add (names, g_strdup_printf ("al%sce", utf8));
    }
  g_ptr_array_add (names, g_strdup ("\xc2\x80"
                                    "alice"));
  g_ptr_array_add (names, g_strdup ("alice\xc2\x9f"));
  /* A control character at the very end of 64 bytes. */
  g_ptr_array_add (names, g_strconcat (a63, "\x1b", NULL));
  return names;
}

static void
test_user_names (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) bad = bad_user_names ();
  g_autofree char *longest = g_strnfill (RESERVE_NAME_MAX_BYTES, 'u');
  g_autofree char *two_at_end = NULL;
  g_autofree char *three_at_end = NULL;
  g_autofree char *four_at_end = NULL;
  const char *good[] = {
    "a",
    " ",
    "~",
    "'; DROP TABLE orders; --",
    "%s%n",
    "\\x01",
    "\xc2\xa0", /* U+00A0, the first character after the C1 controls */
    "al\xc2\xa0"
    "ce",
    "\xe2\x80\xa8", /* U+2028 line separator: not a control character */
    "\xef\xbb\xbf"
    "bom",
    "\xef\xbf\xbd", /* U+FFFD */
    longest,
    NULL,
    NULL,
    NULL,
  };

  {
    g_autofree char *a62 = g_strnfill (62, 'a');
    g_autofree char *a61 = g_strnfill (61, 'a');
    g_autofree char *a60 = g_strnfill (60, 'a');

    two_at_end = g_strconcat (a62, "\xc3\xa9", NULL);
    three_at_end = g_strconcat (a61, "\xe2\x82\xac", NULL);
    four_at_end = g_strconcat (a60, "\xf0\x9f\x8e\x9f", NULL);
    good[G_N_ELEMENTS (good) - 3] = two_at_end;
    good[G_N_ELEMENTS (good) - 2] = three_at_end;
    good[G_N_ELEMENTS (good) - 1] = four_at_end;
  }

  for (guint i = 0; i < bad->len; i++)
    {
      const char *name = g_ptr_array_index (bad, i);
      g_autofree char *shown = show (name);
      g_autofree char *what_buy = g_strdup_printf ("Buy user %s", shown);
      g_autofree char *what_list = g_strdup_printf ("ListOrders %s", shown);

      refuse_invalid (f, "Buy", buy_params (PROBE_ITEM, name, 1, NULL), "user name", what_buy);
      /* An empty user is every customer's orders, for admins. */
      if (*name != '\0')
        refuse_invalid (f, "ListOrders", g_variant_new ("(s)", name), "user name", what_list);
    }
  g_test_message ("%u bad user names refused by Buy and ListOrders", bad->len);
  assert_still_serving (f);

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *shown = show (good[i]);
      g_autofree char *what = g_strdup_printf ("user %s", shown);
      g_autoptr(GVariant) reply =
                   accept (f, "Buy", buy_params (PROBE_ITEM, good[i], 1, NULL), "(tu)", what);
      g_autoptr(GVariant) listed = NULL;
      g_autoptr(GVariant) orders = NULL;
      guint64 order = 0, listed_order = 0;
      guint32 remaining = 0;

      g_variant_get (reply, "(tu)", &order, &remaining);
      listed = accept (f, "ListOrders", g_variant_new ("(s)", good[i]), "(a(tsuxs))", what);
      orders = g_variant_get_child_value (listed, 0);
      g_assert_cmpuint (g_variant_n_children (orders), ==, 1);
      g_variant_get_child (orders, 0, "(tsuxs)", &listed_order, NULL, NULL, NULL, NULL);
      g_assert_cmpuint (listed_order, ==, order);
    }
}

/* --- request_id ------------------------------------------------------------- */

static void
test_request_id (Fixture *f, gconstpointer data)
{
  g_autofree char *r127 = g_strnfill (127, 'r');
  g_autofree char *r126 = g_strnfill (126, 'r');
  g_autofree char *r125 = g_strnfill (125, 'r');
  g_autofree char *r124 = g_strnfill (124, 'r');
  g_autofree char *longest = g_strnfill (RESERVE_REQUEST_ID_MAX_BYTES, 'r');
  g_autofree char *too_long = g_strnfill (RESERVE_REQUEST_ID_MAX_BYTES + 1, 'r');
  g_autofree char *much_too_long = g_strnfill (65536, 'r');
  g_autofree char *two_past = g_strconcat (r127, "\xc3\xa9", NULL);            /* 129 bytes */
  g_autofree char *four_past = g_strconcat (r125, "\xf0\x9f\x8e\x9f", NULL);   /* 129 bytes */
  g_autofree char *two_at_end = g_strconcat (r126, "\xc3\xa9", NULL);          /* 128 bytes */
  g_autofree char *four_at_end = g_strconcat (r124, "\xf0\x9f\x8e\x9f", NULL); /* 128 bytes */
  const char *bad[] = { "", too_long, much_too_long, two_past, four_past };
  const char *good[] = { "x", "a b", "\xe5\xb1\xb1", longest, two_at_end, four_at_end };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *shown = show (bad[i]);
      g_autofree char *what =
        g_strdup_printf ("Buy request_id %s (%zu bytes)", shown, strlen (bad[i]));

      refuse_invalid (f, "Buy",
                      buy_params (PROBE_ITEM, "alice", 1,
                                  options_with (RESERVE_OPTION_REQUEST_ID,
                                                g_variant_new_string (bad[i]))),
                      RESERVE_OPTION_REQUEST_ID, what);
    }
  assert_still_serving (f);

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *shown = show (good[i]);
      g_autofree char *what = g_strdup_printf ("Buy request_id %s", shown);
      g_autoptr(GVariant) first = NULL;
      g_autoptr(GVariant) again = NULL;
      guint64 order = 0, replayed = 0;
      guint32 remaining = 0, remaining_again = 0;

      first = accept (f, "Buy",
                      buy_params (PROBE_ITEM, "alice", 1,
                                  options_with (RESERVE_OPTION_REQUEST_ID,
                                                g_variant_new_string (good[i]))),
                      "(tu)", what);
      g_variant_get (first, "(tu)", &order, &remaining);
      /* Used as a key: the same id again takes nothing. */
      again = accept (f, "Buy",
                      buy_params (PROBE_ITEM, "alice", 1,
                                  options_with (RESERVE_OPTION_REQUEST_ID,
                                                g_variant_new_string (good[i]))),
                      "(tu)", what);
      g_variant_get (again, "(tu)", &replayed, &remaining_again);
      g_assert_cmpuint (replayed, ==, order);
      g_assert_cmpuint (remaining_again, ==, remaining);
    }
}

/* --- options: wrong types, unknown keys, keys twice ----------------------- */

typedef struct {
  GVariant *options; /* owned */
  char *names;       /* what the message must contain */
  char *what;
} OptionsRow;

static void
options_row_free (gpointer data)
{
  OptionsRow *row = data;

  g_variant_unref (row->options);
  g_free (row->names);
  g_free (row->what);
  g_free (row);
}

static void
add_row (GPtrArray *rows, GVariant *options, const char *names, const char *what)
{
  OptionsRow *row = g_new0 (OptionsRow, 1);

  row->options = g_variant_ref_sink (options);
  row->names = g_strdup (names);
  row->what = g_strdup (what);
  g_ptr_array_add (rows, row);
}

/* Values of many types, for an option that takes @good_type. */
static GPtrArray *
values_of_other_types (const char *good_type)
{
  static const guint8 not_utf8[] = { 'r', 0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 'x' };
  GPtrArray *values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  GVariant *all[] = {
    g_variant_new_byte (1),
    g_variant_new_boolean (TRUE),
    g_variant_new_int16 (1),
    g_variant_new_uint16 (1),
    g_variant_new_int32 (1),
    g_variant_new_uint32 (1),
    g_variant_new_int64 (1),
    g_variant_new_uint64 (1),
    g_variant_new_double (1.0),
    g_variant_new_string ("r1"),
    g_variant_new_object_path ("/r1"),
    g_variant_new_signature ("s"),
    /* Invalid UTF-8 can only come as bytes. */
    g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, not_utf8, sizeof not_utf8, 1),
    g_variant_new_bytestring ("r1"),
    g_variant_new_strv ((const char *const[]){ "r1", NULL }, -1),
    g_variant_new ("au", NULL),
    g_variant_new_variant (g_variant_new_string ("r1")),
    g_variant_new_variant (g_variant_new_uint32 (1)),
    g_variant_new_variant (g_variant_new_variant (g_variant_new_string ("r1"))),
    g_variant_new ("(s)", "r1"),
    g_variant_new ("(u)", 1),
    options_with (RESERVE_OPTION_REQUEST_ID, g_variant_new_string ("r1")),
    options_with (RESERVE_OPTION_PER_USER_LIMIT, g_variant_new_uint32 (1)),
  };

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    {
      g_variant_ref_sink (all[i]);
      if (g_str_equal (g_variant_get_type_string (all[i]), good_type))
        g_variant_unref (all[i]);
      else
        g_ptr_array_add (values, all[i]);
    }
  return values;
}

/* Rows for a method whose one option is @key of type @good_type, with
 * @good and @other_good two accepted values. */
static GPtrArray *
hostile_options (const char *method,
                 const char *key,
                 const char *good_type,
                 GVariant *good,
                 GVariant *other_good,
                 const char *other_methods_key)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func (options_row_free);
  g_autoptr(GPtrArray) wrong = values_of_other_types (good_type);
  g_autofree char *upper = g_ascii_strup (key, -1);
  g_autofree char *capital = g_strdup (key);
  g_autofree char *dashed = g_strdelimit (g_strdup (key), "_", '-');
  g_autofree char *trailing = g_strconcat (key, " ", NULL);
  g_autofree char *leading = g_strconcat (" ", key, NULL);
  g_autofree char *zero_width = g_strdup_printf ("%c\xe2\x80\x8b%s", key[0], key + 1);
  g_autofree char *long_key = g_strnfill (4096, 'k');
  g_autofree char *with_newline = g_strconcat (key, "\n", NULL);
  g_autofree char *newline_shown = g_strconcat (key, "\\x0a", NULL);
  g_autofree char *with_c1 = g_strconcat (key, "\xc2\x80", NULL);
  const char *unknown[][2] = {
    /* key, what the message must contain */
    { "", "unknown option" },
    { upper, upper },
    { capital, capital },
    { dashed, dashed },
    { trailing, trailing },
    { leading, leading },
    { zero_width, zero_width },
    { other_methods_key, other_methods_key },
    { "bogus", "bogus" },
    { long_key, "unknown option" },
    { with_newline, newline_shown },
    { with_c1, "unknown option" },
  };

  capital[0] = g_ascii_toupper (capital[0]);

  for (guint i = 0; i < wrong->len; i++)
    {
      GVariant *value = g_ptr_array_index (wrong, i);
      g_autofree char *what =
        g_strdup_printf ("%s option %s of type %s", method, key, g_variant_get_type_string (value));

      add_row (rows, options_with (key, value), key, what);
    }
  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      g_autofree char *shown = show (unknown[i][0]);
      g_autofree char *what = g_strdup_printf ("%s unknown option %s", method, shown);

      add_row (rows, options_with (unknown[i][0], good), unknown[i][1], what);
    }

  /* The same key twice: which value was meant is unknowable. */
  {
    g_autofree char *what_same = g_strdup_printf ("%s option %s twice, same value", method, key);
    g_autofree char *what_other = g_strdup_printf ("%s option %s twice, two values", method, key);
    g_autofree char *what_wrong =
      g_strdup_printf ("%s option %s twice, second of a wrong type", method, key);
    GVariant *wrong_value = g_ptr_array_index (wrong, 0);

    add_row (rows, options_twice (key, good, good), key, what_same);
    add_row (rows, options_twice (key, good, other_good), key, what_other);
    add_row (rows, options_twice (key, good, wrong_value), key, what_wrong);
  }
  /* A good entry next to a bad one: refused as a whole. */
  {
    g_autofree char *what = g_strdup_printf ("%s option %s next to an unknown key", method, key);
    GVariant *entries[] = {
      g_variant_new_dict_entry (g_variant_new_string (key), g_variant_new_variant (good)),
      g_variant_new_dict_entry (g_variant_new_string ("bogus"), g_variant_new_variant (good)),
    };

    add_row (rows, g_variant_new_array (NULL, entries, G_N_ELEMENTS (entries)), "bogus", what);
  }
  return rows;
}

static void
test_options_buy (Fixture *f, gconstpointer data)
{
  g_autoptr(GVariant) good = g_variant_ref_sink (g_variant_new_string ("r1"));
  g_autoptr(GVariant) other = g_variant_ref_sink (g_variant_new_string ("r2"));
  g_autoptr(GPtrArray) rows = hostile_options ("Buy", RESERVE_OPTION_REQUEST_ID, "s", good, other,
                                                RESERVE_OPTION_PER_USER_LIMIT);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) again = NULL;
  guint64 order = 0, replayed = 0;
  guint32 remaining = 0;

  for (guint i = 0; i < rows->len; i++)
    {
      OptionsRow *row = g_ptr_array_index (rows, i);

      refuse_invalid (f, "Buy", buy_params (PROBE_ITEM, "alice", 1, row->options), row->names,
                      row->what);
    }
  g_test_message ("%u hostile Buy options refused", rows->len);
  assert_still_serving (f);

  /* None of the refused calls used up "r1": it goes with other arguments
   * now, and a repeat of that call is a replay. */
  reply = accept (f, "Buy",
                  buy_params (PROBE_ITEM, "bob", 2, options_with (RESERVE_OPTION_REQUEST_ID, good)),
                  "(tu)", "Buy with request_id r1");
  g_variant_get (reply, "(tu)", &order, &remaining);
  again = accept (f, "Buy",
                  buy_params (PROBE_ITEM, "bob", 2, options_with (RESERVE_OPTION_REQUEST_ID, good)),
                  "(tu)", "Buy with request_id r1 again");
  g_variant_get (again, "(tu)", &replayed, NULL);
  g_assert_cmpuint (replayed, ==, order);
}

static void
test_options_create_item (Fixture *f, gconstpointer data)
{
  g_autoptr(GVariant) good = g_variant_ref_sink (g_variant_new_uint32 (2));
  g_autoptr(GVariant) other = g_variant_ref_sink (g_variant_new_uint32 (3));
  g_autoptr(GPtrArray) rows = hostile_options ("CreateItem", RESERVE_OPTION_PER_USER_LIMIT, "u",
                                                good, other, RESERVE_OPTION_REQUEST_ID);
  const guint32 limits[] = { 0, 1, G_MAXUINT32 };

  /* A new name each time, so that a wrongly accepted call would show. */
  for (guint i = 0; i < rows->len; i++)
    {
      OptionsRow *row = g_ptr_array_index (rows, i);

      refuse_invalid (f, "CreateItem", create_item_params ("fresh", 5, row->options), row->names,
                      row->what);
    }
  g_test_message ("%u hostile CreateItem options refused", rows->len);
  assert_still_serving (f);

  for (guint i = 0; i < G_N_ELEMENTS (limits); i++)
    {
      g_autofree char *name = g_strdup_printf ("limited-%u", limits[i]);
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GVariant) info = NULL;
      guint32 per_user_limit = 12345;

      g_variant_unref (accept (f, "CreateItem",
                               create_item_params (name, 5,
                                                   options_with (RESERVE_OPTION_PER_USER_LIMIT,
                                                                 g_variant_new_uint32 (limits[i]))),
                               "()", name));
      reply = accept (f, "GetItem", g_variant_new ("(s)", name), "(a{sv})", name);
      info = g_variant_get_child_value (reply, 0);
      g_assert_true (g_variant_lookup (info, RESERVE_OPTION_PER_USER_LIMIT, "u", &per_user_limit));
      g_assert_cmpuint (per_user_limit, ==, limits[i]);
    }
}

/* --- CreateItem capacity, Restock quantity and the capacity ceiling -------- */

static void
test_create_item_capacity (Fixture *f, gconstpointer data)
{
  const guint32 refused[] = { RESERVE_CAPACITY_MAX + 1, RESERVE_CAPACITY_MAX * 2u, G_MAXINT32 + 1u,
                              G_MAXUINT32 };
  const guint32 accepted[] = { 0, 1, RESERVE_CAPACITY_MAX };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *what = g_strdup_printf ("CreateItem capacity %u", refused[i]);
      g_autofree char *value = g_strdup_printf ("%u", refused[i]);

      refuse (f, "CreateItem", create_item_params ("huge", refused[i], NULL),
              RESERVE_ERROR_INVALID_ARGUMENT, "capacity", value, what);
    }
  assert_still_serving (f);
  for (guint i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      g_autofree char *name = g_strdup_printf ("cap-%u", accepted[i]);

      g_variant_unref (
        accept (f, "CreateItem", create_item_params (name, accepted[i], NULL), "()", name));
      g_assert_cmpuint (remaining_of (f, name), ==, accepted[i]);
    }
}

/* --- sale windows: SetSaleWindow and CreateItem's sale_start, sale_end --- */

static void
test_sale_window (Fixture *f, gconstpointer data)
{
  const gint64 refused[] = { -1, G_MININT64, RESERVE_SALE_TIME_MAX + 1, G_MAXINT64 };
  const gint64 accepted[] = { 0, 1, RESERVE_SALE_TIME_MAX };
  const char *const keys[] = { RESERVE_OPTION_SALE_START, RESERVE_OPTION_SALE_END };

  g_variant_unref (
    accept (f, "CreateItem", create_item_params ("window", 5, NULL), "()", "create window"));
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *value = g_strdup_printf ("%" G_GINT64_FORMAT, refused[i]);
      g_autofree char *what = g_strdup_printf ("sale window bound %s", value);

      refuse (f, "SetSaleWindow", g_variant_new ("(sxx)", "window", refused[i], (gint64) 0),
              RESERVE_ERROR_INVALID_ARGUMENT, "start", value, what);
      refuse (f, "SetSaleWindow", g_variant_new ("(sxx)", "window", (gint64) 0, refused[i]),
              RESERVE_ERROR_INVALID_ARGUMENT, "end", value, what);
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        refuse (f, "CreateItem",
                create_item_params ("fresh", 5,
                                    options_with (keys[k], g_variant_new_int64 (refused[i]))),
                RESERVE_ERROR_INVALID_ARGUMENT, keys[k], value, what);
    }
  /* The start must come before the end. */
  refuse (f, "SetSaleWindow", g_variant_new ("(sxx)", "window", (gint64) 2, (gint64) 2),
          RESERVE_ERROR_INVALID_ARGUMENT, "not before", "2", "start == end");
  refuse (f, "SetSaleWindow", g_variant_new ("(sxx)", "window", (gint64) 3, (gint64) 2),
          RESERVE_ERROR_INVALID_ARGUMENT, "not before", "3", "start after end");
  refuse (f, "SetSaleWindow", g_variant_new ("(sxx)", "bad name!", (gint64) 0, (gint64) 0),
          RESERVE_ERROR_INVALID_ARGUMENT, "item name", NULL, "bad item name");
  assert_still_serving (f);

  for (guint i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      g_autofree char *what = g_strdup_printf ("sale window bound %" G_GINT64_FORMAT, accepted[i]);

      g_variant_unref (accept (f, "SetSaleWindow",
                               g_variant_new ("(sxx)", "window", accepted[i], (gint64) 0), "()",
                               what));
      g_variant_unref (accept (f, "SetSaleWindow",
                               g_variant_new ("(sxx)", "window", (gint64) 0, accepted[i]), "()",
                               what));
    }
}

static void
test_restock (Fixture *f, gconstpointer data)
{
  const guint32 refused[] = { 0, RESERVE_RESTOCK_QUANTITY_MAX + 1, G_MAXINT32 + 1u, G_MAXUINT32 };
  g_autoptr(GVariant) reply = NULL;
  guint32 remaining = 0;

  g_variant_unref (
    accept (f, "CreateItem", create_item_params ("stock", 10, NULL), "()", "create stock"));
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *what = g_strdup_printf ("Restock quantity %u", refused[i]);
      g_autofree char *value = g_strdup_printf ("%u", refused[i]);

      refuse (f, "Restock", g_variant_new ("(su)", "stock", refused[i]),
              RESERVE_ERROR_INVALID_ARGUMENT, "quantity", value, what);
    }
  reply = accept (f, "Restock", g_variant_new ("(su)", "stock", 1), "(u)", "Restock 1");
  g_variant_get (reply, "(u)", &remaining);
  g_assert_cmpuint (remaining, ==, 11);
  g_clear_pointer (&reply, g_variant_unref);
  reply = accept (f, "Restock", g_variant_new ("(su)", "stock", RESERVE_RESTOCK_QUANTITY_MAX),
                  "(u)", "Restock 1000000");
  g_variant_get (reply, "(u)", &remaining);
  g_assert_cmpuint (remaining, ==, 11 + RESERVE_RESTOCK_QUANTITY_MAX);
  g_clear_pointer (&reply, g_variant_unref);

  /* The capacity ceiling: reaching 1000000000 is fine, passing it by one
   * unit is not, and sold units still count as capacity. */
  g_variant_unref (
    accept (f, "CreateItem",
            create_item_params ("ceiling", RESERVE_CAPACITY_MAX - RESERVE_RESTOCK_QUANTITY_MAX,
                                NULL),
            "()", "create ceiling"));
  g_variant_unref (
    accept (f, "Buy", buy_params ("ceiling", "alice", 7, NULL), "(tu)", "Buy 7 of ceiling"));
  refuse (f, "Restock", g_variant_new ("(su)", "ceiling", RESERVE_RESTOCK_QUANTITY_MAX + 1),
          RESERVE_ERROR_INVALID_ARGUMENT, "quantity", NULL, "Restock past both limits");
  reply = accept (f, "Restock", g_variant_new ("(su)", "ceiling", RESERVE_RESTOCK_QUANTITY_MAX - 1),
                  "(u)", "Restock to one below the ceiling");
  g_variant_get (reply, "(u)", &remaining);
  g_assert_cmpuint (remaining, ==, RESERVE_CAPACITY_MAX - 1 - 7);
  g_clear_pointer (&reply, g_variant_unref);
  refuse (f, "Restock", g_variant_new ("(su)", "ceiling", 2), RESERVE_ERROR_INVALID_ARGUMENT,
          "capacity", "1000000001", "Restock one past the ceiling");
  refuse (f, "Restock", g_variant_new ("(su)", "ceiling", RESERVE_RESTOCK_QUANTITY_MAX),
          RESERVE_ERROR_INVALID_ARGUMENT, "capacity", NULL, "Restock far past the ceiling");
  reply =
    accept (f, "Restock", g_variant_new ("(su)", "ceiling", 1), "(u)", "Restock to the ceiling");
  g_variant_get (reply, "(u)", &remaining);
  g_assert_cmpuint (remaining, ==, RESERVE_CAPACITY_MAX - 7);
  refuse (f, "Restock", g_variant_new ("(su)", "ceiling", 1), RESERVE_ERROR_INVALID_ARGUMENT,
          "capacity", NULL, "Restock at the ceiling");

  /* An item created at the ceiling takes no restock at all. */
  g_variant_unref (accept (f, "CreateItem", create_item_params ("full", RESERVE_CAPACITY_MAX, NULL),
                           "()", "create full"));
  refuse (f, "Restock", g_variant_new ("(su)", "full", 1), RESERVE_ERROR_INVALID_ARGUMENT,
          "capacity", NULL, "Restock an item at the ceiling");
}

/* --- Cancel: order ids ------------------------------------------------------- */

static void
test_cancel_order_ids (Fixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply =
               accept (f, "Buy", buy_params (PROBE_ITEM, "alice", 3, NULL), "(tu)", "Buy 3");
  guint64 order = 0;
  guint32 remaining = 0, cancelled_remaining = 0;
  guint64 ids[] = { 0, 0, G_MAXINT64, (guint64) G_MAXINT64 + 1, G_MAXUINT64 - 1, G_MAXUINT64 };

  g_variant_get (reply, "(tu)", &order, &remaining);
  ids[1] = order + 1;
  /* Cancel takes any 64-bit number; one that is no order is NoSuchOrder
   * (docs/api.md lists no InvalidArgument for Cancel), and it names the number. */
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autofree char *what = g_strdup_printf ("Cancel %" G_GUINT64_FORMAT, ids[i]);
      g_autofree char *value = g_strdup_printf ("%" G_GUINT64_FORMAT, ids[i]);

      refuse (f, "Cancel", g_variant_new ("(t)", ids[i]), RESERVE_ERROR_NO_SUCH_ORDER, value, NULL,
              what);
    }
  g_clear_pointer (&reply, g_variant_unref);
  reply = accept (f, "Cancel", g_variant_new ("(t)", order), "(u)", "Cancel the order");
  g_variant_get (reply, "(u)", &cancelled_remaining);
  g_assert_cmpuint (cancelled_remaining, ==, remaining + 3);
  refuse (f, "Cancel", g_variant_new ("(t)", order), RESERVE_ERROR_ALREADY_CANCELLED, "", NULL,
          "Cancel it again");
}

/* --- signatures: GDBus answers before the daemon's code runs ---------------- */

typedef struct {
  const char *method;
  const char *parameters; /* GVariant text; NULL sends no body */
  const char *expected;   /* the signature the message must name */
} SignatureRow;

static const SignatureRow signature_rows[] = {
  { "Buy", NULL, "(ssua{sv})" },
  { "Buy", "()", "(ssua{sv})" },
  { "Buy", "('probe',)", "(ssua{sv})" },
  { "Buy", "('probe', 'alice')", "(ssua{sv})" },
  { "Buy", "('probe', 'alice', uint32 1)", "(ssua{sv})" },
  { "Buy", "('probe', 'alice', uint32 1, @a{sv} {}, 'extra')", "(ssua{sv})" },
  { "Buy", "('probe', 'alice', int32 1, @a{sv} {})", "(ssua{sv})" },
  { "Buy", "('probe', 'alice', uint64 1, @a{sv} {})", "(ssua{sv})" },
  { "Buy", "('probe', 'alice', uint16 1, @a{sv} {})", "(ssua{sv})" },
  { "Buy", "('probe', 'alice', '1', @a{sv} {})", "(ssua{sv})" },
  { "Buy", "('probe', 'alice', uint32 1, @a{ss} {})", "(ssua{sv})" },
  { "Buy", "('probe', 'alice', uint32 1, @av [])", "(ssua{sv})" },
  { "Buy", "('probe', 'alice', uint32 1, <@a{sv} {}>)", "(ssua{sv})" },
  { "Buy", "(<'probe'>, 'alice', uint32 1, @a{sv} {})", "(ssua{sv})" },
  { "Buy", "(objectpath '/probe', 'alice', uint32 1, @a{sv} {})", "(ssua{sv})" },
  { "Buy", "(signature 's', 'alice', uint32 1, @a{sv} {})", "(ssua{sv})" },
  { "Buy", "(b'probe', 'alice', uint32 1, @a{sv} {})", "(ssua{sv})" },
  { "Buy", "('probe', b'alice', uint32 1, @a{sv} {})", "(ssua{sv})" },
  { "Buy", "('probe', ['alice'], uint32 1, @a{sv} {})", "(ssua{sv})" },
  { "Cancel", NULL, "(t)" },
  { "Cancel", "(uint32 1,)", "(t)" },
  { "Cancel", "(int64 1,)", "(t)" },
  { "Cancel", "('1',)", "(t)" },
  { "Cancel", "(uint64 1, uint64 2)", "(t)" },
  { "Cancel", "(<uint64 1>,)", "(t)" },
  { "GetItem", NULL, "(s)" },
  { "GetItem", "(uint32 1,)", "(s)" },
  { "GetItem", "('probe', 'probe')", "(s)" },
  { "GetItem", "(<'probe'>,)", "(s)" },
  { "GetItem", "(b'probe',)", "(s)" },
  { "GetItem", "(objectpath '/probe',)", "(s)" },
  { "ListItems", "('probe',)", "()" },
  { "ListItems", "(uint32 0,)", "()" },
  { "ListOrders", NULL, "(s)" },
  { "ListOrders", "('alice', 'bob')", "(s)" },
  { "ListOrders", "(b'alice',)", "(s)" },
  { "ListOrders", "(@as [],)", "(s)" },
  { "CreateItem", NULL, "(sua{sv})" },
  { "CreateItem", "('fresh', uint32 1)", "(sua{sv})" },
  { "CreateItem", "('fresh', int32 1, @a{sv} {})", "(sua{sv})" },
  { "CreateItem", "('fresh', uint64 1, @a{sv} {})", "(sua{sv})" },
  { "CreateItem", "('fresh', uint32 1, @a{sv} {}, uint32 1)", "(sua{sv})" },
  { "CreateItem", "('fresh', uint32 1, @a{su} {})", "(sua{sv})" },
  { "Restock", NULL, "(su)" },
  { "Restock", "('probe',)", "(su)" },
  { "Restock", "('probe', int32 1)", "(su)" },
  { "Restock", "('probe', uint64 1)", "(su)" },
  { "Restock", "('probe', uint32 1, uint32 1)", "(su)" },
  { "Restock", "(uint32 1, 'probe')", "(su)" },
  { "GetStatistics", "('commits',)", "()" },
  { "SetSaleWindow", NULL, "(sxx)" },
  { "SetSaleWindow", "('probe', int64 1)", "(sxx)" },
  { "SetSaleWindow", "('probe', uint64 1, int64 2)", "(sxx)" },
  { "SetSaleWindow", "('probe', int32 1, int32 2)", "(sxx)" },
  { "GetStatistics", "(@a{sv} {},)", "()" },
};

static void
test_signatures (Fixture *f, gconstpointer data)
{
  static const guint8 not_utf8[] = { 'p', 0xff, 'r', 0xc3, 'o' };

  for (guint i = 0; i < G_N_ELEMENTS (signature_rows); i++)
    {
      const SignatureRow *row = &signature_rows[i];
      GVariant *parameters = row->parameters ? g_variant_new_parsed (row->parameters) : NULL;
      g_autofree char *what =
        g_strdup_printf ("%s%s", row->method,
                         row->parameters ? row->parameters : " without a body");

      refuse_by_gdbus (f, RESERVE_INTERFACE, row->method, parameters, G_DBUS_ERROR_INVALID_ARGS,
                       row->expected, what);
    }

  /* Invalid UTF-8 where a string belongs can only be sent as bytes, and
   * then it is the wrong type. */
  refuse_by_gdbus (f, RESERVE_INTERFACE, "GetItem",
                   g_variant_new ("(@ay)", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, not_utf8,
                                                                      sizeof not_utf8, 1)),
                   G_DBUS_ERROR_INVALID_ARGS, "(s)", "GetItem with invalid UTF-8 bytes");
  refuse_by_gdbus (f, RESERVE_INTERFACE, "Buy",
                   g_variant_new ("(s@ayu@a{sv})", PROBE_ITEM,
                                  g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, not_utf8,
                                                             sizeof not_utf8, 1),
                                  1, empty_options ()),
                   G_DBUS_ERROR_INVALID_ARGS, "(ssua{sv})",
                   "Buy with a user of invalid UTF-8 bytes");

  /* Names that are not the API's. */
  refuse_by_gdbus (f, RESERVE_INTERFACE, "Buy2", buy_params (PROBE_ITEM, "alice", 1, NULL),
                   G_DBUS_ERROR_UNKNOWN_METHOD, "Buy2", "unknown method Buy2");
  refuse_by_gdbus (f, RESERVE_INTERFACE, "buy", buy_params (PROBE_ITEM, "alice", 1, NULL),
                   G_DBUS_ERROR_UNKNOWN_METHOD, "buy", "method name in lower case");
  refuse_by_gdbus (f, "org.reserved.Reserve2", "Buy", buy_params (PROBE_ITEM, "alice", 1, NULL),
                   G_DBUS_ERROR_UNKNOWN_METHOD, "org.reserved.Reserve2", "unknown interface");
  refuse_by_gdbus (f, "org.reserved.reserve1", "Buy", buy_params (PROBE_ITEM, "alice", 1, NULL),
                   G_DBUS_ERROR_UNKNOWN_METHOD, "org.reserved.reserve1",
                   "interface name in lower case");
  g_test_message ("%zu wrong signatures answered by GDBus", G_N_ELEMENTS (signature_rows) + 2);
  assert_still_serving (f);
}

/* --- properties ----------------------------------------------------------------- */

static char *
get_string_property (Fixture *f, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = call_on (f->bus.connection, &f->calls, PROPERTIES_INTERFACE, "Get",
                                        g_variant_new ("(ss)", RESERVE_INTERFACE, name),
                                        G_VARIANT_TYPE ("(v)"), &error);
  g_autoptr(GVariant) value = NULL;

  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING));
  return g_variant_dup_string (value, NULL);
}

static void
test_properties (Fixture *f, gconstpointer data)
{
  g_autofree char *version = get_string_property (f, "Version");
  g_autofree char *default_item = get_string_property (f, "DefaultItem");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GVariant) properties = NULL;
  struct {
    const char *method;
    const char *parameters;
    GDBusError code;
    const char *names;
  } rows[] = {
    { "Get", "('org.reserved.Reserve1', 'Nope')", G_DBUS_ERROR_INVALID_ARGS, "Nope" },
    { "Get", "('org.reserved.Reserve1', 'version')", G_DBUS_ERROR_INVALID_ARGS, "version" },
    { "Get", "('org.reserved.Reserve1', '')", G_DBUS_ERROR_INVALID_ARGS, "property" },
    { "Get", "('org.reserved.Reserve2', 'Version')", G_DBUS_ERROR_INVALID_ARGS,
      "org.reserved.Reserve2" },
    { "Get", "('', 'Version')", G_DBUS_ERROR_INVALID_ARGS, "interface" },
    { "Set", "('org.reserved.Reserve1', 'Version', <'9.9.9'>)", G_DBUS_ERROR_INVALID_ARGS,
      "Version" },
    { "Set", "('org.reserved.Reserve1', 'DefaultItem', <'other'>)", G_DBUS_ERROR_INVALID_ARGS,
      "DefaultItem" },
    { "Set", "('org.reserved.Reserve1', 'DefaultItem', <uint32 1>)", G_DBUS_ERROR_INVALID_ARGS,
      "DefaultItem" },
    { "Set", "('org.reserved.Reserve1', 'DefaultItem', <<'other'>>)", G_DBUS_ERROR_INVALID_ARGS,
      "DefaultItem" },
    { "Set", "('org.reserved.Reserve1', 'Nope', <'x'>)", G_DBUS_ERROR_INVALID_ARGS, "Nope" },
    { "Set", "('org.reserved.Reserve2', 'Version', <'x'>)", G_DBUS_ERROR_INVALID_ARGS,
      "org.reserved.Reserve2" },
    { "GetAll", "('org.reserved.Reserve2',)", G_DBUS_ERROR_INVALID_ARGS, "org.reserved.Reserve2" },
    { "GetAll", "('',)", G_DBUS_ERROR_INVALID_ARGS, "interface" },
    /* Wrong signatures of the Properties methods themselves: GDBus knows
     * these methods by their signatures, and answers any other as an
     * unknown method of the Properties interface. */
    { "Get", "('org.reserved.Reserve1',)", G_DBUS_ERROR_UNKNOWN_METHOD, PROPERTIES_INTERFACE },
    { "Get", "('org.reserved.Reserve1', 'Version', 'x')", G_DBUS_ERROR_UNKNOWN_METHOD,
      PROPERTIES_INTERFACE },
    { "Set", "('org.reserved.Reserve1', 'Version')", G_DBUS_ERROR_UNKNOWN_METHOD,
      PROPERTIES_INTERFACE },
    { "Set", "('org.reserved.Reserve1', 'Version', '9.9.9')", G_DBUS_ERROR_UNKNOWN_METHOD,
      PROPERTIES_INTERFACE },
    { "GetAll", "()", G_DBUS_ERROR_UNKNOWN_METHOD, PROPERTIES_INTERFACE },
  };

  g_assert_true (g_regex_match_simple ("^[0-9]+\\.[0-9]+\\.[0-9]+$", version, 0, 0));
  g_assert_cmpstr (default_item, ==, RESERVE_DEFAULT_ITEM);

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autofree char *what =
        g_strdup_printf ("Properties.%s%s", rows[i].method, rows[i].parameters);

      refuse_by_gdbus (f, PROPERTIES_INTERFACE, rows[i].method,
                       g_variant_new_parsed (rows[i].parameters), rows[i].code, rows[i].names,
                       what);
    }

  /* The read-only properties kept their values. */
  {
    g_autofree char *version_after = get_string_property (f, "Version");
    g_autofree char *default_item_after = get_string_property (f, "DefaultItem");

    g_assert_cmpstr (version_after, ==, version);
    g_assert_cmpstr (default_item_after, ==, default_item);
  }
  all = call_on (f->bus.connection, &f->calls, PROPERTIES_INTERFACE, "GetAll",
                 g_variant_new ("(s)", RESERVE_INTERFACE), G_VARIANT_TYPE ("(a{sv})"), &error);
  g_assert_no_error (error);
  properties = g_variant_get_child_value (all, 0);
  g_assert_cmpuint (g_variant_n_children (properties), ==, 2);
  g_assert_true (g_variant_lookup (properties, "Version", "s", NULL));
  g_assert_true (g_variant_lookup (properties, "DefaultItem", "s", NULL));
  assert_still_serving (f);
}

/* --- the longest strings the bus carries ------------------------------------- */

/* The test bus's max_message_size: set in data/test-bus.conf, or else
 * dbus-daemon's default. */
static gsize
bus_max_message_size (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "test-bus.conf", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRegex) limit =
               g_regex_new ("<limit\\s+name=\"max_message_size\"\\s*>\\s*([0-9]+)\\s*</limit>", 0,
                            0, NULL);
  g_autoptr(GMatchInfo) match = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  if (g_regex_match (limit, contents, 0, &match))
    {
      g_autofree char *digits = g_match_info_fetch (match, 1);

      return (gsize) g_ascii_strtoull (digits, NULL, 10);
    }
  return DBUS_DAEMON_DEFAULT_MAX_MESSAGE_SIZE;
}

/* Room for the header and the other arguments of one call. */
#define MESSAGE_HEADROOM 4096

/* The other calls of /arguments/longest-strings: megabytes, but less than
 * the longest, since each call of tens of MiB takes about a second. */
#define SEVERAL_MIB (4u * 1024u * 1024u)

static GVariant *
huge_string (gsize length, char fill)
{
  return g_variant_new_take_string (g_strnfill (length, fill));
}

static void
test_longest_strings (Fixture *f, gconstpointer data)
{
  gsize max = bus_max_message_size ();
  gsize longest = max - MESSAGE_HEADROOM;
  g_autofree char *text = g_strnfill (longest, 'x');
  g_autofree char *several = g_strnfill (SEVERAL_MIB, 'x');
  g_autofree char *path = g_strnfill (SEVERAL_MIB, 'p');
  g_autofree guint8 *bytes = g_malloc (SEVERAL_MIB);
  g_autoptr(GDBusConnection) doomed = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  g_test_message ("the bus carries messages of up to %zu bytes; strings of %zu bytes are sent", max,
                  longest);
  /* The item name is checked first, so each bad argument goes with good
   * ones before it. */
  refuse_invalid (f, "Buy", buy_params (text, "alice", 1, NULL), "item name",
                  "Buy item of the longest");
  refuse_invalid (f, "Buy", buy_params (PROBE_ITEM, text, 1, NULL), "user name",
                  "Buy user of the longest");
  refuse_invalid (f, "Buy",
                  buy_params (PROBE_ITEM, "alice", 1,
                              options_with (RESERVE_OPTION_REQUEST_ID, huge_string (longest, 'r'))),
                  RESERVE_OPTION_REQUEST_ID, "Buy request_id of the longest");
  refuse_invalid (f, "Buy",
                  buy_params (PROBE_ITEM, "alice", 1,
                              options_with (text, g_variant_new_string ("r"))),
                  "unknown option", "Buy option key of the longest");

  /* Megabytes of bytes that are not UTF-8, where a string belongs. */
  memset (bytes, 0xff, SEVERAL_MIB);
  refuse_invalid (f, "Buy",
                  buy_params (PROBE_ITEM, "alice", 1,
                              options_with (RESERVE_OPTION_REQUEST_ID,
                                            g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes,
                                                                       SEVERAL_MIB, 1))),
                  RESERVE_OPTION_REQUEST_ID, "Buy request_id of megabytes of invalid UTF-8");
  refuse_invalid (f, "GetItem", g_variant_new ("(s)", several), "item name",
                  "GetItem of megabytes");
  refuse_invalid (f, "ListOrders", g_variant_new ("(s)", several), "user name",
                  "ListOrders of megabytes");
  refuse_invalid (f, "CreateItem", create_item_params (several, 1, NULL), "item name",
                  "CreateItem of megabytes");
  refuse_invalid (f, "CreateItem",
                  create_item_params ("fresh", 1, options_with (several, g_variant_new_uint32 (1))),
                  "unknown option", "CreateItem option key of megabytes");
  refuse_invalid (f, "Restock", g_variant_new ("(su)", several, 1), "item name",
                  "Restock of megabytes");
  assert_still_serving (f);

  /* GDBus's own answers quote what they were sent in full (they are not
   * the daemon's messages); the answer still fits on the bus, and the
   * daemon keeps its connection. */
  refuse_by_gdbus (f, PROPERTIES_INTERFACE, "Get",
                   g_variant_new ("(ss)", RESERVE_INTERFACE, several), G_DBUS_ERROR_INVALID_ARGS,
                   "xxxx", "Properties.Get of a property name of megabytes");
  path[0] = '/';
  f->calls++;
  reply = g_dbus_connection_call_sync (f->bus.connection, RESERVE_BUS_NAME, path, RESERVE_INTERFACE,
                                       "GetItem", g_variant_new ("(s)", PROBE_ITEM), NULL,
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD);
  g_clear_error (&error);
  assert_still_serving (f);

  /* One byte more than the bus carries: the bus drops the sender's
   * connection, the daemon never sees the call and keeps serving. */
  doomed = reserved_test_connect (reserved_test_daemon_get_address (f->bus.daemon));
  remember_state (f);
  f->calls++;
  reply = g_dbus_connection_call_sync (doomed, RESERVE_BUS_NAME, RESERVE_OBJECT_PATH,
                                       RESERVE_INTERFACE, "Buy",
                                       buy_params (PROBE_ITEM, "alice", 1,
                                                   options_with (RESERVE_OPTION_REQUEST_ID,
                                                                 huge_string (max + 1, 'r'))),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_null (reply);
  g_assert_nonnull (error);
  g_test_message ("the call past the limit failed with: %s", error->message);
  g_assert_true (g_dbus_connection_is_closed (doomed));
  assert_state_unchanged (f, "Buy past the bus's message size", TRUE);
  assert_still_serving (f);
}

/* --- error precedence ----------------------------------------------------------- */

/* Which of several bad arguments a message names: the daemon checks them
 * in the order of the signature, so the first bad one. Across kinds,
 * docs/api.md's order: InvalidArgument, NoSuchItem/NoSuchOrder,
 * PermissionDenied, ItemExists/AlreadyCancelled, LimitExceeded, SoldOut. */
static void
test_precedence (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  guint64 helper_calls = 0;

  g_variant_unref (accept (f, "CreateItem",
                           create_item_params ("tight", 1,
                                               options_with (RESERVE_OPTION_PER_USER_LIMIT,
                                                             g_variant_new_uint32 (1))),
                           "()", "create tight"));
  g_variant_unref (
    accept (f, "Buy", buy_params ("tight", "alice", 1, NULL), "(tu)", "sell out tight"));
  g_variant_unref (accept (f, "CreateItem",
                           create_item_params ("ceiling", RESERVE_CAPACITY_MAX - 1, NULL), "()",
                           "create ceiling"));

  /* Among bad arguments, the first in the signature is named. */
  refuse_invalid (f, "Buy",
                  buy_params (".bad", "bad\x01", 0,
                              options_with ("bogus", g_variant_new_boolean (TRUE))),
                  "item name", "Buy, everything bad");
  refuse_invalid (f, "Buy",
                  buy_params (PROBE_ITEM, "bad\x01", 0,
                              options_with ("bogus", g_variant_new_boolean (TRUE))),
                  "user name", "Buy, bad user, quantity and option");
  refuse_invalid (f, "Buy",
                  buy_params (PROBE_ITEM, "alice", 0,
                              options_with ("bogus", g_variant_new_boolean (TRUE))),
                  "quantity", "Buy, bad quantity and option");
  refuse_invalid (f, "CreateItem",
                  create_item_params (".bad", RESERVE_CAPACITY_MAX + 1,
                                      options_with ("bogus", g_variant_new_boolean (TRUE))),
                  "item name", "CreateItem, everything bad");
  refuse_invalid (f, "CreateItem",
                  create_item_params ("fresh", RESERVE_CAPACITY_MAX + 1,
                                      options_with ("bogus", g_variant_new_boolean (TRUE))),
                  "capacity", "CreateItem, bad capacity and option");
  refuse_invalid (f, "Restock", g_variant_new ("(su)", ".bad", 0), "item name",
                  "Restock, both bad");

  /* InvalidArgument before NoSuchItem. */
  refuse_invalid (f, "Buy",
                  buy_params ("missing", "alice", 1,
                              options_with (RESERVE_OPTION_REQUEST_ID, g_variant_new_string (""))),
                  RESERVE_OPTION_REQUEST_ID, "Buy of a missing item, empty request_id");
  refuse_invalid (f, "Buy",
                  buy_params ("missing", "alice", 1,
                              options_twice (RESERVE_OPTION_REQUEST_ID, g_variant_new_string ("a"),
                                             g_variant_new_string ("b"))),
                  RESERVE_OPTION_REQUEST_ID, "Buy of a missing item, request_id twice");
  refuse_invalid (f, "Buy",
                  buy_params ("missing", "alice", 1,
                              options_with (RESERVE_OPTION_REQUEST_ID, g_variant_new_uint32 (1))),
                  RESERVE_OPTION_REQUEST_ID, "Buy of a missing item, request_id a number");
  refuse_invalid (f, "Restock", g_variant_new ("(su)", "missing", G_MAXUINT32), "quantity",
                  "Restock of a missing item, bad quantity");
  refuse (f, "Restock", g_variant_new ("(su)", "missing", 1), RESERVE_ERROR_NO_SUCH_ITEM, "missing",
          NULL, "Restock of a missing item");
  /* InvalidArgument before ItemExists. */
  refuse_invalid (f, "CreateItem",
                  create_item_params (PROBE_ITEM, 5,
                                      options_twice (RESERVE_OPTION_PER_USER_LIMIT,
                                                     g_variant_new_uint32 (1),
                                                     g_variant_new_uint32 (1))),
                  RESERVE_OPTION_PER_USER_LIMIT, "CreateItem of an existing item, option twice");
  refuse_invalid (f, "CreateItem",
                  create_item_params (PROBE_ITEM, 5,
                                      options_with (RESERVE_OPTION_PER_USER_LIMIT,
                                                    g_variant_new_int32 (1))),
                  RESERVE_OPTION_PER_USER_LIMIT,
                  "CreateItem of an existing item, option of a wrong type");
  /* InvalidArgument before LimitExceeded and SoldOut. */
  refuse_invalid (f, "Buy",
                  buy_params ("tight", "alice", 1,
                              options_with (RESERVE_OPTION_REQUEST_ID,
                                            g_variant_new_bytestring ("r"))),
                  RESERVE_OPTION_REQUEST_ID,
                  "Buy past the limit and sold out, request_id as bytes");
  refuse_invalid (f, "Buy",
                  buy_params ("tight", "bob", 1,
                              options_with ("Request_ID", g_variant_new_string ("r"))),
                  "Request_ID", "Buy sold out, unknown key");
  refuse (f, "Buy", buy_params ("tight", "alice", 1, NULL), RESERVE_ERROR_LIMIT_EXCEEDED, "", NULL,
          "Buy past the limit and sold out");
  refuse (f, "Buy", buy_params ("tight", "bob", 1, NULL), RESERVE_ERROR_SOLD_OUT, "", NULL,
          "Buy sold out");

  /* The same from a caller who is no admin: InvalidArgument and NoSuchItem
   * before PermissionDenied. */
  remember_state (f);
  g_ptr_array_add (argv, (char *) "not-admin");
  g_ptr_array_add (argv, (char *) reserved_test_daemon_get_address (f->bus.daemon));
  g_ptr_array_add (argv, NULL);
  g_assert_cmpuint (geteuid (), ==, 0); /* calling as another uid needs root, as in CI */
  out = reserved_test_run_helper ((const char *const *) argv->pdata, RESERVED_TEST_NOBODY_UID,
                                  "not-admin");
  g_assert_true (
    g_ascii_string_to_unsigned (g_strstrip (out), 10, 1, G_MAXUINT32, &helper_calls, NULL));
  /* Every call the helper made was a refusal it checked. */
  f->calls += (guint) helper_calls;
  f->refusals += (guint) helper_calls;
  /* Some of them were refused by the store, inside a write transaction. */
  assert_state_unchanged (f, "the calls of a caller who is no admin", FALSE);
}

/* The helper's half, as uid 65534: every call here must be refused. */
static int
helper_not_admin (char **args)
{
  g_autoptr(GDBusConnection) connection = reserved_test_connect (args[0]);
  guint calls = 0;
  struct {
    const char *method;
    GVariant *parameters;
    ReserveError code;
    const char *names;
  } rows[] = {
    { "CreateItem", create_item_params (".bad", 5, NULL), RESERVE_ERROR_INVALID_ARGUMENT,
      "item name" },
    { "CreateItem", create_item_params ("fresh", RESERVE_CAPACITY_MAX + 1, NULL),
      RESERVE_ERROR_INVALID_ARGUMENT, "capacity" },
    { "CreateItem",
      create_item_params ("fresh", 5, options_with ("bogus", g_variant_new_boolean (TRUE))),
      RESERVE_ERROR_INVALID_ARGUMENT, "bogus" },
    { "CreateItem",
      create_item_params ("fresh", 5,
                          options_twice (RESERVE_OPTION_PER_USER_LIMIT, g_variant_new_uint32 (1),
                                         g_variant_new_uint32 (2))),
      RESERVE_ERROR_INVALID_ARGUMENT, RESERVE_OPTION_PER_USER_LIMIT },
    { "CreateItem",
      create_item_params (PROBE_ITEM, 5, options_with ("bogus", g_variant_new_boolean (TRUE))),
      RESERVE_ERROR_INVALID_ARGUMENT, "bogus" },
    { "CreateItem", create_item_params ("fresh", 5, NULL), RESERVE_ERROR_PERMISSION_DENIED, "" },
    { "CreateItem", create_item_params (PROBE_ITEM, 5, NULL), RESERVE_ERROR_PERMISSION_DENIED, "" },
    { "Restock", g_variant_new ("(su)", PROBE_ITEM, 0), RESERVE_ERROR_INVALID_ARGUMENT,
      "quantity" },
    { "Restock", g_variant_new ("(su)", ".bad", 1), RESERVE_ERROR_INVALID_ARGUMENT, "item name" },
    { "Restock", g_variant_new ("(su)", "missing", 0), RESERVE_ERROR_INVALID_ARGUMENT, "quantity" },
    /* A Restock is authorized before the store is read: for a caller who
     * may not restock, what only the item can tell (that it is missing, or
     * that the ceiling would be passed) comes after PermissionDenied. */
    { "Restock", g_variant_new ("(su)", "ceiling", 2), RESERVE_ERROR_PERMISSION_DENIED, "" },
    { "Restock", g_variant_new ("(su)", "missing", 1), RESERVE_ERROR_PERMISSION_DENIED, "" },
    { "Restock", g_variant_new ("(su)", "ceiling", 1), RESERVE_ERROR_PERMISSION_DENIED, "" },
    { "ListOrders", g_variant_new ("(s)", "bad\x01"), RESERVE_ERROR_INVALID_ARGUMENT, "user name" },
    { "ListOrders", g_variant_new ("(s)", "\xc2\x85"), RESERVE_ERROR_INVALID_ARGUMENT,
      "user name" },
    { "ListOrders", g_variant_new ("(s)", ""), RESERVE_ERROR_PERMISSION_DENIED, "" },
    { "Buy",
      buy_params (PROBE_ITEM, "alice", 1,
                  options_with (RESERVE_OPTION_REQUEST_ID, g_variant_new_string (""))),
      RESERVE_ERROR_INVALID_ARGUMENT, RESERVE_OPTION_REQUEST_ID },
    { "Buy", buy_params ("tight", "alice", 1, options_with ("bogus", g_variant_new_boolean (TRUE))),
      RESERVE_ERROR_INVALID_ARGUMENT, "bogus" },
  };

  g_assert_cmpuint (geteuid (), ==, RESERVED_TEST_NOBODY_UID);
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;
      g_autofree char *parameters = g_variant_print (rows[i].parameters, FALSE);
      g_autofree char *what = g_strdup_printf ("as uid %u: %s %s", (guint) RESERVED_TEST_NOBODY_UID,
                                               rows[i].method, parameters);

      reply = call_on (connection, &calls, RESERVE_INTERFACE, rows[i].method, rows[i].parameters,
                       NULL, &error);
      assert_api_refusal (what, error, rows[i].code, rows[i].names, NULL);
    }
  g_dbus_connection_close_sync (connection, NULL, NULL);
  g_print ("%u\n", calls);
  return 0;
}

/* not-admin ADDRESS */
static const ReservedTestHelper helpers[] = { { "not-admin", 1, helper_not_admin }, { NULL } };

/* --- random: the rules restated, against hostile alphabets ------------------ */

static char *
random_text (const char *const *alphabet, guint alphabet_len, guint max_units)
{
  GString *out = g_string_new (NULL);
  guint units = (guint) g_test_rand_int_range (0, (gint32) max_units + 1);

  for (guint i = 0; i < units; i++)
    g_string_append (out, alphabet[g_test_rand_int_range (0, (gint32) alphabet_len)]);
  return g_string_free (out, FALSE);
}

static void
test_random (Fixture *f, gconstpointer data)
{
  /* Each argument comes from an alphabet of allowed pieces or from one
   * mixed with forbidden ones, so that every outcome happens often. */
  static const char *const item_allowed[] = {
    "a", "Z", "0", "9", ".", "_", ":", "-", "aaaaaaaaaaaaaaaa", "0123456789abcdef",
  };
  static const char *const item_hostile[] = {
    "a",
    "Z",
    "0",
    ".",
    "-",
    " ",
    "/",
    "'",
    "\x01",
    "\x7f",
    "\xc3\xa9",
    "\xe2\x80\x8b",
    "aaaaaaaaaaaaaaaa",
  };
  static const char *const user_allowed[] = {
    "a",
    "Z",
    " ",
    "~",
    "'",
    "%",
    "\xc2\xa0",
    "\xc3\xa9",
    "\xe2\x82\xac",
    "\xf0\x9f\x8e\x9f",
    "uuuuuuuuuuuuuuuu",
  };
  static const char *const user_hostile[] = {
    "a",
    " ",
    "\x01",
    "\t",
    "\x1f",
    "\x7f",
    "\xc2\x80",
    "\xc2\x9f",
    "\xc2\xa0",
    "\xe2\x82\xac",
    "uuuuuuuuuuuuuuuu",
  };
  static const guint32 quantities[] = { 0, 1, 2, 9999, 10000, 10001, G_MAXUINT32 };
  /* A value that is not a number fails the test: read as 0 it would make
   * no call and pass. */
  guint n = reserved_test_env_uint ("RESERVED_TEST_ARGUMENTS", 300, 1000000);
  guint accepted = 0, refused = 0, missing = 0;

  g_variant_unref (accept (f, "CreateItem", create_item_params ("a", RESERVE_CAPACITY_MAX, NULL),
                           "()", "create a"));
  for (guint i = 0; i < n; i++)
    {
      gint32 item_kind = g_test_rand_int_range (0, 3);
      g_autofree char *item = item_kind == 0 ? g_strdup ("a") /* exists, so that purchases happen */
                              : item_kind == 1
                                ? random_text (item_allowed, G_N_ELEMENTS (item_allowed), 6)
                                : random_text (item_hostile, G_N_ELEMENTS (item_hostile), 6);
      g_autofree char *user = g_test_rand_bit ()
                                ? random_text (user_allowed, G_N_ELEMENTS (user_allowed), 6)
                                : random_text (user_hostile, G_N_ELEMENTS (user_hostile), 6);
      guint32 quantity = quantities[g_test_rand_int_range (0, G_N_ELEMENTS (quantities))];
      g_autofree char *shown_item = show (item);
      g_autofree char *shown_user = show (user);
      g_autofree char *what = g_strdup_printf ("Buy %s %s %u", shown_item, shown_user, quantity);

      if (!reserved_test_valid_item_name (item))
        refuse_invalid (f, "Buy", buy_params (item, user, quantity, NULL), "item name", what);
      else if (!reserved_test_valid_user_name (user))
        refuse_invalid (f, "Buy", buy_params (item, user, quantity, NULL), "user name", what);
      else if (quantity < 1 || quantity > RESERVE_BUY_QUANTITY_MAX)
        refuse_invalid (f, "Buy", buy_params (item, user, quantity, NULL), "quantity", what);
      else if (!g_str_equal (item, "a"))
        {
          refuse (f, "Buy", buy_params (item, user, quantity, NULL), RESERVE_ERROR_NO_SUCH_ITEM,
                  item, NULL, what);
          missing++;
          continue;
        }
      else
        {
          g_variant_unref (
            accept (f, "Buy", buy_params (item, user, quantity, NULL), "(tu)", what));
          accepted++;
          continue;
        }
      refused++;
    }
  g_test_message ("%u random purchases: %u accepted, %u InvalidArgument, %u NoSuchItem", n,
                  accepted, refused, missing);
}

/* --- main ------------------------------------------------------------------------ */

static void
add_cases (void)
{
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/arguments/buy/quantity", test_buy_quantity);
  ADD ("/arguments/item-names", test_item_names);
  ADD ("/arguments/user-names", test_user_names);
  ADD ("/arguments/request-id", test_request_id);
  ADD ("/arguments/options/buy", test_options_buy);
  ADD ("/arguments/options/create-item", test_options_create_item);
  ADD ("/arguments/create-item/capacity", test_create_item_capacity);
  ADD ("/arguments/restock", test_restock);
  ADD ("/arguments/sale-window", test_sale_window);
  ADD ("/arguments/cancel/order-ids", test_cancel_order_ids);
  ADD ("/arguments/signatures", test_signatures);
  ADD ("/arguments/properties", test_properties);
  ADD ("/arguments/longest-strings", test_longest_strings);
  ADD ("/arguments/precedence", test_precedence);
  ADD ("/arguments/random", test_random);
}

RESERVED_TEST_MAIN (add_cases, helpers)
