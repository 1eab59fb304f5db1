/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The check of a{sv} options arguments: unknown keys, wrong types and keys
 * given twice are InvalidArgument, with a message that names them. */
#include <string.h>

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserved-options.h"
#include "reserved-test-main.h"

static const ReservedOptionSpec buy_specs[] = {
  { RESERVE_OPTION_REQUEST_ID, "s" },
  { NULL },
};

static const ReservedOptionSpec create_specs[] = {
  { RESERVE_OPTION_PER_USER_LIMIT, "u" },
  { NULL },
};

static const ReservedOptionSpec no_specs[] = {
  { NULL },
};

static GVariant *
options_parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *options = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return options;
}

static void
assert_options_ok (const char *text, const ReservedOptionSpec *specs)
{
  g_autoptr(GVariant) options = options_parse (text);
  g_autoptr(GError) error = NULL;

  g_assert_true (reserved_options_check (options, specs, "Buy", &error));
  g_assert_no_error (error);
}

/* Refused as InvalidArgument, with a message that names @parts. */
static void
assert_options_refused (const char *text, const ReservedOptionSpec *specs, const char *method, ...)
{
  g_autoptr(GVariant) options = options_parse (text);
  g_autoptr(GError) error = NULL;
  const char *part;
  va_list parts;

  g_assert_false (reserved_options_check (options, specs, method, &error));
  g_assert_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT);
  va_start (parts, method);
  while ((part = va_arg (parts, const char *)) != NULL)
    if (strstr (error->message, part) == NULL)
      g_error ("the message “%s” does not mention “%s”", error->message, part);
  va_end (parts);
}

static void
test_options_empty (void)
{
  assert_options_ok ("@a{sv} {}", buy_specs);
  assert_options_ok ("@a{sv} {}", create_specs);
  assert_options_ok ("@a{sv} {}", no_specs);
}

static void
test_options_valid (void)
{
  assert_options_ok ("{'request_id': <'retry-1'>}", buy_specs);
  assert_options_ok ("{'per_user_limit': <uint32 4>}", create_specs);
}

static void
test_options_unknown_key (void)
{
  assert_options_refused ("{'requestid': <'x'>}", buy_specs, "Buy", "requestid", "Buy",
                          "request_id", NULL);
  assert_options_refused ("{'request_id': <'x'>}", create_specs, "CreateItem", "request_id",
                          "CreateItem", "per_user_limit", NULL);
  assert_options_refused ("{'anything': <true>}", no_specs, "Cancel", "anything", "Cancel", NULL);
  /* A bad key after a good one. */
  assert_options_refused ("{'request_id': <'x'>, 'Request_id': <'y'>}", buy_specs, "Buy",
                          "Request_id", NULL);
}

static void
test_options_wrong_type (void)
{
  assert_options_refused ("{'request_id': <uint32 5>}", buy_specs, "Buy", "request_id", NULL);
  assert_options_refused ("{'request_id': <['x']>}", buy_specs, "Buy", "request_id", NULL);
  assert_options_refused ("{'per_user_limit': <int32 4>}", create_specs, "CreateItem",
                          "per_user_limit", NULL);
  assert_options_refused ("{'per_user_limit': <'4'>}", create_specs, "CreateItem", "per_user_limit",
                          NULL);
  assert_options_refused ("{'per_user_limit': <<uint32 4>>}", create_specs, "CreateItem",
                          "per_user_limit", NULL);
}

/* Which of two values would count is a guess; the call is refused. */
static void
test_options_duplicate_key (void)
{
  assert_options_refused ("{'request_id': <'x'>, 'request_id': <'x'>}", buy_specs, "Buy",
                          "request_id", "more than once", NULL);
  assert_options_refused ("{'per_user_limit': <uint32 1>, 'per_user_limit': <uint32 2>}",
                          create_specs, "CreateItem", "per_user_limit", "more than once", NULL);
}

static void
add_cases (void)
{
  g_test_add_func ("/options/empty", test_options_empty);
  g_test_add_func ("/options/valid", test_options_valid);
  g_test_add_func ("/options/unknown-key", test_options_unknown_key);
  g_test_add_func ("/options/wrong-type", test_options_wrong_type);
  g_test_add_func ("/options/duplicate-key", test_options_duplicate_key);
}

RESERVED_TEST_MAIN (add_cases, NULL)
