package cache

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

// hitStripe holds one stripe of the counters that a Get answered from the
// cache adds to, padded so that the counters of two stripes are never on
// one cache line, however the stripes are aligned.
type hitStripe struct {
	hits        atomic.Uint64
	staleServes atomic.Uint64
	errorServes atomic.Uint64
	_           [128 - 24]byte
}

// maxHitStripes bounds the stripes of one cache.
const maxHitStripes = 256

// hitCounters are the counters of Gets answered from the cache, striped so
// that CPUs counting at once write to different cache lines: an atomic
// counter shared by every CPU would cost each hit a cache-line transfer,
// and hits would then not scale with CPUs. Each P takes its stripe from a
// sync.Pool, which keeps a private item per P, so that in steady state a
// CPU adds to a stripe of its own; the pool hands out stripes round robin
// when it is empty (after a GC), so that two Ps rarely share one. The
// standard library has no per-CPU counter, and this is all the package
// needs of one.
type hitCounters struct {
	stripes []hitStripe
	next    atomic.Uint32
	pool    sync.Pool
}

// init makes the stripes: 4 per CPU, rounded up to a power of two.
func (h *hitCounters) init() {
	n := min(1<<bits.Len(uint(4*runtime.GOMAXPROCS(0)-1)), maxHitStripes)
	h.stripes = make([]hitStripe, n)
	mask := uint32(n - 1)
	h.pool.New = func() any {
		return &h.stripes[h.next.Add(1)&mask]
	}
}

// add counts one Get answered from the cache: with the error of an error
// entry (err set), with an entry kept after a failed load (kept), or else
// a hit.
func (h *hitCounters) add(err error, kept bool) {
	s := h.pool.Get().(*hitStripe)
	switch {
	case err != nil:
		s.errorServes.Add(1)
	case kept:
		s.staleServes.Add(1)
	default:
		s.hits.Add(1)
	}
	h.pool.Put(s)
}

// sum returns the counts over every stripe.
func (h *hitCounters) sum() (hits, staleServes, errorServes uint64) {
	for i := range h.stripes {
		s := &h.stripes[i]
		hits += s.hits.Load()
		staleServes += s.staleServes.Load()
		errorServes += s.errorServes.Load()
	}
	return hits, staleServes, errorServes
}
