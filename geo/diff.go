package geo

import (
	"cmp"
	"slices"
)

// UnitChanges is what changed between two lists of units.
type UnitChanges struct {
	From, To string // versions
	Added    []UnitChange
	Renamed  []UnitChange // name, full name, kind or province changed
	Merged   []UnitChange // the code is gone; its area is now in Into
	Removed  []UnitChange // the code is gone and no unit of the new list covers its area
}

// UnitChange is one unit's change. Level is "province" or "commune".
type UnitChange struct {
	Level, Code string
	Before      string // full name in the old list ("" when added)
	After       string // full name in the new list ("" when gone)
	Into        string // merged: the code now covering the area
}

// Empty reports whether nothing changed.
func (c UnitChanges) Empty() bool {
	return len(c.Added)+len(c.Renamed)+len(c.Merged)+len(c.Removed) == 0
}

// DiffUnits compares an old list with a new one. A commune code that is gone
// is merged into the commune of the new list whose outline holds a point
// inside its old outline (a merged unit keeps one of the old codes, so the
// area tells where it went, not the code); a province code that is gone is
// merged into the province that most of its old communes now belong to.
func DiffUnits(old, next *Units) UnitChanges {
	out := UnitChanges{From: old.Version, To: next.Version}
	for _, p := range old.provinces {
		np, ok := next.Province(p.Code)
		switch {
		case !ok:
			ch := UnitChange{Level: "province", Code: p.Code, Before: p.FullName, Into: provinceTaking(p, next)}
			if ch.Into == "" {
				out.Removed = append(out.Removed, ch)
			} else {
				out.Merged = append(out.Merged, ch)
			}
		case np.FullName != p.FullName || np.Kind != p.Kind:
			out.Renamed = append(out.Renamed, UnitChange{Level: "province", Code: p.Code, Before: p.FullName, After: np.FullName})
		}
	}
	for _, p := range next.provinces {
		if _, ok := old.Province(p.Code); !ok {
			out.Added = append(out.Added, UnitChange{Level: "province", Code: p.Code, After: p.FullName})
		}
	}
	for _, c := range sortedCommunes(old) {
		nc, ok := next.Commune(c.Code)
		switch {
		case !ok:
			ch := UnitChange{Level: "commune", Code: c.Code, Before: c.FullName}
			if pt, found := old.InsidePoint(c.Code); found {
				ch.Into, _ = next.Locate(pt)
			}
			if ch.Into == "" {
				out.Removed = append(out.Removed, ch)
			} else {
				ch.After = next.communes[ch.Into].FullName
				out.Merged = append(out.Merged, ch)
			}
		case nc.FullName != c.FullName || nc.Kind != c.Kind || nc.ProvinceCode != c.ProvinceCode:
			out.Renamed = append(out.Renamed, UnitChange{Level: "commune", Code: c.Code, Before: c.FullName, After: nc.FullName})
		}
	}
	for _, c := range sortedCommunes(next) {
		if _, ok := old.Commune(c.Code); !ok {
			out.Added = append(out.Added, UnitChange{Level: "commune", Code: c.Code, After: c.FullName})
		}
	}
	return out
}

func sortedCommunes(u *Units) []Commune {
	out := make([]Commune, 0, len(u.communes))
	for _, c := range u.communes {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Commune) int { return cmp.Compare(a.Code, b.Code) })
	return out
}

// provinceTaking is the province of the new list holding most of p's old
// communes (by code), or "" if none of them is left.
func provinceTaking(p Province, next *Units) string {
	votes := map[string]int{}
	best := ""
	for _, code := range p.Communes {
		if c, ok := next.Commune(code); ok {
			votes[c.ProvinceCode]++
			if best == "" || votes[c.ProvinceCode] > votes[best] ||
				(votes[c.ProvinceCode] == votes[best] && c.ProvinceCode < best) {
				best = c.ProvinceCode
			}
		}
	}
	return best
}
