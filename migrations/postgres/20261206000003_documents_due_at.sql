-- The order worker's queue of due work as its own partial index. The old
-- due-work query filtered on status and refunds, so every look at the queue
-- read every posted order ever recorded (1.2 ms a look after 2,000 orders,
-- growing without bound). `due_at` is NULL when a document has nothing to
-- do, 0 when it is due now, else the epoch ms from which it is due; the
-- index holds only the documents with work, in the order they are taken.
ALTER TABLE documents ADD COLUMN due_at bigint;

UPDATE documents SET due_at = CASE
    WHEN kind = 'order' AND status IN ('received', 'customer_resolved', 'failed') THEN 0
    WHEN kind = 'order' AND status = 'retry_scheduled' THEN not_before
    WHEN kind = 'order' AND status = 'posted' AND refunds_pending > 0 THEN COALESCE(not_before, 0)
    WHEN kind = 'customer' AND status = 'pending' THEN 0
    WHEN kind = 'customer' AND status = 'retry_scheduled' THEN not_before
END;

CREATE INDEX documents_due_at ON documents (instance, updated_at, id) WHERE due_at IS NOT NULL;
DROP INDEX documents_due;

-- A document's state (the whole order, above the 2 kB TOAST threshold) is
-- rewritten on each of its events: lz4 instead of pglz, as for the events.
DO $$
BEGIN
    ALTER TABLE documents ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server: document states stay pglz-compressed';
END
$$;
