import { TrafficEndpoints } from '../traffic/endpoints.js';
import type { Role } from '../runtime/role.js';

// CN: a host behind the LMA. Its kernel has its address and routes from the
// plan; the process only hosts traffic endpoints (traffic-listen, -start, -stop).
export function createRole(): Role {
  let traffic: TrafficEndpoints | null = null;
  return {
    async start(ctx) {
      traffic = new TrafficEndpoints(ctx);
    },
    async stop() {
      await traffic?.stopAll();
    },
    async onCommand(cmd) {
      return traffic ? traffic.onCommand(cmd) : false;
    },
  };
}
