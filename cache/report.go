package cache

import "time"

// reportDue says whether a load error of key, in sh, is to be reported to
// OnLoadError at now, and if so records that it is: a source that is down
// fails every load, and one report per ErrorInterval says as much as a
// thousand. The caller holds sh.mu.
func (c *Cache[V]) reportDue(sh *shard[V], key string, now time.Time) bool {
	if c.opts.OnLoadError == nil {
		return false
	}
	if last, ok := sh.reports.Get(key); ok && now.Sub(last) < c.opts.ErrorInterval {
		return false
	}
	sh.reports.Add(key, now)
	return true
}
