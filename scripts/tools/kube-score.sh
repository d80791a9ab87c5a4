#!/usr/bin/env bash
# kube-score checks every Kubernetes object the Pulumi program declares (infra/test/kube-score.test.ts);
# it has no npm or Debian package, so it builds from its Go module at a pinned version.
set -euo pipefail
KUBE_SCORE_VERSION=v1.20.0
bin="$(go env GOPATH 2>/dev/null)/bin/kube-score"
# go install builds report "development" as their version: read the module version instead.
if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -qE "^\s+mod\s+github.com/zegl/kube-score\s+${KUBE_SCORE_VERSION}\b"; then exit 0; fi
command -v go >/dev/null || { echo "kube-score needs Go: install Go, then re-run (go install github.com/zegl/kube-score/cmd/kube-score@${KUBE_SCORE_VERSION})" >&2; exit 1; }
echo "building kube-score ${KUBE_SCORE_VERSION} with go install (first run only)" >&2
go install "github.com/zegl/kube-score/cmd/kube-score@${KUBE_SCORE_VERSION}" >&2
