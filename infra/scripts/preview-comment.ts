import { readFileSync } from 'node:fs';

// Renders the PR comment for one stack's preview from files: the stateful-change warning first,
// then the preview text. Text travels through files, never an environment variable (Linux caps
// one at 128 KiB; a full --diff preview of these stacks is larger), and a comment holds at most
// 65,536 characters, so an oversized preview keeps its end (the summary and any error).
//   node -r ts-node/register/transpile-only infra/scripts/preview-comment.ts \
//     <stack> preview.txt warning.md [outcome] > comment.md

/** GitHub refuses an issue comment body above this many characters. */
export const commentLimit = 65_536;

export const markerFor = (stack: string) => `<!-- pulumi-preview:${stack} -->`;

export function previewComment(
  stack: string,
  preview: string,
  warning: string,
  outcome = 'success',
): string {
  const head = [
    markerFor(stack),
    `## pulumi preview: \`${stack}\`${outcome === 'success' ? '' : ` — **${outcome}**`}`,
    '',
    warning.trim(),
    '',
    '<details><summary>Preview</summary>',
    '',
    '```',
  ].join('\n');
  const tail = '\n```\n</details>\n';
  const note = '… (start cut: the full preview is in the job log)\n';
  const room = commentLimit - head.length - tail.length - note.length - 1;
  // Backticks in the preview would close the fence.
  const text = preview.replace(/```/g, '`\u200b``');
  const body = text.length <= room ? text : note + text.slice(text.length - room);
  return `${head}\n${body}${tail}`;
}

if (require.main === module) {
  const [stack, previewFile, warningFile, outcome] = process.argv.slice(2);
  if (!stack || !previewFile || !warningFile) {
    console.error('usage: preview-comment.ts <stack> <preview.txt> <warning.md> [outcome]');
    process.exit(2);
  }
  process.stdout.write(
    previewComment(
      stack,
      readFileSync(previewFile, 'utf8'),
      readFileSync(warningFile, 'utf8'),
      outcome,
    ),
  );
}
