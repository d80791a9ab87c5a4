import {
  prepareCommandContext,
  runLocalCommands,
  type CommandRun,
} from './commands/local-commands';
import { fireDrill, fireDrills } from './fire/fire-drills';
import { postgresPitrDrill } from './restore/postgres-pitr';
import { vectorIndexRebuildDrill } from './restore/vector-index-rebuild';
import { acquireLocalServices } from './stack/local-services';
import { runFireDrill, type FireDrillResult } from './fire/run-fire-drill';
import { startTraffic } from './fire/traffic';
import { undrillableAlerts } from './fire/undrillable-alerts';
import { startDrillStack } from './stack/drill-stack';

// npm run drill -- <name>... [--time-scale=<factor>]  drills by name (see --list)
// npm run drill -- --all [--time-scale=<factor>]       every drill, with the wall time
// npm run drill -- restore-pitr [--seconds=N]          Postgres point-in-time recovery (RPO, RTO)
// npm run drill -- index-rebuild [--documents=N]       vector index rebuilt from Postgres
// npm run drill -- runbook-commands                    runbook commands run on the local stack
// Fire drills run on the shipped timings unless --time-scale compresses every rule and routing
// duration by the factor (runbooks/drills/stack/time-scale.ts); restore and command drills ignore it.

interface Options {
  names: string[];
  all: boolean;
  list: boolean;
  timeScale: number;
  seconds: number;
  documents: number;
}

const otherDrills = ['restore-pitr', 'index-rebuild', 'runbook-commands'];

export function parseArgs(argv: string[]): Options {
  const options: Options = {
    names: [],
    all: false,
    list: false,
    timeScale: 1,
    seconds: 60,
    documents: 2000,
  };
  for (const arg of argv) {
    if (arg === '--all') options.all = true;
    else if (arg === '--list') options.list = true;
    else if (arg.startsWith('--time-scale=')) {
      options.timeScale = Number(arg.slice('--time-scale='.length));
      if (!(options.timeScale > 0 && options.timeScale <= 1)) {
        throw new Error('--time-scale takes a factor in (0, 1]');
      }
    } else if (arg.startsWith('--seconds=')) options.seconds = Number(arg.slice(10));
    else if (arg.startsWith('--documents=')) options.documents = Number(arg.slice(12));
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else options.names.push(arg);
  }
  return options;
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function runFire(
  names: string[],
  timeScale: number,
  commands: boolean,
): Promise<{ fire: FireDrillResult[]; failures: string[]; commands: CommandRun[] }> {
  const drills = names.map(fireDrill);
  const stack = await startDrillStack({ timeScale });
  log(
    `stack up: service ${stack.serviceUrl}, Prometheus ${stack.prometheusUrl}, Alertmanager ${stack.alertmanagerUrl}, time scale ${timeScale}`,
  );
  const traffic = await startTraffic(stack.serviceUrl);
  const results: FireDrillResult[] = [];
  const failures: string[] = [];
  let commandRuns: CommandRun[] = [];
  try {
    for (const drill of drills) {
      try {
        results.push(await runFireDrill(stack, traffic, drill, log));
      } catch (err) {
        failures.push(`${drill.name}: ${(err as Error).message}`);
        log(`${drill.name}: FAILED: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    if (commands) {
      log('runbook commands: running every command the local stack can run');
      commandRuns = await runLocalCommands(stack, await prepareCommandContext(stack, traffic));
    }
  } finally {
    await traffic.stop();
    await stack.stop();
  }
  return { fire: results, failures, commands: commandRuns };
}

function reportCommands(runs: CommandRun[]): boolean {
  const ran = runs.filter((r) => r.outcome !== 'skipped');
  for (const r of ran) {
    console.log(
      `  ${r.outcome === 'ok' ? 'ok    ' : 'FAILED'} ${r.file}:${r.line} ${r.kind === 'promql' ? `[promql] ${r.text.replace(/\s+/g, ' ')}` : r.ran}${r.outcome === 'ok' ? '' : `\n         ${r.detail}`}`,
    );
  }
  const skipped = runs.filter((r) => r.outcome === 'skipped');
  const reasons = new Map<string, number>();
  for (const r of skipped) reasons.set(r.detail, (reasons.get(r.detail) ?? 0) + 1);
  console.log(
    `runbook commands: ${ran.filter((r) => r.outcome === 'ok').length} ok, ${ran.filter((r) => r.outcome === 'failed').length} failed, ${skipped.length} not runnable here:`,
  );
  for (const [reason, n] of reasons) console.log(`  ${n} × ${reason}`);
  return ran.every((r) => r.outcome === 'ok');
}

function report(results: FireDrillResult[]): void {
  console.log(
    '\nfire drill                  alert                              receiver       time-to-page  time-to-resolve',
  );
  for (const r of results) {
    console.log(
      `${r.drill.padEnd(27)} ${`${r.alert}/${r.severity}${r.deliveredAs ? ` (as ${r.deliveredAs})` : ''}`.padEnd(34)} ${r.receiver.padEnd(14)} ${`${(r.timeToPageMs / 1000).toFixed(1)} s`.padStart(12)}  ${`${(r.timeToResolveMs / 1000).toFixed(1)} s`.padStart(15)}`,
    );
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.list || (!options.all && !options.names.length)) {
    console.log('fire drills:');
    for (const d of fireDrills)
      console.log(`  ${d.name.padEnd(26)} ${d.alert}/${d.severity}: ${d.fault}`);
    console.log(`restore and command drills: ${otherDrills.join(', ')}`);
    console.log('not drillable here:');
    for (const u of undrillableAlerts)
      console.log(`  ${`${u.alert}/${u.severity}`.padEnd(40)} ${u.reason}`);
    return;
  }
  const started = Date.now();
  const names = options.all ? [...fireDrills.map((d) => d.name), ...otherDrills] : options.names;
  for (const n of names) if (!otherDrills.includes(n)) fireDrill(n);
  const fire = names.filter((n) => !otherDrills.includes(n));
  let ok = true;
  if (fire.length || names.includes('runbook-commands')) {
    const results = await runFire(fire, options.timeScale, names.includes('runbook-commands'));
    if (results.fire.length) report(results.fire);
    for (const f of results.failures) console.log(`FAILED ${f}`);
    ok = ok && results.failures.length === 0;
    if (names.includes('runbook-commands')) ok = reportCommands(results.commands) && ok;
  }
  if (names.includes('restore-pitr')) {
    log(`restore-pitr: markers for ${options.seconds} s`);
    const r = await postgresPitrDrill({
      markerSeconds: options.seconds,
      markerIntervalMs: 100,
      archiveTimeoutSeconds: 5,
      log,
    });
    console.log(`restore-pitr: ${JSON.stringify(r)}`);
    console.log(
      `restore-pitr: RPO ${r.rpoMs} ms, RTO ${(r.rtoMs / 1000).toFixed(1)} s, lost ${r.markersLost}`,
    );
    ok = ok && r.markersLost === 0 && r.markersAfterTargetRestored === 0;
  }
  if (names.includes('index-rebuild')) {
    const { services, release } = await acquireLocalServices();
    try {
      const r = await vectorIndexRebuildDrill(services, { documents: options.documents, log });
      console.log(`index-rebuild: ${JSON.stringify(r)}`);
    } finally {
      await release();
    }
  }
  log(`wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (!ok) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
