package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// setting is one environment variable the service reads.
type setting struct {
	name   string
	def    string // default; "" means unset
	help   string
	secret bool // masked in the start-up log
}

// settings is every setting of the service; README.md has the same table
// (a test checks it) and `daisuso env` prints it.
var settings = []setting{
	{name: "PORT", def: "8080", help: "TCP port to listen on (0 picks a free one)."},
	{name: "HOST", def: "", help: "Address to listen on. Default 127.0.0.1 in dev mode, 0.0.0.0 otherwise."},
	{name: "MONGODB_URI", help: "MongoDB connection string. Unset: an embedded FerretDB (SQLite files in DATA_DIR), and dev mode on."},
	{name: "MONGODB_DATABASE", def: "daisuso", help: "Database name."},
	{name: "DATA_DIR", def: "./data", help: "Where the embedded FerretDB keeps its files and dev mode its token secret."},
	{name: "DATA_SYNC", def: "normal", help: "How the embedded FerretDB's SQLite files reach the disk. normal: every acknowledged write survives a crash of the service; the last ones may be lost if the machine itself stops (power cut). full: each commit waits for the disk, so nothing is lost even then, and writes are slower."},
	{name: "FERRETDB_POSTGRES_URL", help: "Run the embedded FerretDB on this PostgreSQL database instead of SQLite.", secret: true},
	{name: "REDIS_URL", help: "Redis URL (redis://host:port/db). Unset: an in-process Redis-protocol server, leaderboards rebuilt from MongoDB at start."},
	{name: "REDIS_CLUSTER", help: "Seed addresses of a Redis Cluster (host:port,host:port,...), instead of REDIS_URL; every key that meets another in one command shares its hash tag."},
	{name: "REDIS_PREFIX", def: "ds:", help: "Prefix of every Redis key, so deployments can share a Redis."},
	{name: "FIREBASE_PROJECT_ID", help: "Firebase project: verifies sign-in ID tokens and sends pushes. Unset: pushes are logged, not sent."},
	{name: "GOOGLE_APPLICATION_CREDENTIALS", help: "Service-account JSON file for Firebase (read by the Google SDK)."},
	{name: "FIREBASE_WEB_API_KEY", help: "The Firebase project's web API key (public by design): the dashboard's sign-in page gets ID tokens with it. Unset: the page takes a pasted token."},
	{name: "FCM_ENDPOINT", help: "Send pushes to this FCM-compatible URL without credentials (load tests against a local stand-in). Needs FIREBASE_PROJECT_ID."},
	{name: "DEV_MODE", help: "true: POST /v1/dev/token issues tokens for anyone. Default true only with the embedded stores."},
	{name: "DEV_TOKEN_SECRET", help: "HMAC key of dev tokens, 32+ bytes. Default: made once and kept in DATA_DIR.", secret: true},
	{name: "SESSION_CODE_SECRET", help: "HMAC key of session confirmation codes, 32+ bytes, the same on every instance. Default: made once and kept in DATA_DIR.", secret: true},
	{name: "LOG_FORMAT", help: "json or text. Default text in dev mode, json otherwise."},
	{name: "LOG_LEVEL", def: "info", help: "debug, info, warn or error."},
	{name: "REQUEST_TIMEOUT", def: "5s", help: "Deadline of every request."},
	{name: "USER_CACHE_TTL", def: "10s", help: "How long a user's role and branch are kept in memory; a change reaches other instances within it."},
	{name: "STORE_TIMEOUT", def: "500ms", help: "Dial and I/O timeout of MongoDB and Redis, so a dead store fails fast; a request waits for a busy store's pooled connection within REQUEST_TIMEOUT instead."},
	{name: "SHUTDOWN_DRAIN", def: "3s", help: "After SIGTERM, how long the server keeps serving with /readyz at 503 and Connection: close on every answer, so that load balancers and clients move away before the listener closes."},
	{name: "SHUTDOWN_TIMEOUT", def: "15s", help: "How long SIGTERM waits for in-flight requests."},
	{name: "PUSH_LEASE", def: "60s", help: "How long a push worker's claim on a notification holds before another instance may send it (a crashed instance's claims come back after it); the worker renews it every third of it while it sends a batch."},
	{name: "QUIET_HOURS", def: "on", help: "Hold reminders between 21:00 and 07:00 Vietnam time. off is accepted in dev mode only (tests and demos)."},
	{name: "BODY_LIMIT", def: "1048576", help: "Largest request body in bytes (413 above)."},
	{name: "RATE_LIMIT_USER", def: "600", help: "Requests per minute per signed-in user (0: off)."},
	{name: "RATE_LIMIT_IP", def: "6000", help: "Requests per minute per client IP (0: off). A commune office shares one IP."},
	{name: "PROXY_HEADER", help: "Header with the client IP behind a trusted proxy, e.g. X-Forwarded-For."},
	{name: "GOGC", def: "400", help: "Go's garbage collector target, read by the Go runtime. Unset and running the embedded FerretDB, the service sets 400 instead of Go's 100: FerretDB allocates afresh for every document, and at 100 the collector ran all the time (docs/PERFORMANCE.md); with a MongoDB given, Go's 100 stands. GOMEMLIMIT caps the heap as Go documents."},
	{name: "UNITS_DIR", help: "A newer official list of units than the embedded one (2026-07-25): a folder with units.json and communes.geojson as in geo/units (or the units.json path). Run `daisuso units import` on it first."},
	{name: "DEMO_HOUSEHOLDS", def: "5000", help: "Size of the demo province that `daisuso demo` (make demo) writes into an empty database."},
}

// config is the parsed settings.
type config struct {
	Host, Port                 string
	UnitsDir                   string
	MongoURI, MongoDatabase    string
	DataDir, FerretPostgres    string
	DataSyncFull               bool
	RedisURL, RedisPrefix      string
	RedisCluster               []string // seed addresses
	PushLease                  time.Duration
	NoQuietHours               bool
	FirebaseProject            string
	FCMEndpoint                string
	FirebaseWebAPIKey          string
	DevMode                    bool
	DevTokenSecret             string
	SessionCodeSecret          string
	LogFormat, LogLevel        string
	RequestTimeout             time.Duration
	UserCacheTTL               time.Duration
	StoreTimeout               time.Duration
	ShutdownTimeout            time.Duration
	ShutdownDrain              time.Duration
	BodyLimit                  int
	RateLimitUser, RateLimitIP int
	ProxyHeader                string
}

// loadConfig reads every setting, applies defaults and checks them all,
// reporting every bad one at once.
func loadConfig(getenv func(string) string) (config, error) {
	r := &reader{getenv: getenv}
	get := r.get
	c := config{
		Port: get("PORT"), MongoURI: get("MONGODB_URI"), MongoDatabase: get("MONGODB_DATABASE"),
		DataDir: get("DATA_DIR"), UnitsDir: get("UNITS_DIR"), FerretPostgres: get("FERRETDB_POSTGRES_URL"),
		RedisURL: get("REDIS_URL"), RedisPrefix: get("REDIS_PREFIX"),
		FirebaseProject: get("FIREBASE_PROJECT_ID"), FCMEndpoint: get("FCM_ENDPOINT"), FirebaseWebAPIKey: get("FIREBASE_WEB_API_KEY"), DevTokenSecret: get("DEV_TOKEN_SECRET"),
		SessionCodeSecret: get("SESSION_CODE_SECRET"),
		LogLevel:          get("LOG_LEVEL"), ProxyHeader: get("PROXY_HEADER"),
		RequestTimeout: r.duration("REQUEST_TIMEOUT"), UserCacheTTL: r.duration("USER_CACHE_TTL"), StoreTimeout: r.duration("STORE_TIMEOUT"),
		ShutdownTimeout: r.duration("SHUTDOWN_TIMEOUT"), ShutdownDrain: r.nonNegative("SHUTDOWN_DRAIN"), PushLease: r.duration("PUSH_LEASE"),
		BodyLimit:     r.integer("BODY_LIMIT", 1024, 64<<20),
		RateLimitUser: r.integer("RATE_LIMIT_USER", 0, 1_000_000),
		RateLimitIP:   r.integer("RATE_LIMIT_IP", 0, 10_000_000),
	}
	r.integer("PORT", 0, 65535)
	r.modes(&c)
	r.logging(&c)
	r.stores(&c)
	r.signIn(&c)
	return c, errors.Join(r.errs...)
}

// reader reads settings from the environment, with their defaults, and
// gathers what is wrong with them so that all are told at once.
type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) get(name string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	for _, s := range settings {
		if s.name == name {
			return s.def
		}
	}
	return ""
}

func (r *reader) bad(name, why string) { r.errs = append(r.errs, fmt.Errorf("%s %s", name, why)) }

func (r *reader) duration(name string) time.Duration {
	d, err := time.ParseDuration(r.get(name))
	if err != nil || d <= 0 {
		r.bad(name, "must be a positive duration such as 500ms or 5s")
	}
	return d
}

func (r *reader) nonNegative(name string) time.Duration {
	d, err := time.ParseDuration(r.get(name))
	if err != nil || d < 0 {
		r.bad(name, "must be a duration such as 0s or 3s")
	}
	return d
}

func (r *reader) integer(name string, min, max int) int {
	n, err := strconv.Atoi(r.get(name))
	if err != nil || n < min || n > max {
		r.bad(name, fmt.Sprintf("must be a whole number from %d to %d", min, max))
	}
	return n
}

// modes reads dev mode and what it changes: how data reaches the disk,
// quiet hours, where the service listens.
func (r *reader) modes(c *config) {
	switch v := strings.ToLower(r.get("DEV_MODE")); v {
	case "":
		c.DevMode = c.MongoURI == ""
	case "true", "1", "yes":
		c.DevMode = true
	case "false", "0", "no":
	default:
		r.bad("DEV_MODE", "must be true or false")
	}
	switch r.get("DATA_SYNC") {
	case "normal":
	case "full":
		c.DataSyncFull = true
	default:
		r.bad("DATA_SYNC", "must be normal or full")
	}
	switch r.get("QUIET_HOURS") {
	case "on":
	case "off":
		c.NoQuietHours = true
		if !c.DevMode {
			r.bad("QUIET_HOURS", "off is accepted in dev mode only: people are not woken at night")
		}
	default:
		r.bad("QUIET_HOURS", "must be on or off")
	}
	c.Host = r.get("HOST")
	if c.Host == "" {
		c.Host = "0.0.0.0"
		if c.DevMode {
			c.Host = "127.0.0.1"
		}
	}
}

func (r *reader) logging(c *config) {
	c.LogFormat = strings.ToLower(r.get("LOG_FORMAT"))
	if c.LogFormat == "" {
		c.LogFormat = "json"
		if c.DevMode {
			c.LogFormat = "text"
		}
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		r.bad("LOG_FORMAT", "must be json or text")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		r.bad("LOG_LEVEL", "must be debug, info, warn or error")
	}
}

func (r *reader) stores(c *config) {
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		r.bad("MONGODB_URI", "must start with mongodb:// or mongodb+srv://")
	}
	if seeds := r.get("REDIS_CLUSTER"); seeds != "" {
		if c.RedisURL != "" {
			r.bad("REDIS_CLUSTER", "and REDIS_URL are alternatives: set one")
		}
		for _, a := range strings.Split(seeds, ",") {
			a = strings.TrimSpace(a)
			if _, port, ok := strings.Cut(a, ":"); !ok || port == "" {
				r.bad("REDIS_CLUSTER", "must list host:port addresses separated by commas")
				break
			}
			c.RedisCluster = append(c.RedisCluster, a)
		}
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			r.bad("REDIS_URL", "must look like redis://host:6379/0")
		}
	}
}

// signIn checks the secrets and who may sign in.
func (r *reader) signIn(c *config) {
	if c.DevTokenSecret != "" && len(c.DevTokenSecret) < 32 {
		r.bad("DEV_TOKEN_SECRET", "must be at least 32 bytes")
	}
	if c.SessionCodeSecret != "" && len(c.SessionCodeSecret) < 32 {
		r.bad("SESSION_CODE_SECRET", "must be at least 32 bytes")
	}
	if !c.DevMode && c.FirebaseProject == "" {
		r.bad("FIREBASE_PROJECT_ID", "is needed outside dev mode: without it nobody can sign in (or set DEV_MODE=true)")
	}
	if !c.DevMode && strings.TrimSpace(r.getenv("FIREBASE_AUTH_EMULATOR_HOST")) != "" {
		// The Admin SDK then skips the signature check: any token, alg:none
		// included, would sign anyone in.
		r.bad("FIREBASE_AUTH_EMULATOR_HOST", "turns off the signature check of sign-in tokens; it is refused outside dev mode")
	}
}

// logValues lists the settings for the start-up log, secrets masked.
func logValues(getenv func(string) string) []any {
	var out []any
	for _, s := range settings {
		v := getenv(s.name)
		switch {
		case v == "":
			continue
		case s.secret:
			v = "****"
		case s.name == "MONGODB_URI" || s.name == "REDIS_URL":
			v = maskURL(v)
		}
		out = append(out, s.name, v)
	}
	return out
}

// maskURL hides the password of a connection string.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "****"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "****")
	}
	return u.String()
}

// printSettings writes the settings as the README's Markdown table.
func printSettings(w io.Writer) {
	fmt.Fprintln(w, "| variable | default | meaning |")
	fmt.Fprintln(w, "| --- | --- | --- |")
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "(unset)"
		}
		fmt.Fprintf(w, "| `%s` | `%s` | %s |\n", s.name, def, s.help)
	}
}
