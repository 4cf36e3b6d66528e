package testrig

import (
	"testing"
	"time"
)

// PolicyStore is a MinIO server with one bucket for policy objects, and a
// StoreCounter in front of it. The code under test reads the store through
// Counter, so that a test counts its requests; the test writes straight
// into MinIO, as another writer would.
type PolicyStore struct {
	MinIO   *MinIO
	Counter *StoreCounter
	// Bucket holds the policy objects.
	Bucket string
}

// StartPolicyStore starts MinIO with bucket, and a StoreCounter in front of
// it; both stop when the test ends.
func StartPolicyStore(t testing.TB, bucket string) *PolicyStore {
	t.Helper()
	m := StartMinIO(t)
	m.CreateBucket(t, bucket)
	return &PolicyStore{MinIO: m, Counter: StartStoreCounter(t, m.Endpoint), Bucket: bucket}
}

// Put stores a policy document under key, straight into MinIO.
func (p *PolicyStore) Put(t testing.TB, key, doc string) {
	t.Helper()
	p.MinIO.PutObject(t, p.Bucket, key, []byte(doc), "application/xml")
}

// WaitFor checks ok every 5 ms until it holds, and fails the test when it
// does not hold within timeout; what names the awaited state in the failure.
func WaitFor(t testing.TB, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
