package cache

import (
	"errors"
	"fmt"
	"time"
)

// DefaultLoadTimeout is the deadline of one load when Options.LoadTimeout is 0.
const DefaultLoadTimeout = 10 * time.Second

// Options configures a Cache. Size and TTL are required; every other field
// has a default.
type Options struct {
	// Size is the most entries kept; the least recently used entry is
	// evicted to make room. Required, > 0.
	Size int
	// TTL is how long an entry is fresh: an entry older than this is re-read
	// from its sources on its next use. Required, > 0.
	TTL time.Duration
	// Stale is how long after its TTL the last good entry of a key is still
	// served while loads of that key fail. 0 means never.
	Stale time.Duration
	// LoadTimeout is the deadline of one load, independent of the requests
	// waiting for it. 0 means DefaultLoadTimeout.
	LoadTimeout time.Duration
	// Now is the clock. nil means time.Now.
	Now func() time.Time
	// OnLoadError, when set, is called when a load fails, at most once per
	// key per ErrorInterval (not once per request waiting for it).
	// staleServed says whether a cached entry was served instead of the
	// error. It is called from the loading goroutine and must not block.
	OnLoadError func(key string, err error, staleServed bool)
	// ErrorInterval is the least time between two OnLoadError calls for one
	// key. 0 means TTL.
	ErrorInterval time.Duration
}

// withDefaults returns o with every zero optional field set to its default.
func (o Options) withDefaults() Options {
	if o.LoadTimeout == 0 {
		o.LoadTimeout = DefaultLoadTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
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
	if o.TTL <= 0 {
		errs = append(errs, fmt.Errorf("cache: ttl is %v: set it to how long an entry is fresh, more than 0", o.TTL))
	}
	if o.Stale < 0 {
		errs = append(errs, fmt.Errorf("cache: stale is %v: set it to 0 (never serve stale entries) or more", o.Stale))
	}
	if o.LoadTimeout < 0 {
		errs = append(errs, fmt.Errorf("cache: load timeout is %v: set it to 0 (the default, %v) or more", o.LoadTimeout, DefaultLoadTimeout))
	}
	if o.ErrorInterval < 0 {
		errs = append(errs, fmt.Errorf("cache: error interval is %v: set it to 0 (the TTL) or more", o.ErrorInterval))
	}
	return errors.Join(errs...)
}
