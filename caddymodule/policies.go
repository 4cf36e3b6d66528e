package caddymodule

import (
	"github.com/bucketcors/bucketcors/lookup"
	"github.com/bucketcors/bucketcors/policy"
)

// fixedOptions are the policies that the configuration sets itself.
func (h *Handler) fixedOptions() lookup.FixedOptions {
	return lookup.FixedOptions{
		Inline:      h.Policies,
		Files:       h.PolicyFiles,
		Dir:         h.PolicyDir,
		ValidBucket: validBucketName,
		Logger:      h.logger,
		Now:         h.now,
	}
}

// ConfiguredPolicy compiles the policy that the configuration itself gives
// key (a bucket, or DefaultPolicyKey): its inline policy or its
// policy_file, strictly, as Provision does. where names it in the
// configuration's words ("policies", or the file's path); the policy is nil
// when the configuration gives key none. `caddy bucket-cors explain
// --config` reads policies through it, so that it finds what the proxy
// finds.
func (h *Handler) ConfiguredPolicy(key string) (pol *policy.Policy, where string, err error) {
	return h.fixedOptions().Policy(key)
}
