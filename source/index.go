package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bucketcors/bucketcors/policy"
)

// The index's defaults.
const (
	DefaultPoll      = 2 * time.Second
	DefaultResync    = 10 * time.Minute
	DefaultLookback  = 10 * time.Second
	DefaultRetention = 5 * time.Minute
)

// DefaultPageSize is IndexOptions.PageSize's default: S3's most keys a
// ListObjectsV2 page holds.
const DefaultPageSize = 1000

// IndexOptions configures an Index. Every field has a default.
type IndexOptions struct {
	// Poll is how often the change records are listed. Default: 2s.
	Poll time.Duration
	// Resync is how often the whole store is listed again, to catch
	// writes that left no change record. Default: 10m.
	Resync time.Duration
	// Trust is how long after its last successful sync the index answers
	// loads by itself; past it (the store is down), every load reads the
	// store. 0: always, once the first listing is done.
	Trust time.Duration
	// Lookback is how far before the newest record seen a poll lists
	// again, so that the records of a writer whose clock lags by up to
	// Lookback are not missed. Default: 10s.
	Lookback time.Duration
	// Retention is how old (by its name) a change record grows before a
	// resync deletes it. Default: 5m.
	Retention time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// PageSize is how many keys each ListObjectsV2 request asks for.
	// Default and most: DefaultPageSize, as S3 answers no more; tests ask
	// for fewer to see listings of several pages.
	PageSize int
	// OnChange, when set, is told of every bucket whose policy changed
	// elsewhere: found by a change record (at is the record's time) or by
	// a listing (at is the object's modification time, zero for a removed
	// object). It is called from the index's goroutine and must not block.
	OnChange func(bucket string, at time.Time)
	// OnError, when set, is told of the first failed round after a
	// successful one (or at start), and of every change record that could
	// not be written.
	OnError func(err error)
}

func (o IndexOptions) withDefaults() IndexOptions {
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Resync <= 0 {
		o.Resync = DefaultResync
	}
	if o.Lookback <= 0 {
		o.Lookback = DefaultLookback
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PageSize <= 0 || o.PageSize > DefaultPageSize {
		o.PageSize = DefaultPageSize
	}
	return o
}

// Index keeps, in memory, which buckets have a policy in a Store and the
// ETag of each, so that a bucket with no policy costs no request and an
// unchanged policy is confirmed without one. It is built by listing the
// store (ListObjectsV2, PageSize keys a page), kept current by polling the
// change records every Poll and by listing again every Resync, and after
// any failed round. Run does that in the background.
//
// Index is a Revalidator: as a Source it answers for the store, reading a
// policy only when the index says it changed (then with If-None-Match).
// Until the first listing is done, and while the last successful sync is
// older than Trust, it reads the store on every load, as Store does.
type Index struct {
	store  *Store
	opts   IndexOptions
	writer string

	mu      sync.RWMutex
	entries map[string]indexEntry
	// generation numbers the listings; each entry notes the last one that
	// found it, so that a listing updates the index in place and then
	// drops what it did not find.
	generation uint16
	// touched holds the buckets that loads and edits set while a listing
	// runs (nil when none runs): what they learnt is newer than the
	// listing's pages, which leave them alone.
	touched map[string]struct{}
	ready   bool
	// rechecking is set by RecheckAll until the next listing: loads read
	// the store meanwhile.
	rechecking  bool
	listNow     atomic.Bool
	lastSync    time.Time
	lastListing time.Time

	// The rounds' state, used by one goroutine at a time (Run's).
	initialized bool
	newest      time.Time            // the newest record seen, by its name
	seen        map[string]time.Time // records seen within the lookback
	catchUp     bool                 // the last round failed: list next
	listedAt    time.Time            // when the last listing began
	// unpruned is the time of the oldest record seen since the last
	// prune (zero: none), and pruneAll asks the next listing to prune
	// whatever it saw (at start, and after a failed round, when records
	// may have gone unseen): a listing lists the records only when some
	// may be past Retention.
	unpruned   time.Time
	lastRecord time.Time // the newest record seen
	pruneAll   bool

	// Counters, read by Status at any time.
	polls      atomic.Uint64
	pollErrors atomic.Uint64
	listings   atomic.Uint64
	listErrors atomic.Uint64
	changes    atomic.Uint64
	entryCount atomic.Int64
}

// indexEntry is what the index knows of one policy object, in 32 bytes:
// the index of 100,000 buckets is measured in index_memory_test.go. An
// entry that is not known means that a change record named the bucket
// since: its next load reads the store.
type indexEntry struct {
	etag       etagSum
	size       uint32
	known      bool
	generation uint16 // of the listing that last found it
	modified   int64  // unix nanoseconds
}

// newEntry returns the entry of an object with the given ETag, size and
// modification time.
func newEntry(etag string, size int64, modified time.Time) indexEntry {
	return indexEntry{etag: sumETag(etag), size: uint32(min(max(size, 0), math.MaxUint32)), known: true, modified: modified.UnixNano()}
}

// is says whether the entry is known and its ETag is etag.
func (e indexEntry) is(etag string) bool {
	return e.known && etag != "" && e.etag == sumETag(etag)
}

// etagSum is an ETag in 16 bytes: the MD5 that S3 ETags of single-part
// uploads quote in hex, or else the first 16 bytes of the ETag's SHA-256.
type etagSum [16]byte

// sumETag returns the etagSum of an ETag.
func sumETag(etag string) etagSum {
	var sum etagSum
	if len(etag) == 34 && etag[0] == '"' && etag[33] == '"' && strings.ToLower(etag) == etag {
		if _, err := hex.Decode(sum[:], []byte(etag[1:33])); err == nil {
			return sum
		}
	}
	digest := sha256.Sum256([]byte(etag))
	copy(sum[:], digest[:])
	return sum
}

// NewIndex returns an empty index of store; Run fills it.
func NewIndex(store *Store, opts IndexOptions) *Index {
	return &Index{
		store:   store,
		opts:    opts.withDefaults(),
		writer:  newWriterID(),
		entries: make(map[string]indexEntry),
		seen:    make(map[string]time.Time),
	}
}

// Name returns "policy_store": the index answers for the store.
func (x *Index) Name() string { return x.store.Name() }

// Store returns the store indexed.
func (x *Index) Store() *Store { return x.store }

// Load returns the bucket's policy: none, without a request, when the
// index is current and has no object for it.
func (x *Index) Load(ctx context.Context, bucket string) (Result, error) {
	return x.Revalidate(ctx, bucket, Result{})
}

// Revalidate returns held without a request when the current index has the
// same ETag for the bucket, and nothing without a request when it has no
// object for it; otherwise it reads the store with If-None-Match held's
// version. What the read tells updates the index.
func (x *Index) Revalidate(ctx context.Context, bucket string, held Result) (Result, error) {
	e, found, syncedAt, trusted := x.lookup(bucket)
	if trusted {
		if !found {
			return Result{}, nil
		}
		if held.Found && e.is(held.Version) {
			held.CheckedAt = syncedAt
			return held, nil
		}
	}
	res, info, err := x.store.get(ctx, bucket, held)
	switch {
	case err == nil && !res.Found:
		x.set(bucket, nil)
	case info.etag != "" && info.modified.IsZero(): // a 304: the ETag alone
		x.confirm(bucket, info.etag)
	case info.etag != "" && (err == nil || IsInvalid(err)):
		e := newEntry(info.etag, info.size, info.modified)
		x.set(bucket, &e)
	}
	return res, err
}

// lookup returns the bucket's entry, when the index last synced, and
// whether the index may answer loads by itself.
func (x *Index) lookup(bucket string) (indexEntry, bool, time.Time, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	e, found := x.entries[bucket]
	trusted := x.ready && !x.rechecking && (x.opts.Trust <= 0 || x.opts.Now().Sub(x.lastSync) < x.opts.Trust)
	return e, found, x.lastSync, trusted
}

// set makes e the bucket's entry, or removes it (nil), now and over the
// result of a listing in progress.
func (x *Index) set(bucket string, e *indexEntry) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.setLocked(bucket, e)
}

func (x *Index) setLocked(bucket string, e *indexEntry) {
	if x.touched != nil {
		x.touched[bucket] = struct{}{}
	}
	if e == nil {
		delete(x.entries, bucket)
	} else {
		e.generation = x.generation
		x.entries[bucket] = *e
	}
	x.entryCount.Store(int64(len(x.entries)))
}

// confirm notes that the store said the bucket's object has etag (a 304),
// keeping the size and time the entry had.
func (x *Index) confirm(bucket, etag string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.entries[bucket]
	e.etag, e.known = sumETag(etag), true
	x.setLocked(bucket, &e)
}

// Recheck has the bucket's next load read the store, whatever the index
// holds for it: for an operator who changed it there by hand.
func (x *Index) Recheck(bucket string) {
	x.set(bucket, &indexEntry{})
}

// RecheckAll has every load read the store until the next listing, which
// Run starts at its next tick.
func (x *Index) RecheckAll() {
	x.mu.Lock()
	x.rechecking = true
	x.mu.Unlock()
	x.listNow.Store(true)
}

// GetPolicy returns the bucket's stored policy, read from the store.
func (x *Index) GetPolicy(ctx context.Context, bucket string) (*policy.Policy, bool, error) {
	return x.store.GetPolicy(ctx, bucket)
}

// PutPolicy stores the bucket's policy, notes its ETag in the index, and
// writes a change record so that the other proxies see it at their next
// poll. It returns the new ETag. A record that cannot be written is told to
// OnError: the policy is stored, and the others see it at their next
// resync.
func (x *Index) PutPolicy(ctx context.Context, bucket string, pol *policy.Policy) (string, error) {
	etag, err := x.store.PutPolicy(ctx, bucket, pol)
	if err != nil {
		return "", err
	}
	now := x.opts.Now()
	e := newEntry(etag, 0, now)
	x.set(bucket, &e)
	x.record(ctx, ChangeRecord{At: now, Writer: x.writer, Bucket: bucket, Action: ActionPut, ETag: etag})
	return etag, nil
}

// DeletePolicy deletes the bucket's policy, drops it from the index, and
// writes a change record, as PutPolicy does.
func (x *Index) DeletePolicy(ctx context.Context, bucket string) error {
	if err := x.store.DeletePolicy(ctx, bucket); err != nil {
		return err
	}
	x.set(bucket, nil)
	x.record(ctx, ChangeRecord{At: x.opts.Now(), Writer: x.writer, Bucket: bucket, Action: ActionDelete})
	return nil
}

// record writes c, telling OnError when it cannot.
func (x *Index) record(ctx context.Context, c ChangeRecord) {
	if err := x.store.WriteChange(ctx, c); err != nil {
		x.reportError(fmt.Errorf("%w; the other proxies see this change at their next resync", err))
	}
}

func (x *Index) reportError(err error) {
	if x.opts.OnError != nil {
		x.opts.OnError(err)
	}
}

// Run lists the store, then polls its change records every Poll, lists it
// again every Resync and after any failed round, until ctx is done.
func (x *Index) Run(ctx context.Context) {
	x.start()
	x.round(ctx, true)
	ticker := time.NewTicker(x.opts.Poll)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		x.round(ctx, x.listingDue())
	}
}

// listingDue says whether the next round is a listing: the resync is due,
// the last round failed, or RecheckAll asked for one.
func (x *Index) listingDue() bool {
	return x.listNow.Swap(false) || x.catchUp || !x.opts.Now().Before(x.listedAt.Add(x.opts.Resync))
}

// start sets the poll's first cursor: records older than the first
// listing's start are in that listing.
func (x *Index) start() {
	if !x.initialized {
		x.newest = x.opts.Now()
		x.pruneAll = true
		x.initialized = true
	}
}

// Sync runs one round: a full listing when list is set, else a poll of the
// change records. It is what Run does on each tick, for tests.
func (x *Index) Sync(ctx context.Context, list bool) error {
	x.start()
	return x.round(ctx, list)
}

// round runs one poll or listing, counts it, and has the next round list
// when it failed.
func (x *Index) round(ctx context.Context, list bool) error {
	var err error
	if list {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		err = x.list(ctx)
		cancel()
		if err != nil { // a good listing counts itself before it says ready
			x.listings.Add(1)
			x.listErrors.Add(1)
		}
	} else {
		err = x.countedPoll(ctx)
	}
	// Only the first failure of a run of them is told, so that an outage
	// is logged once, not once per poll; the index's errors count them all.
	if err != nil && !x.catchUp && ctx.Err() == nil {
		x.reportError(err)
	}
	x.catchUp = err != nil
	x.pruneAll = x.pruneAll || err != nil
	return err
}

// countedPoll polls and counts the poll.
func (x *Index) countedPoll(ctx context.Context) error {
	err := x.poll(ctx)
	x.polls.Add(1)
	if err != nil {
		x.pollErrors.Add(1)
	}
	return err
}

// poll lists the change records written since the newest seen (less the
// lookback), one request when nothing changed, and marks the bucket of
// each new record changed, but for this index's own records.
func (x *Index) poll(ctx context.Context) error {
	now := x.opts.Now()
	from := earlier(x.newest, now).Add(-x.opts.Lookback)
	records, err := x.store.listChanges(ctx, x.store.changeCursor(from), x.opts.PageSize)
	if err != nil {
		return err
	}
	for _, c := range records {
		key := x.store.changeKey(c)
		if _, ok := x.seen[key]; ok {
			continue
		}
		x.seen[key] = c.At
		if x.unpruned.IsZero() || c.At.Before(x.unpruned) {
			x.unpruned = c.At
		}
		if c.At.After(x.lastRecord) {
			x.lastRecord = c.At
		}
		if c.At.After(x.newest) {
			x.newest = c.At
		}
		if c.Writer == x.writer {
			continue
		}
		x.changed(c.Bucket, c.At)
	}
	x.forgetSeenBefore(earlier(x.newest, now).Add(-x.opts.Lookback))
	x.synced(now, false)
	return nil
}

// changed marks the bucket's entry unknown, so that its next load reads the
// store, and tells OnChange.
func (x *Index) changed(bucket string, at time.Time) {
	x.set(bucket, &indexEntry{modified: at.UnixNano()})
	x.changes.Add(1)
	if x.opts.OnChange != nil {
		x.opts.OnChange(bucket, at)
	}
}

// forgetSeenBefore drops the seen records older than the next poll's
// cursor, which no poll lists again.
func (x *Index) forgetSeenBefore(cursor time.Time) {
	for key, at := range x.seen {
		if at.Before(cursor) {
			delete(x.seen, key)
		}
	}
}

// synced notes a successful round begun at start.
func (x *Index) synced(start time.Time, listing bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if start.After(x.lastSync) {
		x.lastSync = start
	}
	if listing {
		x.lastListing = start
		x.ready = true
		x.rechecking = false
	}
}

// list lists every policy object and updates the index in place, page by
// page, leaving alone what loads and edits set meanwhile; once every page
// is in, it drops the buckets it did not find, tells OnChange of every
// bucket whose ETag changed (but on the first listing), and deletes the
// change records older than Retention (see prune). Updating in place keeps
// one index in memory, however large.
func (x *Index) list(ctx context.Context) error {
	start := x.opts.Now()
	x.listedAt = start
	x.mu.Lock()
	x.generation++
	x.touched = make(map[string]struct{})
	tell := x.ready
	x.mu.Unlock()

	var changed []change
	lastPoll := start
	err := x.store.listPolicies(ctx, x.opts.PageSize, func(page []listedPolicy) {
		changed = x.addListed(page, tell, changed)
		// A listing of many pages takes seconds: the change records are
		// polled between its pages, so that it holds up no change. What a
		// poll marks, the later pages leave alone (touched).
		if now := x.opts.Now(); now.Sub(lastPoll) >= x.opts.Poll {
			lastPoll = now
			_ = x.countedPoll(ctx) // a failed poll is polled again; the listing's own result decides the catch-up
		}
	})

	x.mu.Lock()
	x.touched = nil
	if err == nil {
		for bucket, e := range x.entries {
			if e.generation != x.generation {
				delete(x.entries, bucket)
				if tell {
					changed = append(changed, change{bucket: bucket})
				}
			}
		}
		x.entryCount.Store(int64(len(x.entries)))
	}
	x.mu.Unlock()
	if err != nil {
		return err
	}
	x.listings.Add(1)
	x.synced(start, true)

	// Records older than the listing's start are in it.
	if start.After(x.newest) {
		x.newest = start
	}
	for _, c := range changed {
		x.changes.Add(1)
		if x.opts.OnChange != nil {
			x.opts.OnChange(c.bucket, c.at)
		}
	}
	x.prune(ctx, start.Add(-x.opts.Retention))
	return nil
}

// addListed puts one page of a listing into the index, but for the buckets
// that loads, edits or polls set meanwhile, and returns changed with the
// buckets whose ETag changed appended, when tell is set.
func (x *Index) addListed(page []listedPolicy, tell bool, changed []change) []change {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, p := range page {
		if _, ok := x.touched[p.bucket]; ok {
			continue
		}
		e := newEntry(p.etag, p.size, p.modified)
		e.generation = x.generation
		if old, ok := x.entries[p.bucket]; tell && (!ok || old.etag != e.etag || !old.known) {
			changed = append(changed, change{p.bucket, p.modified})
		}
		x.entries[p.bucket] = e
	}
	x.entryCount.Store(int64(len(x.entries)))
	return changed
}

// change is a bucket a listing found changed, and when (zero: removed).
type change struct {
	bucket string
	at     time.Time
}

// prune deletes the change records written before cutoff, when this index
// may have seen some: an idle resync costs no request for them.
func (x *Index) prune(ctx context.Context, cutoff time.Time) {
	if !x.pruneAll && (x.unpruned.IsZero() || !x.unpruned.Before(cutoff)) {
		return
	}
	if _, err := x.store.pruneChanges(ctx, cutoff, x.opts.PageSize); err != nil {
		x.reportError(err)
		return
	}
	x.pruneAll = false
	// The records seen since cutoff remain, to be pruned later.
	if x.lastRecord.After(cutoff) && !x.unpruned.IsZero() {
		x.unpruned = cutoff.Add(time.Nanosecond)
	} else {
		x.unpruned = time.Time{}
	}
}

// IndexStatus is what the admin API shows of an index.
type IndexStatus struct {
	// Store is s3://<bucket>/<prefix>.
	Store string `json:"store"`
	// Ready is set once the first listing is done.
	Ready   bool `json:"ready"`
	Entries int  `json:"entries"`
	// LastSync is when the last successful poll or listing began.
	LastSync time.Time `json:"last_sync"`
	// LastListing is when the last successful listing began.
	LastListing   time.Time `json:"last_listing"`
	PollSeconds   float64   `json:"poll_seconds"`
	ResyncSeconds float64   `json:"resync_seconds"`
	// Polls and Listings count the rounds run, Errors those that failed.
	Polls    uint64 `json:"polls"`
	Listings uint64 `json:"listings"`
	Errors   uint64 `json:"errors"`
	// ChangesApplied counts the buckets marked changed by a change
	// record or a listing.
	ChangesApplied uint64 `json:"changes_applied"`
	// PollErrors and ListingErrors split Errors, for the metrics.
	PollErrors    uint64 `json:"-"`
	ListingErrors uint64 `json:"-"`
}

// Status returns the index's state and counters.
func (x *Index) Status() IndexStatus {
	x.mu.RLock()
	st := IndexStatus{
		Store:       x.store.Location(),
		Ready:       x.ready,
		Entries:     len(x.entries),
		LastSync:    x.lastSync,
		LastListing: x.lastListing,
	}
	x.mu.RUnlock()
	st.PollSeconds, st.ResyncSeconds = x.opts.Poll.Seconds(), x.opts.Resync.Seconds()
	st.Polls, st.Listings = x.polls.Load(), x.listings.Load()
	st.PollErrors, st.ListingErrors = x.pollErrors.Load(), x.listErrors.Load()
	st.Errors = st.PollErrors + st.ListingErrors
	st.ChangesApplied = x.changes.Load()
	return st
}

// Len returns the number of buckets in the index, without a lock.
func (x *Index) Len() int { return int(x.entryCount.Load()) }

// list runs a listing, calling eachPage with the objects of every page.
func (s *Store) list(ctx context.Context, in *s3.ListObjectsV2Input, eachPage func([]types.Object)) error {
	for {
		s.Requests.list.Add(1)
		pageCtx, cancel := s.bounded(ctx)
		out, err := s.Client.ListObjectsV2(pageCtx, in)
		cancel()
		if err != nil {
			return fmt.Errorf("policy_store: listing s3://%s/%s: %w", s.Bucket, aws.ToString(in.Prefix), err)
		}
		eachPage(out.Contents)
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// listedPolicy is one policy object of a listing.
type listedPolicy struct {
	bucket   string
	etag     string
	size     int64
	modified time.Time
}

// listPolicies lists every <prefix><bucket>.xml object, a page of up to
// pageSize keys at a time. The delimiter "/" keeps the change records (and any other folder) out of
// it.
func (s *Store) listPolicies(ctx context.Context, pageSize int, eachPage func([]listedPolicy)) error {
	in := &s3.ListObjectsV2Input{
		Bucket:    aws.String(s.Bucket),
		Prefix:    aws.String(s.Prefix),
		Delimiter: aws.String("/"),
		MaxKeys:   aws.Int32(int32(pageSize)),
	}
	return s.list(ctx, in, func(objects []types.Object) {
		page := make([]listedPolicy, 0, len(objects))
		for _, obj := range objects {
			name := strings.TrimPrefix(aws.ToString(obj.Key), s.Prefix)
			bucket, ok := strings.CutSuffix(name, ".xml")
			if !ok || bucket == "" {
				continue
			}
			page = append(page, listedPolicy{
				// A copy of the name alone, so that the index keeps no key.
				bucket:   strings.Clone(bucket),
				etag:     aws.ToString(obj.ETag),
				size:     aws.ToInt64(obj.Size),
				modified: aws.ToTime(obj.LastModified),
			})
		}
		eachPage(page)
	})
}

// Interface guard
var _ Revalidator = (*Index)(nil)

// earlier returns the earlier of a and b.
func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
