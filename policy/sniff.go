package policy

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"

	"github.com/tailscale/hujson"
)

// Sniff tells which dialect a document is written in from its shape alone:
// a top-level array (R2), {"CORSRules": ...} (AWS CLI), {"rules": ...}
// (wrangler) or <CORSConfiguration> (S3 XML). It reads documents that do not
// decode, as far as their syntax allows, and reports false when the shape is
// none of these.
func Sniff(data []byte) (Dialect, bool) {
	s := sniff(data)
	return s.dialect, s.dialect != 0
}

// ruleStyle is how a document spells the fields of its rules.
type ruleStyle uint8

const (
	styleUnknown  ruleStyle = iota
	styleAWS                // AllowedOrigins, AllowedMethods, ... (R2 and the AWS CLI)
	styleWrangler           // "allowed": {"origins", "methods", "headers"}, "exposeHeaders", ...
)

// shape is what sniffing learns: the dialect of the document's outside,
// and the style of its first rule's fields.
type shape struct {
	dialect Dialect
	style   ruleStyle
}

// mixed reports a document whose rules are spelled for another dialect than
// its outside: {"rules": [{"AllowedOrigins": ...}]}, the file that wrangler
// users write from the S3 documentation.
func (s shape) mixed() bool {
	switch s.dialect {
	case DialectR2, DialectAWS:
		return s.style == styleWrangler
	case DialectWrangler:
		return s.style == styleAWS
	}
	return false
}

func sniff(data []byte) shape {
	body := bytes.TrimLeft(bytes.TrimPrefix(data, utf8BOM), " \t\r\n")
	if len(body) > 0 && body[0] == '<' {
		return sniffXML(body)
	}
	// Comments and trailing commas would stop the tokenizer; a document
	// that hujson cannot read is tokenized as it is, up to its first error.
	if std, err := hujson.Standardize(bytes.Clone(body)); err == nil {
		body = std
	}
	return sniffJSON(json.NewDecoder(bytes.NewReader(body)))
}

// sniffXML looks at the root element.
func sniffXML(data []byte) shape {
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return shape{}
		}
		if start, ok := tok.(xml.StartElement); ok {
			if start.Name.Local == "CORSConfiguration" {
				return shape{dialect: DialectXML}
			}
			return shape{}
		}
	}
}

// sniffJSON reads the tokens of the top level, and the keys of the first
// rule.
func sniffJSON(dec *json.Decoder) shape {
	tok, err := dec.Token()
	if err != nil {
		return shape{}
	}
	if tok == json.Delim('[') {
		return shape{dialect: DialectR2, style: firstRuleStyle(dec)}
	}
	if tok != json.Delim('{') {
		return shape{}
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return shape{}
		}
		var s shape
		switch key {
		case "CORSRules":
			s.dialect = DialectAWS
		case "rules":
			s.dialect = DialectWrangler
		default:
			if skipValue(dec) != nil {
				return shape{}
			}
			continue
		}
		if tok, err := dec.Token(); err == nil && tok == json.Delim('[') {
			s.style = firstRuleStyle(dec)
		}
		return s
	}
	return shape{}
}

// firstRuleStyle reads the keys of the next object of a list of rules.
func firstRuleStyle(dec *json.Decoder) ruleStyle {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return styleUnknown
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return styleUnknown
		}
		key, _ := tok.(string)
		switch key {
		case "ID", "AllowedOrigins", "AllowedMethods", "AllowedHeaders", "ExposeHeaders", "MaxAgeSeconds":
			return styleAWS
		case "allowed", "id", "exposeHeaders", "maxAgeSeconds":
			return styleWrangler
		}
		if skipValue(dec) != nil {
			return styleUnknown
		}
	}
	return styleUnknown
}

// skipValue reads past one value.
func skipValue(dec *json.Decoder) error {
	var v json.RawMessage
	err := dec.Decode(&v)
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// DescribeMismatch says what a document looks like when that is not what
// want reads, and how to make it so:
//
//	looks like the AWS CLI's JSON ({"CORSRules": [...]}); R2's dashboard wants the bare array of rules: ...; convert it: caddy bucket-cors convert --to r2 FILE
//
// With want 0 (any dialect, as Decode reads) it speaks only of a document
// that mixes two dialects, such as wrangler's {"rules": [...]} around rules
// spelled as for AWS, which no tool reads. It returns "" when the document is
// what want reads, or when its shape tells nothing.
func DescribeMismatch(data []byte, want Dialect) string {
	s := sniff(data)
	if s.dialect == 0 || !s.mixed() && (want == 0 || want == s.dialect) {
		return ""
	}
	msg := "looks like " + s.describe()
	if want != 0 {
		msg += "; " + wants(want, s)
	}
	return msg + "; " + s.fix(want)
}

// describe names what the document looks like.
func (s shape) describe() string {
	if !s.mixed() {
		return looks[s.dialect]
	}
	outside := map[Dialect]string{
		DialectR2:       "a bare array",
		DialectAWS:      `the AWS CLI's {"CORSRules": [...]}`,
		DialectWrangler: `wrangler's {"rules": [...]}`,
	}[s.dialect]
	if s.style == styleAWS {
		return outside + ` holding rules spelled as for S3 and R2 ("AllowedOrigins")`
	}
	return outside + ` holding rules spelled as for wrangler ("allowed": {"origins"})`
}

// looks describes each dialect by its shape.
var looks = map[Dialect]string{
	DialectR2:       "R2's dashboard JSON (a bare array of rules)",
	DialectAWS:      `the AWS CLI's JSON ({"CORSRules": [...]})`,
	DialectWrangler: `wrangler's JSON ({"rules": [{"allowed": {...}}]})`,
	DialectXML:      "S3's XML (<CORSConfiguration>)",
}

// wants says what the tool that reads want expects, and what it answers
// to a document of shape s.
func wants(want Dialect, s shape) string {
	switch want {
	case DialectR2:
		return `R2's dashboard wants the bare array of rules: [{"AllowedOrigins": [...], "AllowedMethods": [...]}]`
	case DialectAWS:
		return `aws s3api put-bucket-cors wants {"CORSRules": [{"AllowedOrigins": [...], "AllowedMethods": [...]}]}`
	case DialectXML:
		return "S3's PutBucketCors API wants <CORSConfiguration> XML"
	}
	w := `wrangler r2 bucket cors set wants {"rules": [{"allowed": {"origins": [...], "methods": [...]}}]}`
	switch {
	case s.dialect == DialectWrangler:
		// wrangler passes the rules on as they are (cloudflare/workers-sdk#8486).
		return w + `, and Cloudflare's API refuses other field names with "The JSON you provided was not well formed. [code: 10040]"`
	case s.dialect != DialectXML:
		return w + `, and stops at anything else with "The CORS configuration file must contain a 'rules' array"`
	}
	return w
}

// fix says how to turn the document into want (or into any one dialect,
// for want 0).
func (s shape) fix(want Dialect) string {
	if !s.mixed() {
		return "convert it: caddy bucket-cors convert --to " + want.Name() + " FILE"
	}
	// A mixed document is one rename away from a dialect that Decode reads.
	var rename string
	var becomes Dialect
	switch {
	case s.dialect == DialectWrangler:
		rename, becomes = `rename "rules" to "CORSRules", which makes it the AWS CLI's JSON`, DialectAWS
	case s.dialect == DialectAWS:
		rename, becomes = `rename "CORSRules" to "rules", which makes it wrangler's JSON`, DialectWrangler
	default:
		rename, becomes = `wrap the array in {"rules": ...}, which makes it wrangler's JSON`, DialectWrangler
	}
	if want == 0 || want == becomes {
		return rename
	}
	return rename + ", then convert it: caddy bucket-cors convert --to " + want.Name() + " FILE"
}
