package caddymodule

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// maxBucketNameLength bounds a bucket name. S3's own limit is 63; older
// us-east-1 buckets and other S3-compatible stores allow up to 255.
const maxBucketNameLength = 255

// bucketNamer names the bucket of a request by the handler's Bucket setting.
type bucketNamer struct {
	// placeholder is the Bucket setting.
	placeholder string
	// fromPath is set for the default, path-style naming.
	fromPath bool
	// hostLabel is N when Bucket is {http.request.host.labels.N}, else -1.
	hostLabel int
}

func newBucketNamer(placeholder string) bucketNamer {
	return bucketNamer{
		placeholder: placeholder,
		fromPath:    placeholder == DefaultBucket,
		hostLabel:   bucketHostLabelOf(placeholder),
	}
}

// bucketOf names the bucket a request is for, or "" when it names none that
// could exist.
func (h *Handler) bucketOf(r *http.Request) string {
	return h.bucketName.of(r)
}

func (n *bucketNamer) of(r *http.Request) string {
	var bucket string
	switch {
	case n.fromPath:
		// The same value as {http.request.uri.path.0}, without the
		// replacer's allocations.
		bucket = firstPathSegment(r.URL.Path)
	case n.hostLabel >= 0:
		bucket = virtualHostBucket(r.Host, n.hostLabel)
	case !strings.Contains(n.placeholder, "{"):
		bucket = n.placeholder
	default:
		repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		if repl == nil {
			return ""
		}
		bucket = repl.ReplaceAll(n.placeholder, "")
	}
	if !validBucketName(bucket) {
		return ""
	}
	return bucket
}

// hostLabelPlaceholder matches a bucket named by a host label, as in
// {http.request.host.labels.3}.
var hostLabelPlaceholder = regexp.MustCompile(`^\{http\.request\.host\.labels\.(\d+)\}$`)

// bucketHostLabelOf returns N when bucket is {http.request.host.labels.N},
// else -1.
func bucketHostLabelOf(bucket string) int {
	m := hostLabelPlaceholder.FindStringSubmatch(bucket)
	if m == nil {
		return -1
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return -1
	}
	return n
}

// virtualHostBucket returns the bucket of a virtual-hosted request whose
// bucket is host label n (counted from the right, from 0). The bucket is the
// leftmost label of <bucket>.<endpoint>, so the host must have exactly n+1
// labels: with more, the origin would read a longer, dotted bucket name
// ("evil.assets" from evil.assets.s3.example.com), and that bucket is not
// the one label n names.
func virtualHostBucket(host string, n int) string {
	if strings.HasPrefix(host, "[") {
		return "" // an IP literal names no bucket
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	if strings.Count(host, ".") != n {
		return ""
	}
	bucket, _, _ := strings.Cut(host, ".")
	return strings.ToLower(bucket)
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
