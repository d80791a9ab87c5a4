// The traffic shapes of loadtest/k6/load.js, one per PROFILE. Each is one k6 scenario plus its
// schedule: the windows of the run, each a phase (`ramp`, `steady`, `spike`, `recovery`) and for
// stepped searches (breakpoint, users) the step it holds. Iterations tag their requests with the
// window they run in, so the SLO thresholds judge the steady windows only and ramps never count.
import { envDuration, envNumber } from './target.js';

/** Seconds of a k6 duration string ('90s', '2m', '1h', '500ms'). */
export function seconds(duration) {
  const m = /^(\d+)(ms|s|m|h)$/.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
}

const envSeconds = (name, fallback) => seconds(envDuration(name, fallback));

function envList(name, fallback) {
  const raw = __ENV[name] || fallback;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new Error(`${name} must be a comma list of positive integers`);
  }
  return values;
}

/** Stages plus windows from a list of segments {seconds, target, phase, step?}. */
function schedule(segments) {
  let at = 0;
  const windows = [];
  const stages = [];
  for (const s of segments) {
    stages.push({ duration: `${s.seconds}s`, target: s.target });
    windows.push({ from: at, to: at + s.seconds, phase: s.phase, step: s.step, target: s.target });
    at += s.seconds;
  }
  return { stages, windows, seconds: at };
}

function arrivalRate(plan, startRate, maxVUs) {
  return {
    executor: 'ramping-arrival-rate',
    startRate,
    timeUnit: '1s',
    stages: plan.stages,
    // Few VUs up front (k6 adds them up to maxVUs when iterations queue): an idle VU's
    // keep-alive connection races the server closing it, and those resets are the test's own.
    preAllocatedVUs: Math.min(maxVUs, Math.max(5, Math.ceil(maxTarget(plan) / 20))),
    maxVUs,
  };
}

const maxTarget = (plan) => Math.max(...plan.windows.map((w) => w.target));

/** A constant load: ramp up, hold (the measured window), ramp down. */
function rampHold(rate, rampSeconds, holdSeconds) {
  return schedule([
    { seconds: rampSeconds, target: rate, phase: 'ramp' },
    { seconds: holdSeconds, target: rate, phase: 'steady' },
    { seconds: Math.min(rampSeconds, 30), target: 0, phase: 'ramp' },
  ]);
}

/** Stepped search: ramp to each level, hold it (a steady window of its own step), go on. */
function steps(levels, rampSeconds, holdSeconds) {
  return schedule(
    levels.flatMap((level) => [
      { seconds: rampSeconds, target: level, phase: 'ramp', step: level },
      { seconds: holdSeconds, target: level, phase: 'steady', step: level },
    ]),
  );
}

/**
 * The profile's scenario and schedule. `kind` says what the run answers: `sla` (do the SLOs hold
 * at this load), `rate` (the highest arrival rate that holds them) or `users` (the most users).
 */
export function profile(name) {
  const maxVUs = envNumber('MAX_VUS', 500);
  switch (name) {
    case 'smoke': {
      // All steady: a few requests per second over every route the load uses.
      const plan = schedule([
        { seconds: envSeconds('DURATION', '30s'), target: envNumber('RATE', 2), phase: 'steady' },
      ]);
      return { kind: 'sla', plan, scenario: constantRate(plan, maxVUs) };
    }
    case 'average': {
      const plan = rampHold(
        envNumber('RATE', 50),
        envSeconds('RAMP', '1m'),
        envSeconds('DURATION', '10m'),
      );
      return { kind: 'sla', plan, scenario: arrivalRate(plan, 0, maxVUs) };
    }
    case 'stress': {
      const plan = rampHold(
        envNumber('RATE', 150),
        envSeconds('RAMP', '2m'),
        envSeconds('DURATION', '10m'),
      );
      return { kind: 'sla', plan, scenario: arrivalRate(plan, 0, maxVUs) };
    }
    case 'soak': {
      const plan = rampHold(
        envNumber('RATE', 30),
        envSeconds('RAMP', '1m'),
        envSeconds('DURATION', '1h'),
      );
      return { kind: 'sla', plan, scenario: arrivalRate(plan, 0, maxVUs) };
    }
    case 'spike': {
      // Baseline, a sudden spike, back to baseline. The SLOs are judged on the baseline before the
      // spike and after RECOVERY; the spike and recovery windows are reported, not judged.
      const base = envNumber('RATE', 20);
      const spike = envNumber('SPIKE_RATE', 200);
      const hold = envSeconds('DURATION', '1m');
      const plan = schedule([
        { seconds: 10, target: base, phase: 'ramp' },
        { seconds: hold, target: base, phase: 'steady' },
        { seconds: 10, target: spike, phase: 'spike' },
        { seconds: envSeconds('SPIKE_DURATION', '1m'), target: spike, phase: 'spike' },
        { seconds: 10, target: base, phase: 'recovery' },
        { seconds: envSeconds('RECOVERY', '30s'), target: base, phase: 'recovery' },
        { seconds: hold, target: base, phase: 'steady' },
      ]);
      return { kind: 'sla', plan, scenario: arrivalRate(plan, base, maxVUs) };
    }
    case 'breakpoint': {
      // Arrival rates in steps; the run stops once the SLOs have clearly broken (abortOnFail).
      const start = envNumber('RATE_START', 20);
      const step = envNumber('RATE_STEP', 20);
      const max = envNumber('RATE_MAX', 1000);
      const levels = [];
      for (let r = start; r <= max; r += step) levels.push(r);
      const plan = steps(levels, envSeconds('STEP_RAMP', '5s'), envSeconds('STEP_HOLD', '20s'));
      return { kind: 'rate', plan, scenario: arrivalRate(plan, 0, envNumber('MAX_VUS', 1000)) };
    }
    case 'users': {
      // N concurrent users (closed model), each asking a question then thinking THINK_TIME.
      const levels = envList('USERS', '100,250,500,1000,1500,2000');
      const plan = steps(levels, envSeconds('STEP_RAMP', '10s'), envSeconds('STEP_HOLD', '30s'));
      return {
        kind: 'users',
        plan,
        scenario: {
          executor: 'ramping-vus',
          startVUs: 0,
          stages: plan.stages,
          gracefulRampDown: '5s',
        },
      };
    }
    default:
      throw new Error(
        `unknown PROFILE '${name}': smoke, average, stress, spike, soak, breakpoint or users`,
      );
  }
}

function constantRate(plan, maxVUs) {
  const rate = plan.windows[0].target;
  return {
    executor: 'constant-arrival-rate',
    rate,
    timeUnit: '1s',
    duration: `${plan.seconds}s`,
    preAllocatedVUs: Math.min(maxVUs, Math.max(2, Math.ceil(rate / 5))),
    maxVUs,
  };
}

/** The window an instant (seconds since the scenario started) falls in; the last one after the end. */
export function windowAt(plan, elapsed) {
  return plan.windows.find((w) => elapsed < w.to) ?? plan.windows[plan.windows.length - 1];
}

/**
 * Seconds spent in steady windows (overall, or of one step) until `until` seconds into the
 * scenario: a run that stopped early (abortOnFail, ctrl-C) held its windows only that long.
 */
export function steadySeconds(plan, step, until = plan.seconds) {
  return plan.windows
    .filter((w) => w.phase === 'steady' && (step === undefined || w.step === step))
    .reduce((sum, w) => sum + Math.max(0, Math.min(w.to, until) - w.from), 0);
}

/**
 * Chart buckets in whole seconds: about 40 over the run, or two per step for the searches (they
 * stop once the SLOs break, long before the plan's end).
 */
export function bucketSeconds(plan) {
  const stepped = plan.windows.find((w) => w.step !== undefined);
  if (stepped) {
    const level = plan.windows.filter((w) => w.step === stepped.step);
    return Math.max(1, Math.ceil((level[level.length - 1].to - level[0].from) / 2));
  }
  return Math.max(1, Math.ceil(plan.seconds / 40));
}

export function bucketCount(plan) {
  return Math.ceil(plan.seconds / bucketSeconds(plan)) + 1;
}

/** Bucket labels sort as text in the order of time. */
export const bucketLabel = (i) => String(i).padStart(3, '0');
export const stepLabel = (level) => String(level).padStart(5, '0');
