import { describe, expect, it } from 'vitest';
import { carriesRunMark } from '../../../orchestrator/netns/cleanup.js';

// Which command lines cleanup takes for a run's: the tag or the run folder as
// a whole word, never as a piece of another path or another run's tag.
describe('carriesRunMark', () => {
  const tag = '--pmiplab-run=ab';
  const dir = '/tmp/runs/ab';
  const m = (...argv: string[]) => carriesRunMark(argv, tag, dir);

  it('takes the tag as an argument or a word of a process title', () => {
    expect(m('node', 'main.js', '--run', 'ab', tag)).toBe(true);
    expect(m('sh', '-c', 'while :; do sleep 3600; done', tag)).toBe(true);
    expect(m(`redis-server /tmp/runs/ab/redis.sock ${tag} /tmp/runs/ab`)).toBe(true);
    expect(m(`x ${tag}`)).toBe(true);
  });

  it('takes the run folder or a path under it, also as an --opt= value', () => {
    expect(m('tcpdump', '-w', '/tmp/runs/ab/pcaps/x.pcap')).toBe(true);
    expect(m('tail', '/tmp/runs/ab')).toBe(true);
    expect(m('prog', '--log=/tmp/runs/ab/logs/x.log')).toBe(true);
  });

  it("leaves other runs' tags and paths that only contain the folder alone", () => {
    expect(m('sleep', '1', '--pmiplab-run=ab2')).toBe(false);
    expect(m('sleep', '1', 'x--pmiplab-run=ab')).toBe(false);
    expect(m('sh', '-c', 'sleep 1', '/x/tmp/runs/ab/unrelated')).toBe(false);
    expect(m('cat', '/tmp/runs/ab2/state.json')).toBe(false);
    expect(m('cat', '/tmp/runs/abc')).toBe(false);
    expect(m('vim', '/home/u/tmp/runs/ab')).toBe(false);
  });
});
