// Package testrig starts the real programs that the tests of bucketcors run
// against: a MinIO server, a Caddy built with the module, headless Chromium
// (through chromedp), the AWS CLI and s3cmd; and for https upstreams, a CA
// made for the test and a CONNECT proxy that reaches servers by names that
// resolve nowhere. It is imported by tests only.
//
// Every helper takes a testing.TB and registers its clean-up with t.Cleanup,
// so servers stop and temporary directories go also when a test fails. When a
// test fails, the output of the servers it started is logged.
//
// A test of the module through Caddy, MinIO and a browser:
//
//	m := testrig.StartMinIO(t)
//	m.CreateBucket(t, "photos")
//	m.PutObject(t, "photos", "a.txt", []byte("hi"), "text/plain")
//	edge := testrig.FreeAddr(t)
//	c := testrig.StartCaddy(t, fmt.Sprintf(`http://%s {
//		bucket_cors { ... }
//		reverse_proxy %s
//	}`, edge, strings.TrimPrefix(m.Endpoint, "http://")))
//	ctx := testrig.Browser(t)
//	r := testrig.Fetch(t, ctx, testrig.BlankPage(t), "http://"+edge+"/photos/a.txt", nil)
//	// r.Status, r.Headers["access-control-allow-origin"], r.Error, r.Console
//	_ = c.Logs()
//
// Everything listens on 127.0.0.1 (MinIO also on [::1]) on ports picked
// at run time, and nothing is sent anywhere else.
//
// # Programs
//
// The programs come from environment variables, which ./scripts/test.sh sets:
//
//	BUCKETCORS_MINIO     MinIO server binary
//	BUCKETCORS_CADDY     Caddy binary built with this module (xcaddy)
//	BUCKETCORS_CHROMIUM  Chromium (Debian's /usr/bin/chromium)
//	BUCKETCORS_AWS       AWS CLI (Debian's /usr/bin/aws)
//	BUCKETCORS_S3CMD     s3cmd (Debian's /usr/bin/s3cmd)
//	BUCKETCORS_JS_BUNDLE the AWS SDK for JavaScript and Uppy, bundled by esbuild
//	                     (.build/jsclient/sdk.js; see JSBundle)
//
// When a variable is unset, the usual places are searched: for MinIO
// $BUCKETCORS_TOOLS or ~/.cache/bucketcors/bin, then $(go env GOPATH)/bin,
// then PATH; for Chromium, the AWS CLI and s3cmd /usr/bin, then PATH. Caddy is
// built instead, with `go build ./cmd/caddy` from this checkout, into
// ~/.cache/bucketcors/dev/caddy; go build leaves an up-to-date binary alone,
// so that costs well under a second once built, and the binary always has
// the code of the checkout in it (a binary left from another checkout would
// not).
//
// A program that is still missing skips the test, or fails it when
// BUCKETCORS_REQUIRE_INTEGRATION=1, with the command that installs it.
package testrig
