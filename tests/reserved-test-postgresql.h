// SPDX-License-Identifier: LGPL-2.1-or-later
/* The PostgreSQL stage of the tests: when $RESERVED_TEST_POSTGRESQL names
 * a running server (a postgresql:// URI, as tests/pg/with-server sets
 * it), every test daemon gets a fresh database of its own there instead
 * of an SQLite file, created with psql and dropped once the test is done. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether the tests run on PostgreSQL. */
gboolean reserved_test_postgresql_enabled (void);

/* (transfer full) Creates a database named after @tag (letters, digits,
 * '-' and '_') and returns its URI. */
char *reserved_test_postgresql_create (const char *tag);

/* Drops the database of @uri (one create returned), even while a daemon
 * killed a moment ago still has a connection the server has not seen go. */
void reserved_test_postgresql_drop (const char *uri);

G_END_DECLS
