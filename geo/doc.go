// Package geo turns places into H3 cells and cells into distances. It is the
// only package that imports H3, and it does no I/O.
//
// Exact coordinates enter here and stop here: callers get a Cell and keep
// that. A household's location is personal data (Law 91/2025/QH15), so the
// service stores and logs only cells, at HomeResolution (about 0.1 km²).
// The package also knows Vietnam's land border (Natural Earth 1:10m, see
// border/extract.py), so that a point in Laos, Cambodia, China or the open
// sea is refused.
package geo
