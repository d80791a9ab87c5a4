import { randomUUID } from 'node:crypto';
import { drillAuthHeaders } from '../stack/drill-credential';

// Client traffic during a drill: burn-rate alerts measure the share of bad requests, so they need
// requests to judge. Requests go out on a fixed cadence without waiting for each other, as
// independent clients would (a slowed route does not slow the arrival rate).

export interface Traffic {
  readonly collection: string;
  /** Changes the rates; 0 stops that kind. */
  set(rates: {
    queriesPerSecond?: number;
    ingestsPerSecond?: number;
    uniqueQueries?: boolean;
  }): void;
  stop(): Promise<void>;
}

const questions = [
  'How do I promote the Postgres replica?',
  'What does Redis cache?',
  'How are dead letters replayed?',
];

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...drillAuthHeaders() },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
}

export async function startTraffic(serviceUrl: string): Promise<Traffic> {
  const collection = `drill-${randomUUID().slice(0, 8)}`;
  const created = await post(`${serviceUrl}/v1/collections`, { id: collection });
  if (created.status !== 201) throw new Error(`creating ${collection}: ${created.status}`);
  for (const [i, content] of [
    'To promote the Postgres replica, run pg_ctl promote on the standby and repoint DATABASE_URL.',
    'Redis caches answers and embeddings; when it is down every query embeds again.',
    'Dead-lettered ingestion jobs are replayed through the retry route once the cause is fixed.',
  ].entries()) {
    await post(`${serviceUrl}/v1/collections/${collection}/documents`, {
      source: `seed-${i}.md`,
      content,
    });
  }

  let rates = { queriesPerSecond: 0, ingestsPerSecond: 0, uniqueQueries: false };
  const inFlight = new Set<Promise<unknown>>();
  const fire = (request: () => Promise<Response>) => {
    const p = request()
      .then((r) => r.arrayBuffer())
      .catch(() => undefined)
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  let n = 0;
  const tick = 100;
  let owedQueries = 0;
  let owedIngests = 0;
  const timer = setInterval(() => {
    owedQueries += (rates.queriesPerSecond * tick) / 1000;
    owedIngests += (rates.ingestsPerSecond * tick) / 1000;
    for (; owedQueries >= 1; owedQueries--) {
      const i = n++;
      const query = rates.uniqueQueries ? `${questions[i % 3]} (${i})` : questions[i % 3];
      fire(() => post(`${serviceUrl}/v1/query`, { collection, query, topK: 2 }));
    }
    for (; owedIngests >= 1; owedIngests--) {
      const i = n++;
      fire(() =>
        post(`${serviceUrl}/v1/collections/${collection}/documents`, {
          source: `traffic-${i}.md`,
          content: `Traffic document ${i}: ${randomUUID()}.`,
        }),
      );
    }
  }, tick);
  return {
    collection,
    set(next) {
      rates = { ...rates, ...next };
    },
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}
