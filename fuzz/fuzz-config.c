/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
  g_assert_nonnull (config->retired_keys);
  for (guint i = 0; config->retired_keys[i] != NULL; i++)
    g_assert_true (g_str_equal (config->retired_keys[i], "AdminUsers") ||
                   g_str_equal (config->retired_keys[i], "AdminGroups"));
}

static void
assert_same_config (const ReservedConfig *a, const ReservedConfig *b)
{
  g_assert_cmpstr (a->default_item, ==, b->default_item);
  g_assert_cmpuint (a->initial_capacity, ==, b->initial_capacity);
  g_assert_cmpuint (a->busy_timeout_ms, ==, b->busy_timeout_ms);
  g_assert_true (
    g_strv_equal ((const char *const *) a->retired_keys, (const char *const *) b->retired_keys));
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
