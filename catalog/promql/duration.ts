// Prometheus durations as the catalog spells them ('5m', '6h', '3d'): the SLO windows and the
// alert rules' `for:` compare and schedule by them.

/** A Prometheus duration of one unit (s, m, h, d) in minutes. */
export function minutes(duration: string): number {
  const m = /^(\d+)([smhd])$/.exec(duration);
  if (!m) throw new Error(`unsupported duration ${duration}`);
  const n = Number(m[1]);
  return { s: n / 60, m: n, h: n * 60, d: n * 1440 }[m[2] as 's' | 'm' | 'h' | 'd'];
}
