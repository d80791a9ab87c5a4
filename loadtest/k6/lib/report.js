// The SLA report of a load.js run, built in handleSummary from k6's own aggregates: the SLOs as
// k6 judged them (steady windows only), per endpoint latency/errors/throughput, the query cache
// hit ratio, per step results of the searching profiles and the answer they search for, and a
// latency-over-time chart from the per-bucket sub-metrics (handleSummary sees aggregates only,
// so every request carries its time bucket as a tag). Rendered as JSON and as Markdown.
import { checksThreshold, evaluate, metricKey, parseKey, sloThresholds } from './slo-thresholds.js';
import { bucketLabel, steadySeconds, stepLabel } from './profiles.js';

const queryEndpoint = { method: 'POST', route: '/v1/query' };

const round = (v, digits = 2) =>
  v === undefined || v === null || Number.isNaN(v) ? null : Number(v.toFixed(digits));

function latency(values) {
  // k6 reports zeros for a sub-metric without samples: no samples, no latency.
  if (!values || values.count === 0) return { p50: null, p95: null, p99: null };
  return {
    p50: round(values?.med),
    p95: round(values?.['p(95)']),
    p99: round(values?.['p(99)']),
  };
}

/** The sub-metrics the report reads, so the script can declare a threshold for each. */
export function reportedSubMetrics({ plan, endpoints }) {
  const out = [];
  const add = (metric, tags) => out.push({ metric, tags });
  for (const e of endpoints) {
    const tags = { method: e.method, route: e.route, phase: 'steady' };
    for (const m of ['http_req_duration', 'http_req_failed', 'http_reqs']) add(m, tags);
  }
  add('rag_query_cached', { phase: 'steady' });
  for (const phase of new Set(plan.windows.map((w) => w.phase))) {
    if (phase === 'steady') continue;
    for (const m of ['http_req_duration', 'http_req_failed', 'http_reqs']) {
      add(m, { ...queryEndpoint, phase });
    }
  }
  for (const level of stepLevels(plan)) {
    const step = stepLabel(level);
    for (const e of endpoints) {
      for (const m of ['http_req_duration', 'http_req_failed']) {
        add(m, { method: e.method, route: e.route, phase: 'steady', step });
      }
    }
    add('http_reqs', { phase: 'steady', step });
    add('rag_query_cached', { phase: 'steady', step });
  }
  for (let i = 0; i < plan.bucketCount; i++) {
    const bucket = bucketLabel(i);
    add('http_req_duration', { ...queryEndpoint, bucket });
    add('http_reqs', { bucket });
    add('http_req_failed', { bucket });
    add('rag_query_cached', { bucket });
  }
  return out;
}

function stepLevels(plan) {
  return [...new Set(plan.windows.filter((w) => w.step !== undefined).map((w) => w.step))];
}

/** Every SLO expression applied to the same selection narrowed by `extra` tags. */
function slosOn(metrics, extra) {
  return Object.entries(sloThresholds).flatMap(([key, expressions]) => {
    const { metric, tags } = parseKey(key);
    const values = metrics[metricKey(metric, { ...tags, ...extra })]?.values;
    return expressions.map((expression) => ({ key, expression, ...evaluate(expression, values) }));
  });
}

function ratio(values) {
  if (!values) return { queries: 0, hits: 0, hitRatio: null };
  const queries = values.passes + values.fails;
  return { queries, hits: values.passes, hitRatio: queries ? round(values.rate, 4) : null };
}

/** The report's numbers, from the summary data k6 hands to handleSummary. */
export function buildReport(data, ctx) {
  const { plan } = ctx;
  const m = data.metrics;
  const get = (metric, tags) => m[metricKey(metric, tags)]?.values;
  const ranSeconds = m.rag_load_elapsed_seconds?.values?.max ?? plan.seconds;
  const steady = round(steadySeconds(plan, undefined, ranSeconds), 1);
  const exercised = new Set(ctx.endpoints.map((e) => e.route));

  const slos = Object.entries(sloThresholds).flatMap(([key, expressions]) => {
    const { metric, tags } = parseKey(key);
    const steadyKey = metricKey(metric, { ...tags, phase: 'steady' });
    const judged = m[steadyKey];
    return expressions.map((expression) => {
      const { actual, stat } = evaluate(expression, judged?.values);
      const samples = judged
        ? (judged.values.count ?? judged.values.passes + judged.values.fails)
        : 0;
      return {
        key: steadyKey,
        expression,
        stat,
        actual: round(actual, 4),
        samples,
        // A route the profile does not drive (no ingests at INGEST_SHARE=0) is not judged.
        exercised: exercised.has(tags.route),
        // k6's own verdict; a threshold over no samples passes in k6 but proves nothing.
        ok: Boolean(judged?.thresholds?.[expression]?.ok) && samples > 0,
      };
    });
  });

  const endpoints = ctx.endpoints.map((e) => {
    const tags = { method: e.method, route: e.route, phase: 'steady' };
    const requests = get('http_reqs', tags)?.count ?? 0;
    return {
      endpoint: `${e.method} ${e.route}`,
      requests,
      throughput: round(requests / steady),
      ...latency(get('http_req_duration', tags)),
      errorRate: round(get('http_req_failed', tags)?.rate ?? 0, 5),
    };
  });

  const phases = [...new Set(plan.windows.map((w) => w.phase))]
    .filter((p) => p !== 'steady')
    .map((phase) => {
      const tags = { ...queryEndpoint, phase };
      return {
        phase,
        requests: get('http_reqs', tags)?.count ?? 0,
        ...latency(get('http_req_duration', tags)),
        errorRate: round(get('http_req_failed', tags)?.rate ?? 0, 5),
      };
    });

  const steps = stepLevels(plan).map((level) => {
    const step = stepLabel(level);
    const hold = steadySeconds(plan, level, ranSeconds);
    const requests = get('http_reqs', { phase: 'steady', step })?.count ?? 0;
    const throughput = hold > 0 ? round(requests / hold) : null;
    const checked = slosOn(m, { phase: 'steady', step }).filter((c) =>
      exercised.has(parseKey(c.key).tags.route),
    );
    const measured = requests > 0;
    // An arrival rate that did not arrive (the generator dropped iterations, or ran out of VUs)
    // is not a rate the service met: a step counts when ≥ 95% of its target arrived, less two
    // iterations of slack at the window's edges.
    const rateHeld = ctx.kind !== 'rate' || requests >= 0.95 * level * hold - 2;
    return {
      level,
      requests,
      throughput,
      ...latency(get('http_req_duration', { ...queryEndpoint, phase: 'steady', step })),
      slos: checked.map((c) => ({
        key: c.key,
        expression: c.expression,
        actual: round(c.actual, 4),
        ok: c.ok,
      })),
      cacheHitRatio: ratio(get('rag_query_cached', { phase: 'steady', step })).hitRatio,
      measured,
      met: measured && rateHeld && checked.every((c) => c.ok),
      latencyMet:
        measured &&
        rateHeld &&
        checked.filter((c) => c.key.startsWith('http_req_duration')).every((c) => c.ok),
    };
  });

  let result;
  if (ctx.kind !== 'sla') {
    // The highest level reached before the first level that broke an SLO (or was never reached),
    // over every SLO and over the latency objective alone (errors such as connection resets can
    // break availability long before latency breaks).
    const search = (met) => {
      let highest = null;
      for (const s of steps) {
        if (!met(s)) break;
        highest = s.level;
      }
      const failed = steps.find((s) => !met(s));
      return { highest, failed: failed ? failed.level : null };
    };
    const all = search((s) => s.met);
    const latencyOnly = search((s) => s.latencyMet);
    result = {
      measure: ctx.kind === 'rate' ? 'arrival rate (requests/s)' : 'concurrent users',
      highestMet: all.highest,
      firstFailed: all.failed,
      highestMetLatency: latencyOnly.highest,
      firstFailedLatency: latencyOnly.failed,
    };
  }

  const timeline = [];
  for (let i = 0; i < plan.bucketCount; i++) {
    const bucket = bucketLabel(i);
    const requests = get('http_reqs', { bucket })?.count ?? 0;
    const start = i * plan.bucketSeconds;
    // Buckets after the run stopped (the plan's end, or an early stop) are not part of it.
    if (requests === 0 && start + plan.bucketSeconds > ranSeconds) continue;
    timeline.push({
      start,
      requests,
      throughput: round(requests / plan.bucketSeconds),
      ...latency(get('http_req_duration', { ...queryEndpoint, bucket })),
      errorRate: round(get('http_req_failed', { bucket })?.rate ?? 0, 5),
      cacheHitRatio: ratio(get('rag_query_cached', { bucket })).hitRatio,
    });
  }

  const checks = m.checks?.values ?? { passes: 0, fails: 0 };
  const failedChecks = Object.fromEntries(
    Object.values(data.root_group?.checks ?? {})
      .filter((c) => c.fails > 0)
      .map((c) => [c.name, c.fails]),
  );
  const checksOk = Boolean(m['checks{phase:steady}']?.thresholds?.[checksThreshold]?.ok);
  const slosOk = slos.every((s) => s.ok || !s.exercised) && checksOk;

  return {
    profile: ctx.profile,
    kind: ctx.kind,
    target: ctx.baseUrl,
    generatedAt: new Date().toISOString(),
    runSeconds: round((data.state?.testRunDurationMs ?? 0) / 1000, 1),
    scenarioSeconds: round(ranSeconds, 1),
    plannedSeconds: plan.seconds,
    steadySeconds: steady,
    settings: ctx.settings,
    verdict:
      ctx.kind === 'sla'
        ? slosOk
          ? 'pass'
          : 'fail'
        : result.highestMet === null
          ? 'none met'
          : 'measured',
    slos,
    checks: {
      passes: checks.passes,
      fails: checks.fails,
      steadyOk: checksOk,
      failed: failedChecks,
    },
    endpoints,
    cache: ratio(get('rag_query_cached', { phase: 'steady' })),
    phases,
    steps,
    result,
    timeline: { bucketSeconds: plan.bucketSeconds, buckets: timeline },
    droppedIterations: m.dropped_iterations?.values?.count ?? 0,
  };
}

const cell = (v, suffix = '') => (v === null || v === undefined ? '–' : `${v}${suffix}`);
const pct = (v) => (v === null || v === undefined ? '–' : `${round(v * 100, 3)}%`);

function table(header, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** A Mermaid xychart (GitHub renders it) of query latency per bucket, with the SLO bound. */
function latencyChart(report) {
  const buckets = report.timeline.buckets;
  if (buckets.length === 0) return 'No requests were timed.';
  const latencyBound = report.slos.find((s) => s.key.startsWith('http_req_duration'))?.expression;
  const bound = latencyBound ? Number(/[\d.]+$/.exec(latencyBound)[0]) : null;
  const series = (name) => buckets.map((b) => b[name] ?? 0);
  const top = Math.max(...series('p99'), bound ?? 0) * 1.1 || 1;
  const lines = [
    '```mermaid',
    'xychart-beta',
    `  title "POST /v1/query latency (ms), ${report.timeline.bucketSeconds} s buckets"`,
    `  x-axis "seconds since start" [${buckets.map((b) => b.start).join(', ')}]`,
    `  y-axis "ms" 0 --> ${Math.ceil(top)}`,
    `  line [${series('p50').join(', ')}]`,
    `  line [${series('p95').join(', ')}]`,
    `  line [${series('p99').join(', ')}]`,
  ];
  if (bound !== null) lines.push(`  line [${buckets.map(() => bound).join(', ')}]`);
  lines.push('```');
  return lines.join('\n');
}

function throughputChart(report) {
  const buckets = report.timeline.buckets;
  if (buckets.length === 0) return '';
  const top = Math.max(...buckets.map((b) => b.throughput)) * 1.1 || 1;
  return [
    '```mermaid',
    'xychart-beta',
    `  title "Requests/s (all endpoints), ${report.timeline.bucketSeconds} s buckets"`,
    `  x-axis "seconds since start" [${buckets.map((b) => b.start).join(', ')}]`,
    `  y-axis "req/s" 0 --> ${Math.ceil(top)}`,
    `  bar [${buckets.map((b) => b.throughput).join(', ')}]`,
    '```',
  ].join('\n');
}

export function renderMarkdown(report) {
  const out = [];
  out.push(`# SLA report: ${report.profile}`, '');
  out.push(
    `Target ${report.target}, generated ${report.generatedAt}. The load ran ` +
      `${report.scenarioSeconds} s of ${report.plannedSeconds} s planned (k6 run ` +
      `${report.runSeconds} s with setup and teardown); ${report.steadySeconds} s of it steady: ` +
      'ramps, spikes and recovery are not judged.',
    '',
  );
  out.push(`**Verdict: ${report.verdict}**`);
  if (report.result) {
    out.push(
      '',
      `**Highest ${report.result.measure} that met the SLOs: ${cell(report.result.highestMet)}** ` +
        `(first level that broke them: ${cell(report.result.firstFailed)}).`,
      '',
      `Highest ${report.result.measure} that met the latency objective: ` +
        `${cell(report.result.highestMetLatency)} (first level that broke it: ` +
        `${cell(report.result.firstFailedLatency)}).`,
    );
  }
  out.push('', '## Settings', '');
  out.push(
    table(
      ['Setting', 'Value'],
      Object.entries(report.settings).map(([k, v]) => [k, `${v}`]),
    ),
  );

  out.push('', '## SLOs (steady state)', '');
  out.push(
    table(
      ['Threshold', 'Objective', 'Measured', 'Samples', 'Result'],
      report.slos.map((s) => [
        `\`${s.key}\``,
        `\`${s.expression}\``,
        cell(s.actual),
        s.samples,
        s.exercised ? (s.ok ? 'pass' : 'FAIL') : 'not exercised',
      ]),
    ),
  );
  out.push(
    '',
    `Checks: ${report.checks.passes} passed, ${report.checks.fails} failed ` +
      `(steady-state \`checks ${checksThreshold}\`: ${report.checks.steadyOk ? 'pass' : 'FAIL'}).`,
  );
  for (const [name, fails] of Object.entries(report.checks.failed)) {
    out.push(`- check failed ${fails} times: ${name}`);
  }

  out.push('', '## Endpoints (steady state)', '');
  out.push(
    table(
      ['Endpoint', 'Requests', 'Throughput req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'Error rate'],
      report.endpoints.map((e) => [
        e.endpoint,
        e.requests,
        cell(e.throughput),
        cell(e.p50),
        cell(e.p95),
        cell(e.p99),
        pct(e.errorRate),
      ]),
    ),
  );
  out.push(
    '',
    `Dropped iterations (load the generator could not start): ${report.droppedIterations}.`,
  );

  out.push('', '## Cache', '');
  out.push(
    `Query cache hit ratio (steady state, from each answer's \`cached\` field): ` +
      `${pct(report.cache.hitRatio)} (${report.cache.hits} of ${report.cache.queries} queries).`,
  );

  if (report.phases.length) {
    out.push('', '## Other phases (not judged)', '');
    out.push(
      table(
        ['Phase', 'Queries', 'p50 ms', 'p95 ms', 'p99 ms', 'Error rate'],
        report.phases.map((p) => [
          p.phase,
          p.requests,
          cell(p.p50),
          cell(p.p95),
          cell(p.p99),
          pct(p.errorRate),
        ]),
      ),
    );
  }

  if (report.steps.length) {
    const reached = report.steps.filter((s) => s.measured);
    const notReached = report.steps.length - reached.length;
    out.push('', '## Steps', '');
    out.push(
      table(
        [
          'Level',
          'Requests',
          'Throughput req/s',
          'Query p50 ms',
          'p95 ms',
          'p99 ms',
          'Cache hits',
          'SLOs met',
        ],
        reached.map((s) => [
          s.level,
          s.requests,
          cell(s.throughput),
          cell(s.p50),
          cell(s.p95),
          cell(s.p99),
          pct(s.cacheHitRatio),
          s.met ? 'yes' : s.latencyMet ? 'latency only' : 'no',
        ]),
      ),
    );
    if (notReached) out.push('', `${notReached} higher levels were not reached (the run stopped).`);
  }

  out.push('', '## Latency over time', '');
  out.push(
    'Lines, bottom to top: p50, p95, p99 of `POST /v1/query`; the flat line is the latency objective.',
    '',
  );
  out.push(latencyChart(report), '', throughputChart(report), '');
  out.push(
    table(
      [
        'Start s',
        'Requests',
        'req/s',
        'Query p50 ms',
        'p95 ms',
        'p99 ms',
        'Error rate',
        'Cache hits',
      ],
      report.timeline.buckets.map((b) => [
        b.start,
        b.requests,
        cell(b.throughput),
        cell(b.p50),
        cell(b.p95),
        cell(b.p99),
        pct(b.errorRate),
        pct(b.cacheHitRatio),
      ]),
    ),
  );
  return out.join('\n') + '\n';
}

/** The console lines: verdict, SLOs, endpoints, the answer of a search. */
export function renderText(report, paths) {
  const lines = ['', `profile ${report.profile}: ${report.verdict}`];
  for (const s of report.slos) {
    lines.push(
      `  ${s.exercised ? (s.ok ? 'ok  ' : 'FAIL') : 'n/a '} ${s.key} ${s.expression} (${cell(s.actual)}, ${s.samples} samples)`,
    );
  }
  for (const e of report.endpoints) {
    lines.push(
      `  ${e.endpoint}: ${e.requests} req, ${cell(e.throughput)}/s, p95 ${cell(e.p95)} ms, errors ${pct(e.errorRate)}`,
    );
  }
  lines.push(`  query cache hit ratio ${pct(report.cache.hitRatio)}`);
  if (report.result)
    lines.push(
      `  highest ${report.result.measure} that met the SLOs: ${cell(report.result.highestMet)}`,
    );
  for (const p of paths) lines.push(`  report: ${p}`);
  return lines.join('\n') + '\n';
}
