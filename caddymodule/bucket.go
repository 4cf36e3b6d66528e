package caddymodule

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/bucketcors/bucketcors/edge"
)

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
		hostLabel:   edge.HostLabelOf(placeholder),
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
		bucket = edge.FirstPathSegment(r.URL.Path)
	case n.hostLabel >= 0:
		bucket = edge.VirtualHostBucket(r.Host, n.hostLabel)
	case !strings.Contains(n.placeholder, "{"):
		bucket = n.placeholder
	default:
		repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		if repl == nil {
			return ""
		}
		bucket = repl.ReplaceAll(n.placeholder, "")
	}
	if !edge.ValidBucketName(bucket) {
		return ""
	}
	return bucket
}

// validBucketName reports whether name could name a bucket
// (edge.ValidBucketName).
func validBucketName(name string) bool { return edge.ValidBucketName(name) }
