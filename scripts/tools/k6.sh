#!/usr/bin/env bash
# k6 is not in Debian or npm; it builds from its Go module at a pinned version (needs Go >= 1.24).
set -euo pipefail
K6_VERSION=v1.8.1
bin="$(go env GOPATH 2>/dev/null)/bin/k6"
if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "${K6_VERSION#v}"; then exit 0; fi
command -v go >/dev/null || { echo "k6 needs Go >= 1.24 to build: install Go, then re-run (go install go.k6.io/k6@${K6_VERSION})" >&2; exit 1; }
echo "building k6 ${K6_VERSION} with go install (first run only)" >&2
go install "go.k6.io/k6@${K6_VERSION}" >&2
