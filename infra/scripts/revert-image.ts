import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { git, imageAt, lastImageChange, stackFile, withImage } from './image-history';

// Automatic rollback after a failed post-deploy verification: revert, in git, the commit that set
// the image the stack runs, so the previous git-recorded digest is what git says runs and what the
// next `pulumi up` applies. Commits locally; the workflow pushes and applies it.
//   node -r ts-node/register/transpile-only infra/scripts/revert-image.ts <stack> <failed-image>
// Prints the commit and the image it restores as `key=value` lines (for $GITHUB_OUTPUT).
// Exit 3: nothing safe to revert to (the failed change is itself a rollback, or the first image).

export class NoSafeRollback extends Error {}

export interface Reverted {
  revertedCommit: string;
  commit: string;
  image: string;
}

/** The marker that keeps GitHub from starting push workflows for the revert: the job applies it. */
export const skipCi = '[skip ci]';

export function revertImage(repo: string, stack: string, failedImage: string): Reverted {
  const change = lastImageChange(repo, stack);
  if (change.image !== failedImage)
    throw new NoSafeRollback(
      `${stackFile(stack)} sets ${change.image}, not the image that failed (${failedImage}): ` +
        'someone changed it meanwhile, nothing is reverted',
    );
  // Reverting a rollback would bring back the image that was rolled back.
  if (/^Revert "/.test(change.subject))
    throw new NoSafeRollback(`the failed deploy was itself a rollback (${change.commit})`);
  if (!change.previous)
    throw new NoSafeRollback(`${change.commit} set the first image of ${stack}: no previous one`);
  const message = [
    `Revert "${change.subject}" ${skipCi}`,
    '',
    `This reverts commit ${change.commit}: post-deploy verification of ${stack} failed with`,
    `${failedImage}; ${stack} goes back to ${change.previous}.`,
  ].join('\n');
  try {
    // A merged promotion pull request is a merge commit: revert it against main's side.
    const parents = git(repo, ['rev-list', '--parents', '-n', '1', change.commit])
      .trim()
      .split(' ');
    const mainline = parents.length > 2 ? ['-m', '1'] : [];
    git(repo, ['revert', '--no-commit', ...mainline, change.commit]);
  } catch {
    // A later commit touched the same lines: restore only the image, as the revert would have.
    git(repo, ['revert', '--abort']);
    const file = path.join(repo, stackFile(stack));
    writeFileSync(
      file,
      withImage(git(repo, ['show', `HEAD:${stackFile(stack)}`]), change.previous),
    );
    git(repo, ['add', stackFile(stack)]);
  }
  git(repo, ['commit', '--quiet', '-m', message]);
  const commit = git(repo, ['rev-parse', 'HEAD']).trim();
  const image = imageAt(repo, commit, stack);
  if (image !== change.previous)
    throw new Error(`the revert left ${stackFile(stack)} at ${image}, not ${change.previous}`);
  return { revertedCommit: change.commit, commit, image };
}

if (require.main === module) {
  const [stack, failedImage] = process.argv.slice(2);
  if (!stack || !failedImage) {
    console.error('usage: revert-image.ts <stack> <failed-image>');
    process.exit(2);
  }
  try {
    const r = revertImage(process.cwd(), stack, failedImage);
    console.log(`reverted=${r.revertedCommit}\ncommit=${r.commit}\nimage=${r.image}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(err instanceof NoSafeRollback ? 3 : 1);
  }
}
