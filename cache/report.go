package cache

import "time"

// reportDue says whether a load error of key is to be reported to
// OnLoadError at now, and if so records that it is: a source that is down
// fails every load, and one report per ErrorInterval says as much as a
// thousand. The caller holds c.mu.
func (c *Cache[V]) reportDue(key string, now time.Time) bool {
	if c.opts.OnLoadError == nil {
		return false
	}
	if last, ok := c.books.reports.Get(key); ok && now.Sub(last) < c.opts.ErrorInterval {
		return false
	}
	c.books.reports.Add(key, now)
	return true
}
