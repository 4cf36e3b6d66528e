package policy

import (
	"bytes"
	"encoding/json"
)

// The JSON shapes of the AWS CLI and of wrangler, fields in their order.
type (
	awsConfigOut struct {
		Rules []r2RuleOut `json:"CORSRules"`
	}
	wranglerConfigOut struct {
		Rules []wranglerRuleOut `json:"rules"`
	}
	wranglerRuleOut struct {
		ID            string             `json:"id,omitempty"`
		Allowed       wranglerAllowedOut `json:"allowed"`
		ExposeHeaders []string           `json:"exposeHeaders,omitempty"`
		MaxAgeSeconds *int               `json:"maxAgeSeconds,omitempty"`
	}
	wranglerAllowedOut struct {
		Origins []string `json:"origins"`
		Methods []string `json:"methods"`
		Headers []string `json:"headers,omitempty"`
	}
)

// MarshalAWSJSON renders the document as the AWS CLI's JSON, what
// `aws s3api put-bucket-cors --cors-configuration` reads:
// {"CORSRules": [{"ID": ..., "AllowedOrigins": [...], ...}]}. Decoding the
// result gives the same rules.
func (d *Document) MarshalAWSJSON() ([]byte, error) {
	out := awsConfigOut{Rules: make([]r2RuleOut, len(d.Rules))}
	for i, r := range d.Rules {
		out.Rules[i] = r2RuleOut(r)
	}
	return indentJSON(out)
}

// MarshalWranglerJSON renders the document as the file that
// `wrangler r2 bucket cors set --file` reads, the body of Cloudflare's
// bucket CORS API: {"rules": [{"id": ..., "allowed": {"origins": [...],
// "methods": [...], "headers": [...]}, "exposeHeaders": [...],
// "maxAgeSeconds": N}]}. Decoding the result gives the same rules.
func (d *Document) MarshalWranglerJSON() ([]byte, error) {
	out := wranglerConfigOut{Rules: make([]wranglerRuleOut, len(d.Rules))}
	for i, r := range d.Rules {
		out.Rules[i] = wranglerRuleOut{
			ID: r.ID,
			Allowed: wranglerAllowedOut{
				Origins: orEmpty(r.AllowedOrigins),
				Methods: orEmpty(r.AllowedMethods),
				Headers: r.AllowedHeaders,
			},
			ExposeHeaders: r.ExposeHeaders,
			MaxAgeSeconds: r.MaxAgeSeconds,
		}
	}
	return indentJSON(out)
}

// orEmpty writes a missing list that a rule must have as [], not null.
func orEmpty(values []string) []string {
	if values == nil {
		return []string{}
	}
	return values
}

// indentJSON renders v indented by two spaces, with a final newline, and
// without escaping the "&", "<" and ">" that origins and IDs may hold.
func indentJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
