// Command caddy is Caddy with its standard modules and bucketcors, for running
// the example and the tests from a checkout without xcaddy:
//
//	go run ./cmd/caddy run --config Caddyfile.example
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/bucketcors/bucketcors"
)

func main() {
	caddycmd.Main()
}
