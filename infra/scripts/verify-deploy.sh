#!/usr/bin/env bash
# Post-deploy verification, the same for staging and production (the deploy workflow runs it after
# `pulumi up`): the migration Job completed and the API rolled out, the public URL answers
# (smoke), the k6 smoke script passes its SLO thresholds, and no page-level SLO burn alert becomes
# active for SLO_WATCH (default 15m). Any failure exits non-zero; the workflow then reverts the
# image in git and applies the revert.
# API_TOKEN is an API key of the stack (a secret of the deploy workflow, created once per stack with
# `npm run apikey -- create --principal deploy-smoke --create-principal --scopes read,write`): the
# smoke and k6 call /v1 with it (k6 reads it from the environment; never on a command line).
#   KUBECONFIG=... API_TOKEN=... bash infra/scripts/verify-deploy.sh <stack>
# Writes what it checked to $GITHUB_STEP_SUMMARY when set.
set -euo pipefail
stack="${1:?usage: verify-deploy.sh <stack>}"
: "${API_TOKEN:?API_TOKEN, the smoke API key of the stack, is required}"
export API_TOKEN
cd "$(dirname "$0")/../.."
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
say() { echo "$*"; echo "- $*" >> "$summary"; }

echo "### Post-deploy verification: \`$stack\`" >> "$summary"
kubectl -n rag wait --for=condition=complete job -l app.kubernetes.io/name=rag-api,app.kubernetes.io/component=migrate --timeout=10m
# The API runs as an Argo Rollout (the Deployment only holds its template, scaled to zero), so
# `rollout status deployment/...` would never see the pods: wait on the Rollout's own phase.
kubectl -n rag wait rollout/rag-api --for=jsonpath='{.status.phase}'=Healthy --timeout=10m
say "migration Job complete, rag-api rolled out"

url="$(pulumi stack output appUrl --stack "$stack")"
curl --fail --silent --show-error --retry 10 --retry-all-errors --retry-delay 6 "$url/readyz" > /dev/null
curl --fail --silent --show-error "$url/openapi.json" > /dev/null
# /v1 refuses a request without a credential and serves one with the smoke key.
test "$(curl --silent --output /dev/null --write-out '%{http_code}' "$url/v1/collections")" = 401
curl --fail --silent --show-error --header @- "$url/v1/collections?limit=1" > /dev/null <<< "Authorization: Bearer $API_TOKEN"
say "smoke: $url/readyz and /openapi.json answer; /v1 refuses no credential and accepts the smoke key"

k6 run --quiet --env BASE_URL="$url" loadtest/k6/smoke.js
say "k6 smoke passed its SLO thresholds"

port="${PROMETHEUS_LOCAL_PORT:-9090}"
kubectl -n monitoring port-forward svc/kube-prometheus-stack-prometheus "$port:9090" > /dev/null &
forward=$!
trap 'kill "$forward" 2>/dev/null || true' EXIT
node -r ts-node/register/transpile-only infra/scripts/slo-watch.ts \
  --prometheus "http://127.0.0.1:$port" --duration "${SLO_WATCH:-15m}" --interval 30s \
  | tee -a "$summary"
