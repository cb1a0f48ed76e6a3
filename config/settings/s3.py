"""Media in an S3 or S3-compatible bucket (django-storages), from the AWS_* variables."""

from __future__ import annotations

from urllib.parse import urlsplit

import environ


def s3_media_storage(env: environ.Env) -> dict:
    """STORAGES["default"] for media in an S3 or S3-compatible bucket, from the AWS_* variables."""
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    # A config var left empty (as the Deploy button may leave it) counts as unset. Keyed by
    # the name after AWS_.
    names = "S3_ENDPOINT_URL S3_REGION_NAME ACCESS_KEY_ID SECRET_ACCESS_KEY S3_CUSTOM_DOMAIN"
    names += " S3_ADDRESSING_STYLE REQUEST_CHECKSUM_CALCULATION RESPONSE_CHECKSUM_VALIDATION"
    s3 = {name: env(f"AWS_{name}", default="") or None for name in names.split()}
    return {
        "BACKEND": "uploads.media.storage.S3MediaStorage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            # Every key under this prefix: deployments that share a bucket each keep their own.
            "location": env("AWS_LOCATION", default="").strip("/"),
            "endpoint_url": s3["S3_ENDPOINT_URL"],
            "region_name": s3["S3_REGION_NAME"],
            "access_key": s3["ACCESS_KEY_ID"],
            "secret_key": s3["SECRET_ACCESS_KEY"],
            "custom_domain": s3["S3_CUSTOM_DOMAIN"],
            "url_protocol": env("AWS_S3_URL_PROTOCOL", default="https:"),
            "client_config": Config(
                s3={"addressing_style": s3["S3_ADDRESSING_STYLE"]},
                # SigV4 for signed links too: in the older AWS regions (us-east-1, eu-west-1…)
                # botocore signs them with SigV2, which buckets created since 2020 refuse.
                signature_version="s3v4",
                # Short timeouts: a store that accepts connections but never answers must not
                # hold a page past the router's 30 s (botocore waits 60 s, three times). The
                # page lists two prefixes: each request at most two tries of 5 s, and a pause.
                connect_timeout=3,
                read_timeout=5,
                retries={"mode": "standard", "max_attempts": 2},
                # Checksum headers only where an operation requires one: Backblaze B2, older
                # MinIO and Ceph refuse the CRC headers botocore sends by default. Read here,
                # since a value given to Config wins over botocore's own reading of them.
                request_checksum_calculation=s3["REQUEST_CHECKSUM_CALCULATION"] or "when_required",
                response_checksum_validation=s3["RESPONSE_CHECKSUM_VALIDATION"] or "when_required",
            ),
            # A custom domain serves public objects; otherwise links are signed.
            "querystring_auth": env.bool(
                "AWS_QUERYSTRING_AUTH", default=not s3["S3_CUSTOM_DOMAIN"]
            ),
            # How long a signed link lasts (SigV4: at most 7 days). Pages are rendered with
            # fresh links, and their ETag changes with them.
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=3600),
            # django-storages' defaults fit: names are fresh UUIDs, so a write overwrites (it
            # goes straight to PUT, no HEAD first to look for a free name), and it sets no
            # ACL (buckets own them).
            # One PUT per file: multipart only from 1 GiB, far above anything we store (an
            # image of IMAGE_MAX_EDGE² pixels is 64 MB as raw RGBA, at the default) and under
            # every store's 5 GB single-PUT limit. boto3's default, 8 MB, would send a large
            # image in four requests.
            "transfer_config": TransferConfig(multipart_threshold=1024**3),
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }


def media_origins(options: dict) -> list[str]:
    """Where media links point, exactly as django-storages builds them from its OPTIONS: the
    custom domain, or the endpoint (its scheme, host and port) and, unless the client
    addresses buckets path-style, its bucket subdomains."""
    if options["custom_domain"]:
        return [f"{options['url_protocol']}//{options['custom_domain']}"]
    endpoint = urlsplit(options["endpoint_url"] or "https://amazonaws.com")
    origins = [f"{endpoint.scheme}://{endpoint.netloc}"]
    if options["client_config"].s3["addressing_style"] != "path":
        origins.append(f"{endpoint.scheme}://*.{endpoint.netloc}")
    return origins
