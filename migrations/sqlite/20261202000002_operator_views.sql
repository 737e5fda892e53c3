-- The operator read models (mlc-projections): the audit trail, the failure
-- queue, instance health and the dashboard counters. Each is fed by its own
-- checkpointed subscriber and rebuilt from the events when dropped
-- (`ml-connector projections rebuild`). Times are epoch milliseconds.

-- One row per event, secrets removed from the metadata.
CREATE TABLE audit
(
  position    integer NOT NULL PRIMARY KEY,
  tx          integer NOT NULL,
  instance    text    NOT NULL,
  document_id text    NOT NULL,
  kind        text    NOT NULL,
  sequence    integer NOT NULL,
  event_type  text    NOT NULL,
  recorded_at integer NOT NULL,
  actor       text,
  cause       text,
  summary     text    NOT NULL,
  outside_call text,
  metadata    text    NOT NULL
) STRICT;

CREATE INDEX audit_document ON audit (document_id, position);
CREATE INDEX audit_instance ON audit (instance, position);

-- Documents an operator must look at or that wait for a retry.
CREATE TABLE failures
(
  id          text    NOT NULL PRIMARY KEY,
  instance    text    NOT NULL,
  kind        text    NOT NULL,
  status      text    NOT NULL,
  reason      text,
  attempts    integer NOT NULL DEFAULT 0,
  next_retry  integer,
  refund_id   text,
  since       integer NOT NULL,
  updated_at  integer NOT NULL,
  version     integer NOT NULL
) STRICT;

CREATE INDEX failures_instance_status ON failures (instance, status, updated_at);

-- One row per instance.
CREATE TABLE instance_health
(
  instance            text    NOT NULL PRIMARY KEY,
  config_version      integer,
  paused              integer NOT NULL DEFAULT 0,
  pause_reason        text,
  cursors             text    NOT NULL,
  last_polls          text    NOT NULL,
  webhooks            text    NOT NULL,
  posts_ok            integer NOT NULL DEFAULT 0,
  posts_failed        integer NOT NULL DEFAULT 0,
  credit_notes_ok     integer NOT NULL DEFAULT 0,
  credit_notes_failed integer NOT NULL DEFAULT 0,
  customers_failed    integer NOT NULL DEFAULT 0,
  parked              integer NOT NULL DEFAULT 0,
  deliveries_rejected integer NOT NULL DEFAULT 0,
  last_error          text,
  last_error_at       integer,
  last_event_at       integer NOT NULL
) STRICT;

-- Per instance and UTC day.
CREATE TABLE counters
(
  instance           text    NOT NULL,
  day                text    NOT NULL,
  orders_received    integer NOT NULL DEFAULT 0,
  orders_posted      integer NOT NULL DEFAULT 0,
  orders_parked      integer NOT NULL DEFAULT 0,
  post_failures      integer NOT NULL DEFAULT 0,
  retries            integer NOT NULL DEFAULT 0,
  refunds_credited   integer NOT NULL DEFAULT 0,
  customers_synced   integer NOT NULL DEFAULT 0,
  webhooks_rejected  integer NOT NULL DEFAULT 0,
  PRIMARY KEY (instance, day)
) STRICT;

-- The last event each of these projections wrote, in the same transaction as
-- its rows: a batch handed again after a crash is skipped, so counts stay exact.
CREATE TABLE projection_positions
(
  projection text    NOT NULL PRIMARY KEY,
  tx         integer NOT NULL,
  position   integer NOT NULL
) STRICT;
