// The plan contract lives in nodes/contract/plan.ts (nodes read it too); the orchestrator imports it from there.
export * from '../../nodes/contract/plan.js';
