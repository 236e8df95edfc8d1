import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { TopologyFile } from './schema.js';

// topologies/topology.schema.json is generated from the zod schema, never
// edited by hand; a unit test fails when the committed copy is stale.

export const SCHEMA_FILE = 'topologies/topology.schema.json';

/** The JSON Schema of a topology file as a user writes it (defaults make fields optional). */
export function topologyJsonSchema(): Record<string, unknown> {
  // draft-7: the draft yaml-language-server (VS Code YAML) understands best
  const schema = z.toJSONSchema(TopologyFile, { io: 'input', target: 'draft-7' });
  return { ...schema, title: 'pmiplab topology' };
}

/** The exact text of the committed file. */
export const topologyJsonSchemaText = () => `${JSON.stringify(topologyJsonSchema(), null, 2)}\n`;

export function writeTopologyJsonSchema(file = SCHEMA_FILE): string {
  writeFileSync(file, topologyJsonSchemaText());
  return file;
}
