-- Event payloads are mostly above PostgreSQL's 2 kB TOAST threshold (a
-- WooCommerce order is about 2.5 kB of JSON), so every append compressed
-- them with pglz, the slowest part of an insert. lz4 compresses them as well
-- at a fraction of the CPU. Servers built without lz4 keep pglz.
DO $$
BEGIN
    ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4;
    ALTER TABLE events ALTER COLUMN metadata SET COMPRESSION lz4;
    ALTER TABLE snapshots ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server: event payloads stay pglz-compressed';
END
$$;
