// Package api is the HTTP face of the service: the Fiber app that the mobile
// app, the branch dashboard and partner scripts talk to. It owns routing,
// authentication and the rule of deny-by-default access, request decoding
// with limits, the mapping of domain errors to HTTP errors with Vietnamese
// and English messages, idempotent retries, rate limits, metrics and the
// OpenAPI description. Domain logic lives in the domain packages.
package api
