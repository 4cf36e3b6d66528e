package source

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const allowApp = `[{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}]`

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDirLoad: the folder answers each bucket from <bucket>.json or
// <bucket>.xml, judged by S3's rules, with a version that changes with the
// file; what cannot be used is an *InvalidError.
func TestDirLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "json.json", allowApp)
	write(t, dir, "xml.xml", `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`)
	write(t, dir, "both.json", allowApp)
	write(t, dir, "both.xml", `<CORSConfiguration/>`)
	write(t, dir, "refused.json", `[{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]`)
	write(t, dir, "warned.json", `[{"AllowedOrigins": ["", "https://app.example.com"], "AllowedMethods": ["GET"]}]`)
	d := &Dir{Path: dir}
	for _, tc := range []struct {
		bucket      string
		found       bool
		invalid     bool
		wantWarning bool
	}{
		{"json", true, false, false},
		{"xml", true, false, false},
		{"missing", false, false, false},
		{"both", false, true, false},
		{"refused", false, true, false},
		{"warned", true, false, true},
	} {
		t.Run(tc.bucket, func(t *testing.T) {
			res, err := d.Load(context.Background(), tc.bucket)
			if IsInvalid(err) != tc.invalid || (err != nil && !tc.invalid) {
				t.Fatalf("Load: %v, want invalid %v", err, tc.invalid)
			}
			if res.Found != tc.found {
				t.Errorf("found = %v, want %v", res.Found, tc.found)
			}
			if tc.found && (res.Policy == nil || res.Version == "") {
				t.Errorf("found without a policy or a version: %+v", res)
			}
			if tc.found && (res.Policy.Warnings() != nil) != tc.wantWarning {
				t.Errorf("warnings = %v, want some: %v", res.Policy.Warnings(), tc.wantWarning)
			}
		})
	}

	before, _ := d.Load(context.Background(), "json")
	write(t, dir, "json.json", allowApp+"\n")
	after, _ := d.Load(context.Background(), "json")
	if before.Version == after.Version {
		t.Errorf("the version %q did not change with the file", after.Version)
	}
}

// TestReadDir lists the folder's documents, leaving other files alone.
func TestReadDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "good.json", allowApp)
	write(t, dir, "bad.json", `[`)
	write(t, dir, "notes.txt", "not a policy")
	write(t, dir, "..json", allowApp)
	docs, err := ReadDir(dir, func(b string) bool { return strings.Trim(b, ".") != "" })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, d := range docs {
		got[d.Bucket] = d.Err == nil && d.Result.Found
	}
	if len(got) != 2 || !got["good"] || got["bad"] {
		t.Errorf("ReadDir = %v, want good (usable) and bad (not)", got)
	}
	if _, err := ReadDir(filepath.Join(dir, "none"), nil); err == nil {
		t.Error("ReadDir of a missing folder succeeded")
	}
}

type fakeSource struct {
	name string
	res  Result
	err  error
	hits *int
}

func (f fakeSource) Name() string { return f.name }
func (f fakeSource) Load(context.Context, string) (Result, error) {
	*f.hits++
	return f.res, f.err
}

// TestFirst: the first source with a policy answers; a failing source ends
// the search, since a later one could grant what it would refuse.
func TestFirst(t *testing.T) {
	t.Parallel()
	found := Result{Found: true, Version: "v1"}
	failure := errors.New("store down")
	var a, b, c int
	res, name, err := First(context.Background(), []Source{
		fakeSource{"a", Result{}, nil, &a}, fakeSource{"b", found, nil, &b}, fakeSource{"c", found, nil, &c},
	}, "bucket", Held{})
	if err != nil || name != "b" || res.Version != "v1" || a != 1 || b != 1 || c != 0 {
		t.Errorf("First = %+v, %q, %v (asked %d %d %d); want b's answer, c not asked", res, name, err, a, b, c)
	}
	res, name, err = First(context.Background(), []Source{
		fakeSource{"a", Result{}, failure, &a}, fakeSource{"b", found, nil, &b},
	}, "bucket", Held{})
	if !errors.Is(err, failure) || name != "a" || res.Found || b != 1 {
		t.Errorf("First = %+v, %q, %v; want a's failure and b not asked again", res, name, err)
	}
	res, name, err = First(context.Background(), nil, "bucket", Held{})
	if err != nil || name != "none" || res.Found {
		t.Errorf("First of no source = %+v, %q, %v", res, name, err)
	}
}

// TestOriginAnswerIsCapped: GetBucketCors answers are read to at most a
// policy document's size, however much the origin sends.
func TestOriginAnswerIsCapped(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 200<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<CORSConfiguration><CORSRule><ID>`+huge+`</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`)
	}))
	t.Cleanup(srv.Close)
	o, err := NewOrigin(Endpoint{URL: srv.URL, AccessKey: "k", SecretKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Load(context.Background(), "bucket")
	if err == nil || !errors.Is(err, ErrAnswerTooLarge) && !strings.Contains(err.Error(), ErrAnswerTooLarge.Error()) {
		t.Errorf("Load of a 200 KiB answer = %v, want %v", err, ErrAnswerTooLarge)
	}
}

// TestNewS3ClientNamesWhatIsMissing: a bad endpoint and missing keys are
// reported together, naming the setting.
func TestNewS3ClientNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	_, err := NewS3Client(Endpoint{URL: "not a url"}, "policy_store")
	if err == nil || !strings.Contains(err.Error(), `policy_store: endpoint "not a url" is not a URL`) ||
		!strings.Contains(err.Error(), "access_key and secret_key are both needed") {
		t.Errorf("error = %v", err)
	}
}
