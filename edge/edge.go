// Package edge is the HTTP side of bucketcors that needs no Caddy: it names
// the bucket of a request, judges a request by a policy as enforcing does,
// answers a preflight, rewrites the CORS headers of a proxied answer, sets
// the debug header and rate-limits the log lines of report_only. The Caddy module (package caddymodule) strings these
// together; package policy decides, package s3api renders S3's errors.
//
// Every answer backs the header values it sets with one allocation of its
// own: a later handler (Caddy's `header` replace) may edit a header value
// in place, and two answers sharing a slice would then change each other.
package edge
