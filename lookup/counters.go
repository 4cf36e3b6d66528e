package lookup

import (
	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/source"
)

// Counters are the counters of Sources, for the metrics: those of the
// cache, of the policy store and of its index. They add up over several
// Sources with Add.
type Counters struct {
	// Cache holds the cache's counters and its gauge LoadsInFlight.
	Cache cache.Stats
	// CacheEntries is how many buckets the cache holds (a gauge).
	CacheEntries int
	// StoreRequests counts the requests made to the policy store.
	StoreRequests source.RequestTotals
	// Polls and Listings count the index's rounds, PollErrors and
	// ListingErrors those that failed.
	Polls, PollErrors, Listings, ListingErrors uint64
	// IndexEntries is how many policies the index holds (a gauge).
	IndexEntries int
}

// Counters returns a snapshot of the counters.
func (s *Sources) Counters() Counters {
	c := Counters{Cache: s.cache.Stats(), CacheEntries: s.cache.Len()}
	if s.store != nil {
		c.StoreRequests = s.store.Requests.Totals()
	}
	if s.index != nil {
		st := s.index.Status()
		c.Polls, c.PollErrors = st.Polls, st.PollErrors
		c.Listings, c.ListingErrors = st.Listings, st.ListingErrors
		c.IndexEntries = s.index.Len()
	}
	return c
}

// Add returns the sum of c and o. Neither is changed.
func (c Counters) Add(o Counters) Counters {
	return Counters{
		Cache:         c.Cache.Add(o.Cache),
		CacheEntries:  c.CacheEntries + o.CacheEntries,
		StoreRequests: c.StoreRequests.Add(o.StoreRequests),
		Polls:         c.Polls + o.Polls,
		PollErrors:    c.PollErrors + o.PollErrors,
		Listings:      c.Listings + o.Listings,
		ListingErrors: c.ListingErrors + o.ListingErrors,
		IndexEntries:  c.IndexEntries + o.IndexEntries,
	}
}

// Retired returns c without its gauges: what the counters of Sources that
// no configuration uses any more add to the totals, which never go back.
func (c Counters) Retired() Counters {
	c.Cache.LoadsInFlight, c.CacheEntries, c.IndexEntries = 0, 0, 0
	return c
}
