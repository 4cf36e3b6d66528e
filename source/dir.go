package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bucketcors/bucketcors/policy"
)

// Dir reads <bucket>.json or <bucket>.xml from a folder on every load, so
// that a changed, added or deleted file is seen on the next load.
type Dir struct {
	// Path is the folder.
	Path string
}

// Name returns "policy_dir".
func (d *Dir) Name() string { return "policy_dir" }

// Load reads the bucket's document, judged by S3's rules.
func (d *Dir) Load(_ context.Context, bucket string) (Result, error) {
	var found []string
	for _, ext := range []string{".json", ".xml"} {
		path := filepath.Join(d.Path, bucket+ext)
		if _, err := os.Stat(path); err == nil {
			found = append(found, path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return Result{}, err
		}
	}
	switch len(found) {
	case 0:
		return Result{}, nil
	case 1:
	default:
		return Result{}, &InvalidError{fmt.Errorf("policy_dir: both %s and %s exist; keep one policy file per bucket", found[0], found[1])}
	}
	res, err := ReadFile(found[0], policy.Read)
	if errors.Is(err, fs.ErrNotExist) {
		return Result{}, nil // deleted since the Stat
	}
	return res, err
}

// ReadFile reads and compiles one policy document with compile (policy.Read
// for S3's rules, policy.ReadStrict where warnings are errors too). Its
// version is the file's size and modification time.
func ReadFile(path string, compile func(string, io.Reader) (*policy.Policy, error)) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Result{}, err
	}
	pol, err := compile(path, f)
	if err != nil {
		return Result{}, &InvalidError{err}
	}
	version := strconv.FormatInt(info.Size(), 10) + "@" + info.ModTime().UTC().Format("2006-01-02T15:04:05.000000000Z")
	return Result{Found: true, Policy: pol, Version: version}, nil
}

// DirEntry is one document of a policy folder.
type DirEntry struct {
	Bucket string
	Path   string
	Result Result
	// Err is set when the document cannot be read or used.
	Err error
}

// ReadDir reads every <bucket>.json and <bucket>.xml of a folder, judged by
// S3's rules. validBucket says which names are buckets; other files are left
// alone.
func ReadDir(dir string, validBucket func(string) bool) ([]DirEntry, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("policy_dir: %w", err)
	}
	var docs []DirEntry
	for _, e := range entries {
		bucket, ok := BucketOfFile(e.Name())
		if !ok || e.IsDir() || !validBucket(bucket) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		res, err := ReadFile(path, policy.Read)
		docs = append(docs, DirEntry{Bucket: bucket, Path: path, Result: res, Err: err})
	}
	return docs, nil
}

// BucketOfFile returns the bucket that a policy folder's file is for: its
// name less .json or .xml.
func BucketOfFile(name string) (string, bool) {
	ext := filepath.Ext(name)
	if ext != ".json" && ext != ".xml" {
		return "", false
	}
	return strings.TrimSuffix(name, ext), true
}
