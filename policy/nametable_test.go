package policy

import (
	"fmt"
	"strings"
	"testing"
)

func TestNameTable(t *testing.T) {
	names := map[string]ruleSet{}
	for i := range 500 {
		names[fmt.Sprintf("x-app-%04d-header-name", i)] = ruleSet{lo: uint64(i) + 1}
	}
	for _, n := range []string{"a", "content-type", "x-amz-date", strings.Repeat("h", 300), "x^y"} {
		names[n] = ruleSet{hi: 1}
	}
	table := newNameTable(names)
	for name, want := range names {
		if got := table.get(name, false); got != want {
			t.Errorf("get(%q) = %v, want %v", name, got, want)
		}
		if upper := strings.ToUpper(name); upper != name {
			if got := table.get(upper, true); got != want {
				t.Errorf("get(%q) = %v, want %v", upper, got, want)
			}
		}
	}
	for _, miss := range []string{"", "b", "x~y", "content-typ", "content-types", "x-app-0500-header-name", strings.Repeat("h", 299)} {
		if got := table.get(miss, miss != strings.ToLower(miss)); !got.empty() {
			t.Errorf("get(%q) = %v, want nothing", miss, got)
		}
	}
	empty := newNameTable(nil)
	if got := empty.get("a", false); !got.empty() {
		t.Errorf("an empty table found %v", got)
	}
}
