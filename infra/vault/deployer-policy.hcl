# Policy of the token `pulumi up` configures Vault with (infra/components/vault.ts): the mounts,
# auth methods, policies, roles, audit devices and database connection the program declares, and
# nothing it does not. Written once by the bootstrap with the root token, which is then revoked
# (runbooks/procedures/bootstrap-vault.md); the program never changes it, and cannot: the deny
# below keeps a deploy from widening its own grant.

path "sys/policies/acl/deployer" {
  capabilities = ["deny"]
}

# Secrets engines (kv-v2 at secret/, database/) and their tuning.
path "sys/mounts" {
  capabilities = ["read"]
}
path "sys/mounts/*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}

# The kubernetes auth method, its configuration and roles.
path "sys/auth" {
  capabilities = ["read"]
}
path "sys/auth/*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}
path "auth/kubernetes/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# The workloads' policies.
path "sys/policies/acl/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Audit devices (sudo-protected paths).
path "sys/audit" {
  capabilities = ["read", "sudo"]
}
path "sys/audit/*" {
  capabilities = ["create", "read", "update", "delete", "sudo"]
}

# The service's static settings the program writes. Not secret/rag-api/keys: operators' secrets
# (API key pepper, JWT signing keys) are no deploy's to read.
path "secret/data/rag-api/config" {
  capabilities = ["create", "read", "update", "delete"]
}
path "secret/metadata/rag-api/config" {
  capabilities = ["read", "update", "delete", "list"]
}

# The database secrets engine: connection, roles, root rotation. Never database/creds/*: the
# deployer configures credentials, it does not use them.
path "database/config/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "database/roles/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "database/rotate-root/*" {
  capabilities = ["update"]
}

# The provider works with a short-lived child token of this one (max_lease_ttl_seconds).
path "auth/token/create" {
  capabilities = ["create", "update"]
}
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}
