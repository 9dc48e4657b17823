-- The store's work divided among the servers: each tenant belongs to one of 16 partitions
-- (a hash of its id), and each partition is leased to one server at a time, which runs
-- its tenants' work (executions, timers, tasks, deliveries, schedules) and answers their
-- calls; the other servers pass those calls to it.
--
-- `sandstep_partitions` is renewed every few seconds; `sandstep_partition_fence` changes
-- only when a partition changes hands, and every write transaction reads the fences of
-- the partitions its server holds (FOR SHARE), so a server that lost any of them can
-- never commit again, and a takeover waits for the writes in flight.
CREATE TABLE sandstep_partitions (
    id         int PRIMARY KEY,
    owner      text NOT NULL,
    address    text NOT NULL,
    epoch      bigint NOT NULL,
    expires_at timestamptz NOT NULL
);
INSERT INTO sandstep_partitions SELECT g, '', '', 0, '-infinity' FROM generate_series(0, 15) g;

CREATE TABLE sandstep_partition_fence (
    id    int PRIMARY KEY,
    epoch bigint NOT NULL
);
INSERT INTO sandstep_partition_fence SELECT g, 0 FROM generate_series(0, 15) g;

-- The servers alive now (each renews its row with its partitions): how many share the
-- partitions.
CREATE TABLE sandstep_members (
    owner      text PRIMARY KEY,
    address    text NOT NULL,
    expires_at timestamptz NOT NULL
);

-- The key with which a server vouches to another for the caller of a call it passes on
-- (its address, which decides loopback rights and rate limits).
CREATE TABLE sandstep_cluster (
    id     int PRIMARY KEY CHECK (id = 1),
    secret text NOT NULL
);
INSERT INTO sandstep_cluster VALUES (1, gen_random_uuid()::text || gen_random_uuid()::text);

-- The one lease of schema 3 is retired: a server of an older version still running loses
-- it (its writes are refused, and it stops), and its standbys never take it again.
UPDATE sandstep_lease SET owner = 'retired by schema 4 (partitions)', address = '',
    epoch = epoch + 1, expires_at = 'infinity';
UPDATE sandstep_fence SET epoch = epoch + 1;
