import { describe, expect, it } from 'vitest';
import { parseNodeArgs } from '../../../nodes/runtime/args.js';
import { parseRedisUrl } from '../../../nodes/runtime/redis-url.js';
import { chooseSocketPath } from '../../../orchestrator/redis/server.js';
import { runPaths } from '../../../orchestrator/run/paths.js';

const good = ['--run', 'ab12', '--node', 'mag1', '--kind', 'mag', '--redis', 'unix:///tmp/r.sock',
  '--plan', '/tmp/p.json', '--log', '/tmp/mag1.log', '--pmiplab-run=ab12'];

describe('node arguments', () => {
  it('accepts a full command line', () => {
    const r = parseNodeArgs(good);
    expect(r.ok && r.args).toMatchObject({ run: 'ab12', node: 'mag1', kind: 'mag', 'pmiplab-run': 'ab12' });
  });

  it('refuses a tag that differs from --run', () => {
    const r = parseNodeArgs(good.map((a) => (a === '--pmiplab-run=ab12' ? '--pmiplab-run=zz' : a)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('--pmiplab-run');
  });

  it.each([
    [['--node', 'x'], '--run'],
    [[...good, '--bogus', '1'], 'bogus'],
    [[...good, 'positional'], 'positional'],
    [good.map((a) => (a === 'mag' ? 'router' : a)), '--kind'],
    [good.map((a) => (a === 'ab12' ? 'AB_12' : a)), '--run'],
    [good.map((a) => (a.startsWith('unix:') ? 'tcp://x' : a)), '--redis'],
  ])('refuses %j naming the bad flag', (argv, flag) => {
    const r = parseNodeArgs(argv);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(flag);
  });
});

describe('redis urls and socket paths', () => {
  it('parses unix and tcp forms', () => {
    expect(parseRedisUrl('unix:///run/x.sock')).toEqual({ path: '/run/x.sock' });
    expect(parseRedisUrl('/run/x.sock')).toEqual({ path: '/run/x.sock' });
    expect(parseRedisUrl('redis://:pw@h:6380/2')).toEqual({ url: 'redis://:pw@h:6380/2' });
    expect(() => parseRedisUrl('unix://rel.sock')).toThrow(/absolute/);
    expect(() => parseRedisUrl('http://x')).toThrow(/expected/);
  });

  it('falls back to /run/pmiplab when runs/<id>/redis.sock exceeds sun_path', () => {
    expect(chooseSocketPath(runPaths('ab12', '/tmp/runs'))).toEqual({ socket: '/tmp/runs/ab12/redis.sock', fallback: false });
    const deep = `/tmp/${'d'.repeat(120)}`;
    expect(chooseSocketPath(runPaths('ab12', deep))).toEqual({ socket: '/run/pmiplab/redis-ab12.sock', fallback: true });
  });
});
