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
//   database-roles.ts password                        a random password
// Several commands in one call run in order (`bootstrap rag login service rag_app secret ...`):
// each process started from TypeScript costs a second or more, and the suite starts several
// sets of services.

const usage =
  'usage: database-roles.ts <command>...; commands: bootstrap <database> | login <role> <name> <password> | static <vault-admin-password> <exporter-password> | password\n';
const print = (statements: readonly string[]) =>
  process.stdout.write(statements.map((s) => `${s};\n`).join(''));

function runCommands(argv: readonly string[]): boolean {
  if (argv.length === 0) return false;
  let i = 0;
  const take = (n: number) => {
    const taken = argv.slice(i, i + n);
    i += n;
    return taken.length === n ? taken : undefined;
  };
  while (i < argv.length) {
    const command = argv[i++];
    if (command === 'bootstrap') {
      const args = take(1);
      if (!args) return false;
      print(roleBootstrapStatements(args[0]));
    } else if (command === 'login') {
      const args = take(3);
      if (!args) return false;
      const [role, name, password] = args;
      if (role !== 'service' && role !== 'migrator' && role !== 'monitor') {
        throw new Error(`unknown role ${role}`);
      }
      print(renderLoginStatements(loginCreationStatements(role), { name, password }));
    } else if (command === 'static') {
      const args = take(2);
      if (!args) return false;
      print(staticLoginStatements({ vaultAdmin: args[0], exporter: args[1] }));
    } else if (command === 'password') {
      process.stdout.write(`${randomBytes(18).toString('base64url')}\n`);
    } else {
      return false;
    }
  }
  return true;
}

if (!runCommands(process.argv.slice(2))) {
  process.stderr.write(usage);
  process.exitCode = 2;
}
