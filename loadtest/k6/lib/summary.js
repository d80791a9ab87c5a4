// End-of-test output: a short text report on stdout and, when SUMMARY_PATH is set, the full
// summary as JSON (what CI archives and what tooling parses). No remote jslib: k6 here runs offline.

function formatValue(name, values) {
  if (values.rate !== undefined && values.passes !== undefined) {
    return `rate=${(values.rate * 100).toFixed(3)}% (${values.passes} of ${values.passes + values.fails} true)`;
  }
  if (values['p(99)'] !== undefined) {
    const ms = (v) => `${v.toFixed(2)}ms`;
    return `p50=${ms(values.med)} p95=${ms(values['p(95)'])} p99=${ms(values['p(99)'])} count=${values.count ?? '?'}`;
  }
  if (values.count !== undefined) return `count=${values.count} rate=${values.rate?.toFixed(1)}/s`;
  return JSON.stringify(values);
}

export function textSummary(data) {
  const lines = ['', 'thresholds:'];
  let failed = 0;
  for (const [name, metric] of Object.entries(data.metrics)) {
    for (const [expression, result] of Object.entries(metric.thresholds ?? {})) {
      if (!result.ok) failed++;
      lines.push(
        `  ${result.ok ? 'ok  ' : 'FAIL'} ${name} ${expression}  ${formatValue(name, metric.values)}`,
      );
    }
  }
  for (const name of ['http_reqs', 'http_req_duration', 'http_req_failed', 'dropped_iterations']) {
    const metric = data.metrics[name];
    if (metric) lines.push(`${name}: ${formatValue(name, metric.values)}`);
  }
  for (const c of Object.values(data.root_group?.checks ?? {})) {
    if (c.fails > 0)
      lines.push(`check failed ${c.fails} of ${c.passes + c.fails} times: ${c.name}`);
  }
  lines.push(failed ? `${failed} threshold(s) failed` : 'all thresholds passed', '');
  return lines.join('\n');
}

export function summaryOutputs(data) {
  const outputs = { stdout: textSummary(data) };
  if (__ENV.SUMMARY_PATH) outputs[__ENV.SUMMARY_PATH] = JSON.stringify(data, null, 2);
  return outputs;
}
