import { fireDrill, fireDrills } from './fire/fire-drills';
import { runFireDrill, type FireDrillResult } from './fire/run-fire-drill';
import { startTraffic } from './fire/traffic';
import { undrillableAlerts } from './fire/undrillable-alerts';
import { startDrillStack } from './stack/drill-stack';

// npm run drill -- <name> [--time-scale=<factor>]    one drill (see --list)
// npm run drill -- --all [--time-scale=<factor>]     every drill, with the wall time
// Fire drills run on the shipped timings unless --time-scale compresses every rule and routing
// duration by the factor (runbooks/drills/stack/time-scale.ts); restore and command drills ignore it.

interface Options {
  names: string[];
  all: boolean;
  list: boolean;
  timeScale: number;
}

export function parseArgs(argv: string[]): Options {
  const options: Options = { names: [], all: false, list: false, timeScale: 1 };
  for (const arg of argv) {
    if (arg === '--all') options.all = true;
    else if (arg === '--list') options.list = true;
    else if (arg.startsWith('--time-scale=')) {
      options.timeScale = Number(arg.slice('--time-scale='.length));
      if (!(options.timeScale > 0 && options.timeScale <= 1)) {
        throw new Error('--time-scale takes a factor in (0, 1]');
      }
    } else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else options.names.push(arg);
  }
  return options;
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function runFire(names: string[], timeScale: number): Promise<FireDrillResult[]> {
  const drills = names.map(fireDrill);
  const stack = await startDrillStack({ timeScale });
  log(
    `stack up: service ${stack.serviceUrl}, Prometheus ${stack.prometheusUrl}, Alertmanager ${stack.alertmanagerUrl}, time scale ${timeScale}`,
  );
  const traffic = await startTraffic(stack.serviceUrl);
  const results: FireDrillResult[] = [];
  try {
    for (const drill of drills) results.push(await runFireDrill(stack, traffic, drill, log));
  } finally {
    await traffic.stop();
    await stack.stop();
  }
  return results;
}

function report(results: FireDrillResult[]): void {
  console.log(
    '\nfire drill                  alert                              receiver       time-to-page  time-to-resolve',
  );
  for (const r of results) {
    console.log(
      `${r.drill.padEnd(27)} ${`${r.alert}/${r.severity}`.padEnd(34)} ${r.receiver.padEnd(14)} ${`${(r.timeToPageMs / 1000).toFixed(1)} s`.padStart(12)}  ${`${(r.timeToResolveMs / 1000).toFixed(1)} s`.padStart(15)}`,
    );
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.list || (!options.all && !options.names.length)) {
    console.log('fire drills:');
    for (const d of fireDrills)
      console.log(`  ${d.name.padEnd(26)} ${d.alert}/${d.severity}: ${d.fault}`);
    console.log('not drillable here:');
    for (const u of undrillableAlerts)
      console.log(`  ${`${u.alert}/${u.severity}`.padEnd(40)} ${u.reason}`);
    return;
  }
  const started = Date.now();
  const fire = options.all ? fireDrills.map((d) => d.name) : options.names;
  const results = fire.length ? await runFire(fire, options.timeScale) : [];
  report(results);
  log(`wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
