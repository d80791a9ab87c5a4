import { readFileSync } from 'node:fs';
import { z } from 'zod';

// Fire drills (runbooks/drills) inject faults a real incident would cause but a drill cannot cause
// safely any other way: API routes failing or slow (the burn-rate pages) and ingestion workers
// stalled (backlog, freshness). Only a process started with FAULT_INJECTION_FILE reads this file,
// and config.ts refuses that setting with NODE_ENV=production (the image and every stack run
// production). The drill writes the file to start a fault and deletes it to end the fault.

const routeFaultSchema = z.object({
  method: z.enum(['GET', 'POST', 'DELETE']),
  /** The Express path template, as in the metrics' `route` label. */
  route: z.string().min(1),
  /** Answer with this 5xx instead of running the operation. */
  status: z.number().int().min(500).max(599).optional(),
  /** Wait this long before answering (or failing). */
  delayMs: z.number().int().min(0).max(60_000).optional(),
});

const faultsSchema = z.object({
  routes: z.array(routeFaultSchema).default([]),
  /** Workers hold each job they take, unprocessed, until the fault ends: a backlog builds. */
  ingestionPaused: z.boolean().default(false),
});

export type RouteFault = z.infer<typeof routeFaultSchema>;
export type InjectedFaults = z.input<typeof faultsSchema>;
type Faults = z.infer<typeof faultsSchema>;

const none: Faults = { routes: [], ingestionPaused: false };

/** The faults in `file` now: none when it is missing or unreadable (the drill ended the fault). */
function readFaults(file: string): Faults {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return none;
  }
  try {
    const parsed = faultsSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : none;
  } catch {
    // A file caught half-written reads as no fault until the next read.
    return none;
  }
}

export interface FaultFile {
  current(): Faults;
}

/** Re-reads the file at most every `refreshMs`, so a request never pays for a read. */
export function faultFile(file: string, refreshMs = 200): FaultFile {
  let faults = none;
  let readAt = -Infinity;
  return {
    current() {
      const now = Date.now();
      if (now - readAt >= refreshMs) {
        faults = readFaults(file);
        readAt = now;
      }
      return faults;
    },
  };
}
