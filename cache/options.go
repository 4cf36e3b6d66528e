package cache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// DefaultLoadTimeout is the deadline of one load when Options.LoadTimeout is 0.
const DefaultLoadTimeout = 10 * time.Second

// DefaultMaxLoads is the most loads in flight when Options.MaxLoads is 0.
const DefaultMaxLoads = 64

// Options configures a Cache. Size and TTL are required; every other field
// has a default.
type Options struct {
	// Size is the most entries with a value (Found) kept. When it is
	// reached, the least recently stored entry that no Get used since the
	// eviction sweep last passed it is evicted (CLOCK), so that keys in
	// steady use outlive a sweep over keys used once. Required, > 0.
	Size int
	// NegativeSize is the most "no value" and error entries kept, evicted
	// as Size's are. They are counted apart from the entries with a value,
	// so that requests for made-up keys, however many, can never push out
	// a real entry. 0 means Size.
	NegativeSize int
	// TTL is how long an entry is fresh. Each entry gets its own TTL, drawn
	// uniformly within ±10% of this one, so that entries loaded together do
	// not expire together. An entry past its TTL is still served, while one
	// background load re-reads it. Required, > 0.
	TTL time.Duration
	// Stale is how long past TTL the last good entry of a key is still
	// served while loads of that key fail; after TTL+Stale the entry is
	// dropped and the key is answered as one with no entry. 0 means an
	// entry is dropped at its TTL once a load of it has failed.
	Stale time.Duration
	// LoadTimeout is the deadline of one load, independent of the requests
	// waiting for it. 0 means DefaultLoadTimeout.
	LoadTimeout time.Duration
	// MaxLoads is the most loads in flight at once, over all keys, whether
	// a request waits for them or they refresh an entry in the background.
	// Past it, a Get that would wait for a load fails with ErrTooManyLoads
	// and a background refresh is left for a later Get. 0 means
	// DefaultMaxLoads.
	MaxLoads int
	// Now is the clock. nil means time.Now.
	Now func() time.Time
	// Random returns a uniform number in [0, 1); it draws each entry's TTL.
	// It must be safe for concurrent use. nil means math/rand/v2's Float64.
	Random func() float64
	// OnLoadError, when set, is called when a load fails, at most once per
	// key per ErrorInterval (not once per request waiting for it).
	// staleServed says whether a cached entry was kept in use instead of
	// the error. It is called from the loading goroutine and must not block.
	OnLoadError func(key string, err error, staleServed bool)
	// ErrorInterval is the least time between two OnLoadError calls for one
	// key. 0 means TTL.
	ErrorInterval time.Duration
}

// withDefaults returns o with every zero optional field set to its default.
func (o Options) withDefaults() Options {
	if o.NegativeSize == 0 {
		o.NegativeSize = o.Size
	}
	if o.LoadTimeout == 0 {
		o.LoadTimeout = DefaultLoadTimeout
	}
	if o.MaxLoads == 0 {
		o.MaxLoads = DefaultMaxLoads
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Random == nil {
		o.Random = rand.Float64
	}
	if o.ErrorInterval == 0 {
		o.ErrorInterval = o.TTL
	}
	return o
}

// validate reports every invalid field of o together, so that a
// configuration is fixed in one pass.
func (o Options) validate() error {
	var errs []error
	if o.Size <= 0 {
		errs = append(errs, fmt.Errorf("cache: size is %d: set it to the most entries to keep, at least 1", o.Size))
	}
	if o.NegativeSize < 0 {
		errs = append(errs, fmt.Errorf("cache: negative size is %d: set it to 0 (the size) or to the most \"no value\" entries to keep", o.NegativeSize))
	}
	if o.TTL <= 0 {
		errs = append(errs, fmt.Errorf("cache: ttl is %v: set it to how long an entry is fresh, more than 0", o.TTL))
	}
	if o.Stale < 0 {
		errs = append(errs, fmt.Errorf("cache: stale is %v: set it to 0 (never serve an entry past its TTL once its load failed) or more", o.Stale))
	}
	if o.LoadTimeout < 0 {
		errs = append(errs, fmt.Errorf("cache: load timeout is %v: set it to 0 (the default, %v) or more", o.LoadTimeout, DefaultLoadTimeout))
	}
	if o.MaxLoads < 0 {
		errs = append(errs, fmt.Errorf("cache: max loads is %d: set it to 0 (the default, %d) or to the most loads in flight at once", o.MaxLoads, DefaultMaxLoads))
	}
	if o.ErrorInterval < 0 {
		errs = append(errs, fmt.Errorf("cache: error interval is %v: set it to 0 (the TTL) or more", o.ErrorInterval))
	}
	return errors.Join(errs...)
}
