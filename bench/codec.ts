// Codec benchmark: encodes/s and decodes/s of a typical PBU (MN-ID, HNP, HI,
// ATT, Timestamp) and PBA, median of 7 runs, next to a bare
// `Buffer.alloc + copy` loop of the same size as the physical floor.
// Goal: >= 500,000 ops/s each and within 5x of the floor.
// Run: npm run bench:codec   (writes bench/results/codec.json)

import { decodeMessage, encodeMessage } from '../nodes/protocol/index.js';
import type { Message } from '../nodes/protocol/index.js';
import { median, writeResults } from './stats.js';

const RUNS = 7;
const OPS = 200_000;

// What a PBU carries for one interface (RFC 5213), echoed in the PBA.
const typicalOptions: Message['options'] = [
  { kind: 'mnId', nai: 'mn1@pmiplab.example' },
  { kind: 'hnp', prefix: '2001:db8:1:2::', prefixLength: 64 },
  { kind: 'handoffIndicator', value: 1 },
  { kind: 'accessTechnologyType', value: 4 },
  { kind: 'timestamp', seconds: 3_960_000_000, fraction: 1234 },
];

const pbu: Message = {
  kind: 'pbu',
  sequence: 4711,
  flags: { A: true, H: true, L: false, K: false, M: false, R: false, P: true },
  lifetime: 900,
  options: typicalOptions,
};
const pba: Message = {
  kind: 'pba',
  status: 0,
  flags: { K: false, R: false, P: true },
  sequence: 4711,
  lifetime: 900,
  options: typicalOptions,
};

let sink = 0; // keeps results alive so the JIT cannot drop the work

function opsPerSecond(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0);
  return OPS / (ns / 1e9);
}

interface Case {
  name: string;
  bytes: number;
  fn: () => void;
  runs: number[];
}

const cases: Case[] = [];
for (const [label, msg] of [
  ['PBU', pbu],
  ['PBA', pba],
] as const) {
  const wire = encodeMessage(msg);
  const src = Buffer.from(wire);
  const add = (op: string, fn: () => void) => cases.push({ name: `${label} ${op}`, bytes: wire.length, fn, runs: [] });
  add('encode', () => {
    sink += encodeMessage(msg).length;
  });
  add('decode', () => {
    const d = decodeMessage(wire);
    sink += d.ok ? d.value.options.length : 0;
  });
  add('floor (alloc+copy)', () => {
    const b = Buffer.alloc(src.length);
    src.copy(b);
    sink += b[0]!;
  });
}

// Side by side: every round measures every case once, so a slow moment of
// this shared machine hits all cases alike; medians over the rounds.
for (const c of cases) for (let i = 0; i < 20_000; i++) c.fn(); // warm-up
for (let k = 0; k < RUNS; k++) for (const c of cases) c.runs.push(opsPerSecond(c.fn));

interface Row {
  name: string;
  bytes: number;
  median: number;
  min: number;
  max: number;
  floor: number;
  ratio: number;
}

const rows: Row[] = cases.map((c) => {
  const floorCase = cases.find((f) => f.name === `${c.name.split(' ')[0]} floor (alloc+copy)`)!;
  const m = median(c.runs);
  const floor = median(floorCase.runs);
  return { name: c.name, bytes: c.bytes, median: m, min: Math.min(...c.runs), max: Math.max(...c.runs), floor, ratio: floor / m };
});

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`codec benchmark: ${RUNS} runs x ${OPS.toLocaleString('en-US')} ops, node ${process.version}`);
console.log(['case'.padEnd(26), 'bytes', 'median ops/s'.padStart(14), 'min'.padStart(12), 'max'.padStart(12), 'x floor'.padStart(8)].join(' '));
for (const r of rows) {
  console.log(
    [r.name.padEnd(26), String(r.bytes).padStart(5), fmt(r.median).padStart(14), fmt(r.min).padStart(12), fmt(r.max).padStart(12), r.ratio.toFixed(2).padStart(8)].join(' '),
  );
}
const goals = rows.filter((r) => !r.name.includes('floor')).map((r) => ({ name: r.name, meets: r.median >= 500_000 && r.ratio <= 5 }));
for (const g of goals) if (!g.meets) console.log(`goal missed: ${g.name} (>= 500,000 ops/s and <= 5x floor)`);

const out = writeResults('codec', { date: new Date().toISOString(), node: process.version, runs: RUNS, opsPerRun: OPS, rows, goals });
console.log(`wrote ${out} (sink ${sink > 0 ? 'ok' : 'empty'})`);
