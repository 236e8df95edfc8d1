import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../nodes/runtime/bus.js';
import { startRedis, type RedisHandle } from '../../orchestrator/redis/server.js';
import { runPaths } from '../../orchestrator/run/paths.js';
import { isRoot, whichTool } from '../../orchestrator/system/tools.js';

// The bus speaks Redis through a small RESP client of our own (ioredis costs
// 18 MB per node process). ioredis, the well-kept client, is the referee here:
// what our client writes it reads, and what it writes our client reads,
// including a malformed entry, which the bus must count and skip.
const ok = isRoot() && whichTool('redis-server') !== null;
if (!ok) console.warn('bus-ioredis test skipped: needs root and redis-server');

describe.skipIf(!ok)('bus against ioredis', () => {
  let dir = '';
  let redis: RedisHandle;
  let io: Redis;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pmiplab-bus-'));
    redis = await startRedis(runPaths('tbio', dir), { redisUrl: '' });
    io = new Redis({ path: redis.socketPath! });
  });
  afterAll(async () => {
    io.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('events our client writes read back through ioredis, field for field', async () => {
    const bus = await Bus.connect(redis.url, 'tbio', 'mag1');
    const data = { text: 'é ✓ "quoted"\r\n', n: [1, 2.5, -3], deep: { x: null } };
    await bus.emit('bound', data, 'cmd-7');
    await bus.close();
    const rows = await io.xrange('pmiplab:tbio:events', '-', '+');
    expect(rows).toHaveLength(1);
    const [, fields] = rows[0]!;
    const rec = Object.fromEntries(fields.reduce<string[][]>((acc, v, i) => (i % 2 ? acc : [...acc, [v, fields[i + 1]!]]), []));
    expect(rec.node).toBe('mag1');
    expect(rec.type).toBe('bound');
    expect(rec.replyTo).toBe('cmd-7');
    expect(JSON.parse(rec.data!)).toEqual(data);
    expect(BigInt(rec.tNs!)).toBeGreaterThan(0n);
  });

  it('commands ioredis writes reach our command reader; a malformed one is counted and skipped', async () => {
    const bus = await Bus.connect(redis.url, 'tbio', 'lma1');
    const got: Array<{ type: string; args: unknown }> = [];
    const reader = await bus.readCommands('lma1', async (cmd) => {
      got.push({ type: cmd.type, args: cmd.args });
    });
    await io.xadd('pmiplab:tbio:cmd:lma1', '*', 'type', 'no-id-field'); // malformed: no id
    await io.xadd('pmiplab:tbio:cmd:lma1', '*', 'id', 'c1', 'type', 'ping', 'args', JSON.stringify({ big: 'x'.repeat(100_000) }));
    for (let i = 0; i < 100 && got.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
    await reader.stop();
    await bus.close();
    expect(got).toEqual([{ type: 'ping', args: { big: 'x'.repeat(100_000) } }]);
    expect(bus.stats.malformed).toBe(1);
  });
});
