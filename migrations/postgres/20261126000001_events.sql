-- The event store. Columns up to `metadata` are those of postgres-es, whose
-- INSERTs name their columns; the store adds the global position, the
-- writing transaction's id and the time of recording.
--
-- Readers take only rows whose transaction id is below the xmin of their
-- snapshot and order by (transaction_id, global_position): a transaction
-- that drew a position and is still open holds readers back, but can never
-- be skipped by them when it commits after a later-numbered one.
CREATE TABLE events
(
    aggregate_type  text                         NOT NULL,
    aggregate_id    text                         NOT NULL,
    sequence        bigint CHECK (sequence >= 0) NOT NULL,
    event_type      text                         NOT NULL,
    event_version   text                         NOT NULL,
    payload         jsonb                        NOT NULL,
    metadata        jsonb                        NOT NULL,
    global_position bigint GENERATED ALWAYS AS IDENTITY,
    transaction_id  xid8                         NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at     timestamptz                  NOT NULL DEFAULT now(),
    -- aggregate_id first: the same key serves postgres-es (type and id) and
    -- the operators' look-ups by document or instance (id alone).
    PRIMARY KEY (aggregate_id, aggregate_type, sequence)
);

-- Subscribers read in this order.
CREATE UNIQUE INDEX events_order ON events (transaction_id, global_position);
-- Operators list by global position.
CREATE UNIQUE INDEX events_global_position ON events (global_position);

CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          jsonb                                NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);

CREATE TABLE subscription_checkpoints
(
    subscriber text        NOT NULL PRIMARY KEY,
    tx         bigint      NOT NULL,
    position   bigint      NOT NULL,
    updated_at timestamptz NOT NULL
);
