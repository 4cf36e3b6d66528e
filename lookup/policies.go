// Package lookup finds the policy of a bucket at run time. The policies
// that the configuration sets itself (Fixed) come first, then the sources
// read at run time through their cache (Sources: the policy store with its
// index, the policy folder, the origin's GetBucketCors), then the
// configuration's default policy.
//
// Sources are built from plain options and meant to outlive a
// configuration; they run the store's index, are the store of the edge
// CORS API, and count what they do (Counters). The package needs no Caddy:
// package caddymodule keeps Sources in a caddy.UsagePool, so that a reload
// keeps every cached policy.
package lookup

import (
	"cmp"
	"context"
	"time"

	"github.com/bucketcors/bucketcors/policy"
)

// Policies answers the policy of each bucket.
type Policies struct {
	// Fixed are the configuration's own policies.
	Fixed Fixed
	// Sources are read, through their cache, for a bucket that Fixed sets
	// no policy for; nil when the configuration names none.
	Sources *Sources
}

// For returns the policy of bucket, or nil when it has none: its own in
// the configuration, else the sources' (waiting for a load only when the
// cache holds nothing for bucket), else the default policy. The error is
// the sources' when they could not be read and nothing earlier is left to
// serve, or cache.ErrTooManyLoads.
func (p *Policies) For(ctx context.Context, bucket string) (*policy.Policy, error) {
	if bucket == "" {
		return nil, nil
	}
	if fp, ok := p.Fixed.byBucket[bucket]; ok {
		return fp.policy, nil
	}
	if p.Sources != nil {
		e, err := p.Sources.cache.Get(ctx, bucket)
		if err != nil {
			return nil, err
		}
		if e.Found {
			return e.Value.Policy, nil
		}
	}
	if p.Fixed.def != nil {
		return p.Fixed.def.policy, nil
	}
	return nil, nil
}

// Described is a bucket's policy and where it came from.
type Described struct {
	// Policy is nil when the bucket has none.
	Policy *policy.Policy
	// Source names where the policy came from: "policies" (inline), a
	// policy file's path, a source's name (policy_store, policy_dir,
	// policy_origin), "default" (the DefaultKey policy) or "none".
	Source string
	// Version identifies the document: an ETag, a file's size and
	// modification time, or a digest.
	Version string
	// ETag is the store object's ETag, for a policy of the policy store.
	ETag string
	// LoadedAt is when the policy was read (zero for none).
	LoadedAt time.Time
	// CheckedAt is when its source last confirmed this version: by a read,
	// a 304, or the store index's poll or listing. Nil for a policy of the
	// configuration.
	CheckedAt *time.Time
	// Stale is set for a policy kept in use while its sources fail.
	Stale bool
}

// Describe resolves the policy of bucket as For does, loading it if
// needed, and says where it came from.
func (p *Policies) Describe(ctx context.Context, bucket string) (Described, error) {
	d := Described{Source: "none"}
	switch fp, ok := p.Fixed.byBucket[bucket]; {
	case ok:
		d.Policy, d.Source, d.Version, d.LoadedAt = fp.policy, fp.source, fp.version, fp.loadedAt
	case p.Sources != nil:
		e, err := p.Sources.cache.Get(ctx, bucket)
		if err != nil {
			return d, err
		}
		if e.Found {
			d.Policy, d.Source, d.Version, d.LoadedAt, d.Stale = e.Value.Policy, e.Source, e.Value.Version, e.LoadedAt, e.Stale()
			checked := cmp.Or(e.Value.CheckedAt, e.CheckedAt)
			d.CheckedAt = &checked
			if store := p.Sources.store; store != nil && e.Source == store.Name() {
				d.ETag = e.Value.Version
			}
		}
	}
	if d.Policy == nil && p.Fixed.def != nil {
		def := p.Fixed.def
		d.Policy, d.Source, d.Version, d.LoadedAt = def.policy, "default", def.version, def.loadedAt
	}
	return d, nil
}
