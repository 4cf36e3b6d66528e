package lookup

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bucketcors/bucketcors/edge"
)

// A policy that S3 accepts with a warning: the origin's trailing slash
// matches no browser's Origin.
var warnedPolicy = allowing("https://app.example.com/")

// TestCompileFixed: inline policies and policy files are compiled, each
// named where the configuration gives it; the default policy is kept apart
// from the buckets'.
func TestCompileFixed(t *testing.T) {
	clock := newFakeClock()
	file := writeFile(t, t.TempDir(), "photos.json", allowing(sourceOrigin))
	opts := FixedOptions{
		Inline: map[string]json.RawMessage{"assets": json.RawMessage(allowing(fixedOrigin)), DefaultKey: json.RawMessage(allowing(defaultOrigin))},
		Files:  map[string]string{"photos": file},
		Now:    clock.Now,
	}
	f, err := CompileFixed(opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(f.Buckets()); !slices.Equal(got, []string{"assets", "photos"}) {
		t.Errorf("Buckets() = %v, want assets and photos (the default is no bucket's)", got)
	}
	for bucket, want := range map[string]string{"assets": fixedOrigin, "photos": sourceOrigin, DefaultKey: "", "other": ""} {
		pol, ok := f.Policy(bucket)
		if allowed(pol) != want || ok != (want != "") {
			t.Errorf("Policy(%q) allows %q (%v), want %q", bucket, allowed(pol), ok, want)
		}
	}
	if f.def == nil || allowed(f.def.policy) != defaultOrigin || !f.def.loadedAt.Equal(clock.Now()) {
		t.Errorf("the default policy is %+v, want the one allowing %s, compiled now", f.def, defaultOrigin)
	}
	if fp := f.byBucket["photos"]; fp.source != file || fp.version == "" {
		t.Errorf("the file's policy comes from %q at version %q, want %s and a version", fp.source, fp.version, file)
	}

	for key, want := range map[string]struct{ where, origin string }{
		"assets": {"policies", fixedOrigin}, "photos": {file, sourceOrigin}, DefaultKey: {"policies", defaultOrigin}, "other": {"", ""},
	} {
		pol, where, err := opts.Policy(key)
		if err != nil || where != want.where || allowed(pol) != want.origin {
			t.Errorf("Policy(%q) = a policy allowing %q, %q, %v; want %q from %q", key, allowed(pol), where, err, want.origin, want.where)
		}
	}
}

// TestCompileFixedRefuses: each mistake is reported, all of them at once:
// a warning is an error here, since a person is at hand to fix it.
func TestCompileFixedRefuses(t *testing.T) {
	dir := t.TempDir()
	warned := writeFile(t, dir, "warned.json", warnedPolicy)
	_, err := CompileFixed(FixedOptions{
		Inline: map[string]json.RawMessage{
			"both":   json.RawMessage(allowing(fixedOrigin)),
			"inline": json.RawMessage(warnedPolicy),
		},
		Files: map[string]string{
			"both":    warned,
			"file":    warned,
			"missing": filepath.Join(dir, "missing.json"),
		},
		Dir: filepath.Join(dir, "no-such-folder"),
	})
	if err == nil {
		t.Fatal("CompileFixed accepted every mistake")
	}
	for _, want := range []string{
		`bucket "both" has both an inline policy and policy_file ` + warned + `; give each bucket one`,
		`policies["inline"]`,
		warned,
		"policy file: open " + filepath.Join(dir, "missing.json"),
		"no-such-folder",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if _, err := ReadPolicyFile(warned); err == nil || strings.HasPrefix(err.Error(), "policy file:") {
		t.Errorf("ReadPolicyFile(a document with a warning) = %v, want the policy's own error", err)
	}
}

// TestCompileFixedLogsTheFolder: the policy folder is read as the proxy
// will: a document S3 would refuse is logged and skipped, a warning is
// logged, and neither fails the configuration.
func TestCompileFixedLogsTheFolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "good.json", allowing(sourceOrigin))
	writeFile(t, dir, "warned.json", warnedPolicy)
	writeFile(t, dir, "refused.json", `[{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]`)
	logger, logs := observed()
	if _, err := CompileFixed(FixedOptions{Dir: dir, ValidBucket: edge.ValidBucketName, Logger: logger}); err != nil {
		t.Fatalf("CompileFixed: %v", err)
	}
	var got []string
	for _, e := range logs.All() {
		got = append(got, e.Level.String()+" "+e.Message+" "+e.ContextMap()["bucket"].(string))
	}
	want := []string{
		"error policy_dir: skipping a policy that cannot be used refused",
		"warn bucket policy loaded with warnings warned",
	}
	if !slices.Equal(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}

	// Without a logger, nothing is logged and nothing fails.
	if _, err := CompileFixed(FixedOptions{Dir: dir, ValidBucket: edge.ValidBucketName}); err != nil {
		t.Errorf("CompileFixed without a logger: %v", err)
	}
}
