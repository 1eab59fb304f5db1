/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a database engine gives the store. The store itself keeps what
 * does not depend on the engine: the queue of writes, the batching, the
 * writer thread, handing the results back to the threads that asked, and
 * the threads that read. A backend opens and migrates its database, runs one
 * batch of writes, and answers the reads.
 *
 * Two backends exist: SQLite (reserved-store-sqlite.c, a file on this
 * host, the default) and PostgreSQL (reserved-store-pg.c, chosen by a
 * Database that is a postgresql:// URI, for several daemons selling one
 * inventory). */
#pragma once

#include "reserved-store-op.h"

G_BEGIN_DECLS

typedef struct _StoreBackend StoreBackend;
typedef struct _StoreReader StoreReader;

typedef ReservedStoreSettings StoreSettings;

/* Counted by run_batch, for GetStatistics. */
typedef struct {
  guint64 commits;
  guint64 operations; /* in the transactions that committed */
  guint64 largest_batch;
} StoreBatchCount;

typedef struct {
  const char *engine; /* "SQLite", "PostgreSQL": for messages */
  /* Whether several daemons may share the database, so that its stock
   * changes without this daemon's writes: the backend then calls
   * StoreBackend.changed for every change, once it was committed. */
  gboolean notifies_changes;
  /* Called once on the store's thread after opening, when
   * notifies_changes: start watching, calling changed from now on. */
  void (*watch_changes) (StoreBackend *backend);

  /* Writer thread. Runs @ops (element-type WriteOp), in order, in as few
   * transactions as it can. Each op ends with committed set, or with
   * error set; a refusal (SoldOut, ...) sets error and changes nothing.
   * An op whose fate cannot be known is never answered success. */
  void (*run_batch) (StoreBackend *backend, GPtrArray *ops, StoreBatchCount *count);
  /* Any thread; applies to writes from the next batch on. */
  void (*set_busy_timeout) (StoreBackend *backend, guint milliseconds);
  /* After the writer thread ended: closes the backend and frees it.
   * @clean_so_far: the store saw nothing that makes this stop unclean.
   * Returns whether the stop was clean. */
  gboolean (*close) (StoreBackend *backend, gboolean clean_so_far);

  /* A connection for reads, used by one thread at a time. */
  StoreReader *(*open_reader) (StoreBackend *backend, GError **error);
  void (*reader_set_busy_timeout) (StoreReader *reader, guint milliseconds);
  /* Returns FALSE when something it ran failed (the stop is unclean). */
  gboolean (*close_reader) (StoreReader *reader);

  gboolean (*get_order) (StoreReader *r, guint64 order, ReservedOrder *out, GError **error);
  gboolean (*get_item) (StoreReader *r, const char *name, ReservedItem *out, GError **error);
  GArray *(*list_items) (StoreReader *r, GError **error);
  GArray *(*list_items_page) (StoreReader *r, const char *after, guint limit, GError **error);
  GArray *(*list_orders) (StoreReader *r,
                          const char *user,
                          const uid_t *only_caller,
                          guint max_rows,
                          GError **error);
  GArray *(*list_orders_page) (StoreReader *r, const ReservedOrderQuery *query, GError **error);
  GArray *(*list_sale_windows) (StoreReader *r, GError **error);
  gboolean (*get_hold) (StoreReader *r, guint64 hold, ReservedHold *out, GError **error);
  GArray *(*list_holds) (StoreReader *r,
                         const char *user,
                         const uid_t *only_caller,
                         GError **error);
  gboolean (*next_expiry) (StoreReader *r, gint64 *expires);
  gboolean (*get_entry) (StoreReader *r, guint64 entry, ReservedEntry *out, GError **error);
  GArray *(*list_waitlist) (StoreReader *r,
                            const char *item,
                            const uid_t *only_caller,
                            GError **error);
  GPtrArray *(*list_waiting_holders) (StoreReader *r, GError **error);
} StoreBackendClass;

/* A change of an item's stock committed by any daemon sharing the
 * database, numbered by the item's version, which grows with every
 * change. Called on any thread. */
typedef void (*StoreChangedFunc) (gpointer data,
                                  const char *item,
                                  guint32 remaining,
                                  guint64 version);

/* Every backend's instance starts with this. */
struct _StoreBackend {
  const StoreBackendClass *klass;
  /* Set by the store after opening, for a backend that learns of changes
   * other daemons committed (notifies_changes); it then reports every
   * change, this daemon's own included, through it. */
  StoreChangedFunc changed;
  gpointer changed_data;
};

/* Opens the backend @settings->database names. */
StoreBackend *store_backend_open (const StoreSettings *settings, GError **error);

StoreBackend *store_sqlite_open (const StoreSettings *settings, GError **error);
StoreBackend *store_pg_open (const StoreSettings *settings, GError **error);

/* Whether @database names a PostgreSQL server rather than a file. */
gboolean store_backend_is_postgresql (const char *database);

/* (transfer full) @database as messages may name it: a URI's password,
 * in its user part or a password= parameter, replaced by "***". */
char *store_backend_describe (const char *database);
/* (transfer full) @text (a message of libpq's, which may quote the URI
 * or a part of it) with every password @database holds hidden. */
char *store_backend_hide_password (const char *database, const char *text);

G_END_DECLS
