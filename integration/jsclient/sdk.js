// The AWS SDK for JavaScript v3, and Uppy's S3 uploader, as a web page uses
// them, for the browser tests of bucketcors (integration/sdk_browser_test.go).
// esbuild bundles this file and the libraries into one script that defines
// the global `bucketcorsSDK`.
//
// Each function runs what an app does (a signed PutObject, a lib-storage
// Upload, a presigned PUT, an Uppy upload) with the library's defaults, and
// resolves with what the page saw: the answers, or the error as the app
// would catch it. None of them rejects, so that the Go test can assert each
// failure.

import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import AwsS3 from "@uppy/aws-s3";
import Uppy from "@uppy/core";

// newClient returns a client of the proxy with the page's credentials
// (temporary ones, with a session token, as apps get them). Everything else
// is the SDK's default (checksums, user agent, invocation IDs) except the
// retries: a request that the browser blocks fails at once instead of after
// two more attempts that would be blocked the same way.
function newClient(c) {
  return new S3Client({
    endpoint: c.endpoint,
    region: c.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken || undefined,
    },
    maxAttempts: 1,
  });
}

// describe is what an app can tell of an error the SDK threw: its name
// (TypeError when the browser blocked the request, the S3 error code when S3
// answered one), its message and the HTTP status, 0 when there was none.
function describe(e) {
  return {
    name: (e && e.name) || "",
    message: (e && e.message) || String(e),
    status: (e && e.$metadata && e.$metadata.httpStatusCode) || 0,
  };
}

// putGetHead stores text under key with PutObject, as contentType, reads it
// back with GetObject, and asks HeadObject for it. It stops at the first
// call that fails and names it in failedAt.
export async function putGetHead(c, bucket, key, text, contentType) {
  const s3 = newClient(c);
  const out = { ok: false, failedAt: "", error: null };
  let step = "PutObject";
  try {
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: contentType }),
    );
    out.put = { status: put.$metadata.httpStatusCode, etag: put.ETag || "", checksumCRC32: put.ChecksumCRC32 || "" };

    step = "GetObject";
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    out.get = {
      status: get.$metadata.httpStatusCode,
      body: await get.Body.transformToString(),
      etag: get.ETag || "",
      contentType: get.ContentType || "",
      checksumCRC32: get.ChecksumCRC32 || "",
    };

    step = "HeadObject";
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    out.head = {
      status: head.$metadata.httpStatusCode,
      etag: head.ETag || "",
      contentLength: head.ContentLength || 0,
    };
    out.ok = true;
  } catch (e) {
    out.failedAt = step;
    out.error = describe(e);
  }
  return out;
}

// pattern returns size bytes of a xorshift32 sequence started at seed, each
// 32-bit word little-endian; the Go test makes the same bytes to check what
// MinIO stored.
export function pattern(size, seed) {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let x = seed >>> 0;
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    view.setUint32(i, x, true);
  }
  return bytes;
}

// multipartUpload uploads size bytes of pattern(size, seed), as a Blob (what
// a page gets from a file input), with lib-storage's Upload in parts of
// partSize, as many at a time as its default (4), and resolves with what
// done() gave or threw.
export async function multipartUpload(c, bucket, key, size, partSize, seed) {
  const upload = new Upload({
    client: newClient(c),
    params: {
      Bucket: bucket,
      Key: key,
      Body: new Blob([pattern(size, seed)], { type: "application/octet-stream" }),
      ContentType: "application/octet-stream",
    },
    partSize,
  });
  let parts = 0;
  upload.on("httpUploadProgress", (p) => {
    parts = Math.max(parts, p.part || 0);
  });
  try {
    const done = await upload.done();
    return { ok: true, etag: done.ETag || "", checksumCRC32: done.ChecksumCRC32 || "", parts, error: null };
  } catch (e) {
    return { ok: false, etag: "", checksumCRC32: "", parts, error: describe(e) };
  }
}

// presignedPut presigns a PutObject of key with getSignedUrl, as an app's
// server does, and sends text to that URL with a plain fetch, as its page
// does.
export async function presignedPut(c, bucket, key, text) {
  const url = await getSignedUrl(newClient(c), new PutObjectCommand({ Bucket: bucket, Key: key }), {
    expiresIn: 300,
  });
  try {
    const r = await fetch(url, { method: "PUT", body: text });
    return { ok: r.ok, url, status: r.status, etag: r.headers.get("ETag") || "", body: await r.text(), error: null };
  } catch (e) {
    return { ok: false, url, status: 0, etag: "", body: "", error: describe(e) };
  }
}

// uppyUpload uploads size bytes of pattern(size, seed) as one file with
// Uppy's S3 plugin, which presigns each request in the page with the
// temporary credentials (its own SigV4 code, not the SDK's) and sends it with
// XMLHttpRequest: a multipart upload in parts of partSize.
export async function uppyUpload(c, bucket, key, size, partSize, seed) {
  const uppy = new Uppy();
  uppy.use(AwsS3, {
    s3Endpoint: `${c.endpoint}/${bucket}`,
    region: c.region,
    getCredentials: async () => ({
      credentials: {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
      },
      region: c.region,
    }),
    generateObjectKey: () => key,
    shouldUseMultipart: true,
    getChunkSize: () => partSize,
    limit: 2,
  });
  uppy.addFile({
    name: key.split("/").pop(),
    type: "application/octet-stream",
    data: new Blob([pattern(size, seed)], { type: "application/octet-stream" }),
  });
  let parts = 0;
  uppy.on("s3-multipart:part-uploaded", () => {
    parts++;
  });
  const result = await uppy.upload();
  const failed = (result && result.failed) || [];
  if (failed.length > 0) {
    const e = failed[0].error;
    return { ok: false, parts, error: { name: "Error", message: String((e && e.message) || e), status: 0 } };
  }
  return { ok: true, parts, error: null };
}
