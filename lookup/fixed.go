package lookup

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/source"
)

// DefaultKey is the key of the default policy: the policy of every bucket
// that has none of its own.
const DefaultKey = "*"

// FixedOptions are the policies that a configuration sets itself, by
// bucket or DefaultKey.
type FixedOptions struct {
	// Inline are documents written in the configuration, in any JSON
	// dialect.
	Inline map[string]json.RawMessage
	// Files are paths of documents, in any dialect.
	Files map[string]string
	// Dir is the policy folder, which Sources read at run time.
	// CompileFixed reads it once, as the proxy will, to log each document
	// that S3 would refuse (it is skipped until fixed) and the warnings of
	// the others; only a folder that cannot be read is an error.
	Dir string
	// ValidBucket tells which names of Dir's files name a bucket.
	ValidBucket func(string) bool
	// Logger logs what CompileFixed finds in Dir. Default: none.
	Logger *zap.Logger
	// Now stamps the compiled policies. Default: time.Now.
	Now func() time.Time
}

// Fixed holds the compiled policies that the configuration sets itself.
type Fixed struct {
	byBucket map[string]*fixedPolicy
	// def is the DefaultKey policy, nil when there is none.
	def *fixedPolicy
}

// fixedPolicy is one policy of the configuration.
type fixedPolicy struct {
	policy *policy.Policy
	// source is "policies" for an inline policy, or the file's path.
	source   string
	version  string
	loadedAt time.Time
}

// CompileFixed compiles the inline policies and the policy files strictly
// (a person is at hand to fix a warning), and reads the policy folder (see
// FixedOptions.Dir). Every error is reported, joined.
func CompileFixed(opts FixedOptions) (Fixed, error) {
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	compiled := make(map[string]*fixedPolicy)
	var errs []error
	keys := slices.Concat(slices.Collect(maps.Keys(opts.Inline)), slices.Collect(maps.Keys(opts.Files)))
	slices.Sort(keys)
	for _, key := range slices.Compact(keys) {
		res, where, err := opts.configured(key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		compiled[key] = &fixedPolicy{policy: res.Policy, source: where, version: res.Version, loadedAt: now}
	}
	if opts.Dir != "" {
		if err := logDir(logger, opts.Dir, opts.ValidBucket); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return Fixed{}, errors.Join(errs...)
	}
	f := Fixed{byBucket: compiled, def: compiled[DefaultKey]}
	delete(compiled, DefaultKey)
	return f, nil
}

// logDir reads the policy folder as the proxy will, and logs what it
// cannot use and what it uses with warnings.
func logDir(logger *zap.Logger, dir string, validBucket func(string) bool) error {
	docs, err := source.ReadDir(dir, validBucket)
	for _, d := range docs {
		switch {
		case d.Err != nil:
			logger.Error("policy_dir: skipping a policy that cannot be used",
				zap.String("bucket", d.Bucket), zap.String("file", d.Path), zap.Error(d.Err))
		case d.Result.Policy.Warnings() != nil:
			logWarnings(logger, d.Bucket, d.Result.Policy)
		}
	}
	return err
}

// Policy compiles the policy that the options give key (a bucket, or
// DefaultKey): its inline policy or its policy file, strictly, as
// CompileFixed does. where names it in the configuration's words
// ("policies", or the file's path); the policy is nil when the options give
// key none.
func (o FixedOptions) Policy(key string) (pol *policy.Policy, where string, err error) {
	res, where, err := o.configured(key)
	return res.Policy, where, err
}

func (o FixedOptions) configured(key string) (res source.Result, where string, err error) {
	raw, inline := o.Inline[key]
	path, file := o.Files[key]
	switch {
	case inline && file:
		return res, "", fmt.Errorf("bucket %q has both an inline policy and policy_file %s; give each bucket one", key, path)
	case inline:
		pol, err := policy.ParseStrict(fmt.Sprintf("policies[%q]", key), raw)
		return source.Result{Found: true, Policy: pol}, "policies", err
	case file:
		res, err := ReadPolicyFile(path)
		return res, path, err
	}
	return res, "", nil
}

// ReadPolicyFile reads and compiles a document that the configuration
// names, strictly: a person is at hand to fix a warning.
func ReadPolicyFile(path string) (source.Result, error) {
	res, err := source.ReadFile(path, policy.ReadStrict)
	if err != nil && !source.IsInvalid(err) {
		err = fmt.Errorf("policy file: %w", err)
	}
	return res, err
}

// Policy returns the policy that the configuration sets for bucket itself
// (the default policy is not one).
func (f Fixed) Policy(bucket string) (*policy.Policy, bool) {
	fp, ok := f.byBucket[bucket]
	if !ok {
		return nil, false
	}
	return fp.policy, true
}

// Buckets yields the buckets that the configuration sets a policy for, the
// default policy's key left out.
func (f Fixed) Buckets() iter.Seq[string] {
	return maps.Keys(f.byBucket)
}

// logWarnings logs what in a policy S3 accepts but no browser can match.
func logWarnings(logger *zap.Logger, bucket string, pol *policy.Policy) {
	if w := pol.Warnings(); w != nil {
		logger.Warn("bucket policy loaded with warnings",
			zap.String("bucket", bucket), zap.String("warnings", w.Error()))
	}
}
