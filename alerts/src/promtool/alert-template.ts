// Renders the subset of Prometheus's alert templating that our annotations use, so promtool tests
// can state the exact annotation text they expect. Anything outside the subset throws: a new
// template construct must be taught here (and is then covered by promtool) rather than slip by.

function goFloatG4(x: number): string {
  // Go's %.4g: 4 significant digits, trailing zeros trimmed, exponent form outside [1e-4, 1e4).
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf';
  const [mantissa, expPart] = x.toExponential(3).split('e');
  const exp = Number(expPart);
  const trim = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 4) {
    const sign = exp < 0 ? '-' : '+';
    return `${trim(mantissa)}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return trim(x.toFixed(Math.max(0, 3 - exp)));
}

function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return goFloatG4(v);
  const up = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
  const down = ['', 'm', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];
  let i = 0;
  if (Math.abs(v) >= 1) {
    while (Math.abs(v) >= 1000 && i < up.length - 1) {
      v /= 1000;
      i++;
    }
    return goFloatG4(v) + up[i];
  }
  while (Math.abs(v) < 1 && i < down.length - 1) {
    v *= 1000;
    i++;
  }
  return goFloatG4(v) + down[i];
}

function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return goFloatG4(v);
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : '';
    const s = Math.abs(v);
    const days = Math.floor(s / 86400);
    const hours = Math.floor(s / 3600) % 24;
    const mins = Math.floor(s / 60) % 60;
    const secs = Math.floor(s) % 60;
    if (days) return `${sign}${days}d ${hours}h ${mins}m ${secs}s`;
    if (hours) return `${sign}${hours}h ${mins}m ${secs}s`;
    if (mins) return `${sign}${mins}m ${secs}s`;
    return `${sign}${goFloatG4(s)}s`;
  }
  if (v === 0) return '0s';
  return humanize(v) + 's';
}

const filters: Record<string, (v: number) => string> = {
  humanize,
  humanizeDuration,
  humanizePercentage: (v) => `${goFloatG4(v * 100)}%`,
};

/** Expands `{{ $labels.x }}`, `{{ $value }}` and `{{ $value | <filter> }}`. */
export function renderAlertTemplate(
  template: string,
  labels: Readonly<Record<string, string>>,
  value: number,
): string {
  return template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_m, body: string) => {
    const label = /^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(body);
    if (label) {
      const v = labels[label[1]];
      if (v === undefined) throw new Error(`template uses label ${label[1]} the alert lacks`);
      return v;
    }
    const val = /^\$value(?:\s*\|\s*(\w+))?$/.exec(body);
    if (val) {
      if (!val[1]) return String(value);
      const f = filters[val[1]];
      if (!f) throw new Error(`unsupported template filter ${val[1]}`);
      return f(value);
    }
    throw new Error(`unsupported template expression {{ ${body} }}`);
  });
}
