// Package gamify will keep the immutable points ledger, badges, levels and
// streaks, campaigns with windows and multipliers, and the Redis
// leaderboards of volunteers, branches and communes that are rebuilt from
// the ledger.
package gamify
