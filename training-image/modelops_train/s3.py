"""Uploads to S3 or an S3-compatible store (MinIO, Ceph RGW) with AWS Signature Version 4, stdlib only.

The image stays small and has no SDK to pin: one PUT per artifact is all it needs. The signer is a
pure function, checked against AWS's documented example.
"""
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping
from urllib.error import HTTPError, URLError
from urllib.parse import quote
from urllib.request import Request, urlopen

from .errors import JobInputError

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    session_token: str | None = None

    @staticmethod
    def from_environ(environ: Mapping[str, str]) -> "Credentials":
        access_key, secret_key = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
        if not access_key or not secret_key:
            raise JobInputError("an s3:// output needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment "
                                "(the TrainingJob's output.credentialsSecret)")
        return Credentials(access_key, secret_key, environ.get("AWS_SESSION_TOKEN") or None)


def sign(method: str, host: str, path: str, headers: Mapping[str, str], payload_sha256: str, credentials: Credentials,
         region: str, now: datetime) -> str:
    """The Authorization header for a request whose `headers` already hold x-amz-date and x-amz-content-sha256."""
    day = now.strftime("%Y%m%d")
    signed = {"host": host, **{k.lower(): v.strip() for k, v in headers.items()}}
    names = sorted(signed)
    canonical_request = "\n".join([
        method,
        quote(path, safe="/~"),
        "",  # no query string
        "".join(f"{name}:{signed[name]}\n" for name in names),
        ";".join(names),
        payload_sha256,
    ])
    scope = f"{day}/{region}/s3/aws4_request"
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", now.strftime("%Y%m%dT%H%M%SZ"), scope,
                                hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = f"AWS4{credentials.secret_key}".encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"


@dataclass(frozen=True)
class S3Prefix:
    """s3://BUCKET/PREFIX on AWS (virtual-host style) or at AWS_ENDPOINT_URL (path style, as MinIO wants)."""
    bucket: str
    prefix: str
    credentials: Credentials
    region: str
    endpoint: str | None

    @staticmethod
    def from_uri(bucket: str, prefix: str, environ: Mapping[str, str]) -> "S3Prefix":
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        endpoint = (environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or "").rstrip("/") or None
        return S3Prefix(bucket, prefix.strip("/"), Credentials.from_environ(environ), region, endpoint)

    def put(self, filename: str, data: bytes, now: datetime | None = None) -> None:
        key = f"{self.prefix}/{filename}" if self.prefix else filename
        if self.endpoint:
            scheme, _, host = self.endpoint.partition("://")
            path = f"/{self.bucket}/{key}"
        else:
            scheme, host, path = "https", f"{self.bucket}.s3.{self.region}.amazonaws.com", f"/{key}"
        payload_sha256 = hashlib.sha256(data).hexdigest()
        when = now or datetime.now(timezone.utc)
        headers = {"x-amz-content-sha256": payload_sha256, "x-amz-date": when.strftime("%Y%m%dT%H%M%SZ")}
        if self.credentials.session_token:
            headers["x-amz-security-token"] = self.credentials.session_token
        headers["Authorization"] = sign("PUT", host, path, headers, payload_sha256, self.credentials, self.region, when)
        request = Request(f"{scheme}://{host}{quote(path, safe='/~')}", data=data, method="PUT", headers=headers)
        where = f"s3://{self.bucket}/{key}"
        try:
            with urlopen(request, timeout=60) as response:
                response.read()
        except HTTPError as error:
            detail = error.read().decode(errors="replace")[:300]
            raise RuntimeError(f"uploading {where} failed: HTTP {error.code} {detail}".strip()) from error
        except URLError as error:
            raise RuntimeError(f"uploading {where} failed: {error.reason}") from error
