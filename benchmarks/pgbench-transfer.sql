-- Copied unchanged (below this header) from ledgerbank's shared design notes,
-- shared/bench/pgbench-transfer.sql, which live outside this repository.
-- Run it with benchmarks/pgbench_reference.sh.
--
-- The physical-limit reference for one bank transfer per database transaction on PostgreSQL:
-- two balance updates in a fixed order and two entry rows, nothing else. ledgerbank's posting
-- engine does more (checks, idempotency, audit, risk), so its rate is compared as a ratio to
-- this script's, measured in the same run on the same machine:
--   pgbench -i -s 10 DB
--   pgbench -c 8 -j 2 -T 20 -f pgbench-transfer.sql DB
\set x random(1, 100000 * :scale)
\set y random(1, 100000 * :scale)
\set delta random(1, 100)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance - :delta WHERE aid = least(:x, :y);
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = greatest(:x, :y);
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :x, -:delta, CURRENT_TIMESTAMP);
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :y, :delta, CURRENT_TIMESTAMP);
END;
