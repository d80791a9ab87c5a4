// Encodes per-minute sample values in promtool's expanding notation ('a+bxn'), compressing runs
// of equal steps so a three-day series stays a few tokens long.

export function expandingNotation(values: readonly number[]): string {
  const tokens: string[] = [];
  let i = 0;
  while (i < values.length) {
    if (i === values.length - 1) {
      tokens.push(String(values[i]));
      break;
    }
    const step = values[i + 1] - values[i];
    let j = i + 1;
    while (j + 1 < values.length && values[j + 1] - values[j] === step) j++;
    const n = j - i;
    tokens.push(step >= 0 ? `${values[i]}+${step}x${n}` : `${values[i]}${step}x${n}`);
    i = j + 1;
  }
  return tokens.join(' ');
}

/** Cumulative counter values at minutes 0..n from per-minute increments (minute 1..n). */
export function cumulative(increments: readonly number[]): number[] {
  const out = [0];
  for (const inc of increments) out.push(out[out.length - 1] + inc);
  return out;
}

/** A gauge holding `value` for the given number of minutes, per phase. */
export function phases(...parts: readonly (readonly [value: number, minutes: number])[]): number[] {
  return parts.flatMap(([value, mins]) => Array.from({ length: mins }, () => value));
}
