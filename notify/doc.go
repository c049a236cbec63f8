// Package notify sends push reminders through Firebase Cloud Messaging. For
// now it holds the sender boundary: the real Firebase client in production
// and a logging sender when no credentials are given. The durable outbox,
// quiet hours and retries come with it later.
package notify
