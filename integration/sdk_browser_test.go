package integration

// The AWS SDK for JavaScript v3 in headless Chromium, through the proxy to
// MinIO: @aws-sdk/client-s3, lib-storage and s3-request-presigner, and
// Uppy's S3 uploader, pinned in integration/jsclient and bundled by
// ./scripts/test.sh. The SDK sends headers of its own (amz-sdk-*,
// x-amz-user-agent, and since 3.729 CRC32 checksums) and reads response
// headers (ETag, x-amz-checksum-crc32), so a policy that works with a
// hand-written fetch can still break every upload.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// The AllowedHeaders and ExposeHeaders that the README's recipes give, so
// that the SDK works: the names it sends, and the response headers it
// reads.
const (
	sdkAllowedHeaders = "authorization content-type x-amz-* amz-sdk-*"
	sdkExposeHeaders  = "ETag x-amz-checksum-crc32"
)

// sdkPutPreflight is the Access-Control-Request-Headers of the preflight
// that Chromium sends before the SDK's PutObject of a JSON document with
// temporary credentials, checksums on (the default): every name a policy
// must allow. (Chromium lists content-type for every type but the three
// that a form could send: text/plain, multipart/form-data and
// application/x-www-form-urlencoded.)
const sdkPutPreflight = "amz-sdk-invocation-id,amz-sdk-request,authorization,content-type," +
	"x-amz-checksum-crc32,x-amz-content-sha256,x-amz-date,x-amz-sdk-checksum-algorithm," +
	"x-amz-security-token,x-amz-user-agent"

// sdkContentType is the type of the documents the page puts.
const sdkContentType = "application/json"

// The module's debug log line of a refused preflight.
const preflightRefusedLog = "preflight refused"

// sdkCredentials are what the page gets to sign with: temporary credentials,
// as an app's backend hands them out.
type sdkCredentials struct {
	Endpoint        string `json:"endpoint"`
	Region          string `json:"region"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
}

// sdkError is an error the SDK threw, as the page's code catches it.
type sdkError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

func (e *sdkError) String() string {
	if e == nil {
		return "no error"
	}
	return fmt.Sprintf("%s: %s (HTTP %d)", e.Name, e.Message, e.Status)
}

// sdkPutGetHeadResult is what bucketcorsSDK.putGetHead resolves with.
type sdkPutGetHeadResult struct {
	OK       bool      `json:"ok"`
	FailedAt string    `json:"failedAt"`
	Error    *sdkError `json:"error"`
	Put      struct {
		Status        int    `json:"status"`
		ETag          string `json:"etag"`
		ChecksumCRC32 string `json:"checksumCRC32"`
	} `json:"put"`
	Get struct {
		Status        int    `json:"status"`
		Body          string `json:"body"`
		ETag          string `json:"etag"`
		ContentType   string `json:"contentType"`
		ChecksumCRC32 string `json:"checksumCRC32"`
	} `json:"get"`
	Head struct {
		Status        int    `json:"status"`
		ETag          string `json:"etag"`
		ContentLength int    `json:"contentLength"`
	} `json:"head"`
}

// sdkUploadResult is what bucketcorsSDK.multipartUpload resolves with.
type sdkUploadResult struct {
	OK            bool      `json:"ok"`
	ETag          string    `json:"etag"`
	ChecksumCRC32 string    `json:"checksumCRC32"`
	Parts         int       `json:"parts"`
	Error         *sdkError `json:"error"`
}

// sdkPresignedResult is what bucketcorsSDK.presignedPut resolves with.
type sdkPresignedResult struct {
	OK     bool      `json:"ok"`
	URL    string    `json:"url"`
	Status int       `json:"status"`
	ETag   string    `json:"etag"`
	Body   string    `json:"body"`
	Error  *sdkError `json:"error"`
}

// The multipart upload: 20 MiB in lib-storage's smallest parts, 5 MiB.
// The uploads that must fail send two parts, which is enough to fail.
const (
	sdkUploadSize       = 20 << 20
	sdkPartSize         = 5 << 20
	sdkFailedUploadSize = 2 * sdkPartSize
)

// TestAWSSDKForJavaScriptInChromium loads a page with the SDK bundle from an
// allowed origin (127.0.0.1) and a refused one (evil.test), both served by
// the test's Caddy, and lets it call MinIO through the proxy under several
// policies: the browser's own CORS enforcement decides each call.
func TestAWSSDKForJavaScriptInChromium(t *testing.T) {
	bundle := testrig.JSBundle(t)
	m := testrig.StartMinIO(t)
	buckets := []string{"sdk", "content-type-only", "old-recipe", "no-authorization", "no-etag", "etag-only"}
	for _, b := range buckets {
		m.CreateBucket(t, b)
	}
	creds := sdkTemporaryCredentials(t, m)

	pagePort, edge := testrig.FreePort(t), testrig.FreeAddr(t)
	// The allowed page is on 127.0.0.1, a secure context as an app's https
	// page is (the SDK hashes with WebCrypto there, and in JavaScript
	// elsewhere); the refused one is on evil.test, which the rig maps to
	// the same server.
	app, evil := fmt.Sprintf("http://127.0.0.1:%d", pagePort), fmt.Sprintf("http://evil.test:%d", pagePort)
	edgeURL := "http://" + edge
	creds.Endpoint = edgeURL
	c := testrig.StartCaddy(t, fmt.Sprintf(`{
	# The module's refusals, which it logs at DEBUG, and nothing else at
	# that level.
	log bucket_cors {
		level DEBUG
		include http.handlers.bucket_cors
	}
}

# The page and the SDK bundle, on any host name: 127.0.0.1 and evil.test
# are two origins of this one site.
http://:%[1]d {
	root * %[2]s
	file_server
}

http://%[3]s {
	# Access log: what each request asked for.
	log
	bucket_cors {
		# What the README's recipes say.
		policy sdk {
			rule {
				origins %[4]s
				methods GET PUT POST HEAD DELETE
				headers %[5]s
				expose  %[6]s
				max_age 600
			}
		}
		policy content-type-only {
			rule {
				origins %[4]s
				methods GET PUT HEAD
				headers content-type
				expose  %[6]s
			}
		}
		# The README's MinIO recipe before it named the SDK's headers.
		policy old-recipe {
			rule {
				origins %[4]s
				methods GET PUT HEAD
				headers content-type x-amz-*
				expose  ETag
			}
		}
		policy no-authorization {
			rule {
				origins %[4]s
				methods GET PUT HEAD
				headers content-type x-amz-* amz-sdk-*
				expose  %[6]s
			}
		}
		policy no-etag {
			rule {
				origins %[4]s
				methods GET PUT POST HEAD DELETE
				headers *
				expose  x-amz-checksum-crc32
			}
		}
		policy etag-only {
			rule {
				origins %[4]s
				methods GET PUT POST HEAD DELETE
				headers *
				expose  ETag
			}
		}
	}
	reverse_proxy %[7]s
}
`, pagePort, sdkPageDir(t, bundle), edge, app, sdkAllowedHeaders, sdkExposeHeaders, hostPort(t, m.Endpoint)))
	ctx := testrig.Browser(t)
	appPage, evilPage := app+"/", evil+"/"
	t.Cleanup(func() {
		if errs := storeErrorLines(c.Logs()); len(errs) > 0 {
			t.Errorf("Caddy logged errors:\n%s", strings.Join(errs, "\n"))
		}
	})

	t.Run("PutObject, GetObject and HeadObject with the SDK's defaults", func(t *testing.T) {
		const key = "docs/hello.json"
		text := `{"stored by": "the AWS SDK for JavaScript in Chromium"}`
		r, console := sdkEval[sdkPutGetHeadResult](t, ctx, appPage, "putGetHead", creds, "sdk", key, text, sdkContentType)
		if !r.OK {
			t.Fatalf("%s failed: %s\nbrowser console:\n%s", r.FailedAt, r.Error, strings.Join(console, "\n"))
		}
		checkNoCORSConsole(t, "the SDK's calls", console)
		stored, ok := m.GetObject(t, "sdk", key)
		if !ok || string(stored) != text {
			t.Fatalf("MinIO holds %q (exists %v), want %q", stored, ok, text)
		}
		etag, crc := headETag(t, m, "sdk", key), sdkCRC32([]byte(text))
		// The SDK read every header it needs: ETag and the checksum are
		// exposed, and GetObject checked the body against the checksum.
		for _, tc := range []struct{ what, got, want string }{
			{"PutObject ETag", r.Put.ETag, etag},
			{"PutObject ChecksumCRC32", r.Put.ChecksumCRC32, crc},
			{"GetObject body", r.Get.Body, text},
			{"GetObject ETag", r.Get.ETag, etag},
			{"GetObject ContentType", r.Get.ContentType, sdkContentType},
			{"GetObject ChecksumCRC32", r.Get.ChecksumCRC32, crc},
			{"HeadObject ETag", r.Head.ETag, etag},
		} {
			if tc.got != tc.want {
				t.Errorf("%s = %q, want %q", tc.what, tc.got, tc.want)
			}
		}
		if r.Put.Status != 200 || r.Get.Status != 200 || r.Head.Status != 200 || r.Head.ContentLength != len(text) {
			t.Errorf("statuses %d %d %d, HeadObject ContentLength %d; want 200s and %d", r.Put.Status, r.Get.Status, r.Head.Status, r.Head.ContentLength, len(text))
		}
	})

	t.Run("the browser blocks the SDK when AllowedHeaders misses a name it sends", func(t *testing.T) {
		for _, tc := range []struct {
			bucket, refused string
		}{
			// x-amz-* does not cover the SDK's amz-sdk-* names: its
			// invocation ID is the first name of the preflight.
			{"content-type-only", "amz-sdk-invocation-id"},
			{"old-recipe", "amz-sdk-invocation-id"},
			// Nor does it cover authorization.
			{"no-authorization", "authorization"},
		} {
			t.Run(tc.bucket, func(t *testing.T) {
				key := "blocked/" + tc.bucket + ".json"
				r, console := sdkEval[sdkPutGetHeadResult](t, ctx, appPage, "putGetHead", creds, tc.bucket, key, `{"never": "stored"}`, sdkContentType)
				if r.OK || r.FailedAt != "PutObject" || r.Error == nil || r.Error.Name != "TypeError" || r.Error.Message != "Failed to fetch" {
					t.Errorf("putGetHead: ok %v, failed at %q with %s; want PutObject failing with TypeError: Failed to fetch\nbrowser console:\n%s",
						r.OK, r.FailedAt, r.Error, strings.Join(console, "\n"))
				}
				sdkCheckConsole(t, console, fmt.Sprintf("Access to fetch at '%s/%s/%s", edgeURL, tc.bucket, key), app,
					"Response to preflight request doesn't pass access control check")
				line := sdkWaitRefusal(t, c, tc.bucket, app)
				want := map[string]any{"method": "PUT", "reason": "header not allowed", "header": tc.refused}
				for k, v := range want {
					if line[k] != v {
						t.Errorf("%q line %v: %s = %v, want %v", preflightRefusedLog, line, k, line[k], v)
					}
				}
				// What Chromium asked for, as Caddy's access log has it.
				if got := sdkRequestedHeaders(t, c, "/"+tc.bucket+"/"+key); got != sdkPutPreflight {
					t.Errorf("Access-Control-Request-Headers of the SDK's PutObject:\n got  %s\n want %s", got, sdkPutPreflight)
				}
				if stored, ok := m.GetObject(t, tc.bucket, key); ok {
					t.Errorf("MinIO holds %q, want nothing: the browser must not have sent the PUT", stored)
				}
			})
		}
	})

	t.Run("lib-storage Upload of 20 MiB in 5 MiB parts", func(t *testing.T) {
		for _, tc := range []struct {
			name, bucket string
			size         int
			seed         uint32
			// want is the SDK error, nil for success.
			want *sdkError
		}{
			{"ETag and the checksum exposed: stored whole", "sdk", sdkUploadSize, 1, nil},
			{"ETag not exposed: the SDK cannot read the part ETags", "no-etag", sdkFailedUploadSize, 2, &sdkError{
				Name:    "Error",
				Message: "Part 1 is missing ETag in UploadPart response. Missing Bucket CORS configuration for ETag header?",
			}},
			{"checksum not exposed: MinIO refuses the parts without their checksums", "etag-only", sdkFailedUploadSize, 3, &sdkError{
				Name:   "InvalidPart",
				Status: 400,
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				key := fmt.Sprintf("uploads/%d.bin", tc.seed)
				start := time.Now()
				r, console := sdkEval[sdkUploadResult](t, ctx, appPage, "multipartUpload", creds, tc.bucket, key, tc.size, sdkPartSize, tc.seed)
				t.Logf("Upload to %s: %v", tc.bucket, time.Since(start).Round(time.Millisecond))
				if tc.want == nil {
					if !r.OK {
						t.Fatalf("Upload failed: %s\nbrowser console:\n%s", r.Error, strings.Join(console, "\n"))
					}
					checkNoCORSConsole(t, "Upload", console)
					if r.Parts != tc.size/sdkPartSize {
						t.Errorf("Upload sent %d parts, want %d", r.Parts, tc.size/sdkPartSize)
					}
					sdkCheckStored(t, m, tc.bucket, key, sdkPattern(tc.size, tc.seed))
					if etag := headETag(t, m, tc.bucket, key); r.ETag != etag {
						t.Errorf("Upload's ETag %q, MinIO's %q", r.ETag, etag)
					}
					return
				}
				if r.OK || r.Error == nil || r.Error.Name != tc.want.Name || r.Error.Status != tc.want.Status ||
					(tc.want.Message != "" && r.Error.Message != tc.want.Message) {
					t.Errorf("Upload: ok %v, error %s; want %s\nbrowser console:\n%s", r.OK, r.Error, tc.want, strings.Join(console, "\n"))
				}
				if stored, ok := m.GetObject(t, tc.bucket, key); ok {
					t.Errorf("MinIO holds %d bytes under %s, want no object", len(stored), key)
				}
			})
		}
	})

	t.Run("Uppy's S3 uploader, multipart", func(t *testing.T) {
		// Uppy presigns each request in the page and sends only
		// Content-Type; it reads the ETag of each part.
		const size = 2*sdkPartSize + 1<<20 // three parts
		for _, tc := range []struct {
			name, bucket string
			seed         uint32
			wantErr      string
		}{
			{"ETag exposed: stored whole", "sdk", 5, ""},
			{"ETag not exposed: Uppy cannot read the part ETags", "no-etag", 6, "[s3mini] Missing ETag in uploadPart response headers"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				key := fmt.Sprintf("uppy/%d.bin", tc.seed)
				r, console := sdkEval[sdkUploadResult](t, ctx, appPage, "uppyUpload", creds, tc.bucket, key, size, sdkPartSize, tc.seed)
				if tc.wantErr == "" {
					if !r.OK {
						t.Fatalf("Uppy's upload failed: %s\nbrowser console:\n%s", r.Error, strings.Join(console, "\n"))
					}
					checkNoCORSConsole(t, "Uppy's upload", console)
					if r.Parts != 3 {
						t.Errorf("Uppy uploaded %d parts, want 3", r.Parts)
					}
					sdkCheckStored(t, m, tc.bucket, key, sdkPattern(size, tc.seed))
					return
				}
				if r.OK || r.Error == nil || r.Error.Message != tc.wantErr {
					t.Errorf("Uppy's upload: ok %v, error %s; want %q\nbrowser console:\n%s", r.OK, r.Error, tc.wantErr, strings.Join(console, "\n"))
				}
				if stored, ok := m.GetObject(t, tc.bucket, key); ok {
					t.Errorf("MinIO holds %d bytes under %s, want no object", len(stored), key)
				}
			})
		}
	})

	t.Run("getSignedUrl PUT sent by fetch", func(t *testing.T) {
		// A presigned PUT asks the preflight for no header: it works under
		// the old recipe too, which blocks every other call of the SDK.
		for _, bucket := range []string{"sdk", "old-recipe"} {
			t.Run(bucket, func(t *testing.T) {
				const key = "presigned/a.txt"
				text := "sent by fetch to a URL from getSignedUrl\n"
				r, console := sdkEval[sdkPresignedResult](t, ctx, appPage, "presignedPut", creds, bucket, key, text)
				if !r.OK || r.Status != 200 {
					t.Fatalf("PUT %s: ok %v, status %d, error %s, body %q\nbrowser console:\n%s", r.URL, r.OK, r.Status, r.Error, r.Body, strings.Join(console, "\n"))
				}
				if !strings.HasPrefix(r.URL, edgeURL+"/"+bucket+"/"+key+"?") {
					t.Errorf("getSignedUrl gave %s, want a URL of the proxy", r.URL)
				}
				stored, ok := m.GetObject(t, bucket, key)
				if !ok || string(stored) != text {
					t.Fatalf("MinIO holds %q (exists %v), want %q", stored, ok, text)
				}
				if etag := headETag(t, m, bucket, key); r.ETag != etag {
					t.Errorf("ETag read by the page %q, MinIO's %q", r.ETag, etag)
				}
			})
		}
	})

	t.Run("the refused origin: every call is blocked and nothing is written", func(t *testing.T) {
		const prefix = "from-evil/"
		blocked := func(what string, e *sdkError, console []string, fetchURL string) {
			t.Helper()
			if e == nil || e.Name != "TypeError" || e.Message != "Failed to fetch" {
				t.Errorf("%s: error %s, want TypeError: Failed to fetch", what, e)
			}
			sdkCheckConsole(t, console, "Access to fetch at '"+fetchURL, evil, "")
		}
		r, console := sdkEval[sdkPutGetHeadResult](t, ctx, evilPage, "putGetHead", creds, "sdk", prefix+"a.json", `{"never": "stored"}`, sdkContentType)
		if r.OK || r.FailedAt != "PutObject" {
			t.Errorf("putGetHead: ok %v, failed at %q; want PutObject to fail", r.OK, r.FailedAt)
		}
		blocked("PutObject", r.Error, console, edgeURL+"/sdk/"+prefix+"a.json")

		u, console := sdkEval[sdkUploadResult](t, ctx, evilPage, "multipartUpload", creds, "sdk", prefix+"big.bin", sdkFailedUploadSize, sdkPartSize, 4)
		if u.OK {
			t.Error("Upload succeeded from the refused origin")
		}
		blocked("Upload", u.Error, console, edgeURL+"/sdk/"+prefix+"big.bin?uploads")

		p, console := sdkEval[sdkPresignedResult](t, ctx, evilPage, "presignedPut", creds, "sdk", prefix+"presigned.txt", "never stored")
		if p.OK || p.Status != 0 {
			t.Errorf("presigned PUT: ok %v, status %d; want it blocked", p.OK, p.Status)
		}
		blocked("presigned PUT", p.Error, console, p.URL)

		// The module refused the preflight of each call (PutObject,
		// CreateMultipartUpload, the presigned PUT) for its origin, and
		// nothing else of the bucket.
		var lines []map[string]any
		storeEventually(t, 10*time.Second, fmt.Sprintf("three %q lines for bucket sdk", preflightRefusedLog), func() (bool, string) {
			lines = storeLogsFor(storeLogEntries(c.Logs(), preflightRefusedLog), "sdk")
			return len(lines) >= 3, fmt.Sprint(lines)
		})
		for i, line := range lines {
			method := []string{"PUT", "POST", "PUT"}[min(i, 2)]
			if len(lines) != 3 || line["origin"] != evil || line["method"] != method || line["reason"] != "origin not allowed" {
				t.Errorf("%q line %d of %d: %v; want origin %s, method %s, refused as origin not allowed", preflightRefusedLog, i+1, len(lines), line, evil, method)
			}
		}
		listed, err := m.Client(t).ListObjectsV2(sdkCtx(t), &s3.ListObjectsV2Input{Bucket: aws.String("sdk"), Prefix: aws.String(prefix)})
		if err != nil {
			t.Fatalf("ListObjectsV2 on MinIO: %v", err)
		}
		uploads, err := m.Client(t).ListMultipartUploads(sdkCtx(t), &s3.ListMultipartUploadsInput{Bucket: aws.String("sdk"), Prefix: aws.String(prefix)})
		if err != nil {
			t.Fatalf("ListMultipartUploads on MinIO: %v", err)
		}
		if len(listed.Contents) != 0 || len(uploads.Uploads) != 0 {
			t.Errorf("MinIO holds %d objects and %d multipart uploads under %s, want none", len(listed.Contents), len(uploads.Uploads), prefix)
		}
	})
}

// sdkPageDir makes the folder the page site serves: index.html, which loads
// the bundle, and the bundle itself.
func sdkPageDir(t testing.TB, bundle string) string {
	t.Helper()
	dir := t.TempDir()
	js, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{
		"index.html": []byte("<!doctype html><title>bucketcors SDK page</title><link rel=\"icon\" href=\"data:,\"><script src=\"/sdk.js\"></script><body></body>\n"),
		"sdk.js":     js,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sdkTemporaryCredentials asks MinIO's STS AssumeRole, with the AWS CLI, for
// temporary credentials, as an app's backend gets them for its pages.
func sdkTemporaryCredentials(t testing.TB, m *testrig.MinIO) sdkCredentials {
	t.Helper()
	out, err := m.AWS(t, "sts", "assume-role", "--role-arn", "arn:xxx:xxx:xxx:xxxx", "--role-session-name", "page",
		"--duration-seconds", "3600", "--output", "json")
	if err != nil {
		t.Fatalf("AssumeRole on MinIO: %v", err)
	}
	var answer struct {
		Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken string }
	}
	if err := json.Unmarshal([]byte(out), &answer); err != nil || answer.Credentials.SessionToken == "" {
		t.Fatalf("AssumeRole on MinIO printed %q (%v), want credentials with a session token", out, err)
	}
	c := answer.Credentials
	return sdkCredentials{Region: m.Region, AccessKeyID: c.AccessKeyId, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
}

// sdkEvalTimeout bounds one call of the page's functions: a 20 MiB upload
// takes headless Chromium 20 s on a busy two-core machine.
const sdkEvalTimeout = 2 * time.Minute

// sdkEval loads page and awaits bucketcorsSDK.<fn>(creds, args...) there,
// returning its result and what the console got meanwhile.
func sdkEval[T any](t testing.TB, ctx context.Context, page, fn string, creds sdkCredentials, args ...any) (T, []string) {
	t.Helper()
	parts := []string{sdkJSON(t, creds)}
	for _, a := range args {
		parts = append(parts, sdkJSON(t, a))
	}
	return evalConsoleWithin[T](t, ctx, page, fmt.Sprintf("bucketcorsSDK.%s(%s)", fn, strings.Join(parts, ", ")), sdkEvalTimeout)
}

func sdkJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sdkCheckConsole fails the test unless the console has Chromium's CORS
// error for a fetch whose message starts with prefix, from origin, with
// reason (when not empty) in it.
func sdkCheckConsole(t testing.TB, console []string, prefix, origin, reason string) {
	t.Helper()
	for _, line := range console {
		if strings.Contains(line, prefix) && strings.Contains(line, "from origin '"+origin+"' has been blocked by CORS policy: ") &&
			strings.Contains(line, reason) {
			return
		}
	}
	t.Errorf("no console error %q… from origin %s… %q; the console has:\n%s", prefix, origin, reason, strings.Join(console, "\n"))
}

// sdkWaitRefusal waits for the module's debug line of a preflight refused
// for bucket and origin, and returns the last one.
func sdkWaitRefusal(t testing.TB, c *testrig.Caddy, bucket, origin string) map[string]any {
	t.Helper()
	var last map[string]any
	storeEventually(t, 10*time.Second, fmt.Sprintf("a %q line for %s", preflightRefusedLog, bucket), func() (bool, string) {
		for _, line := range storeLogsFor(storeLogEntries(c.Logs(), preflightRefusedLog), bucket) {
			if line["origin"] == origin {
				last = line
			}
		}
		return last != nil, "none"
	})
	return last
}

// sdkRequestedHeaders waits for Caddy's access log line of a preflight
// (OPTIONS) of path, and returns the Access-Control-Request-Headers it
// carried.
func sdkRequestedHeaders(t testing.TB, c *testrig.Caddy, path string) string {
	t.Helper()
	var got []string
	storeEventually(t, 10*time.Second, "an access log line of OPTIONS "+path, func() (bool, string) {
		for _, line := range storeLogEntries(c.Logs(), "handled request") {
			var entry struct {
				Request struct {
					Method  string              `json:"method"`
					URI     string              `json:"uri"`
					Headers map[string][]string `json:"headers"`
				} `json:"request"`
			}
			b, _ := json.Marshal(line)
			if json.Unmarshal(b, &entry) != nil || entry.Request.Method != "OPTIONS" {
				continue
			}
			if p, _, _ := strings.Cut(entry.Request.URI, "?"); p == path {
				got = entry.Request.Headers["Access-Control-Request-Headers"]
				return true, ""
			}
		}
		return false, "none"
	})
	return strings.Join(got, "|")
}

// sdkCheckStored reads bucket/key from MinIO itself and compares it with
// want by length and SHA-256.
func sdkCheckStored(t testing.TB, m *testrig.MinIO, bucket, key string, want []byte) {
	t.Helper()
	out, err := m.Client(t).GetObject(sdkCtx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s/%s on MinIO: %v", bucket, key, err)
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		t.Fatalf("reading %s/%s from MinIO: %v", bucket, key, err)
	}
	if wantSum := sha256.Sum256(want); n != int64(len(want)) || !bytes.Equal(h.Sum(nil), wantSum[:]) {
		t.Errorf("MinIO holds %d bytes with sha256 %x; the page sent %d bytes with sha256 %x", n, h.Sum(nil), len(want), wantSum)
	}
}

// sdkPattern makes the bytes of bucketcorsSDK.pattern: a xorshift32
// sequence from seed, each word little-endian.
func sdkPattern(size int, seed uint32) []byte {
	b := make([]byte, size)
	x := seed
	for i := 0; i+4 <= size; i += 4 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		binary.LittleEndian.PutUint32(b[i:], x)
	}
	return b
}

// sdkCRC32 is the x-amz-checksum-crc32 value of body: its CRC-32 (IEEE),
// big-endian, in base64.
func sdkCRC32(body []byte) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], crc32.ChecksumIEEE(body))
	return base64.StdEncoding.EncodeToString(b[:])
}
