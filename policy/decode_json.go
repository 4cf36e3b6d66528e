package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tailscale/hujson"
)

// decodeJSON reads the three JSON dialects. hujson turns comments and
// trailing commas into spaces; encoding/json then reads the result member by
// member, because decoding into a struct would match keys without regard to
// case and let a repeated key silently win.
func decodeJSON(data []byte) (*Document, []Problem) {
	std, err := hujson.Standardize(data)
	if err != nil {
		return nil, []Problem{{
			Reason: "invalid JSON: " + strings.TrimPrefix(err.Error(), "hujson: "),
			Fix:    "check the brackets, commas and quotes around that point",
		}}
	}
	std = bytes.TrimSpace(std)
	if len(std) == 0 {
		return nil, []Problem{notACORSDocument}
	}
	d := &jsonDecoder{}
	switch std[0] {
	case '[':
		return d.document(DialectR2, std), d.problems
	case '{':
		members, ok := objectMembers(std)
		if !ok {
			return nil, []Problem{tooDeep}
		}
		return d.object(members), d.problems
	default:
		return nil, []Problem{notACORSDocument}
	}
}

// tooDeep explains why encoding/json refused what hujson read: its limit on
// nesting, the one thing it checks that hujson does not.
var tooDeep = Problem{Reason: "the document is nested too deeply to read", Fix: "a CORS document nests four levels at most"}

var notACORSDocument = Problem{
	Reason: "not a CORS document",
	Fix: `write a list of rules: [{"AllowedOrigins": [...], "AllowedMethods": [...]}] (R2), ` +
		`{"CORSRules": [...]} (AWS CLI), {"rules": [...]} (wrangler) or <CORSConfiguration> (S3 XML)`,
}

// jsonDecoder collects every shape problem of one document.
type jsonDecoder struct {
	dialect  Dialect
	naming   *naming
	problems []Problem
}

func (d *jsonDecoder) add(p Problem) { d.problems = append(d.problems, p) }

// object tells the AWS CLI's {"CORSRules": [...]} from wrangler's
// {"rules": [...]}.
func (d *jsonDecoder) object(members []member) *Document {
	dialect, list := Dialect(0), json.RawMessage(nil)
	for _, m := range members {
		switch m.key {
		case "CORSRules":
			dialect, list = DialectAWS, m.value
		case "rules":
			if dialect == 0 {
				dialect, list = DialectWrangler, m.value
			}
		}
	}
	if dialect == 0 {
		d.add(unknownTopLevel(members))
		return nil
	}
	d.dialect, d.naming = dialect, dialect.naming()
	seen := false
	for _, m := range members {
		switch {
		case m.key == d.naming.rules && !seen:
			seen = true
		case m.key == d.naming.rules:
			d.add(Problem{Field: m.key, Reason: "appears twice", Fix: "merge the two lists of rules"})
		default:
			d.add(Problem{Field: m.key, Reason: "unknown field at the top of the document",
				Fix: fmt.Sprintf("the document holds only %q", d.naming.rules)})
		}
	}
	return d.document(dialect, list)
}

// unknownTopLevel explains an object that is neither dialect.
func unknownTopLevel(members []member) Problem {
	for _, m := range members {
		switch {
		case strings.EqualFold(m.key, "CORSRules") || strings.EqualFold(m.key, "CORSRule"):
			return Problem{Field: m.key, Reason: "unknown field", Fix: `did you mean "CORSRules"?`}
		case strings.EqualFold(m.key, "rules"):
			return Problem{Field: m.key, Reason: "unknown field", Fix: `did you mean "rules"?`}
		case m.key == "CORSConfiguration":
			return Problem{Field: m.key, Reason: "unknown field",
				Fix: `put the rules at the top: {"CORSRules": [...]}`}
		}
	}
	for _, m := range members {
		if _, ok := guessField(m.key); ok || m.key == "allowed" {
			return Problem{Reason: "the document is a single rule, not a list of rules",
				Fix: "wrap it in [ ] (R2), or in {\"CORSRules\": [ ]} (AWS CLI) or {\"rules\": [ ]} (wrangler)"}
		}
	}
	return notACORSDocument
}

// document decodes the list of rules.
func (d *jsonDecoder) document(dialect Dialect, list json.RawMessage) *Document {
	d.dialect, d.naming = dialect, dialect.naming()
	doc := &Document{Dialect: dialect}
	var items []json.RawMessage
	if jsonKind(list) != "a list" {
		d.add(Problem{Field: d.naming.rules, Reason: "must be a list of rules, not " + jsonKind(list),
			Fix: "write the rules inside [ ]"})
		return nil
	}
	if json.Unmarshal(list, &items) != nil {
		d.add(tooDeep)
		return nil
	}
	for i, item := range items {
		members, ok := objectMembers(item)
		switch {
		case !ok && jsonKind(item) == "an object":
			d.add(tooDeep)
			return nil
		case !ok:
			d.add(Problem{Rule: i + 1, Reason: "a rule must be an object, not " + jsonKind(item),
				Fix: "write the rule inside { }"})
			continue
		}
		doc.Rules = append(doc.Rules, d.rule(i+1, dialect, members))
	}
	return doc
}

// rule decodes one rule's members.
func (d *jsonDecoder) rule(index int, dialect Dialect, members []member) Rule {
	r := ruleDecoder{d: d, index: index, id: ruleID(members, d.naming.fields[fieldID])}
	for _, m := range members {
		if dialect == DialectWrangler && m.key == "allowed" {
			r.allowed(m.value)
			continue
		}
		r.member(m, ruleKeys(dialect), "")
	}
	return r.rule
}

// ruleID finds the rule's ID first, so that every problem of the rule can
// name it.
func ruleID(members []member, key string) string {
	for _, m := range members {
		var id string
		if m.key == key && json.Unmarshal(m.value, &id) == nil {
			return id
		}
	}
	return ""
}

// ruleKeys maps the keys of a rule object to their fields.
func ruleKeys(dialect Dialect) map[string]ruleField {
	if dialect == DialectWrangler {
		return wranglerRuleKeys
	}
	return awsRuleKeys
}

var (
	awsRuleKeys = map[string]ruleField{
		"ID": fieldID, "AllowedOrigins": fieldOrigins, "AllowedMethods": fieldMethods,
		"AllowedHeaders": fieldHeaders, "ExposeHeaders": fieldExpose, "MaxAgeSeconds": fieldMaxAge,
	}
	wranglerRuleKeys = map[string]ruleField{
		"id": fieldID, "exposeHeaders": fieldExpose, "maxAgeSeconds": fieldMaxAge,
	}
	wranglerAllowedKeys = map[string]ruleField{
		"origins": fieldOrigins, "methods": fieldMethods, "headers": fieldHeaders,
	}
)

// ruleDecoder fills one Rule.
type ruleDecoder struct {
	d     *jsonDecoder
	index int
	id    string
	rule  Rule
	seen  [numFields + 1]bool // the last one is wrangler's "allowed"
}

func (r *ruleDecoder) add(p Problem) {
	p.Rule, p.RuleID = r.index, r.id
	r.d.add(p)
}

// allowed decodes wrangler's {"origins", "methods", "headers"} object.
func (r *ruleDecoder) allowed(raw json.RawMessage) {
	if r.seen[numFields] {
		r.add(Problem{Field: "allowed", Reason: "appears twice", Fix: "merge the two objects"})
		return
	}
	r.seen[numFields] = true
	members, ok := objectMembers(raw)
	if !ok {
		r.add(Problem{Field: "allowed", Reason: "must be an object, not " + jsonKind(raw),
			Fix: `write {"origins": [...], "methods": [...], "headers": [...]}`})
		return
	}
	for _, m := range members {
		r.member(m, wranglerAllowedKeys, "allowed.")
	}
}

// member decodes one key of a rule (or of wrangler's "allowed", whose keys
// take the prefix "allowed.").
func (r *ruleDecoder) member(m member, keys map[string]ruleField, prefix string) {
	f, ok := keys[m.key]
	if !ok {
		r.unknown(prefix + m.key)
		return
	}
	name := r.d.naming.fields[f]
	if r.seen[f] {
		r.add(Problem{Field: name, Reason: "appears twice", Fix: "keep one of them"})
		return
	}
	r.seen[f] = true
	switch f {
	case fieldID:
		r.rule.ID = r.str(name, m.value)
	case fieldOrigins:
		r.rule.AllowedOrigins = r.strs(name, m.value)
	case fieldMethods:
		r.rule.AllowedMethods = r.strs(name, m.value)
	case fieldHeaders:
		r.rule.AllowedHeaders = r.strs(name, m.value)
	case fieldExpose:
		r.rule.ExposeHeaders = r.strs(name, m.value)
	case fieldMaxAge:
		r.rule.MaxAgeSeconds = r.seconds(name, m.value)
	}
}

// unknown reports a key that the dialect does not have, with the one most
// likely meant.
func (r *ruleDecoder) unknown(key string) {
	p := Problem{Field: key, Reason: "unknown field in a rule of " + r.d.dialect.String()}
	switch guess := r.d.naming.suggest(key); {
	case key == "allowed":
		p.Fix = `"allowed" is wrangler's; here write AllowedOrigins, AllowedMethods and AllowedHeaders`
	case guess != "" && guess != key:
		p.Fix = fmt.Sprintf("did you mean %q?", guess)
	default:
		p.Fix = "a rule has " + strings.Join(r.d.naming.fields[:], ", ")
	}
	r.add(p)
}

func (r *ruleDecoder) str(field string, raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		r.add(Problem{Field: field, Value: string(raw), Reason: "must be a string, not " + jsonKind(raw),
			Fix: "write it in double quotes"})
	}
	return s
}

// strs decodes a list of strings; an empty list or null is nil, as when the
// field is absent.
func (r *ruleDecoder) strs(field string, raw json.RawMessage) []string {
	if jsonKind(raw) == "null" {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		fix := "write the values inside [ ]"
		var s string
		if json.Unmarshal(raw, &s) == nil {
			fix = fmt.Sprintf("write [%s]", raw)
		}
		r.add(Problem{Field: field, Reason: "must be a list of strings, not " + jsonKind(raw), Fix: fix})
		return nil
	}
	var out []string
	for i, item := range items {
		var s string
		if jsonKind(item) != "a string" || json.Unmarshal(item, &s) != nil {
			r.add(Problem{Field: fmt.Sprintf("%s[%d]", field, i+1), Value: string(item),
				Reason: "must be a string, not " + jsonKind(item), Fix: "write it in double quotes"})
			continue
		}
		out = append(out, s)
	}
	return out
}

func (r *ruleDecoder) seconds(field string, raw json.RawMessage) *int {
	if jsonKind(raw) == "null" {
		return nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		fix := "write a whole number of seconds, such as 3600"
		if jsonKind(raw) == "a string" {
			fix = "write the number without quotes"
		}
		r.add(Problem{Field: field, Value: string(raw), Reason: "must be a whole number of seconds", Fix: fix})
		return nil
	}
	return &n
}

// member is one key and value of a JSON object, in document order.
type member struct {
	key   string
	value json.RawMessage
}

// objectMembers splits a JSON object into its members, keeping their order
// and any repeated key. It reports false when data is not an object.
func objectMembers(data json.RawMessage) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, false
		}
		members = append(members, member{key: key, value: value})
	}
	return members, true
}

// jsonKind names the kind of a JSON value, for messages.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "missing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '[':
		return "a list"
	case '{':
		return "an object"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}
