"""Hyperparameters: MODELOPS_HYPERPARAMETERS is a JSON object of strings and numbers; every key has a default.

Values may arrive as strings (a TrainingJob spec is often written with quoted numbers), so each one is
parsed by its own rule and rejected with a sentence that names the key, the rule and the value.
Unknown keys are rejected too: a typo such as "epoch" would otherwise silently train with the default.
"""
import json
import math
from dataclasses import dataclass, fields
from typing import Any, Callable

from .errors import JobInputError


class HyperparameterError(JobInputError):
    pass


@dataclass(frozen=True)
class Hyperparameters:
    epochs: int = 3
    batch_size: int = 1024  # per process; the global batch is batch_size * WORLD_SIZE
    lr: float = 1e-3  # at a global batch of 256; scaled to the real global batch by lr_scaling
    lr_scaling: str = "sqrt"
    warmup_fraction: float = 0.05  # share of all optimizer steps spent ramping the learning rate up
    hidden: int = 256
    weight_decay: float = 1e-4
    val_fraction: float = 0.2
    seed: int = 7
    device: str = "auto"
    amp: str = "off"
    compile: bool = False
    reference_bins: int = 10


def _describe(value: Any) -> str:
    return json.dumps(value)


def _integer(minimum: int, maximum: int | None = None) -> Callable[[str, Any], int]:
    def parse(name: str, value: Any) -> int:
        number = _as_number(value)
        if number is None or not float(number).is_integer() or number < minimum or (maximum is not None and number > maximum):
            bounds = f">= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
            raise HyperparameterError(f"hyperparameter '{name}' must be an integer {bounds}, got {_describe(value)}")
        return int(number)

    return parse


def _real(low: float, high: float = math.inf, low_inclusive: bool = False) -> Callable[[str, Any], float]:
    def parse(name: str, value: Any) -> float:
        number = _as_number(value)
        above_low = number is not None and (number >= low if low_inclusive else number > low)
        if number is None or not math.isfinite(number) or not above_low or number >= high:
            bounds = f"{'>=' if low_inclusive else '>'} {low}" + (f" and < {high}" if math.isfinite(high) else "")
            raise HyperparameterError(f"hyperparameter '{name}' must be a number {bounds}, got {_describe(value)}")
        return float(number)

    return parse


def _choice(*options: str) -> Callable[[str, Any], str]:
    def parse(name: str, value: Any) -> str:
        if value not in options:
            raise HyperparameterError(f"hyperparameter '{name}' must be one of {', '.join(options)}, got {_describe(value)}")
        return value

    return parse


_FLAG_WORDS = {"true": True, "1": True, "false": False, "0": False}


def _flag(name: str, value: Any) -> bool:
    word = str(value).strip().lower() if isinstance(value, (bool, int, str)) else None
    if word in _FLAG_WORDS:
        return _FLAG_WORDS[word]
    raise HyperparameterError(f"hyperparameter '{name}' must be true or false, got {_describe(value)}")


def _as_number(value: Any) -> float | int | None:
    """A JSON number or a string holding one; None for anything else (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


_RULES: dict[str, Callable[[str, Any], Any]] = {
    "epochs": _integer(1),
    "batch_size": _integer(1),
    "lr": _real(0.0),
    "lr_scaling": _choice("sqrt", "linear", "none"),
    "warmup_fraction": _real(0.0, 1.0, low_inclusive=True),
    "hidden": _integer(1),
    "weight_decay": _real(0.0, low_inclusive=True),
    "val_fraction": _real(0.0, 1.0),
    "seed": _integer(0, 2**32 - 1),  # the range every seeded generator here accepts
    "device": _choice("auto", "cuda", "cpu"),
    "amp": _choice("off", "bf16"),
    "compile": _flag,
    "reference_bins": _integer(1),
}
assert set(_RULES) == {f.name for f in fields(Hyperparameters)}, "every hyperparameter needs a parsing rule"


def parse_hyperparameters(text: str | None) -> Hyperparameters:
    if text is None or not text.strip():
        return Hyperparameters()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise HyperparameterError(f"MODELOPS_HYPERPARAMETERS is not valid JSON: {error.msg} at position {error.pos}") from None
    if not isinstance(raw, dict):
        raise HyperparameterError(f"MODELOPS_HYPERPARAMETERS must be a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(_RULES))
    if unknown:
        raise HyperparameterError(f"unknown hyperparameter(s) {', '.join(unknown)}; known: {', '.join(_RULES)}")
    return Hyperparameters(**{name: _RULES[name](name, value) for name, value in raw.items()})
