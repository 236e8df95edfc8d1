import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../nodes/protocol/index.js';
import { vectorFileText, type VectorFile } from '../fixtures/mh/generate.js';

// vectors.json must match what the codec produces today; regenerate it with
// UPDATE_MH_VECTORS=1 when the codec or the definitions change on purpose.
const FILE = fileURLToPath(new URL('../fixtures/mh/vectors.json', import.meta.url));

describe('test/fixtures/mh/vectors.json', () => {
  it('is current', () => {
    const want = vectorFileText();
    if (process.env.UPDATE_MH_VECTORS === '1' || !existsSync(FILE)) writeFileSync(FILE, want);
    expect(readFileSync(FILE, 'utf8'), 'stale: run UPDATE_MH_VECTORS=1 npx vitest run test/unit/cli-mh-vectors.test.ts').toBe(want);
  });

  it('covers every message kind and decodes to the stored JSON', () => {
    const f = JSON.parse(readFileSync(FILE, 'utf8')) as VectorFile;
    const kinds = new Set(f.vectors.map((v) => v.kind));
    for (const k of ['pbu', 'pba', 'bindingError', 'heartbeat', 'handoverInitiate', 'handoverAck', 'updateNotification', 'updateNotificationAck', 'shi', 'shia']) {
      expect(kinds, k).toContain(k);
    }
    for (const v of f.vectors) {
      const d = decodeMessage(Uint8Array.from(Buffer.from(v.hex, 'hex')));
      expect(d.ok, v.name).toBe(true);
      if (d.ok) expect(JSON.parse(JSON.stringify(d.value)), v.name).toEqual(v.message);
    }
  });
});
