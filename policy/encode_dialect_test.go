package policy

import (
	"reflect"
	"strings"
	"testing"
)

// oneOfEach is a policy in each dialect, every field used: IDs (with
// markup, spaces and accents), patterns, upper case, MaxAgeSeconds 0 and
// unset.
var oneOfEach = map[Dialect]string{
	DialectR2: `[
		{"ID": "a <b> & \"c\" é", "AllowedOrigins": ["https://*.example.com", "HTTPS://App.Example.com"],
		 "AllowedMethods": ["PUT", "GET", "HEAD"], "AllowedHeaders": ["Content-Type", "x-amz-*"],
		 "ExposeHeaders": ["ETag", "x-amz-checksum-crc32"], "MaxAgeSeconds": 0},
		{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
	]`,
	DialectAWS: `{"CORSRules": [
		{"ID": " spaced ", "AllowedOrigins": ["http://localhost:*"], "AllowedMethods": ["DELETE"], "MaxAgeSeconds": 3600},
		{"AllowedOrigins": ["https://a.test"], "AllowedMethods": ["POST", "PUT"], "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"]}
	]}`,
	DialectWrangler: `{"rules": [
		{"id": "up", "allowed": {"origins": ["https://app.example.com"], "methods": ["PUT"], "headers": ["authorization", "amz-sdk-*"]},
		 "exposeHeaders": ["ETag"], "maxAgeSeconds": 7200},
		{"allowed": {"origins": ["*"], "methods": ["GET", "HEAD"]}}
	]}`,
	DialectXML: `<?xml version="1.0" encoding="UTF-8"?>
	<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
	  <CORSRule><ID>a &amp; b ]]&gt;</ID><AllowedOrigin>https://*.example.com</AllowedOrigin>
	    <AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>range</AllowedHeader>
	    <ExposeHeader>Content-Length</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>
	  <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>
	</CORSConfiguration>`,
}

var allDialects = []Dialect{DialectXML, DialectAWS, DialectR2, DialectWrangler}

// TestConvertRoundTrip: a document converted to any dialect, and from there
// to any other, reads back as the same rules, in the dialect it was written
// in.
func TestConvertRoundTrip(t *testing.T) {
	for from, in := range oneOfEach {
		doc, err := Decode("in", []byte(in))
		if err != nil {
			t.Fatalf("%s: %v", from, err)
		}
		if doc.Dialect != from {
			t.Fatalf("the %s example decodes as %s", from, doc.Dialect)
		}
		for _, via := range allDialects {
			for _, to := range allDialects {
				t.Run(from.Name()+" to "+via.Name()+" to "+to.Name(), func(t *testing.T) {
					mid := convert(t, doc, via)
					out := convert(t, mid, to)
					if !reflect.DeepEqual(out.Rules, doc.Rules) {
						t.Errorf("rules are\n%+v\nwant\n%+v", out.Rules, doc.Rules)
					}
				})
			}
		}
	}
}

// convert marshals doc in dialect to, and decodes the result, which must
// be in that dialect and compile.
func convert(t *testing.T, doc *Document, to Dialect) *Document {
	t.Helper()
	data, err := doc.Marshal(to)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode("converted", data)
	if err != nil {
		t.Fatalf("the %s output does not decode: %v\n%s", to, err, data)
	}
	if out.Dialect != to {
		t.Errorf("the %s output decodes as %s:\n%s", to, out.Dialect, data)
	}
	if sniffed, ok := Sniff(data); !ok || sniffed != to {
		t.Errorf("the %s output sniffs as %s, %v", to, sniffed, ok)
	}
	if _, err := Compile("converted", out); err != nil {
		t.Errorf("the %s output does not compile: %v\n%s", to, err, data)
	}
	return out
}

func TestMarshalAWSJSON(t *testing.T) {
	doc := &Document{Rules: []Rule{
		{ID: "web & co", AllowedOrigins: []string{"https://a.test"}, AllowedMethods: []string{"GET"}, MaxAgeSeconds: intp(0)},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"HEAD"}, AllowedHeaders: []string{"x-amz-*"}, ExposeHeaders: []string{"ETag"}},
	}}
	got, err := doc.MarshalAWSJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "CORSRules": [
    {
      "ID": "web & co",
      "AllowedOrigins": [
        "https://a.test"
      ],
      "AllowedMethods": [
        "GET"
      ],
      "MaxAgeSeconds": 0
    },
    {
      "AllowedOrigins": [
        "*"
      ],
      "AllowedMethods": [
        "HEAD"
      ],
      "AllowedHeaders": [
        "x-amz-*"
      ],
      "ExposeHeaders": [
        "ETag"
      ]
    }
  ]
}
`
	if string(got) != want {
		t.Errorf("MarshalAWSJSON =\n%s\nwant\n%s", got, want)
	}
}

func TestMarshalWranglerJSON(t *testing.T) {
	doc := &Document{Rules: []Rule{
		{ID: "up", AllowedOrigins: []string{"https://a.test"}, AllowedMethods: []string{"PUT", "GET"},
			AllowedHeaders: []string{"content-type"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: intp(3600)},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
	}}
	got, err := doc.MarshalWranglerJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "rules": [
    {
      "id": "up",
      "allowed": {
        "origins": [
          "https://a.test"
        ],
        "methods": [
          "PUT",
          "GET"
        ],
        "headers": [
          "content-type"
        ]
      },
      "exposeHeaders": [
        "ETag"
      ],
      "maxAgeSeconds": 3600
    },
    {
      "allowed": {
        "origins": [
          "*"
        ],
        "methods": [
          "GET"
        ]
      }
    }
  ]
}
`
	if string(got) != want {
		t.Errorf("MarshalWranglerJSON =\n%s\nwant\n%s", got, want)
	}
}

func TestParseDialect(t *testing.T) {
	for _, d := range allDialects {
		for _, name := range []string{d.Name(), strings.ToUpper(d.Name()), " " + d.Name() + "\n"} {
			if got, err := ParseDialect(name); err != nil || got != d {
				t.Errorf("ParseDialect(%q) = %v, %v; want %v", name, got, err, d)
			}
		}
	}
	for _, name := range []string{"", "json", "s3xml", "R2 JSON"} {
		_, err := ParseDialect(name)
		if err == nil || !strings.Contains(err.Error(), "xml (S3), aws (AWS CLI JSON), r2 (R2 dashboard JSON) or wrangler") {
			t.Errorf("ParseDialect(%q) error = %v, want one that lists the dialects", name, err)
		}
	}
	if _, err := (&Document{}).Marshal(0); err == nil || !strings.Contains(err.Error(), "use xml, aws, r2 or wrangler") {
		t.Errorf("Marshal(0) error = %v", err)
	}
	if got := Dialect(0).Name(); got != "" {
		t.Errorf("Dialect(0).Name() = %q", got)
	}
}

// FuzzConvert: whatever compiles converts to every dialect and back to the
// same rules.
func FuzzConvert(f *testing.F) {
	for _, in := range oneOfEach {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Decode("fuzz", data)
		if err != nil {
			return
		}
		if _, err := Compile("fuzz", doc); err != nil {
			return
		}
		for _, to := range allDialects {
			out, err := doc.Marshal(to)
			if err != nil {
				t.Fatalf("Marshal(%s): %v", to, err)
			}
			again, err := Decode("again", out)
			if err != nil {
				t.Fatalf("re-reading the %s output\n%s\nfailed: %v", to, out, err)
			}
			if again.Dialect != to || !reflect.DeepEqual(again.Rules, doc.Rules) {
				t.Fatalf("round trip through\n%s\ngave %s\n%#v\nwant\n%#v", out, again.Dialect, again.Rules, doc.Rules)
			}
		}
	})
}
