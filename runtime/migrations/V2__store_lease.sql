-- The store's lease: one process at a time runs the store's work (executions, timers,
-- tasks, deliveries); the others wait as standbys and take over when it lapses.
-- `sandstep_lease` is renewed every few seconds; `sandstep_fence` changes only when the
-- lease changes hands, and every write transaction reads it (FOR SHARE), so a process that
-- lost the lease can never commit again, and a takeover waits for the writes in flight.
CREATE TABLE sandstep_lease (
    id         int PRIMARY KEY CHECK (id = 1),
    owner      text NOT NULL,
    epoch      bigint NOT NULL,
    expires_at timestamptz NOT NULL
);
INSERT INTO sandstep_lease VALUES (1, '', 0, '-infinity');

CREATE TABLE sandstep_fence (
    id    int PRIMARY KEY CHECK (id = 1),
    epoch bigint NOT NULL
);
INSERT INTO sandstep_fence VALUES (1, 0);
