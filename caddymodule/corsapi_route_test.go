package caddymodule

import (
	"net/http/httptest"
	"testing"
)

// TestCORSAPICallsAreBucketLevelCORSRequestsOnly checks which requests the
// edge API answers: ?cors on a bucket, path-style (/<bucket>) or
// virtual-hosted (/), and nothing on an object or without the cors key.
func TestCORSAPICallsAreBucketLevelCORSRequestsOnly(t *testing.T) {
	pathStyle := &Handler{bucketFromPath: true, bucketHostLabel: -1, corsAPI: &corsAPI{}}
	virtual := &Handler{bucketHostLabel: 3, corsAPI: &corsAPI{}}
	withoutAPI := &Handler{bucketFromPath: true, bucketHostLabel: -1}
	cases := []struct {
		name   string
		h      *Handler
		target string
		want   bool
	}{
		{"path-style bucket", pathStyle, "/uploads?cors", true},
		{"path-style bucket with a slash", pathStyle, "/uploads/?cors", true},
		{"path-style bucket, cors with a value", pathStyle, "/uploads?cors=", true},
		{"path-style bucket, other parameters too", pathStyle, "/uploads?x-id=PutBucketCors&cors", true},
		{"path-style object", pathStyle, "/uploads/key?cors", false},
		{"path-style bucket without cors", pathStyle, "/uploads?acl", false},
		{"a parameter that only starts with cors", pathStyle, "/uploads?corsx", false},
		{"virtual-hosted bucket", virtual, "/?cors", true},
		{"virtual-hosted object", virtual, "/key?cors", false},
		{"without cors_api", withoutAPI, "/uploads?cors", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", tc.target, nil)
			if got := tc.h.isCORSAPICall(r); got != tc.want {
				t.Errorf("isCORSAPICall(%s) = %v, want %v", tc.target, got, tc.want)
			}
		})
	}
}
