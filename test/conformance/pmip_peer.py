"""An independent PMIPv6 (RFC 5213) peer on scapy's Mobility Header layers.

pmiplab's own tests use its codec on both sides, so a mistake made the same
way in encoder and decoder passes them. This module is the second codebase:
scapy (Debian's python3-scapy 2.5) builds and parses the Mobility Header, and
the PMIPv6 options scapy lacks are defined here from the RFC text, not from
nodes/protocol/ (nothing here imports or reads it).

RFC 5213 section 8 options (type, alignment):
  Home Network Prefix 22 (8n+4), Handoff Indicator 23 (none),
  Access Technology Type 24 (none), MN Link-layer Identifier 25 (none),
  Link-local Address 26 (8n+6), Timestamp 27 (8n+2).
scapy already has MN Identifier 8 (RFC 4283, subtype 1 = NAI) and
Binding Refresh Advice 2 (2n); the P flag is in its BU and BA flag fields
(BU: A H L K M R P from the most significant bit; BA: K R P).
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Any

from scapy.fields import (
    BitField,
    ByteEnumField,
    ByteField,
    FieldLenField,
    IP6Field,
    ShortField,
    StrLenField,
)
from scapy.layers.inet6 import (
    IPv6,
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BU,
    MIP6MH_Generic,
    MIP6OptBRAdvice,
    MIP6OptMNID,
    MIP6OptUnknown,
    PadN,
    Pad1,
    _MIP6OptAlign,
    _mobopttypes,
    in6_chksum,
    moboptcls,
)

IPPROTO_MH = 135
PMIP_UDP_PORT = 5436

OPT_BRA = 2
OPT_MNID = 8
OPT_HNP = 22
OPT_HI = 23
OPT_ATT = 24
OPT_MNLLID = 25
OPT_LLA = 26
OPT_TIMESTAMP = 27


class MIP6OptHNP(_MIP6OptAlign):
    """RFC 5213 8.3: Reserved u8, Prefix Length u8, Home Network Prefix (16 octets)."""

    name = "PMIPv6 Option - Home Network Prefix"
    fields_desc = [
        ByteEnumField("otype", OPT_HNP, _mobopttypes),
        ByteField("olen", 18),
        ByteField("res", 0),
        ByteField("plen", 0),
        IP6Field("prefix", "::"),
    ]
    x = 8
    y = 4


class MIP6OptHI(_MIP6OptAlign):
    """RFC 5213 8.4: Reserved u8, Handoff Indicator u8."""

    name = "PMIPv6 Option - Handoff Indicator"
    fields_desc = [
        ByteEnumField("otype", OPT_HI, _mobopttypes),
        ByteField("olen", 2),
        ByteField("res", 0),
        ByteField("hi", 1),
    ]
    x = 0
    y = 0


class MIP6OptATT(_MIP6OptAlign):
    """RFC 5213 8.5: Reserved u8, Access Technology Type u8."""

    name = "PMIPv6 Option - Access Technology Type"
    fields_desc = [
        ByteEnumField("otype", OPT_ATT, _mobopttypes),
        ByteField("olen", 2),
        ByteField("res", 0),
        ByteField("att", 4),
    ]
    x = 0
    y = 0


class MIP6OptMNLLID(_MIP6OptAlign):
    """RFC 5213 8.6: Reserved u16, Link-layer Identifier (variable)."""

    name = "PMIPv6 Option - Mobile Node Link-layer Identifier"
    fields_desc = [
        ByteEnumField("otype", OPT_MNLLID, _mobopttypes),
        FieldLenField("olen", None, length_of="lli", fmt="B", adjust=lambda pkt, x: x + 2),
        ShortField("res", 0),
        StrLenField("lli", b"", length_from=lambda pkt: pkt.olen - 2),
    ]
    x = 0
    y = 0


class MIP6OptLLA(_MIP6OptAlign):
    """RFC 5213 8.7: Link-local Address (16 octets)."""

    name = "PMIPv6 Option - Link-local Address"
    fields_desc = [
        ByteEnumField("otype", OPT_LLA, _mobopttypes),
        ByteField("olen", 16),
        IP6Field("addr", "::"),
    ]
    x = 8
    y = 6


class MIP6OptTimestamp(_MIP6OptAlign):
    """RFC 5213 8.8: 48-bit seconds since 1970 + 16-bit 1/65536 s fraction."""

    name = "PMIPv6 Option - Timestamp"
    fields_desc = [
        ByteEnumField("otype", OPT_TIMESTAMP, _mobopttypes),
        ByteField("olen", 8),
        BitField("seconds", 0, 48),
        ShortField("fraction", 0),
    ]
    x = 8
    y = 2


for _t, _cls, _n in (
    (OPT_HNP, MIP6OptHNP, "Home Network Prefix"),
    (OPT_HI, MIP6OptHI, "Handoff Indicator"),
    (OPT_ATT, MIP6OptATT, "Access Technology Type"),
    (OPT_MNLLID, MIP6OptMNLLID, "MN Link-layer Identifier"),
    (OPT_LLA, MIP6OptLLA, "Link-local Address"),
    (OPT_TIMESTAMP, MIP6OptTimestamp, "Timestamp"),
):
    moboptcls[_t] = _cls
    _mobopttypes[_t] = _n


# ---- building

def _prefix(cidr: str) -> tuple[str, int]:
    net = ipaddress.IPv6Network(cidr, strict=False)
    return str(net.network_address), net.prefixlen


def options_from_json(opts: list[dict[str, Any]]) -> list[Any]:
    """Mobility options from a JSON list such as [{"type": "mnId", "nai": "a@b"}, ...]."""
    out: list[Any] = []
    for o in opts:
        t = o["type"]
        if t == "mnId":
            out.append(MIP6OptMNID(subtype=o.get("subtype", 1), id=o["nai"].encode()))
        elif t == "hnp":
            p, n = _prefix(o.get("prefix", "::/0"))
            out.append(MIP6OptHNP(prefix=p, plen=n))
        elif t == "hi":
            out.append(MIP6OptHI(hi=o["value"]))
        elif t == "att":
            out.append(MIP6OptATT(att=o["value"]))
        elif t == "mnLlId":
            out.append(MIP6OptMNLLID(lli=bytes.fromhex(o["hex"])))
        elif t == "lla":
            out.append(MIP6OptLLA(addr=o["address"]))
        elif t == "timestamp":
            out.append(MIP6OptTimestamp(seconds=o["seconds"], fraction=o.get("fraction", 0)))
        elif t == "bra":
            out.append(MIP6OptBRAdvice(rinter=o["interval"]))
        else:
            raise ValueError(f"unknown option type {t!r}")
    return out


def _bu_flags(f: dict[str, bool]) -> int:
    # scapy names the 7 BU flag bits "PRMKLHA" from the least significant one
    names = "PRMKLHA"
    return sum(1 << i for i, n in enumerate(names) if f.get(n, False))


def _ba_flags(f: dict[str, bool]) -> int:
    names = "PRK"
    return sum(1 << i for i, n in enumerate(names) if f.get(n, False))


def mh_checksum(mh: bytes, src: str, dst: str) -> int:
    """RFC 6275 6.1.1: ones' complement over the pseudo-header (next header 135) and the MH."""
    zeroed = mh[:4] + b"\x00\x00" + mh[6:]
    return in6_chksum(IPPROTO_MH, IPv6(src=src, dst=dst), zeroed)


def with_checksum(mh: bytes, src: str, dst: str) -> bytes:
    return mh[:4] + struct.pack("!H", mh_checksum(mh, src, dst)) + mh[6:]


def build_pbu(spec: dict[str, Any], src: str, dst: str) -> bytes:
    """A Proxy Binding Update: sequence, flags (default A and P), lifetime in seconds (sent in 4 s units)."""
    flags = spec.get("flags", {"A": True, "P": True})
    pkt = MIP6MH_BU(
        nh=spec.get("payloadProto", 59),
        seq=spec["seq"] & 0xFFFF,
        flags=_bu_flags(flags),
        mhtime=spec.get("lifetime", 100) // 4,
        options=options_from_json(spec.get("options", [])),
        cksum=0,
    )
    raw = bytes(pkt)
    if "headerLen" in spec:  # deliberately malformed: the length field as given
        raw = raw[:1] + bytes([spec["headerLen"]]) + raw[2:]
    return with_checksum(raw, src, dst)


def build_pba(spec: dict[str, Any], src: str, dst: str) -> bytes:
    flags = spec.get("flags", {"P": True})
    pkt = MIP6MH_BA(
        status=spec["status"],
        flags=_ba_flags(flags),
        res2=0,
        seq=spec["seq"] & 0xFFFF,
        mhtime=spec.get("lifetime", 0) // 4,
        options=options_from_json(spec.get("options", [])),
        cksum=0,
    )
    return with_checksum(bytes(pkt), src, dst)


# ---- parsing

_MH_CLASSES = {5: MIP6MH_BU, 6: MIP6MH_BA, 7: MIP6MH_BE}
_MH_NAMES = {5: "pbu", 6: "pba", 7: "bindingError", 13: "heartbeat"}


def _opt_json(o: Any) -> dict[str, Any]:
    if isinstance(o, Pad1):
        return {"type": "pad1"}
    if isinstance(o, PadN):
        return {"type": "padN", "len": len(o.optdata)}
    if isinstance(o, MIP6OptMNID):
        return {"type": "mnId", "subtype": o.subtype, "nai": o.id.decode(errors="replace")}
    if isinstance(o, MIP6OptHNP):
        return {"type": "hnp", "prefix": f"{o.prefix}/{o.plen}", "reserved": o.res}
    if isinstance(o, MIP6OptHI):
        return {"type": "hi", "value": o.hi}
    if isinstance(o, MIP6OptATT):
        return {"type": "att", "value": o.att}
    if isinstance(o, MIP6OptMNLLID):
        return {"type": "mnLlId", "hex": o.lli.hex()}
    if isinstance(o, MIP6OptLLA):
        return {"type": "lla", "address": o.addr}
    if isinstance(o, MIP6OptTimestamp):
        return {"type": "timestamp", "seconds": o.seconds, "fraction": o.fraction}
    if isinstance(o, MIP6OptBRAdvice):
        return {"type": "bra", "interval": o.rinter}
    return {"type": "unknown", "otype": getattr(o, "otype", None), "hex": bytes(o).hex()}


def _flag_names(value: int, names: str) -> dict[str, bool]:
    return {n: bool(value & (1 << i)) for i, n in enumerate(names)}


def decode_mh(data: bytes, src: str | None = None, dst: str | None = None) -> dict[str, Any]:
    """Decode one Mobility Header as JSON-friendly fields; the checksum is checked when src and dst are given."""
    out: dict[str, Any] = {"hex": data.hex(), "length": len(data)}
    if len(data) < 6:
        out["error"] = "shorter than the MH fixed part"
        return out
    out["payloadProto"] = data[0]
    out["headerLen"] = data[1]
    out["mhType"] = data[2]
    out["kind"] = _MH_NAMES.get(data[2], f"type{data[2]}")
    out["checksum"] = struct.unpack("!H", data[4:6])[0]
    if (data[1] + 1) * 8 != len(data):
        out["error"] = f"header length {data[1]} says {(data[1] + 1) * 8} octets, packet has {len(data)}"
    if src and dst:
        out["checksumOk"] = mh_checksum(data, src, dst) == out["checksum"]
    cls = _MH_CLASSES.get(data[2], MIP6MH_Generic)
    pkt = cls(data)
    if isinstance(pkt, MIP6MH_BU):
        out.update(seq=pkt.seq, flags=_flag_names(int(pkt.flags), "PRMKLHA"), lifetime=pkt.mhtime * 4, reserved=pkt.reserved)
    elif isinstance(pkt, MIP6MH_BA):
        out.update(status=pkt.status, flags=_flag_names(int(pkt.flags), "PRK"), seq=pkt.seq, lifetime=pkt.mhtime * 4, reserved=pkt.res2)
    elif isinstance(pkt, MIP6MH_BE):
        out.update(status=pkt.status, homeAddress=pkt.ha)
    if hasattr(pkt, "options"):
        out["options"] = [_opt_json(o) for o in pkt.options]
        out["unknownOptions"] = [o for o in out["options"] if o["type"] == "unknown"]
    return out


def option(decoded: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for o in decoded.get("options", []):
        if o["type"] == kind:
            return o
    return None


def mirror_options(pbu: dict[str, Any], hnp: str | None) -> list[dict[str, Any]]:
    """RFC 5213 5.3.6: a PBA's options copy the PBU's MN-ID, HNP (or the assigned one), HI, ATT, MN-LL-ID, LLA, Timestamp."""
    out: list[dict[str, Any]] = []
    for o in pbu.get("options", []):
        t = o["type"]
        if t == "hnp":
            out.append({"type": "hnp", "prefix": hnp or o["prefix"]})
        elif t in ("mnId", "hi", "att", "mnLlId", "lla", "timestamp"):
            out.append({k: v for k, v in o.items() if k != "subtype" or t == "mnId"})
    return out


def seq_newer(a: int, b: int) -> bool:
    """RFC 6275 9.5.1: a is newer than b when (a - b) mod 2^16 is in (0, 2^15)."""
    d = (a - b) & 0xFFFF
    return 0 < d < 0x8000
