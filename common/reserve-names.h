/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The names and limits of the reserved D-Bus API, version 1, in one place. */
#pragma once

#define RESERVE_BUS_NAME     "org.reserved.Reserve1"
#define RESERVE_OBJECT_PATH  "/org/reserved/Reserve1"
#define RESERVE_INTERFACE    "org.reserved.Reserve1"
#define RESERVE_ERROR_PREFIX RESERVE_INTERFACE ".Error."

#define RESERVE_NAME_MAX_BYTES       64
#define RESERVE_REQUEST_ID_MAX_BYTES 128
#define RESERVE_BUY_QUANTITY_MAX     10000u
#define RESERVE_CAPACITY_MAX         1000000000u
#define RESERVE_RESTOCK_QUANTITY_MAX 1000000u

/* Calls of one caller uid the daemon holds at once, from the moment it
 * knows the uid until its reply; a call past this is refused at once with
 * org.freedesktop.DBus.Error.LimitsExceeded. Twice the writer's largest
 * batch (512), so one busy client can keep a batch committing and the next
 * one filling; at a few KiB per held call it bounds what one uid can make
 * the daemon hold to a few MiB. */
#define RESERVE_CALLS_IN_FLIGHT_MAX 1024u

/* How long a write waits for a lock another process holds on the
 * database before it fails with StorageFailure, in milliseconds (the
 * daemon's BusyTimeout). */
#define RESERVE_BUSY_TIMEOUT_DEFAULT_MS 2000u
#define RESERVE_BUSY_TIMEOUT_MAX_MS     3600000u

#define RESERVE_DEFAULT_ITEM     "ticket"
#define RESERVE_DEFAULT_CAPACITY 100u

/* The most rows a listing the daemon builds in one reply may carry:
 * ListOrders and ListItems refuse, with
 * org.freedesktop.DBus.Error.LimitsExceeded, a listing longer than this.
 * At about 110 bytes for the longest row, such a reply stays near a third
 * of the bus's 32 MiB message limit, past which the bus would drop the
 * daemon. Longer listings are read in pages (ListOrdersPage,
 * ListItemsPage) of at most RESERVE_PAGE_LIMIT_MAX rows. */
#define RESERVE_LIST_REPLY_MAX     100000u
#define RESERVE_PAGE_LIMIT_MAX     10000u
#define RESERVE_PAGE_LIMIT_DEFAULT 1000u

/* Keys of the a{sv} arguments and of GetItem's answer. */
#define RESERVE_OPTION_REQUEST_ID            "request_id"
#define RESERVE_OPTION_PER_USER_LIMIT        "per_user_limit"
#define RESERVE_OPTION_TTL                   "ttl"
#define RESERVE_OPTION_RELEASE_ON_DISCONNECT "release_on_disconnect"
#define RESERVE_OPTION_OR_BUY                "or_buy"
#define RESERVE_OPTION_SALE_START            "sale_start"
#define RESERVE_OPTION_SALE_END              "sale_end"

/* The latest bound of a sale window, microseconds since the Unix epoch:
 * the end of year 9999, as far as GDateTime and ISO 8601 reach. */
#define RESERVE_SALE_TIME_MAX G_GINT64_CONSTANT (253402300799999999)

/* The waitlist's keys: JoinWaitlist's deadline, CreateItem's offer_seconds. */
#define RESERVE_OPTION_DEADLINE      "deadline"
#define RESERVE_OPTION_OFFER_SECONDS "offer_seconds"

/* Holds: the longest a hold may live from its creation, however often it
 * is extended (MaxHoldSeconds), and how many live holds one uid may have
 * (MaxHoldsPerUid). */
#define RESERVE_MAX_HOLD_SECONDS_DEFAULT  7200u
#define RESERVE_MAX_HOLD_SECONDS_MAX      31536000u
#define RESERVE_MAX_HOLDS_PER_UID_DEFAULT 32u
#define RESERVE_MAX_HOLDS_PER_UID_MAX     1000000u

/* Keys of the query of ListOrdersPage and ListItemsPage. */
#define RESERVE_QUERY_LIMIT          "limit"
#define RESERVE_QUERY_CURSOR         "cursor"
#define RESERVE_QUERY_USER           "user"
#define RESERVE_QUERY_ITEM           "item"
#define RESERVE_QUERY_STATE          "state"
#define RESERVE_QUERY_CREATED_FROM   "created_from"
#define RESERVE_QUERY_CREATED_BEFORE "created_before"

#define RESERVE_ORDER_STATE_ACTIVE    "active"
#define RESERVE_ORDER_STATE_CANCELLED "cancelled"
