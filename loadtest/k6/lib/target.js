// Where the load goes and how to authenticate, from `k6 run --env NAME=value`.

// BASE_URL may list several instances of one deployment, comma-separated (what `npm run load --
// … INSTANCES=2` starts, with no load balancer in front): each virtual user sends to one of them,
// in turn by VU number, as a Kubernetes Service spreads connections over pods.
export const baseUrls = (__ENV.BASE_URL || 'http://127.0.0.1:8080')
  .split(',')
  .map((url) => url.trim().replace(/\/+$/, ''))
  .filter(Boolean);
// __VU is 0 in setup and teardown, 1… in each virtual user (its init code included).
export const baseUrl = baseUrls[(__VU || 0) % baseUrls.length];

/** Headers sent with every request: a bearer token when the deployment requires one. */
export function defaultHeaders() {
  const headers = { 'content-type': 'application/json' };
  if (__ENV.API_TOKEN) headers.authorization = `Bearer ${__ENV.API_TOKEN}`;
  return headers;
}

/** A positive number from the environment, or the default when unset. */
export function envNumber(name, fallback) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

/** A k6 duration ('30s', '2m') from the environment, or the default when unset. */
export function envDuration(name, fallback) {
  const raw = __ENV[name] || fallback;
  if (!/^\d+(ms|s|m|h)$/.test(raw)) throw new Error(`${name} must be a duration like 30s or 2m`);
  return raw;
}

/** Collection ids must start with a letter and stay lowercase (see the API's schema). */
export function uniqueCollectionId(prefix) {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  return `${prefix}-${suffix}`;
}
