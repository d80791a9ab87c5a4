#!/usr/bin/env bash
# The one command that runs every test (`npm test`): static checks, then every mocha suite against
# real Postgres (primary + streaming replica), Redis, promtool, amtool, actionlint and k6.
# Services start once per run and stop on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-tools.sh
export PATH="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin:$PATH"

echo "== typecheck, lint, format, import boundaries"
npx tsc --noEmit -p tsconfig.json
npx eslint --max-warnings 0 .
npx prettier --check . >/dev/null || { npx prettier --list-different .; exit 1; }
npx depcruise --config .dependency-cruiser.cjs catalog app alerts dashboards infra loadtest runbooks scripts

echo "== test services"
# A private set per run, so two runs on one machine never stop each other's servers.
export TEST_SERVICES_DIR=${TEST_SERVICES_DIR:-/tmp/rag-platform-test-services-$$}
trap 'bash scripts/test-services.sh down' EXIT
set -a
# shellcheck disable=SC1090
. <(bash scripts/test-services.sh up)
set +a

echo "== mocha"
npx mocha "$@"
