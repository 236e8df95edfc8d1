import { buildIpv6, buildUdp } from '../../../orchestrator/pcap/ipv6-build.js';
import { NH } from '../../../orchestrator/pcap/ipv6-format.js';
import { writePcap, type PcapRecord } from '../../../orchestrator/pcap/pcap-writer.js';
import { encodeProbe, flowTag } from '../../../nodes/traffic/probe.js';

// Captured frames of probes, as tcpdump on an MN interface writes them
// (Ethernet, classic pcap, µs stamps), for the report's per-interface tests.

export interface ProbeFrame {
  flow: string;
  seq: number;
  txNs: bigint; // monotonic send time carried in the probe
  wallNs: bigint; // capture stamp
  src?: string;
  dst?: string;
  dport?: number;
  size?: number;
}

export function probeEthernet(p: ProbeFrame): Uint8Array {
  const payload = Buffer.alloc(p.size ?? 64);
  encodeProbe(payload, flowTag(p.flow), p.seq, p.txNs);
  const src = p.src ?? '2001:db8:c:3::2';
  const dst = p.dst ?? '2001:db8:a:1::2';
  const ip = buildIpv6({ src, dst, nextHeader: NH.udp, payload: buildUdp(src, dst, 50000, p.dport ?? 40000, payload) });
  const eth = new Uint8Array(14 + ip.length);
  eth.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd]);
  eth.set(ip, 14);
  return eth;
}

export function probePcap(frames: ProbeFrame[], extra: PcapRecord[] = []): Uint8Array {
  const records: PcapRecord[] = [...frames.map((f) => ({ timestampNs: f.wallNs, data: probeEthernet(f) })), ...extra].sort((a, b) => Number(a.timestampNs - b.timestampNs));
  return writePcap(records, { linktype: 1, precision: 'ns' });
}
