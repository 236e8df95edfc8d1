import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILE, topologyJsonSchemaText } from '../../../orchestrator/topology/jsonschema.js';

describe('topology JSON Schema', () => {
  it('is up to date with the zod schema', () => {
    // If this fails: npx tsc -p tsconfig.json && node dist/orchestrator/topology/write-schema.js
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(topologyJsonSchemaText());
  });

  it('describes nodes by kind and refuses unknown fields', () => {
    const schema = JSON.parse(topologyJsonSchemaText()) as { additionalProperties?: boolean; properties: Record<string, unknown> };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['name', 'topology', 'pools', 'scenario']));
    const text = topologyJsonSchemaText();
    for (const kind of ['lma', 'mag', 'mn', 'cn', 'move', 'traffic-start']) expect(text).toContain(`"const": "${kind}"`);
  });

  it.each(['topologies/handover-basic.yaml', 'topologies/sample-domain.yaml'])('%s points editors at the schema', (file) => {
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./topology.schema.json');
  });
});
