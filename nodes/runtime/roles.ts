import type { RoleRegistry } from './role.js';

// What each node kind runs. Dynamic imports: esbuild bundles every role into
// the one node bundle, but a node evaluates only its own role's modules.
export const roles: RoleRegistry = {
  lma: () => import('../lma/role.js').then((m) => m.createRole()),
  mag: () => import('../mag/role.js').then((m) => m.createRole()),
  mn: () => import('../mn/role.js').then((m) => m.createRole()),
  cn: () => import('../cn/role.js').then((m) => m.createRole()),
};
