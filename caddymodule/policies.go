package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

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
// (a person is at hand to fix a warning), and checks the documents of the
// policy folder.
func (h *Handler) compileStatic() error {
	compiled := make(map[string]*staticPolicy)
	now := h.now()
	var errs []error
	add := func(bucket, where string, res source.Result, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		if _, dup := compiled[bucket]; dup {
			errs = append(errs, fmt.Errorf("%s: bucket %q already has a policy; give each bucket one", where, bucket))
			return
		}
		compiled[bucket] = &staticPolicy{policy: res.Policy, source: where, version: res.Version, loadedAt: now}
	}

	for _, bucket := range slices.Sorted(maps.Keys(h.Policies)) {
		pol, err := policy.Parse(fmt.Sprintf("policies[%q]", bucket), h.Policies[bucket])
		add(bucket, "policies", source.Result{Found: true, Policy: pol}, err)
	}
	for _, bucket := range slices.Sorted(maps.Keys(h.PolicyFiles)) {
		res, err := readPolicyFile(h.PolicyFiles[bucket])
		add(bucket, h.PolicyFiles[bucket], res, err)
	}
	if h.PolicyDir != "" {
		// The folder is read at run time; a bad document in it still stops
		// the configuration from loading, as any bad policy does.
		docs, err := source.ReadDir(h.PolicyDir, validBucketName)
		if err != nil {
			errs = append(errs, err)
		}
		for _, d := range docs {
			if d.Err != nil {
				errs = append(errs, d.Err)
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

// readPolicyFile reads and compiles a document named by the configuration.
func readPolicyFile(path string) (source.Result, error) {
	res, err := source.ReadFile(path, policy.Read)
	if err != nil && !source.IsInvalid(err) {
		err = fmt.Errorf("policy file: %w", err)
	}
	return res, err
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
