/* Fuzz target: the daemon's configuration file. The input is the file's
 * contents, as reserved_config_load() would read them. Whatever the bytes,
 * the parser gives exactly one of a configuration whose values are inside
 * their documented limits, or an error that names the file. */
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <glib.h>

#include "fuzz-log.h"
#include "reserve-names.h"
#include "reserve-validate.h"
#include "reserved-config.h"

#define ORIGIN "/etc/reserved/reserved.conf"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
assert_within_limits (const ReservedConfig *config)
{
  g_assert_nonnull (config->default_item);
  g_assert_true (reserve_validate_item_name (config->default_item, NULL));
  g_assert_cmpuint (config->initial_capacity, <=, RESERVE_CAPACITY_MAX);
  g_assert_cmpuint (config->busy_timeout_ms, <=, RESERVE_BUSY_TIMEOUT_MAX_MS);
  g_assert_nonnull (config->admin_uids);
  g_assert_nonnull (config->admin_gids);
  /* -1 is "no change" to chown() and friends, never a real id. */
  for (guint i = 0; i < config->admin_uids->len; i++)
    g_assert_cmpuint (g_array_index (config->admin_uids, uid_t, i), !=, (uid_t) -1);
  for (guint i = 0; i < config->admin_gids->len; i++)
    g_assert_cmpuint (g_array_index (config->admin_gids, gid_t, i), !=, (gid_t) -1);
}

/* An accepted file lists its admins in a form GKeyFile itself can read as
 * lists: a value it cannot read must be refused, not taken as no admins. */
static void
assert_lists_readable (const uint8_t *data, size_t size)
{
  static const char *const list_keys[] = { "AdminUsers", "AdminGroups" };
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();

  g_assert_true (g_key_file_load_from_data (keyfile, (const char *) data, size,
                                            G_KEY_FILE_NONE, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (list_keys); i++)
    {
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) entries = NULL;

      if (!g_key_file_has_key (keyfile, "reserved", list_keys[i], NULL))
        continue;
      entries = g_key_file_get_string_list (keyfile, "reserved", list_keys[i], NULL, &error);
      g_assert_no_error (error);
    }
}

static void
assert_same_config (const ReservedConfig *a, const ReservedConfig *b)
{
  g_assert_cmpstr (a->default_item, ==, b->default_item);
  g_assert_cmpuint (a->initial_capacity, ==, b->initial_capacity);
  g_assert_cmpuint (a->busy_timeout_ms, ==, b->busy_timeout_ms);
  g_assert_cmpmem (a->admin_uids->data, a->admin_uids->len * sizeof (uid_t),
                   b->admin_uids->data, b->admin_uids->len * sizeof (uid_t));
  g_assert_cmpmem (a->admin_gids->data, a->admin_gids->len * sizeof (gid_t),
                   b->admin_gids->data, b->admin_gids->len * sizeof (gid_t));
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  reserve_fuzz_abort_on_warnings ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) again_error = NULL;
  g_autoptr(ReservedConfig) config =
    reserved_config_parse ((const char *) data, size, ORIGIN, &error);
  /* The daemon reads its file once, but a parse that depended on anything
   * but the bytes (uninitialized memory, state left by an earlier parse)
   * would show as a second answer that differs. */
  g_autoptr(ReservedConfig) again =
    reserved_config_parse ((const char *) data, size, ORIGIN, &again_error);

  if (config != NULL)
    {
      g_assert_null (error);
      assert_within_limits (config);
      assert_lists_readable (data, size);
      g_assert_nonnull (again);
      assert_same_config (config, again);
      return 0;
    }

  g_assert_nonnull (error);
  g_assert_true (error->domain == G_KEY_FILE_ERROR);
  g_assert_nonnull (error->message);
  /* The message names the file first, then says what is wrong with it. */
  g_assert_true (g_str_has_prefix (error->message, ORIGIN ": "));
  g_assert_cmpuint (strlen (error->message), >, strlen (ORIGIN ": "));
  g_assert_null (again);
  g_assert_error (again_error, error->domain, error->code);
  g_assert_cmpstr (again_error->message, ==, error->message);
  return 0;
}
