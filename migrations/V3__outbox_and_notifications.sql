-- Outbox: events to publish, written in the same transaction as the order they announce, so
-- that an order is never stored without its OrderConfirmed event or the other way round.
CREATE TABLE outbox (
    id           bigserial   PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    topic        text        NOT NULL,
    message_key  text        NOT NULL,
    payload      text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);

CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Notifications the notifier has sent or is sending, one row per notification key and channel.
-- The key is the event id for order events, and the source position for dead letters.
CREATE TABLE notifications (
    notification_key text        NOT NULL,
    channel          text        NOT NULL,
    kind             text        NOT NULL,
    recipient        text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    PRIMARY KEY (notification_key, channel)
);
