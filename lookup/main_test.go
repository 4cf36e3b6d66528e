package lookup

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when any goroutine, such as a store
// index or a background load, outlives them: Close must stop them all.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
