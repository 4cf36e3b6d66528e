package policy

import "encoding/xml"

// The shapes the documents are written from, fields in S3's order.
type (
	xmlConfigOut struct {
		XMLName xml.Name     `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CORSConfiguration"`
		Rules   []xmlRuleOut `xml:"CORSRule"`
	}
	xmlRuleOut struct {
		ID            string   `xml:"ID,omitempty"`
		AllowedOrigin []string `xml:"AllowedOrigin"`
		AllowedMethod []string `xml:"AllowedMethod"`
		AllowedHeader []string `xml:"AllowedHeader"`
		ExposeHeader  []string `xml:"ExposeHeader"`
		MaxAgeSeconds *int     `xml:"MaxAgeSeconds,omitempty"`
	}
	r2RuleOut struct {
		ID             string   `json:"ID,omitempty"`
		AllowedOrigins []string `json:"AllowedOrigins"`
		AllowedMethods []string `json:"AllowedMethods"`
		AllowedHeaders []string `json:"AllowedHeaders,omitempty"`
		ExposeHeaders  []string `json:"ExposeHeaders,omitempty"`
		MaxAgeSeconds  *int     `json:"MaxAgeSeconds,omitempty"`
	}
)

// MarshalS3XML renders the document as S3 CORSConfiguration XML, with S3's
// namespace. Decoding the result gives the same rules.
func (d *Document) MarshalS3XML() ([]byte, error) {
	out := xmlConfigOut{Rules: make([]xmlRuleOut, len(d.Rules))}
	for i, r := range d.Rules {
		out.Rules[i] = xmlRuleOut{
			ID:            r.ID,
			AllowedOrigin: r.AllowedOrigins,
			AllowedMethod: r.AllowedMethods,
			AllowedHeader: r.AllowedHeaders,
			ExposeHeader:  r.ExposeHeaders,
			MaxAgeSeconds: r.MaxAgeSeconds,
		}
	}
	body, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(body, '\n')...), nil
}

// MarshalR2JSON renders the document as R2 dashboard JSON (a top-level array).
// Rule IDs are kept as "ID". Decoding the result gives the same rules.
func (d *Document) MarshalR2JSON() ([]byte, error) {
	out := make([]r2RuleOut, len(d.Rules))
	for i, r := range d.Rules {
		out[i] = r2RuleOut(r)
	}
	return indentJSON(out)
}
