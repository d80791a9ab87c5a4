#!/usr/bin/env bash
# Debian packages the test suite runs for real: Postgres (primary + streaming replica), Redis,
# Prometheus + promtool, Alertmanager + amtool, and the postgres/redis exporters the live
# Prometheus test scrapes, jq (the runbook command drill) and shellcheck (the shell the Pulumi
# program ships in ConfigMaps). Installs only what is missing.
set -euo pipefail
need=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/pg_basebackup" ] || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v promtool >/dev/null || need+=(prometheus)
command -v amtool >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus-postgres-exporter >/dev/null || need+=(prometheus-postgres-exporter)
command -v prometheus-redis-exporter >/dev/null || need+=(prometheus-redis-exporter)
# The runbook command drill runs the runbooks' `curl ... | jq` lines.
command -v jq >/dev/null || need+=(jq)
command -v shellcheck >/dev/null || need+=(shellcheck)
# The JWT key bundle test runs the runbooks' `openssl genpkey` line for a signing key.
command -v openssl >/dev/null || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing tools: ${need[*]}. Install the Debian packages '${need[*]}' (apt-get install -y ${need[*]}) or their equivalents, then re-run." >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
