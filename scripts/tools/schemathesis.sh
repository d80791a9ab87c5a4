#!/usr/bin/env bash
# schemathesis (PyPI) fuzzes the running API against its OpenAPI document in the test suite.
# Debian's pip refuses system-wide installs (PEP 668), so it lives in a venv in a cache directory,
# at a pinned version; the suite finds it at $RAG_TOOLS_VENV/bin/schemathesis.
set -euo pipefail
SCHEMATHESIS_VERSION=4.32.5
venv="${RAG_TOOLS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/rag-platform/venv}"
bin="$venv/bin/schemathesis"
# Captured first: `grep -q` would close the pipe early and pipefail would report pip's SIGPIPE.
installed="$([ -x "$bin" ] && "$venv/bin/pip" show schemathesis 2>/dev/null || true)"
if grep -qx "Version: ${SCHEMATHESIS_VERSION}" <<<"$installed"; then exit 0; fi
python=/usr/bin/python3
[ -x "$python" ] || python="$(command -v python3 || true)"
if [ -z "$python" ] || ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: python3 python3-venv" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends python3 python3-venv >&2
    python=/usr/bin/python3
  else
    echo "schemathesis needs Python 3 with venv: install python3 and python3-venv, then re-run" >&2
    exit 1
  fi
fi
echo "installing schemathesis ${SCHEMATHESIS_VERSION} into $venv (first run only)" >&2
"$python" -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==${SCHEMATHESIS_VERSION}" >&2
