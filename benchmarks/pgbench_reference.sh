#!/usr/bin/env bash
# The PostgreSQL reference for `ledgerbank bench ledger`: pgbench running the bare transfer of
# pgbench-transfer.sql (two balance updates, two history rows, one transaction each) with 8
# clients for 20 seconds. Run it on the same machine and server as the ledger benchmark and
# compare the two rates as a ratio (benchmarks/README.md).
#
#   benchmarks/pgbench_reference.sh [DATABASE]        (default: lb_pgbench, recreated)
#
# Connection settings come from the usual libpq variables; the defaults match the test setup.
# CLIENTS, THREADS and DURATION override -c, -j and -T.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
database=${1:-lb_pgbench}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
clients=${CLIENTS:-8}
threads=${THREADS:-2}
duration=${DURATION:-20}

psql -d postgres -v ON_ERROR_STOP=1 -q \
  -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" -c "CREATE DATABASE \"$database\""
pgbench -i -s 10 -q "$database"
pgbench -c "$clients" -j "$threads" -T "$duration" -f "$here/pgbench-transfer.sql" "$database"
