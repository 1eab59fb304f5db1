#define G_LOG_DOMAIN "reserved-config"

#include "reserved-config.h"

#include <errno.h>
#include <gio/gio.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "reserve-names.h"
#include "reserve-validate.h"

#define GROUP "reserved"

static const char *const known_keys[] = {
  "DefaultItem", "InitialCapacity", "BusyTimeout", "AdminUsers", "AdminGroups", NULL,
};

ReservedConfig *
reserved_config_new_default (void)
{
  ReservedConfig *config = g_new0 (ReservedConfig, 1);

  config->default_item = g_strdup (RESERVE_DEFAULT_ITEM);
  config->initial_capacity = RESERVE_DEFAULT_CAPACITY;
  config->busy_timeout_ms = RESERVE_BUSY_TIMEOUT_DEFAULT_MS;
  config->admin_uids = g_array_new (FALSE, FALSE, sizeof (uid_t));
  config->admin_gids = g_array_new (FALSE, FALSE, sizeof (gid_t));
  return config;
}

void
reserved_config_free (ReservedConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->default_item);
  g_array_unref (config->admin_uids);
  g_array_unref (config->admin_gids);
  g_free (config);
}

static gboolean
bad_value (GError    **error,
           const char *origin,
           const char *key,
           const char *value,
           const char *allowed)
{
  g_autofree char *described = reserve_describe_text (value);

  g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
               "%s: [" GROUP "] %s = %s is not valid: %s",
               origin, key, described, allowed);
  return FALSE;
}

/* Accepts a numeric id or a name that the system's user or group database
 * knows, so an admin can write either. */
static gboolean
resolve_id (const char *entry, gboolean is_group, guint32 *id)
{
  guint64 number = 0;

  if (g_ascii_string_to_unsigned (entry, 10, 0, G_MAXUINT32 - 1, &number, NULL))
    {
      *id = (guint32) number;
      return TRUE;
    }
  if (is_group)
    {
      struct group *gr = getgrnam (entry);
      if (gr != NULL)
        *id = gr->gr_gid;
      return gr != NULL;
    }
  else
    {
      struct passwd *pw = getpwnam (entry);
      if (pw != NULL)
        *id = pw->pw_uid;
      return pw != NULL;
    }
}

static gboolean
parse_id_list (GKeyFile   *keyfile,
               const char *origin,
               const char *key,
               gboolean    is_group,
               GArray     *out,
               GError    **error)
{
  g_autofree char *value = NULL;
  g_auto(GStrv) entries = NULL;

  if (!g_key_file_has_key (keyfile, GROUP, key, NULL))
    return TRUE;
  /* The raw value, split here: GKeyFile's list reader would turn a bad
   * escape or text that is not UTF-8 into an empty list, that is, into no
   * admins and no error. Names and ids hold no escapes anyway. */
  value = g_key_file_get_value (keyfile, GROUP, key, NULL);
  entries = g_strsplit (value != NULL ? value : "", ";", -1);
  for (gsize i = 0; entries[i] != NULL; i++)
    {
      g_autofree char *entry = g_strstrip (g_strdup (entries[i]));
      guint32 id = 0;

      if (*entry == '\0')
        continue;
      if (!resolve_id (entry, is_group, &id))
        return bad_value (error, origin, key, entry,
                          is_group ? "a list of group names or numeric gids, separated by ';'"
                                   : "a list of user names or numeric uids, separated by ';'");
      g_array_append_val (out, id);
    }
  return TRUE;
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
                     "%s: unknown group [%s]: the only group is [" GROUP "]",
                     origin, groups[i]);
        return FALSE;
      }
  if (!g_key_file_has_group (keyfile, GROUP))
    return TRUE;
  keys = g_key_file_get_keys (keyfile, GROUP, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!g_strv_contains (known_keys, keys[i]))
      {
        g_autofree char *known = g_strjoinv (", ", (char **) known_keys);
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                     "%s: unknown key %s in [" GROUP "]: known keys are %s",
                     origin, keys[i], known);
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
                   "%s: line %u: localized keys are not supported: %.*s",
                   origin, i + 1, (int) (equals - line), line);
      return FALSE;
    }
  return TRUE;
}

ReservedConfig *
reserved_config_parse (const char *data,
                       gsize       length,
                       const char *origin,
                       GError    **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(ReservedConfig) config = reserved_config_new_default ();
  g_autoptr(GError) local_error = NULL;

  if (!g_key_file_load_from_data (keyfile, data, length, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, local_error->domain, local_error->code,
                   "%s: %s", origin, local_error->message);
      return NULL;
    }
  if (!check_keys (keyfile, origin, error) ||
      !check_no_localized_keys (data, length, origin, error))
    return NULL;

  if (g_key_file_has_key (keyfile, GROUP, "DefaultItem", NULL))
    {
      g_autofree char *item = g_key_file_get_value (keyfile, GROUP, "DefaultItem", NULL);

      if (item == NULL || !reserve_validate_item_name (item, NULL))
        {
          bad_value (error, origin, "DefaultItem", item ? item : "",
                     "1 to 64 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-', "
                     "starting with a letter or digit");
          return NULL;
        }
      g_free (config->default_item);
      config->default_item = g_steal_pointer (&item);
    }

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

      if (text == NULL ||
          !g_ascii_string_to_unsigned (text, 10, 0, RESERVE_BUSY_TIMEOUT_MAX_MS,
                                       &milliseconds, NULL))
        {
          bad_value (error, origin, "BusyTimeout", text ? text : "",
                     "a whole number of milliseconds from 0 to 3600000");
          return NULL;
        }
      config->busy_timeout_ms = (guint32) milliseconds;
    }

  if (!parse_id_list (keyfile, origin, "AdminUsers", FALSE, config->admin_uids, error) ||
      !parse_id_list (keyfile, origin, "AdminGroups", TRUE, config->admin_gids, error))
    return NULL;

  return g_steal_pointer (&config);
}

ReservedConfig *
reserved_config_load (const char *path,
                      gboolean    missing_ok,
                      GError    **error)
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
