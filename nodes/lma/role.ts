import { openDataPlane, type DataPlane } from '../dataplane/index.js';
import type { BusCommand } from '../runtime/bus.js';
import { transportOptionsFor } from '../runtime/mh-transport.js';
import { PolicyStore } from '../runtime/policy-store.js';
import type { Role, RoleContext } from '../runtime/role.js';
import { lmaConfig, parseLmaOptions } from './config.js';
import { LmaService } from './service.js';
import { warmUp } from './warmup.js';

// The Local Mobility Anchor (RFC 5213 section 5): wiring only. Options come
// from the plan node (config.ts lists them with their defaults); the binding
// cache, its persistence, the sockets and the heartbeat live in service.ts.
// Bus commands: `stats` (counters) and `bindings` (the binding cache).

export function createRole(): Role {
  return new LmaRole();
}

class LmaRole implements Role {
  private ctx!: RoleContext;
  private service: LmaService | null = null;
  private dp: DataPlane | null = null;

  async start(ctx: RoleContext): Promise<void> {
    this.ctx = ctx;
    const log = ctx.log;
    const opts = parseLmaOptions(ctx.node.options);
    const locals = [...new Set(opts.mags.map((m) => m.lmaAddress))];
    const backhaulIf = opts.mags[0]?.iface;
    if (opts.backend !== 'none') {
      if (!backhaulIf || locals.length === 0) log.warn('no MAG links in the plan: no kernel data plane');
      else {
        this.dp = await openDataPlane({
          role: 'lma',
          local: locals,
          backhaulIf,
          log,
          backend: opts.backend === 'auto' ? (ctx.plan.settings?.tunnel ?? 'auto') : opts.backend,
        });
      }
    }
    // compile the PBU path before the first handover needs it (warmup.ts)
    const warmMs = warmUp(lmaConfig(ctx.node.name, opts));
    const policy = new PolicyStore(ctx.bus, (key, issue) => log.warn({ key, issue }, 'invalid policy store entry ignored'));
    try {
      this.service = await LmaService.start({
        cfg: lmaConfig(ctx.node.name, opts),
        pool: ctx.plan.pools.hnp,
        locals,
        transport: transportOptionsFor(ctx),
        mags: opts.mags.map((m) => ({ pCoA: m.proxyCoa, local: m.lmaAddress, iface: m.iface })),
        heartbeat: { intervalMs: opts.heartbeatIntervalMs, missedMax: opts.heartbeatMissedMax },
        bus: ctx.bus,
        policy,
        policyCacheMs: opts.policyCacheMs,
        dataplane: this.dp,
        pbaAfter: opts.pbaAfter,
        log,
      });
    } catch (e) {
      await this.dp?.close();
      this.dp = null;
      throw e;
    }
    log.info({ options: opts, backend: this.dp?.backend ?? 'none', warmMs: Math.round(warmMs) }, 'LMA started');
  }

  async stop(): Promise<void> {
    await this.service?.stop();
    await this.dp?.close();
  }

  async onCommand(cmd: BusCommand): Promise<boolean> {
    const s = this.service;
    if (!s) return false;
    if (cmd.type === 'stats') {
      await this.ctx.bus.emit('stats', { ...s.stats(), dataPlane: this.dp?.backend ?? 'none' }, cmd.id);
      return true;
    }
    if (cmd.type === 'bindings') {
      await this.ctx.bus.emit('bindings', { bindings: s.bindings() }, cmd.id);
      return true;
    }
    return false;
  }
}
