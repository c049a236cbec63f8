// Package geo turns places into H3 cells and cells into distances, and knows
// Vietnam's official administrative units (Units): their codes, names and
// commune outlines. It is the only package that imports H3, and it does no
// I/O: a list given by setting is read by the caller and handed in as bytes.
//
// Exact coordinates enter here and stop here: callers get a Cell and the
// commune of the point, and keep those. A household's location is personal
// data (Law 91/2025/QH15), so the service stores and logs only cells, at
// HomeResolution (about 0.1 km²).
//
// The border check is the union of the communes' outlines with a small
// buffer on coasts and islands (CoastBufferKm) and none across a land
// border (Natural Earth's outline of the country tells which edges those
// are, see border/extract.py), so that a point in Laos, Cambodia, China or
// the open sea is refused and every inhabited island is accepted.
package geo
