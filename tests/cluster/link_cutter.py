"""A TCP relay between cluster nodes on loopback that can cut the links
running through it, the way a network partition does: bytes stop flowing
both ways and nobody is told (no FIN, no RST), so each node has to find
out from the silence.

Usage: link_cutter.py LISTEN_PORT:TARGET_PORT [LISTEN_PORT:TARGET_PORT ...]

Listens on 127.0.0.1:LISTEN_PORT and relays each connection to
127.0.0.1:TARGET_PORT. Prints "ready" once listening, then reads one
command per line on stdin and answers each on stdout once it took effect:

  cut    -> "cut": every connection stops carrying bytes (what arrives is
            read and dropped, a close is not passed on), and new
            connections are accepted but never relayed.
  heal   -> "healed": the connections from before are closed (their byte
            streams have a gap, so they can never carry traffic again) and
            new connections are relayed again.
  quit   -> exits (so does end of input).

Only loopback addresses are used, and the process ends with its input.
"""

import asyncio
import sys

CHUNK = 64 * 1024


class Relay:
    def __init__(self, routes):
        self.routes = routes
        self.cut = False
        self.generation = 0
        self.connections = []  # (generation, [writers])

    async def start(self):
        servers = []
        for listen_port, target_port in self.routes:
            servers.append(await asyncio.start_server(
                lambda r, w, t=target_port: self.accept(r, w, t),
                "127.0.0.1", listen_port))
        return servers

    def live(self, generation):
        return not self.cut and generation == self.generation

    async def accept(self, reader, writer, target_port):
        generation = self.generation
        writers = [writer]
        self.connections.append((generation, writers))
        if self.cut:
            await self.swallow(reader)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(
                "127.0.0.1", target_port)
        except OSError:
            writer.close()
            return
        writers.append(up_writer)
        await asyncio.gather(self.pump(reader, up_writer, generation),
                             self.pump(up_reader, writer, generation))

    async def swallow(self, reader):
        try:
            while await reader.read(CHUNK):
                pass
        except (ConnectionError, OSError):
            pass

    async def pump(self, source, sink, generation):
        try:
            while True:
                data = await source.read(CHUNK)
                if not data:
                    break
                if self.live(generation):
                    sink.write(data)
                    await sink.drain()
        except (ConnectionError, OSError):
            pass
        # A close crosses only while the link is up: a partition tells
        # nobody anything.
        if self.live(generation):
            sink.close()

    def heal(self):
        self.cut = False
        self.generation += 1
        for generation, writers in self.connections:
            if generation < self.generation:
                for writer in writers:
                    writer.close()
        self.connections = [c for c in self.connections
                            if c[0] == self.generation]


async def main(routes):
    relay = Relay(routes)
    servers = await relay.start()
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    print("ready", flush=True)
    while True:
        line = (await commands.readline()).decode().strip()
        if line == "cut":
            relay.cut = True
            print("cut", flush=True)
        elif line == "heal":
            relay.heal()
            print("healed", flush=True)
        elif line in ("quit", ""):
            break
        else:
            print(f"unknown command {line!r}", flush=True)
    for server in servers:
        server.close()


if __name__ == "__main__":
    pairs = []
    for argument in sys.argv[1:]:
        listen, target = argument.split(":")
        pairs.append((int(listen), int(target)))
    if not pairs:
        sys.exit(__doc__)
    asyncio.run(main(pairs))
