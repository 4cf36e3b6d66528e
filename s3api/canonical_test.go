package s3api

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCanonicalRequestReadsWhereGoKeepsIt: the Go server moves Host,
// Content-Length and Transfer-Encoding out of the header map (Content-Length
// only in some paths, as httptest.NewRequest shows); the canonical request
// reads each where it is, and takes repeated query names in value order.
func TestCanonicalRequestReadsWhereGoKeepsIt(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("PUT", "http://uploads.s3.example.com:9000/a%20b/c~d?z=1&cors&a=2&a=10&a=1&X-Amz-Signature=00", strings.NewReader("Param1=value1"))
	r.TransferEncoding = []string{"chunked"}
	r.Header.Add("X-Amz-Meta-Tag", "  one   two ")
	r.Header.Add("X-Amz-Meta-Tag", "three")
	signed := []string{"content-length", "host", "transfer-encoding", "x-amz-meta-tag"}
	want := "PUT\n" +
		"/a%20b/c~d\n" +
		"a=1&a=10&a=2&cors=&z=1\n" +
		"content-length:13\n" +
		"host:uploads.s3.example.com:9000\n" +
		"transfer-encoding:chunked\n" +
		"x-amz-meta-tag:one two,three\n" +
		"\n" +
		"content-length;host;transfer-encoding;x-amz-meta-tag\n" +
		"UNSIGNED-PAYLOAD"
	if got := CanonicalRequest(r, signed, "UNSIGNED-PAYLOAD"); got != want {
		t.Errorf("canonical request:\n%s\n\nwant:\n%s", got, want)
	}
	// The reference signer, from the request as a client holds it, agrees.
	if got := testSigner.canonicalRequest(r, signed, "UNSIGNED-PAYLOAD"); got != want {
		t.Errorf("reference canonical request:\n%s\n\nwant:\n%s", got, want)
	}
}

// TestCanonicalRequestContentLengthOfNoBody: a signed content-length of a
// request without body is empty, not "0", unless the client sent it.
func TestCanonicalRequestContentLengthOfNoBody(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/uploads?cors", nil)
	if got := CanonicalRequest(r, []string{"content-length"}, emptySHA256); !strings.Contains(got, "\ncontent-length:\n") {
		t.Errorf("canonical request:\n%s", got)
	}
	r.Header.Set("Content-Length", "0")
	if got := CanonicalRequest(r, []string{"content-length"}, emptySHA256); !strings.Contains(got, "\ncontent-length:0\n") {
		t.Errorf("canonical request with Content-Length: 0 sent:\n%s", got)
	}
}
