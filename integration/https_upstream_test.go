package integration

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// httpsPolicy is the R2 recipe's policy_file, media.json, as the README
// gives it: R2's dashboard JSON.
const httpsPolicy = `[
  {
    "AllowedOrigins": ["https://app.example.com"],
    "AllowedMethods": ["GET", "PUT", "POST", "HEAD", "DELETE"],
    "AllowedHeaders": ["authorization", "content-type", "x-amz-*", "amz-sdk-*"],
    "ExposeHeaders": ["ETag", "x-amz-checksum-crc32"],
    "MaxAgeSeconds": 3600
  }
]
`

// TestR2RecipeWithAnHTTPSUpstream runs the README's R2 recipe in front of
// an https upstream named as R2 is, by a host name on the default port:
// `reverse_proxy https://r2.test`. The upstream is a MinIO serving https
// with a certificate for r2.test from a CA made for the test.
//
// Caddy runs the recipe as the README gives it. Two things stand in for
// what the Internet gives a real proxy, both through Caddy's environment:
// SSL_CERT_FILE makes the test's CA the one Caddy trusts, as a public CA
// is; and HTTPS_PROXY points Caddy's Go clients (reverse_proxy's transport,
// and the module's own for policy_origin) at a CONNECT proxy that carries
// r2.test:443 to MinIO's loopback port. TLS runs end to end, with r2.test
// for SNI and the certificate check, and the Host header is what Caddy
// sets.
func TestR2RecipeWithAnHTTPSUpstream(t *testing.T) {
	t.Parallel()
	ca := testrig.NewCA(t)
	cert := ca.Issue(t, "r2.test", "echo.test", "standin.test", "127.0.0.1")
	m := testrig.StartMinIO(t, testrig.MinIOTLS(ca, cert))
	m.CreateBucket(t, "media")

	echo := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Host)
	}))
	echo.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	echo.StartTLS()
	t.Cleanup(echo.Close)
	standIn := &storeStandIn{}
	standInSrv := httptest.NewUnstartedServer(standIn)
	standInSrv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	standInSrv.StartTLS()
	t.Cleanup(standInSrv.Close)
	tunnel := testrig.StartConnectProxy(t, map[string]string{
		"r2.test:443":      hostPort(t, m.Endpoint),
		"echo.test:443":    echo.Listener.Addr().String(),
		"standin.test:443": standInSrv.Listener.Addr().String(),
	})

	policyFile := filepath.Join(t.TempDir(), "media.json")
	if err := os.WriteFile(policyFile, []byte(httpsPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	recipe, noHeaderUp, echoRecipe, echoDefault, originMinIO, originR2 :=
		testrig.FreeAddr(t), testrig.FreeAddr(t), testrig.FreeAddr(t), testrig.FreeAddr(t), testrig.FreeAddr(t), testrig.FreeAddr(t)
	c := testrig.StartCaddy(t, fmt.Sprintf(`# The README's R2 recipe.
http://%[1]s {
	bucket_cors {
		policy_file media %[7]s
	}
	reverse_proxy https://r2.test {
		header_up Host {http.reverse_proxy.upstream.host}
	}
}

# The same without its header_up line.
http://%[2]s {
	bucket_cors {
		policy_file media %[7]s
	}
	reverse_proxy https://r2.test
}

# What Host each sends: an upstream that answers with the Host it got.
http://%[3]s {
	reverse_proxy https://echo.test {
		header_up Host {http.reverse_proxy.upstream.host}
	}
}

http://%[4]s {
	reverse_proxy https://echo.test
}

# The R2 recipe's policy_origin, against MinIO over https...
http://%[5]s {
	bucket_cors {
		policy_origin {
			endpoint   https://r2.test
			access_key %[8]s
			secret_key %[9]s
		}
	}
	reverse_proxy https://r2.test {
		header_up Host {http.reverse_proxy.upstream.host}
	}
}

# ...and against a stand-in for R2's GetBucketCors over https, since MinIO
# keeps no bucket CORS to answer with.
http://%[6]s {
	bucket_cors {
		policy_origin {
			endpoint   https://standin.test
			region     auto
			access_key %[8]s
			secret_key %[9]s
		}
	}
	reverse_proxy https://r2.test {
		header_up Host {http.reverse_proxy.upstream.host}
	}
}
`, recipe, noHeaderUp, echoRecipe, echoDefault, originMinIO, originR2, policyFile, m.AccessKey, m.SecretKey),
		testrig.CaddyEnv("SSL_CERT_FILE="+ca.CertFile, "HTTPS_PROXY="+tunnel.URL, "https_proxy="+tunnel.URL, "NO_PROXY=", "no_proxy="))

	const origin = "https://app.example.com"
	grant := map[string]string{
		"Access-Control-Allow-Origin":      origin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "GET, PUT, POST, HEAD, DELETE",
		"Access-Control-Expose-Headers":    "ETag, x-amz-checksum-crc32",
		"Access-Control-Max-Age":           "3600",
	}
	// URLs presigned for the upstream's own address, https://r2.test (port
	// 443, which a signed Host leaves out), as an app presigns them for
	// <account>.r2.cloudflarestorage.com; the client sends their path and
	// query to the proxy.
	const upstream = "https://r2.test"
	viaProxy := func(proxy, presigned string) string {
		t.Helper()
		pathAndQuery, ok := strings.CutPrefix(presigned, upstream+"/")
		if !ok {
			t.Fatalf("presigned URL %s is not for %s", presigned, upstream)
		}
		return "http://" + proxy + "/" + pathAndQuery
	}

	t.Run("presigned PUT and GET pass through the recipe, and fail without header_up", func(t *testing.T) {
		body := []byte("signed for r2.test, sent to the proxy\n")
		for _, tc := range []struct {
			proxy, key string
			status     int
			code       string
		}{
			{recipe, "with-recipe.txt", 200, ""},
			{noHeaderUp, "without-header-up.txt", 403, "SignatureDoesNotMatch"},
		} {
			u, signed := presignPut(t, m, upstream, "media", tc.key, "text/plain")
			r := do(t, http.MethodPut, viaProxy(tc.proxy, u), map[string]string{"Origin": origin, "Content-Type": signed.Get("Content-Type")}, body)
			if r.status != tc.status || (tc.code != "" && !strings.Contains(string(r.body), "<Code>"+tc.code+"</Code>")) {
				t.Errorf("presigned PUT of %s: %d %s, want %d %s", tc.key, r.status, r.body, tc.status, tc.code)
			}
			// The page can read the answer, an error included.
			checkCORS(t, "presigned PUT of "+tc.key, r.header, grant)
			stored, ok := m.GetObject(t, "media", tc.key)
			if tc.status == 200 && (!ok || !bytes.Equal(stored, body)) {
				t.Errorf("through the recipe, MinIO holds %q (exists %v), want %q", stored, ok, body)
			}
			if tc.status != 200 && ok {
				t.Errorf("without header_up, MinIO holds %q, want no object", stored)
			}
		}

		u := presignGet(t, m, upstream, "media", "with-recipe.txt")
		r := do(t, http.MethodGet, viaProxy(recipe, u), map[string]string{"Origin": origin}, nil)
		if r.status != 200 || !bytes.Equal(r.body, body) {
			t.Errorf("presigned GET through the recipe: %d %q, want 200 %q", r.status, r.body, body)
		}
		checkCORS(t, "presigned GET through the recipe", r.header, grant)
		checkVaryOrigin(t, "presigned GET through the recipe", r.header)
		r = do(t, http.MethodGet, viaProxy(noHeaderUp, u), map[string]string{"Origin": origin}, nil)
		if r.status != 403 || !strings.Contains(string(r.body), "<Code>SignatureDoesNotMatch</Code>") {
			t.Errorf("presigned GET without header_up: %d %q, want 403 SignatureDoesNotMatch", r.status, r.body)
		}
		if got := tunnel.Connects(); !slices.Contains(got, "r2.test:443") {
			t.Errorf("Caddy asked the tunnel for %v, never r2.test:443", got)
		}
	})

	t.Run("Host sent to an https upstream, with and without header_up", func(t *testing.T) {
		for _, tc := range []struct{ what, proxy, want string }{
			{"header_up Host {http.reverse_proxy.upstream.host}", echoRecipe, "echo.test"},
			// Caddy 2.11's default for an https upstream:
			// {http.reverse_proxy.upstream.hostport}, the dial address.
			{"no header_up", echoDefault, "echo.test:443"},
		} {
			r := do(t, http.MethodGet, "http://"+tc.proxy+"/media/a.txt", nil, nil)
			if r.status != 200 || string(r.body) != tc.want {
				t.Errorf("%s: the upstream got Host %q (status %d), want %q", tc.what, r.body, r.status, tc.want)
			}
		}
	})

	t.Run("policy_origin over https: MinIO's GetBucketCors answers no configuration", func(t *testing.T) {
		before := len(tunnel.Connects())
		// A source that failed (TLS, the signature over Host r2.test) would
		// be a 503; MinIO's NoSuchCORSConfiguration is "no policy".
		storeCheckRefused(t, "a MinIO bucket over https", storePreflight(t, "http://"+originMinIO, "/media/a.txt", origin, "GET", ""), "GET", true)
		if lines := storeLogEntries(c.Logs(), storeLoadFailed); len(lines) > 0 {
			t.Errorf("the policy read was logged as a failure: %v", lines)
		}
		if got := tunnel.Connects()[before:]; !slices.Equal(got, []string{"r2.test:443"}) {
			t.Errorf("the policy read asked the tunnel for %v, want r2.test:443 once", got)
		}
	})

	t.Run("policy_origin over https: R2's GetBucketCors is enforced", func(t *testing.T) {
		storeCheckGranted(t, "app PUT", storePreflight(t, "http://"+originR2, "/r2-photos/u/a.jpg", storeAppOrigin, "PUT", "content-type,x-amz-meta-owner"), storeGrant{
			"Access-Control-Allow-Origin":      storeAppOrigin,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "PUT, POST",
			"Access-Control-Allow-Headers":     "content-type, x-amz-meta-owner",
			"Access-Control-Expose-Headers":    "ETag, x-amz-request-id",
			"Access-Control-Max-Age":           "3000",
		})
		storeCheckRefused(t, "app DELETE", storePreflight(t, "http://"+originR2, "/r2-photos/u/a.jpg", storeAppOrigin, "DELETE", ""), "DELETE", false)
		gets, others := standIn.seen()
		if len(gets) != 1 || len(others) != 0 {
			t.Fatalf("the stand-in got GetBucketCors %d times and %v, want one GetBucketCors", len(gets), others)
		}
		// Signed for the endpoint's bare host, as R2 checks it.
		if gets[0].Host != "standin.test" {
			t.Errorf("GetBucketCors sent Host %q, want standin.test", gets[0].Host)
		}
		storeCheckSigV4(t, gets[0], m.AccessKey, m.SecretKey, "auto")
	})
}
