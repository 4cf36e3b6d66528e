package caddymodule

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/bucketcors/bucketcors/lookup"
	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/source"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("bucket_cors", parseCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("bucket_cors", httpcaddyfile.After, "header")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := new(Handler)
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return handler, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	bucket_cors [<matcher>] {
//		bucket <placeholder or literal>
//		policy <bucket or *> {
//			rule {
//				id       <id>
//				origins  <origin...>
//				methods  <method...>
//				headers  <header...>
//				expose   <header...>
//				max_age  <seconds or duration>
//			}
//		}
//		policy_file <bucket or *> <path>
//		policy_dir  <path>
//		policy_store s3 {
//			endpoint   <url>
//			bucket     <bucket that holds the policies>
//			prefix     <key prefix>
//			region     <region>
//			access_key <key>
//			secret_key <secret>
//			poll       <duration> | off   # default 2s
//			resync     <duration>         # default 10m
//		}
//		policy_origin {
//			endpoint   <url>
//			region     <region>
//			access_key <key>
//			secret_key <secret>
//		}
//		cache {
//			size         <entries>
//			ttl          <duration>
//			stale        <duration>
//			load_timeout <duration>
//			max_loads    <n>
//		}
//		cors_api {
//			access_key <key>      # one or more pairs,
//			secret_key <secret>   # each access_key followed by its secret_key
//			region     <region>
//		}
//		mode  enforce | report_only
//		debug
//	}
//
// policy_store keeps an index of the store in memory (which buckets have a
// policy, and each one's ETag), so that a bucket with no policy costs no
// store request and an unchanged policy is kept without one. poll is how
// often the change records that the edge API writes are listed: one
// ListObjectsV2 per poll per proxy, and a change made through any proxy is
// enforced by the others within about poll. resync is how often the whole
// store is listed, one request per 1,000 policies, which catches writes
// made straight into the store. poll off turns the index off: each cached
// policy is read again every cache ttl.
//
// mode report_only judges every request by the policy, counts the decisions
// in bucketcors_decisions_total and logs each refusal it would make (once a
// minute per bucket and origin), but lets every request through untouched:
// preflights reach the next handler, and the origin's CORS headers stay. The
// default, enforce, answers by the policy. debug adds a Bucket-Cors-Debug
// header with the verdict to every answer to a request with an Origin; it
// shows any caller the shape of the policy, so it is off by default.
//
// Every policy is validated here, so `caddy adapt` reports a bad one with the
// line it is on.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive's name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "bucket":
			err = oneArg(d, &h.Bucket)
		case "policy":
			err = h.unmarshalPolicy(d)
		case "policy_file":
			err = h.unmarshalPolicyFile(d)
		case "policy_dir":
			err = h.unmarshalPolicyDir(d)
		case "policy_store":
			err = h.unmarshalPolicyStore(d)
		case "policy_origin":
			err = h.unmarshalPolicyOrigin(d)
		case "cache":
			err = h.unmarshalCache(d)
		case "cors_api":
			err = h.unmarshalCORSAPI(d)
		case "mode":
			err = h.unmarshalMode(d)
		case "debug":
			err = h.unmarshalDebug(d)
		default:
			err = d.Errf("unknown subdirective %q of bucket_cors", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// oneArg reads the single argument of the current subdirective into dst.
func oneArg(d *caddyfile.Dispenser, dst *string) error {
	name := d.Val()
	if !d.NextArg() {
		return d.Errf("%s takes one argument", name)
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.Errf("%s takes one argument, got another: %q", name, d.Val())
	}
	return nil
}

// unmarshalPolicy reads `policy <bucket> { rule {...} ... }`, validates it and
// stores it as R2 JSON.
func (h *Handler) unmarshalPolicy(d *caddyfile.Dispenser) error {
	var bucket string
	if err := oneArgBeforeBlock(d, &bucket); err != nil {
		return err
	}
	if _, dup := h.Policies[bucket]; dup {
		return d.Errf("policy %s is given twice; merge its rules into one policy block", bucket)
	}
	name := fmt.Sprintf("%s:%d (policy %s)", d.File(), d.Line(), bucket)

	doc := new(policy.Document)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if d.Val() != "rule" {
			return d.Errf("unknown subdirective %q of policy; a policy holds rule blocks", d.Val())
		}
		rule, err := unmarshalRule(d)
		if err != nil {
			return err
		}
		doc.Rules = append(doc.Rules, rule)
	}
	if _, err := policy.CompileStrict(name, doc); err != nil {
		return err
	}
	raw, err := doc.MarshalR2JSON()
	if err != nil {
		return d.WrapErr(err)
	}
	if h.Policies == nil {
		h.Policies = make(map[string]json.RawMessage)
	}
	h.Policies[bucket] = raw
	return nil
}

// unmarshalRule reads one `rule { ... }` block.
func unmarshalRule(d *caddyfile.Dispenser) (policy.Rule, error) {
	var rule policy.Rule
	if d.NextArg() {
		return rule, d.Errf("rule takes no argument, got %q; put its settings in its block", d.Val())
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		field := d.Val()
		args := d.RemainingArgs()
		if len(args) == 0 {
			return rule, d.Errf("%s needs at least one value", field)
		}
		switch field {
		case "id":
			if len(args) != 1 {
				return rule, d.Errf("id takes one value, got %d", len(args))
			}
			rule.ID = args[0]
		case "origins":
			rule.AllowedOrigins = append(rule.AllowedOrigins, args...)
		case "methods":
			rule.AllowedMethods = append(rule.AllowedMethods, args...)
		case "headers":
			rule.AllowedHeaders = append(rule.AllowedHeaders, args...)
		case "expose":
			rule.ExposeHeaders = append(rule.ExposeHeaders, args...)
		case "max_age":
			if len(args) != 1 {
				return rule, d.Errf("max_age takes one value, got %d", len(args))
			}
			seconds, err := parseMaxAge(args[0])
			if err != nil {
				return rule, d.Errf("max_age %q: %v", args[0], err)
			}
			rule.MaxAgeSeconds = &seconds
		default:
			return rule, d.Errf("unknown subdirective %q of rule; use id, origins, methods, headers, expose or max_age", field)
		}
	}
	return rule, nil
}

// parseMaxAge reads whole seconds ("3600") or a duration ("1h").
func parseMaxAge(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur%time.Second != 0 {
		return 0, fmt.Errorf("give whole seconds (3600) or a duration (1h)")
	}
	return int(dur / time.Second), nil
}

// oneArgBeforeBlock reads the one argument of a subdirective that opens a
// block.
func oneArgBeforeBlock(d *caddyfile.Dispenser, dst *string) error {
	name := d.Val()
	if !d.NextArg() {
		return d.Errf("%s takes one argument", name)
	}
	*dst = d.Val()
	if d.CountRemainingArgs() > 0 {
		d.NextArg()
		return d.Errf("%s takes one argument, got another: %q", name, d.Val())
	}
	return nil
}

// unmarshalPolicyFile reads `policy_file <bucket> <path>` and checks the file
// now, so that adapting a Caddyfile reports a bad one.
func (h *Handler) unmarshalPolicyFile(d *caddyfile.Dispenser) error {
	var bucket, path string
	if !d.Args(&bucket, &path) || d.NextArg() {
		return d.Errf("policy_file takes two arguments: a bucket (or *) and a path")
	}
	if _, dup := h.PolicyFiles[bucket]; dup {
		return d.Errf("policy_file %s is given twice", bucket)
	}
	if _, err := lookup.ReadPolicyFile(path); err != nil {
		return d.WrapErr(err)
	}
	if h.PolicyFiles == nil {
		h.PolicyFiles = make(map[string]string)
	}
	h.PolicyFiles[bucket] = path
	return nil
}

// unmarshalPolicyDir reads `policy_dir <path>`. Its documents are read at
// run time, by S3's rules, so a bad one does not fail the configuration; the
// folder itself must be readable.
func (h *Handler) unmarshalPolicyDir(d *caddyfile.Dispenser) error {
	if h.PolicyDir != "" {
		return d.Errf("policy_dir is given twice")
	}
	if err := oneArg(d, &h.PolicyDir); err != nil {
		return err
	}
	if _, err := source.ReadDir(h.PolicyDir, validBucketName); err != nil {
		return d.WrapErr(err)
	}
	return nil
}

// unmarshalPolicyStore reads `policy_store s3 { ... }`.
func (h *Handler) unmarshalPolicyStore(d *caddyfile.Dispenser) error {
	if h.PolicyStore != nil {
		return d.Errf("policy_store is given twice")
	}
	var kind string
	if err := oneArgBeforeBlock(d, &kind); err != nil {
		return err
	}
	if kind != "s3" {
		return d.Errf("policy_store %q: the only kind is s3", kind)
	}
	store := new(PolicyStore)
	var poll, resync string
	err := unmarshalBlockChecked(d, map[string]*string{
		"endpoint":   &store.Endpoint,
		"bucket":     &store.Bucket,
		"prefix":     &store.Prefix,
		"region":     &store.Region,
		"access_key": &store.AccessKey,
		"secret_key": &store.SecretKey,
		"poll":       &poll,
		"resync":     &resync,
	}, map[string]func(string) error{
		"poll": func(v string) error {
			if v == "off" {
				store.NoIndex = true
				return offWithResync(store)
			}
			return parseStoreDuration("poll", v, "such as 2s, or off to read each policy again every cache ttl", &store.Poll)
		},
		"resync": func(v string) error {
			if err := parseStoreDuration("resync", v, "such as 10m", &store.Resync); err != nil {
				return err
			}
			return offWithResync(store)
		},
	})
	h.PolicyStore = store
	return err
}

// offWithResync refuses poll off together with a resync.
func offWithResync(store *PolicyStore) error {
	if store.NoIndex && store.Resync != 0 {
		return fmt.Errorf("policy_store: poll is off, so there is no index to resync %s; remove one of them", time.Duration(store.Resync))
	}
	return nil
}

// parseStoreDuration reads a policy_store duration above 0 into dst.
func parseStoreDuration(name, value, example string, dst *caddy.Duration) error {
	v, err := caddy.ParseDuration(value)
	if err != nil || v <= 0 {
		return fmt.Errorf("policy_store %s %q: give a duration above 0, %s", name, value, example)
	}
	*dst = caddy.Duration(v)
	return nil
}

// unmarshalPolicyOrigin reads `policy_origin { ... }`.
func (h *Handler) unmarshalPolicyOrigin(d *caddyfile.Dispenser) error {
	if h.PolicyOrigin != nil {
		return d.Errf("policy_origin is given twice")
	}
	if d.NextArg() {
		return d.Errf("policy_origin takes no argument, got %q; put its settings in its block", d.Val())
	}
	origin := new(S3Endpoint)
	err := unmarshalBlock(d, map[string]*string{
		"endpoint":   &origin.Endpoint,
		"region":     &origin.Region,
		"access_key": &origin.AccessKey,
		"secret_key": &origin.SecretKey,
	})
	h.PolicyOrigin = origin
	return err
}

// unmarshalCache reads `cache { ... }`.
func (h *Handler) unmarshalCache(d *caddyfile.Dispenser) error {
	if h.Cache != nil {
		return d.Errf("cache is given twice")
	}
	if d.NextArg() {
		return d.Errf("cache takes no argument, got %q; put its settings in its block", d.Val())
	}
	var size, ttl, stale, loadTimeout, maxLoads string
	if err := unmarshalBlock(d, map[string]*string{
		"size": &size, "ttl": &ttl, "stale": &stale, "load_timeout": &loadTimeout, "max_loads": &maxLoads,
	}); err != nil {
		return err
	}
	cfg := new(CacheConfig)
	for _, n := range []struct {
		name, value, what string
		dst               *int
	}{
		{"size", size, "the most policies to keep", &cfg.Size},
		{"max_loads", maxLoads, "the most policy reads at once", &cfg.MaxLoads},
	} {
		if n.value == "" {
			continue
		}
		v, err := strconv.Atoi(n.value)
		if err != nil || v < 1 {
			return d.Errf("cache %s %q: give %s, a whole number of at least 1", n.name, n.value, n.what)
		}
		*n.dst = v
	}
	for _, dur := range []struct {
		name, value string
		dst         *caddy.Duration
	}{{"ttl", ttl, &cfg.TTL}, {"stale", stale, &cfg.Stale}, {"load_timeout", loadTimeout, &cfg.LoadTimeout}} {
		if dur.value == "" {
			continue
		}
		v, err := caddy.ParseDuration(dur.value)
		if err != nil || v <= 0 {
			return d.Errf("cache %s %q: give a duration above 0, such as 30s or 10m", dur.name, dur.value)
		}
		*dur.dst = caddy.Duration(v)
	}
	h.Cache = cfg
	return nil
}

// unmarshalCORSAPI reads `cors_api { access_key; secret_key; ...; region }`.
func (h *Handler) unmarshalCORSAPI(d *caddyfile.Dispenser) error {
	if h.CORSAPI != nil {
		return d.Errf("cors_api is given twice")
	}
	if d.NextArg() {
		return d.Errf("cors_api takes no argument, got %q; put its settings in its block", d.Val())
	}
	api := new(CORSAPI)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var value string
		name := d.Val()
		if err := oneArg(d, &value); err != nil {
			return err
		}
		pending := len(api.Keys) > 0 && api.Keys[len(api.Keys)-1].SecretKey == ""
		switch name {
		case "access_key":
			if pending {
				return d.Errf("access_key %s has no secret_key yet; give each access_key its secret_key on the next line", api.Keys[len(api.Keys)-1].AccessKey)
			}
			api.Keys = append(api.Keys, APIKey{AccessKey: value})
		case "secret_key":
			if !pending {
				return d.Errf("secret_key must follow its access_key")
			}
			api.Keys[len(api.Keys)-1].SecretKey = value
		case "region":
			if api.Region != "" {
				return d.Errf("region is given twice")
			}
			api.Region = value
		default:
			return d.Errf("unknown subdirective %q of cors_api; use access_key, secret_key or region", name)
		}
	}
	if len(api.Keys) == 0 || api.Keys[len(api.Keys)-1].SecretKey == "" {
		return d.Errf("cors_api needs at least one access_key with its secret_key")
	}
	h.CORSAPI = api
	return nil
}

// unmarshalMode reads `mode enforce|report_only`.
func (h *Handler) unmarshalMode(d *caddyfile.Dispenser) error {
	if h.Mode != "" {
		return d.Errf("mode is given twice")
	}
	if err := oneArg(d, &h.Mode); err != nil {
		return err
	}
	if h.Mode != ModeEnforce && h.Mode != ModeReportOnly {
		return d.Errf("mode %q: use %s (answer by the policy, the default) or %s (judge and count, but let every request through)",
			h.Mode, ModeEnforce, ModeReportOnly)
	}
	return nil
}

// unmarshalDebug reads `debug`, which takes no argument.
func (h *Handler) unmarshalDebug(d *caddyfile.Dispenser) error {
	if h.Debug {
		return d.Errf("debug is given twice")
	}
	if d.NextArg() {
		return d.Errf("debug takes no argument, got %q; write debug alone to turn it on", d.Val())
	}
	h.Debug = true
	return nil
}

// unmarshalBlock reads a block of `<name> <value>` lines into fields.
func unmarshalBlock(d *caddyfile.Dispenser, fields map[string]*string) error {
	return unmarshalBlockChecked(d, fields, nil)
}

// unmarshalBlockChecked is unmarshalBlock that also checks the value of each
// field that has a check, reporting its error at the value's line.
func unmarshalBlockChecked(d *caddyfile.Dispenser, fields map[string]*string, checks map[string]func(string) error) error {
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		dst, ok := fields[name]
		if !ok {
			return d.Errf("unknown subdirective %q; use one of %s", name, strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
		}
		if *dst != "" {
			return d.Errf("%s is given twice", name)
		}
		if err := oneArg(d, dst); err != nil {
			return err
		}
		if check, ok := checks[name]; ok {
			if err := check(*dst); err != nil {
				return d.Err(err.Error())
			}
		}
	}
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Handler)(nil)
