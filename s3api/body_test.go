package s3api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// checkValue is the CRC catalogue's check input; the digests below are its
// published check values (CRC-32/ISO-HDLC cbf43926, CRC-32/ISCSI e3069283,
// CRC-64/NVME ae8b14860a799888) and its well-known MD5, SHA-1 and SHA-256,
// base64-encoded big-endian as S3 sends them.
const checkValue = "123456789"

const checkSHA256Hex = "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"

// TestCheckBodyDigests checks every digest S3 checks a body against:
// correct ones pass, wrong ones are refused as S3 refuses them.
func TestCheckBodyDigests(t *testing.T) {
	t.Parallel()
	const wrong = "AAAAAA=="
	cases := []struct {
		name        string
		payloadHash string
		header      string
		value       string
		code        string // "" when the digest must pass
		message     string
	}{
		{"the payload hash", checkSHA256Hex, "", "", "", ""},
		{"UNSIGNED-PAYLOAD", "UNSIGNED-PAYLOAD", "", "", "", ""},
		{"a wrong payload hash", emptySHA256, "", "", "XAmzContentSHA256Mismatch",
			"The provided 'x-amz-content-sha256' header does not match what was computed."},
		{"a payload hash in upper case", "15E2B0D3C33891EBB0F1EF609EC419420C20E320CE94C65FBC8C3312448EB225", "", "", "XAmzContentSHA256Mismatch",
			"The provided 'x-amz-content-sha256' header does not match what was computed."},
		{"an aws-chunked payload", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "", "", "NotImplemented",
			"Chunked (aws-chunked) uploads are not supported for the CORS API; send the configuration in one piece."},
		{"an unsigned aws-chunked payload", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "", "", "NotImplemented",
			"Chunked (aws-chunked) uploads are not supported for the CORS API; send the configuration in one piece."},
		{"Content-MD5", "UNSIGNED-PAYLOAD", "Content-MD5", "JfnnlDI7RTiF9RgfG2JNCw==", "", ""},
		{"a wrong Content-MD5", "UNSIGNED-PAYLOAD", "Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==", "BadDigest",
			"The Content-MD5 you specified did not match what we received."},
		{"x-amz-checksum-crc32", checkSHA256Hex, "X-Amz-Checksum-Crc32", "y/Q5Jg==", "", ""},
		{"a wrong x-amz-checksum-crc32", checkSHA256Hex, "X-Amz-Checksum-Crc32", wrong, "BadDigest",
			"The x-amz-checksum-crc32 you specified did not match the calculated checksum."},
		{"x-amz-checksum-crc32c", checkSHA256Hex, "X-Amz-Checksum-Crc32c", "4waSgw==", "", ""},
		{"a wrong x-amz-checksum-crc32c", checkSHA256Hex, "X-Amz-Checksum-Crc32c", "y/Q5Jg==", "BadDigest",
			"The x-amz-checksum-crc32c you specified did not match the calculated checksum."},
		{"x-amz-checksum-crc64nvme", checkSHA256Hex, "X-Amz-Checksum-Crc64nvme", "rosUhgp5mIg=", "", ""},
		{"a wrong x-amz-checksum-crc64nvme", checkSHA256Hex, "X-Amz-Checksum-Crc64nvme", "AAAAAAAAAAA=", "BadDigest",
			"The x-amz-checksum-crc64nvme you specified did not match the calculated checksum."},
		{"x-amz-checksum-sha1", checkSHA256Hex, "X-Amz-Checksum-Sha1", "98O8HYCOBHMq32eZZczDTKeuNEE=", "", ""},
		{"a wrong x-amz-checksum-sha1", checkSHA256Hex, "X-Amz-Checksum-Sha1", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "BadDigest",
			"The x-amz-checksum-sha1 you specified did not match the calculated checksum."},
		{"x-amz-checksum-sha256", checkSHA256Hex, "X-Amz-Checksum-Sha256", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=", "", ""},
		{"a wrong x-amz-checksum-sha256", checkSHA256Hex, "X-Amz-Checksum-Sha256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "BadDigest",
			"The x-amz-checksum-sha256 you specified did not match the calculated checksum."},
		{"a checksum in hex, not base64", checkSHA256Hex, "X-Amz-Checksum-Crc32", "cbf43926", "BadDigest",
			"The x-amz-checksum-crc32 you specified did not match the calculated checksum."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("PUT", "/uploads?cors", nil)
			if tc.header != "" {
				r.Header.Set(tc.header, tc.value)
			}
			err := checkBodyDigests(r, tc.payloadHash, []byte(checkValue))
			if tc.code == "" {
				if err != nil {
					t.Fatalf("a correct digest was refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("a wrong digest passed")
			}
			status, e := answered(t, err)
			wantStatus := http.StatusBadRequest
			if tc.code == "NotImplemented" {
				wantStatus = http.StatusNotImplemented
			}
			if status != wantStatus || e.Code != tc.code || e.Message != tc.message {
				t.Errorf("answered %d %s %q\nwant     %d %s %q", status, e.Code, e.Message, wantStatus, tc.code, tc.message)
			}
		})
	}
}

// TestCheckBodyDigestsChecksEveryOne: one right digest does not excuse a
// wrong one beside it.
func TestCheckBodyDigestsChecksEveryOne(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("PUT", "/uploads?cors", nil)
	r.Header.Set("Content-MD5", "JfnnlDI7RTiF9RgfG2JNCw==")
	r.Header.Set("X-Amz-Checksum-Crc32", "y/Q5Jg==")
	r.Header.Set("X-Amz-Checksum-Sha256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
	if err := checkBodyDigests(r, checkSHA256Hex, []byte(checkValue)); err == nil || AsError(err).Code != "BadDigest" {
		t.Errorf("checkBodyDigests = %v, want BadDigest for the SHA-256", err)
	}
}
