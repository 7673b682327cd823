-- Source records already written to the dead-letter topic, so that a replay of the source topic
-- does not dead-letter them again. A row is inserted only after the broker acknowledged the
-- dead letter; a crash in between writes the dead letter once more on redelivery.

CREATE TABLE dead_letters (
    topic            text        NOT NULL,
    "partition"      integer     NOT NULL CHECK ("partition" >= 0),
    "offset"         bigint      NOT NULL CHECK ("offset" >= 0),
    reason           text        NOT NULL,
    detail           text        NOT NULL,
    dead_lettered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, "partition", "offset")
);
