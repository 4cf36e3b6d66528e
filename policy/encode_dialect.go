package policy

import (
	"fmt"
	"strings"
)

// dialectNames are the short names of the dialects, as ParseDialect reads
// them and the convert command takes them.
var dialectNames = [...]struct {
	name    string
	dialect Dialect
}{
	{"xml", DialectXML},
	{"aws", DialectAWS},
	{"r2", DialectR2},
	{"wrangler", DialectWrangler},
}

// ParseDialect reads a dialect's short name: xml, aws, r2 or wrangler, in
// any case.
func ParseDialect(name string) (Dialect, error) {
	want := strings.ToLower(strings.TrimSpace(name))
	for _, d := range dialectNames {
		if d.name == want {
			return d.dialect, nil
		}
	}
	return 0, fmt.Errorf("unknown policy dialect %q: use xml (S3), aws (AWS CLI JSON), r2 (R2 dashboard JSON) or wrangler", name)
}

// Name returns the dialect's short name, which ParseDialect reads: "xml",
// "aws", "r2" or "wrangler"; "" for a dialect it does not know.
func (d Dialect) Name() string {
	for _, n := range dialectNames {
		if n.dialect == d {
			return n.name
		}
	}
	return ""
}

// Marshal renders the document in the dialect to. Every dialect carries
// every field of a rule, its ID included ("ID" in R2 and AWS CLI JSON, "id"
// in wrangler's, <ID> in XML), so decoding the result gives the same rules;
// a conversion loses only the writing: comments, the order of keys, how
// lists were laid out. (R2's dashboard documents no "ID"; this package reads
// it back, and MarshalR2JSON has always written it.)
func (d *Document) Marshal(to Dialect) ([]byte, error) {
	switch to {
	case DialectXML:
		return d.MarshalS3XML()
	case DialectAWS:
		return d.MarshalAWSJSON()
	case DialectR2:
		return d.MarshalR2JSON()
	case DialectWrangler:
		return d.MarshalWranglerJSON()
	}
	return nil, fmt.Errorf("cannot write a policy in dialect %d: use xml, aws, r2 or wrangler", to)
}
