import { spawn } from 'node:child_process';

// RFC 4861 6.1.1: a router silently discards a Router Solicitation whose IP
// Hop Limit is not 255 (it may have come from off the link). The hop limit is
// in the IPv6 header, which a raw ICMPv6 socket never hands over, and the
// raw-socket addon reads with recvfrom, so ancillary data (IPV6_RECVHOPLIMIT)
// cannot reach us either. The check is therefore made where the header is:
// one nftables rule in the node's namespace, on the input hook, drops an RS
// with any other hop limit and counts it in a named counter, before the raw
// socket's copy is made (netfilter input runs before raw delivery). The
// kernel reads the field from each packet; nothing is assumed.

export const ND_TABLE = 'pmiplab-nd';
export const RS_HOP_LIMIT_COUNTER = 'rs-hop-limit';

/** The ruleset, replaced atomically (a restarted node installs it over its predecessor's). */
export function guardRuleset(): string {
  return [
    `add table ip6 ${ND_TABLE}`,
    `delete table ip6 ${ND_TABLE}`,
    `table ip6 ${ND_TABLE} {`,
    `  counter ${RS_HOP_LIMIT_COUNTER} { }`,
    '  chain input {',
    '    type filter hook input priority -10; policy accept;',
    `    icmpv6 type nd-router-solicit ip6 hoplimit != 255 counter name "${RS_HOP_LIMIT_COUNTER}" drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Packets of the named counter in `nft -j list counter` output; null when absent or not that shape. */
export function counterPackets(json: string, name = RS_HOP_LIMIT_COUNTER): number | null {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return null;
  }
  const items = (doc as { nftables?: unknown }).nftables;
  if (!Array.isArray(items)) return null;
  for (const it of items) {
    const c = (it as { counter?: { name?: unknown; packets?: unknown } }).counter;
    if (c && c.name === name && typeof c.packets === 'number') return c.packets;
  }
  return null;
}

function nft(args: string[], input?: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('nft', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => resolve({ ok: false, stdout, stderr: e.message }));
    child.on('close', (code) => resolve({ ok: code === 0, stdout, stderr: stderr.trim() }));
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // nft gone before reading: its exit code says what happened
      child.stdin.end(input);
    }
  });
}

export class RsHopLimitGuard {
  private constructor() {}

  /** Install the rule in this namespace; the error text when nft is missing or refuses. */
  static async install(): Promise<RsHopLimitGuard | { error: string }> {
    const r = await nft(['-f', '-'], guardRuleset());
    return r.ok ? new RsHopLimitGuard() : { error: r.stderr || 'nft failed' };
  }

  /** RSs dropped for their hop limit so far (null when the counter cannot be read). */
  async dropped(): Promise<number | null> {
    const r = await nft(['-j', 'list', 'counter', 'ip6', ND_TABLE, RS_HOP_LIMIT_COUNTER]);
    return r.ok ? counterPackets(r.stdout) : null;
  }
}
