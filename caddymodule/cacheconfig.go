package caddymodule

import (
	"context"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/policy"
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

// cacheNow is the cache's clock; tests replace it.
var cacheNow = time.Now

// provisionCache builds the cache in front of the sources.
func (h *Handler) provisionCache(ctx caddy.Context) error {
	cfg := CacheConfig{}
	if h.Cache != nil {
		cfg = *h.Cache
	}
	opts := cache.Options{
		Size:        orDefault(cfg.Size, defaultCacheSize),
		TTL:         orDefault(time.Duration(cfg.TTL), defaultCacheTTL),
		Stale:       orDefault(time.Duration(cfg.Stale), defaultCacheStale),
		LoadTimeout: orDefault(time.Duration(cfg.LoadTimeout), defaultLoadTimeout),
		Now:         cacheNow,
		OnLoadError: h.logLoadError,
	}
	sources := h.sources
	policies, err := cache.New(opts, func(ctx context.Context, bucket string) (*policy.Policy, string, bool, error) {
		return loadFromSources(ctx, sources, bucket)
	})
	if err != nil {
		return err
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	h.policies = policies
	return nil
}

// logLoadError logs a failed read of a bucket's policy; the cache calls it
// once per bucket and TTL, not once per request.
func (h *Handler) logLoadError(bucket string, err error, staleServed bool) {
	h.logger.Warn("reading bucket policy failed",
		zap.String("bucket", bucket),
		zap.Error(err),
		zap.Bool("previous_policy_kept", staleServed))
}

// Cleanup retires the handler from the metrics and the admin API, and
// closes the idle connections of its sources' clients: the handler that
// replaces it has clients of its own.
func (h *Handler) Cleanup() error {
	unregisterHandler(h)
	for _, src := range h.sources {
		if c, ok := src.(interface{ closeIdle() }); ok {
			c.closeIdle()
		}
	}
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
