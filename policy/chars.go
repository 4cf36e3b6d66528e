package policy

// Byte classes for the scanners of origins and header names: one table look-up
// per byte instead of a chain of comparisons.
const (
	classToken  uint8 = 1 << iota // an RFC 9110 tchar
	classUpper                    // A-Z
	classScheme                   // what a serialised scheme holds after its first letter
	classHost                     // what a serialised host name holds
	classIPv6                     // what a serialised IPv6 literal holds between its brackets
	classDigit                    // 0-9
	classOWS                      // space and tab, allowed around list elements
)

var charClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= classToken | classScheme | classHost
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] |= classToken | classUpper
	}
	for c := '0'; c <= '9'; c++ {
		t[c] |= classToken | classScheme | classHost | classIPv6 | classDigit
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] |= classToken
	}
	for _, c := range "+-." {
		t[c] |= classScheme
	}
	// Browsers send "_" in host names (http://my_host.internal:8080) and S3
	// matches them.
	for _, c := range "-._" {
		t[c] |= classHost
	}
	for _, c := range "abcdef:." {
		t[c] |= classIPv6
	}
	t[' '] |= classOWS
	t['\t'] |= classOWS
	return t
}()
