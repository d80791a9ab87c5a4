#!/usr/bin/env bash
# zizmor (PyPI) audits .github/workflows for security problems in the test suite, next to
# actionlint; it runs with --offline (no GitHub API). Debian's pip refuses system-wide installs
# (PEP 668), so it shares the tools venv schemathesis.sh creates, at a pinned version; the suite
# finds it at $RAG_TOOLS_VENV/bin/zizmor.
set -euo pipefail
ZIZMOR_VERSION=1.32.0
venv="${RAG_TOOLS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/rag-platform/venv}"
# Captured first: `grep -q` would close the pipe early and pipefail would report pip's SIGPIPE.
installed="$([ -x "$venv/bin/zizmor" ] && "$venv/bin/pip" show zizmor 2>/dev/null || true)"
if grep -qx "Version: ${ZIZMOR_VERSION}" <<<"$installed"; then exit 0; fi
if [ ! -x "$venv/bin/pip" ]; then
  # schemathesis.sh makes the venv (and installs python3-venv when needed); run it first.
  bash "$(dirname "$0")/schemathesis.sh"
fi
echo "installing zizmor ${ZIZMOR_VERSION} into $venv (first run only)" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "zizmor==${ZIZMOR_VERSION}" >&2
