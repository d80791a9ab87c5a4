#!/usr/bin/env bash
# consul-template renders the Vault Agent templates the Pulumi program declares, as Vault Agent does
# (it embeds consul-template's template functions), against a stand-in of Vault's API
# (infra/test/app-settings.test.ts). No npm or Debian package: it builds from its Go module, pinned.
set -euo pipefail
CONSUL_TEMPLATE_VERSION=v0.41.1
bin="$(go env GOPATH 2>/dev/null)/bin/consul-template"
# go install builds report no useful version of their own: read the module version instead.
if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -qE "^\s+mod\s+github.com/hashicorp/consul-template\s+${CONSUL_TEMPLATE_VERSION}\b"; then exit 0; fi
command -v go >/dev/null || { echo "consul-template needs Go: install Go, then re-run (go install github.com/hashicorp/consul-template@${CONSUL_TEMPLATE_VERSION})" >&2; exit 1; }
echo "building consul-template ${CONSUL_TEMPLATE_VERSION} with go install (first run only)" >&2
go install "github.com/hashicorp/consul-template@${CONSUL_TEMPLATE_VERSION}" >&2
