// Package store opens the two stores the service keeps its state in, MongoDB
// (or a server standing in for it) and Redis, with the short timeouts that
// let a dead store fail a request fast, and tells callers when an error
// means "the store is down" rather than "the data says no". Where servers
// differ (TTL indexes, the best way to read by _id), its helpers pick the
// query shape by the server found (BackendOf), so that domain code never
// names one. The embedded stand-in itself lives in store/ferret.
//
// It holds no domain logic: each domain package keeps its own collections and
// keys in its own mongo.go / redis.go.
package store
