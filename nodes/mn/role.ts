import { z } from 'zod';
import { publishEvent, type AddressesEvent } from '../runtime/events.js';
import { IpShell } from '../runtime/ip-shell.js';
import { LinkMonitor } from '../runtime/link-monitor.js';
import type { Role, RoleContext } from '../runtime/role.js';
import { TrafficEndpoints } from '../traffic/endpoints.js';
import { SourceRouting } from './source-routing.js';
import { isKind } from '../contract/plan.js';

// MN: an unmodified host, as RFC 5213 promises. Its kernel configures its
// addresses by SLAAC from the MAG's Router Advertisements; this process
// watches (LinkMonitor) and reports each interface's usable global addresses
// and carrier as an `addresses` event whenever they change, and hosts
// traffic endpoints. With several interfaces (seed 001) it adds one piece of
// kernel configuration, source-based policy routing (source-routing.ts), so
// a packet from an interface's address leaves by that interface; nothing is
// forwarded in user space.
// Commands: addresses {iface?} -> one `addresses` event per interface (or the
// one asked for); traffic-* (traffic/endpoints.ts; srcIface binds a sender
// to that interface's address, waiting for it).

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

/** Global IPv6 addresses of an interface usable as a source, tentative (optimistic DAD) included. */
export function sourceAddressesOf(mon: LinkMonitor, iface: string): string[] {
  return mon
    .addresses(iface)
    .filter((a) => a.family === 'inet6' && a.scope === 'global')
    .map((a) => a.address)
    .sort();
}

/** The MAGs' access link-local address (the RA's router): the same on every MAG by design. */
function gatewayOf(c: RoleContext): string {
  for (const n of c.plan.nodes) if (isKind(n, 'mag') && n.options.accessLinkLocal) return n.options.accessLinkLocal;
  return 'fe80::1';
}

export function createRole(): Role {
  let ctx: RoleContext | null = null;
  let mon: LinkMonitor | null = null;
  let traffic: TrafficEndpoints | null = null;
  let routing: SourceRouting | null = null;
  let ip: IpShell | null = null;
  const last = new Map<string, string>(); // iface -> last reported state (JSON)
  const waiters = new Set<() => void>(); // senders waiting for an address

  const route = (iface: string) => {
    if (!ctx || !mon || !routing || !ip) return;
    const lines = routing.update(iface, { up: mon.link(iface)?.up ?? false, addresses: sourceAddressesOf(mon, iface) });
    if (!lines.length) return;
    const log = ctx.log;
    const shell = ip;
    void shell.runAll(lines).then((rs) => {
      for (const r of rs) {
        if (r.ok) log.info({ iface, line: r.line }, 'source routing');
        else {
          log.warn({ iface, line: r.line, err: r.error }, 'source routing line failed');
          if (r.line.startsWith('route ')) routing?.routeFailed(iface);
        }
      }
    });
  };

  /** the interface's global address, now or once it comes (traffic-start srcIface) */
  const sourceAddress = (iface: string, timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const now = () => (mon ? addressesOf(mon, iface).addresses[0] ?? sourceAddressesOf(mon, iface)[0] : undefined);
      const a = now();
      if (a) return resolve(a);
      const check = () => {
        const b = now();
        if (!b) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(b);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${iface} got no global address within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
    });

  const report = (iface: string) => {
    if (!ctx || !mon) return;
    route(iface);
    for (const w of [...waiters]) w();
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
      traffic = new TrafficEndpoints(c, sourceAddress);
      // one interface needs no policy: the main table's RA default route is the only way out
      if (c.node.interfaces.length > 1) {
        routing = new SourceRouting(c.node.interfaces.map((i, index) => ({ name: i.name, index })), gatewayOf(c));
        ip = new IpShell(null, ['-6']).start();
        // a restarted MN process starts from a clean slate (a missing table is not an error here)
        await ip.runAll(routing.reset());
      }
      mon = await LinkMonitor.start(c.log);
      const ifaces = new Set(c.node.interfaces.map((i) => i.name));
      mon.on('link', (l) => ifaces.has(l.ifname) && report(l.ifname));
      mon.on('address', (a) => ifaces.has(a.ifname) && report(a.ifname));
      for (const i of ifaces) report(i);
    },
    async stop() {
      mon?.stop();
      await traffic?.stopAll();
      await ip?.close();
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
