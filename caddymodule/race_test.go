//go:build race

package caddymodule

// raceEnabled says whether the tests run with the race detector.
const raceEnabled = true
