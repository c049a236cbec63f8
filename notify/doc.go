// Package notify reminds people through Firebase Cloud Messaging: new
// matches, sessions tomorrow and in one hour, sessions not yet confirmed,
// inactive learners, mentors under five learners, unserved requests, badges
// and campaign broadcasts.
//
// Every notification is first written to MongoDB (insert-only, under an id
// derived from what it is about, so asking twice schedules it once); a
// Redis queue derived from MongoDB orders what is due, and a worker on any
// number of instances claims due ones with a lease, sends them in batches of
// up to 500 and records each outcome (insert-only again). Quiet hours, a
// daily cap with a morning digest, collapse keys, a time to live and FCM's
// error codes are applied here, in one place.
package notify
