// Package bucketcors is a Caddy v2 module that gives each bucket of an
// S3-compatible object store (MinIO, Cloudflare R2, AWS S3) its own CORS
// policy at the edge. Build Caddy with it:
//
//	xcaddy build --with github.com/bucketcors/bucketcors
//
// The module itself lives in package caddymodule; this package registers it
// and holds the `caddy bucket-cors` commands (command*.go). The policy engine
// and the HTTP side of the handler, free of Caddy, are packages policy and
// edge.
package bucketcors

import (
	// Registers the http.handlers.bucket_cors module and the bucket_cors
	// Caddyfile directive.
	_ "github.com/bucketcors/bucketcors/caddymodule"
)
