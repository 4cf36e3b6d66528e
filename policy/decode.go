package policy

import (
	"bytes"
	"fmt"
	"io"
)

// Decode reads a document in any of the four dialects, telling them apart by
// shape. JSON may carry comments and trailing commas. A document larger than
// MaxDocumentSize is refused. Decode checks syntax and shape only (unknown
// fields are errors); Compile validates the rules. name says where the
// document came from (a file path, "Caddyfile:12") and starts every error.
//
// Its errors are a *ValidationError, which lists every shape problem found.
func Decode(name string, data []byte) (*Document, error) {
	if len(data) > MaxDocumentSize {
		return nil, tooLarge(name)
	}
	body := bytes.TrimLeft(bytes.TrimPrefix(data, utf8BOM), " \t\r\n")
	var (
		doc      *Document
		problems []Problem
	)
	switch {
	case len(body) == 0:
		problems = []Problem{{Reason: "the document is empty", Fix: "write a list of CORS rules"}}
	case body[0] == '<':
		doc, problems = decodeXML(body)
	default:
		doc, problems = decodeJSON(body)
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Name: name, Problems: problems}
	}
	return doc, nil
}

// utf8BOM starts some files saved by Windows editors.
var utf8BOM = []byte("\xef\xbb\xbf")

// ReadDocument decodes the document that r yields, reading at most
// MaxDocumentSize+1 bytes of it: a larger one is refused without being read
// whole.
func ReadDocument(name string, r io.Reader) (*Document, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the policy: %w", name, err)
	}
	if len(data) > MaxDocumentSize {
		return nil, tooLarge(name)
	}
	return Decode(name, data)
}

func tooLarge(name string) error {
	return &ValidationError{Name: name, Problems: []Problem{{
		Reason: fmt.Sprintf("the document is larger than %d bytes (64 KiB)", MaxDocumentSize),
		Fix:    "remove rules or merge their origins",
	}}}
}

// Parse is Decode followed by Compile.
func Parse(name string, data []byte) (*Policy, error) {
	doc, err := Decode(name, data)
	if err != nil {
		return nil, err
	}
	return Compile(name, doc)
}

// ParseStrict is Decode followed by CompileStrict.
func ParseStrict(name string, data []byte) (*Policy, error) {
	doc, err := Decode(name, data)
	if err != nil {
		return nil, err
	}
	return CompileStrict(name, doc)
}

// Read is ReadDocument followed by Compile.
func Read(name string, r io.Reader) (*Policy, error) {
	doc, err := ReadDocument(name, r)
	if err != nil {
		return nil, err
	}
	return Compile(name, doc)
}

// ReadStrict is ReadDocument followed by CompileStrict.
func ReadStrict(name string, r io.Reader) (*Policy, error) {
	doc, err := ReadDocument(name, r)
	if err != nil {
		return nil, err
	}
	return CompileStrict(name, doc)
}
