// Classic libpcap file constants (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html).
export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
// Larger than any snaplen libpcap writes (262144); a record beyond it means garbage, not a packet.
export const PCAP_MAX_RECORD = 0x4000000;
