package source

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// indexMemoryLimit is what the index of 100,000 buckets may cost.
const indexMemoryLimit = 20 << 20

// TestIndexMemoryFor100kBuckets builds the index of 100,000 policies as a
// listing does (each bucket name copied from its object key, each ETag a
// quoted MD5 as S3 gives it; both strings are then garbage) and measures
// the heap it holds after a full collection.
func TestIndexMemoryFor100kBuckets(t *testing.T) {
	const buckets = 100_000
	before := heapInUse()
	current := buildIndex(buckets)
	held := heapInUse() - before
	t.Logf("index of %d buckets: %.1f MB (%.0f bytes a bucket)", buckets, float64(held)/1e6, float64(held)/buckets)
	if held > indexMemoryLimit {
		t.Errorf("the index of %d buckets holds %d bytes, want at most %d", buckets, held, indexMemoryLimit)
	}
	runtime.KeepAlive(current)
}

// buildIndex returns an index of n synthetic entries, built as a listing
// builds it.
func buildIndex(n int) *Index {
	const prefix = "cors/"
	modified := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	x := NewIndex(&Store{Prefix: prefix}, IndexOptions{})
	fresh := make(map[string]indexEntry)
	for i := range n {
		// Fresh strings, as the SDK decodes each from the listing's XML.
		key := strings.Clone(fmt.Sprintf("%stenant-%07d-assets.xml", prefix, i))
		sum := md5.Sum([]byte(key))
		etag := strings.Clone(`"` + hex.EncodeToString(sum[:]) + `"`)
		bucket := strings.Clone(strings.TrimSuffix(strings.TrimPrefix(key, prefix), ".xml"))
		fresh[bucket] = newEntry(etag, 312, modified.Add(time.Duration(i)*time.Second))
	}
	x.entries = fresh
	return x
}

// heapInUse returns the live heap after a full collection.
func heapInUse() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
