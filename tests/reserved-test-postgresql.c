// SPDX-License-Identifier: LGPL-2.1-or-later
#include "reserved-test-postgresql.h"

#include <string.h>
#include <unistd.h>

#define ENVIRONMENT "RESERVED_TEST_POSTGRESQL"

gboolean
reserved_test_postgresql_enabled (void)
{
  const char *base = g_getenv (ENVIRONMENT);

  return base != NULL && *base != '\0';
}

/* @uri with its database name (the path after the host) set to @name. */
static char *
with_database (const char *uri, const char *name)
{
  const char *query = strchr (uri, '?');
  const char *authority = strstr (uri, "://");
  g_autofree char *head = g_strndup (uri, query != NULL ? (gsize) (query - uri) : strlen (uri));
  char *path;

  g_assert_nonnull (authority);
  path = strchr (head + (authority - uri) + 3, '/');
  if (path != NULL)
    *path = '\0';
  return g_strdup_printf ("%s/%s%s", head, name, query != NULL ? query : "");
}

static char *
database_of (const char *uri)
{
  const char *query = strchr (uri, '?');
  g_autofree char *head = g_strndup (uri, query != NULL ? (gsize) (query - uri) : strlen (uri));

  return g_strdup (strrchr (head, '/') + 1);
}

/* Runs @sql with psql on the server's own database. */
static void
psql (const char *sql)
{
  const char *argv[] = { "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", g_getenv (ENVIRONMENT),
                         "-c",   sql,  NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("psql -c '%s' failed: %s%s", sql, out, err);
}

char *
reserved_test_postgresql_create (const char *tag)
{
  g_autofree char *lower = g_ascii_strdown (tag, -1);
  g_autofree char *name = NULL;
  g_autofree char *sql = NULL;

  g_assert_true (reserved_test_postgresql_enabled ());
  g_strdelimit (lower, "-", '_');
  name = g_strdup_printf ("%s_%d", lower, (int) getpid ());
  sql = g_strdup_printf ("CREATE DATABASE \"%s\"", name);
  psql (sql);
  return with_database (g_getenv (ENVIRONMENT), name);
}

void
reserved_test_postgresql_drop (const char *uri)
{
  g_autofree char *name = database_of (uri);
  g_autofree char *sql = g_strdup_printf ("DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);

  psql (sql);
}
