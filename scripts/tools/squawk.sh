#!/usr/bin/env bash
# squawk (PyPI `squawk-cli`, a binary wheel) lints the SQL the knex migrations run for operations
# that lock a busy table or break the version still running (app/test/stores/postgres). npm's
# `squawk-cli` downloads its binary at install time from GitHub releases, which CI may not reach;
# the wheel comes from PyPI like schemathesis, into the same venv, at a pinned version. The suite
# finds it at $RAG_TOOLS_VENV/bin/squawk.
set -euo pipefail
SQUAWK_VERSION=2.70.0
venv="${RAG_TOOLS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/rag-platform/venv}"
bin="$venv/bin/squawk"
if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "squawk ${SQUAWK_VERSION}" ]; then exit 0; fi
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
    echo "squawk needs Python 3 with venv: install python3 and python3-venv, then re-run" >&2
    exit 1
  fi
fi
echo "installing squawk-cli ${SQUAWK_VERSION} into $venv (first run only)" >&2
[ -x "$venv/bin/pip" ] || "$python" -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "squawk-cli==${SQUAWK_VERSION}" >&2
