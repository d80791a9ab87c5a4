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
gopath=$(go env GOPATH 2>/dev/null || echo "$HOME/go")
export PATH="$gopath/bin:$PATH"
# Every process started from TypeScript sources (the services' role script, mocha, the service
# and CLI processes the tests start) shares one transpile cache (test-support/ts-transpile-cache.js).
export TS_NODE_PROJECT=${TS_NODE_PROJECT:-$PWD/test-support/tsconfig.ts-node.json}

# A private set per run, so two runs on one machine never stop each other's servers.
export TEST_SERVICES_DIR=${TEST_SERVICES_DIR:-/tmp/rag-platform-test-services-$$}
logs=$(mktemp -d)
trap 'bash scripts/test-services.sh down; rm -rf "$logs"' EXIT

# The type check and the linters are single-threaded processes, and starting the services is
# mostly waiting on Postgres: in two lanes of about equal CPU time (~35 s each on an idle machine:
# tsc then dependency-cruiser, eslint then prettier) they take about half the time on two cores.
# Each lane's output is shown whole when it ends, with how long it took.
lane() {
  local name=$1 start
  shift
  start=$(date +%s)
  set +e
  "$@" >"$logs/$name" 2>&1
  local code=$?
  echo "-- $name: $([ $code = 0 ] && echo ok || echo FAILED), $(($(date +%s) - start)) s" >>"$logs/$name"
  return $code
}
# shellcheck disable=SC2317 # run through `lane`
types_and_imports() {
  npx tsc --noEmit -p tsconfig.json &&
    npx depcruise --config .dependency-cruiser.cjs catalog app alerts dashboards infra loadtest runbooks scripts
}
# shellcheck disable=SC2317 # run through `lane`
lint_and_format() {
  npx eslint --max-warnings 0 . &&
    { npx prettier --check . >/dev/null || { npx prettier --list-different .; return 1; }; }
}
# Its env (DATABASE_URL, ...) goes to a file of its own; what it logs, to the lane's output.
# shellcheck disable=SC2317 # run through `lane`
start_services() { bash scripts/test-services.sh up >"$logs/services.env"; }
phase "typecheck, import boundaries | lint, format | test services"
lane typecheck types_and_imports &
typecheck=$!
lane lint lint_and_format &
lint=$!
lane services start_services &
services=$!
failed=()
for job in typecheck:$typecheck lint:$lint services:$services; do
  wait "${job#*:}" || failed+=("${job%%:*}")
  cat "$logs/${job%%:*}"
done
[ ${#failed[@]} -eq 0 ] || { echo "failed: ${failed[*]}" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
. "$logs/services.env"
set +a

phase "mocha"
code=0
npx mocha "$@" || code=$?
phase ""
exit $code
