-- SPDX-License-Identifier: LGPL-2.1-or-later
-- reserved's schema on PostgreSQL, version 1: the tables of the SQLite
-- store (reserved-store-sql.c) with the same meaning, plus
--
--   node      beside every caller uid: a uid means something only on its
--             own host, so request ids, MaxHoldsPerUid, one waitlist entry
--             per caller and "own orders" go by (node, uid);
--   op_key    on every row a write creates: the operation that made it
--             (not indexed: applied_operations is what is looked up);
--   applied_operations: each operation's key and its answer, written in
--             the transaction of the operation, so that after a lost
--             COMMIT the daemon can tell what committed and answer it.
--
-- Each write is one function returning reserved_step rows: a 'result' row
-- (status 'ok', 'late' or the refusal, with its numbers), then the holds
-- it ended ('ended') and the offers it made ('offered'). A refusal is a
-- row, not an exception, so a batch needs no savepoint per operation; the
-- daemon turns statuses into RESERVE_ERROR codes and messages.
--
-- Times are the daemon's (reserved-clock.h), passed in: the server's now()
-- would ignore the daemon's clock, and its tests' hook.
--
-- Run once, in the transaction that creates the database's schema, under
-- an advisory lock. A later version appends a migration; never edit this.

CREATE TABLE reserved_schema (
  version integer NOT NULL
);
INSERT INTO reserved_schema (version) VALUES (1);

-- The operation a row was made by: set for the transaction by each write
-- function (set_config), so nested helpers need not pass it on.
CREATE FUNCTION reserved_op_key () RETURNS text
LANGUAGE sql STABLE AS $$ SELECT current_setting('reserved.op_key', true) $$;

CREATE TABLE items (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  capacity bigint NOT NULL CHECK (capacity BETWEEN 0 AND 1000000000),
  remaining bigint NOT NULL CHECK (remaining BETWEEN 0 AND capacity),
  per_user_limit bigint NOT NULL DEFAULT 0 CHECK (per_user_limit >= 0),
  retired boolean NOT NULL DEFAULT false,
  sale_start bigint NOT NULL DEFAULT 0 CHECK (sale_start >= 0),
  sale_end bigint NOT NULL DEFAULT 0 CHECK (sale_end >= 0),
  offer_seconds bigint NOT NULL DEFAULT 3600 CHECK (offer_seconds > 0),
  -- Grows with every change of the stock the daemons announce (see
  -- reserved_stock_changed), so that a daemon told of changes out of
  -- order keeps the newest.
  version bigint NOT NULL DEFAULT 0,
  op_key text DEFAULT reserved_op_key ()
);

-- Every daemon sharing the database announces every change of an item's
-- stock, its own and the others': a change is notified on the channel
-- reserved_stock as "VERSION STOCK NAME" when its transaction commits.
-- The stock announced is what is left, and 0 once the item is retired.
CREATE FUNCTION reserved_stock_changed () RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  stock bigint := CASE WHEN NEW.retired THEN 0 ELSE NEW.remaining END;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF stock = (CASE WHEN OLD.retired THEN 0 ELSE OLD.remaining END) THEN
      RETURN NEW;
    END IF;
    NEW.version := OLD.version + 1;
  END IF;
  PERFORM pg_notify ('reserved_stock', format ('%s %s %s', NEW.version, stock, NEW.name));
  RETURN NEW;
END $$;
CREATE TRIGGER items_stock_changed BEFORE INSERT OR UPDATE ON items
  FOR EACH ROW EXECUTE FUNCTION reserved_stock_changed ();

-- An identity never hands out an id twice, as AUTOINCREMENT does.
CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  item_id bigint NOT NULL REFERENCES items (id),
  customer text NOT NULL,
  quantity bigint NOT NULL CHECK (quantity > 0),
  node text NOT NULL,
  caller_uid bigint NOT NULL,
  request_id text,
  created bigint NOT NULL,
  cancelled boolean NOT NULL DEFAULT false,
  op_key text NOT NULL DEFAULT reserved_op_key ()
);
CREATE UNIQUE INDEX orders_by_request ON orders (node, caller_uid, request_id)
  WHERE request_id IS NOT NULL;
CREATE INDEX orders_by_customer ON orders (customer, created, id);
CREATE INDEX orders_active_by_item ON orders (item_id, customer, quantity) WHERE NOT cancelled;

CREATE TABLE holds (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  item_id bigint NOT NULL REFERENCES items (id),
  customer text NOT NULL,
  quantity bigint NOT NULL CHECK (quantity > 0),
  node text NOT NULL,
  caller_uid bigint NOT NULL,
  request_id text,
  created bigint NOT NULL,
  expires bigint NOT NULL CHECK (expires >= 0),
  ttl bigint NOT NULL CHECK (ttl >= 0),
  holder text,
  ended text CHECK (ended IN ('confirmed', 'released', 'expired', 'disconnected', 'closed')),
  order_id bigint REFERENCES orders (id),
  op_key text NOT NULL DEFAULT reserved_op_key ()
);
CREATE UNIQUE INDEX holds_by_request ON holds (node, caller_uid, request_id)
  WHERE request_id IS NOT NULL;
CREATE INDEX holds_live_by_item ON holds (item_id, customer, quantity) WHERE ended IS NULL;
CREATE INDEX holds_live_by_expiry ON holds (expires) WHERE ended IS NULL AND expires > 0;
CREATE INDEX holds_live_by_caller ON holds (node, caller_uid) WHERE ended IS NULL;
CREATE INDEX holds_live_by_holder ON holds (holder) WHERE ended IS NULL AND holder IS NOT NULL;

CREATE TABLE waitlist (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  item_id bigint NOT NULL REFERENCES items (id),
  customer text NOT NULL,
  quantity bigint NOT NULL CHECK (quantity > 0),
  node text NOT NULL,
  caller_uid bigint NOT NULL,
  request_id text,
  created bigint NOT NULL,
  deadline bigint NOT NULL CHECK (deadline >= 0),
  holder text,
  hold_id bigint REFERENCES holds (id),
  ended text CHECK (ended IN ('served', 'lapsed', 'left', 'expired', 'disconnected',
    'over_limit')),
  op_key text NOT NULL DEFAULT reserved_op_key ()
);
CREATE UNIQUE INDEX waitlist_by_request ON waitlist (node, caller_uid, request_id)
  WHERE request_id IS NOT NULL;
CREATE UNIQUE INDEX waitlist_live_per_customer ON waitlist (node, caller_uid, customer, item_id)
  WHERE ended IS NULL;
CREATE INDEX waitlist_waiting_by_item ON waitlist (item_id, id, customer, quantity)
  WHERE ended IS NULL AND hold_id IS NULL;
CREATE INDEX waitlist_live_by_hold ON waitlist (hold_id) WHERE ended IS NULL;
CREATE INDEX waitlist_waiting_by_deadline ON waitlist (deadline)
  WHERE ended IS NULL AND hold_id IS NULL AND deadline > 0;
CREATE INDEX waitlist_waiting_by_holder ON waitlist (holder)
  WHERE ended IS NULL AND hold_id IS NULL AND holder IS NOT NULL;

-- One row of an operation's answer. kind: 'result', 'ended', 'offered'.
--   result:  status; id, remaining, expires; n1..n3, t1..t2 as the
--            status says (see reserved-store-pg.c, read_result)
--   ended:   id = hold, remaining, t1 = item, t2 = reason
--   offered: id = entry, n1 = hold, expires, remaining, t1 = item,
--            t2 = holder
CREATE TYPE reserved_step AS (
  kind text,
  status text,
  id bigint,
  remaining bigint,
  expires bigint,
  n1 bigint,
  n2 bigint,
  n3 bigint,
  t1 text,
  t2 text
);

-- Kept a day (the server's clock is good enough for that): only a batch
-- whose COMMIT's answer was lost moments ago is ever looked up.
CREATE TABLE applied_operations (
  op_key text PRIMARY KEY,
  steps jsonb NOT NULL,
  applied timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX applied_operations_by_age ON applied_operations (applied);

-- --- helpers -------------------------------------------------------------

CREATE FUNCTION reserved_result (status text, id bigint DEFAULT NULL,
  remaining bigint DEFAULT NULL, expires bigint DEFAULT NULL, n1 bigint DEFAULT NULL,
  n2 bigint DEFAULT NULL, n3 bigint DEFAULT NULL, t1 text DEFAULT NULL, t2 text DEFAULT NULL)
RETURNS reserved_step
LANGUAGE sql IMMUTABLE AS $$
  SELECT ROW ('result', status, id, remaining, expires, n1, n2, n3, t1, t2)::reserved_step
$$;

-- The events (ended holds, offers) of the operation running, collected
-- in a temporary table the writer's session creates: helpers deep in a
-- promotion add to it, the operation's function returns and empties it.
CREATE FUNCTION reserved_event (kind text, id bigint, remaining bigint, expires bigint,
  n1 bigint, t1 text, t2 text) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO pg_temp.reserved_events (step)
  VALUES (ROW (kind, NULL, id, remaining, expires, n1, NULL, NULL, t1, t2)::reserved_step)
$$;

CREATE FUNCTION reserved_in_window (sale_start bigint, sale_end bigint, wall bigint)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT (sale_start = 0 OR wall >= sale_start) AND (sale_end = 0 OR wall < sale_end)
$$;

-- What the per-user limit counts: orders, live holds, waiting entries.
CREATE FUNCTION reserved_units_of_customer (p_item bigint, p_customer text) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT (SELECT COALESCE(SUM(quantity), 0) FROM orders
          WHERE item_id = p_item AND customer = p_customer AND NOT cancelled)
       + (SELECT COALESCE(SUM(quantity), 0) FROM holds
          WHERE item_id = p_item AND customer = p_customer AND ended IS NULL)
       + (SELECT COALESCE(SUM(quantity), 0) FROM waitlist
          WHERE item_id = p_item AND customer = p_customer AND ended IS NULL
          AND hold_id IS NULL)
$$;

CREATE FUNCTION reserved_owed (p_item bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT COALESCE(SUM(quantity), 0) FROM waitlist
  WHERE item_id = p_item AND ended IS NULL AND hold_id IS NULL
$$;

-- SoldOut, with what is left and how much of it is owed to the waitlist.
CREATE FUNCTION reserved_sold_out (p_item bigint) RETURNS reserved_step
LANGUAGE sql STABLE AS $$
  SELECT reserved_result ('sold_out', n1 => remaining, n2 => reserved_owed (p_item))
  FROM items WHERE id = p_item
$$;

-- Whether anything is overdue: then an operation may end it before it is
-- refused, and runs in a subtransaction so that a refusal undoes that too.
-- Both are index lookups; the daemon's timer ends what is overdue soon.
CREATE FUNCTION reserved_anything_overdue (p_now bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM holds WHERE ended IS NULL AND expires > 0 AND expires <= p_now)
      OR EXISTS (SELECT 1 FROM waitlist WHERE ended IS NULL AND hold_id IS NULL
                 AND deadline > 0 AND deadline <= p_now)
$$;

-- Records @res and the events as the operation's answer, returns them,
-- and empties the events for the next operation.
CREATE FUNCTION reserved_finish (res reserved_step) RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  steps reserved_step[];
BEGIN
  SELECT array_agg (step ORDER BY seq) INTO steps FROM pg_temp.reserved_events;
  steps := ARRAY[res] || COALESCE (steps, ARRAY[]::reserved_step[]);
  DELETE FROM pg_temp.reserved_events;
  INSERT INTO applied_operations (op_key, steps) VALUES (reserved_op_key (), to_jsonb (steps));
  RETURN QUERY SELECT * FROM unnest (steps);
END $$;

-- --- promotion and ending holds -------------------------------------------

-- Takes @p_quantity units of @p_item and records a hold. @p_owed: the
-- units may be those owed to the waitlist (an offer). Returns the result
-- row: ok with the hold, remaining, expires, or sold_out.
CREATE FUNCTION reserved_insert_hold (p_item bigint, p_owed boolean, p_customer text,
  p_quantity bigint, p_node text, p_caller bigint, p_request_id text, p_ttl bigint,
  p_holder text, p_now bigint) RETURNS reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  left_ bigint;
  hold_ bigint;
  expires_ bigint;
BEGIN
  IF p_owed THEN
    UPDATE items SET remaining = remaining - p_quantity
    WHERE id = p_item AND remaining >= p_quantity RETURNING remaining INTO left_;
  ELSE
    UPDATE items SET remaining = remaining - p_quantity
    WHERE id = p_item AND remaining - reserved_owed (p_item) >= p_quantity
    RETURNING remaining INTO left_;
  END IF;
  IF NOT FOUND THEN
    RETURN reserved_sold_out (p_item);
  END IF;
  expires_ := CASE WHEN p_ttl > 0 THEN p_now + p_ttl * 1000000 ELSE 0 END;
  INSERT INTO holds (item_id, customer, quantity, node, caller_uid, request_id, created,
                     expires, ttl, holder)
  VALUES (p_item, p_customer, p_quantity, p_node, p_caller, p_request_id, p_now, expires_,
          p_ttl * 1000000, p_holder)
  RETURNING id INTO hold_;
  RETURN reserved_result ('ok', id => hold_, remaining => left_, expires => expires_);
END $$;

-- Offers what @p_item has left to the entries waiting for it, in order,
-- until the first whose quantity is not there (store_waitlist_promote).
-- Returns the item's stock afterwards.
CREATE FUNCTION reserved_promote (p_item bigint, p_now bigint, p_wall bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  i items;
  w waitlist;
  offer reserved_step;
BEGIN
  LOOP
    SELECT * INTO i FROM items WHERE id = p_item;
    SELECT * INTO w FROM waitlist
    WHERE item_id = p_item AND ended IS NULL AND hold_id IS NULL ORDER BY id LIMIT 1;
    IF w.id IS NULL OR i.retired OR NOT reserved_in_window (i.sale_start, i.sale_end, p_wall) THEN
      RETURN i.remaining;
    END IF;
    -- The limit may have been lowered since the entry joined; its own
    -- units are counted already.
    IF i.per_user_limit > 0
       AND reserved_units_of_customer (p_item, w.customer) > i.per_user_limit THEN
      UPDATE waitlist SET ended = 'over_limit' WHERE id = w.id AND ended IS NULL;
      CONTINUE;
    END IF;
    IF i.remaining < w.quantity THEN
      RETURN i.remaining;
    END IF;
    -- Bound to the waiter's connection, the offer lasts as long as it.
    offer := reserved_insert_hold (p_item, true, w.customer, w.quantity, w.node, w.caller_uid,
                                   NULL, CASE WHEN w.holder IS NOT NULL THEN 0
                                              ELSE i.offer_seconds END,
                                   w.holder, p_now);
    UPDATE waitlist SET hold_id = offer.id WHERE id = w.id;
    PERFORM reserved_event ('offered', w.id, offer.remaining, offer.expires, offer.id, i.name,
                            w.holder);
  END LOOP;
END $$;

-- Marks a live hold ended and, unless it became order @p_order, gives its
-- units back and offers them on; an offer's entry ends with it. Returns
-- the item's stock afterwards.
CREATE FUNCTION reserved_end_hold (p_hold bigint, p_reason text, p_order bigint, p_now bigint,
  p_wall bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  h record;
  left_ bigint;
BEGIN
  UPDATE holds SET ended = p_reason, order_id = p_order WHERE id = p_hold AND ended IS NULL
  RETURNING item_id, quantity INTO h;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'hold % is not live', p_hold;
  END IF;
  UPDATE items SET remaining = remaining + CASE WHEN p_order IS NULL THEN h.quantity ELSE 0 END
  WHERE id = h.item_id RETURNING remaining INTO left_;
  UPDATE waitlist SET ended = CASE WHEN p_order IS NULL THEN 'lapsed' ELSE 'served' END
  WHERE hold_id = p_hold AND ended IS NULL;
  IF p_order IS NULL THEN
    left_ := reserved_promote (h.item_id, p_now, p_wall);
  END IF;
  PERFORM reserved_event ('ended', p_hold, left_, NULL, NULL,
                          (SELECT name FROM items WHERE id = h.item_id), p_reason);
  RETURN left_;
END $$;

-- Ends waiting entries (the ids given) with @p_reason and promotes each
-- item they waited for.
CREATE FUNCTION reserved_end_entries (p_entries bigint[], p_reason text, p_now bigint,
  p_wall bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  item_ bigint;
BEGIN
  FOR item_ IN
    WITH gone AS (UPDATE waitlist SET ended = p_reason
                  WHERE id = ANY (p_entries) AND ended IS NULL RETURNING item_id)
    SELECT DISTINCT item_id FROM gone ORDER BY item_id
  LOOP
    PERFORM reserved_promote (item_, p_now, p_wall);
  END LOOP;
END $$;

-- Locks, in order of id, the items of the live holds and waiting entries
-- that @p_holder (of @p_node) has, or (@p_holder NULL) that are overdue.
-- Every change of a hold or an entry is made under its item's lock, so
-- once these are held, what was read of them stays true: another daemon
-- ending the same holds, or offering an entry the units, has committed.
CREATE FUNCTION reserved_lock_items_of (p_node text, p_holder text, p_now bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  -- PERFORM reads every row, so each is locked.
  PERFORM 1 FROM items WHERE id IN (
    SELECT item_id FROM holds WHERE ended IS NULL
    AND CASE WHEN p_holder IS NULL THEN expires > 0 AND expires <= p_now
             ELSE holder = p_holder AND node = p_node END
    UNION
    SELECT item_id FROM waitlist WHERE ended IS NULL AND hold_id IS NULL
    AND CASE WHEN p_holder IS NULL THEN deadline > 0 AND deadline <= p_now
             ELSE holder = p_holder AND node = p_node END)
  ORDER BY id FOR UPDATE;
END $$;

-- Ends the overdue holds and waiting entries of @p_item (NULL: of every
-- item, whose items it locks first).
CREATE FUNCTION reserved_end_overdue (p_item bigint, p_now bigint, p_wall bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  hold_ bigint;
BEGIN
  IF p_item IS NULL THEN
    PERFORM reserved_lock_items_of (NULL, NULL, p_now);
  END IF;
  FOR hold_ IN
    SELECT id FROM holds WHERE ended IS NULL AND expires > 0 AND expires <= p_now
    AND (p_item IS NULL OR item_id = p_item) ORDER BY id
  LOOP
    PERFORM reserved_end_hold (hold_, 'expired', NULL, p_now, p_wall);
  END LOOP;
  PERFORM reserved_end_entries (ARRAY (
    SELECT id FROM waitlist WHERE ended IS NULL AND hold_id IS NULL AND deadline > 0
    AND deadline <= p_now AND (p_item IS NULL OR item_id = p_item)), 'expired', p_now, p_wall);
END $$;

-- The item a purchase, hold or entry is for, or its refusal: no_such_item,
-- retired, not_on_sale (n1 start, n2 end, expires the wall clock); with
-- @p_check_sale FALSE the sale window is the caller's to check.
CREATE FUNCTION reserved_find_sellable (p_name text, p_wall bigint, p_check_sale boolean,
  OUT item items, OUT refusal reserved_step)
LANGUAGE plpgsql AS $$
BEGIN
  SELECT * INTO item FROM items WHERE name = p_name;
  IF NOT FOUND THEN
    refusal := reserved_result ('no_such_item');
  ELSIF item.retired THEN
    refusal := reserved_result ('retired');
  ELSIF p_check_sale AND NOT reserved_in_window (item.sale_start, item.sale_end, p_wall) THEN
    refusal := reserved_result ('not_on_sale', n1 => item.sale_start, n2 => item.sale_end,
                                expires => p_wall);
  END IF;
END $$;

-- LimitExceeded (n1 limit, n2 what the customer has) or NULL.
CREATE FUNCTION reserved_check_limit (p_item items, p_customer text, p_quantity bigint)
RETURNS reserved_step
LANGUAGE plpgsql STABLE AS $$
DECLARE
  units bigint;
BEGIN
  IF p_item.per_user_limit = 0 THEN
    RETURN NULL;
  END IF;
  units := reserved_units_of_customer (p_item.id, p_customer);
  IF units + p_quantity > p_item.per_user_limit THEN
    RETURN reserved_result ('limit', n1 => p_item.per_user_limit, n2 => units);
  END IF;
  RETURN NULL;
END $$;

-- What a Buy and a Hold ask first, in the order of their errors'
-- precedence: the item (reserved_find_sellable), its overdue holds ended
-- (@p_overdue: there are some), then the per-user limit.
CREATE FUNCTION reserved_ready_to_sell (p_name text, p_user text, p_quantity bigint,
  p_now bigint, p_wall bigint, p_overdue boolean, OUT item items, OUT refusal reserved_step)
LANGUAGE plpgsql AS $$
DECLARE
  f record;
BEGIN
  f := reserved_find_sellable (p_name, p_wall, true);
  item := f.item;
  refusal := f.refusal;
  IF refusal.status IS NOT NULL THEN
    RETURN;
  END IF;
  IF p_overdue THEN
    PERFORM reserved_end_overdue (item.id, p_now, p_wall);
  END IF;
  refusal := reserved_check_limit (item, p_user, p_quantity);
END $$;

-- A request_id used before by (node, uid): the same request (item, user,
-- quantity) is answered as its first; another is request_reused (id, n1
-- quantity, t1 item, t2 user of the first).
CREATE FUNCTION reserved_same_request (p_first_id bigint, p_first_item text,
  p_first_user text, p_first_quantity bigint, p_item text, p_user text, p_quantity bigint)
RETURNS reserved_step
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_first_item = p_item AND p_first_user = p_user
                   AND p_first_quantity = p_quantity THEN NULL
              ELSE reserved_result ('request_reused', id => p_first_id, n1 => p_first_quantity,
                                    t1 => p_first_item, t2 => p_first_user) END
$$;

-- Starts the operation @p_key: whether anything is overdue, which it may
-- end before it is refused. Then (and only then, nearly never) the body
-- runs in a subtransaction that reserved_undo_refusal rolls back when it
-- refuses, so a refused operation changes nothing. Each operation's
-- function spells this out around a direct call of its body: one generic
-- runner would have to call the body through EXECUTE, planned anew each
-- time, which cost a third of a purchase's time on the server.
CREATE FUNCTION reserved_begin (p_key text, p_now bigint) RETURNS boolean
LANGUAGE sql AS $$
  SELECT set_config ('reserved.op_key', p_key, true) IS NOT NULL
         AND reserved_anything_overdue (p_now)
$$;

CREATE FUNCTION reserved_undo_refusal (res reserved_step) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF res.status NOT IN ('ok', 'late') THEN
    RAISE SQLSTATE 'RSV01'; -- caught by the caller's block, which keeps res
  END IF;
END $$;

-- --- the operations ---------------------------------------------------------

CREATE FUNCTION reserved_buy_body (p_node text, p_caller bigint, p_item text, p_user text,
  p_quantity bigint, p_request_id text, p_created bigint, p_now bigint, p_wall bigint, p_overdue boolean)
RETURNS reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  f record;
  left_ bigint;
  order_ bigint;
BEGIN
  IF p_request_id IS NOT NULL THEN
    SELECT o.id, i.name, o.customer, o.quantity, i.remaining INTO r
    FROM orders o JOIN items i ON i.id = o.item_id
    WHERE o.node = p_node AND o.caller_uid = p_caller AND o.request_id = p_request_id;
    IF FOUND THEN
      RETURN COALESCE (reserved_same_request (r.id, r.name, r.customer, r.quantity, p_item,
                                              p_user, p_quantity),
                       reserved_result ('ok', id => r.id, remaining => r.remaining, n1 => 1));
    END IF;
  END IF;
  f := reserved_ready_to_sell (p_item, p_user, p_quantity, p_now, p_wall, p_overdue);
  IF (f.refusal).status IS NOT NULL THEN
    RETURN f.refusal;
  END IF;
  -- The conditional update is what makes overselling impossible: only
  -- units not owed to the waitlist, never below zero.
  UPDATE items SET remaining = remaining - p_quantity
  WHERE id = (f.item).id AND remaining - reserved_owed ((f.item).id) >= p_quantity
  RETURNING remaining INTO left_;
  IF NOT FOUND THEN
    RETURN reserved_sold_out ((f.item).id);
  END IF;
  INSERT INTO orders (item_id, customer, quantity, node, caller_uid, request_id, created)
  VALUES ((f.item).id, p_user, p_quantity, p_node, p_caller, p_request_id, p_created)
  RETURNING id INTO order_;
  RETURN reserved_result ('ok', id => order_, remaining => left_, n1 => 0);
END $$;

CREATE FUNCTION reserved_buy (p_key text, p_node text, p_caller bigint, p_item text,
  p_user text, p_quantity bigint, p_request_id text, p_created bigint, p_now bigint,
  p_wall bigint) RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  overdue boolean := reserved_begin (p_key, p_now);
  res reserved_step;
BEGIN
  IF NOT overdue THEN
    res := reserved_buy_body (p_node, p_caller, p_item, p_user, p_quantity, p_request_id,
                              p_created, p_now, p_wall, false);
  ELSE
    BEGIN
      res := reserved_buy_body (p_node, p_caller, p_item, p_user, p_quantity, p_request_id,
                              p_created, p_now, p_wall, true);
      PERFORM reserved_undo_refusal (res);
    EXCEPTION WHEN SQLSTATE 'RSV01' THEN
      NULL; -- res keeps the refusal; what the body wrote is undone
    END;
  END IF;
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;

-- ok: remaining, t1 the item. no_such_order, already_cancelled.
CREATE FUNCTION reserved_cancel (p_key text, p_order bigint, p_now bigint, p_wall bigint)
RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  o record;
  left_ bigint;
  res reserved_step;
BEGIN
  PERFORM set_config ('reserved.op_key', p_key, true);
  -- Marked first: of two daemons cancelling it at once, one changes it.
  UPDATE orders SET cancelled = true WHERE id = p_order AND NOT cancelled
  RETURNING item_id, quantity INTO o;
  IF NOT FOUND THEN
    res := reserved_result (CASE WHEN EXISTS (SELECT 1 FROM orders WHERE id = p_order)
                                 THEN 'already_cancelled' ELSE 'no_such_order' END);
  ELSE
    UPDATE items SET remaining = remaining + o.quantity WHERE id = o.item_id;
    left_ := reserved_promote (o.item_id, p_now, p_wall);
    res := reserved_result ('ok', remaining => left_,
                            t1 => (SELECT name FROM items WHERE id = o.item_id));
  END IF;
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;

-- item_exists (n1 1 when retired).
CREATE FUNCTION reserved_create_item (p_key text, p_name text, p_capacity bigint,
  p_limit bigint, p_sale_start bigint, p_sale_end bigint, p_offer_seconds bigint)
RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  res reserved_step;
BEGIN
  PERFORM set_config ('reserved.op_key', p_key, true);
  INSERT INTO items (name, capacity, remaining, per_user_limit, sale_start, sale_end,
                     offer_seconds)
  VALUES (p_name, p_capacity, p_capacity, p_limit, p_sale_start, p_sale_end,
          CASE WHEN p_offer_seconds > 0 THEN p_offer_seconds ELSE 3600 END)
  ON CONFLICT (name) DO NOTHING;
  IF FOUND THEN
    res := reserved_result ('ok');
  ELSE
    res := reserved_result ('item_exists',
                            n1 => (SELECT retired::int FROM items WHERE name = p_name));
  END IF;
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;

-- ok: remaining. no_such_item, restock_over (n1 the capacity).
CREATE FUNCTION reserved_restock (p_key text, p_name text, p_quantity bigint, p_now bigint,
  p_wall bigint) RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  item_ bigint;
  res reserved_step;
BEGIN
  PERFORM set_config ('reserved.op_key', p_key, true);
  UPDATE items SET capacity = capacity + p_quantity, remaining = remaining + p_quantity
  WHERE name = p_name AND capacity + p_quantity <= 1000000000 RETURNING id INTO item_;
  IF FOUND THEN
    res := reserved_result ('ok', remaining => reserved_promote (item_, p_now, p_wall));
  ELSIF EXISTS (SELECT 1 FROM items WHERE name = p_name) THEN
    res := reserved_result ('restock_over',
                            n1 => (SELECT capacity FROM items WHERE name = p_name));
  ELSE
    res := reserved_result ('no_such_item');
  END IF;
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;

CREATE FUNCTION reserved_retire_item (p_key text, p_name text) RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  res reserved_step;
BEGIN
  PERFORM set_config ('reserved.op_key', p_key, true);
  UPDATE items SET retired = true WHERE name = p_name;
  res := reserved_result (CASE WHEN FOUND THEN 'ok' ELSE 'no_such_item' END);
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;

-- The answer of an update of a live item that changed @p_found rows.
CREATE FUNCTION reserved_live_item_updated (p_found boolean, p_name text)
RETURNS reserved_step
LANGUAGE sql STABLE AS $$
  SELECT reserved_result (CASE WHEN p_found THEN 'ok'
                               WHEN EXISTS (SELECT 1 FROM items WHERE name = p_name)
                               THEN 'retired' ELSE 'no_such_item' END)
$$;

CREATE FUNCTION reserved_set_per_user_limit (p_key text, p_name text, p_limit bigint)
RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  res reserved_step;
BEGIN
  PERFORM set_config ('reserved.op_key', p_key, true);
  UPDATE items SET per_user_limit = p_limit WHERE name = p_name AND NOT retired;
  res := reserved_live_item_updated (FOUND, p_name);
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;

CREATE FUNCTION reserved_set_sale_window (p_key text, p_name text, p_start bigint,
  p_end bigint) RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  res reserved_step;
BEGIN
  PERFORM set_config ('reserved.op_key', p_key, true);
  UPDATE items SET sale_start = p_start, sale_end = p_end WHERE name = p_name AND NOT retired;
  res := reserved_live_item_updated (FOUND, p_name);
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;

-- --- holds ----------------------------------------------------------------

-- ok: id hold, remaining, expires, n1 replayed. The refusals of a
-- purchase, and max_holds (n1 live holds, n2 the most).
CREATE FUNCTION reserved_hold_body (p_node text, p_caller bigint, p_item text, p_user text,
  p_quantity bigint, p_request_id text, p_ttl bigint, p_holder text, p_max bigint,
  p_now bigint, p_wall bigint, p_overdue boolean) RETURNS reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  f record;
  live bigint;
  res reserved_step;
BEGIN
  IF p_request_id IS NOT NULL THEN
    SELECT h.id, i.name, h.customer, h.quantity, i.remaining, h.expires INTO r
    FROM holds h JOIN items i ON i.id = h.item_id
    WHERE h.node = p_node AND h.caller_uid = p_caller AND h.request_id = p_request_id;
    IF FOUND THEN
      RETURN COALESCE (reserved_same_request (r.id, r.name, r.customer, r.quantity, p_item,
                                              p_user, p_quantity),
                       reserved_result ('ok', id => r.id, remaining => r.remaining,
                                        expires => r.expires, n1 => 1));
    END IF;
  END IF;
  f := reserved_ready_to_sell (p_item, p_user, p_quantity, p_now, p_wall, p_overdue);
  IF (f.refusal).status IS NOT NULL THEN
    RETURN f.refusal;
  END IF;
  SELECT COUNT(*) INTO live FROM holds
  WHERE node = p_node AND caller_uid = p_caller AND ended IS NULL;
  IF live >= p_max THEN
    RETURN reserved_result ('max_holds', n1 => live, n2 => p_max);
  END IF;
  res := reserved_insert_hold ((f.item).id, false, p_user, p_quantity, p_node, p_caller,
                               p_request_id, p_ttl, p_holder, p_now);
  res.n1 := 0;
  RETURN res;
END $$;

CREATE FUNCTION reserved_hold (p_key text, p_node text, p_caller bigint, p_item text,
  p_user text, p_quantity bigint, p_request_id text, p_ttl bigint, p_holder text,
  p_max bigint, p_now bigint, p_wall bigint) RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  overdue boolean := reserved_begin (p_key, p_now);
  res reserved_step;
BEGIN
  IF NOT overdue THEN
    res := reserved_hold_body (p_node, p_caller, p_item, p_user, p_quantity, p_request_id,
                               p_ttl, p_holder, p_max, p_now, p_wall, false);
  ELSE
    BEGIN
      res := reserved_hold_body (p_node, p_caller, p_item, p_user, p_quantity, p_request_id,
                               p_ttl, p_holder, p_max, p_now, p_wall, true);
      PERFORM reserved_undo_refusal (res);
    EXCEPTION WHEN SQLSTATE 'RSV01' THEN
      NULL; -- res keeps the refusal; what the body wrote is undone
    END;
  END IF;
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;

-- A hold as Confirm, Release and Extend find it; a live one past its
-- expiry is ended here (expired), and overdue says so.
CREATE FUNCTION reserved_load_hold (p_hold bigint, p_now bigint, p_wall bigint,
  OUT h holds, OUT item text, OUT overdue boolean)
LANGUAGE plpgsql AS $$
BEGIN
  overdue := false;
  SELECT * INTO h FROM holds WHERE id = p_hold;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  SELECT name INTO item FROM items WHERE id = h.item_id;
  IF h.ended IS NULL AND h.expires > 0 AND h.expires <= p_now THEN
    PERFORM reserved_end_hold (p_hold, 'expired', NULL, p_now, p_wall);
    h.ended := 'expired';
    overdue := true;
  END IF;
END $$;

-- The answer for a hold that has ended: refused (hold_ended, t1 reason,
-- n1 order) when it ended before, else late: the expiry this committed is
-- the news.
CREATE FUNCTION reserved_hold_has_ended (p_h holds, p_overdue boolean) RETURNS reserved_step
LANGUAGE sql IMMUTABLE AS $$
  SELECT reserved_result (CASE WHEN p_overdue THEN 'late' ELSE 'hold_ended' END,
                          id => (p_h).id, n1 => (p_h).order_id, t1 => (p_h).ended)
$$;

-- ok: id order, remaining, t1 item. no_such_hold, hold_ended, late, and
-- with or_buy the refusals of a purchase.
CREATE FUNCTION reserved_confirm_body (p_hold bigint, p_or_buy boolean, p_now bigint,
  p_wall bigint, p_created bigint, p_overdue boolean) RETURNS reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  l record;
  res reserved_step;
  order_ bigint;
BEGIN
  l := reserved_load_hold (p_hold, p_now, p_wall);
  IF (l.h).id IS NULL THEN
    RETURN reserved_result ('no_such_hold');
  END IF;
  -- Confirming again answers with the same order.
  IF (l.h).ended = 'confirmed' THEN
    RETURN reserved_result ('ok', id => (l.h).order_id, t1 => l.item,
                            remaining => (SELECT remaining FROM items WHERE id = (l.h).item_id));
  END IF;
  IF (l.h).ended IS NOT NULL AND p_or_buy THEN
    res := reserved_buy_body ((l.h).node, (l.h).caller_uid, l.item, (l.h).customer,
                              (l.h).quantity, NULL, p_created, p_now, p_wall, p_overdue);
    -- What the answer's messages name: the hold's item, user, quantity.
    res.t1 := l.item;
    IF res.status <> 'ok' THEN
      res.t2 := (l.h).customer;
      res.n3 := (l.h).quantity;
    END IF;
    RETURN res;
  END IF;
  IF (l.h).ended IS NOT NULL THEN
    RETURN reserved_hold_has_ended (l.h, l.overdue);
  END IF;
  INSERT INTO orders (item_id, customer, quantity, node, caller_uid, request_id, created)
  VALUES ((l.h).item_id, (l.h).customer, (l.h).quantity, (l.h).node, (l.h).caller_uid, NULL,
          p_now)
  RETURNING id INTO order_;
  RETURN reserved_result ('ok', id => order_, t1 => l.item,
                          remaining => reserved_end_hold (p_hold, 'confirmed', order_, p_now,
                                                          p_wall));
END $$;

CREATE FUNCTION reserved_confirm (p_key text, p_hold bigint, p_or_buy boolean, p_now bigint,
  p_wall bigint, p_created bigint) RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  overdue boolean := reserved_begin (p_key, p_now);
  res reserved_step;
BEGIN
  IF NOT overdue THEN
    res := reserved_confirm_body (p_hold, p_or_buy, p_now, p_wall, p_created, false);
  ELSE
    BEGIN
      res := reserved_confirm_body (p_hold, p_or_buy, p_now, p_wall, p_created, true);
      PERFORM reserved_undo_refusal (res);
    EXCEPTION WHEN SQLSTATE 'RSV01' THEN
      NULL; -- res keeps the refusal; what the body wrote is undone
    END;
  END IF;
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;

-- ok: remaining. no_such_hold, hold_ended, late.
CREATE FUNCTION reserved_release_body (p_hold bigint, p_now bigint, p_wall bigint)
RETURNS reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  l record;
BEGIN
  l := reserved_load_hold (p_hold, p_now, p_wall);
  IF (l.h).id IS NULL THEN
    RETURN reserved_result ('no_such_hold');
  END IF;
  IF (l.h).ended IS NOT NULL THEN
    RETURN reserved_hold_has_ended (l.h, l.overdue);
  END IF;
  RETURN reserved_result ('ok', remaining => reserved_end_hold (p_hold, 'released', NULL, p_now,
                                                                 p_wall));
END $$;

CREATE FUNCTION reserved_release (p_key text, p_hold bigint, p_now bigint, p_wall bigint)
RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config ('reserved.op_key', p_key, true);
  RETURN QUERY SELECT * FROM reserved_finish (reserved_release_body (p_hold, p_now, p_wall));
END $$;

-- ok: expires. no_such_hold, hold_ended, late. No hold outlives its
-- creation by more than @p_max seconds, however often extended.
CREATE FUNCTION reserved_extend (p_key text, p_hold bigint, p_ttl bigint, p_max bigint,
  p_now bigint, p_wall bigint) RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  l record;
  expires_ bigint;
  res reserved_step;
BEGIN
  PERFORM set_config ('reserved.op_key', p_key, true);
  l := reserved_load_hold (p_hold, p_now, p_wall);
  IF (l.h).id IS NULL THEN
    res := reserved_result ('no_such_hold');
  ELSIF (l.h).ended IS NOT NULL THEN
    res := reserved_hold_has_ended (l.h, l.overdue);
  ELSE
    expires_ := LEAST (p_now + p_ttl * 1000000, (l.h).created + p_max * 1000000);
    UPDATE holds SET expires = expires_, ttl = expires_ - p_now WHERE id = p_hold;
    res := reserved_result ('ok', expires => expires_);
  END IF;
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;

-- Every overdue hold (@p_holder NULL), or every live hold and waiting
-- entry of @p_holder, which left: a connection on the bus of @p_node's
-- daemon (another daemon's bus may have a connection of the same name).
CREATE FUNCTION reserved_end_holds (p_key text, p_node text, p_holder text, p_reason text,
  p_now bigint, p_wall bigint) RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  hold_ bigint;
BEGIN
  PERFORM set_config ('reserved.op_key', p_key, true);
  IF p_holder IS NULL THEN
    PERFORM reserved_end_overdue (NULL, p_now, p_wall);
  ELSE
    PERFORM reserved_lock_items_of (p_node, p_holder, p_now);
    FOR hold_ IN SELECT id FROM holds
                 WHERE ended IS NULL AND holder = p_holder AND node = p_node ORDER BY id
    LOOP
      PERFORM reserved_end_hold (hold_, p_reason, NULL, p_now, p_wall);
    END LOOP;
    PERFORM reserved_end_entries (ARRAY (
      SELECT id FROM waitlist WHERE ended IS NULL AND hold_id IS NULL AND holder = p_holder
      AND node = p_node),
      'disconnected', p_now, p_wall);
  END IF;
  RETURN QUERY SELECT * FROM reserved_finish (reserved_result ('ok'));
END $$;

-- --- the waitlist ------------------------------------------------------------

-- A waiting entry's place: 1 + the live waiting entries of its item
-- before it; 0 once offered or ended.
CREATE FUNCTION reserved_position (w waitlist) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN w.ended IS NULL AND w.hold_id IS NULL THEN
    (SELECT COUNT(*) FROM waitlist v WHERE v.item_id = w.item_id AND v.ended IS NULL
     AND v.hold_id IS NULL AND v.id <= w.id) ELSE 0 END
$$;

-- The receipt of @p_entry as it stands: ok with id entry, n1 position,
-- n2 the offer's hold, expires its expiry, remaining the item's stock.
CREATE FUNCTION reserved_answer_join (p_entry bigint, p_replayed boolean)
RETURNS reserved_step
LANGUAGE sql STABLE AS $$
  SELECT reserved_result ('ok', id => w.id, remaining => i.remaining,
                          expires => COALESCE (h.expires, 0), n1 => reserved_position (w),
                          n2 => COALESCE (w.hold_id, 0), n3 => p_replayed::int)
  FROM waitlist w JOIN items i ON i.id = w.item_id LEFT JOIN holds h ON h.id = w.hold_id
  WHERE w.id = p_entry
$$;

-- The refusals of a purchase but sold_out, too_big (n1 the capacity) and
-- one_entry (n1 the entry there is).
CREATE FUNCTION reserved_join_body (p_node text, p_caller bigint, p_item text, p_user text,
  p_quantity bigint, p_request_id text, p_deadline bigint, p_holder text, p_now bigint,
  p_wall bigint, p_overdue boolean) RETURNS reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  f record;
  refusal reserved_step;
  entry_ bigint;
BEGIN
  IF p_request_id IS NOT NULL THEN
    SELECT w.id, i.name, w.customer, w.quantity INTO r
    FROM waitlist w JOIN items i ON i.id = w.item_id
    WHERE w.node = p_node AND w.caller_uid = p_caller AND w.request_id = p_request_id;
    IF FOUND THEN
      RETURN COALESCE (reserved_same_request (r.id, r.name, r.customer, r.quantity, p_item,
                                              p_user, p_quantity),
                       reserved_answer_join (r.id, true));
    END IF;
  END IF;
  f := reserved_find_sellable (p_item, p_wall, false);
  IF (f.refusal).status IS NOT NULL THEN
    RETURN f.refusal;
  END IF;
  -- An entry no restock short of a larger capacity could serve would
  -- block the queue behind it for good.
  IF p_quantity > (f.item).capacity THEN
    RETURN reserved_result ('too_big', n1 => (f.item).capacity);
  END IF;
  IF NOT reserved_in_window ((f.item).sale_start, (f.item).sale_end, p_wall) THEN
    RETURN reserved_result ('not_on_sale', n1 => (f.item).sale_start, n2 => (f.item).sale_end,
                            expires => p_wall);
  END IF;
  IF p_overdue THEN
    PERFORM reserved_end_overdue ((f.item).id, p_now, p_wall);
  END IF;
  SELECT id INTO entry_ FROM waitlist
  WHERE node = p_node AND caller_uid = p_caller AND customer = p_user
  AND item_id = (f.item).id AND ended IS NULL;
  IF FOUND THEN
    RETURN reserved_result ('one_entry', n1 => entry_);
  END IF;
  refusal := reserved_check_limit (f.item, p_user, p_quantity);
  IF refusal.status IS NOT NULL THEN
    RETURN refusal;
  END IF;
  INSERT INTO waitlist (item_id, customer, quantity, node, caller_uid, request_id, created,
                        deadline, holder)
  VALUES ((f.item).id, p_user, p_quantity, p_node, p_caller, p_request_id, p_now, p_deadline,
          p_holder)
  RETURNING id INTO entry_;
  PERFORM reserved_promote ((f.item).id, p_now, p_wall);
  RETURN reserved_answer_join (entry_, false);
END $$;

CREATE FUNCTION reserved_join_waitlist (p_key text, p_node text, p_caller bigint, p_item text,
  p_user text, p_quantity bigint, p_request_id text, p_deadline bigint, p_holder text,
  p_now bigint, p_wall bigint) RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  overdue boolean := reserved_begin (p_key, p_now);
  res reserved_step;
BEGIN
  IF NOT overdue THEN
    res := reserved_join_body (p_node, p_caller, p_item, p_user, p_quantity, p_request_id,
                               p_deadline, p_holder, p_now, p_wall, false);
  ELSE
    BEGIN
      res := reserved_join_body (p_node, p_caller, p_item, p_user, p_quantity, p_request_id,
                               p_deadline, p_holder, p_now, p_wall, true);
      PERFORM reserved_undo_refusal (res);
    EXCEPTION WHEN SQLSTATE 'RSV01' THEN
      NULL; -- res keeps the refusal; what the body wrote is undone
    END;
  END IF;
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;

-- ok. no_such_entry, entry_ended (t1 why). An offered entry gives its
-- hold back, which passes the units on.
CREATE FUNCTION reserved_leave_waitlist (p_key text, p_entry bigint, p_now bigint,
  p_wall bigint) RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  w waitlist;
  res reserved_step := reserved_result ('ok');
BEGIN
  PERFORM set_config ('reserved.op_key', p_key, true);
  SELECT * INTO w FROM waitlist WHERE id = p_entry;
  IF NOT FOUND THEN
    res := reserved_result ('no_such_entry');
  ELSIF w.ended IS NOT NULL THEN
    res := reserved_result ('entry_ended', t1 => w.ended);
  ELSE
    UPDATE waitlist SET ended = 'left' WHERE id = p_entry AND ended IS NULL;
    IF w.hold_id IS NOT NULL THEN
      PERFORM reserved_release_body (w.hold_id, p_now, p_wall);
    ELSE
      PERFORM reserved_promote (w.item_id, p_now, p_wall);
    END IF;
  END IF;
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;

-- ok: remaining. no_such_item.
CREATE FUNCTION reserved_promote_waitlist (p_key text, p_name text, p_now bigint,
  p_wall bigint) RETURNS SETOF reserved_step
LANGUAGE plpgsql AS $$
DECLARE
  item_ bigint;
  res reserved_step;
BEGIN
  PERFORM set_config ('reserved.op_key', p_key, true);
  SELECT id INTO item_ FROM items WHERE name = p_name;
  IF NOT FOUND THEN
    res := reserved_result ('no_such_item');
  ELSE
    res := reserved_result ('ok', remaining => reserved_promote (item_, p_now, p_wall));
  END IF;
  RETURN QUERY SELECT * FROM reserved_finish (res);
END $$;
