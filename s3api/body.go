package s3api

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strings"
)

// readBody reads a call's body, refusing one over limit bytes without
// reading it whole.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	tooLarge := newError(http.StatusBadRequest, "MaxMessageLengthExceeded", fmt.Sprintf("Your request was too big: a CORS configuration is at most %d bytes.", limit))
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, newError(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	}
	if int64(len(data)) > limit {
		return nil, tooLarge
	}
	return data, nil
}

// crc64NVME is the CRC-64/NVME table, for x-amz-checksum-crc64nvme.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// checksums are the x-amz-checksum-* headers S3 checks a body against.
var checksums = []struct {
	header string
	hash   func() hash.Hash
}{
	{"X-Amz-Checksum-Crc32", func() hash.Hash { return crc32.NewIEEE() }},
	{"X-Amz-Checksum-Crc32c", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
	{"X-Amz-Checksum-Crc64nvme", func() hash.Hash { return crc64.New(crc64NVME) }},
	{"X-Amz-Checksum-Sha1", sha1.New},
	{"X-Amz-Checksum-Sha256", sha256.New},
}

// checkBodyDigests compares the body with every digest the request
// declares: the signed payload hash, Content-MD5 and x-amz-checksum-*.
func checkBodyDigests(r *http.Request, payloadHash string, body []byte) error {
	switch {
	case payloadHash == unsignedPayload:
	case strings.HasPrefix(payloadHash, "STREAMING-"):
		return newError(http.StatusNotImplemented, "NotImplemented", "Chunked (aws-chunked) uploads are not supported for the CORS API; send the configuration in one piece.")
	default:
		sum := sha256.Sum256(body)
		if payloadHash != hex.EncodeToString(sum[:]) {
			return newError(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
	}
	if want := r.Header.Get("Content-MD5"); want != "" {
		sum := md5.Sum(body)
		if want != base64.StdEncoding.EncodeToString(sum[:]) {
			return newError(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
		}
	}
	for _, c := range checksums {
		want := r.Header.Get(c.header)
		if want == "" {
			continue
		}
		h := c.hash()
		h.Write(body)
		if want != base64.StdEncoding.EncodeToString(h.Sum(nil)) {
			return newError(http.StatusBadRequest, "BadDigest", fmt.Sprintf("The %s you specified did not match the calculated checksum.", strings.ToLower(c.header)))
		}
	}
	return nil
}
