-- The event store. Columns up to `metadata` are those of sqlite-es, whose
-- INSERTs name their columns; the store adds the global position and the
-- time of recording. The primary key stays the one sqlite-es maps to an
-- optimistic-lock conflict (SQLite extended code 1555).
CREATE TABLE events
(
  aggregate_type  text                          NOT NULL,
  aggregate_id    text                          NOT NULL,
  sequence        integer CHECK (sequence >= 0) NOT NULL,
  event_type      text                          NOT NULL,
  event_version   text                          NOT NULL,
  payload         text                          NOT NULL,
  metadata        text                          NOT NULL,
  global_position integer,
  recorded_at     text                          NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  -- aggregate_id first: the same key serves sqlite-es (type and id) and the
  -- operators' look-ups by document or instance (id alone).
  PRIMARY KEY (aggregate_id, aggregate_type, sequence)
) STRICT;

CREATE UNIQUE INDEX events_global_position ON events (global_position);

-- Rows written by sqlite-es carry no position: give each the next one.
-- SQLite has one writer at a time, so MAX + 1 inside the writing
-- transaction is gap-free and commit order equals position order.
CREATE TRIGGER events_assign_global_position
AFTER INSERT ON events
WHEN NEW.global_position IS NULL
BEGIN
  UPDATE events
     SET global_position = (SELECT IFNULL(MAX(global_position), 0) + 1 FROM events)
   WHERE rowid = NEW.rowid;
END;

CREATE TABLE snapshots
(
  aggregate_type   text                                  NOT NULL,
  aggregate_id     text                                  NOT NULL,
  last_sequence    integer CHECK (last_sequence >= 0)    NOT NULL,
  current_snapshot integer CHECK (current_snapshot >= 0) NOT NULL,
  payload          text                                  NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
) STRICT;

-- Where each named subscriber has got to. `tx` is always 0 on SQLite.
CREATE TABLE subscription_checkpoints
(
  subscriber text    NOT NULL PRIMARY KEY,
  tx         integer NOT NULL,
  position   integer NOT NULL,
  updated_at text    NOT NULL
) STRICT;
