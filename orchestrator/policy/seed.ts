import { Bus } from '../../nodes/runtime/bus.js';
import { PolicyStore, type MagProfile, type MnProfile } from '../../nodes/runtime/policy-store.js';
import type { Plan } from '../topology/plan.js';

// The policy store's content for a run, from its plan: every MAG (its proxy
// care-of address and LMA) and every MN (identifier, interfaces, prefixes,
// LMA). What is not written here is not served: a MAG not listed is refused
// by the LMA (status 154), an unknown MN is not registered.

export interface PolicySeed {
  mags: MagProfile[];
  mns: MnProfile[];
}

export function policyFromPlan(plan: Plan): PolicySeed {
  const mags: MagProfile[] = [];
  const magLma = new Map<string, string>();
  for (const n of plan.nodes) {
    if (n.kind !== 'mag') continue;
    const o = n.options;
    if (!o.lma || !o.proxyCoa) continue; // a MAG without an LMA link serves nobody
    mags.push({ name: n.name, address: o.proxyCoa, lma: o.lma });
    magLma.set(n.name, o.lma);
  }
  const onlyLma = plan.nodes.filter((x) => x.kind === 'lma').map((x) => x.name);
  const mns: MnProfile[] = [];
  for (const n of plan.nodes) {
    if (n.kind !== 'mn') continue;
    const o = n.options;
    const ifaces = Object.entries(o.interfaces ?? {});
    // the LMA of the MAG its first access link starts on (RFC 5213: one LMA per MN)
    const firstMag = plan.links
      .filter((l) => l.kind === 'access' && l.endpoints.some((e) => e.node === n.name))
      .flatMap((l) => l.endpoints.filter((e) => e.node !== n.name).map((e) => e.node))
      .find((m) => magLma.has(m));
    const lma = (firstMag && magLma.get(firstMag)) ?? onlyLma[0];
    if (!lma) continue;
    mns.push({
      mnId: o.mnId,
      lma,
      mags: ['*'],
      interfaces: ifaces.map(([iface, i]) => ({
        iface,
        llId: i.llId ?? n.interfaces.find((x) => x.name === iface)?.mac ?? '',
        att: i.att,
        prefixes: i.hnp ? [i.hnp] : [],
        ...(i.shareWith !== undefined ? { shareWith: i.shareWith } : {}),
        ...(i.dormant !== undefined ? { dormant: i.dormant } : {}),
        ...(i.priority !== undefined ? { priority: i.priority } : {}),
      })),
    });
  }
  return { mags, mns };
}

/** Write the plan's policy into the run's Redis (before the nodes start). */
export async function seedPolicy(plan: Plan, redisUrl: string): Promise<PolicySeed> {
  const seed = policyFromPlan(plan);
  const bus = await Bus.connect(redisUrl, plan.runId, 'orchestrator');
  try {
    const store = new PolicyStore(bus);
    await Promise.all([...seed.mags.map((m) => store.putMag(m)), ...seed.mns.map((m) => store.putMn(m))]);
  } finally {
    await bus.close();
  }
  return seed;
}
