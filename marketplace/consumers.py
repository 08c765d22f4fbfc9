import json

from channels.generic.websocket import AsyncWebsocketConsumer


class HealthConsumer(AsyncWebsocketConsumer):
    """``/ws/health/``: answers ``{"type": "ping"}`` with a pong, for probes and tests."""

    async def connect(self) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            payload = json.loads(text_data or "{}")
        except ValueError:
            payload = {}
        if isinstance(payload, dict) and payload.get("type") == "ping":
            await self.send(json.dumps({"type": "pong", "id": payload.get("id")}))
        else:
            await self.send(json.dumps({"type": "error", "message": 'Send {"type": "ping"}.'}))
