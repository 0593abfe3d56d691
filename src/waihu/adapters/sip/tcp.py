"""SIP over TCP (RFC 3261 section 18) for sippy, which has UDP and WebSocket transports only.

``TcpServer`` listens on the SIP stack's address and port (TCP beside UDP, as SIP servers do)
and runs its sockets on an asyncio loop in a thread of its own, like sippy's WebSocket server:

* A message goes out on the connection to its destination address: one this side opened to
  it (a trunk's ``host:port``), or one the far end opened and whose source address it is; when
  there is none, a connection is opened (and kept for what follows).
* The byte stream is cut into messages by ``Content-Length`` (mandatory over TCP; a message
  without it, or with a header block over 64 KiB, closes the connection). CRLF keep-alives
  between messages are skipped.
* Each message is handed to the SIP thread like a datagram (``InputFirst`` sees it arrive).
  The transaction manager does not retransmit over TCP (``transaction_manager_class``).

Connections stay open while in use; one idle for ``idle_timeout`` seconds is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any

from sippy.Core.EventDispatcher import ED2
from sippy.Network_server import Network_server, Network_server_opts, Remote_address
from sippy.Time.MonoTime import MonoTime

MAX_HEADERS = 65536
MAX_BODY = 1 << 20


def _nothing(*_: Any) -> None:
    return None


def split_messages(buf: bytearray) -> list[bytes]:
    """Take the complete SIP messages off the front of ``buf`` (whatever follows stays).
    Raises ValueError on a stream that cannot be framed."""
    out: list[bytes] = []
    while True:
        start = 0
        while buf[start:start + 2] == b"\r\n":  # keep-alives between messages
            start += 2
        if start:
            del buf[:start]
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEADERS:
                raise ValueError("header block too long")
            return out
        if end > MAX_HEADERS:
            raise ValueError("header block too long")
        length = content_length(bytes(buf[:end]))
        total = end + 4 + length
        if len(buf) < total:
            return out
        out.append(bytes(buf[:total]))
        del buf[:total]


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            n = int(value.strip())
            if not 0 <= n <= MAX_BODY:
                raise ValueError("bad Content-Length")
            return n
    raise ValueError("no Content-Length")


class TcpServerOpts(Network_server_opts):  # type: ignore[misc]
    pass


class TcpServer(Network_server):  # type: ignore[misc]
    """sippy's network-server interface over TCP: ``send_to(data, (host, port))`` from the SIP
    thread, incoming messages to ``uopts.data_callback`` on the SIP thread."""

    transport = "tcp"
    idle_timeout = 300.0

    def __init__(self, address: tuple[str, int], data_callback: Any,
                 on_arrival: Callable[[float], None] = _nothing,
                 on_handled: Callable[[float], None] = _nothing) -> None:
        super().__init__(TcpServerOpts(address, data_callback))
        self.on_arrival = on_arrival  # the TCP thread: a message arrived at this time (before the hand-over)
        self.on_handled = on_handled  # the SIP thread: the message that arrived then is being handled
        self.loop = asyncio.new_event_loop()
        self.writers: dict[tuple[str, int], asyncio.StreamWriter] = {}
        self.pending: dict[tuple[str, int], list[bytes]] = {}  # messages waiting for a connection
        self.server: asyncio.Server | None = None
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="sip-tcp", daemon=True)
        self.thread.start()
        self.ready.wait(5.0)
        if self.error is not None:
            raise self.error

    # ------------------------------------------------------------------ the SIP thread
    def send_to(self, data: bytes | str, address: Any, delayed: bool = False) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        host, port = address
        self.loop.call_soon_threadsafe(self._send, raw, (str(host), int(port)))

    def shutdown(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.join()

    def join(self) -> None:
        self.thread.join(5.0)

    def _deliver(self, data: bytes, address: Remote_address, rtime: Any) -> None:
        self.on_handled(rtime.monot)
        self.handle_read(data, address, rtime)

    # ------------------------------------------------------------------ the TCP thread
    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            host, port = self.uopts.laddress
            self.server = self.loop.run_until_complete(asyncio.start_server(self._accepted, host, port))
        except BaseException as ex:  # reported to the constructor
            self.error = ex
            self.ready.set()
            return
        self.ready.set()
        try:
            self.loop.run_forever()
        finally:
            self.server.close()
            for w in list(self.writers.values()):
                w.close()
            tasks = asyncio.all_tasks(self.loop)
            for task in tasks:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self.loop.close()

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        await self._serve((str(peer[0]), int(peer[1])), reader, writer)

    async def _serve(self, key: tuple[str, int], reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        self.writers[key] = writer
        buf = bytearray()
        try:
            while True:
                chunk = await asyncio.wait_for(reader.read(65536), self.idle_timeout)
                if not chunk:
                    return
                buf += chunk
                for message in split_messages(buf):
                    rtime = MonoTime()
                    self.on_arrival(rtime.monot)
                    ED2.callFromThread(self._deliver, message, Remote_address(key, self.transport), rtime)
        except (ValueError, OSError, TimeoutError, asyncio.IncompleteReadError):
            return
        finally:
            if self.writers.get(key) is writer:
                del self.writers[key]
            writer.close()

    def _send(self, data: bytes, key: tuple[str, int]) -> None:
        writer = self.writers.get(key)
        if writer is not None and not writer.is_closing():
            writer.write(data)
        elif key in self.pending:
            self.pending[key].append(data)
        else:
            self.pending[key] = [data]
            self.loop.create_task(self._connect(key))

    async def _connect(self, key: tuple[str, int]) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(*key), 5.0)
        except (OSError, TimeoutError):
            self.pending.pop(key, None)  # the transactions time out (Timer B / F): the far end is unreachable
            return
        for data in self.pending.pop(key, []):
            writer.write(data)
        with contextlib.suppress(Exception):
            await self._serve(key, reader, writer)
