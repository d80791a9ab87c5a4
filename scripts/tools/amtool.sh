#!/usr/bin/env bash
# amtool and Alertmanager at the version the platform deploys (infra pins its image to the same
# tag; an infra test compares them). Debian's (0.25) predate webhook `url_file`, which the
# generated config uses for the dead-man's switch URL, so the tests and drills run these: they
# build from their Go module into GOPATH/bin, which scripts/test.sh puts first on PATH.
set -euo pipefail
ALERTMANAGER_VERSION=v0.28.1
gobin="$(go env GOPATH 2>/dev/null)/bin"
command -v go >/dev/null || { echo "amtool and alertmanager ${ALERTMANAGER_VERSION} need Go to build: install Go, then re-run $0" >&2; exit 1; }
for cmd in amtool alertmanager; do
  bin="$gobin/$cmd"
  if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -q "github.com/prometheus/alertmanager[[:space:]]*${ALERTMANAGER_VERSION}"; then continue; fi
  echo "building $cmd ${ALERTMANAGER_VERSION} with go install (first run only)" >&2
  go install "github.com/prometheus/alertmanager/cmd/$cmd@${ALERTMANAGER_VERSION}" >&2
done
