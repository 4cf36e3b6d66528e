package caddymodule

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// TestCaddyfileSubdirectivesBecomeTheJSONConfig: each subdirective of
// bucket_cors, parsed, gives the JSON config it stands for.
func TestCaddyfileSubdirectivesBecomeTheJSONConfig(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string // the handler's JSON config
	}{
		{
			name:  "no block: every default",
			input: `bucket_cors`,
			want:  `{}`,
		},
		{
			name: "empty block",
			input: `bucket_cors {
			}`,
			want: `{}`,
		},
		{
			name: "bucket placeholder",
			input: `bucket_cors {
				bucket {http.request.host.labels.3}
			}`,
			want: `{"bucket": "{http.request.host.labels.3}"}`,
		},
		{
			name: "literal bucket",
			input: `bucket_cors {
				bucket assets
			}`,
			want: `{"bucket": "assets"}`,
		},
		{
			name: "policy with every rule field, max_age in seconds",
			input: `bucket_cors {
				policy assets {
					rule {
						id      web
						origins https://app.example.com https://*.preview.example.com
						methods GET PUT HEAD
						headers content-type x-amz-*
						expose  ETag x-amz-version-id
						max_age 3600
					}
				}
			}`,
			want: `{"policies": {"assets": [{
				"ID": "web",
				"AllowedOrigins": ["https://app.example.com", "https://*.preview.example.com"],
				"AllowedMethods": ["GET", "PUT", "HEAD"],
				"AllowedHeaders": ["content-type", "x-amz-*"],
				"ExposeHeaders": ["ETag", "x-amz-version-id"],
				"MaxAgeSeconds": 3600
			}]}}`,
		},
		{
			name: "max_age as a duration",
			input: `bucket_cors {
				policy assets {
					rule {
						origins https://app.example.com
						methods GET
						max_age 1h30m
					}
				}
			}`,
			want: `{"policies": {"assets": [{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"], "MaxAgeSeconds": 5400}]}}`,
		},
		{
			name: "max_age 0 is kept: browsers then cache nothing",
			input: `bucket_cors {
				policy assets {
					rule {
						origins https://app.example.com
						methods GET
						max_age 0
					}
				}
			}`,
			want: `{"policies": {"assets": [{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"], "MaxAgeSeconds": 0}]}}`,
		},
		{
			name: "a field given on several lines adds up",
			input: `bucket_cors {
				policy assets {
					rule {
						origins https://a.example.com
						origins https://b.example.com
						methods GET
						methods HEAD
					}
				}
			}`,
			want: `{"policies": {"assets": [{"AllowedOrigins": ["https://a.example.com", "https://b.example.com"], "AllowedMethods": ["GET", "HEAD"]}]}}`,
		},
		{
			name: "rules in order, several policies and the * default",
			input: `bucket_cors {
				policy assets {
					rule {
						origins https://app.example.com
						methods PUT
					}
					rule {
						origins *
						methods GET
					}
				}
				policy * {
					rule {
						origins https://app.example.com
						methods GET
					}
				}
			}`,
			want: `{"policies": {
				"assets": [
					{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT"]},
					{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}
				],
				"*": [{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}]
			}}`,
		},
		{
			name: "policy_file, for a bucket and for *",
			input: `bucket_cors {
				policy_file assets testdata/policies/seed.json
				policy_file * testdata/policies/media.xml
			}`,
			want: `{"policy_files": {"assets": "testdata/policies/seed.json", "*": "testdata/policies/media.xml"}}`,
		},
		{
			name: "policy_dir",
			input: `bucket_cors {
				policy_dir testdata/policy_dir
			}`,
			want: `{"policy_dir": "testdata/policy_dir"}`,
		},
		{
			name: "policy_store s3 with every field",
			input: `bucket_cors {
				policy_store s3 {
					endpoint   http://127.0.0.1:9000
					bucket     cors-policies
					prefix     cors/
					region     eu-west-1
					access_key {env.S3_ACCESS_KEY}
					secret_key {file./run/secrets/s3_secret}
				}
			}`,
			want: `{"policy_store": {
				"endpoint": "http://127.0.0.1:9000",
				"bucket": "cors-policies",
				"prefix": "cors/",
				"region": "eu-west-1",
				"access_key": "{env.S3_ACCESS_KEY}",
				"secret_key": "{file./run/secrets/s3_secret}"
			}}`,
		},
		{
			name: "policy_origin",
			input: `bucket_cors {
				policy_origin {
					endpoint   https://account.r2.cloudflarestorage.com
					region     auto
					access_key AK
					secret_key {env.R2_SECRET}
				}
			}`,
			want: `{"policy_origin": {
				"endpoint": "https://account.r2.cloudflarestorage.com",
				"region": "auto",
				"access_key": "AK",
				"secret_key": "{env.R2_SECRET}"
			}}`,
		},
		{
			name: "cache with every field",
			input: `bucket_cors {
				cache {
					size         500
					ttl          1m
					stale        1h
					load_timeout 2s
				}
			}`,
			want: `{"cache": {"size": 500, "ttl": 60000000000, "stale": 3600000000000, "load_timeout": 2000000000}}`,
		},
		{
			name: "report_only with the debug header",
			input: `bucket_cors {
				mode report_only
				debug
			}`,
			want: `{"mode": "report_only", "debug": true}`,
		},
		{
			name: "enforce, said outright",
			input: `bucket_cors {
				mode enforce
			}`,
			want: `{"mode": "enforce"}`,
		},
		{
			name: "cache ttl in days, as Caddy's durations allow",
			input: `bucket_cors {
				cache {
					ttl 1d
				}
			}`,
			want: `{"cache": {"ttl": 86400000000000}}`,
		},
		{
			name: "policy_store poll off: no index",
			input: `bucket_cors {
				policy_store s3 {
					bucket cors-policies
					poll off
				}
			}`,
			want: `{"policy_store": {"bucket": "cors-policies", "no_index": true}}`,
		},
		{
			name: "policy_store poll and resync",
			input: `bucket_cors {
				policy_store s3 {
					bucket cors-policies
					poll 500ms
					resync 1h
				}
			}`,
			want: `{"policy_store": {"bucket": "cors-policies", "poll": 500000000, "resync": 3600000000000}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input)); err != nil {
				t.Fatalf("UnmarshalCaddyfile: %v", err)
			}
			got, err := json.Marshal(&h)
			if err != nil {
				t.Fatal(err)
			}
			checkSameJSON(t, got, []byte(tc.want))
		})
	}
}

// checkSameJSON fails the test unless got and want hold the same JSON
// value, whatever their layout.
func checkSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", "  ")
		wi, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("JSON config:\n got: %s\nwant: %s", gi, wi)
	}
}

// TestCaddyfileMistakesAreReportedWithTheirLine: every mistake is an
// error that says what is wrong and names the Caddyfile line it is on.
func TestCaddyfileMistakesAreReportedWithTheirLine(t *testing.T) {
	// Each input starts on line 1 with `bucket_cors {`.
	tests := []struct {
		name  string
		input string
		want  []string // substrings of the error, its line among them
	}{
		// bucket_cors itself
		{"an argument to bucket_cors", "bucket_cors assets {\n}",
			[]string{"wrong argument count", "Testfile:1"}},
		{"unknown subdirective", "bucket_cors {\n\tbucket assets\n\tallow_origin *\n}",
			[]string{`unknown subdirective "allow_origin" of bucket_cors`, "Testfile:3"}},

		// bucket
		{"bucket without argument", "bucket_cors {\n\tbucket\n}",
			[]string{"bucket takes one argument", "Testfile:2"}},
		{"bucket with two arguments", "bucket_cors {\n\tbucket assets media\n}",
			[]string{`bucket takes one argument, got another: "media"`, "Testfile:2"}},

		// policy
		{"policy without bucket", "bucket_cors {\n\tpolicy {\n\t\trule {\n\t\t\torigins *\n\t\t\tmethods GET\n\t\t}\n\t}\n}",
			[]string{"policy takes one argument", "Testfile:2"}},
		{"policy with two buckets", "bucket_cors {\n\tpolicy assets media {\n\t}\n}",
			[]string{`policy takes one argument, got another: "media"`, "Testfile:2"}},
		{"duplicate policy", "bucket_cors {\n\tpolicy assets {\n\t\trule {\n\t\t\torigins *\n\t\t\tmethods GET\n\t\t}\n\t}\n\tpolicy assets {\n\t\trule {\n\t\t\torigins *\n\t\t\tmethods PUT\n\t\t}\n\t}\n}",
			[]string{"policy assets is given twice; merge its rules into one policy block", "Testfile:8"}},
		{"policy without rules", "bucket_cors {\n\tpolicy assets {\n\t}\n}",
			[]string{"Testfile:2 (policy assets)", "a document has at least one rule"}},
		{"something else than a rule in a policy", "bucket_cors {\n\tpolicy assets {\n\t\torigins *\n\t}\n}",
			[]string{`unknown subdirective "origins" of policy; a policy holds rule blocks`, "Testfile:3"}},

		// rule
		{"rule with an argument", "bucket_cors {\n\tpolicy assets {\n\t\trule web {\n\t\t\torigins *\n\t\t\tmethods GET\n\t\t}\n\t}\n}",
			[]string{`rule takes no argument, got "web"`, "Testfile:3"}},
		{"unknown rule field", "bucket_cors {\n\tpolicy assets {\n\t\trule {\n\t\t\torigin *\n\t\t}\n\t}\n}",
			[]string{`unknown subdirective "origin" of rule; use id, origins, methods, headers, expose or max_age`, "Testfile:4"}},
		{"rule field without value", "bucket_cors {\n\tpolicy assets {\n\t\trule {\n\t\t\torigins *\n\t\t\tmethods\n\t\t}\n\t}\n}",
			[]string{"methods needs at least one value", "Testfile:5"}},
		{"two ids", "bucket_cors {\n\tpolicy assets {\n\t\trule {\n\t\t\tid a b\n\t\t}\n\t}\n}",
			[]string{"id takes one value, got 2", "Testfile:4"}},

		// invalid rules: the policy package's own words, with the line
		{"unsupported method", "bucket_cors {\n\tpolicy assets {\n\t\trule {\n\t\t\torigins https://app.example.com\n\t\t\tmethods GET PATCH\n\t\t}\n\t}\n}",
			[]string{`Testfile:2 (policy assets): rule 1: AllowedMethods[2] "PATCH": Found unsupported HTTP method in CORS config`}},
		{"origin with a path, in a rule with an id", "bucket_cors {\n\tpolicy assets {\n\t\trule {\n\t\t\tid static\n\t\t\torigins https://static.example.com/\n\t\t\tmethods GET\n\t\t}\n\t}\n}",
			[]string{`Testfile:2 (policy assets): rule 1 (ID "static"): AllowedOrigins[1] "https://static.example.com/": an origin has no path; drop the trailing "/": use "https://static.example.com"`}},
		{"rule without origins, second rule", "bucket_cors {\n\tpolicy * {\n\t\trule {\n\t\t\torigins *\n\t\t\tmethods GET\n\t\t}\n\t\trule {\n\t\t\tmethods GET\n\t\t}\n\t}\n}",
			[]string{"Testfile:2 (policy *): rule 2", "AllowedOrigins"}},
		{"expose with *", "bucket_cors {\n\tpolicy assets {\n\t\trule {\n\t\t\torigins *\n\t\t\tmethods GET\n\t\t\texpose *\n\t\t}\n\t}\n}",
			[]string{"Testfile:2 (policy assets): rule 1", "ExposeHeaders take no *"}},

		// max_age
		{"max_age not a number", "bucket_cors {\n\tpolicy assets {\n\t\trule {\n\t\t\torigins *\n\t\t\tmethods GET\n\t\t\tmax_age soon\n\t\t}\n\t}\n}",
			[]string{`max_age "soon": give whole seconds (3600) or a duration (1h)`, "Testfile:6"}},
		{"max_age with a fraction of a second", "bucket_cors {\n\tpolicy assets {\n\t\trule {\n\t\t\torigins *\n\t\t\tmethods GET\n\t\t\tmax_age 1.5s\n\t\t}\n\t}\n}",
			[]string{`max_age "1.5s": give whole seconds`, "Testfile:6"}},
		{"max_age with two values", "bucket_cors {\n\tpolicy assets {\n\t\trule {\n\t\t\torigins *\n\t\t\tmethods GET\n\t\t\tmax_age 1 2\n\t\t}\n\t}\n}",
			[]string{"max_age takes one value, got 2", "Testfile:6"}},
		{"max_age past a day", "bucket_cors {\n\tpolicy assets {\n\t\trule {\n\t\t\torigins *\n\t\t\tmethods GET\n\t\t\tmax_age 48h\n\t\t}\n\t}\n}",
			[]string{"Testfile:2 (policy assets): rule 1", "MaxAgeSeconds", "172800"}},
		{"negative max_age", "bucket_cors {\n\tpolicy assets {\n\t\trule {\n\t\t\torigins *\n\t\t\tmethods GET\n\t\t\tmax_age -1\n\t\t}\n\t}\n}",
			[]string{"Testfile:2 (policy assets): rule 1", "MaxAgeSeconds", "-1"}},

		// policy_file
		{"policy_file with one argument", "bucket_cors {\n\tpolicy_file assets\n}",
			[]string{"policy_file takes two arguments: a bucket (or *) and a path", "Testfile:2"}},
		{"policy_file with three arguments", "bucket_cors {\n\tpolicy_file assets a.json b.json\n}",
			[]string{"policy_file takes two arguments", "Testfile:2"}},
		{"policy_file twice for a bucket", "bucket_cors {\n\tpolicy_file assets testdata/policies/seed.json\n\tpolicy_file assets testdata/policies/media.xml\n}",
			[]string{"policy_file assets is given twice", "Testfile:3"}},
		{"policy_file that does not exist", "bucket_cors {\n\tpolicy_file assets testdata/policies/nope.json\n}",
			[]string{"policy file: open testdata/policies/nope.json", "Testfile:2"}},
		{"policy_file that does not validate", "bucket_cors {\n\tpolicy_file static testdata/policies/slash-origin.json\n}",
			[]string{`testdata/policies/slash-origin.json: rule 1 (ID "static"): AllowedOrigins[1] "https://static.example.com/": an origin has no path`, "Testfile:2"}},

		// policy_dir
		{"policy_dir without argument", "bucket_cors {\n\tpolicy_dir\n}",
			[]string{"policy_dir takes one argument", "Testfile:2"}},
		{"policy_dir twice", "bucket_cors {\n\tpolicy_dir testdata/policy_dir\n\tpolicy_dir testdata/policies\n}",
			[]string{"policy_dir is given twice", "Testfile:3"}},
		{"policy_dir that does not exist", "bucket_cors {\n\tpolicy_dir testdata/nope\n}",
			[]string{"policy_dir: open testdata/nope", "Testfile:2"}},

		// policy_store
		{"policy_store of another kind", "bucket_cors {\n\tpolicy_store gcs {\n\t\tbucket policies\n\t}\n}",
			[]string{`policy_store "gcs": the only kind is s3`, "Testfile:2"}},
		{"policy_store without kind", "bucket_cors {\n\tpolicy_store {\n\t\tbucket policies\n\t}\n}",
			[]string{"policy_store takes one argument", "Testfile:2"}},
		{"policy_store with two kinds", "bucket_cors {\n\tpolicy_store s3 gcs {\n\t}\n}",
			[]string{`policy_store takes one argument, got another: "gcs"`, "Testfile:2"}},
		{"unknown field in policy_store", "bucket_cors {\n\tpolicy_store s3 {\n\t\tendpiont http://127.0.0.1:9000\n\t}\n}",
			[]string{`unknown subdirective "endpiont"; use one of access_key, bucket, endpoint, poll, prefix, region, resync, secret_key`, "Testfile:3"}},
		{"policy_store field given twice", "bucket_cors {\n\tpolicy_store s3 {\n\t\tbucket a\n\t\tbucket b\n\t}\n}",
			[]string{"bucket is given twice", "Testfile:4"}},
		{"policy_store field with two values", "bucket_cors {\n\tpolicy_store s3 {\n\t\tregion eu west\n\t}\n}",
			[]string{`region takes one argument, got another: "west"`, "Testfile:3"}},
		{"policy_store poll not a duration", "bucket_cors {\n\tpolicy_store s3 {\n\t\tpoll often\n\t}\n}",
			[]string{`policy_store poll "often": give a duration above 0, such as 2s, or off`, "Testfile:3"}},
		{"policy_store resync of zero", "bucket_cors {\n\tpolicy_store s3 {\n\t\tresync 0s\n\t}\n}",
			[]string{`policy_store resync "0s": give a duration above 0`, "Testfile:3"}},
		{"policy_store resync with poll off", "bucket_cors {\n\tpolicy_store s3 {\n\t\tpoll off\n\t\tresync 1m\n\t}\n}",
			[]string{`poll is off, so there is no index to resync 1m0s; remove one of them`, "Testfile:4"}},
		{"policy_store twice", "bucket_cors {\n\tpolicy_store s3 {\n\t}\n\tpolicy_store s3 {\n\t}\n}",
			[]string{"policy_store is given twice", "Testfile:4"}},

		// policy_origin
		{"policy_origin with an argument", "bucket_cors {\n\tpolicy_origin s3 {\n\t}\n}",
			[]string{`policy_origin takes no argument, got "s3"`, "Testfile:2"}},
		{"unknown field in policy_origin", "bucket_cors {\n\tpolicy_origin {\n\t\tbucket policies\n\t}\n}",
			[]string{`unknown subdirective "bucket"; use one of access_key, endpoint, region, secret_key`, "Testfile:3"}},
		{"policy_origin twice", "bucket_cors {\n\tpolicy_origin {\n\t}\n\tpolicy_origin {\n\t}\n}",
			[]string{"policy_origin is given twice", "Testfile:4"}},

		// cache
		{"cache with an argument", "bucket_cors {\n\tcache 100\n}",
			[]string{`cache takes no argument, got "100"`, "Testfile:2"}},
		{"cache twice", "bucket_cors {\n\tcache {\n\t}\n\tcache {\n\t}\n}",
			[]string{"cache is given twice", "Testfile:4"}},
		{"cache size 0", "bucket_cors {\n\tcache {\n\t\tsize 0\n\t}\n}",
			[]string{`cache size "0": give the most policies to keep, a whole number of at least 1`, "Testfile:4"}},
		{"cache size not a number", "bucket_cors {\n\tcache {\n\t\tsize lots\n\t}\n}",
			[]string{`cache size "lots"`, "Testfile:4"}},
		{"cache ttl not a duration", "bucket_cors {\n\tcache {\n\t\tttl soon\n\t}\n}",
			[]string{`cache ttl "soon": give a duration above 0, such as 30s or 10m`, "Testfile:4"}},
		{"cache ttl negative", "bucket_cors {\n\tcache {\n\t\tttl -30s\n\t}\n}",
			[]string{`cache ttl "-30s": give a duration above 0`, "Testfile:4"}},
		{"cache stale 0", "bucket_cors {\n\tcache {\n\t\tstale 0s\n\t}\n}",
			[]string{`cache stale "0s": give a duration above 0`, "Testfile:4"}},
		{"cache load_timeout not a duration", "bucket_cors {\n\tcache {\n\t\tload_timeout 5\n\t}\n}",
			[]string{`cache load_timeout "5": give a duration above 0`, "Testfile:4"}},
		// mode and debug
		{"unknown mode", "bucket_cors {\n\tmode bogus\n}",
			[]string{`mode "bogus": use enforce (answer by the policy, the default) or report_only`, "Testfile:2"}},
		{"mode without argument", "bucket_cors {\n\tmode\n}",
			[]string{"mode takes one argument", "Testfile:2"}},
		{"mode twice", "bucket_cors {\n\tmode enforce\n\tmode report_only\n}",
			[]string{"mode is given twice", "Testfile:3"}},
		{"debug with an argument", "bucket_cors {\n\tdebug on\n}",
			[]string{`debug takes no argument, got "on"; write debug alone to turn it on`, "Testfile:2"}},
		{"debug twice", "bucket_cors {\n\tdebug\n\tdebug\n}",
			[]string{"debug is given twice", "Testfile:3"}},

		{"unknown field in cache", "bucket_cors {\n\tcache {\n\t\tmax_entries 10\n\t}\n}",
			[]string{`unknown subdirective "max_entries"; use one of load_timeout, max_loads, size, stale, ttl`, "Testfile:3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if err == nil {
				t.Fatalf("no error for:\n%s", tc.input)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q:\n%v", want, err)
				}
			}
		})
	}
}
