package s3api

import (
	"net/http/httptest"
	"testing"
)

// TestIsBucketCORSCall checks which requests are calls of the bucket CORS
// API: the cors key, read as the origin reads the query, on a bucket
// (path-style /<bucket>, virtual-hosted /), never on an object.
func TestIsBucketCORSCall(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		pathStyle bool
		target    string
		want      bool
	}{
		{"path-style bucket", true, "/uploads?cors", true},
		{"path-style bucket with a slash", true, "/uploads/?cors", true},
		{"path-style bucket with two slashes", true, "/uploads//?cors", true},
		{"path-style bucket, cors with a value", true, "/uploads?cors=", true},
		{"path-style bucket, other parameters too", true, "/uploads?x-id=PutBucketCors&cors", true},
		{"the key percent-encoded", true, "/uploads?%63ors", true},
		{"the key percent-encoded, upper case", true, "/uploads?%63%4F%52%53", false},
		{"path-style object", true, "/uploads/key?cors", false},
		{"path-style object after two slashes", true, "/uploads//key?cors", false},
		{"no bucket", true, "/?cors", false},
		{"no bucket, two slashes", true, "//uploads?cors", false},
		{"path-style bucket without cors", true, "/uploads?acl", false},
		{"a parameter that only starts with cors", true, "/uploads?corsx", false},
		{"cors as a value, not a key", true, "/uploads?x=cors", false},
		{"virtual-hosted bucket", false, "/?cors", true},
		{"virtual-hosted bucket, two slashes", false, "//?cors", true},
		{"virtual-hosted bucket, encoded key", false, "/?%63ors", true},
		{"virtual-hosted object", false, "/key?cors", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("PUT", tc.target, nil)
			if got := IsBucketCORSCall(r, tc.pathStyle); got != tc.want {
				t.Errorf("IsBucketCORSCall(%s, pathStyle=%v) = %v, want %v", tc.target, tc.pathStyle, got, tc.want)
			}
		})
	}
}
