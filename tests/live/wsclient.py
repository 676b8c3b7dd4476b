"""A real WebSocket client (the ``websockets`` library) for tests against Daphne."""

import asyncio
import json

import websockets


class LiveSocket:
    def __init__(self, ws):
        self.ws = ws
        self.hello = None
        self.split = []  # the rest of a received "messages" frame
        self.sizes: list[int] = []  # bytes of every frame received

    @classmethod
    async def open(cls, server, slug, cookie, *, since=None):
        url = f"{server.ws_url}/ws/circles/{slug}/" + (f"?since={since}" if since is not None else "")
        ws = await websockets.connect(
            url,
            origin=f"http://127.0.0.1:{server.port}",
            additional_headers={"Cookie": f"sessionid={cookie}"},
            max_size=2**22,
            open_timeout=10,
        )
        sock = cls(ws)
        sock.hello = await sock.recv()
        assert sock.hello["type"] == "hello", sock.hello
        return sock

    async def send(self, **frame):
        await self.ws.send(json.dumps(frame))

    async def recv(self, timeout=5.0):
        """The next frame; a ``messages`` frame is seen as its ``message`` frames."""
        if self.split:
            return self.split.pop(0)
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        self.sizes.append(len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw))
        frame = json.loads(raw)
        if frame["type"] == "messages":
            self.split = [{"type": "message", **item} for item in frame["items"]]
            return self.split.pop(0)
        return frame

    async def recv_type(self, kind, timeout=5.0):
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no {kind} frame within {timeout} s")
            frame = await self.recv(left)
            if frame["type"] == kind:
                return frame

    async def close(self):
        await self.ws.close()
