// Package matching will pair volunteer mentors with nearby learners and
// households under the "1 kèm 5" rule: serve as many learners as possible,
// then leave as few mentors under five, then travel as little as possible.
// It will match each help request online, solve whole areas in batch,
// explain every match and never over-assign a mentor.
package matching
