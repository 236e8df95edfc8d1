#!/usr/bin/python3
"""The conformance peer as a small server the test drives: one JSON command per
line on stdin, one JSON answer per line on stdout.

It plays a MAG toward a live pmiplab LMA and an LMA toward a live pmiplab MAG,
over UDP port 5436 or raw IPv6 next header 135, from inside the run's network
namespaces: each socket is opened in the namespace a command names (setns on
the main thread, then back), so one process, started once, serves every case
without paying scapy's import each time. Messages are built and parsed by
pmip_peer (scapy), never by pmiplab's codec.

Commands (every one may carry "id", echoed in its answer):
  {"op": "pbu", "ns", "transport": "udp"|"raw", "src", "dst", "pbu": {...} | "hex": "...",
   "waitMs": 800, "until": "pba"|"all", "repeat": 1}
     send a PBU (built from the spec, or the given bytes) and collect what comes
     back to src for waitMs: MH messages with source, destination and hop limit
     (IPV6_PKTINFO / IPV6_HOPLIMIT), and ICMPv6 errors. until "pba" returns at
     the PBA whose sequence number is the PBU's.
  {"op": "lma-start", "name", "ns", "transport", "addr", "script": [...], "default": {...}}
     an LMA on addr: every PBU is logged and answered by the next action of the
     script (then "default"): {"do": "drop"} or {"do": "answer", "status", "lifetime",
     "hnp", "seqOffset"}; options are mirrored from the PBU (RFC 5213 5.3.6).
  {"op": "lma-script", "name", "script", "default"}   replace the remaining actions
  {"op": "lma-log", "name"}                           what it received and sent so far
  {"op": "icmp-start", "name", "ns"} / {"op": "icmp-log", "name"}
     collect every ICMPv6 message reaching the namespace (RAs, Parameter Problems)
  {"op": "stop"}
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import socket
import struct
import sys
import threading
import time
import traceback
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pmip_peer as pp  # noqa: E402
from scapy.layers.inet6 import ICMPv6ND_RA, ICMPv6NDOptPrefixInfo  # noqa: E402

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_lock = threading.Lock()  # one writer on stdout


def emit(obj: dict[str, Any]) -> None:
    with _lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def in_netns(name: str, make):
    """Run make() with the calling thread in namespace `name`; sockets stay in the namespace they were made in."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
        return make()
    finally:
        _libc.setns(home, CLONE_NEWNET)
        os.close(target)
        os.close(home)


def _ancillary(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)


def open_mh(ns: str, transport: str, addr: str) -> socket.socket:
    def make() -> socket.socket:
        if transport == "udp":
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, pp.PMIP_UDP_PORT))
        else:
            # the kernel fills in (offset 4) and checks the MH checksum of a raw socket of protocol 135
            s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, pp.IPPROTO_MH)
            s.bind((addr, 0))
        _ancillary(s)
        return s

    return in_netns(ns, make)


def open_icmp(ns: str) -> socket.socket:
    def make() -> socket.socket:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        _ancillary(s)
        return s

    return in_netns(ns, make)


def receive(sock: socket.socket) -> dict[str, Any]:
    data, anc, _flags, addr = sock.recvmsg(65535, socket.CMSG_SPACE(20) + socket.CMSG_SPACE(4))
    dst, hlim, ifindex = None, None, None
    for level, kind, value in anc:
        if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
            dst = socket.inet_ntop(socket.AF_INET6, value[:16])
            ifindex = struct.unpack("I", value[16:20])[0]
        elif level == socket.IPPROTO_IPV6 and kind == socket.IPV6_HOPLIMIT:
            hlim = struct.unpack("i", value[:4])[0]
    return {"data": data, "src": addr[0].split("%")[0], "srcPort": addr[1] if sock.type == socket.SOCK_DGRAM else None,
            "dst": dst, "hopLimit": hlim, "ifindex": ifindex, "t": time.time()}


def describe_icmp(r: dict[str, Any]) -> dict[str, Any]:
    d = r["data"]
    out = {"src": r["src"], "dst": r["dst"], "hopLimit": r["hopLimit"], "t": r["t"], "type": d[0], "code": d[1], "hex": d.hex()}
    if d[0] == 4 and len(d) >= 8:  # Parameter Problem: pointer, then as much of the invoking packet as fits
        out["pointer"] = struct.unpack("!I", d[4:8])[0]
        inv = d[8:]
        out["invoking"] = inv.hex()
        if len(inv) >= 40:
            out["invokingNextHeader"] = inv[6]
            out["invokingSrc"] = socket.inet_ntop(socket.AF_INET6, inv[8:24])
            out["invokingDst"] = socket.inet_ntop(socket.AF_INET6, inv[24:40])
    elif d[0] == 134:
        ra = ICMPv6ND_RA(d)
        out["routerLifetime"] = ra.routerlifetime
        out["curHopLimit"] = ra.chlim
        prefixes = []
        p = ra.payload
        while p and p.__class__.__name__ != "NoPayload":
            if isinstance(p, ICMPv6NDOptPrefixInfo):
                prefixes.append({"prefix": f"{p.prefix}/{p.prefixlen}", "L": bool(p.L), "A": bool(p.A),
                                 "valid": p.validlifetime, "preferred": p.preferredlifetime})
            p = p.payload
        out["prefixes"] = prefixes
    return out


class Collector(threading.Thread):
    """Reads a socket forever into a list (ICMPv6 watchers, LMA peers)."""

    def __init__(self, sock: socket.socket, on_packet) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.on_packet = on_packet
        self.running = True

    def run(self) -> None:
        while self.running:
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if r:
                try:
                    self.on_packet(receive(self.sock))
                except Exception:  # keep serving: a bad packet is logged, not fatal
                    emit({"event": "error", "trace": traceback.format_exc()})


class PeerLma:
    """An LMA answering PBUs by a script of actions; everything it sees and sends is logged."""

    def __init__(self, name: str, ns: str, transport: str, addr: str, script: list, default: dict) -> None:
        self.name, self.transport, self.addr = name, transport, addr
        self.script, self.default = list(script), default
        self.log: list[dict[str, Any]] = []
        self.sock = open_mh(ns, transport, addr)
        self.lock = threading.Lock()
        self.collector = Collector(self.sock, self.on_packet)
        self.collector.start()

    def set_script(self, script: list, default: dict | None) -> None:
        with self.lock:
            self.script = list(script)
            if default is not None:
                self.default = default

    def on_packet(self, r: dict[str, Any]) -> None:
        dec = pp.decode_mh(r["data"], r["src"], r["dst"]) if self.transport == "udp" else pp.decode_mh(r["data"])
        rec = {"dir": "in", "t": r["t"], "src": r["src"], "dst": r["dst"], "srcPort": r["srcPort"], "hopLimit": r["hopLimit"], "mh": dec}
        with self.lock:
            self.log.append(rec)
            if dec.get("kind") != "pbu" or "error" in dec:
                return
            action = self.script.pop(0) if self.script else self.default
        rec["action"] = action
        if action.get("do") != "answer":
            return
        status = action.get("status", 0)
        seq = (dec["seq"] + action.get("seqOffset", 0)) & 0xFFFF
        if status == 0:  # granted: what the action says, else what was asked; a de-registration gets 0
            lifetime = 0 if dec["lifetime"] == 0 else action.get("lifetime", dec["lifetime"])
        else:
            lifetime = action.get("lifetime", 0)
        hnp = action.get("hnp") if status == 0 else None
        spec = {"status": status, "seq": seq, "lifetime": lifetime, "flags": {"P": True}, "options": pp.mirror_options(dec, hnp)}
        reply_to = r["src"]
        data = pp.build_pba(spec, self.addr, reply_to)
        t_sent = time.time()  # before the send: the MAG may react (an RA) before sendto returns
        if self.transport == "udp":
            self.sock.sendto(data, (reply_to, r["srcPort"] or pp.PMIP_UDP_PORT))
        else:
            self.sock.sendto(data, (reply_to, 0))
        with self.lock:
            self.log.append({"dir": "out", "t": t_sent, "src": self.addr, "dst": reply_to, "mh": pp.decode_mh(data)})


class IcmpWatch:
    def __init__(self, ns: str) -> None:
        self.log: list[dict[str, Any]] = []
        self.collector = Collector(open_icmp(ns), lambda r: self.log.append(describe_icmp(r)))
        self.collector.start()


_mag_socks: dict[tuple[str, str, str], socket.socket] = {}
_icmp_socks: dict[str, socket.socket] = {}
lmas: dict[str, PeerLma] = {}
icmps: dict[str, IcmpWatch] = {}


def drain(sock: socket.socket) -> None:
    while select.select([sock], [], [], 0)[0]:
        sock.recvmsg(65535)


def op_pbu(cmd: dict[str, Any]) -> dict[str, Any]:
    ns, transport, src, dst = cmd["ns"], cmd["transport"], cmd["src"], cmd["dst"]
    key = (ns, transport, src)
    if key not in _mag_socks:
        _mag_socks[key] = open_mh(ns, transport, src)
    if ns not in _icmp_socks:
        _icmp_socks[ns] = open_icmp(ns)
    sock, icmp = _mag_socks[key], _icmp_socks[ns]
    drain(sock)
    drain(icmp)
    sent = []
    for i in range(cmd.get("repeat", 1)):
        data = bytes.fromhex(cmd["hex"]) if "hex" in cmd else pp.build_pbu(cmd["pbu"], src, dst)
        if transport == "udp":
            sock.sendto(data, (dst, pp.PMIP_UDP_PORT))
        else:
            sock.sendto(data, (dst, 0))
        sent.append({"t": time.time(), "hex": data.hex(), "mh": pp.decode_mh(data, src, dst)})
    want_seq = sent[0]["mh"].get("seq")
    deadline = time.time() + cmd.get("waitMs", 800) / 1000
    replies: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    until_pba = cmd.get("until", "pba") == "pba"
    while True:
        left = deadline - time.time()
        if left <= 0:
            break
        ready, _, _ = select.select([sock, icmp], [], [], left)
        for s in ready:
            r = receive(s)
            if s is icmp:
                if r["data"][0] < 128:  # errors only: the namespace's own ND is not ours
                    errors.append(describe_icmp(r))
                continue
            dec = pp.decode_mh(r["data"], r["src"], r["dst"]) if transport == "udp" else pp.decode_mh(r["data"])
            replies.append({"t": r["t"], "src": r["src"], "dst": r["dst"], "srcPort": r["srcPort"], "hopLimit": r["hopLimit"], "mh": dec})
        if until_pba and any(x["mh"].get("kind") == "pba" and x["mh"].get("seq") == want_seq for x in replies):
            break
    return {"sent": sent, "replies": replies, "icmp": errors}


def handle(cmd: dict[str, Any]) -> dict[str, Any]:
    op = cmd["op"]
    if op == "pbu":
        return op_pbu(cmd)
    if op == "lma-start":
        lmas[cmd["name"]] = PeerLma(cmd["name"], cmd["ns"], cmd["transport"], cmd["addr"], cmd.get("script", []), cmd.get("default", {"do": "drop"}))
        return {"started": cmd["name"]}
    if op == "lma-script":
        lmas[cmd["name"]].set_script(cmd.get("script", []), cmd.get("default"))
        return {"ok": True}
    if op == "lma-log":
        lma = lmas[cmd["name"]]
        with lma.lock:
            return {"log": list(lma.log)}
    if op == "icmp-start":
        icmps[cmd["name"]] = IcmpWatch(cmd["ns"])
        return {"started": cmd["name"]}
    if op == "icmp-log":
        return {"log": list(icmps[cmd["name"]].log)}
    if op == "ping":
        return {"pong": True}
    raise ValueError(f"unknown op {op!r}")


def main() -> None:
    emit({"event": "ready", "pid": os.getpid()})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        if cmd.get("op") == "stop":
            break
        try:
            out = handle(cmd)
            out["ok"] = out.get("ok", True)
        except Exception as err:  # the test sees the failure with its trace
            out = {"ok": False, "error": str(err), "trace": traceback.format_exc()}
        out["id"] = cmd.get("id")
        emit(out)


if __name__ == "__main__":
    main()
