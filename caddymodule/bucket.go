package caddymodule

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// maxBucketNameLength bounds a bucket name. S3's own limit is 63; older
// us-east-1 buckets and other S3-compatible stores allow up to 255.
const maxBucketNameLength = 255

// bucketOf names the bucket a request is for, or "" when it names none that
// could exist.
func (h *Handler) bucketOf(r *http.Request) string {
	var bucket string
	switch {
	case h.bucketFromPath:
		// The same value as {http.request.uri.path.0}, without the
		// replacer's allocations.
		bucket = firstPathSegment(r.URL.Path)
	case !strings.Contains(h.Bucket, "{"):
		bucket = h.Bucket
	default:
		repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		if repl == nil {
			return ""
		}
		bucket = repl.ReplaceAll(h.Bucket, "")
	}
	if !validBucketName(bucket) {
		return ""
	}
	return bucket
}

// firstPathSegment returns the first segment of an absolute path.
func firstPathSegment(path string) string {
	path = strings.TrimPrefix(path, "/")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return path
}

// validBucketName reports whether name could name a bucket: letters, digits,
// '.', '-' and '_', not only dots. Anything else (an empty name, "..",
// an encoded slash) is no bucket, so it never reaches a policy source.
func validBucketName(name string) bool {
	if name == "" || len(name) > maxBucketNameLength {
		return false
	}
	onlyDots := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
			onlyDots = false
		case c == '.':
		default:
			return false
		}
	}
	return !onlyDots
}
