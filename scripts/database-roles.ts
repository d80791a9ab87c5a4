import { randomBytes } from 'node:crypto';
import {
  loginCreationStatements,
  renderLoginStatements,
  roleBootstrapStatements,
  staticLoginStatements,
} from '../catalog/database-roles';

// Prints the SQL of catalog/database-roles.ts for psql, so scripts/test-services.sh sets up the
// local Postgres exactly as the platform's bootstrap and Vault do:
//   database-roles.ts bootstrap <database>            the group roles, ownership and grants
//   database-roles.ts login <role> <name> <password>  a login user as Vault creates it
//   database-roles.ts static <vault-admin-password> <exporter-password>  Vault's and the exporters' logins

const [command, ...args] = process.argv.slice(2);
const print = (statements: readonly string[]) =>
  process.stdout.write(statements.map((s) => `${s};\n`).join(''));

if (command === 'bootstrap' && args.length === 1) {
  print(roleBootstrapStatements(args[0]));
} else if (command === 'login' && args.length === 3) {
  const [role, name, password] = args;
  if (role !== 'service' && role !== 'migrator' && role !== 'monitor') {
    throw new Error(`unknown role ${role}`);
  }
  print(renderLoginStatements(loginCreationStatements(role), { name, password }));
} else if (command === 'static' && args.length === 2) {
  print(staticLoginStatements({ vaultAdmin: args[0], exporter: args[1] }));
} else if (command === 'password') {
  process.stdout.write(`${randomBytes(18).toString('base64url')}\n`);
} else {
  process.stderr.write(
    'usage: database-roles.ts bootstrap <database> | login <role> <name> <password> | static <vault-admin-password> <exporter-password> | password\n',
  );
  process.exitCode = 2;
}
