package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/bucketcors/bucketcors/lookup"
	"github.com/bucketcors/bucketcors/source"
)

// CacheConfig bounds and times the cache of policies read at run time.
type CacheConfig struct {
	// Size is the most buckets whose policy is kept; as many buckets
	// without one are kept apart from them, so that requests for made-up
	// buckets cannot push a real policy out. Default: 10000.
	Size int `json:"size,omitempty"`
	// TTL is how long a policy is used before its sources are read again,
	// in the background while it keeps serving; a change made elsewhere is
	// seen within it. Each bucket's TTL is jittered by ±10%. Default: 30s.
	TTL caddy.Duration `json:"ttl,omitempty"`
	// Stale is how long past its TTL a policy keeps being used while its
	// sources fail. Default: 10m.
	Stale caddy.Duration `json:"stale,omitempty"`
	// LoadTimeout bounds one read of a bucket's policy. Default: 5s.
	LoadTimeout caddy.Duration `json:"load_timeout,omitempty"`
	// MaxLoads is the most policy reads in flight at once, over all
	// buckets. Past it, a preflight for a bucket with no cached policy gets
	// S3's 503 SlowDown, and other requests go on without CORS headers.
	// Default: 64.
	MaxLoads int `json:"max_loads,omitempty"`
}

// sharedPool holds the lookup.Sources in use, by the identity of their
// sources and cache settings: every handler whose sources are the same, in
// this config or the next, shares one, so that a reload keeps every cached
// policy and every load in flight.
var sharedPool = caddy.NewUsagePool()

// pooledSources are lookup.Sources as sharedPool holds them.
type pooledSources struct{ *lookup.Sources }

// Destruct stops the store index, closes the idle connections of the S3
// clients and keeps the counters for the metrics, once no config uses them.
func (p pooledSources) Destruct() error {
	p.Close()
	retire(p.Sources)
	return nil
}

// sharedKey identifies a handler's sources and cache settings. Secrets
// enter it only as a digest.
func (h *Handler) sharedKey() (string, error) {
	type endpoint struct{ URL, Region, AccessKey, SecretDigest string }
	digest := func(e source.Endpoint) endpoint {
		sum := sha256.Sum256([]byte(e.SecretKey))
		return endpoint{e.URL, e.Region, e.AccessKey, hex.EncodeToString(sum[:])}
	}
	var key struct {
		Store       *endpoint
		StoreBucket string
		StorePrefix string
		StoreIndex  [3]any
		Dir         string
		Origin      *endpoint
		Cache       CacheConfig
	}
	if cfg := h.PolicyStore; cfg != nil {
		e := digest(cfg.resolve())
		key.Store, key.StoreBucket, key.StorePrefix = &e, cfg.Bucket, cfg.Prefix
		key.StoreIndex = [3]any{cfg.NoIndex, cfg.Poll, cfg.Resync}
	}
	key.Dir = h.PolicyDir
	if h.PolicyOrigin != nil {
		e := digest(h.PolicyOrigin.resolve())
		key.Origin = &e
	}
	if h.Cache != nil {
		key.Cache = *h.Cache
	}
	raw, err := json.Marshal(key)
	return string(raw), err
}

// provisionShared takes the lookup.Sources of the handler's sources from
// the pool, making them when no config has them yet.
func (h *Handler) provisionShared() error {
	if h.PolicyStore == nil && h.PolicyDir == "" && h.PolicyOrigin == nil {
		return nil
	}
	key, err := h.sharedKey()
	if err != nil {
		return err
	}
	val, _, err := sharedPool.LoadOrNew(key, func() (caddy.Destructor, error) {
		s, err := lookup.NewSources(h.sourcesOptions())
		if err != nil {
			return nil, err
		}
		return pooledSources{s}, nil
	})
	if err != nil {
		return err
	}
	h.poolKey = key
	s := val.(pooledSources).Sources
	s.UseLogger(h.logger)
	h.policies.Sources = s
	return nil
}

// sourcesOptions are the handler's sources and cache settings, with their
// placeholders resolved.
func (h *Handler) sourcesOptions() lookup.SourcesOptions {
	opts := lookup.SourcesOptions{Dir: h.PolicyDir, Logger: h.logger, Now: h.now, OnPropagated: observePropagation}
	if cfg := h.PolicyStore; cfg != nil {
		opts.Store = &lookup.StoreOptions{
			Endpoint: cfg.resolve(),
			Bucket:   cfg.Bucket,
			Prefix:   cfg.Prefix,
			Poll:     time.Duration(cfg.Poll),
			Resync:   time.Duration(cfg.Resync),
			NoIndex:  cfg.NoIndex,
		}
	}
	if h.PolicyOrigin != nil {
		e := h.PolicyOrigin.resolve()
		opts.Origin = &e
	}
	if c := h.Cache; c != nil {
		opts.Cache = lookup.CacheOptions{
			Size:        c.Size,
			TTL:         time.Duration(c.TTL),
			Stale:       time.Duration(c.Stale),
			LoadTimeout: time.Duration(c.LoadTimeout),
			MaxLoads:    c.MaxLoads,
		}
	}
	return opts
}
