import { afterEach, expect, test } from 'vitest';
import { configureNumbers, decodeMessage, encodeMessage, MH, OPT, tbdNumbers } from '../../../nodes/protocol/index.js';
import type { Message } from '../../../nodes/protocol/index.js';

afterEach(() => configureNumbers({}));

const shi: Message = {
  kind: 'shi',
  sequence: 1,
  flags: { A: true },
  lifetime: 30,
  options: [{ kind: 'mnId', nai: 'a@b' }, { kind: 'multihoming', mhgid: 0, act: 1 }],
};

test('tbdNumbers lists every TBD value with a reason', () => {
  expect(tbdNumbers.map((t) => [t.name, t.value()])).toEqual([
    ['mh.shi', 100],
    ['mh.shia', 101],
    ['opt.multihoming', 100],
    ['opt.primaryHoa', 101],
    ['status.MH_NOT_SUPPORTED_BY_LMA', 200],
    ['status.MH_FILTERS_REINSTANCIATION_NOT_SUPPORTED_BY_LMA', 201],
  ]);
  for (const t of tbdNumbers) expect(t.why.length).toBeGreaterThan(10);
});

test('configureNumbers remaps TBD numbers and the registry follows', () => {
  const before = encodeMessage(shi);
  expect(before[2]).toBe(100);
  configureNumbers({ 'mh.shi': 42, 'opt.multihoming': 77 });
  expect(MH.shi).toBe(42);
  expect(OPT.multihoming).toBe(77);
  const after = encodeMessage(shi);
  expect(after[2]).toBe(42);
  expect(after.includes(77)).toBe(true);
  const d = decodeMessage(after);
  expect(d.ok && d.value.options.filter((o) => o.kind !== 'padN' && o.kind !== 'pad1')).toEqual(shi.options);
  // the old number is no longer SHI
  const dOld = decodeMessage(before);
  expect(!dOld.ok && dOld.error.code).toBe('unknown-type');
  configureNumbers({});
  expect(MH.shi).toBe(100);
});

test('configureNumbers refuses bad or colliding overrides', () => {
  expect(() => configureNumbers({ 'mh.shi': 6 })).toThrow(/used twice/);
  expect(() => configureNumbers({ 'opt.primaryHoa': 22 })).toThrow(/used twice/);
  expect(() => configureNumbers({ 'mh.shi': 300 })).toThrow(/mh.shi/);
  expect(() => configureNumbers({ 'status.MH_NOT_SUPPORTED_BY_LMA': 5 })).toThrow(/status/);
  expect(() => configureNumbers({ nope: 1 })).toThrow(/invalid overrides/);
  expect(MH.shi).toBe(100);
});
