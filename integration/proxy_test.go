package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// TestMinIOCORSHeadersNeverReachClients compares MinIO's own answers with
// the proxy's. MinIO's global CORS echoes any Origin with credentials; the
// proxy must drop every Access-Control-* header MinIO sends and set only
// what the bucket's policy grants.
func TestMinIOCORSHeadersNeverReachClients(t *testing.T) {
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, "media")
	m.CreateBucket(t, "open")
	m.PutObject(t, "media", "a.txt", []byte("media object"), "text/plain")
	m.PutObject(t, "open", "a.txt", []byte("open object"), "text/plain")
	edgeURL := "http://" + testrig.FreeAddr(t)
	const allowed, refused = "https://app.example.com", "https://evil.example.net"
	testrig.StartCaddy(t, fmt.Sprintf(`%s {
	bucket_cors {
		policy media {
			rule {
				origins %s
				methods GET PUT HEAD
				headers content-type x-amz-*
				expose  ETag x-amz-version-id
				max_age 600
			}
		}
		policy open {
			rule {
				origins *
				methods GET
			}
		}
	}
	reverse_proxy %s
}
`, edgeURL, allowed, hostPort(t, m.Endpoint)))

	preflight := func(origin, method, headers string) map[string]string {
		h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
		if headers != "" {
			h["Access-Control-Request-Headers"] = headers
		}
		return h
	}

	// The test means something only if MinIO does send permissive headers:
	// it grants the refused origin, with credentials, on a preflight and on
	// a GET.
	t.Run("MinIO itself grants any origin", func(t *testing.T) {
		r := do(t, http.MethodOptions, m.Endpoint+"/media/a.txt", preflight(refused, "PUT", "content-type"), nil)
		got := corsHeaders(r.header)
		if got["Access-Control-Allow-Origin"] != refused || got["Access-Control-Allow-Credentials"] != "true" {
			t.Fatalf("MinIO's preflight answer: %d %v; want it to allow %s with credentials", r.status, sortedPairs(got), refused)
		}
		u := presignGet(t, m, m.Endpoint, "media", "a.txt")
		r = do(t, http.MethodGet, u, map[string]string{"Origin": refused}, nil)
		got = corsHeaders(r.header)
		if r.status != 200 || got["Access-Control-Allow-Origin"] != refused || got["Access-Control-Allow-Credentials"] != "true" {
			t.Fatalf("MinIO's GET answer: %d %v; want 200 allowing %s with credentials", r.status, sortedPairs(got), refused)
		}
	})

	t.Run("refused origin gets no Access-Control header at all", func(t *testing.T) {
		r := do(t, http.MethodOptions, edgeURL+"/media/a.txt", preflight(refused, "PUT", "content-type"), nil)
		if r.status != 403 || !strings.Contains(string(r.body), "<Code>AccessForbidden</Code>") {
			t.Errorf("preflight through the proxy: %d %s; want 403 AccessForbidden", r.status, r.body)
		}
		checkCORS(t, "refused preflight", r.header, nil)

		u := presignGet(t, m, edgeURL, "media", "a.txt")
		r = do(t, http.MethodGet, u, map[string]string{"Origin": refused}, nil)
		if r.status != 200 || string(r.body) != "media object" {
			t.Errorf("GET through the proxy: %d %q; want 200 and the object (CORS does not stop a non-browser)", r.status, r.body)
		}
		checkCORS(t, "GET from a refused origin", r.header, nil)
		// MinIO sends "Vary: Origin" itself: merged, it stays one.
		checkVaryOrigin(t, "GET from a refused origin", r.header)

		// MinIO's error answers carry its headers too.
		r = do(t, http.MethodGet, edgeURL+"/media/a.txt", map[string]string{"Origin": refused}, nil)
		if r.status != 403 {
			t.Errorf("unsigned GET through the proxy: %d, want MinIO's 403", r.status)
		}
		checkCORS(t, "403 to a refused origin", r.header, nil)
	})

	t.Run("allowed origin gets exactly the policy's headers", func(t *testing.T) {
		r := do(t, http.MethodOptions, edgeURL+"/media/a.txt", preflight(allowed, "PUT", "Content-Type,X-Amz-Meta-Owner"), nil)
		if r.status != 200 || len(r.body) != 0 {
			t.Errorf("preflight: %d %q; want 200 with no body", r.status, r.body)
		}
		checkCORS(t, "allowed preflight", r.header, map[string]string{
			"Access-Control-Allow-Origin":      allowed,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET, PUT, HEAD",
			"Access-Control-Allow-Headers":     "content-type, x-amz-meta-owner", // lower case
			"Access-Control-Expose-Headers":    "ETag, x-amz-version-id",
			"Access-Control-Max-Age":           "600",
		})
		if got := r.header.Values("Vary"); len(got) != 1 || got[0] != "Origin, Access-Control-Request-Headers, Access-Control-Request-Method" {
			t.Errorf("preflight Vary = %q", got)
		}

		actual := map[string]string{
			"Access-Control-Allow-Origin":      allowed,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET, PUT, HEAD",
			"Access-Control-Expose-Headers":    "ETag, x-amz-version-id",
			"Access-Control-Max-Age":           "600",
		}
		u := presignGet(t, m, edgeURL, "media", "a.txt")
		r = do(t, http.MethodGet, u, map[string]string{"Origin": allowed}, nil)
		if r.status != 200 || string(r.body) != "media object" {
			t.Errorf("GET: %d %q; want 200 and the object", r.status, r.body)
		}
		checkCORS(t, "GET from the allowed origin", r.header, actual)
		checkVaryOrigin(t, "GET from the allowed origin", r.header)

		// HEAD: headers only, no body.
		head, err := s3.NewPresignClient(clientVia(t, m, edgeURL)).PresignHeadObject(sdkCtx(t),
			&s3.HeadObjectInput{Bucket: aws.String("media"), Key: aws.String("a.txt")})
		if err != nil {
			t.Fatal(err)
		}
		r = do(t, http.MethodHead, head.URL, map[string]string{"Origin": allowed}, nil)
		if r.status != 200 || r.header.Get("Content-Length") != "12" {
			t.Errorf("HEAD: %d, Content-Length %q; want 200, 12", r.status, r.header.Get("Content-Length"))
		}
		checkCORS(t, "HEAD from the allowed origin", r.header, actual)
		checkVaryOrigin(t, "HEAD from the allowed origin", r.header)

		// A range, as media players ask for.
		r = do(t, http.MethodGet, u, map[string]string{"Origin": allowed, "Range": "bytes=6-"}, nil)
		if r.status != 206 || string(r.body) != "object" {
			t.Errorf("GET of a range: %d %q; want 206 \"object\"", r.status, r.body)
		}
		checkCORS(t, "206 to the allowed origin", r.header, actual)

		u = presignGet(t, m, edgeURL, "media", "missing.txt")
		r = do(t, http.MethodGet, u, map[string]string{"Origin": allowed}, nil)
		if r.status != 404 {
			t.Errorf("GET of a missing key: %d, want MinIO's 404", r.status)
		}
		checkCORS(t, "404 to the allowed origin", r.header, actual)

		// A method the rule does not allow gets nothing, even from the
		// allowed origin.
		r = do(t, http.MethodDelete, edgeURL+"/media/a.txt", map[string]string{"Origin": allowed}, nil)
		if r.status != 403 {
			t.Errorf("unsigned DELETE: %d, want MinIO's 403", r.status)
		}
		checkCORS(t, "DELETE, a method the rule does not allow", r.header, nil)
		if body, ok := m.GetObject(t, "media", "a.txt"); !ok || string(body) != "media object" {
			t.Errorf("after the refused DELETE MinIO holds %q (exists %v)", body, ok)
		}
	})

	t.Run("wildcard rule sends * without MinIO's credentials header", func(t *testing.T) {
		u := presignGet(t, m, edgeURL, "open", "a.txt")
		r := do(t, http.MethodGet, u, map[string]string{"Origin": refused}, nil)
		if r.status != 200 || string(r.body) != "open object" {
			t.Errorf("GET: %d %q; want 200 and the object", r.status, r.body)
		}
		checkCORS(t, "GET under a * rule", r.header, map[string]string{
			"Access-Control-Allow-Origin":  "*",
			"Access-Control-Allow-Methods": "GET",
		})
		checkVaryOrigin(t, "GET under a * rule", r.header)
	})
}
