package edge

import (
	"regexp"
	"strconv"
	"strings"
)

// MaxBucketNameLength bounds a bucket name. S3's own limit is 63; older
// us-east-1 buckets and other S3-compatible stores allow up to 255.
const MaxBucketNameLength = 255

// ValidBucketName reports whether name could name a bucket: letters,
// digits, '.', '-' and '_', not only dots. Anything else (an empty name,
// "..", an encoded slash) is no bucket, so it never reaches a policy source.
func ValidBucketName(name string) bool {
	if name == "" || len(name) > MaxBucketNameLength {
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

// FirstPathSegment returns the first segment of an absolute path: the
// bucket of a path-style request.
func FirstPathSegment(path string) string {
	path = strings.TrimPrefix(path, "/")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return path
}

// VirtualHostBucket returns the bucket of a virtual-hosted request whose
// bucket is host label n (counted from the right, from 0), or "". The
// bucket is the leftmost label of <bucket>.<endpoint>, so the host must have
// exactly n+1 labels: with more, the origin would read a longer, dotted
// bucket name ("evil.assets" from evil.assets.s3.example.com), and that
// bucket is not the one label n names.
func VirtualHostBucket(host string, n int) string {
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

// hostLabelPlaceholder matches a bucket named by a host label, as in
// {http.request.host.labels.3}.
var hostLabelPlaceholder = regexp.MustCompile(`^\{http\.request\.host\.labels\.(\d+)\}$`)

// HostLabelOf returns N when placeholder is Caddy's
// {http.request.host.labels.N}, else -1.
func HostLabelOf(placeholder string) int {
	m := hostLabelPlaceholder.FindStringSubmatch(placeholder)
	if m == nil {
		return -1
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return -1
	}
	return n
}
