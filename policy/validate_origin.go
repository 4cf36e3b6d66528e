package policy

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

const originForm = `write scheme://host[:port], such as "https://example.com", or "*"`

// checkOrigin checks an AllowedOrigin: "*", or scheme://host[:port] with at
// most one "*" anywhere in it. Each mistake gets the value it should have been
// where that can be worked out. Upper case is accepted (Compile lowers it).
// S3 refuses only a second "*"; it takes every other form, which can never
// equal the Origin a browser sends (a warning).
func checkOrigin(o string) (reason, fix string) {
	switch trimmed := strings.TrimSpace(o); {
	case o == "*":
		return "", ""
	case o == "":
		return "an origin is empty", originForm
	case trimmed != o && trimmed != "":
		return "an origin has spaces around it", use(trimmed)
	case o == "null":
		return `the "null" origin is sent by sandboxed frames and local files of any site`, "remove it"
	case strings.Count(o, "*") > 1:
		return "an origin has at most one *", `keep one, such as "https://*.example.com"`
	}
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok {
		return "an origin starts with a scheme and ://", schemeFix(o)
	}
	if !validScheme(scheme) {
		return "a scheme is a letter and then letters, digits, +, - or .", originForm
	}
	return checkAuthority(scheme, rest)
}

// schemeFix suggests a scheme for an origin written without one.
func schemeFix(o string) string {
	if strings.ContainsAny(o, "/:") && !strings.HasPrefix(o, "localhost:") {
		return originForm
	}
	if strings.HasPrefix(o, "localhost") || strings.HasPrefix(o, "127.") {
		return use("http://" + o)
	}
	return use("https://" + o)
}

func validScheme(s string) bool {
	if s == "" || !(isLetter(s[0]) || s[0] == '*') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if charClass[lower(s[i])]&classScheme == 0 && s[i] != '*' {
			return false
		}
	}
	return true
}

// checkAuthority checks what follows "scheme://".
func checkAuthority(scheme, rest string) (reason, fix string) {
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		return "an origin has no user name or password", use(scheme + "://" + authority[i+1:])
	}
	origin := scheme + "://" + authority
	switch {
	case tail == "/":
		return "an origin has no path", fmt.Sprintf("drop the trailing %q: %s", "/", use(origin))
	case tail != "" && tail[0] == '/':
		return "an origin has no path", fmt.Sprintf("drop %q: %s", tail, use(origin))
	case tail != "" && tail[0] == '?':
		return "an origin has no query", fmt.Sprintf("drop %q: %s", tail, use(origin))
	case tail != "":
		return "an origin has no fragment", fmt.Sprintf("drop %q: %s", tail, use(origin))
	}
	host, port, hasPort := splitHostPort(authority)
	if reason, fix = checkHost(host); reason != "" {
		return reason, fix
	}
	if hasPort {
		return checkPort(scheme+"://"+host, port)
	}
	return "", ""
}

// splitHostPort splits at the port's colon, which follows the bracket of an
// IPv6 literal.
func splitHostPort(authority string) (host, port string, hasPort bool) {
	from := 0
	if strings.HasPrefix(authority, "[") {
		if end := strings.IndexByte(authority, ']'); end > 0 {
			from = end
		}
	}
	if i := strings.IndexByte(authority[from:], ':'); i >= 0 {
		return authority[:from+i], authority[from+i+1:], true
	}
	return authority, "", false
}

func checkHost(host string) (reason, fix string) {
	if host == "" {
		return "an origin names a host", originForm
	}
	if host[0] == '[' {
		return checkIPv6(host)
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case charClass[lower(c)]&classHost != 0 || c == '*':
		case c >= utf8.RuneSelf:
			return "a host is written in ASCII, as browsers send it",
				"write the name in its punycode form (xn--...)"
		default:
			return fmt.Sprintf("a host has letters, digits, -, _ and . only, not %q", c),
				"a browser never sends this origin; write the host as it appears in the address bar"
		}
	}
	return "", ""
}

func checkIPv6(host string) (reason, fix string) {
	inner, ok := strings.CutSuffix(host[1:], "]")
	if !ok || inner == "" {
		return "an IPv6 address is written in brackets", `such as "http://[::1]:8080"`
	}
	for i := 0; i < len(inner); i++ {
		if charClass[lower(inner[i])]&classIPv6 == 0 && inner[i] != '*' {
			return "an IPv6 address has hex digits, : and . only", `such as "http://[::1]:8080"`
		}
	}
	return "", ""
}

// checkPort accepts digits, or a pattern's "*" among them.
func checkPort(origin, port string) (reason, fix string) {
	if port == "" {
		return "a port is a number after the colon", fmt.Sprintf("drop the %q: %s", ":", use(origin))
	}
	for i := 0; i < len(port); i++ {
		if charClass[port[i]]&classDigit == 0 && port[i] != '*' {
			return "a port is a number", originForm
		}
	}
	if n, err := strconv.Atoi(port); err == nil && n > 65535 || err != nil && !strings.Contains(port, "*") {
		return "a port is at most 65535", originForm
	}
	return "", ""
}

func use(v string) string { return fmt.Sprintf("use %q", v) }

func isLetter(c byte) bool { return 'a' <= lower(c) && lower(c) <= 'z' }

// lower lowers an ASCII letter and leaves any other byte alone.
func lower(c byte) byte {
	if charClass[c]&classUpper != 0 {
		return c + 'a' - 'A'
	}
	return c
}
