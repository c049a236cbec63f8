// Package geo turns places into H3 cells and back into distances: the only
// package that imports H3. It will hold the resolution choices, ring walks
// sized from a travel radius, great-circle distance and the check that a
// point lies inside Vietnam's land border. It does no I/O. Exact
// coordinates never leave it: callers keep cells.
package geo
