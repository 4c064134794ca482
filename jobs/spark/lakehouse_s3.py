"""Single objects on S3-compatible storage through SigV4-signed HTTP, path-style, as the Node
engine's S3FileIO (jobs/lake/io/s3-file-io.ts) addresses them: read with its ETag, created only if
absent (`If-None-Match: *`), replaced only while unchanged (`If-Match`), deleted. The writer lease
needs these conditional writes, which Iceberg's FileIO does not offer. Python's standard library
only: the driver's Python has no AWS client."""

import datetime
import hashlib
import hmac
import re
import urllib.error
import urllib.parse
import urllib.request

_TIMEOUT_SECONDS = 60


class S3Error(Exception):
    """A request the store refused or did not answer: the method, the location and its answer."""


def parse_s3_uri(uri: str) -> tuple[str, str]:
    match = re.match(r"^s3a?://([^/]+)/?(.*)$", uri)
    if not match:
        raise ValueError(f"{uri}: not an s3:// location")
    return match.group(1), match.group(2)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


class S3Objects:
    def __init__(self, endpoint: str, region: str, access_key_id: str, secret_access_key: str):
        self.endpoint = (endpoint or f"https://s3.{region}.amazonaws.com").rstrip("/")
        self.region = region
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key

    def _path(self, uri: str) -> str:
        bucket, key = parse_s3_uri(uri)
        quote = lambda part: urllib.parse.quote(part, safe="-_.~")  # noqa: E731
        return f"/{quote(bucket)}/" + "/".join(quote(part) for part in key.split("/"))

    def _signed(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        """`headers` with SigV4's: every header sent is signed (as aws4fetch does)."""
        now = datetime.datetime.now(datetime.UTC)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        host = urllib.parse.urlsplit(self.endpoint).netloc
        signed = {
            **{k.lower(): v.strip() for k, v in headers.items()},
            "host": host,
            "x-amz-content-sha256": _sha256(body),
            "x-amz-date": amz_date,
        }
        names = sorted(signed)
        canonical = "\n".join(
            [
                method,
                path,
                "",
                "".join(f"{name}:{signed[name]}\n" for name in names),
                ";".join(names),
                signed["x-amz-content-sha256"],
            ]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, _sha256(canonical.encode("utf-8"))])
        key = _hmac(("AWS4" + self.secret_access_key).encode("utf-8"), day)
        for part in (self.region, "s3", "aws4_request"):
            key = _hmac(key, part)
        signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        signed["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.access_key_id}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )
        del signed["host"]  # urllib sends it itself, the same
        return signed

    def _request(self, method: str, uri: str, body: bytes = b"", headers: dict[str, str] | None = None):
        """(status, headers, body) of one request; a status of 400 and above is returned, not raised."""
        path = self._path(uri)
        request = urllib.request.Request(
            self.endpoint + path,
            data=body if method in ("PUT", "POST") else None,
            method=method,
            headers=self._signed(method, path, body, headers or {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()
        except OSError as error:
            raise S3Error(f"{method} {uri} at {self.endpoint}: {error}") from None

    @staticmethod
    def _fail(method: str, uri: str, status: int, body: bytes):
        text = body.decode("utf-8", "replace")
        code = re.search(r"<Code>(.*?)</Code>", text)
        message = re.search(r"<Message>(.*?)</Message>", text)
        detail = " ".join(m.group(1) for m in (code, message) if m) or text[:200]
        raise S3Error(f"{method} {uri}: {status} {detail}".strip())

    def read_versioned(self, uri: str) -> tuple[bytes, str] | None:
        """The object and its ETag; None when there is none."""
        status, headers, body = self._request("GET", uri)
        if status == 404:
            return None
        if status >= 300:
            self._fail("GET", uri, status, body)
        etag = next((v for k, v in headers.items() if k.lower() == "etag"), "")
        return body, etag

    def create(self, uri: str, data: bytes) -> bool:
        """Writes the object only if there is none: False when one exists."""
        status, _, body = self._request("PUT", uri, data, {"If-None-Match": "*"})
        if status in (409, 412):
            return False
        if status >= 300:
            self._fail("PUT", uri, status, body)
        return True

    def replace(self, uri: str, data: bytes, etag: str) -> bool:
        """Replaces the object only while its ETag is `etag`: False when it changed or is gone."""
        status, _, body = self._request("PUT", uri, data, {"If-Match": etag})
        if status in (404, 409, 412):
            return False
        if status >= 300:
            self._fail("PUT", uri, status, body)
        return True

    def delete(self, uri: str) -> None:
        status, _, body = self._request("DELETE", uri)
        if status >= 300 and status != 404:
            self._fail("DELETE", uri, status, body)
