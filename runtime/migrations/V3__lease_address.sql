-- Where the lease's holder answers: a standby relays the calls it receives there, so a
-- client (or a load balancer) may send any call to any server.
ALTER TABLE sandstep_lease ADD COLUMN address text NOT NULL DEFAULT '';
