-- Effects of OrderPlaced events, and the ledger of event ids that makes applying them idempotent.
-- An order row exists only together with the processed_events row of the event that created it,
-- and both are written in the same transaction.

CREATE TABLE processed_events (
    event_id     uuid        PRIMARY KEY,
    topic        text        NOT NULL,
    "partition"  integer     NOT NULL CHECK ("partition" >= 0),
    "offset"     bigint      NOT NULL CHECK ("offset" >= 0),
    processed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    order_id       uuid        PRIMARY KEY,
    event_id       uuid        NOT NULL UNIQUE REFERENCES processed_events (event_id),
    customer_id    text        NOT NULL,
    customer_email text        NOT NULL,
    customer_name  text        NOT NULL,
    delivery_note  text,
    currency       char(3)     NOT NULL,
    total_minor    bigint      NOT NULL CHECK (total_minor >= 0),
    placed_at      timestamptz NOT NULL,
    stored_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_lines (
    order_id         uuid    NOT NULL REFERENCES orders (order_id),
    line_number      integer NOT NULL CHECK (line_number >= 1),
    sku              text    NOT NULL,
    quantity         integer NOT NULL CHECK (quantity > 0),
    unit_price_minor bigint  NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, line_number)
);
