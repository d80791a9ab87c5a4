// The one way tests wait: poll a condition until it holds or a deadline passes, never sleep for a
// fixed time. A fixed sleep is either too short on a loaded machine (a flake) or too long on an
// idle one (a slow suite); a poll is as fast as the condition and fails with what it waited for.

export interface PollOptions {
  /** How long the condition may take; generous, since a loaded machine is slow. */
  readonly timeoutMs?: number;
  /** Pause between probes. */
  readonly intervalMs?: number;
  /** What is awaited, for the failure message. */
  readonly what?: string;
}

/**
 * Thrown by a probe when waiting longer cannot help (the process under test exited, say): the
 * poll stops at once with this error instead of retrying until the deadline.
 */
export class GiveUp extends Error {
  override readonly name = 'GiveUp';
}

/**
 * Resolves with the probe's first truthy result. A probe that throws counts as "not yet" (the
 * last error is in the timeout message), except for `GiveUp`, which ends the poll.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 15_000, intervalMs = 50, what = 'condition' }: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
