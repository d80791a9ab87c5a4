#!/usr/bin/env bash
# amtool at the version of the Alertmanager the platform deploys (infra pins its image to the same
# tag; an infra test compares them). Debian's amtool (0.25) predates webhook `url_file`, which the
# generated config uses for the dead-man's switch URL, so the tests check with this one: it builds
# from its Go module into GOPATH/bin, which scripts/test.sh puts first on PATH.
set -euo pipefail
ALERTMANAGER_VERSION=v0.28.1
bin="$(go env GOPATH 2>/dev/null)/bin/amtool"
if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -q "github.com/prometheus/alertmanager[[:space:]]*${ALERTMANAGER_VERSION}"; then exit 0; fi
command -v go >/dev/null || { echo "amtool ${ALERTMANAGER_VERSION} needs Go to build: install Go, then re-run (go install github.com/prometheus/alertmanager/cmd/amtool@${ALERTMANAGER_VERSION})" >&2; exit 1; }
echo "building amtool ${ALERTMANAGER_VERSION} with go install (first run only)" >&2
go install "github.com/prometheus/alertmanager/cmd/amtool@${ALERTMANAGER_VERSION}" >&2
