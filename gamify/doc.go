// Package gamify keeps the immutable points ledger, campaigns with windows
// and multipliers, badges, levels and streaks, and the Redis leaderboards of
// volunteers, branches and communes.
//
// The ledger (MongoDB collection "ledger") is the truth: one insert-only
// entry per award, whose _id is the award's source key ("session:<id>",
// "cert:<household>#<member>", ...), so an award is made exactly once
// however often its fact is reported and however many instances report it;
// a unique _id holds on every store, even one that loses concurrent
// updates of a document. Each
// entry carries the campaign credits it earned, so the boards are a pure
// function of the ledger.
//
// The boards in Redis are derived data. They live under a generation
// number; a rebuild fills the next generation from the ledger while awards
// go on, then switches to it (see boards.go). No command touches two keys,
// so every key works on Redis Cluster without hash tags.
package gamify
