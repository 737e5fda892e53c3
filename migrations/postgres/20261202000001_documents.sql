-- The `documents` read model (mlc-projections, subscriber "documents"): one
-- row per document an instance moves, for the operator API and for the
-- order worker's queue of due work. Rebuilt from the events when dropped.
-- Times are epoch milliseconds, so both backends compare them alike.
CREATE TABLE documents
(
  id              text    NOT NULL PRIMARY KEY,
  instance        text    NOT NULL,
  kind            text    NOT NULL,
  status          text    NOT NULL,
  channel_number  text,
  erp_number      text,
  customer        text,
  erp_customer    text,
  attempts        bigint  NOT NULL DEFAULT 0,
  last_reason     text,
  not_before      bigint,
  version         bigint  NOT NULL,
  received_at     bigint,
  updated_at      bigint  NOT NULL,
  refunds_pending bigint  NOT NULL DEFAULT 0,
  -- The aggregate's state after `version`, so that each event is applied
  -- with the domain's own code.
  state           text    NOT NULL
);

CREATE INDEX documents_instance_status ON documents (instance, status, updated_at);
CREATE INDEX documents_due ON documents (status, not_before);
