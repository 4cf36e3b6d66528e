package edge

import "testing"

// TestShortenKeepsCharactersWhole: a cut never splits a character.
func TestShortenKeepsCharactersWhole(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 10, "abcdefg…"},
		{"abcdef€€€", 10, "abcdef…"}, // € is 3 bytes: abcdef€ and … would be 12
	}
	for _, tc := range tests {
		if got := Shorten(tc.in, tc.limit); got != tc.want {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
	}
}
