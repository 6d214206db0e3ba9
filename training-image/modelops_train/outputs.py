"""Where the artifacts go (MODELOPS_OUTPUT_URI): a directory (a mounted volume) or an S3 prefix."""
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Protocol
from urllib.parse import unquote, urlsplit

from .errors import JobInputError
from .s3 import S3Prefix


class Output(Protocol):
    def write(self, filename: str, data: bytes) -> str:
        """Stores one artifact whole; returns its sha256 digest."""


@dataclass(frozen=True)
class DirectoryOutput:
    directory: Path

    def write(self, filename: str, data: bytes) -> str:
        return write_artifact(self.directory, filename, data)


@dataclass(frozen=True)
class S3Output:
    prefix: S3Prefix

    def write(self, filename: str, data: bytes) -> str:
        self.prefix.put(filename, data)
        return sha256_digest(data)


def open_output(uri: str, environ: Mapping[str, str]) -> Output:
    """Checked before training starts, so a wrong URI or missing credentials fail in seconds."""
    parts = urlsplit(uri)
    if parts.scheme in ("", "file") and parts.path:
        return DirectoryOutput(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise JobInputError(f"MODELOPS_OUTPUT_URI {uri!r} names no bucket (s3://BUCKET/PREFIX)")
        return S3Output(S3Prefix.from_uri(parts.netloc, unquote(parts.path), environ))
    raise JobInputError(f"MODELOPS_OUTPUT_URI must be a directory path, file:// or s3:// URI, got {uri!r}")


def artifact_uri(output_uri: str, filename: str) -> str:
    return f"{output_uri.rstrip('/')}/{filename}"


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_artifact(directory: Path, filename: str, data: bytes) -> str:
    """Writes atomically (temporary file, then rename), so a reader never sees half a model; returns the digest."""
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{filename}.partial"
    temporary.write_bytes(data)
    os.replace(temporary, directory / filename)
    return sha256_digest(data)
