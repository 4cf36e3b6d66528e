package policy

import "math/bits"

// nameTable is a hash set of lower-case header names, each with the rules
// that allow it. Unlike a Go map it is probed with a name in any case: its
// hash ignores case and its comparison lowers the probe, so a request with
// upper case needs no lowered copy.
type nameTable struct {
	slots []nameSlot // a power of two, at most half full
	shift uint       // 64 minus log2(len(slots))
}

type nameSlot struct {
	name  string
	rules ruleSet
}

func newNameTable(names map[string]ruleSet) nameTable {
	if len(names) == 0 {
		return nameTable{}
	}
	size := 1 << bits.Len(uint(2*len(names)-1)) // the power of two ≥ 2n
	t := nameTable{slots: make([]nameSlot, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	for name, rules := range names {
		i := t.home(name)
		for t.slots[i].name != "" {
			i = (i + 1) & (size - 1)
		}
		t.slots[i] = nameSlot{name: name, rules: rules}
	}
	return t
}

// home is the slot where the probe for name starts: the hash's top bits.
func (t *nameTable) home(name string) int { return int(foldHash(name) >> t.shift) }

// get returns the rules of name; upper says whether name has upper case.
func (t *nameTable) get(name string, upper bool) ruleSet {
	if len(t.slots) == 0 {
		return ruleSet{}
	}
	mask := len(t.slots) - 1
	for i := t.home(name); ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch {
		case s.name == "":
			return ruleSet{}
		case len(s.name) != len(name):
		case !upper && s.name == name, upper && equalLower(name, s.name):
			return s.rules
		}
	}
}

// foldHash hashes s eight bytes at a time, the last word overlapping the one
// before it. Bit 5 is set in every byte first, which lowers ASCII letters; it
// also pairs "^" with "~", which costs only a comparison. Browsers' names are
// short, so this is mostly one or two multiplications.
func foldHash(s string) uint64 {
	const fold = 0x2020202020202020
	h := uint64(len(s)) * 0x165667b19e3779f9
	if len(s) < 8 {
		h = (h ^ (loadShort(s) | fold)) * 0xc2b2ae3d27d4eb4f
		return h ^ h>>29
	}
	for i := 0; i+8 < len(s); i += 8 {
		h = (h ^ (load8(s[i:]) | fold)) * 0x9e3779b97f4a7c15
	}
	h = (h ^ (load8(s[len(s)-8:]) | fold)) * 0xc2b2ae3d27d4eb4f
	return h ^ h>>29
}

// load8 loads the first eight bytes of s, which has at least eight, as one
// little-endian word (the compiler makes this one load).
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// loadShort loads the bytes of s, fewer than eight, as load8 would with zeros
// after them.
func loadShort(s string) uint64 {
	var w uint64
	for i := 0; i < len(s); i++ {
		w |= uint64(s[i]) << (8 * i)
	}
	return w
}
