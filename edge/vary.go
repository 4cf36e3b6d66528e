package edge

import (
	"net/http"
	"strings"
)

// The Vary of an answer: S3 sends the three names with a grant; with
// anything else S3 sends none, but a shared cache must never serve one
// origin's answer to another, so it gets Origin.
var (
	grantVary   = []string{"Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method"}
	refusalVary = grantVary[:1]
)

// grantVaryLine is grantVary as one header line, as S3 writes it;
// restOfGrantVaryLine is what a grant adds to an origin's Vary: Origin.
const (
	grantVaryLine       = PreflightVary
	restOfGrantVaryLine = "Access-Control-Request-Headers, Access-Control-Request-Method"
)

// varySlots is the number of slots setVary takes to add line to the
// origin's Vary lines: none when there is nothing to add or when it
// appends to several lines (rare), else the new line and the origin's one.
func varySlots(line string, lines []string) int {
	if line == "" || len(lines) > 1 {
		return 0
	}
	return len(lines) + 1
}

// setVary adds line (the names h's Vary lacks, from varyLine) to the
// origin's Vary lines, never duplicating or replacing one; slots, of
// varySlots, back the value in the common cases, an absent Vary or one
// line of the origin's.
func setVary(h http.Header, lines []string, line string, slots []string) {
	switch {
	case line == "":
	case len(lines) == 0:
		slots[0] = line
		h["Vary"] = slots[:1:1]
	case len(lines) == 1:
		slots[0], slots[1] = lines[0], line
		h["Vary"] = slots[:2:2]
	default:
		h["Vary"] = append(lines, line)
	}
}

// varyLine returns the line of the names that lines lack, "" when none. The
// usual lines are constants; another mix (rare) is built.
func varyLine(names, lines []string) string {
	var lacking [3]string
	n := 0
	for _, name := range names {
		if !varyCovers(lines, name) {
			lacking[n] = name
			n++
		}
	}
	switch {
	case n == 0:
		return ""
	case n == len(grantVary):
		return grantVaryLine
	case n == 2 && lacking[0] == grantVary[1] && lacking[1] == grantVary[2]:
		return restOfGrantVaryLine
	case n == 1:
		return lacking[0]
	}
	return strings.Join(lacking[:n], ", ")
}

// varyCovers reports whether the Vary lines already name name, or "*".
func varyCovers(lines []string, name string) bool {
	for _, line := range lines {
		for line != "" {
			var item string
			item, line, _ = strings.Cut(line, ",")
			item = strings.TrimSpace(item)
			if item == "*" || strings.EqualFold(item, name) {
				return true
			}
		}
	}
	return false
}
