/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-config"

#include "reserved-config.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>

#include "reserve-names.h"
#include "reserve-validate.h"

#define GROUP "reserved"

static const char *const known_keys[] = {
  "DefaultItem",    "InitialCapacity", "BusyTimeout", "MaxHoldSeconds",
  "MaxHoldsPerUid", "Database",        "Node",        NULL,
};

ReservedConfig *
reserved_config_new_default (void)
{
  ReservedConfig *config = g_new0 (ReservedConfig, 1);

  config->default_item = g_strdup (RESERVE_DEFAULT_ITEM);
  config->initial_capacity = RESERVE_DEFAULT_CAPACITY;
  config->busy_timeout_ms = RESERVE_BUSY_TIMEOUT_DEFAULT_MS;
  config->max_hold_seconds = RESERVE_MAX_HOLD_SECONDS_DEFAULT;
  config->max_holds_per_uid = RESERVE_MAX_HOLDS_PER_UID_DEFAULT;
  config->retired_keys = g_new0 (char *, 1);
  return config;
}

void
reserved_config_free (ReservedConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->default_item);
  g_free (config->database);
  g_free (config->node);
  g_strfreev (config->retired_keys);
  g_free (config);
}

static gboolean
bad_value (GError **error,
           const char *origin,
           const char *key,
           const char *value,
           const char *allowed)
{
  g_autofree char *described = reserve_describe_text (value);

  g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
               "%s: [" GROUP "] %s = %s is not valid: %s", origin, key, described, allowed);
  return FALSE;
}

/* An optional key holding a whole number of @unit from @min to @max. */
static gboolean
parse_whole_number (GKeyFile *keyfile,
                    const char *origin,
                    const char *key,
                    guint32 min,
                    guint32 max,
                    const char *unit,
                    guint32 *value,
                    GError **error)
{
  g_autofree char *text = NULL;
  g_autofree char *allowed = NULL;
  guint64 number = 0;

  if (!g_key_file_has_key (keyfile, GROUP, key, NULL))
    return TRUE;
  text = g_key_file_get_value (keyfile, GROUP, key, NULL);
  if (text != NULL && g_ascii_string_to_unsigned (text, 10, min, max, &number, NULL))
    {
      *value = (guint32) number;
      return TRUE;
    }
  allowed = g_strdup_printf ("a whole number of %s from %u to %u", unit, min, max);
  return bad_value (error, origin, key, text ? text : "", allowed);
}

/* An optional key naming an item or a node: the rules of item names. */
static gboolean
parse_name (GKeyFile *keyfile, const char *origin, const char *key, char **value, GError **error)
{
  g_autofree char *name = NULL;

  if (!g_key_file_has_key (keyfile, GROUP, key, NULL))
    return TRUE;
  name = g_key_file_get_value (keyfile, GROUP, key, NULL);
  if (name == NULL || !reserve_validate_item_name (name, NULL))
    return bad_value (error, origin, key, name ? name : "",
                      "1 to 64 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-', "
                      "starting with a letter or digit");
  g_free (*value);
  *value = g_steal_pointer (&name);
  return TRUE;
}

/* Database: the SQLite file (an absolute path) or a PostgreSQL server (a
 * libpq URI, which the store checks when it connects). */
static gboolean
parse_database (GKeyFile *keyfile, const char *origin, char **value, GError **error)
{
  g_autofree char *database = NULL;

  if (!g_key_file_has_key (keyfile, GROUP, "Database", NULL))
    return TRUE;
  database = g_key_file_get_value (keyfile, GROUP, "Database", NULL);
  if (database == NULL ||
      !(g_path_is_absolute (database) || g_str_has_prefix (database, "postgresql://") ||
        g_str_has_prefix (database, "postgres://")))
    return bad_value (error, origin, "Database", database ? database : "",
                      "an absolute path of a SQLite file, or a postgresql:// URI");
  g_free (*value);
  *value = g_steal_pointer (&database);
  return TRUE;
}

/* Keys of earlier versions that are read no more: a file that has them
 * still loads, and the daemon says at start what to do instead. */
static const char *const retired_keys[] = {
  "AdminUsers",
  "AdminGroups",
  NULL,
};

static char **
find_retired_keys (GKeyFile *keyfile)
{
  g_autoptr(GStrvBuilder) found = g_strv_builder_new ();

  for (guint i = 0; retired_keys[i] != NULL; i++)
    {
      g_autofree char *value = g_key_file_get_value (keyfile, GROUP, retired_keys[i], NULL);

      /* An empty value granted nothing before either. */
      if (value != NULL && *g_strstrip (value) != '\0')
        g_strv_builder_add (found, retired_keys[i]);
    }
  return g_strv_builder_end (found);
}

static gboolean
check_keys (GKeyFile *keyfile, const char *origin, GError **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups (keyfile, NULL);
  g_auto(GStrv) keys = NULL;

  for (guint i = 0; groups[i] != NULL; i++)
    if (g_strcmp0 (groups[i], GROUP) != 0)
      {
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                     "%s: unknown group [%s]: the only group is [" GROUP "]", origin, groups[i]);
        return FALSE;
      }
  if (!g_key_file_has_group (keyfile, GROUP))
    return TRUE;
  keys = g_key_file_get_keys (keyfile, GROUP, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!g_strv_contains (known_keys, keys[i]) && !g_strv_contains (retired_keys, keys[i]))
      {
        g_autofree char *known = g_strjoinv (", ", (char **) known_keys);
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                     "%s: unknown key %s in [" GROUP "]: known keys are %s", origin, keys[i],
                     known);
        return FALSE;
      }
  return TRUE;
}

/* GKeyFile hides localized keys (Key[de]) from g_key_file_get_keys(), so
 * they are looked for in the text: none has a meaning here. */
static gboolean
check_no_localized_keys (const char *data, gsize length, const char *origin, GError **error)
{
  g_autofree char *text = g_strndup (data, length);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      const char *equals = strchr (line, '=');
      const char *bracket = strchr (line, '[');

      while (g_ascii_isspace (*line))
        line++;
      if (*line == '#' || *line == '[' || equals == NULL || bracket == NULL || bracket > equals)
        continue;
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                   "%s: line %u: localized keys are not supported: %.*s", origin, i + 1,
                   (int) (equals - line), line);
      return FALSE;
    }
  return TRUE;
}

ReservedConfig *
reserved_config_parse (const char *data, gsize length, const char *origin, GError **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(ReservedConfig) config = reserved_config_new_default ();
  g_autoptr(GError) local_error = NULL;

  if (!g_key_file_load_from_data (keyfile, data, length, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, local_error->domain, local_error->code, "%s: %s", origin,
                   local_error->message);
      return NULL;
    }
  if (!check_keys (keyfile, origin, error) ||
      !check_no_localized_keys (data, length, origin, error))
    return NULL;

  if (!parse_name (keyfile, origin, "DefaultItem", &config->default_item, error) ||
      !parse_name (keyfile, origin, "Node", &config->node, error) ||
      !parse_database (keyfile, origin, &config->database, error))
    return NULL;

  if (g_key_file_has_key (keyfile, GROUP, "InitialCapacity", NULL))
    {
      g_autofree char *text = g_key_file_get_value (keyfile, GROUP, "InitialCapacity", NULL);
      guint64 capacity = 0;

      if (text == NULL ||
          !g_ascii_string_to_unsigned (text, 10, 0, RESERVE_CAPACITY_MAX, &capacity, NULL))
        {
          bad_value (error, origin, "InitialCapacity", text ? text : "",
                     "a whole number from 0 to 1000000000");
          return NULL;
        }
      config->initial_capacity = (guint32) capacity;
    }

  if (g_key_file_has_key (keyfile, GROUP, "BusyTimeout", NULL))
    {
      g_autofree char *text = g_key_file_get_value (keyfile, GROUP, "BusyTimeout", NULL);
      guint64 milliseconds = 0;

      if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, RESERVE_BUSY_TIMEOUT_MAX_MS,
                                                       &milliseconds, NULL))
        {
          bad_value (error, origin, "BusyTimeout", text ? text : "",
                     "a whole number of milliseconds from 0 to 3600000");
          return NULL;
        }
      config->busy_timeout_ms = (guint32) milliseconds;
    }

  if (!parse_whole_number (keyfile, origin, "MaxHoldSeconds", 1, RESERVE_MAX_HOLD_SECONDS_MAX,
                           "seconds", &config->max_hold_seconds, error) ||
      !parse_whole_number (keyfile, origin, "MaxHoldsPerUid", 1, RESERVE_MAX_HOLDS_PER_UID_MAX,
                           "holds", &config->max_holds_per_uid, error))
    return NULL;

  g_strfreev (config->retired_keys);
  config->retired_keys = find_retired_keys (keyfile);

  return g_steal_pointer (&config);
}

ReservedConfig *
reserved_config_load (const char *path, gboolean missing_ok, GError **error)
{
  g_autofree char *data = NULL;
  gsize length = 0;
  g_autoptr(GError) local_error = NULL;

  if (!g_file_get_contents (path, &data, &length, &local_error))
    {
      if (missing_ok && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_debug ("No configuration at %s; using the defaults", path);
          return reserved_config_new_default ();
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return reserved_config_parse (data, length, path, error);
}
