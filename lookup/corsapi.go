package lookup

import (
	"context"
	"errors"

	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/s3api"
	"github.com/bucketcors/bucketcors/source"
)

// errNoStore answers the CORS API of Sources that have no policy store.
var errNoStore = errors.New("cors_api: no policy store to keep the policies in; add policy_store")

// Sources are the store of the edge CORS API: every change goes through
// the store's index when there is one, so that it leaves a change record
// for the other proxies, and is this proxy's policy at once.
var _ s3api.Store = (*Sources)(nil)

// GetPolicy reads the bucket's stored policy.
func (s *Sources) GetPolicy(ctx context.Context, bucket string) (*policy.Policy, bool, error) {
	if s.store == nil {
		return nil, false, errNoStore
	}
	return s.store.GetPolicy(ctx, bucket)
}

// PutPolicy stores the policy and caches it with its new ETag.
func (s *Sources) PutPolicy(ctx context.Context, bucket string, pol *policy.Policy) error {
	var etag string
	var err error
	switch {
	case s.index != nil:
		etag, err = s.index.PutPolicy(ctx, bucket, pol)
	case s.store != nil:
		etag, err = s.store.PutPolicy(ctx, bucket, pol)
	default:
		err = errNoStore
	}
	if err != nil {
		return err
	}
	s.cache.Put(bucket, source.Result{Found: true, Policy: pol, Version: etag, CheckedAt: s.now()}, true, s.store.Name())
	return nil
}

// DeletePolicy deletes the stored policy and drops the cached one.
func (s *Sources) DeletePolicy(ctx context.Context, bucket string) error {
	var err error
	switch {
	case s.index != nil:
		err = s.index.DeletePolicy(ctx, bucket)
	case s.store != nil:
		err = s.store.DeletePolicy(ctx, bucket)
	default:
		err = errNoStore
	}
	if err != nil {
		return err
	}
	s.cache.Invalidate(bucket)
	return nil
}
