"""SIPp for the SIP benchmark: the carrier/callee side (UAS) and the reference caller (UAC).

The called number tells the UAS what to do, so both callers (waihu and the SIPp reference)
meet the same callees: ``86139`` + ``1`` answers after a short ring and hangs up after the
hold time (``-d``), ``2`` is busy (486), ``3`` rings until the caller cancels (487).
"""

from __future__ import annotations

import csv
import shutil
import socket
import subprocess
import time
from pathlib import Path

ANSWER, BUSY, NO_ANSWER = "1", "2", "3"

_RESP = """      [last_From:]
      [last_To:];tag=[pid]T[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=udp>
"""

UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="waihu bench callee">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="INVITE sip:861392" search_in="msg" check_it="false" assign_to="busy"/>
      <ereg regexp="INVITE sip:861393" search_in="msg" check_it="false" assign_to="noans"/>
      <ereg regexp=".*" search_in="hdr" header="Via:" assign_to="ivia"/>
      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="icseq"/>
    </action>
  </recv>
  <nop hide="true" test="busy" next="busy"/>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
""" + _RESP + """      Content-Length: 0
  ]]></send>
  <nop hide="true" test="noans" next="noans"/>
  <pause milliseconds="500"/>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
""" + _RESP + """      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=callee 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
  ]]></send>
  <recv request="ACK"/>
  <pause/>
  <send retrans="500"><![CDATA[
      BYE sip:caller@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:callee@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: [last_From:]
      [last_Call-ID:]
      CSeq: 1 BYE
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv response="200" next="end"/>
  <label id="busy"/>
  <send retrans="500"><![CDATA[
      SIP/2.0 486 Busy Here
      [last_Via:]
""" + _RESP + """      Content-Length: 0
  ]]></send>
  <recv request="ACK" next="end"/>
  <label id="noans"/>
  <recv request="CANCEL"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
""" + _RESP + """      Content-Length: 0
  ]]></send>
  <send retrans="500"><![CDATA[
      SIP/2.0 487 Request Terminated
      Via: [$ivia]
      [last_From:]
      [last_To:];tag=[pid]T[call_number]
      [last_Call-ID:]
      CSeq: [$icseq] INVITE
      Content-Length: 0
  ]]></send>
  <recv request="ACK"/>
  <label id="end"/>
</scenario>
"""

_REQ = """      From: <sip:4008001234@[local_ip]:[local_port]>;tag=[pid]C[call_number]
      [last_To:]
      [last_Call-ID:]
      Max-Forwards: 70
      Content-Length: 0
"""

UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="waihu bench reference caller">
  <send retrans="500"><![CDATA[
      INVITE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:4008001234@[local_ip]:[local_port]>;tag=[pid]C[call_number]
      To: <sip:[field0]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:4008001234@[local_ip]:[local_port];transport=udp>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
  ]]></send>
  <recv response="486" optional="true" next="busy"/>
  <recv response="180"/>
  <recv response="200" timeout="@RING_MS@" ontimeout="cancel"/>
  <send><![CDATA[
      ACK sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:4008001234@[local_ip]:[local_port]>;tag=[pid]C[call_number]
      [last_To:]
      [last_Call-ID:]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv request="BYE"/>
  <send next="end"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
  ]]></send>
  <label id="busy"/>
  <send next="end"><![CDATA[
      ACK sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      CSeq: 1 ACK
""" + _REQ + """  ]]></send>
  <label id="cancel"/>
  <send><![CDATA[
      CANCEL sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      CSeq: 1 CANCEL
""" + _REQ + """  ]]></send>
  <recv response="200"/>
  <recv response="487"/>
  <send><![CDATA[
      ACK sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      CSeq: 1 ACK
""" + _REQ + """  ]]></send>
  <label id="end"/>
</scenario>
"""


def require_sipp() -> str:
    path = shutil.which("sipp")
    if path is None:
        raise RuntimeError("SIPp is not installed (Debian package sip-tester)")
    return path


def free_udp_port() -> int:
    """A UDP port free on loopback whose +2 neighbour is free too (SIPp media uses mp and mp+2),
    and free for TCP as well (a SIP stack listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port > 65000:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s2:
                s2.bind(("127.0.0.1", port + 2))
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s3:
                s3.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port


def port_bound(port: int, transport: str = "udp") -> bool:
    """Whether a UDP socket is bound to ``port`` (``tcp``: a TCP socket listens on it) (Linux:
    read /proc, never bind it ourselves)."""
    suffix = f":{port:04X}"
    for table in (f"/proc/net/{transport}", f"/proc/net/{transport}6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 3 and cols[1].endswith(suffix) and (transport == "udp" or cols[3] == "0A"):
                return True
    return False


def wait_bound(port: int, timeout: float = 5.0, transport: str = "udp") -> None:
    """Wait until something (SIPp) has bound the UDP port (or listens on the TCP port)."""
    deadline = time.monotonic() + timeout
    while not port_bound(port, transport):
        if time.monotonic() > deadline:
            raise RuntimeError(f"SIPp did not bind {transport.upper()} port {port}")
        time.sleep(0.02)


def start_uas(workdir: Path, hold: float, port: int) -> subprocess.Popen[bytes]:
    scenario = workdir / "uas.xml"
    scenario.write_text(UAS)
    args = [require_sipp(), "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port),
            "-mp", str(free_udp_port()), "-cp", str(free_udp_port()), "-ci", "127.0.0.1", "-nostdin",
            "-d", str(int(hold * 1000)), "-max_socket", "65000"]
    with (workdir / f"uas-{port}.out").open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)  # noqa: S603 (our own argv)
    wait_bound(port)
    return proc


def run_reference_uac(workdir: Path, numbers: list[str], cps: float, uas_port: int, ring_timeout: float,
                      timeout: float) -> float | None:
    """SIPp places the same calls at the same rate; returns the rate at which it created them."""
    scenario = workdir / "uac.xml"
    scenario.write_text(UAC.replace("@RING_MS@", str(int(ring_timeout * 1000))))
    inf = workdir / "numbers.csv"
    inf.write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers))
    args = [require_sipp(), "127.0.0.1:" + str(uas_port), "-sf", str(scenario), "-inf", str(inf),
            "-i", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port()), "-cp", str(free_udp_port()),
            "-ci", "127.0.0.1", "-nostdin", "-r", str(cps), "-m", str(len(numbers)), "-l", "200000",
            "-trace_stat", "-fd", "1",
            "-stf", str(workdir / "uac_stat.csv"), "-max_socket", "65000"]
    with (workdir / "uac.out").open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)  # noqa: S603 (our own argv)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(10)
    return _created_rate(workdir / "uac_stat.csv", len(numbers))


def _created_rate(stat: Path, calls: int) -> float | None:
    if not stat.exists():
        return None
    with stat.open() as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    for row in rows:
        try:
            created = int(row["OutgoingCall(C)"])
            elapsed = row["ElapsedTime(C)"]
        except (KeyError, ValueError):
            continue
        if created >= calls:
            h, m, s = elapsed.split(":")[:3]
            seconds = int(h) * 3600 + int(m) * 60 + float(s)
            return calls / seconds if seconds > 0 else None
    return None
