-- SPDX-License-Identifier: LGPL-2.1-or-later
-- What PostgreSQL alone does for a purchase, as a baseline for reserved:
-- reserved's SQLite schema (daemon/reserved-store-sql.c) in PostgreSQL's
-- words, with one item of a billion units. For bench/vs-postgres and
-- bench/two-daemons; pgbench runs postgres-purchase.sql against it.
CREATE TABLE items (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  capacity bigint NOT NULL CHECK (capacity BETWEEN 0 AND 1000000000),
  remaining bigint NOT NULL CHECK (remaining BETWEEN 0 AND capacity),
  per_user_limit bigint NOT NULL DEFAULT 0
);
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  item_id bigint NOT NULL REFERENCES items (id),
  customer text NOT NULL,
  quantity bigint NOT NULL CHECK (quantity > 0),
  caller_uid bigint NOT NULL,
  request_id text,
  created bigint NOT NULL,
  cancelled smallint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX orders_by_request ON orders (caller_uid, request_id) WHERE request_id IS NOT NULL;
CREATE INDEX orders_by_customer ON orders (customer, created, id);
CREATE INDEX orders_active_by_item ON orders (item_id, customer, quantity) WHERE cancelled = 0;
INSERT INTO items (name, capacity, remaining) VALUES ('bench', 1000000000, 1000000000);
