package policy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Verdict is the judgement in one line, the words of the debug header:
//
//	rule 2 ("uploads") allowed
//	refused: rule 1: origin https://x.example not listed; rule 2: header x-foo not allowed
func (e Explanation) Verdict() string {
	switch {
	case e.Allowed:
		return ruleLabel(e.Rule, e.RuleID) + " allowed"
	case e.Reason != "":
		return e.Reason
	}
	var b strings.Builder
	b.WriteString("refused")
	for i, o := range e.Rules {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(ruleLabel(o.Rule, o.ID))
		b.WriteString(": ")
		b.WriteString(o.Reason)
	}
	return b.String()
}

// ruleLabel names a rule: `rule 2 ("uploads")`, or `rule 2` without an ID.
func ruleLabel(n int, id string) string {
	label := "rule " + strconv.Itoa(n)
	if id != "" {
		label += " (" + quoteValue(id) + ")"
	}
	return label
}

// showValue shows a request's value in a message: as it is when it is
// printable ASCII without spaces, quoted otherwise (and cut short when long),
// so that a hostile value cannot break the line or the header it goes in.
func showValue(v string) string {
	const most = 100
	if v == "" || len(v) > most {
		return quoteValue(v)
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] >= 0x7f || v[i] == '"' {
			return quoteValue(v)
		}
	}
	return v
}

// String renders the explanation for a terminal: the verdict, each rule's
// outcome and the notes, then the answer as it goes on the wire.
//
//	refused: rule 1: origin https://x.example not listed
//	  rule 1: origin https://x.example not listed
//
//	HTTP/1.1 403 Forbidden
//	Content-Type: application/xml
//	...
func (e Explanation) String() string {
	var b strings.Builder
	b.WriteString(e.Verdict())
	b.WriteByte('\n')
	for _, o := range e.Rules {
		b.WriteString("  " + ruleLabel(o.Rule, o.ID) + ": " + o.Reason + "\n")
	}
	for _, n := range e.Notes {
		b.WriteString("  note: " + n + "\n")
	}
	b.WriteByte('\n')
	if e.Status != 0 {
		b.WriteString("HTTP/1.1 " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + "\n")
	} else {
		b.WriteString("HTTP/1.1 (the origin's status and headers, less any Access-Control-* header)\n")
	}
	for _, h := range e.Headers {
		b.WriteString(h.Name + ": " + h.Value + "\n")
	}
	if e.Body != "" {
		b.WriteString("\n" + e.Body + "\n")
	}
	return b.String()
}

// MarshalJSON renders the explanation with its verdict first. The body's
// markup is not escaped, unless the encoder escapes HTML (json.Marshal
// does; an Encoder with SetEscapeHTML(false) does not).
func (e Explanation) MarshalJSON() ([]byte, error) {
	type fields Explanation // the fields, without this method
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Verdict string `json:"verdict"`
		fields
	}{e.Verdict(), fields(e)})
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}
