package edge

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// The bounds of a RefusalLog: one line per bucket and origin per
// RefusalLogEvery, remembered for the RefusalLogSize pairs seen last.
const (
	RefusalLogEvery = time.Minute
	RefusalLogSize  = 4096
)

// RefusalLog rate-limits the log lines of report_only: it remembers when
// it last logged each (bucket, origin), by a hash of the pair, so that its
// memory is bounded whatever the requests carry. It is safe for concurrent
// use.
type RefusalLog struct {
	now  func() time.Time
	seed maphash.Seed
	mu   sync.Mutex
	last *simplelru.LRU[uint64, time.Time]
}

// NewRefusalLog returns an empty log that reads the time from now.
func NewRefusalLog(now func() time.Time) *RefusalLog {
	// NewLRU fails only on a size below 1.
	last, _ := simplelru.NewLRU[uint64, time.Time](RefusalLogSize, nil)
	return &RefusalLog{now: now, seed: maphash.MakeSeed(), last: last}
}

// Due reports whether a refusal of origin on bucket is to be logged now,
// and if so, remembers that it was.
func (l *RefusalLog) Due(bucket, origin string) bool {
	var hash maphash.Hash
	hash.SetSeed(l.seed)
	hash.WriteString(bucket)
	hash.WriteByte(0)
	hash.WriteString(origin)
	key := hash.Sum64()
	now := l.now()

	l.mu.Lock()
	defer l.mu.Unlock()
	if at, ok := l.last.Get(key); ok && now.Sub(at) < RefusalLogEvery {
		return false
	}
	l.last.Add(key, now)
	return true
}
