/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-store"

#include "reserved-store-backend.h"

#include <string.h>

#include "reserve-error.h"

/* What stands for a password in messages. */
#define HIDDEN_PASSWORD "***"

gboolean
store_backend_is_postgresql (const char *database)
{
  return g_str_has_prefix (database, "postgresql://") || g_str_has_prefix (database, "postgres://");
}

/* Hides the value of a password= parameter in @query (from its '?'). */
static void
hide_query_password (GString *out, const char *query)
{
  g_auto(GStrv) pairs = g_strsplit (query, "&", -1);

  for (guint i = 0; pairs[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (out, '&');
      if (g_str_has_prefix (pairs[i], "password="))
        g_string_append (out, "password=" HIDDEN_PASSWORD);
      else
        g_string_append (out, pairs[i]);
    }
}

char *
store_backend_describe (const char *database)
{
  const char *scheme_end, *authority_end, *at, *colon;
  GString *out;

  if (!store_backend_is_postgresql (database))
    return g_strdup (database);
  /* scheme://[user[:password]@]hosts[/dbname][?parameters] */
  scheme_end = strstr (database, "://") + 3;
  authority_end = scheme_end + strcspn (scheme_end, "/?");
  out = g_string_new_len (database, scheme_end - database);
  at = g_strrstr_len (scheme_end, authority_end - scheme_end, "@");
  colon = at != NULL ? memchr (scheme_end, ':', at - scheme_end) : NULL;
  if (colon != NULL)
    {
      g_string_append_len (out, scheme_end, colon - scheme_end);
      g_string_append (out, ":" HIDDEN_PASSWORD);
      g_string_append_len (out, at, authority_end - at);
    }
  else
    g_string_append_len (out, scheme_end, authority_end - scheme_end);
  g_string_append_len (out, authority_end, strcspn (authority_end, "?"));
  if (strchr (authority_end, '?') != NULL)
    {
      g_string_append_c (out, '?');
      hide_query_password (out, strchr (authority_end, '?') + 1);
    }
  return g_string_free (out, FALSE);
}

/* The passwords @database holds, as written: in its user part and in
 * password= parameters. */
static GPtrArray *
uri_passwords (const char *database)
{
  GPtrArray *passwords = g_ptr_array_new_with_free_func (g_free);
  const char *scheme_end, *authority_end, *at, *colon, *query;

  if (!store_backend_is_postgresql (database))
    return passwords;
  scheme_end = strstr (database, "://") + 3;
  authority_end = scheme_end + strcspn (scheme_end, "/?");
  at = g_strrstr_len (scheme_end, authority_end - scheme_end, "@");
  colon = at != NULL ? memchr (scheme_end, ':', at - scheme_end) : NULL;
  if (colon != NULL && at > colon + 1)
    g_ptr_array_add (passwords, g_strndup (colon + 1, at - colon - 1));
  query = strchr (authority_end, '?');
  if (query != NULL)
    {
      g_auto(GStrv) pairs = g_strsplit (query + 1, "&", -1);

      for (guint i = 0; pairs[i] != NULL; i++)
        if (g_str_has_prefix (pairs[i], "password=") && pairs[i][9] != '\0')
          g_ptr_array_add (passwords, g_strdup (pairs[i] + 9));
    }
  return passwords;
}

char *
store_backend_hide_password (const char *database, const char *text)
{
  g_autoptr(GPtrArray) passwords = uri_passwords (database);
  g_autoptr(GString) out = g_string_new (text);

  for (guint i = 0; i < passwords->len; i++)
    g_string_replace (out, g_ptr_array_index (passwords, i), HIDDEN_PASSWORD, 0);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

StoreBackend *
store_backend_open (const StoreSettings *settings, GError **error)
{
  if (store_backend_is_postgresql (settings->database))
    return store_pg_open (settings, error);
  return store_sqlite_open (settings, error);
}
