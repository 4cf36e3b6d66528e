package caddymodule

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
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
	defaultMaxLoads    = 64
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

// sharedPolicies is what outlives a config reload: the sources read at run
// time and the cache in front of them. Every handler whose sources are the
// same, in this config or the next, shares one, so that a reload keeps
// every cached policy and every load in flight.
type sharedPolicies struct {
	// logger is the logger of the handler that last took these.
	logger  atomic.Pointer[zap.Logger]
	sources []source.Source
	store   *source.Store
	// index is the store's index, nil when the store has none (poll off);
	// stopIndex ends its goroutine, which closes indexDone.
	index     *source.Index
	stopIndex context.CancelFunc
	indexDone chan struct{}
	origin    *source.Origin
	policies  *cache.Cache[source.Result]
	// changedAt holds, by bucket, when a change found by the index was
	// made, until the load it started swaps the policy in.
	changedAt sync.Map
}

// sharedPool holds the sharedPolicies in use, by the identity of their
// sources and cache settings.
var sharedPool = caddy.NewUsagePool()

// Destruct stops the store index, closes the idle connections of the S3
// clients and keeps the counters for the metrics, once no config uses them.
func (s *sharedPolicies) Destruct() error {
	if s.stopIndex != nil {
		s.stopIndex()
		<-s.indexDone
	}
	retireCache(s.policies)
	retireStore(s.store, s.index)
	if s.store != nil {
		source.CloseIdleConnections(s.store.Client)
	}
	if s.origin != nil {
		source.CloseIdleConnections(s.origin.Client)
	}
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

// provisionShared takes the sharedPolicies of the handler's sources from
// the pool, making them when no config has them yet.
func (h *Handler) provisionShared() error {
	if h.PolicyStore == nil && h.PolicyDir == "" && h.PolicyOrigin == nil {
		return nil
	}
	key, err := h.sharedKey()
	if err != nil {
		return err
	}
	val, _, err := sharedPool.LoadOrNew(key, h.newShared)
	if err != nil {
		return err
	}
	h.poolKey = key
	shared := val.(*sharedPolicies)
	shared.logger.Store(h.logger)
	h.shared = shared
	h.sources, h.store, h.index, h.origin, h.policies = shared.sources, shared.store, shared.index, shared.origin, shared.policies
	return nil
}

// newShared builds the sources and their cache.
func (h *Handler) newShared() (caddy.Destructor, error) {
	s := &sharedPolicies{}
	var errs []error
	if cfg := h.PolicyStore; cfg != nil {
		client, err := source.NewS3Client(cfg.resolve(), "policy_store")
		if cfg.Bucket == "" {
			err = errors.Join(err, errors.New("policy_store: bucket is needed: the bucket that holds the policy objects"))
		}
		if err != nil {
			errs = append(errs, err)
		} else {
			s.store = &source.Store{Client: client, Bucket: cfg.Bucket, Prefix: cfg.Prefix, RequestTimeout: h.loadTimeout()}
			if cfg.NoIndex {
				s.sources = append(s.sources, s.store)
			} else {
				s.index = h.newIndex(s)
				s.sources = append(s.sources, s.index)
			}
		}
	}
	if h.PolicyDir != "" {
		s.sources = append(s.sources, &source.Dir{Path: h.PolicyDir})
	}
	if h.PolicyOrigin != nil {
		origin, err := source.NewOrigin(h.PolicyOrigin.resolve())
		if err != nil {
			errs = append(errs, err)
		} else {
			s.origin = origin
			s.sources = append(s.sources, origin)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var cfg CacheConfig
	if h.Cache != nil {
		cfg = *h.Cache
	}
	opts := cache.Options{
		Size:        cmp.Or(cfg.Size, defaultCacheSize),
		TTL:         cmp.Or(time.Duration(cfg.TTL), defaultCacheTTL),
		Stale:       cmp.Or(time.Duration(cfg.Stale), defaultCacheStale),
		LoadTimeout: h.loadTimeout(),
		MaxLoads:    cmp.Or(cfg.MaxLoads, defaultMaxLoads),
		Now:         h.now,
		OnLoadError: func(bucket string, err error, staleServed bool) {
			s.logger.Load().Warn("reading bucket policy failed",
				zap.String("bucket", bucket),
				zap.Error(err),
				zap.Bool("previous_policy_kept", staleServed))
		},
	}
	load := loadFrom(s.sources, s.held)
	policies, err := cache.New(opts, func(ctx context.Context, bucket string) (source.Result, string, bool, error) {
		res, name, found, err := load(ctx, bucket)
		if found {
			logWarnings(s.logger.Load(), bucket, res.Policy)
		}
		if err == nil {
			s.swapped(bucket)
		}
		return res, name, found, err
	})
	if err != nil {
		return nil, err
	}
	s.policies = policies
	if s.index != nil {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopIndex, s.indexDone = cancel, make(chan struct{})
		go func() {
			defer close(s.indexDone)
			s.index.Run(ctx)
		}()
	}
	return s, nil
}

// loadTimeout bounds a load of a policy, and each request of the store
// index.
func (h *Handler) loadTimeout() time.Duration {
	var d caddy.Duration
	if h.Cache != nil {
		d = h.Cache.LoadTimeout
	}
	return cmp.Or(time.Duration(d), defaultLoadTimeout)
}

// newIndex returns the index of s's store, which trusts itself for a cache
// TTL after its last sync: past that, loads read the store, and the cache's
// stale setting governs as without an index.
func (h *Handler) newIndex(s *sharedPolicies) *source.Index {
	var ttl time.Duration
	if h.Cache != nil {
		ttl = time.Duration(h.Cache.TTL)
	}
	cfg := h.PolicyStore
	return source.NewIndex(s.store, source.IndexOptions{
		Poll:     time.Duration(cfg.Poll),
		Resync:   time.Duration(cfg.Resync),
		Trust:    cmp.Or(ttl, defaultCacheTTL),
		Now:      h.now,
		OnChange: s.changed,
		OnError: func(err error) {
			s.logger.Load().Warn("policy_store index", zap.Error(err))
		},
	})
}

// held returns what the cache holds for bucket, for a conditional load.
func (s *sharedPolicies) held(bucket string) source.Held {
	if s.policies == nil {
		return source.Held{}
	}
	e, ok := s.policies.Peek(bucket)
	if !ok || !e.Found {
		return source.Held{}
	}
	return source.Held{Source: e.Source, Result: e.Value}
}

// changed re-reads, in the background, the cached policy of a bucket that
// the index found changed elsewhere; a bucket not cached here is left to
// its first load. at is when the change was made (zero when unknown).
func (s *sharedPolicies) changed(bucket string, at time.Time) {
	if _, ok := s.policies.Peek(bucket); !ok {
		return
	}
	if !at.IsZero() {
		s.changedAt.LoadOrStore(bucket, at)
	}
	s.policies.Refresh(bucket)
}

// swapped measures, once a load of bucket succeeded, how long the change
// that started it took to be enforced here.
func (s *sharedPolicies) swapped(bucket string) {
	if at, ok := s.changedAt.LoadAndDelete(bucket); ok {
		propagationSeconds.Observe(time.Since(at.(time.Time)).Seconds())
	}
}

// loadFrom returns the cache's loader over the sources: the first that has
// a policy for the bucket wins. A document that does not validate is a
// cache.Rejected error, so that the previous policy stays in use.
//
// held tells what the cache holds for a bucket (nil: nothing), so that a
// source can confirm it without reading it again.
func loadFrom(sources []source.Source, held func(bucket string) source.Held) cache.LoadFunc[source.Result] {
	return func(ctx context.Context, bucket string) (source.Result, string, bool, error) {
		var h source.Held
		if held != nil {
			h = held(bucket)
		}
		res, name, err := source.First(ctx, sources, bucket, h)
		if source.IsInvalid(err) {
			err = cache.Rejected(err)
		}
		return res, name, res.Found, err
	}
}
