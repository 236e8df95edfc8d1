import { z } from 'zod';
import { publishEvent, type AddressesEvent } from '../runtime/events.js';
import { LinkMonitor } from '../runtime/link-monitor.js';
import type { Role, RoleContext } from '../runtime/role.js';
import { TrafficEndpoints } from '../traffic/endpoints.js';

// MN: an unmodified host, as RFC 5213 promises. Its kernel configures its
// addresses by SLAAC from the MAG's Router Advertisements; this process
// configures nothing, it watches (LinkMonitor) and reports each interface's
// usable global addresses and carrier as an `addresses` event whenever they
// change, and hosts traffic endpoints.
// Commands: addresses {iface?} -> one `addresses` event per interface (or the
// one asked for); traffic-* (traffic/endpoints.ts).

const AddressesArgs = z.object({ iface: z.string().min(1).max(15).optional() });

/** Global, usable (not tentative) IPv6 addresses and carrier of one interface. */
export function addressesOf(mon: LinkMonitor, iface: string): AddressesEvent {
  const addresses = mon
    .addresses(iface)
    .filter((a) => a.family === 'inet6' && a.scope === 'global' && !a.tentative)
    .map((a) => a.address)
    .sort();
  return { iface, addresses, carrier: mon.link(iface)?.carrier ?? false };
}

export function createRole(): Role {
  let ctx: RoleContext | null = null;
  let mon: LinkMonitor | null = null;
  let traffic: TrafficEndpoints | null = null;
  const last = new Map<string, string>(); // iface -> last reported state (JSON)

  const report = (iface: string) => {
    if (!ctx || !mon) return;
    const ev = addressesOf(mon, iface);
    const key = JSON.stringify(ev);
    if (last.get(iface) === key) return;
    last.set(iface, key);
    ctx.log.info(ev, 'addresses');
    publishEvent(ctx.bus, ctx.log, 'addresses', ev);
  };

  return {
    async start(c) {
      ctx = c;
      traffic = new TrafficEndpoints(c);
      mon = await LinkMonitor.start(c.log);
      const ifaces = new Set(c.node.interfaces.map((i) => i.name));
      mon.on('link', (l) => ifaces.has(l.ifname) && report(l.ifname));
      mon.on('address', (a) => ifaces.has(a.ifname) && report(a.ifname));
      for (const i of ifaces) report(i);
    },
    async stop() {
      mon?.stop();
      await traffic?.stopAll();
    },
    async onCommand(cmd) {
      if (!ctx || !mon) return false;
      if (cmd.type === 'addresses') {
        const r = AddressesArgs.safeParse(cmd.args ?? {});
        const ifaces = ctx.node.interfaces.map((i) => i.name);
        if (!r.success || (r.data.iface && !ifaces.includes(r.data.iface)) || !ifaces.length) {
          const message = r.success ? `${ctx.node.name} has no interface ${r.data.iface ?? ''}`.trimEnd() : `addresses: ${r.error.issues[0]?.message}`;
          await ctx.bus.emit('error', { message }, cmd.id);
          return true;
        }
        for (const i of r.data.iface ? [r.data.iface] : ifaces) await ctx.bus.emit('addresses', addressesOf(mon, i), cmd.id);
        return true;
      }
      return traffic ? traffic.onCommand(cmd) : false;
    },
  };
}
