-- The operator read models (mlc-projections): the audit trail, the failure
-- queue, instance health and the dashboard counters. Each is fed by its own
-- checkpointed subscriber and rebuilt from the events when dropped
-- (`ml-connector projections rebuild`). Times are epoch milliseconds.

-- One row per event, secrets removed from the metadata.
CREATE TABLE audit
(
  position    bigint  NOT NULL PRIMARY KEY,
  tx          bigint  NOT NULL,
  instance    text    NOT NULL,
  document_id text    NOT NULL,
  kind        text    NOT NULL,
  sequence    bigint  NOT NULL,
  event_type  text    NOT NULL,
  recorded_at bigint  NOT NULL,
  actor       text,
  cause       text,
  summary     text    NOT NULL,
  outside_call text,
  metadata    text    NOT NULL
);

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
  attempts    bigint  NOT NULL DEFAULT 0,
  next_retry  bigint,
  refund_id   text,
  since       bigint  NOT NULL,
  updated_at  bigint  NOT NULL,
  version     bigint  NOT NULL
);

CREATE INDEX failures_instance_status ON failures (instance, status, updated_at);

-- One row per instance.
CREATE TABLE instance_health
(
  instance            text    NOT NULL PRIMARY KEY,
  config_version      bigint,
  paused              bigint  NOT NULL DEFAULT 0,
  pause_reason        text,
  cursors             text    NOT NULL,
  last_polls          text    NOT NULL,
  webhooks            text    NOT NULL,
  posts_ok            bigint  NOT NULL DEFAULT 0,
  posts_failed        bigint  NOT NULL DEFAULT 0,
  credit_notes_ok     bigint  NOT NULL DEFAULT 0,
  credit_notes_failed bigint  NOT NULL DEFAULT 0,
  customers_failed    bigint  NOT NULL DEFAULT 0,
  parked              bigint  NOT NULL DEFAULT 0,
  deliveries_rejected bigint  NOT NULL DEFAULT 0,
  last_error          text,
  last_error_at       bigint,
  last_event_at       bigint  NOT NULL
);

-- Per instance and UTC day.
CREATE TABLE counters
(
  instance           text    NOT NULL,
  day                text    NOT NULL,
  orders_received    bigint  NOT NULL DEFAULT 0,
  orders_posted      bigint  NOT NULL DEFAULT 0,
  orders_parked      bigint  NOT NULL DEFAULT 0,
  post_failures      bigint  NOT NULL DEFAULT 0,
  retries            bigint  NOT NULL DEFAULT 0,
  refunds_credited   bigint  NOT NULL DEFAULT 0,
  customers_synced   bigint  NOT NULL DEFAULT 0,
  webhooks_rejected  bigint  NOT NULL DEFAULT 0,
  PRIMARY KEY (instance, day)
);

-- The last event each of these projections wrote, in the same transaction as
-- its rows: a batch handed again after a crash is skipped, so counts stay exact.
CREATE TABLE projection_positions
(
  projection text    NOT NULL PRIMARY KEY,
  tx         bigint  NOT NULL,
  position   bigint  NOT NULL
);
