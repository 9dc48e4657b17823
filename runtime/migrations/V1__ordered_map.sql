-- Sandstep's store is one ordered map of byte keys (every table's keys start with the
-- table and the tenant: runtime/src/store/keys.rs), so PostgreSQL holds it as one table.
-- bytea compares byte by byte, which is the order every scan of the store relies on.
CREATE TABLE sandstep_map (
    key   bytea PRIMARY KEY,
    value bytea NOT NULL
);
