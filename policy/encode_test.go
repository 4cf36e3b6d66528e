package policy

import (
	"bytes"
	"reflect"
	"testing"
)

func TestMarshalRoundTrip(t *testing.T) {
	docs := map[string]string{
		"uploads":    uploads,
		"R2 example": r2Example,
		"XML with markup in an ID": `<CORSConfiguration><CORSRule><ID>a &lt;b&gt; &amp; "c" ]]&gt; é</ID>
			<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>0</MaxAgeSeconds></CORSRule></CORSConfiguration>`,
		"wrangler": `{"rules": [{"id": " spaced ", "allowed": {"origins": ["https://*.example.com"], "methods": ["GET"], "headers": ["*"]}}]}`,
	}
	for name, in := range docs {
		t.Run(name, func(t *testing.T) {
			doc := mustParse(t, in).Document()
			for _, marshal := range []func(*Document) ([]byte, error){(*Document).MarshalS3XML, (*Document).MarshalR2JSON} {
				out, err := marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				again := mustParse(t, string(out)).Document()
				if !reflect.DeepEqual(again.Rules, doc.Rules) {
					t.Errorf("after a round trip through\n%s\nrules are\n%+v\nwant\n%+v", out, again.Rules, doc.Rules)
				}
			}
		})
	}
}

func TestMarshalS3XML(t *testing.T) {
	doc := &Document{Rules: []Rule{{ID: "web", AllowedOrigins: []string{"https://a.test"}, AllowedMethods: []string{"GET", "PUT"},
		AllowedHeaders: []string{"content-type"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: intp(600)}}}
	got, err := doc.MarshalS3XML()
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <ID>web</ID>
    <AllowedOrigin>https://a.test</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>content-type</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>600</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>
`
	if string(got) != want {
		t.Errorf("MarshalS3XML =\n%s\nwant\n%s", got, want)
	}
}

func TestMarshalR2JSON(t *testing.T) {
	doc := &Document{Rules: []Rule{
		{ID: "web", AllowedOrigins: []string{"https://a.test"}, AllowedMethods: []string{"GET"}, MaxAgeSeconds: intp(0)},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"HEAD"}, AllowedHeaders: []string{"x-amz-*"}, ExposeHeaders: []string{"ETag"}},
	}}
	got, err := doc.MarshalR2JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `[
  {
    "ID": "web",
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
`
	if !bytes.Equal(got, []byte(want)) {
		t.Errorf("MarshalR2JSON =\n%s\nwant\n%s", got, want)
	}
}
