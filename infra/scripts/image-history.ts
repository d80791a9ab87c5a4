import { execFileSync } from 'node:child_process';
import { parse, parseDocument } from 'yaml';

// What git says each stack runs: `app.image` in Pulumi.<stack>.yaml at a commit, and the commit
// that last changed it. Deploys apply commits, so this history is the deploy history.

const project = 'rag-platform';

export const stackFile = (stack: string) => `Pulumi.${stack}.yaml`;

export function git(repo: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd: repo,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The image a stack file holds (`rag-platform:app` → `image`), or undefined when it has none. */
export function imageIn(stackFileText: string): string | undefined {
  const doc = parse(stackFileText) as { config?: Record<string, { image?: unknown } | undefined> };
  const image = doc?.config?.[`${project}:app`]?.image;
  return typeof image === 'string' ? image : undefined;
}

/** The image the stack file holds at a commit (undefined if the file or key does not exist there). */
export function imageAt(repo: string, commit: string, stack: string): string | undefined {
  try {
    return imageIn(git(repo, ['show', `${commit}:${stackFile(stack)}`]));
  } catch {
    return undefined;
  }
}

export interface ImageChange {
  commit: string;
  subject: string;
  image: string;
  previous: string | undefined;
}

/**
 * The commit on the first-parent history of `ref` that set the image the stack runs at `ref`,
 * with the image before it. A merge of a promotion pull request counts as the change (first
 * parent: main's own history), so reverting it reverts exactly what the merge applied.
 */
export function lastImageChange(repo: string, stack: string, ref = 'HEAD'): ImageChange {
  const current = imageAt(repo, ref, stack);
  if (!current) throw new Error(`${stackFile(stack)} at ${ref} sets no app.image`);
  const commits = git(repo, ['rev-list', '--first-parent', ref, '--', stackFile(stack)])
    .split('\n')
    .filter(Boolean);
  for (const commit of commits) {
    const before = imageAt(repo, `${commit}^`, stack);
    if (imageAt(repo, commit, stack) === current && before !== current) {
      const subject = git(repo, ['log', '-1', '--format=%s', commit]).trim();
      return { commit, subject, image: current, previous: before };
    }
  }
  throw new Error(`no commit in ${ref}'s history sets app.image of ${stack}`);
}

/**
 * The stack file with `app.image` replaced, comments and layout kept: what
 * `pulumi config set --path app.image <image>` writes.
 */
export function withImage(stackFileText: string, image: string): string {
  const doc = parseDocument(stackFileText);
  doc.setIn(['config', `${project}:app`, 'image'], image);
  return doc.toString();
}

// The image git says a stack runs at a commit: what a deploy of that commit applies.
//   node -r ts-node/register/transpile-only infra/scripts/image-history.ts <stack> [commit]
if (require.main === module) {
  const [stack, ref = 'HEAD'] = process.argv.slice(2);
  const image = stack ? imageAt(process.cwd(), ref, stack) : undefined;
  if (!image) {
    console.error(
      stack
        ? `${stackFile(stack)} at ${ref} sets no app.image`
        : 'usage: image-history.ts <stack> [commit]',
    );
    process.exit(1);
  }
  console.log(image);
}
