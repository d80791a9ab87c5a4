import { createClient } from 'redis';

// CPU spent per request, by process: the bench's own process (the service and the bare Express
// server run in it, one scenario at a time) and the Redis server (its INFO cpu counters). Unlike
// throughput, CPU per request barely moves when other work shares the machine, so it tells two
// runs of a loaded machine apart where req/s cannot.

export interface CpuSample {
  /** This process, user + system, in µs. */
  readonly processUs: number;
  /** The Redis server, user + system, in µs (undefined when INFO could not be read). */
  readonly redisUs?: number;
}

export interface CpuPerRequest {
  readonly processUsPerRequest: number;
  readonly redisUsPerRequest?: number;
  /** k6 itself, when measured: it shares the machine with what it measures. */
  readonly loadGeneratorUsPerRequest?: number;
}

export class CpuAccounting {
  private constructor(private readonly redis?: ReturnType<typeof createClient>) {}

  static async open(redisUrl?: string): Promise<CpuAccounting> {
    if (!redisUrl) return new CpuAccounting();
    const client = createClient({ url: redisUrl });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return new CpuAccounting(client);
    } catch {
      return new CpuAccounting();
    }
  }

  async sample(): Promise<CpuSample> {
    const { user, system } = process.cpuUsage();
    return { processUs: user + system, redisUs: await this.redisCpuUs() };
  }

  static perRequest(before: CpuSample, after: CpuSample, requests: number): CpuPerRequest {
    const per = (us: number) => Math.round((us / Math.max(requests, 1)) * 10) / 10;
    return {
      processUsPerRequest: per(after.processUs - before.processUs),
      redisUsPerRequest:
        before.redisUs !== undefined && after.redisUs !== undefined
          ? per(after.redisUs - before.redisUs)
          : undefined,
    };
  }

  async close(): Promise<void> {
    await this.redis?.close().catch(() => undefined);
  }

  private async redisCpuUs(): Promise<number | undefined> {
    if (!this.redis) return undefined;
    try {
      const info = await this.redis.info('cpu');
      const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
      const seconds = field('used_cpu_user') + field('used_cpu_sys');
      return Number.isFinite(seconds) ? Math.round(seconds * 1e6) : undefined;
    } catch {
      return undefined;
    }
  }
}
