package testrig

import (
	"os"
	"testing"

	"github.com/bucketcors/bucketcors/policy"
)

// DecodePolicyFile reads and decodes the policy document at path, in any
// dialect, failing the test when it cannot.
func DecodePolicyFile(t testing.TB, path string) *policy.Document {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := policy.Decode(path, data)
	if err != nil {
		t.Fatalf("%s does not decode: %v", path, err)
	}
	return doc
}
