import { readFileSync } from 'node:fs';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { HttpProblem } from '../problem';

// Fire drills (runbooks/drills) make the SLO routes fail or slow down on purpose, to prove that a
// burn-rate page reaches on-call through the real Prometheus and Alertmanager. The gate exists only
// in a process started with FAULT_INJECTION_FILE, which config.ts refuses with NODE_ENV=production
// (the image and every stack run production); the drill writes the file to start a fault and
// deletes it to end the fault. It sits after routing, so the metrics see the route template and
// the SLIs count the injected responses as they would count real ones.

const faultSchema = z.object({
  method: z.enum(['GET', 'POST', 'DELETE']),
  /** The Express path template, as in the metrics' `route` label. */
  route: z.string().min(1),
  /** Answer with this 5xx instead of running the operation. */
  status: z.number().int().min(500).max(599).optional(),
  /** Wait this long before answering (or failing). */
  delayMs: z.number().int().min(0).max(60_000).optional(),
});

const faultsSchema = z.object({ routes: z.array(faultSchema) });

export type InjectedFault = z.infer<typeof faultSchema>;
export type InjectedFaults = z.infer<typeof faultsSchema>;

/** The faults in `file` now: none when it is missing or unreadable (the drill ended the fault). */
function readFaults(file: string): InjectedFault[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  try {
    const parsed = faultsSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.routes : [];
  } catch {
    // A file caught half-written reads as no fault until the next read.
    return [];
  }
}

export interface FaultGate {
  /** The middleware for one route, placed after routing and before the body is read. */
  forRoute(route: { method: string; path: string }): RequestHandler;
}

/** Re-reads the file at most every `refreshMs`, so a request never pays for a read. */
export function faultGate(file: string, refreshMs = 200): FaultGate {
  let faults: InjectedFault[] = [];
  let readAt = -Infinity;
  const current = () => {
    const now = Date.now();
    if (now - readAt >= refreshMs) {
      faults = readFaults(file);
      readAt = now;
    }
    return faults;
  };
  return {
    forRoute(route) {
      const method = route.method.toUpperCase();
      return (_req, _res, next) => {
        const fault = current().find((f) => f.method === method && f.route === route.path);
        if (!fault) return next();
        const act = () =>
          fault.status === undefined
            ? next()
            : next(
                new HttpProblem(
                  fault.status,
                  'injected-fault',
                  'Injected fault',
                  'A fault drill made this operation fail.',
                ),
              );
        if (fault.delayMs) setTimeout(act, fault.delayMs);
        else act();
      };
    },
  };
}
