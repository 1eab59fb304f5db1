-- SPDX-License-Identifier: LGPL-2.1-or-later
-- One purchase is one transaction: the conditional update that cannot
-- oversell and the order it pays for, or neither. One statement, so one
-- round trip per purchase, as one Buy is one D-Bus call; prepared, as
-- reserved keeps its statements prepared. Each client buys for its own
-- customer, as each `reserve bench` buyer does.
WITH taken AS (
  UPDATE items SET remaining = remaining - 1
   WHERE name = 'bench' AND remaining >= 1
   RETURNING id, remaining)
INSERT INTO orders (item_id, customer, quantity, caller_uid, created)
SELECT id, 'bench-buyer-' || :client_id, 1, 0,
       (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
  FROM taken;
