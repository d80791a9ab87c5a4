import type { RequestHandler } from 'express';
import type { FaultFile } from '../../faults/fault-file';
import { HttpProblem } from '../problem';

// The fire drills' route faults (faults/fault-file.ts). The gate sits after routing, so the
// metrics see the route template and the SLIs count an injected response as they would a real one.

/** The middleware for one route, placed before its body is read. */
export function faultGate(
  faults: FaultFile,
  route: { method: string; path: string },
): RequestHandler {
  const method = route.method.toUpperCase();
  return (_req, _res, next) => {
    const fault = faults
      .current()
      .routes.find((f) => f.method === method && f.route === route.path);
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
}
