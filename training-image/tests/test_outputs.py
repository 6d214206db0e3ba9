"""Where the artifacts go: a directory, or S3 through the stdlib SigV4 signer."""
import hashlib
import threading
import unittest
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tempfile import TemporaryDirectory

import context  # noqa: F401

from modelops_train.errors import JobInputError
from modelops_train.outputs import DirectoryOutput, S3Output, open_output
from modelops_train.s3 import EMPTY_SHA256, Credentials, sign

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


class SignerTest(unittest.TestCase):
    def test_matches_the_aws_documented_example(self):
        # "GET Object" in AWS's Signature Version 4 examples for S3 (Authenticating Requests: Using the Authorization Header).
        authorization = sign(
            "GET", "examplebucket.s3.amazonaws.com", "/test.txt",
            {"Range": "bytes=0-9", "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": "20130524T000000Z"},
            EMPTY_SHA256, Credentials(CREDENTIALS["AWS_ACCESS_KEY_ID"], CREDENTIALS["AWS_SECRET_ACCESS_KEY"]), "us-east-1",
            datetime(2013, 5, 24, tzinfo=timezone.utc))
        self.assertEqual(authorization,
                         "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                         "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                         "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")


class FakeS3(BaseHTTPRequestHandler):
    """Stores PUT bodies by path; answers 403 for the bucket named 'locked'."""
    objects: dict = {}
    headers_seen: dict = {}

    def do_PUT(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path.startswith("/locked/"):
            self.send_response(403)
            self.end_headers()
            self.wfile.write(b"<Error><Code>AccessDenied</Code></Error>")
            return
        FakeS3.objects[self.path] = body
        FakeS3.headers_seen[self.path] = self.headers  # case-insensitive, as HTTP headers are
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class OpenOutputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), FakeS3)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.endpoint = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def test_a_path_or_file_uri_is_a_directory(self):
        with TemporaryDirectory() as tmp:
            for uri in (tmp, f"file://{tmp}"):
                output = open_output(uri, {})
                self.assertEqual(output, DirectoryOutput(Path(tmp)))
            digest = output.write("model.onnx", b"onnx bytes")
            self.assertEqual((Path(tmp) / "model.onnx").read_bytes(), b"onnx bytes")
            self.assertEqual(digest, "sha256:" + hashlib.sha256(b"onnx bytes").hexdigest())

    def test_s3_puts_each_artifact_signed_under_the_prefix(self):
        output = open_output("s3://models/fraud/run-7", {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": "eu-west-1"})
        self.assertIsInstance(output, S3Output)
        digest = output.write("model.onnx", b"onnx bytes")
        self.assertEqual(FakeS3.objects["/models/fraud/run-7/model.onnx"], b"onnx bytes")
        self.assertEqual(digest, "sha256:" + hashlib.sha256(b"onnx bytes").hexdigest())
        headers = FakeS3.headers_seen["/models/fraud/run-7/model.onnx"]
        self.assertEqual(headers["x-amz-content-sha256"], hashlib.sha256(b"onnx bytes").hexdigest())
        self.assertRegex(headers["Authorization"],
                         r"^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/\d{8}/eu-west-1/s3/aws4_request, "
                         r"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$")

    def test_s3_without_credentials_is_refused_before_training(self):
        with self.assertRaisesRegex(JobInputError, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
            open_output("s3://models/fraud", {})

    def test_s3_without_a_bucket_is_refused(self):
        with self.assertRaisesRegex(JobInputError, "names no bucket"):
            open_output("s3:///fraud", CREDENTIALS)

    def test_a_refused_upload_says_where_and_why(self):
        output = open_output("s3://locked/fraud", {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint})
        with self.assertRaisesRegex(RuntimeError, r"uploading s3://locked/fraud/model.onnx failed: HTTP 403 <Error><Code>AccessDenied"):
            output.write("model.onnx", b"x")

    def test_other_schemes_are_refused(self):
        with self.assertRaisesRegex(JobInputError, "directory path, file:// or s3:// URI"):
            open_output("gs://bucket/x", {})


if __name__ == "__main__":
    unittest.main()
