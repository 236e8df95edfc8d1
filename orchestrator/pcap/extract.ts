import { readCapture, type CapturedFrame } from './capture.js';
import { findMobilityHeader, parseIpv6 } from './ipv6-parse.js';
import { networkPayload } from './linktype.js';
import type { CaptureError } from './result.js';

// From a capture file to the Mobility Headers in it. A broken file is one
// error for the whole file; a broken packet inside a good file is listed in
// `problems` and the other packets are still returned.

export interface MobilityPacket {
  index: number; // frame index in the capture
  timestampNs: bigint;
  src: string;
  dst: string;
  transport: 'udp' | 'raw';
  mh: Uint8Array; // MH bytes as captured (a view into the file)
  truncated: boolean; // the frame was snapped: mh may be shorter than sent
}

export interface PacketProblem {
  index: number;
  error: CaptureError; // offset is from the start of the frame
}

export type Extracted =
  | { ok: true; value: MobilityPacket[]; problems: PacketProblem[] }
  | { ok: false; error: CaptureError };

type FrameResult = { mh: MobilityPacket | null } | { problem: CaptureError };

function fromFrame(f: CapturedFrame): FrameResult {
  const net = networkPayload(f.linktype, f.data);
  if (!net.ok) return { problem: net.error };
  if (net.value.proto !== 'ipv6') return { mh: null };
  const at = net.value.offset;
  const pkt = f.data.subarray(at);
  const ip = parseIpv6(pkt);
  if (!ip.ok) return { problem: { ...ip.error, offset: ip.error.offset + at } };
  const found = findMobilityHeader(pkt, ip.value);
  if (!found.ok) return { problem: { ...found.error, offset: found.error.offset + at } };
  if (!found.value) return { mh: null };
  return {
    mh: {
      index: f.index,
      timestampNs: f.timestampNs,
      src: ip.value.src,
      dst: ip.value.dst,
      transport: found.value.transport,
      mh: found.value.mh,
      truncated: ip.value.snapped || f.data.length < f.originalLength,
    },
  };
}

export function extractMobilityHeaders(captureBytes: Uint8Array): Extracted {
  const cap = readCapture(captureBytes);
  if (!cap.ok) return cap;
  const value: MobilityPacket[] = [];
  const problems: PacketProblem[] = [];
  for (const f of cap.value.frames) {
    const r = fromFrame(f);
    if ('problem' in r) problems.push({ index: f.index, error: r.problem });
    else if (r.mh) value.push(r.mh);
  }
  return { ok: true, value, problems };
}
