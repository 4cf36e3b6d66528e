package lookup

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/source"
)

// The defaults of CacheOptions.
const (
	DefaultCacheSize   = 10000
	DefaultCacheTTL    = 30 * time.Second
	DefaultCacheStale  = 10 * time.Minute
	DefaultLoadTimeout = 5 * time.Second
	DefaultMaxLoads    = 64
)

// CacheOptions bound and time the cache of the policies read at run time.
// A zero field takes its default.
type CacheOptions struct {
	// Size is the most buckets whose policy is kept, and as many without
	// one apart from them. Default: DefaultCacheSize.
	Size int
	// TTL is how long a policy is used before its sources are read again,
	// in the background. Default: DefaultCacheTTL.
	TTL time.Duration
	// Stale is how long past its TTL a policy keeps being used while its
	// sources fail. Default: DefaultCacheStale.
	Stale time.Duration
	// LoadTimeout bounds one read of a bucket's policy, and each request
	// of the store index's rounds. Default: DefaultLoadTimeout.
	LoadTimeout time.Duration
	// MaxLoads is the most policy reads in flight at once. Default:
	// DefaultMaxLoads.
	MaxLoads int
}

// StoreOptions name the policy store: one bucket of an S3-compatible store
// that holds one <prefix><bucket>.xml per bucket.
type StoreOptions struct {
	Endpoint source.Endpoint
	// Bucket holds the policy objects; it is needed.
	Bucket string
	// Prefix is put before every object key.
	Prefix string
	// Poll and Resync time the index (see source.IndexOptions); 0 takes
	// the index's default.
	Poll, Resync time.Duration
	// NoIndex reads the store on every load, with no index kept.
	NoIndex bool
}

// SourcesOptions name the sources of policies read at run time and their
// cache.
type SourcesOptions struct {
	// Store, Dir and Origin are the sources, read in that order: the first
	// that has a policy for a bucket wins. Each is left out when nil or "".
	Store *StoreOptions
	// Dir is a folder of <bucket>.json or <bucket>.xml documents.
	Dir string
	// Origin is an S3 API whose GetBucketCors answers each bucket's own
	// policy.
	Origin *source.Endpoint
	Cache  CacheOptions
	// Logger logs failed reads, the warnings of each policy read and the
	// index's failures. Default: none. UseLogger changes it later.
	Logger *zap.Logger
	// Now is the clock of the cache and the index. Default: time.Now.
	Now func() time.Time
	// OnPropagated, when set, is told, each time a policy that the store's
	// index found changed elsewhere is swapped into the cache, how long
	// that took from the change (a change record's time, or the object's
	// modification time for a change found by a listing).
	OnPropagated func(time.Duration)
}

// Sources are the sources of policies read at run time and the cache in
// front of them, with the policy store's index running in the background.
// A Sources is meant to outlive a configuration: every handler whose
// sources are the same shares one, so that a reload keeps every cached
// policy and every load in flight. Close stops it.
type Sources struct {
	// logger is the logger of the handler that last took these.
	logger atomic.Pointer[zap.Logger]
	// list holds the sources in the order they are read.
	list   []source.Source
	store  *source.Store
	origin *source.Origin
	// index is the store's index, nil when there is none; stopIndex ends
	// its goroutine, which closes indexDone.
	index     *source.Index
	stopIndex context.CancelFunc
	indexDone chan struct{}
	cache     *cache.Cache[source.Result]
	now       func() time.Time
	// changedAt holds, by bucket, when a change found by the index was
	// made, until the load it started swaps the policy in.
	changedAt    sync.Map
	onPropagated func(time.Duration)
}

// NewSources builds the sources and their cache, and starts the store's
// index, if any.
func NewSources(opts SourcesOptions) (*Sources, error) {
	s := &Sources{now: opts.Now, onPropagated: opts.OnPropagated}
	if s.now == nil {
		s.now = time.Now
	}
	s.UseLogger(opts.Logger)
	loadTimeout := cmp.Or(opts.Cache.LoadTimeout, DefaultLoadTimeout)
	var errs []error
	if o := opts.Store; o != nil {
		if err := s.addStore(o, loadTimeout, opts.Cache.TTL); err != nil {
			errs = append(errs, err)
		}
	}
	if opts.Dir != "" {
		s.list = append(s.list, &source.Dir{Path: opts.Dir})
	}
	if opts.Origin != nil {
		origin, err := source.NewOrigin(*opts.Origin)
		if err != nil {
			errs = append(errs, err)
		} else {
			s.origin = origin
			s.list = append(s.list, origin)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c, err := cache.New(cache.Options{
		Size:        cmp.Or(opts.Cache.Size, DefaultCacheSize),
		TTL:         cmp.Or(opts.Cache.TTL, DefaultCacheTTL),
		Stale:       cmp.Or(opts.Cache.Stale, DefaultCacheStale),
		LoadTimeout: loadTimeout,
		MaxLoads:    cmp.Or(opts.Cache.MaxLoads, DefaultMaxLoads),
		Now:         s.now,
		OnLoadError: s.logLoadError,
	}, s.load)
	if err != nil {
		return nil, err
	}
	s.cache = c
	s.startIndex()
	return s, nil
}

// addStore adds the policy store, through its index unless o turns it off.
// The index trusts itself for a cache TTL after its last sync: past that,
// loads read the store, and the cache's stale setting governs as without an
// index.
func (s *Sources) addStore(o *StoreOptions, loadTimeout, ttl time.Duration) error {
	client, err := source.NewS3Client(o.Endpoint, "policy_store")
	if o.Bucket == "" {
		err = errors.Join(err, errors.New("policy_store: bucket is needed: the bucket that holds the policy objects"))
	}
	if err != nil {
		return err
	}
	s.store = &source.Store{Client: client, Bucket: o.Bucket, Prefix: o.Prefix, RequestTimeout: loadTimeout}
	if o.NoIndex {
		s.list = append(s.list, s.store)
		return nil
	}
	s.index = source.NewIndex(s.store, source.IndexOptions{
		Poll:     o.Poll,
		Resync:   o.Resync,
		Trust:    cmp.Or(ttl, DefaultCacheTTL),
		Now:      s.now,
		OnChange: s.changed,
		OnError: func(err error) {
			s.logger.Load().Warn("policy_store index", zap.Error(err))
		},
	})
	s.list = append(s.list, s.index)
	return nil
}

// startIndex runs the index, if any, until Close.
func (s *Sources) startIndex() {
	if s.index == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopIndex, s.indexDone = cancel, make(chan struct{})
	go func() {
		defer close(s.indexDone)
		s.index.Run(ctx)
	}()
}

// Close stops the store's index and closes the idle connections of the S3
// clients. The counters stay readable.
func (s *Sources) Close() {
	if s.stopIndex != nil {
		s.stopIndex()
		<-s.indexDone
	}
	if s.store != nil {
		source.CloseIdleConnections(s.store.Client)
	}
	if s.origin != nil {
		source.CloseIdleConnections(s.origin.Client)
	}
}

// UseLogger makes l (nil: none) the logger of the loads and of the index,
// from now on.
func (s *Sources) UseLogger(l *zap.Logger) {
	s.logger.Store(cmp.Or(l, zap.NewNop()))
}

// logLoadError logs a failed read of a bucket's policy.
func (s *Sources) logLoadError(bucket string, err error, staleServed bool) {
	s.logger.Load().Warn("reading bucket policy failed",
		zap.String("bucket", bucket),
		zap.Error(err),
		zap.Bool("previous_policy_kept", staleServed))
}

// load is the cache's loader: the first source that has a policy for the
// bucket wins. A document that does not validate is a cache.Rejected
// error, so that the previous policy stays in use. What the cache holds is
// offered to the sources, so that one can confirm it without reading it
// again.
func (s *Sources) load(ctx context.Context, bucket string) (source.Result, string, bool, error) {
	res, name, err := source.First(ctx, s.list, bucket, s.held(bucket))
	if source.IsInvalid(err) {
		err = cache.Rejected(err)
	}
	if res.Found {
		logWarnings(s.logger.Load(), bucket, res.Policy)
	}
	if err == nil {
		s.swapped(bucket)
	}
	return res, name, res.Found, err
}

// held returns what the cache holds for bucket, for a conditional load.
func (s *Sources) held(bucket string) source.Held {
	e, ok := s.cache.Peek(bucket)
	if !ok || !e.Found {
		return source.Held{}
	}
	return source.Held{Source: e.Source, Result: e.Value}
}

// changed re-reads, in the background, the cached policy of a bucket that
// the index found changed elsewhere; a bucket not cached here is left to
// its first load. at is when the change was made (zero when unknown).
func (s *Sources) changed(bucket string, at time.Time) {
	if _, ok := s.cache.Peek(bucket); !ok {
		return
	}
	if !at.IsZero() {
		s.changedAt.LoadOrStore(bucket, at)
	}
	s.cache.Refresh(bucket)
}

// swapped tells OnPropagated, once a load of bucket succeeded, how long the
// change that started it took to be enforced here.
func (s *Sources) swapped(bucket string) {
	if at, ok := s.changedAt.LoadAndDelete(bucket); ok && s.onPropagated != nil {
		s.onPropagated(s.now().Sub(at.(time.Time)))
	}
}

// Invalidate drops the cached policy of bucket (of every bucket for ""):
// the next request reads it again from its sources. The store's index is
// told to confirm the bucket with the store on its next load, so that the
// read reaches the store even when the policy was written there by hand
// since the index's last listing.
func (s *Sources) Invalidate(bucket string) {
	s.recheck(bucket)
	if bucket == "" {
		s.cache.InvalidateAll()
	} else {
		s.cache.Invalidate(bucket)
	}
}

// Refresh re-reads the cached policy of bucket (of every bucket for "") in
// the background, while the cached one keeps serving. The store's index
// confirms the bucket with the store, as for Invalidate.
func (s *Sources) Refresh(bucket string) {
	s.recheck(bucket)
	if bucket == "" {
		s.cache.RefreshAll()
	} else {
		s.cache.Refresh(bucket)
	}
}

// recheck has the store's index, if any, confirm bucket (every bucket, for
// "") with the store on its next load.
func (s *Sources) recheck(bucket string) {
	switch {
	case s.index == nil:
	case bucket == "":
		s.index.RecheckAll()
	default:
		s.index.Recheck(bucket)
	}
}

// IndexStatus returns the state of the store's index, and false when there
// is none.
func (s *Sources) IndexStatus() (source.IndexStatus, bool) {
	if s.index == nil {
		return source.IndexStatus{}, false
	}
	return s.index.Status(), true
}
