#!/usr/bin/env bash
# Installs every tool the test suite needs that npm does not provide. One script per tool lives in
# scripts/tools/; each is idempotent and fails with a message naming what to install by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in scripts/tools/*.sh; do
  bash "$tool"
done
