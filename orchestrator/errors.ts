// The error type lives in the contract (nodes/contract/errors.ts): nodes throw it too.
export * from '../nodes/contract/errors.js';
