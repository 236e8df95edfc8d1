// Public surface of the capture helpers: pcap/pcapng I/O, IPv6 build/parse, MH extraction.
export { ipv6Bytes, ipv6Text } from './address.js';
export { LinkType, looksLikeCapture, readCapture, type Capture, type CapturedFrame } from './capture.js';
export { extractMobilityHeaders, type Extracted, type MobilityPacket, type PacketProblem } from './extract.js';
export { ipv6PseudoChecksum } from './inet-checksum.js';
export { buildIpv6, buildMhPacket, buildUdp, fragmentHeader, paddedOptionsHeader, routingHeader, type ExtensionHeader, type MhPacketSpec } from './ipv6-build.js';
export { MH_UDP_PORT, NH } from './ipv6-format.js';
export { findMobilityHeader, parseIpv6, type FoundMh, type Ipv6Packet } from './ipv6-parse.js';
export { networkPayload } from './linktype.js';
export { writePcap, type PcapRecord, type PcapWriteOptions } from './pcap-writer.js';
export { readPcap } from './pcap-reader.js';
export { readPcapng } from './pcapng-reader.js';
export { formatCaptureError, type CaptureError, type CaptureErrorCode, type Parsed } from './result.js';
