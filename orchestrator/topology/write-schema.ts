import { writeTopologyJsonSchema } from './jsonschema.js';

// Regenerate the editor schema, from the repository root:
//   npx tsc -p tsconfig.json && node dist/orchestrator/topology/write-schema.js [out.json]
const out = writeTopologyJsonSchema(process.argv[2]);
process.stdout.write(`wrote ${out}\n`);
