import type { Role } from '../runtime/role.js';

// Placeholder until the mag role lands (issue 6): the bare runtime.
export function createRole(): Role {
  return { start: async () => undefined, stop: async () => undefined };
}
