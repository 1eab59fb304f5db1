/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reserved-options.h"

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserve-validate.h"

/* Bits of a guint64 say which keys were seen, so a method takes at most
 * this many option keys. */
#define OPTION_SPECS_MAX 64

static const ReservedOptionSpec *
find_spec (const ReservedOptionSpec *specs, const char *key)
{
  for (const ReservedOptionSpec *spec = specs; spec->key != NULL; spec++)
    if (g_str_equal (spec->key, key))
      return spec;
  return NULL;
}

static char *
describe_specs (const ReservedOptionSpec *specs)
{
  GString *out = g_string_new (NULL);

  for (const ReservedOptionSpec *spec = specs; spec->key != NULL; spec++)
    g_string_append_printf (out, "%s%s (%s)", out->len ? ", " : "", spec->key, spec->type);
  if (out->len == 0)
    g_string_append (out, "none");
  return g_string_free (out, FALSE);
}

gboolean
reserved_options_check (GVariant *options,
                        const ReservedOptionSpec *specs,
                        const char *method,
                        GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;
  guint64 seen = 0;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      const ReservedOptionSpec *spec = find_spec (specs, key);
      guint64 bit;

      if (spec == NULL)
        {
          g_autofree char *described = reserve_describe_text (key);
          g_autofree char *known = describe_specs (specs);

          g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
                       "unknown option %s: %s takes %s", described, method, known);
          g_variant_unref (value);
          return FALSE;
        }
      g_assert (spec - specs < OPTION_SPECS_MAX);
      bit = G_GUINT64_CONSTANT (1) << (spec - specs);
      /* An a{sv} may carry a key twice, and readers disagree on which
       * value counts (g_variant_lookup takes the first, a hash table the
       * last): the caller's intent is unknown, so nothing is done. */
      if (seen & bit)
        {
          g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
                       "option %s is given more than once: %s takes each option once", key, method);
          g_variant_unref (value);
          return FALSE;
        }
      seen |= bit;
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE (spec->type)))
        {
          g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_INVALID_ARGUMENT,
                       "option %s has type %s: it must be %s", key,
                       g_variant_get_type_string (value), spec->type);
          g_variant_unref (value);
          return FALSE;
        }
    }
  return TRUE;
}

const ReservedOptionSpec reserved_buy_options[] = { { RESERVE_OPTION_REQUEST_ID, "s" }, { NULL } };

const ReservedOptionSpec reserved_create_item_options[] = {
  { RESERVE_OPTION_PER_USER_LIMIT, "u" },
  { RESERVE_OPTION_SALE_START, "x" },
  { RESERVE_OPTION_SALE_END, "x" },
  { RESERVE_OPTION_OFFER_SECONDS, "u" },
  { NULL },
};

const ReservedOptionSpec reserved_list_orders_page_query[] = {
  { RESERVE_QUERY_LIMIT, "u" },          { RESERVE_QUERY_CURSOR, "s" },
  { RESERVE_QUERY_USER, "s" },           { RESERVE_QUERY_ITEM, "s" },
  { RESERVE_QUERY_STATE, "s" },          { RESERVE_QUERY_CREATED_FROM, "x" },
  { RESERVE_QUERY_CREATED_BEFORE, "x" }, { NULL }
};

const ReservedOptionSpec reserved_list_items_page_query[] = { { RESERVE_QUERY_LIMIT, "u" },
                                                              { RESERVE_QUERY_CURSOR, "s" },
                                                              { NULL } };

const ReservedOptionSpec reserved_hold_options[] = {
  { RESERVE_OPTION_REQUEST_ID, "s" },
  { RESERVE_OPTION_TTL, "u" },
  { RESERVE_OPTION_RELEASE_ON_DISCONNECT, "b" },
  { NULL },
};

const ReservedOptionSpec reserved_confirm_options[] = { { RESERVE_OPTION_OR_BUY, "b" }, { NULL } };

const ReservedOptionSpec reserved_join_waitlist_options[] = {
  { RESERVE_OPTION_REQUEST_ID, "s" },
  { RESERVE_OPTION_DEADLINE, "x" },
  { RESERVE_OPTION_RELEASE_ON_DISCONNECT, "b" },
  { NULL },
};
