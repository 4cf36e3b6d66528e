package cache

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
)

func TestStatsLoadsBySourceAndResult(t *testing.T) {
	t.Parallel()
	load := func(_ context.Context, key string) (string, string, bool, error) {
		switch key {
		case "on-file", "on-file-2":
			return "p", "file", true, nil
		case "nowhere":
			return "", "s3", false, nil
		default:
			return "", "origin", false, errors.New("origin down")
		}
	}
	c := mustNew(t, testOptions(newFakeClock()), load)
	for _, key := range []string{"on-file", "on-file-2", "nowhere", "failing", "on-file"} {
		c.Get(context.Background(), key)
	}

	want := []LoadCount{
		{Source: "file", Result: ResultFound, Count: 2},
		{Source: "origin", Result: ResultError, Count: 1},
		{Source: "s3", Result: ResultNotFound, Count: 1},
	}
	st := c.Stats()
	if !slices.Equal(st.Loads, want) {
		t.Errorf("loads = %+v, want %+v", st.Loads, want)
	}
	if st.Hits != 1 || st.Misses != 4 {
		t.Errorf("hits, misses = %d, %d; want 1, 4", st.Hits, st.Misses)
	}
}

// TestStatsAdd: the sum of two caches' stats adds every counter and the
// gauge, merges the loads of the same source and result, keeps them sorted,
// and leaves both operands as they were.
func TestStatsAdd(t *testing.T) {
	t.Parallel()
	a := Stats{
		Hits: 1, Misses: 2, StaleServes: 3, ErrorServes: 4, Evictions: 5, LoadWaits: 6,
		LoadsInFlight: 7, LoadsRejected: 8, Refreshes: RefreshCounts{OK: 9, Error: 10, Rejected: 11},
		Loads: []LoadCount{
			{Source: "file", Result: ResultFound, Count: 2},
			{Source: "s3", Result: ResultNotFound, Count: 1},
		},
	}
	b := Stats{
		Hits: 100, Misses: 200, StaleServes: 300, ErrorServes: 400, Evictions: 500, LoadWaits: 600,
		LoadsInFlight: 700, LoadsRejected: 800, Refreshes: RefreshCounts{OK: 900, Error: 1000, Rejected: 1100},
		Loads: []LoadCount{
			{Source: "dir", Result: ResultError, Count: 5},
			{Source: "s3", Result: ResultNotFound, Count: 3},
			{Source: "s3", Result: ResultFound, Count: 4},
		},
	}
	aLoads, bLoads := slices.Clone(a.Loads), slices.Clone(b.Loads)

	got := a.Add(b)
	want := Stats{
		Hits: 101, Misses: 202, StaleServes: 303, ErrorServes: 404, Evictions: 505, LoadWaits: 606,
		LoadsInFlight: 707, LoadsRejected: 808, Refreshes: RefreshCounts{OK: 909, Error: 1010, Rejected: 1111},
		Loads: []LoadCount{
			{Source: "dir", Result: ResultError, Count: 5},
			{Source: "file", Result: ResultFound, Count: 2},
			{Source: "s3", Result: ResultFound, Count: 4},
			{Source: "s3", Result: ResultNotFound, Count: 4},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("a.Add(b) =\n %+v\nwant\n %+v", got, want)
	}
	if !slices.Equal(a.Loads, aLoads) || !slices.Equal(b.Loads, bLoads) {
		t.Errorf("Add changed its operands' loads: %+v, %+v", a.Loads, b.Loads)
	}
	if z := (Stats{}).Add(Stats{}); z.Loads != nil {
		t.Errorf("the sum of two empty stats has loads %+v, want none", z.Loads)
	}
}
