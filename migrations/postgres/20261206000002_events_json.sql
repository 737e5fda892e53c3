-- Event payloads and metadata are stored as `json` (their text, checked to
-- be JSON) instead of `jsonb`: nothing queries inside them (the store reads
-- them back whole, as text), and parsing a ~2.6 kB order into jsonb was the
-- largest single cost of an append (ADR 008). The rewrite keeps every value;
-- lz4 is set again because the new column starts with the default.
ALTER TABLE events
    ALTER COLUMN payload TYPE json USING payload::json,
    ALTER COLUMN metadata TYPE json USING metadata::json;

DO $$
BEGIN
    ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4;
    ALTER TABLE events ALTER COLUMN metadata SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server: event payloads stay pglz-compressed';
END
$$;
