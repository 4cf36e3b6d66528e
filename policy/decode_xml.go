package policy

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// s3Namespace is the namespace of S3's XML; documents may also omit it.
const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// The shapes encoding/xml decodes into. Every element records its name, and
// every level catches what it does not expect (",any", ",chardata"), because
// encoding/xml otherwise skips unknown elements without a word.
type (
	xmlConfigIn struct {
		XMLName xml.Name
		Rules   []xmlRuleIn  `xml:"CORSRule"`
		Other   []xmlElement `xml:",any"`
		Text    string       `xml:",chardata"`
	}
	xmlRuleIn struct {
		XMLName       xml.Name
		ID            []xmlValue   `xml:"ID"`
		AllowedOrigin []xmlValue   `xml:"AllowedOrigin"`
		AllowedMethod []xmlValue   `xml:"AllowedMethod"`
		AllowedHeader []xmlValue   `xml:"AllowedHeader"`
		ExposeHeader  []xmlValue   `xml:"ExposeHeader"`
		MaxAgeSeconds []xmlValue   `xml:"MaxAgeSeconds"`
		Other         []xmlElement `xml:",any"`
		Text          string       `xml:",chardata"`
	}
	xmlValue struct {
		XMLName xml.Name
		Text    string       `xml:",chardata"`
		Other   []xmlElement `xml:",any"`
	}
	xmlElement struct {
		XMLName xml.Name
	}
)

// decodeXML reads S3's CORSConfiguration.
func decodeXML(data []byte) (*Document, []Problem) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var in xmlConfigIn
	if err := dec.Decode(&in); err != nil {
		return nil, []Problem{xmlSyntax(err)}
	}
	if p, ok := trailingXML(dec); !ok {
		return nil, []Problem{p}
	}
	d := xmlDecoder{}
	return d.document(&in), d.problems
}

func xmlSyntax(err error) Problem {
	if errors.Is(err, io.EOF) {
		return Problem{Reason: "the document has no <CORSConfiguration> element", Fix: "add one around the rules"}
	}
	return Problem{Reason: "invalid XML " + strings.TrimPrefix(err.Error(), "XML syntax error "),
		Fix: "check the tags around that point"}
}

// trailingXML checks that nothing but comments and space follows the root.
func trailingXML(dec *xml.Decoder) (Problem, bool) {
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return Problem{}, true
		}
		if err != nil {
			return xmlSyntax(err), false
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst, xml.Directive:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return Problem{Value: string(t), Reason: "text after </CORSConfiguration>", Fix: "remove it"}, false
			}
		default:
			return Problem{Reason: "content after </CORSConfiguration>",
				Fix: "put every <CORSRule> inside the one <CORSConfiguration>"}, false
		}
	}
}

// xmlDecoder collects every shape problem of one document.
type xmlDecoder struct {
	problems   []Problem
	namespaces map[string]bool // those reported, once each: children inherit them
}

func (d *xmlDecoder) add(p Problem) { d.problems = append(d.problems, p) }

func (d *xmlDecoder) document(in *xmlConfigIn) *Document {
	switch in.XMLName.Local {
	case "CORSConfiguration":
	case "CORSRule":
		d.add(Problem{Field: "CORSRule", Reason: "the root element is a single rule",
			Fix: "wrap the rules in <CORSConfiguration>"})
		return nil
	default:
		d.add(Problem{Field: in.XMLName.Local, Reason: "the root element of a CORS document is <CORSConfiguration>",
			Fix: "rename it <CORSConfiguration>"})
		return nil
	}
	d.namespace(0, "", in.XMLName)
	for _, e := range in.Other {
		fix := "a CORSConfiguration holds only CORSRule elements"
		if strings.EqualFold(strings.TrimSuffix(e.XMLName.Local, "s"), "CORSRule") || e.XMLName.Local == "Rule" {
			fix = "did you mean <CORSRule>?"
		}
		d.add(Problem{Field: e.XMLName.Local, Reason: "unknown element", Fix: fix})
	}
	d.text(0, "", in.Text)
	doc := &Document{Dialect: DialectXML}
	for i := range in.Rules {
		doc.Rules = append(doc.Rules, d.rule(i+1, &in.Rules[i]))
	}
	return doc
}

// rule converts one CORSRule, reporting what S3 would not read.
func (d *xmlDecoder) rule(index int, in *xmlRuleIn) Rule {
	var r Rule
	d.namespace(index, "", in.XMLName)
	if ids := d.values(index, "", in.ID); len(ids) > 0 {
		r.ID = ids[0]
	}
	for _, e := range in.Other {
		p := Problem{Rule: index, RuleID: r.ID, Field: e.XMLName.Local, Reason: "unknown element in a CORSRule"}
		if guess := xmlNaming.suggest(e.XMLName.Local); guess != "" {
			p.Fix = fmt.Sprintf("did you mean <%s>?", guess)
		} else {
			p.Fix = "a CORSRule holds " + strings.Join(xmlNaming.fields[:], ", ")
		}
		d.add(p)
	}
	d.text(index, r.ID, in.Text)
	r.AllowedOrigins = d.values(index, r.ID, in.AllowedOrigin)
	r.AllowedMethods = d.values(index, r.ID, in.AllowedMethod)
	r.AllowedHeaders = d.values(index, r.ID, in.AllowedHeader)
	r.ExposeHeaders = d.values(index, r.ID, in.ExposeHeader)
	if ages := d.values(index, r.ID, in.MaxAgeSeconds); len(ages) > 0 {
		r.MaxAgeSeconds = d.seconds(index, r.ID, ages[0])
	}
	d.single(index, r.ID, "ID", len(in.ID))
	d.single(index, r.ID, "MaxAgeSeconds", len(in.MaxAgeSeconds))
	return r
}

// single reports an element that a CORSRule holds at most once.
func (d *xmlDecoder) single(index int, id, field string, count int) {
	if count > 1 {
		d.add(Problem{Rule: index, RuleID: id, Field: field,
			Reason: fmt.Sprintf("appears %d times in a CORSRule", count), Fix: "keep one of them"})
	}
}

// values returns the text of elements of one kind, nil when there are none.
func (d *xmlDecoder) values(index int, id string, in []xmlValue) []string {
	var out []string
	for i, v := range in {
		field := fmt.Sprintf("%s[%d]", v.XMLName.Local, i+1)
		d.namespace(index, field, v.XMLName)
		if len(v.Other) > 0 {
			d.add(Problem{Rule: index, RuleID: id, Field: field, Reason: "holds an element <" + v.Other[0].XMLName.Local + ">",
				Fix: "write the value as text"})
		}
		out = append(out, v.Text)
	}
	return out
}

func (d *xmlDecoder) seconds(index int, id, text string) *int {
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		d.add(Problem{Rule: index, RuleID: id, Field: "MaxAgeSeconds", Value: text,
			Reason: "must be a whole number of seconds", Fix: "write a number such as 3600"})
		return nil
	}
	return &n
}

// namespace accepts S3's namespace or none.
func (d *xmlDecoder) namespace(index int, field string, name xml.Name) {
	if name.Space == "" || name.Space == s3Namespace || d.namespaces[name.Space] {
		return
	}
	if d.namespaces == nil {
		d.namespaces = make(map[string]bool)
	}
	d.namespaces[name.Space] = true
	if field == "" {
		field = name.Local
	}
	d.add(Problem{Rule: index, Field: field, Value: name.Space, Reason: "unknown XML namespace",
		Fix: fmt.Sprintf("use xmlns=%q, or no namespace", s3Namespace)})
}

// text refuses words between elements, which S3 would not read.
func (d *xmlDecoder) text(index int, id, text string) {
	if t := strings.TrimSpace(text); t != "" {
		d.add(Problem{Rule: index, RuleID: id, Value: t, Reason: "text outside any element",
			Fix: "put it inside an element, or remove it"})
	}
}
