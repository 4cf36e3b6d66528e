package s3api

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzParseSignature feeds arbitrary Authorization headers, queries,
// X-Amz-Date and x-amz-content-sha256 values to ParseSignature and Verify.
// Neither may panic; every refusal must be a 400 or 403 S3 error; and a request
// Verify accepts must carry the signature the reference signer computes
// from the request its own way, so that no part the two read differently
// (the query above all) can slip past the signature.
func FuzzParseSignature(f *testing.F) {
	header, query := headerSigned(), presigned(time.Hour)
	f.Add(header.Header.Get("Authorization"), header.URL.RawQuery, header.Header.Get("X-Amz-Date"), emptySHA256)
	f.Add("", query.URL.RawQuery, "", "")
	// A signed request with a query part that does not parse, which the
	// canonical request once left out of the signature.
	f.Add(header.Header.Get("Authorization"), header.URL.RawQuery+"&x=%zz", header.Header.Get("X-Amz-Date"), emptySHA256)
	f.Add("AWS4-HMAC-SHA256 Credential=////,SignedHeaders=;;,Signature=", "X-Amz-Signature&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=99999999999999999999", "0", "STREAMING-")
	f.Add("AWS4-HMAC-SHA256 ,,,===, Credential==/=/=/=/aws4_request", "%zz;&&==&cors", "20260314T150926Z", "UNSIGNED-PAYLOAD")
	f.Add("AWS4-HMAC-SHA256\tCredential=a/b/c/d/aws4_request", "X-Amz-Signature=&X-Amz-Signature=x&X-Amz-Credential=%2F%2F%2F%2F", "99991231T235959Z", "\x00")
	f.Fuzz(func(t *testing.T, auth, rawQuery, amzDate, payload string) {
		r := httptest.NewRequest("GET", "http://s3.example.com/uploads", nil)
		r.URL.RawQuery = rawQuery
		for name, value := range map[string]string{"Authorization": auth, "X-Amz-Date": amzDate, "X-Amz-Content-Sha256": payload} {
			if value != "" {
				r.Header[name] = []string{value}
			}
		}
		sig, err := ParseSignature(r)
		if err == nil && sig == nil {
			t.Fatal("ParseSignature returned neither claims nor an error")
		}
		sig, err = testVerifier(testSignedAt).Verify(r)
		if err != nil {
			if e := AsError(err); e.Status != http.StatusBadRequest && e.Status != http.StatusForbidden || e.Code == "" || e.Message == "" {
				t.Fatalf("refused with %d %q %q, want a 400 or 403 S3 error", e.Status, e.Code, e.Message)
			}
			return
		}
		want := testSigner.signature(sig.SignedAt, testSigner.canonicalRequest(r, sig.SignedHeaders, sig.PayloadHash))
		if sig.Signature != want {
			t.Fatalf("Verify accepted signature %s; the reference signer computes %s for\nquery %q\nauthorization %q", sig.Signature, want, rawQuery, auth)
		}
	})
}
