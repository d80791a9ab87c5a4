#!/usr/bin/env bash
# The one command that runs every test (`npm test`): static checks, then every mocha suite against
# real Postgres (primary + streaming replica), Redis, promtool, amtool, actionlint and k6.
# Services start once per run and stop on exit. Each phase prints how long it took, so a slow run
# shows where its time went.
set -euo pipefail
cd "$(dirname "$0")/.."

phase_name='' phase_start=0
phase() {
  local now
  now=$(date +%s)
  [ -z "$phase_name" ] || echo "== $phase_name: $((now - phase_start)) s"
  phase_name=$1 phase_start=$now
  [ -z "$phase_name" ] || echo "== $phase_name"
}

phase "tools"
bash scripts/ensure-tools.sh
export PATH="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin:$PATH"

phase "typecheck"
npx tsc --noEmit -p tsconfig.json
phase "lint"
npx eslint --max-warnings 0 .
phase "format"
npx prettier --check . >/dev/null || { npx prettier --list-different .; exit 1; }
phase "import boundaries"
npx depcruise --config .dependency-cruiser.cjs catalog app alerts dashboards infra loadtest runbooks scripts

phase "test services"
# A private set per run, so two runs on one machine never stop each other's servers.
export TEST_SERVICES_DIR=${TEST_SERVICES_DIR:-/tmp/rag-platform-test-services-$$}
trap 'bash scripts/test-services.sh down' EXIT
set -a
# shellcheck disable=SC1090
. <(bash scripts/test-services.sh up)
set +a

phase "mocha"
npx mocha "$@"
phase ""
