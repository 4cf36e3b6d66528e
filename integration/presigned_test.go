package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// TestBrowserPresignedPut uploads from a page with URLs that aws-sdk-go-v2
// presigned for the proxy's address, as a web app hands them to its pages.
// A PUT with Content-Type: application/json is preflighted; the module
// answers the preflight, and the browser sends the PUT only when the rule
// allows that header.
func TestBrowserPresignedPut(t *testing.T) {
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, "uploads")
	m.CreateBucket(t, "strict")
	pg := startPages(t)
	app := pg.origin("app.test")
	edgeURL := "http://" + testrig.FreeAddr(t)
	testrig.StartCaddy(t, fmt.Sprintf(`%[1]s {
	bucket_cors {
		policy uploads {
			rule {
				origins %[2]s
				methods PUT
				headers content-type
				expose  ETag
			}
		}
		# PUT is allowed, but no request header: a preflight that asks for
		# Content-Type is refused.
		policy strict {
			rule {
				origins %[2]s
				methods PUT
			}
		}
	}
	reverse_proxy %[3]s
}
`, edgeURL, app, hostPort(t, m.Endpoint)))
	ctx := testrig.Browser(t)
	page := pg.url("app.test", "/")
	body := `{"upload": "from the page", "n": 1}`
	put := &testrig.FetchOptions{Method: "PUT", Headers: map[string]string{"Content-Type": "application/json"}, Body: body}

	t.Run("allowed header: the upload succeeds and MinIO holds the bytes", func(t *testing.T) {
		u, signed := presignPut(t, m, edgeURL, "uploads", "doc.json", "application/json")
		if got := signed.Get("Content-Type"); got != "application/json" {
			t.Fatalf("the presigned URL does not sign Content-Type (signed headers %v)", signed)
		}
		r := testrig.Fetch(t, ctx, page, u, put)
		if r.Status != 200 || r.Error != "" {
			t.Fatalf("presigned PUT from %s: status %d, error %q, body %q; want 200", app, r.Status, r.Error, r.Body)
		}
		checkNoCORSConsole(t, "presigned PUT", r.Console)
		stored, ok := m.GetObject(t, "uploads", "doc.json")
		if !ok || string(stored) != body {
			t.Fatalf("MinIO holds %q (exists %v), want exactly %q", stored, ok, body)
		}
		if etag := headETag(t, m, "uploads", "doc.json"); r.Headers["etag"] != etag {
			t.Errorf("ETag seen by the page = %q, want MinIO's %q", r.Headers["etag"], etag)
		}
		out, err := m.Client(t).HeadObject(sdkCtx(t), &s3.HeadObjectInput{Bucket: aws.String("uploads"), Key: aws.String("doc.json")})
		if err != nil {
			t.Fatalf("HeadObject on MinIO: %v", err)
		}
		if got := aws.ToString(out.ContentType); got != "application/json" {
			t.Errorf("stored Content-Type = %q, want application/json", got)
		}
	})

	t.Run("header not allowed: the browser refuses and MinIO holds nothing", func(t *testing.T) {
		u, _ := presignPut(t, m, edgeURL, "strict", "doc.json", "application/json")
		r := testrig.Fetch(t, ctx, page, u, put)
		checkBlocked(t, "presigned PUT with a header the rule does not allow", r, u, app,
			"Response to preflight request doesn't pass access control check: "+
				"No 'Access-Control-Allow-Origin' header is present on the requested resource.")
		if stored, ok := m.GetObject(t, "strict", "doc.json"); ok {
			t.Errorf("MinIO holds %q, want no object: the browser must not have sent the PUT", stored)
		}
	})
}

// TestPresignedURLsThroughProxy sends SigV4-signed requests through the
// proxy with a plain HTTP client: a signature covers the method, the path
// and query as sent and the Host, so MinIO accepts the request only when the
// proxy forwarded all of them unchanged.
func TestPresignedURLsThroughProxy(t *testing.T) {
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, "files")
	minioHost := hostPort(t, m.Endpoint)
	edge, recipe, noRecipe := testrig.FreeAddr(t), testrig.FreeAddr(t), testrig.FreeAddr(t)
	const policy = `bucket_cors {
		policy files {
			rule {
				origins https://app.example.com
				methods GET PUT HEAD
				headers content-type
				expose  ETag
			}
		}
	}`
	testrig.StartCaddy(t, fmt.Sprintf(`# The MinIO recipe: URLs are presigned for the proxy's address, and Caddy
# passes the client's Host to a plain-http upstream.
http://%[1]s {
	%[4]s
	reverse_proxy %[5]s
}

# The R2 recipe, for an upstream that checks the Host against its own
# address: header_up sends the upstream's.
http://%[2]s {
	%[4]s
	reverse_proxy %[5]s {
		header_up Host {http.reverse_proxy.upstream.hostport}
	}
}

# The R2 recipe without its header_up line.
http://%[3]s {
	%[4]s
	reverse_proxy %[5]s
}
`, edge, recipe, noRecipe, policy, minioHost))
	edgeURL := "http://" + edge
	const origin = "https://app.example.com"
	grant := map[string]string{
		"Access-Control-Allow-Origin":      origin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "GET, PUT, HEAD",
		"Access-Control-Expose-Headers":    "ETag",
	}

	// A key with characters that a proxy could decode, normalise or
	// re-encode: space, plus, percent, tilde, an equals sign, a
	// non-ASCII letter and "..". (MinIO refuses keys with "//".)
	const key = "dir/a b+c%20d~e=f/..ü;x,y.txt"

	t.Run("presigned PUT and GET pass unchanged with the Host kept", func(t *testing.T) {
		body := []byte("bytes sent through a presigned PUT\n")
		u, signed := presignPut(t, m, edgeURL, "files", key, "text/plain")
		header := map[string]string{"Origin": origin}
		for k := range signed {
			if !strings.EqualFold(k, "Host") {
				header[k] = signed.Get(k)
			}
		}
		r := do(t, http.MethodPut, u, header, body)
		if r.status != 200 {
			t.Fatalf("presigned PUT %s: %d %s", u, r.status, r.body)
		}
		checkCORS(t, "presigned PUT", r.header, grant)
		stored, ok := m.GetObject(t, "files", key)
		if !ok || !bytes.Equal(stored, body) {
			t.Fatalf("MinIO holds %q under %q (exists %v), want %q", stored, key, ok, body)
		}
		etag := headETag(t, m, "files", key)
		if r.header.Get("ETag") != etag {
			t.Errorf("PUT answered ETag %q, MinIO has %q", r.header.Get("ETag"), etag)
		}

		u = presignGet(t, m, edgeURL, "files", key)
		r = do(t, http.MethodGet, u, map[string]string{"Origin": origin}, nil)
		if r.status != 200 || !bytes.Equal(r.body, body) {
			t.Fatalf("presigned GET %s: %d %q, want 200 %q", u, r.status, r.body, body)
		}
		if r.header.Get("ETag") != etag || r.header.Get("Content-Type") != "text/plain" {
			t.Errorf("presigned GET: ETag %q, Content-Type %q; want %q, text/plain",
				r.header.Get("ETag"), r.header.Get("Content-Type"), etag)
		}
		checkCORS(t, "presigned GET", r.header, grant)
		checkVaryOrigin(t, "presigned GET", r.header)

		// Without an Origin, the same URL works and gets no CORS headers.
		r = do(t, http.MethodGet, u, nil, nil)
		if r.status != 200 || !bytes.Equal(r.body, body) {
			t.Errorf("presigned GET without Origin: %d %q", r.status, r.body)
		}
		checkCORS(t, "presigned GET without Origin", r.header, nil)
	})

	t.Run("multipart upload of 64 MiB through the proxy arrives intact", func(t *testing.T) {
		const partSize, parts = 16 << 20, 4
		data := make([]byte, partSize*parts)
		rng := rand.NewChaCha8([32]byte{1})
		rng.Read(data)
		want := sha256.Sum256(data)

		// The SDK's defaults, as an uploader has them (checksums where S3
		// supports them), with the proxy for endpoint.
		client := clientVia(t, m, edgeURL)
		ctx := sdkCtx(t)
		bucket, mkey := aws.String("files"), aws.String("big/upload.bin")
		created, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: mkey})
		if err != nil {
			t.Fatalf("CreateMultipartUpload through the proxy: %v", err)
		}
		// Two parts at a time, as an uploader sends them.
		completed := make([]types.CompletedPart, parts)
		errs := make([]error, parts)
		sem := make(chan struct{}, 2)
		var wg sync.WaitGroup
		for i := range parts {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				n := int32(i + 1)
				out, err := client.UploadPart(ctx, &s3.UploadPartInput{
					Bucket: bucket, Key: mkey, UploadId: created.UploadId, PartNumber: aws.Int32(n),
					Body: bytes.NewReader(data[i*partSize : (i+1)*partSize]),
				})
				if err != nil {
					errs[i] = fmt.Errorf("UploadPart %d: %w", n, err)
					return
				}
				completed[i] = types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("through the proxy: %v", err)
			}
		}
		if _, err := client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: bucket, Key: mkey, UploadId: created.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
		}); err != nil {
			t.Fatalf("CompleteMultipartUpload through the proxy: %v", err)
		}

		// Read back from MinIO itself, not through the proxy.
		out, err := m.Client(t).GetObject(sdkCtx(t), &s3.GetObjectInput{Bucket: bucket, Key: mkey})
		if err != nil {
			t.Fatalf("GetObject on MinIO: %v", err)
		}
		defer out.Body.Close()
		h := sha256.New()
		n, err := io.Copy(h, out.Body)
		if err != nil {
			t.Fatalf("reading the object from MinIO: %v", err)
		}
		if n != int64(len(data)) || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("MinIO holds %d bytes with sha256 %x; sent %d bytes with sha256 %s",
				n, h.Sum(nil), len(data), hex.EncodeToString(want[:]))
		}

		// Streamed back through the proxy to a page's origin, it arrives
		// whole, with the policy's headers.
		u := presignGet(t, m, edgeURL, "files", "big/upload.bin")
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatalf("GET through the proxy: %v", err)
		}
		defer resp.Body.Close()
		h.Reset()
		n, err = io.Copy(h, resp.Body)
		if err != nil || resp.StatusCode != 200 || n != int64(len(data)) || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Errorf("GET through the proxy: %d, %d bytes with sha256 %x (%v); want 200 and what was sent", resp.StatusCode, n, h.Sum(nil), err)
		}
		checkCORS(t, "GET of the upload", resp.Header, grant)
	})

	// The R2 recipe (README, Caddyfile.example):
	//
	//	reverse_proxy https://<account>.r2.cloudflarestorage.com {
	//		header_up Host {http.reverse_proxy.upstream.host}
	//	}
	//
	// R2 checks the Host of a request against its own endpoint, so the
	// client presigns for <account>.r2.cloudflarestorage.com and sends the
	// same path and query to the proxy's address; the proxy must then send
	// the upstream's own Host. MinIO stands in for R2 here: a URL presigned
	// for MinIO's own address (127.0.0.1:<minio port>) is sent to the proxy
	// (127.0.0.1:<another port>). MinIO is a plain-http upstream on a
	// non-default port, so its Host is host:port, hence
	// {http.reverse_proxy.upstream.hostport}; R2 is https on the default
	// port 443, which a signed Host leaves out, hence
	// {http.reverse_proxy.upstream.host} there. For a plain-http upstream
	// Caddy passes the client's Host on, which breaks such a signature: the
	// second case shows the recipe's line is what makes it work.
	t.Run("R2 recipe: header_up Host sends the upstream's own Host", func(t *testing.T) {
		body := []byte("signed for the upstream's own host\n")
		m.PutObject(t, "files", "r2/object.txt", body, "text/plain")
		signedForMinIO := presignGet(t, m, m.Endpoint, "files", "r2/object.txt")
		if !strings.HasPrefix(signedForMinIO, m.Endpoint+"/") {
			t.Fatalf("presigned URL %s is not for MinIO's address", signedForMinIO)
		}
		pathAndQuery := strings.TrimPrefix(signedForMinIO, m.Endpoint)

		r := do(t, http.MethodGet, "http://"+recipe+pathAndQuery, map[string]string{"Origin": origin}, nil)
		if r.status != 200 || !bytes.Equal(r.body, body) {
			t.Fatalf("through the recipe's proxy: %d %q, want 200 %q", r.status, r.body, body)
		}
		checkCORS(t, "through the recipe's proxy", r.header, grant)

		r = do(t, http.MethodGet, "http://"+noRecipe+pathAndQuery, map[string]string{"Origin": origin}, nil)
		if r.status != 403 || !strings.Contains(string(r.body), "<Code>SignatureDoesNotMatch</Code>") {
			t.Errorf("without header_up Host: %d %q, want 403 SignatureDoesNotMatch", r.status, r.body)
		}
		// The error reaches a page with the policy's headers.
		checkCORS(t, "403 without header_up Host", r.header, grant)

		// The same for an upload: stored through the recipe, refused
		// without it.
		for _, tc := range []struct {
			proxy, key string
			status     int
		}{{recipe, "r2/with-recipe.txt", 200}, {noRecipe, "r2/without-recipe.txt", 403}} {
			u, signed := presignPut(t, m, m.Endpoint, "files", tc.key, "text/plain")
			r := do(t, http.MethodPut, "http://"+tc.proxy+strings.TrimPrefix(u, m.Endpoint),
				map[string]string{"Origin": origin, "Content-Type": signed.Get("Content-Type")}, body)
			if r.status != tc.status {
				t.Errorf("presigned PUT of %s: %d %s, want %d", tc.key, r.status, r.body, tc.status)
			}
			stored, ok := m.GetObject(t, "files", tc.key)
			if tc.status == 200 && (!ok || !bytes.Equal(stored, body)) {
				t.Errorf("through the recipe, MinIO holds %q (exists %v), want %q", stored, ok, body)
			}
			if tc.status != 200 && ok {
				t.Errorf("without header_up Host, MinIO holds %q, want no object", stored)
			}
		}
	})
}
