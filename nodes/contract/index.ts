// The contract between the orchestrator and the nodes, in one place both
// import (nodes never import orchestrator/): the plan a node reads
// (runs/<id>/topology.json), the role options in it, the bus commands a node
// answers and the events it emits, and the error type both throw.
export * from './commands.js';
export * from './errors.js';
export * from './ids.js';
export * from './plan.js';
export * from '../runtime/events.js';
export { LmaMagSchema, LmaOptionsSchema, type LmaOptions } from '../lma/config.js';
export { MagOptions } from '../mag/config.js';
