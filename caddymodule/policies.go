package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/source"
)

// staticPolicy is a policy fixed by the configuration.
type staticPolicy struct {
	policy *policy.Policy
	// source is "policies" for an inline policy, or the file's path.
	source   string
	version  string
	loadedAt time.Time
}

// compileStatic compiles the inline policies and the policy files, strictly
// (a person is at hand to fix a warning), and reads the policy folder as the
// proxy will: a document S3 would refuse is logged and skipped (its bucket
// has no policy from the folder until it is fixed), and warnings are logged.
func (h *Handler) compileStatic() error {
	compiled := make(map[string]*staticPolicy)
	now := h.now()
	var errs []error
	keys := slices.Concat(slices.Collect(maps.Keys(h.Policies)), slices.Collect(maps.Keys(h.PolicyFiles)))
	slices.Sort(keys)
	for _, key := range slices.Compact(keys) {
		res, where, err := h.configuredPolicy(key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		compiled[key] = &staticPolicy{policy: res.Policy, source: where, version: res.Version, loadedAt: now}
	}
	if h.PolicyDir != "" {
		docs, err := source.ReadDir(h.PolicyDir, validBucketName)
		if err != nil {
			errs = append(errs, err)
		}
		for _, d := range docs {
			switch {
			case d.Err != nil:
				h.logger.Error("policy_dir: skipping a policy that cannot be used",
					zap.String("bucket", d.Bucket), zap.String("file", d.Path), zap.Error(d.Err))
			case d.Result.Policy.Warnings() != nil:
				logWarnings(h.logger, d.Bucket, d.Result.Policy)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	h.defaultPolicy = compiled[DefaultPolicyKey]
	delete(compiled, DefaultPolicyKey)
	h.static = compiled
	return nil
}

// ConfiguredPolicy compiles the policy that the configuration itself gives
// key (a bucket, or DefaultPolicyKey): its inline policy or its
// policy_file, strictly, as Provision does. where names it in the
// configuration's words ("policies", or the file's path); the policy is nil
// when the configuration gives key none. `caddy bucket-cors explain
// --config` reads policies through it, so that it finds what the proxy
// finds.
func (h *Handler) ConfiguredPolicy(key string) (pol *policy.Policy, where string, err error) {
	res, where, err := h.configuredPolicy(key)
	return res.Policy, where, err
}

func (h *Handler) configuredPolicy(key string) (res source.Result, where string, err error) {
	raw, inline := h.Policies[key]
	path, file := h.PolicyFiles[key]
	switch {
	case inline && file:
		return res, "", fmt.Errorf("bucket %q has both an inline policy and policy_file %s; give each bucket one", key, path)
	case inline:
		pol, err := policy.ParseStrict(fmt.Sprintf("policies[%q]", key), raw)
		return source.Result{Found: true, Policy: pol}, "policies", err
	case file:
		res, err := readPolicyFile(path)
		return res, path, err
	}
	return res, "", nil
}

// readPolicyFile reads and compiles a document named by the configuration,
// strictly: a person is at hand to fix a warning.
func readPolicyFile(path string) (source.Result, error) {
	res, err := source.ReadFile(path, policy.ReadStrict)
	if err != nil && !source.IsInvalid(err) {
		err = fmt.Errorf("policy file: %w", err)
	}
	return res, err
}

// logWarnings logs what in a policy S3 accepts but no browser can match.
func logWarnings(logger *zap.Logger, bucket string, pol *policy.Policy) {
	if w := pol.Warnings(); w != nil {
		logger.Warn("bucket policy loaded with warnings",
			zap.String("bucket", bucket), zap.String("warnings", w.Error()))
	}
}

// policyFor returns the policy of bucket, or nil when it has none. The
// configuration's own policies come first, then the sources (through the
// cache), then the default policy.
func (h *Handler) policyFor(ctx context.Context, bucket string) (*policy.Policy, error) {
	if bucket == "" {
		return nil, nil
	}
	if st, ok := h.static[bucket]; ok {
		return st.policy, nil
	}
	if h.policies != nil {
		e, err := h.policies.Get(ctx, bucket)
		if err != nil {
			return nil, err
		}
		if e.Found {
			return e.Value.Policy, nil
		}
	}
	if h.defaultPolicy != nil {
		return h.defaultPolicy.policy, nil
	}
	return nil, nil
}

// fixedPolicy returns the policy the configuration sets for bucket.
func (h *Handler) fixedPolicy(bucket string) (*policy.Policy, bool) {
	st, ok := h.static[bucket]
	if !ok {
		return nil, false
	}
	return st.policy, true
}
