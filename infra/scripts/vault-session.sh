# Sourced (bash) before `pulumi up`: a Vault session for the deploy, and nothing that outlives it.
#
#   export KUBECONFIG=...; source infra/scripts/vault-session.sh
#
# Opens a port-forward to the active Vault server, trusts Vault's internal CA for the name on its
# certificate, and logs in as the Kubernetes auth role `deployer` with a ten-minute token of the
# ServiceAccount `vault-deployer` (creating it takes cluster-admin, which the deploy role holds).
# Exports what the Vault provider reads (VAULT_TOKEN, VAULT_CACERT); on exit the Vault token is
# revoked and the port-forward stopped. Needs kubectl, curl and jq (the deploy runner has them).

vault_session_dir="$(mktemp -d)"
kubectl -n vault get secret vault-tls -o jsonpath='{.data.ca\.crt}' | base64 -d > "$vault_session_dir/ca.crt"
kubectl -n vault port-forward svc/vault-active 8200:8200 > "$vault_session_dir/port-forward.log" 2>&1 &
vault_session_forward=$!
export VAULT_ADDR=https://127.0.0.1:8200
export VAULT_CACERT="$vault_session_dir/ca.crt"
export VAULT_TLS_SERVER_NAME=vault-active.vault.svc

# curl verifies the certificate for the name it carries while connecting to the forwarded port.
vault_session_curl() {
  curl --fail --silent --show-error --cacert "$VAULT_CACERT" \
    --connect-to vault-active.vault.svc:8200:127.0.0.1:8200 "$@"
}

vault_session_end() {
  if [ -n "${VAULT_TOKEN:-}" ]; then
    vault_session_curl -X POST -H "X-Vault-Token: $VAULT_TOKEN" \
      https://vault-active.vault.svc:8200/v1/auth/token/revoke-self > /dev/null || true
  fi
  kill "$vault_session_forward" 2> /dev/null || true
  rm -rf "$vault_session_dir"
}
trap vault_session_end EXIT

for _ in $(seq 1 30); do
  vault_session_curl https://vault-active.vault.svc:8200/v1/sys/health > /dev/null 2>&1 && break
  sleep 1
done
VAULT_TOKEN="$(
  jq -n --arg jwt "$(kubectl -n vault create token vault-deployer --duration=10m)" \
    '{role: "deployer", jwt: $jwt}' |
    vault_session_curl -X POST --data @- https://vault-active.vault.svc:8200/v1/auth/kubernetes/login |
    jq -r .auth.client_token
)"
export VAULT_TOKEN
if [ -z "$VAULT_TOKEN" ] || [ "$VAULT_TOKEN" = null ]; then
  echo "vault-session: login as the Vault role deployer failed (runbooks/procedures/bootstrap-vault.md)" >&2
  return 1
fi
