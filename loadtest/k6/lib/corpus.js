// Deterministic runbook-like documents and on-call questions, so every run sends comparable load
// (same sizes, same chunk counts) and questions always find passages to cite.

const topics = [
  ['postgres', 'replica', 'lag', 'wal', 'failover', 'primary'],
  ['redis', 'cache', 'eviction', 'memory', 'hit', 'ratio'],
  ['queue', 'ingestion', 'worker', 'dead', 'letter', 'retry'],
  ['latency', 'query', 'timeout', 'budget', 'burn', 'slo'],
  ['disk', 'volume', 'pressure', 'node', 'pod', 'restart'],
  ['certificate', 'expiry', 'ingress', 'tls', 'renewal', 'dns'],
];
const glue = 'check the then when if is on and of to before after during'.split(' ');

/** A small seeded generator (mulberry32): the same seed gives the same text in every run. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sentence(next, words) {
  const length = 10 + Math.floor(next() * 8);
  const out = [];
  for (let i = 0; i < length; i++) {
    const pool = next() < 0.6 ? words : glue;
    out.push(pool[Math.floor(next() * pool.length)]);
  }
  out[0] = out[0][0].toUpperCase() + out[0].slice(1);
  return `${out.join(' ')}.`;
}

/** Runbook number `n`: markdown with `sections` sections of about 600 characters each. */
export function runbook(n, sections = 3) {
  const next = random(n + 1);
  const words = topics[n % topics.length];
  const parts = [`# Runbook ${n}: ${words[0]} ${words[1]}`];
  for (let s = 0; s < sections; s++) {
    parts.push(`## ${words[(s + 2) % words.length]} step ${s + 1}`);
    const paragraph = [];
    while (paragraph.join(' ').length < 560) paragraph.push(sentence(next, words));
    parts.push(paragraph.join(' '));
  }
  return {
    source: `loadtest/runbook-${n}.md`,
    title: `Runbook ${n}`,
    mediaType: 'text/markdown',
    content: parts.join('\n\n'),
    metadata: { topic: words[0] },
  };
}

/** Runbooks 0…k-1 cover the first min(k, topicCount) topics: ask only about those. */
export const topicCount = topics.length;

/**
 * One of a fixed set of questions (4 per topic): repeating them exercises the query cache. Asked
 * about the first `covered` topics only, so that every question finds passages to cite.
 */
export function commonQuestion(n, covered = topicCount) {
  const words = topics[n % covered];
  return `what to do when ${words[0]} ${words[(Math.floor(n / covered) % 4) + 1]} alerts fire`;
}

/** A question no one asked before: it misses the cache and runs embed → search → answer. */
export function uniqueQuestion(n, salt, covered = topicCount) {
  const words = topics[n % covered];
  return `how do I fix ${words[n % words.length]} ${words[(n + 3) % words.length]} issue ${salt}-${n}`;
}
