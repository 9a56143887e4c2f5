#!/usr/bin/env bash
# First start of the primary (docker-entrypoint-initdb.d): let the standby connect for replication.
set -euo pipefail
echo "host replication congress all scram-sha-256" >> "$PGDATA/pg_hba.conf"
