/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration file: the defaults, every key, and a refusal for every
 * mistake an admin can make, with a message that names the file, the key
 * and the value. */
#include <string.h>

#include <glib/gstdio.h>

#include "reserve-names.h"
#include "reserved-config.h"
#include "reserved-test-error.h"
#include "reserved-test-main.h"

#define ORIGIN "/etc/reserved/test.conf"

static ReservedConfig *
parse (const char *text, GError **error)
{
  return reserved_config_parse (text, strlen (text), ORIGIN, error);
}

static ReservedConfig *
parse_ok (const char *text)
{
  g_autoptr(GError) error = NULL;

  return reserved_test_ok (parse (text, &error), &error);
}

/* The file that sets @key to @value, which must parse. */
static ReservedConfig *
parse_key_ok (const char *key, const char *value)
{
  g_autofree char *text = g_strdup_printf ("[reserved]\n%s=%s\n", key, value);

  g_test_message ("%s", text);
  return parse_ok (text);
}

/* @text is refused with @code; the message names the origin and each of
 * @parts (NULL-terminated). */
static void
assert_refused (const char *text, int code, ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ReservedConfig) config = parse (text, &error);
  const char *part;
  va_list parts;

  g_assert_null (config);
  g_assert_error (error, G_KEY_FILE_ERROR, code);
  reserved_test_assert_message_has (error, ORIGIN);
  va_start (parts, code);
  while ((part = va_arg (parts, const char *)) != NULL)
    reserved_test_assert_message_has (error, part);
  va_end (parts);
}

/* The keys of earlier versions that @config found with a value. */
static void
assert_retired (const ReservedConfig *config, const char *const *expected)
{
  if (!g_strv_equal ((const char *const *) config->retired_keys, expected))
    {
      g_autofree char *found = g_strjoinv (", ", config->retired_keys);
      g_error ("retired keys found: [%s]", found);
    }
}

/* @config has these values, and no retired key. */
static void
assert_values (const ReservedConfig *config,
               const char *default_item,
               guint32 initial_capacity,
               guint32 busy_timeout_ms)
{
  g_assert_cmpstr (config->default_item, ==, default_item);
  g_assert_cmpuint (config->initial_capacity, ==, initial_capacity);
  g_assert_cmpuint (config->busy_timeout_ms, ==, busy_timeout_ms);
  g_assert_cmpuint (g_strv_length (config->retired_keys), ==, 0);
}

static void
assert_defaults (const ReservedConfig *config)
{
  assert_values (config, "ticket", 100, 2000);
}

static void
test_defaults (void)
{
  static const char *const texts[] = {
    "",
    "[reserved]\n",
    "# only a comment\n\n[reserved]\n# DefaultItem=seat\n",
    "[reserved]\n#BusyTimeout=5\n",
    "[reserved]\nAdminUsers=\nAdminGroups=\n",
  };
  g_autoptr(ReservedConfig) config = reserved_config_new_default ();

  assert_defaults (config);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(ReservedConfig) parsed = parse_ok (texts[i]);
      assert_defaults (parsed);
    }
}

static void
test_default_item (void)
{
  static const char *const names[] = {
    "seat", "Seat-12.A:b_c", "9lives",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 64 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(ReservedConfig) config = parse_key_ok ("DefaultItem", names[i]);

      assert_values (config, names[i], 100, 2000);
    }
}

typedef struct {
  const char *text;
  guint32 value;
} NumberCase;

/* Each of @cases as the value of @key (InitialCapacity or BusyTimeout)
 * parses to its number, and leaves the other keys at their defaults. */
static void
assert_numbers (const char *key, const NumberCase *cases, gsize n_cases)
{
  gboolean timeout = g_str_equal (key, "BusyTimeout");

  for (gsize i = 0; i < n_cases; i++)
    {
      g_autoptr(ReservedConfig) config = parse_key_ok (key, cases[i].text);

      assert_values (config, "ticket", timeout ? 100 : cases[i].value,
                     timeout ? cases[i].value : 2000);
    }
}

static void
test_initial_capacity (void)
{
  static const NumberCase cases[] = {
    { "0", 0 },
    { "1", 1 },
    { "250", 250 },
    { "1000000000", 1000000000 },
  };

  assert_numbers ("InitialCapacity", cases, G_N_ELEMENTS (cases));
}

static void
test_busy_timeout (void)
{
  static const NumberCase cases[] = {
    { "0", 0 }, { "1", 1 }, { "2000", 2000 }, { "60000", 60000 }, { "3600000", 3600000 },
  };

  assert_numbers ("BusyTimeout", cases, G_N_ELEMENTS (cases));
}

/* AdminUsers and AdminGroups are polkit's business now: a file that still
 * has them loads, whatever their value, and they are reported so the
 * daemon can say what to do instead. They grant nothing. */
static void
test_retired_admin_users (void)
{
  static const char *const admin_users[] = { "AdminUsers", NULL };
  g_autoptr(ReservedConfig) config =
               parse_ok ("[reserved]\nAdminUsers=root;0;1234; 77 ;4294967294;\n");

  assert_retired (config, admin_users);
  g_assert_cmpstr (config->default_item, ==, "ticket");
}

static void
test_retired_admin_groups (void)
{
  static const char *const both[] = { "AdminUsers", "AdminGroups", NULL };
  static const char *const admin_groups[] = { "AdminGroups", NULL };
  g_autoptr(ReservedConfig) config = parse_ok ("[reserved]\nAdminGroups=root;0;4321\n");
  g_autoptr(ReservedConfig) with_both =
               parse_ok ("[reserved]\nAdminGroups=wheel\nAdminUsers=alice\n");

  assert_retired (config, admin_groups);
  assert_retired (with_both, both);
}

/* Values that earlier versions refused (unknown names, bad escapes, text
 * that is not UTF-8) no longer stop the daemon: nothing reads them. */
static void
test_retired_any_value (void)
{
  static const char *const texts[] = {
    "[reserved]\nAdminUsers=no-such-user-for-reserved\n",
    "[reserved]\nAdminUsers=alice\\q\n",
    "[reserved]\nAdminGroups=r\xc3\x28t\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(ReservedConfig) config = parse_ok (texts[i]);
      g_assert_cmpuint (g_strv_length (config->retired_keys), ==, 1);
    }
}

static void
test_every_key (void)
{
  g_autoptr(ReservedConfig) config = parse_ok ("# reserved's configuration\n"
                                                "[reserved]\n"
                                                "DefaultItem = concert\n"
                                                "InitialCapacity = 5000\n"
                                                "BusyTimeout = 30000\n");

  assert_values (config, "concert", 5000, 30000);
}

static void
test_bad_initial_capacity (void)
{
  static const char *const values[] = {
    "abc", "-1", "1000000001", "4294967296", "12abc", "1e3", "0x10", "1.5",
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *text = g_strdup_printf ("[reserved]\nInitialCapacity=%s\n", values[i]);

      assert_refused (text, G_KEY_FILE_ERROR_INVALID_VALUE, "InitialCapacity", values[i], NULL);
    }
  assert_refused ("[reserved]\nInitialCapacity=\n", G_KEY_FILE_ERROR_INVALID_VALUE,
                  "InitialCapacity", "“”", NULL);
}

static void
test_bad_busy_timeout (void)
{
  static const char *const values[] = {
    "-1", "3600001", "abc", "1.5", "4294967296", "12abc", "1e3", "0x10", "2s", "+5",
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *text = g_strdup_printf ("[reserved]\nBusyTimeout=%s\n", values[i]);

      assert_refused (text, G_KEY_FILE_ERROR_INVALID_VALUE, "BusyTimeout", values[i],
                      "0 to 3600000", NULL);
    }
  assert_refused ("[reserved]\nBusyTimeout=\n", G_KEY_FILE_ERROR_INVALID_VALUE, "BusyTimeout", "“”",
                  "0 to 3600000", NULL);
}

static void
test_bad_default_item (void)
{
  static const char *const values[] = {
    "-ticket",
    ".ticket",
    "two words",
    "a/b",
    "tïcket",
    "semi,colon",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *text = g_strdup_printf ("[reserved]\nDefaultItem=%s\n", values[i]);

      assert_refused (text, G_KEY_FILE_ERROR_INVALID_VALUE, "DefaultItem", values[i], NULL);
    }
  assert_refused ("[reserved]\nDefaultItem=\n", G_KEY_FILE_ERROR_INVALID_VALUE, "DefaultItem", "“”",
                  NULL);
}

static void
test_unknown_key (void)
{
  assert_refused ("[reserved]\nDefaultitem=seat\n", G_KEY_FILE_ERROR_KEY_NOT_FOUND, "Defaultitem",
                  NULL);
  assert_refused ("[reserved]\nDefaultItem=seat\nAdminUser=root\n", G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                  "AdminUser", NULL);
  /* GKeyFile would keep a localized key out of sight. */
  assert_refused ("[reserved]\nDefaultItem[de]=platz\n", G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                  "DefaultItem[de]", NULL);
}

/* Database: a SQLite file or a PostgreSQL server; Node: this daemon's
 * name among those sharing one. */
static void
test_database_and_node (void)
{
  g_autoptr(ReservedConfig) defaults = parse_ok ("[reserved]\n");
  g_autoptr(ReservedConfig) file = parse_key_ok ("Database", "/srv/reserved/shop.db");
  g_autoptr(ReservedConfig) server =
               parse_key_ok ("Database",
                             "postgresql://db1,db2/reserved?target_session_attrs=read-write");
  g_autoptr(ReservedConfig) short_scheme = parse_key_ok ("Database", "postgres://db1/reserved");
  g_autoptr(ReservedConfig) node = parse_key_ok ("Node", "box-2.rack:7");

  g_assert_null (defaults->database);
  g_assert_null (defaults->node);
  g_assert_cmpstr (file->database, ==, "/srv/reserved/shop.db");
  g_assert_cmpstr (server->database, ==,
                   "postgresql://db1,db2/reserved?target_session_attrs=read-write");
  g_assert_cmpstr (short_scheme->database, ==, "postgres://db1/reserved");
  g_assert_cmpstr (node->node, ==, "box-2.rack:7");
}

static void
test_bad_database (void)
{
  static const char *const values[] = { "", "shop.db", "mysql://db1/reserved", "~/shop.db" };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *text = g_strdup_printf ("[reserved]\nDatabase=%s\n", values[i]);

      assert_refused (text, G_KEY_FILE_ERROR_INVALID_VALUE, "Database", values[i],
                      "an absolute path of a SQLite file, or a postgresql:// URI", NULL);
    }
}

static void
test_bad_node (void)
{
  static const char *const values[] = {
    "", "-box", "box 2", "a/b", "n23456789012345678901234567890123456789012345678901234567890123456"
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *text = g_strdup_printf ("[reserved]\nNode=%s\n", values[i]);

      assert_refused (text, G_KEY_FILE_ERROR_INVALID_VALUE, "Node", values[i], "1 to 64 characters",
                      NULL);
    }
}

static void
test_unknown_group (void)
{
  assert_refused ("[reserve]\nDefaultItem=seat\n", G_KEY_FILE_ERROR_GROUP_NOT_FOUND, "[reserve]",
                  NULL);
  assert_refused ("[reserved]\nDefaultItem=seat\n[extra]\n", G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                  "[extra]", NULL);
}

static void
test_syntax (void)
{
  assert_refused ("this is not a key file\n", G_KEY_FILE_ERROR_PARSE, NULL);
  assert_refused ("DefaultItem=seat\n[reserved]\n", G_KEY_FILE_ERROR_GROUP_NOT_FOUND, NULL);
}

/* --- files ----------------------------------------------------------------- */

typedef struct {
  char *dir;
} Folder;

static void
folder_set_up (Folder *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("reserved-test-config-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
folder_tear_down (Folder *f, gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        g_assert_cmpint (g_rmdir (path), ==, 0);
      else
        g_assert_cmpint (g_remove (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (f->dir), ==, 0);
  g_clear_pointer (&f->dir, g_free);
}

/* Loading @path fails (missing files allowed as @missing_ok says), with a
 * message that names it. Returns the error. (transfer full) */
static GError *
load_refused (const char *path, gboolean missing_ok)
{
  GError *error = NULL;
  g_autoptr(ReservedConfig) config = reserved_config_load (path, missing_ok, &error);

  g_assert_null (config);
  g_assert_nonnull (error);
  reserved_test_assert_message_has (error, path);
  return error;
}

static void
test_load_missing (Folder *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "reserved.conf", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(ReservedConfig) defaults = reserved_config_load (path, TRUE, &error);
  g_autoptr(GError) refused = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (defaults);
  assert_defaults (defaults);

  refused = load_refused (path, FALSE);
  g_assert_error (refused, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_load_file (Folder *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "reserved.conf", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(ReservedConfig) config = NULL;
  g_autoptr(GError) refused = NULL;

  g_assert_true (
    g_file_set_contents (path, "[reserved]\nDefaultItem=seat\nInitialCapacity=12\n", -1, &error));
  g_assert_no_error (error);
  config = reserved_config_load (path, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (config->default_item, ==, "seat");
  g_assert_cmpuint (config->initial_capacity, ==, 12);

  /* A mistake in a file that exists is an error even when a missing file
   * would be fine, and its message names the file. */
  g_assert_true (g_file_set_contents (path, "[reserved]\nInitialCapacity=lots\n", -1, &error));
  g_assert_no_error (error);
  refused = load_refused (path, TRUE);
  g_assert_error (refused, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  reserved_test_assert_message_has (refused, "InitialCapacity");
  reserved_test_assert_message_has (refused, "lots");
}

static void
test_load_not_a_file (Folder *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "reserved.conf", NULL);
  g_autoptr(GError) error = NULL;

  /* Only a missing file means the defaults. */
  g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
  error = load_refused (path, TRUE);
}

static void
add_cases (void)
{
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/default-item", test_default_item);
  g_test_add_func ("/config/initial-capacity", test_initial_capacity);
  g_test_add_func ("/config/busy-timeout", test_busy_timeout);
  g_test_add_func ("/config/retired/admin-users", test_retired_admin_users);
  g_test_add_func ("/config/retired/admin-groups", test_retired_admin_groups);
  g_test_add_func ("/config/retired/any-value", test_retired_any_value);
  g_test_add_func ("/config/every-key", test_every_key);
  g_test_add_func ("/config/bad/initial-capacity", test_bad_initial_capacity);
  g_test_add_func ("/config/bad/busy-timeout", test_bad_busy_timeout);
  g_test_add_func ("/config/bad/default-item", test_bad_default_item);
  g_test_add_func ("/config/bad/unknown-key", test_unknown_key);
  g_test_add_func ("/config/database-and-node", test_database_and_node);
  g_test_add_func ("/config/bad/database", test_bad_database);
  g_test_add_func ("/config/bad/node", test_bad_node);
  g_test_add_func ("/config/bad/unknown-group", test_unknown_group);
  g_test_add_func ("/config/bad/syntax", test_syntax);
  g_test_add ("/config/load/missing", Folder, NULL, folder_set_up, test_load_missing,
              folder_tear_down);
  g_test_add ("/config/load/file", Folder, NULL, folder_set_up, test_load_file, folder_tear_down);
  g_test_add ("/config/load/not-a-file", Folder, NULL, folder_set_up, test_load_not_a_file,
              folder_tear_down);
}

RESERVED_TEST_MAIN (add_cases, NULL)
