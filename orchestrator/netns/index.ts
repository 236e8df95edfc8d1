// The namespace builder's public surface (the lab and the CLI import from here).
export { buildNetwork, teardownNetwork, planNamespaces, listNetns, type BuildOptions } from './build.js';
export { netemAvailable } from './netem.js';
export { planScript, checkPlanAgainstKernel, type BuildScript, type NsJob } from './script.js';
export { IpShell, type IpResult } from '../../nodes/runtime/ip-shell.js';
export { LinkController, LinkSnapshot, type L2Event, type Attachment, type MoveRequest } from './links.js';
export { CarrierWatch } from './carrier.js';
export {
  recordRun,
  addProcess,
  readState,
  markCleaned,
  setOwner,
  setRedisUrl,
  selfOwner,
  readStateFile,
  readRegistry,
  removeRegistry,
  procStartTime,
  isAlive,
  RunState,
  ProcessRecord,
  type Owner,
} from './state.js';
export { withRunLock, type RunLockOptions } from './run-lock.js';
export { cleanupRuns, formatReport, type CleanupOptions, type CleanupReport } from './cleanup.js';
export { bareBatches, type BareBatches } from './bench-support.js';
