package lookup

import (
	"reflect"
	"testing"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/source"
)

// TestCountersAdd: counters and gauges add up; Retired keeps the counters
// and drops the gauges, which count live sources only.
func TestCountersAdd(t *testing.T) {
	a := Counters{
		Cache: cache.Stats{Hits: 1, Misses: 2, LoadsInFlight: 3,
			Loads: []cache.LoadCount{{Source: "policy_dir", Result: cache.ResultFound, Count: 4}}},
		CacheEntries:  5,
		StoreRequests: source.RequestTotals{List: 6, Get: 7, Put: 8, Delete: 9},
		Polls:         10, PollErrors: 11, Listings: 12, ListingErrors: 13,
		IndexEntries: 14,
	}
	b := Counters{
		Cache: cache.Stats{Hits: 100, Misses: 200, LoadsInFlight: 300,
			Loads: []cache.LoadCount{{Source: "policy_dir", Result: cache.ResultFound, Count: 400}}},
		CacheEntries:  500,
		StoreRequests: source.RequestTotals{List: 600, Get: 700, Put: 800, Delete: 900},
		Polls:         1000, PollErrors: 1100, Listings: 1200, ListingErrors: 1300,
		IndexEntries: 1400,
	}
	want := Counters{
		Cache: cache.Stats{Hits: 101, Misses: 202, LoadsInFlight: 303,
			Loads: []cache.LoadCount{{Source: "policy_dir", Result: cache.ResultFound, Count: 404}}},
		CacheEntries:  505,
		StoreRequests: source.RequestTotals{List: 606, Get: 707, Put: 808, Delete: 909},
		Polls:         1010, PollErrors: 1111, Listings: 1212, ListingErrors: 1313,
		IndexEntries: 1414,
	}
	if got := a.Add(b); !reflect.DeepEqual(got, want) {
		t.Errorf("a.Add(b) =\n %+v\nwant\n %+v", got, want)
	}

	retired := a.Retired()
	want = a
	want.Cache.LoadsInFlight, want.CacheEntries, want.IndexEntries = 0, 0, 0
	if !reflect.DeepEqual(retired, want) {
		t.Errorf("a.Retired() =\n %+v\nwant\n %+v", retired, want)
	}
	if a.Cache.LoadsInFlight != 3 || a.CacheEntries != 5 || a.IndexEntries != 14 {
		t.Errorf("Retired changed its receiver: %+v", a)
	}
}

// TestSourcesCounters: a snapshot counts the cache's lookups and entries;
// Sources without a store count no store request nor index round.
func TestSourcesCounters(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "assets.json", allowing(sourceOrigin))
	s := dirSources(t, newFakeClock(), dir, SourcesOptions{})
	p := &Policies{Sources: s}
	for _, b := range []string{"assets", "assets", "nothing"} {
		mustFor(t, p, b)
	}
	want := Counters{
		Cache: cache.Stats{Hits: 1, Misses: 2, LoadWaits: 2, Loads: []cache.LoadCount{
			{Source: "none", Result: cache.ResultNotFound, Count: 1},
			{Source: "policy_dir", Result: cache.ResultFound, Count: 1},
		}},
		CacheEntries: 2,
	}
	if got := s.Counters(); !reflect.DeepEqual(got, want) {
		t.Errorf("Counters() =\n %+v\nwant\n %+v", got, want)
	}
}
