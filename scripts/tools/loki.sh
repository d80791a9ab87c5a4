#!/usr/bin/env bash
# Loki (the log store the platform deploys) for the live trace-to-logs test. Not in Debian or npm;
# `go install ...@version` refuses it (its go.mod has replace directives), so build it from its
# module at a pinned version inside a copy of the module, where those directives apply. The one
# pointing at ./pkg/push (a nested module the module zip leaves out) is dropped: the proxy serves
# that module at the version go.mod requires. Needs Go >= 1.26; the first build takes minutes.
set -euo pipefail
LOKI_VERSION=v3.7.8
bin="$(go env GOPATH 2>/dev/null)/bin/loki"
if [ -x "$bin" ] && "$bin" -version 2>/dev/null | grep -q "version ${LOKI_VERSION#v}"; then exit 0; fi
command -v go >/dev/null || { echo "loki needs Go >= 1.26 to build: install Go, then re-run $0" >&2; exit 1; }
echo "building loki ${LOKI_VERSION} from its Go module (first run only, several minutes)" >&2
src="$(go mod download -json "github.com/grafana/loki/v3@${LOKI_VERSION}" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
# A fixed directory: Go's build cache keys on it, so a rebuild (another version check) is a link.
work="${TMPDIR:-/tmp}/loki-src"
chmod -R u+w "$work" 2>/dev/null || true
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
cp -r "$src/." "$work/"
chmod -R u+w "$work"
(
  cd "$work"
  go mod edit -dropreplace github.com/grafana/loki/pkg/push
  go build -mod=mod \
    -ldflags "-X github.com/grafana/loki/v3/pkg/util/build.Version=${LOKI_VERSION#v}" \
    -o "$bin" ./cmd/loki
)
