// Package matching pairs volunteer mentors with nearby learners and
// households under the "1 kèm 5" rule, in this order of importance: serve
// as many learners as possible (a mentor serves only within both its travel
// radius and the request's, with free capacity); then leave as few mentors
// below five learners as possible; then travel as little as possible.
//
// Each help request is matched online at once, and whole areas in batch
// (an exact min-cost flow) as proposals an admin applies. Every match is
// explained. A mentor is never over-assigned, even under concurrent
// requests on several instances: each unit of capacity is a slot document
// with a unique _id ("mentor:index"), and a reservation is the insert of
// slot documents, which a unique key admits once (on every store, even
// one that loses concurrent updates of a document).
package matching
