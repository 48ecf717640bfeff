#!/bin/sh
# Runs once, when PostgreSQL's data directory is empty (the image's
# /docker-entrypoint-initdb.d): a role and a database per service, each service
# the owner of its own database and unable to connect to the other's. The
# passwords come from USERS_DB_PASSWORD and ORDERS_DB_PASSWORD. Used by the
# production compose file and by the Kubernetes PostgreSQL (postgres.yaml).
set -eu
for service in users orders; do
  case "$service" in
    users) password="${USERS_DB_PASSWORD:?USERS_DB_PASSWORD is not set}" ;;
    orders) password="${ORDERS_DB_PASSWORD:?ORDERS_DB_PASSWORD is not set}" ;;
  esac
  # psql fills :"role" and :'password' in quoted: no password reaches a shell word.
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=role="$service" --set=password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
