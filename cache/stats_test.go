package cache

import (
	"context"
	"errors"
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
