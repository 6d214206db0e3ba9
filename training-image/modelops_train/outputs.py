"""The output directory (MODELOPS_OUTPUT_URI) and the artifacts written into it."""
import hashlib
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import JobInputError


def resolve_output_directory(uri: str) -> Path:
    parts = urlsplit(uri)
    if parts.scheme in ("", "file") and parts.path:
        return Path(unquote(parts.path))
    if parts.scheme == "s3":
        raise JobInputError("s3:// output is not supported by this image; mount a volume and set MODELOPS_OUTPUT_URI to its path")
    raise JobInputError(f"MODELOPS_OUTPUT_URI must be a directory path or file:// URI, got {uri!r}")


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
