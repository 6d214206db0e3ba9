"""Structured logs: one JSON object per line on stdout, so `kubectl logs` output can be parsed."""
import json
import sys
import time


class JsonLogger:
    def __init__(self, rank: int = 0, stream=None):
        self.rank = rank
        self.stream = stream or sys.stdout

    def info(self, event: str, **fields) -> None:
        self._emit("info", event, fields)

    def warning(self, event: str, **fields) -> None:
        self._emit("warning", event, fields)

    def _emit(self, level: str, event: str, fields: dict) -> None:
        record = {"ts": round(time.time(), 3), "level": level, "event": event, "rank": self.rank, **fields}
        self.stream.write(json.dumps(record, default=str) + "\n")
        self.stream.flush()
