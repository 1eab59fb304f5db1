/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: what a caller puts in a D-Bus message before the store sees
 * it. The input is read two ways:
 *
 *  - as the serialized form of an a{sv}, loaded as untrusted data the way
 *    GDBus loads a message body, and checked against the options Buy and
 *    CreateItem take (reserved_options_check(), then Buy's request_id);
 *  - up to its first NUL byte, as text given to the checks of item names,
 *    user names and request ids, and to reserve_describe_text(), which
 *    quotes such text in error messages.
 *
 * Each check is compared with a plain restatement of the rule in docs/api.md, and
 * every refusal must be an InvalidArgument whose message is valid UTF-8:
 * GDBus sends error messages as D-Bus strings, which must be. */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "fuzz-log.h"
#include "reserve-error.h"
#include "reserve-names.h"
#include "reserve-validate.h"
#include "reserved-options.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
assert_refusal (const GError *error)
{
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (strlen (error->message), >, 0);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

/* TRUE when every entry of @options has a key and a type that @specs
 * lists, and no key comes twice: what reserved_options_check() must
 * accept, no more, no less. */
static gboolean
options_follow_specs (GVariant *options, const ReservedOptionSpec *specs)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (gsize i = 0; i < g_variant_n_children (options); i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (options, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
      g_autoptr(GVariant) value = g_variant_get_variant (boxed);
      const char *name = g_variant_get_string (key, NULL);
      gboolean known = FALSE;

      for (const ReservedOptionSpec *spec = specs; spec->key != NULL; spec++)
        if (strcmp (spec->key, name) == 0 &&
            strcmp (spec->type, g_variant_get_type_string (value)) == 0)
          known = TRUE;
      if (!known || !g_hash_table_add (seen, g_strdup (name)))
        return FALSE;
    }
  return TRUE;
}

static void
check_options (GVariant *options, const ReservedOptionSpec *specs, const char *method)
{
  g_autoptr(GError) error = NULL;
  gboolean accepted = reserved_options_check (options, specs, method, &error);

  g_assert_cmpint (accepted, ==, options_follow_specs (options, specs));
  if (accepted)
    g_assert_no_error (error);
  else
    assert_refusal (error);
}

static void
check_buy_options (GVariant *options)
{
  g_autoptr(GError) error = NULL;
  const char *request_id = NULL;

  if (!reserved_options_check (options, reserved_buy_options, "Buy", NULL))
    return;
  /* As the Buy handler does next: the request_id, if any, must be a valid
   * one. */
  if (!g_variant_lookup (options, RESERVE_OPTION_REQUEST_ID, "&s", &request_id))
    return;
  if (!reserve_validate_request_id (request_id, &error))
    assert_refusal (error);
}

static void
check_serialized_options (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GVariant) untrusted =
               g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
  g_autoptr(GVariant) options = g_variant_get_normal_form (untrusted);

  g_assert_true (g_variant_is_normal_form (options));
  check_options (options, reserved_buy_options, "Buy");
  check_options (options, reserved_create_item_options, "CreateItem");
  check_buy_options (options);
}

static gboolean
is_control_character (gunichar c)
{
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f);
}

/* docs/api.md: 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-',
 * starting with a letter or digit. */
static gboolean
is_item_name (const char *text)
{
  static const char allowed[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-";
  size_t len = strlen (text);

  return len >= 1 && len <= RESERVE_NAME_MAX_BYTES && strspn (text, allowed) == len &&
         strchr ("._:-", text[0]) == NULL;
}

/* docs/api.md: 1 to 64 bytes of UTF-8 without control characters. */
static gboolean
is_user_name (const char *text)
{
  size_t len = strlen (text);

  if (len < 1 || len > RESERVE_NAME_MAX_BYTES || !g_utf8_validate (text, -1, NULL))
    return FALSE;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (is_control_character (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

/* docs/api.md: 1 to 128 bytes of UTF-8. */
static gboolean
is_request_id (const char *text)
{
  size_t len = strlen (text);

  return len >= 1 && len <= RESERVE_REQUEST_ID_MAX_BYTES && g_utf8_validate (text, -1, NULL);
}

static void
check_validator (gboolean (*validate) (const char *text, GError **error),
                 gboolean (*rule) (const char *text),
                 const char *text)
{
  g_autoptr(GError) error = NULL;
  gboolean valid = validate (text, &error);

  g_assert_cmpint (valid, ==, rule (text));
  if (valid)
    g_assert_no_error (error);
  else
    assert_refusal (error);
}

/* The quoted text is what a message shows of a caller's bytes: printable,
 * valid UTF-8 between quotes, and short however long the input. */
static void
check_described_text (const char *text)
{
  g_autofree char *described = reserve_describe_text (text);
  glong chars;

  g_assert_true (g_utf8_validate (described, -1, NULL));
  g_assert_true (g_str_has_prefix (described, "“"));
  g_assert_true (g_str_has_suffix (described, "”"));
  chars = g_utf8_strlen (described, -1);
  /* Two quotes, an ellipsis, and at most 80 shown characters of up to four
   * ASCII characters each (\xNN). */
  g_assert_cmpint (chars, <=, 2 + 1 + 80 * 4);
  for (const char *p = described; *p != '\0'; p = g_utf8_next_char (p))
    g_assert_false (is_control_character (g_utf8_get_char (p)));
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
  g_autofree char *text = g_strndup ((const char *) data, size);

  check_serialized_options (data, size);
  check_validator (reserve_validate_item_name, is_item_name, text);
  check_validator (reserve_validate_user_name, is_user_name, text);
  check_validator (reserve_validate_request_id, is_request_id, text);
  check_described_text (text);
  return 0;
}
