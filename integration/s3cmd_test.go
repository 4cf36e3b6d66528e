package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketcors/bucketcors/internal/testrig"
)

// s3cmdPolicy is the document given to `s3cmd setcors`: S3's XML, which is
// what s3cmd sends as it is.
const s3cmdPolicy = `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <ID>s3cmd-uploads</ID>
    <AllowedOrigin>https://s3cmd.example.com</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedHeader>content-type</AllowedHeader>
    <AllowedHeader>x-amz-*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>900</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>
`

// TestS3cmdConfiguresBucketCORSAtTheEdge runs s3cmd's setcors, info and
// delcors against the edge CORS API (cors_api with a policy_store on
// MinIO), and checks after each what the proxy enforces. s3cmd signs with
// MinIO's own key pair, which is also the cors_api's: its `info` asks MinIO
// itself (through the proxy) for the bucket's location, ACL and policy, and
// the proxy for its CORS.
func TestS3cmdConfiguresBucketCORSAtTheEdge(t *testing.T) {
	t.Parallel()
	const bucket = "s3cmd-uploads"
	m := testrig.StartMinIO(t)
	m.CreateBucket(t, storePolicyBucket)
	m.CreateBucket(t, bucket)
	addr := testrig.FreeAddr(t)
	c := testrig.StartCaddy(t, storeSite(addr, m, "1h", apiBlock(m.AccessKey, m.SecretKey)))
	api := "http://" + addr
	creds := m.Credentials()
	file := filepath.Join(t.TempDir(), "cors.xml")
	if err := os.WriteFile(file, []byte(s3cmdPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	uri := "s3://" + bucket
	upload := func() storeResp {
		return storePreflight(t, api, "/"+bucket+"/a.bin", "https://s3cmd.example.com", "PUT", "content-type,x-amz-meta-owner")
	}
	rules := []apiRule{{ID: "s3cmd-uploads", Origins: []string{"https://s3cmd.example.com"}, Methods: []string{"PUT", "GET"},
		Headers: []string{"content-type", "x-amz-*"}, Expose: []string{"ETag"}, MaxAge: apiInt(900)}}
	grant := storeGrant{
		"Access-Control-Allow-Origin":      "https://s3cmd.example.com",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "PUT, GET",
		"Access-Control-Allow-Headers":     "content-type, x-amz-meta-owner",
		"Access-Control-Expose-Headers":    "ETag",
		"Access-Control-Max-Age":           "900",
	}

	out := s3cmdRun(t, api, creds, "info", uri)
	if got := s3cmdCORS(t, out); got != "none" {
		t.Errorf("s3cmd info before setcors: CORS %q, want none\n%s", got, out)
	}
	storeCheckRefused(t, "before setcors", upload(), "PUT", true)

	s3cmdRun(t, api, creds, "setcors", file, uri)
	storeCheckGranted(t, "after setcors", upload(), grant)
	apiCheckStored(t, m, bucket, rules)
	storeMinIOHasNoCORS(t, m, bucket)

	out = s3cmdRun(t, api, creds, "info", uri)
	apiCheckRules(t, "s3cmd info", apiRulesFromXML(t, "s3cmd info", []byte(s3cmdCORS(t, out))), rules)
	// The rest of info came from MinIO through the proxy.
	if got := s3cmdField(t, out, "Location"); got != m.Region {
		t.Errorf("s3cmd info: Location %q, want MinIO's %s\n%s", got, m.Region, out)
	}

	// A wrong secret: the proxy refuses the call with S3's error, which
	// s3cmd prints, and the stored policy stays.
	wrong := creds
	wrong.SecretKey = "not/the+secret/0123456789abcdefABCDEFGH"
	other := filepath.Join(t.TempDir(), "other.xml")
	if err := os.WriteFile(other, []byte(strings.ReplaceAll(s3cmdPolicy, "s3cmd.example.com", "evil.example.com")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := testrig.S3cmd(t, api, wrong, "setcors", other, uri)
	const want = "ERROR: S3 error: 403 (SignatureDoesNotMatch): The request signature we calculated does not match the signature you provided. Check your key and signing method."
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("s3cmd setcors with a wrong secret: %v; want it to print %q", err, want)
	}
	storeCheckGranted(t, "after the refused setcors", upload(), grant)
	storeCheckRefused(t, "the refused document's origin", storePreflight(t, api, "/"+bucket+"/a.bin", "https://evil.example.com", "PUT", "content-type"), "PUT", false)
	apiCheckStored(t, m, bucket, rules)

	if out := s3cmdRun(t, api, creds, "delcors", uri); !strings.Contains(out, uri+"/: CORS deleted") {
		t.Errorf("s3cmd delcors printed %q, want %q", out, uri+"/: CORS deleted")
	}
	storeCheckRefused(t, "after delcors", upload(), "PUT", true)
	if body, ok := m.GetObject(t, storePolicyBucket, bucket+".xml"); ok {
		t.Errorf("after delcors the store still holds %s.xml:\n%s", bucket, body)
	}
	out = s3cmdRun(t, api, creds, "info", uri)
	if got := s3cmdCORS(t, out); got != "none" {
		t.Errorf("s3cmd info after delcors: CORS %q, want none\n%s", got, out)
	}

	// Each call reached the edge API, the refused one included.
	apiCheckCallLogs(t, c, bucket, []apiLoggedCall{
		{m.AccessKey, "GetBucketCors", 404, "NoSuchCORSConfiguration"},
		{m.AccessKey, "PutBucketCors", 200, "ok"},
		{m.AccessKey, "GetBucketCors", 200, "ok"},
		{m.AccessKey, "PutBucketCors", 403, "SignatureDoesNotMatch"},
		{m.AccessKey, "DeleteBucketCors", 204, "ok"},
		{m.AccessKey, "GetBucketCors", 404, "NoSuchCORSConfiguration"},
	})
}

// s3cmdRun runs s3cmd and fails the test when it fails.
func s3cmdRun(t testing.TB, endpoint string, c testrig.Credentials, args ...string) string {
	t.Helper()
	out, err := testrig.S3cmd(t, endpoint, c, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// s3cmdCORS returns what s3cmd info prints for CORS: "none", or the
// GetBucketCors answer as it came, over several lines, up to the ACL line
// that follows it.
func s3cmdCORS(t testing.TB, out string) string {
	t.Helper()
	_, after, ok := strings.Cut(out, "\n   CORS:")
	cors, _, ok2 := strings.Cut(after, "\n   ACL:")
	if !ok || !ok2 {
		t.Errorf("s3cmd info printed no CORS line followed by an ACL line:\n%s", out)
	}
	return strings.TrimSpace(cors)
}

// s3cmdField returns the value of a "   Name:   value" line of s3cmd info.
func s3cmdField(t testing.TB, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Errorf("s3cmd info printed no %s line:\n%s", name, out)
	return ""
}
