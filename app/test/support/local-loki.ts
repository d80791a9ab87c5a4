import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './service-process';
import { eventually } from './test-service';

/** Loki from PATH (scripts/test.sh puts Go's bin there) or where scripts/tools/loki.sh builds it. */
export function lokiBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'loki'))) return path.join(dir, 'loki');
  }
  const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
  const installed = path.join(gopath, 'bin', 'loki');
  if (!existsSync(installed)) throw new Error('loki is not installed: run scripts/tools/loki.sh');
  return installed;
}

export interface PushedLine {
  line: string;
  /** Structured metadata, as the collector attaches it (trace_id). */
  metadata?: Record<string, string>;
}

/**
 * A real single-binary Loki on loopback ports with filesystem storage in a temporary directory:
 * the log store the platform deploys, for tests that push lines and query them back with LogQL.
 */
export class LocalLoki {
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  private output = '';
  url = '';

  async start(): Promise<this> {
    this.dir = mkdtempSync(path.join(tmpdir(), 'loki-'));
    const [http, grpc] = [await freePort(), await freePort()];
    const config = path.join(this.dir, 'loki.yaml');
    writeFileSync(
      config,
      `auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: ${http}
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: ${grpc}
  log_level: warn
common:
  path_prefix: ${this.dir}
  replication_factor: 1
  instance_addr: 127.0.0.1
  ring:
    kvstore:
      store: inmemory
  storage:
    filesystem:
      chunks_directory: ${this.dir}/chunks
      rules_directory: ${this.dir}/rules
schema_config:
  configs:
    - from: 2026-01-01
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h
ingester:
  lifecycler:
    min_ready_duration: 0s
limits_config:
  allow_structured_metadata: true
analytics:
  reporting_enabled: false
`,
    );
    this.child = spawn(lokiBinary(), [`-config.file=${config}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d) => (this.output += d));
    this.child.stderr?.on('data', (d) => (this.output += d));
    this.url = `http://127.0.0.1:${http}`;
    await eventually(
      async () => {
        if (this.child?.exitCode !== null) throw new Error(`loki exited:\n${this.output}`);
        return (await fetch(`${this.url}/ready`)).status === 200;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'loki ready' },
    );
    return this;
  }

  /** The push API, one stream; timestamps in nanoseconds as Loki wants them. */
  async push(labels: Record<string, string>, lines: PushedLine[]): Promise<void> {
    const now = BigInt(Date.now()) * 1_000_000n;
    const values = lines.map((l, i) => [
      String(now + BigInt(i)),
      l.line,
      ...(l.metadata ? [l.metadata] : []),
    ]);
    const res = await fetch(`${this.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: labels, values }] }),
    });
    if (res.status !== 204) throw new Error(`push answered ${res.status}: ${await res.text()}`);
  }

  /** `query_range` over the last hour: every matching line, oldest first. */
  async query(logql: string): Promise<string[]> {
    const end = BigInt(Date.now() + 60_000) * 1_000_000n;
    const start = end - 3_600_000_000_000n;
    const params = new URLSearchParams({
      query: logql,
      start: String(start),
      end: String(end),
      limit: '1000',
      direction: 'forward',
    });
    const res = await fetch(`${this.url}/loki/api/v1/query_range?${params}`);
    const body = (await res.json()) as {
      status: string;
      data?: { result: { values: [string, string][] }[] };
      error?: string;
    };
    if (res.status !== 200)
      throw new Error(`query answered ${res.status}: ${JSON.stringify(body)}`);
    return body.data!.result.flatMap((s) => s.values.map(([, line]) => line));
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((r) => this.child!.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
