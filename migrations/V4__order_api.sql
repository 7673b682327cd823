-- API clients: each key is stored only as the SHA-256 hash of its secret part.
CREATE TABLE api_clients (
    client_id  text        PRIMARY KEY,
    name       text        NOT NULL,
    key_hash   bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- Idempotency keys of POST /orders, scoped per client. A row is 'in_flight' from the first
-- request until its response is stored, then 'completed' until it expires.
CREATE TABLE idempotency_keys (
    client_id        text        NOT NULL REFERENCES api_clients (client_id),
    idempotency_key  text        NOT NULL,
    fingerprint      bytea       NOT NULL,
    state            text        NOT NULL CHECK (state IN ('in_flight', 'completed')),
    lease_until      timestamptz NOT NULL,
    response_status  integer,
    response_body    text,
    location         text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (client_id, idempotency_key)
);

CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

-- Which client placed which order, so that a client reads only its own orders, also before
-- the processor has stored them.
CREATE TABLE api_orders (
    order_id    uuid        PRIMARY KEY,
    client_id   text        NOT NULL REFERENCES api_clients (client_id),
    accepted_at timestamptz NOT NULL DEFAULT now()
);
