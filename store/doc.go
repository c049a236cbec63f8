// Package store opens the two stores the service keeps its state in, MongoDB
// (or an embedded FerretDB standing in for it) and Redis, with the short
// timeouts that let a dead store fail a request fast, and tells callers when
// an error means "the store is down" rather than "the data says no".
//
// It holds no domain logic: each domain package keeps its own collections and
// keys in its own mongo.go / redis.go.
package store
