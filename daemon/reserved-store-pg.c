// SPDX-License-Identifier: LGPL-2.1-or-later
/* The PostgreSQL backend: for several daemons, on several hosts, selling
 * one inventory. Its connections, its schema, and the writes: each batch
 * is one transaction sent in one round trip (libpq's pipeline mode),
 *
 *   BEGIN; lock the batch's items, in order of id; one function call per
 *   operation; COMMIT; Sync
 *
 * Each call answers with rows (reserved_step, reserved-store-pg-schema.sql)
 * instead of raising, so a refusal changes nothing and needs no savepoint,
 * and the others in the batch still commit. Locking the items in one
 * order means two daemons' batches wait for each other instead of
 * deadlocking; the conditional updates inside the functions would still
 * never oversell without the lock.
 *
 * A connection lost after COMMIT was sent and before its answer came
 * leaves the batch in doubt. It is never guessed: every operation records
 * its key and its answer in applied_operations in its own transaction, so
 * once the old server process is gone the daemon looks the keys up (on
 * whichever server is the primary now) and answers what committed with
 * what it recorded, and the rest with StorageFailure. */
#define G_LOG_DOMAIN "reserved-store"

#include <stdio.h>
#include <string.h>

#include "reserve-error.h"
#include "reserved-clock.h"
#include "reserved-store-pg-resources.h"
#include "reserved-store-pg.h"

/* "RSVD": the advisory lock under which one daemon at a time checks and
 * creates the schema. */
#define SCHEMA_LOCK_KEY "1381192260"
#define SCHEMA_VERSION  1
/* The least a lost connection is tried again for. */
#define RECONNECT_MIN_MS 30000
/* How many times a batch the server aborted for a deadlock or a
 * serialization failure is run again before its operations fail. */
#define MAX_RETRIES 3
/* Every this many batches, the answers kept for settling a lost COMMIT
 * that are older than a day are deleted. */
#define PRUNE_EVERY 4096

typedef struct {
  StoreBackend parent;
  char *uri;
  char *node;
  StorePgLink writer;  /* the writer thread only */
  char *writer_server; /* the writer's server (server_identity) */
  /* The kinds of operation (1 << WriteKind) whose call the writer's
   * session has prepared: each is parsed and planned once. */
  guint32 prepared;
  guint64 batches; /* since the last pruning */
  GMutex lock;     /* guards busy_timeout_ms */
  guint busy_timeout_ms;
  /* Operation keys: this daemon's node, a random 128-bit value chosen at
   * open, and a counter; unique across daemons and restarts. */
  char *key_prefix;
  guint64 key_counter;
  StorePgWatch *watch;
} StorePg;

/* --- connections ------------------------------------------------------------ */

/* Where the connection is, for messages: never the URI, which may hold a
 * password. */
static char *
describe_server (PGconn *conn)
{
  const char *host = conn != NULL ? PQhost (conn) : NULL;
  const char *port = conn != NULL ? PQport (conn) : NULL;
  const char *db = conn != NULL ? PQdb (conn) : NULL;

  return g_strdup_printf ("PostgreSQL database %s on %s%s%s", db != NULL ? db : "(unknown)",
                          host != NULL ? host : "(unknown host)",
                          port != NULL && *port != '\0' ? ":" : "", port != NULL ? port : "");
}

char *
store_pg_connection_message (PGconn *conn, const char *uri)
{
  const char *message = conn != NULL ? PQerrorMessage (conn) : NULL;

  /* libpq quotes a URI it cannot parse, password and all. */
  return g_strstrip (store_backend_hide_password (uri, message != NULL && *message != '\0'
                                                         ? message
                                                         : "the connection was lost"));
}

gboolean
store_pg_storage_error (StorePgLink *link,
                        const PGresult *result,
                        GError **error,
                        const char *doing)
{
  g_autofree char *where = describe_server (link->conn);
  g_autofree char *why = NULL;
  const char *state = result != NULL ? PQresultErrorField (result, PG_DIAG_SQLSTATE) : NULL;

  if (result != NULL && PQresultErrorMessage (result)[0] != '\0')
    why = g_strstrip (g_strdup (PQresultErrorMessage (result)));
  else
    why = store_pg_connection_message (link->conn, link->uri);
  link->failed = TRUE;
  if (state != NULL)
    g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                 "could not %s in %s: %s (SQLSTATE %s)", doing, where, why, state);
  else
    g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE, "could not %s in %s: %s",
                 doing, where, why);
  return FALSE;
}

gint64
store_pg_int (const PGresult *result, int row, int column)
{
  if (PQgetisnull (result, row, column))
    return 0;
  return g_ascii_strtoll (PQgetvalue (result, row, column), NULL, 10);
}

char *
store_pg_text (const PGresult *result, int row, int column)
{
  if (PQgetisnull (result, row, column))
    return NULL;
  return g_strdup (PQgetvalue (result, row, column));
}

void
store_pg_params_clear (StorePgParams *params)
{
  for (int i = 0; i < params->n; i++)
    g_clear_pointer (&params->owned[i], g_free);
  params->n = 0;
}

void
store_pg_params_text (StorePgParams *params, const char *value)
{
  g_assert (params->n < (int) G_N_ELEMENTS (params->values));
  params->owned[params->n] = NULL;
  params->values[params->n++] = value;
}

void
store_pg_params_number (StorePgParams *params, gint64 value)
{
  g_assert (params->n < (int) G_N_ELEMENTS (params->values));
  params->owned[params->n] = g_strdup_printf ("%" G_GINT64_FORMAT, value);
  params->values[params->n] = params->owned[params->n];
  params->n++;
}

void
store_pg_params_id (StorePgParams *params, guint64 id)
{
  store_pg_params_number (params, (gint64) MIN (id, (guint64) G_MAXINT64));
}

gboolean
store_pg_link_lost (StorePgLink *link)
{
  return link->conn == NULL || PQstatus (link->conn) != CONNECTION_OK;
}

void
store_pg_link_close (StorePgLink *link)
{
  g_clear_pointer (&link->conn, PQfinish);
}

PGconn *
store_pg_connect (const char *uri)
{
  /* Names and users are UTF-8 whatever the environment says (a
   * PGCLIENTENCODING), so every daemon reads what another wrote. */
  const char *const keywords[] = { "dbname", "client_encoding", NULL };
  const char *const values[] = { uri, "UTF8", NULL };

  return PQconnectdbParams (keywords, values, 1);
}

static guint
reconnect_budget_ms (const StorePgLink *link)
{
  return MAX (link->busy_timeout_ms, RECONNECT_MIN_MS);
}

/* The server's notices (a WARNING that a commit waits for a standby, or
 * that the session is being ended) go to the daemon's log, not to
 * stderr as libpq would print them. A WARNING is also noted: the one a
 * COMMIT gets when its wait for the synchronous standby is cancelled
 * (pg_cancel_backend) comes with an answer of success, although the
 * standby may not have the commit. Its text may be translated, so the
 * severity, which is not, is what is looked at. */
static void
receive_notice (void *data, const PGresult *notice)
{
  gboolean *warned = data;
  g_autofree char *text = g_strstrip (g_strdup (PQresultErrorMessage (notice)));

  if (warned != NULL &&
      g_strcmp0 (PQresultErrorField (notice, PG_DIAG_SEVERITY_NONLOCALIZED), "WARNING") == 0)
    *warned = TRUE;
  g_message ("PostgreSQL: %s", text);
}

void
store_pg_log_notices (PGconn *conn, gboolean *warned)
{
  PQsetNoticeReceiver (conn, receive_notice, warned);
}

static gboolean
will_not_mend (const char *message)
{
  const char *const lasting[] = { "invalid", "authentication failed", "does not exist",
                                  "no password supplied" };

  for (guint i = 0; i < G_N_ELEMENTS (lasting); i++)
    if (strstr (message, lasting[i]) != NULL)
      return TRUE;
  return FALSE;
}

gboolean
store_pg_link_connect (StorePgLink *link, GError **error)
{
  gint64 give_up = g_get_monotonic_time () + (gint64) reconnect_budget_ms (link) * 1000;
  gulong backoff_us = 50000;
  PQconninfoOption *options;
  char *parse_error = NULL;

  /* A URI libpq cannot parse will not mend by waiting. */
  if ((options = PQconninfoParse (link->uri, &parse_error)) == NULL)
    {
      g_autofree char *shown = store_backend_describe (link->uri);
      g_autofree char *why =
        g_strstrip (store_backend_hide_password (link->uri, parse_error != NULL ? parse_error
                                                                                : "out of memory"));

      PQfreemem (parse_error);
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                   "%s is not a valid PostgreSQL URI (postgresql://[user@]host[:port]/database"
                   "[?parameter=value...]): %s",
                   shown, why);
      return FALSE;
    }
  PQconninfoFree (options);
  for (;;)
    {
      store_pg_link_close (link);
      link->conn = store_pg_connect (link->uri);
      if (PQstatus (link->conn) == CONNECTION_OK)
        {
          store_pg_log_notices (link->conn, &link->warned);
          break;
        }
      /* A URI libpq cannot parse, a refused password, a database or role
       * that does not exist will not mend by waiting; a server that is
       * down, starting or failing over may. */
      if (will_not_mend (PQerrorMessage (link->conn)))
        break;
      if (g_get_monotonic_time () + (gint64) backoff_us > give_up)
        break;
      g_usleep (backoff_us);
      backoff_us = MIN (backoff_us * 2, 1000000);
    }
  if (PQstatus (link->conn) != CONNECTION_OK)
    {
      g_autofree char *why = store_pg_connection_message (link->conn, link->uri);

      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                   "cannot connect to the PostgreSQL server: %s", why);
      store_pg_link_close (link);
      return FALSE;
    }
  link->applied_busy_timeout_ms = G_MAXUINT;
  return store_pg_link_apply_busy_timeout (link, error);
}

static PGresult *
exec_params (StorePgLink *link, const char *sql, int n_params, const char *const *params)
{
  return PQexecParams (link->conn, sql, n_params, NULL, params, NULL, NULL, 0);
}

static gboolean
result_ok (const PGresult *result)
{
  ExecStatusType status = PQresultStatus (result);

  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

PGresult *
store_pg_link_query (StorePgLink *link,
                     const char *sql,
                     int n_params,
                     const char *const *params,
                     const char *doing,
                     GError **error)
{
  PGresult *result = NULL;

  for (guint attempt = 0; attempt < 2; attempt++)
    {
      g_clear_pointer (&result, PQclear);
      if (store_pg_link_lost (link) && !store_pg_link_connect (link, error))
        return NULL;
      result = exec_params (link, sql, n_params, params);
      if (result_ok (result))
        return result;
      if (!store_pg_link_lost (link))
        break;
    }
  store_pg_storage_error (link, result, error, doing);
  PQclear (result);
  return NULL;
}

gboolean
store_pg_link_apply_busy_timeout (StorePgLink *link, GError **error)
{
  g_autofree char *value = g_strdup_printf ("%u", link->busy_timeout_ms);
  const char *params[] = { value };
  PGresult *result;

  if (link->applied_busy_timeout_ms == link->busy_timeout_ms)
    return TRUE;
  /* As SQLite's busy timeout: how long a write waits for a lock another
   * daemon holds before it fails. 0 would be no limit here, and is none
   * in SQLite too. */
  result = exec_params (link, "SELECT set_config ('lock_timeout', $1, false)", 1, params);
  if (!result_ok (result))
    {
      store_pg_storage_error (link, result, error, "set the lock timeout");
      PQclear (result);
      return FALSE;
    }
  PQclear (result);
  link->applied_busy_timeout_ms = link->busy_timeout_ms;
  return TRUE;
}

/* --- opening ---------------------------------------------------------------- */

static gboolean
exec_simple (StorePgLink *link, const char *sql, GError **error, const char *doing)
{
  PGresult *result = PQexec (link->conn, sql);
  gboolean ok = result_ok (result);

  if (!ok)
    store_pg_storage_error (link, result, error, doing);
  PQclear (result);
  return ok;
}

static gboolean
query_one (StorePgLink *link,
           const char *sql,
           int n_params,
           const char *const *params,
           char **value,
           GError **error,
           const char *doing)
{
  PGresult *result = exec_params (link, sql, n_params, params);
  gboolean ok = result_ok (result) && PQntuples (result) == 1;

  if (ok)
    *value = store_pg_text (result, 0, 0);
  else
    store_pg_storage_error (link, result, error, doing);
  PQclear (result);
  return ok;
}

static char *
schema_sql (GError **error)
{
  g_autoptr(GBytes) bytes =
               g_resource_lookup_data (reserved_store_pg_get_resource (),
                                       "/org/reserved/daemon/reserved-store-pg-schema.sql",
                                       G_RESOURCE_LOOKUP_FLAGS_NONE, error);

  if (bytes == NULL)
    return NULL;
  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* Inside the schema transaction: what the database holds. A database of
 * reserved's has its reserved_schema table; one with other tables and
 * none belongs to someone else and is never touched. */
static gboolean
check_database (StorePg *self, gboolean *fresh, GError **error)
{
  StorePgLink *link = &self->writer;
  g_autofree char *ours = NULL;
  g_autofree char *others = NULL;
  g_autofree char *version = NULL;
  g_autofree char *where = describe_server (link->conn);

  if (!query_one (link,
                  "SELECT to_regclass (quote_ident (current_schema ()) || '.reserved_schema')"
                  " IS NOT NULL",
                  0, NULL, &ours, error, "look for reserved's schema") ||
      !query_one (link,
                  "SELECT string_agg (relname, ', ' ORDER BY relname) FROM pg_class"
                  " WHERE relnamespace = current_schema ()::regnamespace"
                  " AND relkind IN ('r', 'p', 'v', 'm', 'f')",
                  0, NULL, &others, error, "list the tables"))
    return FALSE;
  if (g_strcmp0 (ours, "t") != 0)
    {
      if (others != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s is not a reserved database: it holds tables of another application "
                       "(%s) and no reserved_schema; reserved leaves it as it is",
                       where, others);
          return FALSE;
        }
      *fresh = TRUE;
      return TRUE;
    }
  *fresh = FALSE;
  if (!query_one (link, "SELECT max (version) FROM reserved_schema", 0, NULL, &version, error,
                  "read the schema version"))
    return FALSE;
  if (version == NULL || g_ascii_strtoll (version, NULL, 10) > SCHEMA_VERSION)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "%s has schema version %s, newer than this reserved understands (%d)", where,
                   version != NULL ? version : "(none)", SCHEMA_VERSION);
      return FALSE;
    }
  return TRUE;
}

static gboolean
create_schema (StorePg *self, const StoreSettings *settings, GError **error)
{
  StorePgLink *link = &self->writer;
  g_autofree char *sql = schema_sql (error);
  g_autofree char *capacity = g_strdup_printf ("%u", settings->default_capacity);
  const char *params[] = { settings->default_item, capacity };
  PGresult *result;
  gboolean ok;

  if (sql == NULL)
    return FALSE;
  /* The functions name a temporary table each writer's session makes;
   * it does not exist here. */
  if (!exec_simple (link, "SET LOCAL check_function_bodies = off", error, "create the schema") ||
      !exec_simple (link, sql, error, "create the schema") ||
      !exec_simple (link, "SELECT set_config ('reserved.op_key', 'schema', true)", error,
                    "create the default item"))
    return FALSE;
  result = exec_params (link,
                        "INSERT INTO items (name, capacity, remaining) VALUES ($1, $2, $2)"
                        " ON CONFLICT (name) DO NOTHING",
                        2, params);
  ok = result_ok (result);
  if (!ok)
    store_pg_storage_error (link, result, error, "create the default item");
  PQclear (result);
  if (ok)
    g_info ("Created reserved's schema (version %d)", SCHEMA_VERSION);
  return ok;
}

/* Checks, and on a fresh database creates, the schema: in one
 * transaction, under an advisory lock, so that daemons starting at once
 * take turns and a crash leaves all of it or nothing. */
static gboolean
prepare_schema (StorePg *self, const StoreSettings *settings, GError **error)
{
  StorePgLink *link = &self->writer;
  gboolean fresh = FALSE;
  gboolean ok;

  if (!exec_simple (link, "BEGIN", error, "start the schema transaction"))
    return FALSE;
  ok = exec_simple (link, "SELECT pg_advisory_xact_lock (" SCHEMA_LOCK_KEY ")", error,
                    "lock the schema") &&
       check_database (self, &fresh, error) && (!fresh || create_schema (self, settings, error));
  if (!ok)
    {
      PQclear (PQexec (link->conn, "ROLLBACK"));
      return FALSE;
    }
  return exec_simple (link, "COMMIT", error, "commit the schema");
}

/* The writer's session: where the functions collect what an operation
 * ended and offered. */
static gboolean
prepare_writer_session (StorePgLink *link, GError **error)
{
  return exec_simple (link,
                      "CREATE TEMPORARY TABLE IF NOT EXISTS reserved_events ("
                      " seq bigint GENERATED ALWAYS AS IDENTITY, step reserved_step)"
                      " ON COMMIT DELETE ROWS",
                      error, "prepare the writer's session");
}


/* An acknowledged order must survive the loss of the primary: that takes
 * synchronous replication, which the server's operator sets up. The daemon
 * never lowers synchronous_commit; it says what it found. */
static void
report_durability (StorePgLink *link)
{
  g_autofree char *standbys = NULL;
  g_autofree char *commit = NULL;
  g_autofree char *where = describe_server (link->conn);
  g_autoptr(GError) error = NULL;

  if (!query_one (link, "SELECT current_setting ('synchronous_standby_names')", 0, NULL, &standbys,
                  &error, "read synchronous_standby_names") ||
      !query_one (link, "SELECT current_setting ('synchronous_commit')", 0, NULL, &commit, &error,
                  "read synchronous_commit"))
    {
      g_message ("%s", error->message);
      return;
    }
  g_message ("Using %s: synchronous_standby_names = '%s', synchronous_commit = %s", where, standbys,
             commit);
  if (standbys == NULL || *standbys == '\0')
    g_warning ("%s replicates to no synchronous standby (synchronous_standby_names is empty): "
               "orders acknowledged to buyers would be lost with the primary",
               where);
  if (g_strcmp0 (commit, "off") == 0 || g_strcmp0 (commit, "local") == 0)
    g_warning ("%s has synchronous_commit = %s: an acknowledged order may not survive a crash "
               "or the loss of the primary",
               where, commit);
}

/* At start: no live hold may have more time left than the span it was
 * last granted, so a clock set back while the daemon was stopped cannot
 * lengthen it (as store_holds_clamp does in SQLite). */
static gboolean
clamp_holds (StorePgLink *link, GError **error)
{
  g_autofree char *now = g_strdup_printf ("%" G_GINT64_FORMAT, reserved_clock_now ());
  const char *params[] = { now };
  PGresult *result = exec_params (link,
                                  "UPDATE holds SET expires = $1::bigint + ttl"
                                  " WHERE ended IS NULL AND expires > 0"
                                  " AND expires > $1::bigint + ttl",
                                  1, params);
  gboolean ok = result_ok (result);

  if (!ok)
    store_pg_storage_error (link, result, error, "bound the holds' expiry");
  else if (g_ascii_strtoll (PQcmdTuples (result), NULL, 10) > 0)
    g_message ("%s holds expired later than the time they were granted allows: the clock was "
               "set back; each now ends when its last granted time is up",
               PQcmdTuples (result));
  PQclear (result);
  return ok;
}

/* --- operation keys ----------------------------------------------------------- */

static char *
new_key_prefix (const char *node)
{
  GString *prefix = g_string_new (node != NULL ? node : "");

  g_string_append_c (prefix, ':');
  for (guint i = 0; i < 4; i++)
    g_string_append_printf (prefix, "%08x", g_random_int ());
  g_string_append_c (prefix, ':');
  return g_string_free (prefix, FALSE);
}

static char *
next_key (StorePg *self)
{
  return g_strdup_printf ("%s%" G_GUINT64_FORMAT, self->key_prefix, ++self->key_counter);
}

/* --- one operation as a function call ------------------------------------------ */

/* One operation's call: its statement and parameters. */
typedef struct {
  const char *sql;
  StorePgParams params;
} Call;

static void
add_text (Call *call, const char *value)
{
  store_pg_params_text (&call->params, value);
}

static void
add_number (Call *call, gint64 value)
{
  store_pg_params_number (&call->params, value);
}

static void
add_id (Call *call, guint64 id)
{
  store_pg_params_id (&call->params, id);
}

/* Who asks for what: the first parameters of a Buy, Hold and JoinWaitlist. */
static void
add_request (Call *call, StorePg *self, const WriteOp *op)
{
  add_text (call, self->node);
  add_number (call, op->caller);
  add_text (call, op->item);
  add_text (call, op->user);
  add_number (call, op->quantity);
  add_text (call, op->request_id);
}

/* Times from the daemon's clocks, as the SQLite backend takes them: an
 * order's creation from the real time, holds and entries from
 * reserved_clock_now(), sale windows from the wall clock. */
static void
add_times (Call *call)
{
  add_number (call, reserved_clock_now ());
  add_number (call, reserved_clock_wall_now ());
}

/* @op as a call of its function, keyed @key. */
static void
build_call (StorePg *self, const WriteOp *op, const char *key, Call *call)
{
  add_text (call, key);
  switch (op->kind)
    {
    case WRITE_BUY:
      call->sql = "SELECT * FROM reserved_buy ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
      add_request (call, self, op);
      add_number (call, g_get_real_time ());
      add_times (call);
      break;
    case WRITE_CANCEL:
      call->sql = "SELECT * FROM reserved_cancel ($1, $2, $3, $4)";
      add_id (call, op->order);
      add_times (call);
      break;
    case WRITE_CREATE_ITEM:
      call->sql = "SELECT * FROM reserved_create_item ($1, $2, $3, $4, $5, $6, $7)";
      add_text (call, op->item);
      add_number (call, op->quantity);
      add_number (call, op->per_user_limit);
      add_number (call, op->sale.start);
      add_number (call, op->sale.end);
      add_number (call, op->offer_seconds);
      break;
    case WRITE_RESTOCK:
      call->sql = "SELECT * FROM reserved_restock ($1, $2, $3, $4, $5)";
      add_text (call, op->item);
      add_number (call, op->quantity);
      add_times (call);
      break;
    case WRITE_RETIRE_ITEM:
      call->sql = "SELECT * FROM reserved_retire_item ($1, $2)";
      add_text (call, op->item);
      break;
    case WRITE_SET_PER_USER_LIMIT:
      call->sql = "SELECT * FROM reserved_set_per_user_limit ($1, $2, $3)";
      add_text (call, op->item);
      add_number (call, op->per_user_limit);
      break;
    case WRITE_SET_SALE_WINDOW:
      call->sql = "SELECT * FROM reserved_set_sale_window ($1, $2, $3, $4)";
      add_text (call, op->item);
      add_number (call, op->sale.start);
      add_number (call, op->sale.end);
      break;
    case WRITE_HOLD:
      call->sql = "SELECT * FROM reserved_hold ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
      add_request (call, self, op);
      add_number (call, op->ttl);
      add_text (call, op->holder);
      add_number (call, op->max);
      add_times (call);
      break;
    case WRITE_CONFIRM:
      call->sql = "SELECT * FROM reserved_confirm ($1, $2, $3, $4, $5, $6)";
      add_id (call, op->hold);
      add_text (call, op->or_buy ? "true" : "false");
      add_times (call);
      add_number (call, g_get_real_time ());
      break;
    case WRITE_RELEASE:
      call->sql = "SELECT * FROM reserved_release ($1, $2, $3, $4)";
      add_id (call, op->hold);
      add_times (call);
      break;
    case WRITE_EXTEND:
      call->sql = "SELECT * FROM reserved_extend ($1, $2, $3, $4, $5, $6)";
      add_id (call, op->hold);
      add_number (call, op->ttl);
      add_number (call, op->max);
      add_times (call);
      break;
    case WRITE_END_HOLDS:
      call->sql = "SELECT * FROM reserved_end_holds ($1, $2, $3, $4, $5, $6)";
      add_text (call, self->node);
      add_text (call, op->holder);
      add_text (call, op->reason);
      add_times (call);
      break;
    case WRITE_JOIN_WAITLIST:
      call->sql =
        "SELECT * FROM reserved_join_waitlist ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
      add_request (call, self, op);
      add_number (call, op->deadline);
      add_text (call, op->holder);
      add_times (call);
      break;
    case WRITE_LEAVE_WAITLIST:
      call->sql = "SELECT * FROM reserved_leave_waitlist ($1, $2, $3, $4)";
      add_id (call, op->entry);
      add_times (call);
      break;
    case WRITE_PROMOTE_WAITLIST:
      call->sql = "SELECT * FROM reserved_promote_waitlist ($1, $2, $3, $4)";
      add_text (call, op->item);
      add_times (call);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* --- the batch's locks ------------------------------------------------------------ */

/* A PostgreSQL array literal of @values: "{"a","b"}". */
static char *
array_literal (GPtrArray *values)
{
  GString *out = g_string_new ("{");

  for (guint i = 0; i < values->len; i++)
    {
      const char *value = g_ptr_array_index (values, i);

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, '"');
      for (const char *p = value; *p != '\0'; p++)
        {
          if (*p == '"' || *p == '\\')
            g_string_append_c (out, '\\');
          g_string_append_c (out, *p);
        }
      g_string_append_c (out, '"');
    }
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

/* Locks every item the batch may change, in order of id: by name, and
 * through the orders, holds and entries it names. */
#define LOCK_ITEMS_NAMED                                                 \
  "SELECT id FROM items WHERE name = ANY ($1::text[])"                   \
  " OR id IN (SELECT item_id FROM orders WHERE id = ANY ($2::bigint[]))" \
  " OR id IN (SELECT item_id FROM holds WHERE id = ANY ($3::bigint[]))"  \
  " OR id IN (SELECT item_id FROM waitlist WHERE id = ANY ($4::bigint[]))"
static const char lock_items_sql[] = LOCK_ITEMS_NAMED " ORDER BY id FOR UPDATE";
/* A batch that ends holds (its holders' on this node $6, or those
 * overdue at $7) locks their items too, in the same order. Those that
 * become overdue between this and the operation's call lock theirs there
 * (reserved_lock_items_of); the server breaks the rare deadlock that
 * leaves, and the batch runs again. */
static const char lock_items_ending_sql[] =
  LOCK_ITEMS_NAMED " OR id IN (SELECT item_id FROM holds WHERE ended IS NULL"
                   " AND ((holder = ANY ($5::text[]) AND node = $6)"
                   " OR ($7::bigint IS NOT NULL AND expires > 0 AND expires <= $7)))"
                   " OR id IN (SELECT item_id FROM waitlist WHERE ended IS NULL AND hold_id IS NULL"
                   " AND ((holder = ANY ($5::text[]) AND node = $6)"
                   " OR ($7::bigint IS NOT NULL AND deadline > 0 AND deadline <= $7)))"
                   " ORDER BY id FOR UPDATE";

typedef struct {
  GPtrArray *names, *orders, *holds, *entries, *holders;
  gboolean overdue; /* the batch ends the overdue holds */
  char *values[7];
} BatchLocks;

static void
batch_locks_clear (BatchLocks *locks)
{
  g_clear_pointer (&locks->names, g_ptr_array_unref);
  g_clear_pointer (&locks->orders, g_ptr_array_unref);
  g_clear_pointer (&locks->holds, g_ptr_array_unref);
  g_clear_pointer (&locks->entries, g_ptr_array_unref);
  g_clear_pointer (&locks->holders, g_ptr_array_unref);
  for (guint i = 0; i < G_N_ELEMENTS (locks->values); i++)
    g_clear_pointer (&locks->values[i], g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BatchLocks, batch_locks_clear)

static void
add_lock_id (GPtrArray *ids, guint64 id)
{
  g_ptr_array_add (ids, g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) MIN (id, G_MAXINT64)));
}

static void
batch_locks_init (BatchLocks *locks, StorePg *self, GPtrArray *ops, const gboolean *pending)
{
  locks->holders = g_ptr_array_new_with_free_func (g_free);
  locks->names = g_ptr_array_new_with_free_func (g_free);
  locks->orders = g_ptr_array_new_with_free_func (g_free);
  locks->holds = g_ptr_array_new_with_free_func (g_free);
  locks->entries = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < ops->len; i++)
    {
      const WriteOp *op = g_ptr_array_index (ops, i);

      if (!pending[i])
        continue;
      if (op->item != NULL)
        g_ptr_array_add (locks->names, g_strdup (op->item));
      if (op->kind == WRITE_CANCEL)
        add_lock_id (locks->orders, op->order);
      if (op->kind == WRITE_CONFIRM || op->kind == WRITE_RELEASE || op->kind == WRITE_EXTEND)
        add_lock_id (locks->holds, op->hold);
      if (op->kind == WRITE_LEAVE_WAITLIST)
        add_lock_id (locks->entries, op->entry);
      if (op->kind == WRITE_END_HOLDS && op->holder != NULL)
        g_ptr_array_add (locks->holders, g_strdup (op->holder));
      if (op->kind == WRITE_END_HOLDS && op->holder == NULL)
        locks->overdue = TRUE;
    }
  locks->values[0] = array_literal (locks->names);
  locks->values[1] = array_literal (locks->orders);
  locks->values[2] = array_literal (locks->holds);
  locks->values[3] = array_literal (locks->entries);
  locks->values[4] = array_literal (locks->holders);
  locks->values[5] = g_strdup (self->node);
  if (locks->overdue)
    locks->values[6] = g_strdup_printf ("%" G_GINT64_FORMAT, reserved_clock_now ());
}

/* The statement that takes the batch's locks, and its parameters' count. */
static const char *
batch_locks_sql (const BatchLocks *locks, int *n_params)
{
  gboolean ending = locks->overdue || locks->holders->len > 0;

  *n_params = ending ? 7 : 4;
  return ending ? lock_items_ending_sql : lock_items_sql;
}

/* --- the batch --------------------------------------------------------------------- */

typedef enum {
  BATCH_COMMITTED,
  BATCH_ROLLED_BACK, /* an operation failed: nothing was kept */
  BATCH_IN_DOUBT,    /* the connection went while COMMIT was on its way */
} BatchFate;

/* What one pipelined transaction came to. */
typedef struct {
  BatchFate fate;
  int failed_op;      /* BATCH_ROLLED_BACK: the operation whose call failed, or -1 */
  gboolean retry;     /* BATCH_ROLLED_BACK: a deadlock or serialization failure */
  GError *error;      /* why it was not committed */
  PGresult **answers; /* per operation (element of ops), once committed */
  pid_t backend_pid;  /* of the session that sent it */
  /* Which server: its postmaster's start time; a copy, since connecting
   * again replaces the writer's. */
  char *server;
} Attempt;

static void
attempt_clear (Attempt *attempt, guint n_ops)
{
  g_clear_error (&attempt->error);
  if (attempt->answers != NULL)
    for (guint i = 0; i < n_ops; i++)
      g_clear_pointer (&attempt->answers[i], PQclear);
  g_clear_pointer (&attempt->answers, g_free);
  g_clear_pointer (&attempt->server, g_free);
}

/* The result of the next query of the pipeline, and the NULL after it;
 * NULL when the connection is gone. */
static PGresult *
next_result (PGconn *conn)
{
  PGresult *result = PQgetResult (conn);
  PGresult *end;

  if (result == NULL)
    return NULL;
  if (PQresultStatus (result) == PGRES_PIPELINE_SYNC)
    return result;
  /* Each query's results end with a NULL. */
  while ((end = PQgetResult (conn)) != NULL)
    {
      ExecStatusType status = PQresultStatus (end);

      PQclear (end);
      if (status == PGRES_PIPELINE_SYNC)
        break;
    }
  return result;
}

/* A deadlock, a serialization failure, or a request id another daemon
 * of the same node committed meanwhile for another item (whose lock this
 * batch did not take): run again, the operation finds it and answers as
 * the SQLite backend does, with the first request's answer or
 * RequestReused. */
static gboolean
is_retryable (const PGresult *result)
{
  const char *state = PQresultErrorField (result, PG_DIAG_SQLSTATE);
  const char *constraint = PQresultErrorField (result, PG_DIAG_CONSTRAINT_NAME);

  return g_strcmp0 (state, "40001") == 0 || g_strcmp0 (state, "40P01") == 0 ||
         (g_strcmp0 (state, "23505") == 0 && constraint != NULL &&
          g_str_has_suffix (constraint, "_by_request"));
}

/* An error with which the server ended the session (severity FATAL or
 * PANIC: terminated, shutting down): it ran nothing sent after it. */
static gboolean
session_ended (const PGresult *result)
{
  const char *severity = PQresultErrorField (result, PG_DIAG_SEVERITY_NONLOCALIZED);

  return g_strcmp0 (severity, "FATAL") == 0 || g_strcmp0 (severity, "PANIC") == 0;
}

/* No result, or an error libpq made up because the connection closed
 * (the server's own errors carry an SQLSTATE): what the server did with
 * what was sent is not known. An error of the server's, even one ending
 * the session, says the rest was not run. */
static gboolean
connection_went (const PGresult *result)
{
  return result == NULL || (PQresultStatus (result) == PGRES_FATAL_ERROR &&
                            PQresultErrorField (result, PG_DIAG_SQLSTATE) == NULL);
}

/* Records the first failure of a batch, at operation @op (-1: none of
 * them). A session the server ended is no operation's fault: the batch
 * runs again on a new connection, as after a deadlock. */
static void
note_failure (StorePgLink *link,
              const PGresult *result,
              int op,
              Attempt *attempt,
              gboolean *aborted,
              const char *doing)
{
  gboolean ended = session_ended (result);

  *aborted = TRUE;
  attempt->failed_op = ended ? -1 : op;
  attempt->retry = ended || is_retryable (result);
  store_pg_storage_error (link, result, &attempt->error, doing);
}


/* The identity of the server the link is on, to tell after a reconnection
 * whether it is the same one: a postmaster's start time is its own. */
static char *
server_identity (StorePgLink *link)
{
  PGresult *result = exec_params (link, "SELECT pg_postmaster_start_time ()::text", 0, NULL);
  char *identity = NULL;

  if (result_ok (result) && PQntuples (result) == 1)
    identity = store_pg_text (result, 0, 0);
  PQclear (result);
  return identity;
}

/* (Re)connects the writer and prepares its session. */
static gboolean
connect_writer (StorePg *self, GError **error)
{
  StorePgLink *link = &self->writer;

  if (!store_pg_link_connect (link, error) || !prepare_writer_session (link, error))
    return FALSE;
  g_free (self->writer_server);
  self->writer_server = server_identity (link);
  self->prepared = 0;
  return TRUE;
}

/* The name of the prepared call of @kind. */
static char *
statement_name (WriteKind kind)
{
  return g_strdup_printf ("reserved_write_%d", (int) kind);
}

/* Prepares, before the pipeline, the calls of the batch's kinds that the
 * session has not prepared yet. */
static gboolean
prepare_calls (StorePg *self, GPtrArray *ops, const gboolean *pending, char **keys, GError **error)
{
  for (guint i = 0; i < ops->len; i++)
    {
      const WriteOp *op = g_ptr_array_index (ops, i);
      g_autofree char *name = NULL;
      Call call = { 0 };
      PGresult *result;
      gboolean ok;

      if (!pending[i] || (self->prepared & (1u << op->kind)) != 0)
        continue;
      build_call (self, op, keys[i], &call);
      name = statement_name (op->kind);
      result = PQprepare (self->writer.conn, name, call.sql, call.params.n, NULL);
      store_pg_params_clear (&call.params);
      ok = result_ok (result);
      if (!ok)
        store_pg_storage_error (&self->writer, result, error, "prepare an operation");
      PQclear (result);
      if (!ok)
        return FALSE;
      self->prepared |= 1u << op->kind;
    }
  return TRUE;
}

/* Waits until the synchronous standby has everything this server
 * committed so far: a transaction of our own that writes (one that does
 * not would not wait for the standby) commits after it, and that commit
 * returns once the standby has it. A marker row in applied_operations,
 * which nothing looks up and the pruning removes, is that write. While
 * such a wait is cancelled too (a WARNING, see receive_notice), it waits
 * again. */
static gboolean
confirm_on_standby (StorePg *self, GError **error)
{
  StorePgLink *link = &self->writer;

  do
    {
      g_autofree char *key = next_key (self);
      g_autofree char *marker = g_strconcat ("standby:", key, NULL);
      const char *params[] = { marker };
      PGresult *result;

      link->warned = FALSE;
      result = PQexecParams (link->conn,
                             "INSERT INTO applied_operations (op_key, steps) VALUES ($1, '[]')", 1,
                             NULL, params, NULL, NULL, 0);
      if (PQresultStatus (result) != PGRES_COMMAND_OK)
        {
          store_pg_storage_error (link, result, error,
                                  "hear whether the synchronous standby has the batch");
          PQclear (result);
          return FALSE;
        }
      PQclear (result);
    }
  while (link->warned);
  return TRUE;
}

/* Sends BEGIN, the lock, a call per pending operation and COMMIT in one
 * pipeline, and reads what came of it. */
static void
run_transaction (StorePg *self,
                 GPtrArray *ops,
                 const gboolean *pending,
                 char **keys,
                 Attempt *attempt)
{
  StorePgLink *link = &self->writer;
  PGconn *conn = link->conn;
  g_auto(BatchLocks) locks = { 0 };
  gboolean sent = TRUE;
  gboolean aborted = FALSE;
  PGresult *result;
  const char *lock_sql;
  int n_lock_params;

  attempt->failed_op = -1;
  attempt->answers = g_new0 (PGresult *, ops->len);
  attempt->backend_pid = PQbackendPID (conn);
  link->warned = FALSE;
  batch_locks_init (&locks, self, ops, pending);
  lock_sql = batch_locks_sql (&locks, &n_lock_params);

  if (PQenterPipelineMode (conn) != 1)
    {
      attempt->fate = BATCH_ROLLED_BACK;
      store_pg_storage_error (link, NULL, &attempt->error, "start a batch");
      return;
    }
  sent = PQsendQueryParams (conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) == 1 &&
         PQsendQueryParams (conn, lock_sql, n_lock_params, NULL, (const char *const *) locks.values,
                            NULL, NULL, 0) == 1;
  for (guint i = 0; sent && i < ops->len; i++)
    {
      Call call = { 0 };

      if (!pending[i])
        continue;
      const WriteOp *op = g_ptr_array_index (ops, i);
      g_autofree char *name = statement_name (op->kind);

      build_call (self, op, keys[i], &call);
      sent =
        PQsendQueryPrepared (conn, name, call.params.n, call.params.values, NULL, NULL, 0) == 1;
      store_pg_params_clear (&call.params);
    }
  sent = sent && PQsendQueryParams (conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) == 1 &&
         PQpipelineSync (conn) == 1;
  if (!sent)
    {
      /* Whatever reached the server may include the COMMIT. */
      attempt->fate = BATCH_IN_DOUBT;
      store_pg_storage_error (link, NULL, &attempt->error, "send the batch");
      return;
    }

  /* BEGIN, then the lock. */
  for (guint step = 0; step < 2; step++)
    {
      result = next_result (conn);
      if (!aborted && connection_went (result))
        goto lost_with;
      if (result == NULL)
        break;
      if (!aborted && !result_ok (result))
        note_failure (link, result, -1, attempt, &aborted,
                      step == 0 ? "start a transaction" : "lock the batch's items");
      PQclear (result);
    }
  for (guint i = 0; i < ops->len; i++)
    {
      if (!pending[i])
        continue;
      result = next_result (conn);
      if (!aborted && connection_went (result))
        goto lost_with;
      if (result == NULL)
        break;
      if (PQresultStatus (result) == PGRES_TUPLES_OK && !aborted)
        {
          attempt->answers[i] = result;
          continue;
        }
      if (!aborted && PQresultStatus (result) != PGRES_PIPELINE_ABORTED)
        note_failure (link, result, (int) i, attempt, &aborted, "run the operation");
      PQclear (result);
    }
  /* COMMIT. A session ended in answer to it is not taken at its word
   * either: what it did is looked up. */
  result = next_result (conn);
  if (!aborted && (connection_went (result) || session_ended (result)))
    goto lost_with;
  if (!aborted && PQresultStatus (result) != PGRES_COMMAND_OK)
    note_failure (link, result, -1, attempt, &aborted, "commit");
  PQclear (result);
  /* The Sync: COMMIT's answer came, so a lost connection now loses
   * nothing. */
  result = next_result (conn);
  PQclear (result);
  if (store_pg_link_lost (link))
    {
      /* Committed, unless the standby's part was cancelled: then only a
       * look at the new primary can tell. */
      if (!aborted && link->warned)
        {
          attempt->fate = BATCH_IN_DOUBT;
          store_pg_storage_error (link, NULL, &attempt->error,
                                  "hear whether the synchronous standby has the batch");
          return;
        }
      attempt->fate = aborted ? BATCH_ROLLED_BACK : BATCH_COMMITTED;
      return;
    }
  PQexitPipelineMode (conn);
  if (aborted)
    {
      attempt->fate = BATCH_ROLLED_BACK;
      /* A failed transaction block stays open until rolled back. */
      if (PQtransactionStatus (conn) != PQTRANS_IDLE)
        PQclear (PQexec (conn, "ROLLBACK"));
      return;
    }
  /* A WARNING with it: its wait for the synchronous standby may have been
   * cancelled (pg_cancel_backend), which PostgreSQL answers with success,
   * the commit on the primary alone. */
  if (link->warned)
    {
      g_message ("A commit may lack the synchronous standby's confirmation; waiting for the "
                 "standby before answering");
      if (!confirm_on_standby (self, &attempt->error))
        {
          attempt->fate = BATCH_IN_DOUBT;
          return;
        }
    }
  attempt->fate = BATCH_COMMITTED;
  return;

lost_with:
  /* Only ever reached before anything failed: had something, the server
   * would have skipped the COMMIT. */
  attempt->fate = BATCH_IN_DOUBT;
  store_pg_storage_error (link, result, &attempt->error, "hear whether the batch committed");
  PQclear (result);
}

/* After a lost connection: is the session that sent the batch gone? On
 * the same server it may still be finishing its COMMIT, and looking its
 * operations up before then could miss what it is about to commit. */
static gboolean
wait_for_old_session (StorePg *self, const Attempt *attempt, gint64 give_up, GError **error)
{
  StorePgLink *link = &self->writer;
  g_autofree char *identity = server_identity (link);
  g_autofree char *pid = g_strdup_printf ("%d", (int) attempt->backend_pid);
  const char *params[] = { pid };

  /* Not knowing which server this is, the old session may be on it. */
  if (identity == NULL)
    {
      g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                   "cannot tell whether the server is the one the batch was sent to");
      return FALSE;
    }
  /* Another server (a standby promoted): the old session's transaction
   * is on the new primary only if it committed before the old one went.
   * When the old server is not known, its session is looked for here. */
  if (attempt->server != NULL && g_strcmp0 (identity, attempt->server) != 0)
    return TRUE;
  for (;;)
    {
      /* The new session may have been given the old one's pid. */
      PGresult *result = exec_params (
        link, "SELECT 1 FROM pg_stat_activity WHERE pid = $1::int AND pid <> pg_backend_pid ()", 1,
        params);
      gboolean gone = result_ok (result) && PQntuples (result) == 0;
      gboolean failed = !result_ok (result);

      if (failed)
        store_pg_storage_error (link, result, error, "look for the session that sent the batch");
      PQclear (result);
      if (failed)
        return FALSE;
      if (gone)
        return TRUE;
      if (g_get_monotonic_time () > give_up)
        {
          g_set_error (error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                       "the server process %d that sent the batch is still running",
                       (int) attempt->backend_pid);
          return FALSE;
        }
      g_usleep (50000);
    }
}

/* The batch in doubt: which of its operations committed, by their keys.
 * @answers[i] gets op i's recorded answer (columns op_key, then
 * reserved_step's), or stays NULL for one that did not commit. */
static gboolean
look_up_applied (StorePg *self,
                 GPtrArray *ops,
                 const gboolean *pending,
                 char **keys,
                 PGresult **found,
                 GError **error)
{
  g_autoptr(GPtrArray) wanted = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *literal = NULL;
  const char *params[1];

  for (guint i = 0; i < ops->len; i++)
    if (pending[i])
      g_ptr_array_add (wanted, g_strdup (keys[i]));
  literal = array_literal (wanted);
  params[0] = literal;
  *found = store_pg_link_query (&self->writer,
                                "SELECT a.op_key, s.kind, s.status, s.id, s.remaining,"
                                " s.expires, s.n1, s.n2, s.n3, s.t1, s.t2"
                                " FROM applied_operations a, ROWS FROM (jsonb_populate_recordset"
                                " (NULL::reserved_step, a.steps)) WITH ORDINALITY s"
                                " WHERE a.op_key = ANY ($1::text[])"
                                " ORDER BY a.op_key, s.ordinality",
                                1, params, "look up the batch's operations", error);
  if (*found == NULL)
    return FALSE;
  /* An operation found committed is answered as done only once the
   * synchronous standby has it: its session may have been ended while
   * waiting for the standby, committed here alone. */
  if (PQntuples (*found) > 0 && !confirm_on_standby (self, error))
    {
      g_clear_pointer (found, PQclear);
      return FALSE;
    }
  return TRUE;
}

/* The rows of @result (from look_up_applied) that answer @key: [*first, *end). */
static gboolean
find_answer (const PGresult *result, const char *key, int *first, int *end)
{
  int rows = PQntuples (result);

  *first = -1;
  for (int row = 0; row < rows; row++)
    {
      gboolean match = g_strcmp0 (PQgetvalue (result, row, 0), key) == 0;

      if (match && *first < 0)
        *first = row;
      if (!match && *first >= 0)
        {
          *end = row;
          return TRUE;
        }
    }
  *end = rows;
  return *first >= 0;
}

/* The connection went while COMMIT was on its way: reconnect, wait until
 * the session that sent it is gone, and answer each operation as the
 * database says it went. Never a success for what did not commit. */
static void
settle_in_doubt (StorePg *self,
                 GPtrArray *ops,
                 const gboolean *pending,
                 char **keys,
                 const Attempt *attempt,
                 StoreBatchCount *count)
{
  StorePgLink *link = &self->writer;
  gint64 give_up = g_get_monotonic_time () + (gint64) reconnect_budget_ms (link) * 1000;
  g_autoptr(GError) error = NULL;
  PGresult *found = NULL;
  guint kept = 0, committed = 0;

  g_message ("Lost the connection to the PostgreSQL server while a batch of %u operations was "
             "committing (%s); finding out which committed",
             ops->len, attempt->error->message);
  if (!connect_writer (self, &error) || !wait_for_old_session (self, attempt, give_up, &error) ||
      !look_up_applied (self, ops, pending, keys, &found, &error))
    {
      g_autoptr(GError) doubt = g_error_new (
        RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
        "the connection to the PostgreSQL server was lost while the operation was committing, "
        "and whether it committed cannot be told yet: %s",
        error->message);

      for (guint i = 0; i < ops->len; i++)
        if (pending[i])
          {
            WriteOp *op = g_ptr_array_index (ops, i);
            g_clear_error (&op->error);
            op->error = g_error_copy (doubt);
          }
      return;
    }
  for (guint i = 0; i < ops->len; i++)
    {
      WriteOp *op = g_ptr_array_index (ops, i);
      int first, end;

      if (!pending[i])
        continue;
      if (find_answer (found, keys[i], &first, &end))
        {
          kept += store_pg_answer (op, found, first, end, 1);
          op->committed = TRUE;
          committed++;
        }
      else
        {
          g_clear_error (&op->error);
          g_set_error (&op->error, RESERVE_ERROR, RESERVE_ERROR_STORAGE_FAILURE,
                       "nothing was done: the connection to the PostgreSQL server was lost while "
                       "the operation was committing, and the server shows it did not commit (%s)",
                       attempt->error->message);
        }
    }
  PQclear (found);
  if (kept > 0)
    {
      count->commits++;
      count->operations += committed;
      count->largest_batch = MAX (count->largest_batch, committed);
    }
  g_message ("Of the batch in doubt, %u operations had committed and %u had not", committed,
             ops->len - committed);
}

static void
fail_pending (GPtrArray *ops, const gboolean *pending, const GError *cause)
{
  for (guint i = 0; i < ops->len; i++)
    if (pending[i])
      {
        WriteOp *op = g_ptr_array_index (ops, i);
        if (op->error == NULL)
          op->error = g_error_copy (cause);
      }
}

/* applied_operations would grow with every operation; an answer is only
 * needed while its batch may be in doubt, moments. A failure here costs
 * nothing but space, and is tried again later. */
static void
prune_applied (StorePg *self)
{
  PGresult *result;

  if (self->batches++ % PRUNE_EVERY != 0 || store_pg_link_lost (&self->writer))
    return;
  result = exec_params (&self->writer,
                        "DELETE FROM applied_operations WHERE applied < now () - interval '1 day'",
                        0, NULL);
  if (!result_ok (result))
    g_message ("Could not delete the old answers of applied operations: %s",
               PQresultErrorMessage (result));
  PQclear (result);
}

static void
pg_run_batch (StoreBackend *backend, GPtrArray *ops, StoreBatchCount *count)
{
  StorePg *self = (StorePg *) backend;
  StorePgLink *link = &self->writer;
  g_autofree gboolean *pending = g_new0 (gboolean, ops->len);
  g_auto(GStrv) keys = g_new0 (char *, ops->len + 1);
  guint retries = 0;

  for (guint i = 0; i < ops->len; i++)
    {
      pending[i] = TRUE;
      keys[i] = next_key (self);
    }
  g_mutex_lock (&self->lock);
  link->busy_timeout_ms = self->busy_timeout_ms;
  g_mutex_unlock (&self->lock);
  prune_applied (self);

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      Attempt attempt = { 0 };
      guint kept = 0, in_transaction = 0;

      if (store_pg_link_lost (link) && !connect_writer (self, &error))
        {
          fail_pending (ops, pending, error);
          return;
        }
      /* Before BEGIN: a connection found gone here (the server restarted
       * while it was idle) lost nothing, and is made again. */
      if (!store_pg_link_apply_busy_timeout (link, &error) ||
          !prepare_calls (self, ops, pending, keys, &error))
        {
          if (store_pg_link_lost (link) && retries++ < MAX_RETRIES)
            continue;
          fail_pending (ops, pending, error);
          return;
        }
      attempt.server = g_strdup (self->writer_server);
      run_transaction (self, ops, pending, keys, &attempt);
      if (attempt.fate == BATCH_IN_DOUBT)
        {
          settle_in_doubt (self, ops, pending, keys, &attempt, count);
          attempt_clear (&attempt, ops->len);
          return;
        }
      if (attempt.fate == BATCH_COMMITTED)
        {
          for (guint i = 0; i < ops->len; i++)
            {
              WriteOp *op = g_ptr_array_index (ops, i);
              PGresult *answer = attempt.answers[i];

              if (!pending[i])
                continue;
              kept += store_pg_answer (op, answer, 0, PQntuples (answer), 0);
              op->committed = TRUE;
              in_transaction++;
            }
          /* Refusals alone changed nothing, as in the SQLite backend. */
          if (kept > 0)
            {
              count->commits++;
              count->operations += in_transaction;
              count->largest_batch = MAX (count->largest_batch, in_transaction);
            }
          attempt_clear (&attempt, ops->len);
          return;
        }
      /* Rolled back: nothing was kept. A deadlock or serialization
       * failure runs the batch again; an operation the server refused
       * fails alone and the others run again without it; anything else
       * (the connection went before COMMIT) fails them all unless the
       * connection can be made again. */
      if (attempt.retry && retries++ < MAX_RETRIES)
        {
          attempt_clear (&attempt, ops->len);
          continue;
        }
      if (attempt.failed_op >= 0 && !attempt.retry)
        {
          WriteOp *op = g_ptr_array_index (ops, attempt.failed_op);

          g_clear_error (&op->error);
          op->error = g_steal_pointer (&attempt.error);
          pending[attempt.failed_op] = FALSE;
          attempt_clear (&attempt, ops->len);
          continue;
        }
      if (store_pg_link_lost (link) && retries++ < MAX_RETRIES)
        {
          attempt_clear (&attempt, ops->len);
          continue;
        }
      fail_pending (ops, pending, attempt.error);
      attempt_clear (&attempt, ops->len);
      return;
    }
}

/* --- the class ------------------------------------------------------------------- */

static void
pg_set_busy_timeout (StoreBackend *backend, guint milliseconds)
{
  StorePg *self = (StorePg *) backend;

  g_mutex_lock (&self->lock);
  self->busy_timeout_ms = milliseconds;
  g_mutex_unlock (&self->lock);
}

static void
pg_watch_changes (StoreBackend *backend)
{
  StorePg *self = (StorePg *) backend;

  self->watch = store_pg_watch_start (backend);
}

static gboolean
pg_close (StoreBackend *backend, gboolean clean_so_far)
{
  StorePg *self = (StorePg *) backend;
  gboolean clean = clean_so_far && !self->writer.failed;

  store_pg_watch_stop (self->watch);
  store_pg_link_close (&self->writer);
  g_free (self->writer_server);
  g_mutex_clear (&self->lock);
  g_free (self->uri);
  g_free (self->node);
  g_free (self->key_prefix);
  g_free (self);
  return clean;
}

const char *
store_pg_backend_uri (StoreBackend *backend)
{
  return ((StorePg *) backend)->uri;
}

const char *
store_pg_backend_node (StoreBackend *backend)
{
  return ((StorePg *) backend)->node;
}

guint
store_pg_backend_busy_timeout (StoreBackend *backend)
{
  StorePg *self = (StorePg *) backend;
  guint milliseconds;

  g_mutex_lock (&self->lock);
  milliseconds = self->busy_timeout_ms;
  g_mutex_unlock (&self->lock);
  return milliseconds;
}

static const StoreBackendClass pg_class = {
  .engine = "PostgreSQL",
  /* Other daemons may share the database. */
  .notifies_changes = TRUE,
  .watch_changes = pg_watch_changes,
  .run_batch = pg_run_batch,
  .set_busy_timeout = pg_set_busy_timeout,
  .close = pg_close,
  .open_reader = store_pg_open_reader,
  .reader_set_busy_timeout = store_pg_reader_set_busy_timeout,
  .close_reader = store_pg_close_reader,
  .get_order = store_pg_get_order,
  .get_item = store_pg_get_item,
  .list_items = store_pg_list_items,
  .list_items_page = store_pg_list_items_page,
  .list_orders = store_pg_list_orders,
  .list_orders_page = store_pg_list_orders_page,
  .list_sale_windows = store_pg_list_sale_windows,
  .get_hold = store_pg_get_hold,
  .list_holds = store_pg_list_holds,
  .next_expiry = store_pg_next_expiry,
  .get_entry = store_pg_get_entry,
  .list_waitlist = store_pg_list_waitlist,
  .list_waiting_holders = store_pg_list_waiting_holders,
};

StoreBackend *
store_pg_open (const StoreSettings *settings, GError **error)
{
  StorePg *self = g_new0 (StorePg, 1);

  self->parent.klass = &pg_class;
  self->uri = g_strdup (settings->database);
  self->node = g_strdup (settings->node != NULL ? settings->node : "");
  self->busy_timeout_ms = settings->busy_timeout_ms;
  self->key_prefix = new_key_prefix (self->node);
  g_mutex_init (&self->lock);
  self->writer.uri = self->uri;
  self->writer.node = self->node;
  self->writer.busy_timeout_ms = settings->busy_timeout_ms;

  /* The writer's session is prepared once the schema has its types. */
  if (!store_pg_link_connect (&self->writer, error) || !prepare_schema (self, settings, error) ||
      !prepare_writer_session (&self->writer, error) || !clamp_holds (&self->writer, error))
    {
      pg_close (&self->parent, FALSE);
      return NULL;
    }
  self->writer_server = server_identity (&self->writer);
  report_durability (&self->writer);
  return &self->parent;
}
