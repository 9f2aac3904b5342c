"""Which S3 operation a REST request is, from its method, path, query and headers.

Path-style addressing only (`/bucket/key`): the local stack's endpoint is an IP address, for
which botocore never uses virtual-hosted buckets.
"""

from __future__ import annotations

from collections.abc import Mapping


def operation_of(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> str:
    """S3's name for the request (`PutObject`, `UploadPart`...), or `Other`."""
    parts = path.lstrip("/").split("/", 1)
    has_key = len(parts) == 2 and parts[1] != ""
    copy = "x-amz-copy-source" in {h.lower() for h in headers}
    if not has_key:
        return _bucket_operation(method, query)
    if method == "PUT":
        if "partNumber" in query and "uploadId" in query:
            return "UploadPartCopy" if copy else "UploadPart"
        return "CopyObject" if copy else "PutObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        return "Other"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    if method == "GET":
        return "ListParts" if "uploadId" in query else "GetObject"
    if method == "HEAD":
        return "HeadObject"
    return "Other"


def _bucket_operation(method: str, query: Mapping[str, str]) -> str:
    if method == "GET":
        return "ListObjectsV2" if query.get("list-type") == "2" else "ListObjects"
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    return {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(
        method, "Other"
    )
