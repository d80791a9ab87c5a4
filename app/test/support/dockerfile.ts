import { readFileSync } from 'node:fs';
import path from 'node:path';

// app/Dockerfile read as data: there is no Docker engine here, so tests check the image where it
// can drift (against infra's container spec) and run its build and install steps themselves.

export interface Instruction {
  readonly op: string;
  readonly args: string;
}

export interface Stage {
  /** The `AS` name, when the stage has one. */
  readonly name?: string;
  readonly image: string;
  readonly instructions: readonly Instruction[];
}

/** Dockerfile instructions per stage, comments dropped and `\` continuations joined. */
export function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: { name?: string; image: string; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (!op) continue;
    const instruction = { op: op.toUpperCase(), args: args.trim() };
    if (instruction.op === 'FROM') {
      const [image, as, name] = instruction.args.split(/\s+/);
      stages.push({
        image,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [instruction],
      });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

export function readAppDockerfile(repoRoot: string): Stage[] {
  return parseDockerfile(readFileSync(path.join(repoRoot, 'app/Dockerfile'), 'utf8'));
}

/** A `COPY` without `--from`: sources in the build context and a destination in the image. */
export function contextCopies(stage: Stage): { sources: string[]; destination: string }[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--'))
    .map((i) => {
      const words = i.args.split(/\s+/);
      return { sources: words.slice(0, -1), destination: words.at(-1)! };
    });
}

/** The stage a `COPY --from=<stage> <path>` of the given stage takes `path` from. */
export function copiedFrom(stages: readonly Stage[], into: Stage, pathInStage: string): Stage {
  const copy = into.instructions.find(
    (i) => i.op === 'COPY' && new RegExp(`^--from=\\S+\\s+\\S*${pathInStage}\\s`).test(i.args),
  );
  if (!copy) throw new Error(`no COPY --from=… ${pathInStage} in the stage`);
  const from = /^--from=(\S+)/.exec(copy.args)![1];
  const stage = stages.find((s) => s.name === from);
  if (!stage) throw new Error(`no stage named ${from}`);
  return stage;
}

/** The `npm …` / `npx …` commands of a stage's RUN instructions, split at `&&`. */
export function runCommands(stage: Stage): string[] {
  return stage.instructions
    .filter((i) => i.op === 'RUN')
    .flatMap((i) => i.args.split('&&').map((c) => c.trim()));
}
