package cache

// reportLoadError calls OnLoadError for a failed load of key, unless it was
// called for key less than ErrorInterval ago: a source that is down fails
// every load, and one report per interval says as much as a thousand.
func (c *Cache[V]) reportLoadError(key string, err error, staleServed bool) {
	if c.opts.OnLoadError == nil || !c.reportDue(key) {
		return
	}
	c.opts.OnLoadError(key, err, staleServed)
}

// reportDue says whether a load error of key is to be reported now, and if
// so records that it is.
func (c *Cache[V]) reportDue(key string) bool {
	now := c.opts.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if last, ok := c.reports.Get(key); ok && now.Sub(last) < c.opts.ErrorInterval {
		return false
	}
	c.reports.Add(key, now)
	return true
}
