"""A TCP proxy on loopback that delays every byte the server sends by a fixed time.

    python delay_proxy.py LISTEN UPSTREAM SECONDS

Client -> server bytes pass at once; server -> client bytes are held in a delay line
(each chunk leaves SECONDS after it arrived, in order, so the delay never accumulates).
Over one long-lived HTTP/2 connection this makes every response of the agent behind it
arrive SECONDS late, without touching the agent or TLS (the proxy sees ciphertext).
SIGUSR1 switches the delay off, SIGUSR2 on again, so one deployment measures both.
Prints "ready" once listening.
"""

from __future__ import annotations

import asyncio
import signal
import sys


class Delay:
    def __init__(self, seconds: float) -> None:
        self.configured = seconds
        self.seconds = seconds


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def delayed_pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       delay: Delay) -> None:
    loop = asyncio.get_running_loop()
    line: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            due, data = await line.get()
            if not data:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(65536):
            line.put_nowait((loop.time() + delay.seconds, data))
    except (ConnectionError, asyncio.CancelledError):
        pass
    line.put_nowait((0.0, b""))
    try:
        await sender
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main(listen: str, upstream: str, seconds: float) -> None:
    delay = Delay(seconds)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, lambda: setattr(delay, "seconds", 0.0))
    loop.add_signal_handler(signal.SIGUSR2, lambda: setattr(delay, "seconds", delay.configured))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    up_host, up_port = upstream.rsplit(":", 1)

    async def handle(c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        try:
            s_reader, s_writer = await asyncio.open_connection(up_host, int(up_port))
        except OSError:
            c_writer.close()
            return
        await asyncio.gather(pipe(c_reader, s_writer), delayed_pipe(s_reader, c_writer, delay))

    host, port = listen.rsplit(":", 1)
    server = await asyncio.start_server(handle, host, int(port))
    print("ready", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
