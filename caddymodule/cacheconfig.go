package caddymodule

import (
	"cmp"
	"context"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/source"
)

// The cache's defaults.
const (
	defaultCacheSize   = 10000
	defaultCacheTTL    = 30 * time.Second
	defaultCacheStale  = 10 * time.Minute
	defaultLoadTimeout = 5 * time.Second
)

// CacheConfig bounds and times the cache of policies read at run time.
type CacheConfig struct {
	// Size is the most buckets whose policy (or lack of one) is kept.
	// Default: 10000.
	Size int `json:"size,omitempty"`
	// TTL is how long a policy is used before its sources are read again;
	// a change made elsewhere is seen within it. Default: 30s.
	TTL caddy.Duration `json:"ttl,omitempty"`
	// Stale is how long past its TTL a policy keeps being used while its
	// sources fail. Default: 10m.
	Stale caddy.Duration `json:"stale,omitempty"`
	// LoadTimeout bounds one read of a bucket's policy. Default: 5s.
	LoadTimeout caddy.Duration `json:"load_timeout,omitempty"`
}

// provisionCache builds the cache in front of the sources.
func (h *Handler) provisionCache(ctx caddy.Context) error {
	var cfg CacheConfig
	if h.Cache != nil {
		cfg = *h.Cache
	}
	opts := cache.Options{
		Size:        cmp.Or(cfg.Size, defaultCacheSize),
		TTL:         cmp.Or(time.Duration(cfg.TTL), defaultCacheTTL),
		Stale:       cmp.Or(time.Duration(cfg.Stale), defaultCacheStale),
		LoadTimeout: cmp.Or(time.Duration(cfg.LoadTimeout), defaultLoadTimeout),
		Now:         h.now,
		OnLoadError: h.logLoadError,
	}
	policies, err := cache.New(opts, loadFrom(h.sources))
	if err != nil {
		return err
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	h.policies = policies
	return nil
}

// loadFrom returns the cache's loader over the sources: the first that has
// a policy for the bucket wins. A document that does not validate is a
// cache.Rejected error, so that the previous policy stays in use.
func loadFrom(sources []source.Source) cache.LoadFunc[source.Result] {
	return func(ctx context.Context, bucket string) (source.Result, string, bool, error) {
		res, name, err := source.First(ctx, sources, bucket)
		if source.IsInvalid(err) {
			err = cache.Rejected(err)
		}
		return res, name, res.Found, err
	}
}

// logLoadError logs a failed read of a bucket's policy; the cache calls it
// once per bucket and TTL, not once per request.
func (h *Handler) logLoadError(bucket string, err error, staleServed bool) {
	h.logger.Warn("reading bucket policy failed",
		zap.String("bucket", bucket),
		zap.Error(err),
		zap.Bool("previous_policy_kept", staleServed))
}
