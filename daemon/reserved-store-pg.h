// SPDX-License-Identifier: LGPL-2.1-or-later
/* The PostgreSQL backend's parts (reserved-store-backend.h): its
 * connections, shared by the writer (reserved-store-pg.c) and the readers
 * (reserved-store-pg-reads.c), and how a write's answer rows become a
 * WriteOp's outcome (reserved-store-pg-answers.c). Private to them. */
#pragma once

#include <libpq-fe.h>

#include "reserved-store-backend.h"

G_BEGIN_DECLS

/* One connection to the server, as the daemon's URI names it. libpq picks
 * the host (a multi-host URI with target_session_attrs=read-write finds
 * the primary), so connecting again after a failover finds the new one. */
typedef struct {
  const char *uri;  /* borrowed from the backend */
  const char *node; /* likewise */
  PGconn *conn;
  guint busy_timeout_ms;
  guint applied_busy_timeout_ms; /* what the session's lock_timeout is */
  gboolean failed;               /* something it ran failed: the stop is unclean */
  /* The server sent a WARNING since this was last cleared: among them,
   * that a COMMIT's wait for the synchronous standby was cancelled. */
  gboolean warned;
} StorePgLink;

/* Connects, trying again with a short backoff for at most the larger of
 * the busy timeout and 30 s while the server cannot be reached. */
gboolean store_pg_link_connect (StorePgLink *link, GError **error);
/* PQconnectdb (@uri), speaking UTF-8. */
PGconn *store_pg_connect (const char *uri);
/* (transfer full) Why @conn (of @uri) failed, without @uri's password. */
char *store_pg_connection_message (PGconn *conn, const char *uri);
void store_pg_link_close (StorePgLink *link);
/* Sends @conn's notices to the daemon's log; a WARNING among them sets
 * *@warned (nullable). */
void store_pg_log_notices (PGconn *conn, gboolean *warned);
/* Whether the connection is gone (closed, or lost by the server). */
gboolean store_pg_link_lost (StorePgLink *link);
/* Sets lock_timeout to the busy timeout when it changed. */
gboolean store_pg_link_apply_busy_timeout (StorePgLink *link, GError **error);

/* Runs one statement with text parameters (NULL entries are SQL NULL).
 * A connection found lost is made again and the statement run once more:
 * only for what may run twice (reads). NULL with a StorageFailure saying
 * it could not @doing. */
PGresult *store_pg_link_query (StorePgLink *link,
                               const char *sql,
                               int n_params,
                               const char *const *params,
                               const char *doing,
                               GError **error);

/* The text parameters of one statement; numbers are printed into
 * strings it owns. */
typedef struct {
  const char *values[12];
  char *owned[12];
  int n;
} StorePgParams;

void store_pg_params_clear (StorePgParams *params);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StorePgParams, store_pg_params_clear)
/* @value NULL: SQL NULL. */
void store_pg_params_text (StorePgParams *params, const char *value);
void store_pg_params_number (StorePgParams *params, gint64 value);
/* An id of the API (guint64) as the bigint it is stored as; one past
 * what a bigint holds finds nothing, as no such row exists. */
void store_pg_params_id (StorePgParams *params, guint64 id);

/* Sets StorageFailure: could not @doing, and why (@result's error, or the
 * connection's). FALSE. */
gboolean store_pg_storage_error (StorePgLink *link,
                                 const PGresult *result,
                                 GError **error,
                                 const char *doing);

/* Column @column of row @row as a number (0 when NULL). */
gint64 store_pg_int (const PGresult *result, int row, int column);
/* As a new string, NULL when NULL. */
char *store_pg_text (const PGresult *result, int row, int column);

/* The columns of reserved_step, the rows a write function answers with
 * (reserved-store-pg-schema.sql), from column @first of @result on. */
enum {
  STEP_KIND,
  STEP_STATUS,
  STEP_ID,
  STEP_REMAINING,
  STEP_EXPIRES,
  STEP_N1,
  STEP_N2,
  STEP_N3,
  STEP_T1,
  STEP_T2,
  N_STEP_COLUMNS
};

/* Fills in @op's outcome from its answer, rows [@first_row, @end_row) of
 * @result with reserved_step's columns from @first_column: the result,
 * then the holds it ended and the offers it made. Returns whether the
 * operation was kept (ok, or late), not refused. */
gboolean
store_pg_answer (WriteOp *op, const PGresult *result, int first_row, int end_row, int first_column);

/* The readers' part of the class (reserved-store-pg-reads.c). */
StoreReader *store_pg_open_reader (StoreBackend *backend, GError **error);
void store_pg_reader_set_busy_timeout (StoreReader *reader, guint milliseconds);
gboolean store_pg_close_reader (StoreReader *reader);
gboolean store_pg_get_order (StoreReader *r, guint64 order, ReservedOrder *out, GError **error);
gboolean store_pg_get_item (StoreReader *r, const char *name, ReservedItem *out, GError **error);
GArray *store_pg_list_items (StoreReader *r, GError **error);
GArray *store_pg_list_items_page (StoreReader *r, const char *after, guint limit, GError **error);
GArray *store_pg_list_orders (StoreReader *r,
                              const char *user,
                              const uid_t *only_caller,
                              guint max_rows,
                              GError **error);
GArray *store_pg_list_orders_page (StoreReader *r, const ReservedOrderQuery *query, GError **error);
GArray *store_pg_list_sale_windows (StoreReader *r, GError **error);
gboolean store_pg_get_hold (StoreReader *r, guint64 hold, ReservedHold *out, GError **error);
GArray *
store_pg_list_holds (StoreReader *r, const char *user, const uid_t *only_caller, GError **error);
gboolean store_pg_next_expiry (StoreReader *r, gint64 *expires);
gboolean store_pg_get_entry (StoreReader *r, guint64 entry, ReservedEntry *out, GError **error);
GArray *
store_pg_list_waitlist (StoreReader *r, const char *item, const uid_t *only_caller, GError **error);
GPtrArray *store_pg_list_waiting_holders (StoreReader *r, GError **error);

/* The watch for changes of stock (reserved-store-pg-watch.c): a thread
 * reporting each through @backend's changed until stopped. */
typedef struct _StorePgWatch StorePgWatch;
StorePgWatch *store_pg_watch_start (StoreBackend *backend);
void store_pg_watch_stop (StorePgWatch *watch);

/* What reserved-store-pg-reads.c and -watch.c need of the backend. */
const char *store_pg_backend_uri (StoreBackend *backend);
const char *store_pg_backend_node (StoreBackend *backend);
guint store_pg_backend_busy_timeout (StoreBackend *backend);

G_END_DECLS
