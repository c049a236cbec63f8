// Package seed makes synthetic but plausible data for demos and benchmarks
// in a real province: its official communes (a ward first, as the denser
// town), villages clustered along valleys inside each commune's outline,
// minority-language villages, union branches, and about one volunteer per
// 20 households, each placed inside their own commune. Generate is pure and deterministic for a
// seed; Write puts a plan into the registry through people.Service, the
// same code the API uses.
package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"daisuso/geo"
	"daisuso/people"
)

// Config sizes a province.
type Config struct {
	Seed       uint64
	Households int // in all; about 5,000 for `make demo`, 100,000 for benchmarks
	// Communes is how many of the province's communes get people; 0: one
	// per 800 households, at least 3; never more than the province has.
	Communes int
	// Province is the official code; "": Điện Biên ("11"), a mountain
	// province of minority villages the programme is for.
	Province string
	Units    *geo.Units // nil: the embedded list
}

// DefaultProvince is the province of the demo: Điện Biên.
const DefaultProvince = "11"

// Plan is a generated province.
type Plan struct {
	ProvinceName, ProvinceCode string
	Communes                   []Commune
	Volunteers                 []Volunteer
	Households                 []Household
}

// Commune is a commune union with its branches and villages.
type Commune struct {
	Name, Code string
	Town       bool
	Branches   []string // names of its branches (chi đoàn)
	Villages   []Village
}

// Village is a cluster of houses sharing a language.
type Village struct {
	Name     string
	Centre   geo.Point
	RadiusKm float64
	Language string
}

// Volunteer is a mentor to register.
type Volunteer struct {
	Commune, Branch int // indexes into Communes and its Branches
	Name, Phone     string
	Point           geo.Point
	Languages       []string
	Topics          []string
	Capacity        int
	RadiusKm        float64
}

// Household is a household to register.
type Household struct {
	Commune, Village int
	Point            geo.Point
	Phone            string // "" for a household without a phone
	Members          []people.Member
}

// ethnic groups of the generated villages: language, family names, male
// and female middle names.
type group struct {
	lang             string
	families         []string
	middleM, middleF []string
}

var groups = map[string]group{
	"vi":  {"vi", []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"}, []string{"Văn", "Đức", "Minh"}, []string{"Thị", "Ngọc", "Thu"}},
	"tay": {"tay", []string{"Hoàng", "Nông", "Lương", "Ma", "Hà", "Đinh"}, []string{"Văn"}, []string{"Thị"}},
	"tha": {"tha", []string{"Lò", "Cầm", "Lường", "Quàng", "Vì", "Tòng"}, []string{"Văn"}, []string{"Thị"}},
	"hmn": {"hmn", []string{"Giàng", "Sùng", "Thào", "Vàng", "Lý", "Hầu", "Mùa"}, []string{"A", "Seo", "Chứ"}, []string{"Thị", "Mỷ"}},
	"ium": {"ium", []string{"Bàn", "Triệu", "Đặng", "Lý", "Phùng"}, []string{"Văn", "Kim"}, []string{"Thị", "Mùi"}},
}

var (
	givenM   = []string{"An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Minh", "Nam", "Páo", "Pủa", "Sử", "Tráng", "Tuấn", "Vàng", "Chư", "Sềnh"}
	givenF   = []string{"Lan", "Mai", "Hoa", "Hương", "Dợ", "Mỷ", "Sua", "Pà", "Nhung", "Thảo", "Vân", "Xuân", "Chi", "Dung", "Lả"}
	villages = []string{"Nậm", "Bản", "Làng", "Khe", "Séo", "Tả", "Pả", "Cốc", "Mường", "Na", "Phìn", "Lùng"}
	places   = []string{"Hồ", "Thàng", "Chải", "Pao", "Sán", "Chư", "Mới", "Đồng", "Tiến", "Xèo", "Sài", "Bó"}
)

// Generate makes the plan of a province. The same Config gives the same plan.
// It panics on a province code the list does not have (a caller's defect).
func Generate(cfg Config) Plan {
	if cfg.Units == nil {
		cfg.Units = geo.EmbeddedUnits()
	}
	if cfg.Province == "" {
		cfg.Province = DefaultProvince
	}
	prov, ok := cfg.Units.Province(cfg.Province)
	if !ok {
		panic("seed: no province " + cfg.Province)
	}
	if cfg.Communes == 0 {
		cfg.Communes = max(3, cfg.Households/800)
	}
	cfg.Communes = min(cfg.Communes, len(prov.Communes))
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	g := &gen{r: r, cfg: cfg}
	p := Plan{ProvinceName: prov.FullName, ProvinceCode: prov.Code}
	// The first commune is the town, a ward if the province has one; the
	// rest are communes whose villages lie along valleys.
	codes := slices.Clone(prov.Communes)
	if i := slices.IndexFunc(codes, func(c string) bool { u, _ := cfg.Units.Commune(c); return u.Kind == "phuong" }); i > 0 {
		codes[0], codes[i] = codes[i], codes[0]
	}
	for i, code := range codes[:cfg.Communes] {
		unit, _ := cfg.Units.Commune(code)
		p.Communes = append(p.Communes, g.commune(unit, i == 0))
	}
	perCommune := distribute(cfg.Households, cfg.Communes, r)
	for ci, n := range perCommune {
		c := p.Communes[ci]
		perVillage := distribute(n, len(c.Villages), r)
		for vi, m := range perVillage {
			for range m {
				p.Households = append(p.Households, g.household(ci, vi, c.Code, c.Villages[vi]))
			}
		}
		// About one volunteer per 20 households, living where they do.
		for range max(1, n/20) {
			vi := r.IntN(len(c.Villages))
			p.Volunteers = append(p.Volunteers, g.volunteer(ci, r.IntN(len(c.Branches)), c, c.Villages[vi]))
		}
	}
	return p
}

type gen struct {
	r      *rand.Rand
	cfg    Config
	phones int
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

// offset moves p by dx km east and dy km north.
func offset(p geo.Point, dx, dy float64) geo.Point {
	return geo.Point{Lat: p.Lat + dy/110.57, Lng: p.Lng + dx/(111.32*math.Cos(p.Lat*math.Pi/180))}
}

// inside returns a draw that lies inside the commune's outline, drawing
// again if one falls outside (outlines are not boxes); fallback, a point
// known to be inside, if a hundred draws miss.
func (g *gen) inside(code string, fallback geo.Point, draw func() geo.Point) geo.Point {
	for range 100 {
		if p := draw(); g.in(code, p) {
			return p
		}
	}
	return fallback
}

func (g *gen) in(code string, p geo.Point) bool {
	got, ok := g.cfg.Units.Locate(p)
	return ok && got == code
}

func (g *gen) commune(unit geo.Commune, town bool) Commune {
	c := Commune{Code: unit.Code, Name: unit.FullName, Town: town}
	centre, _ := g.cfg.Units.InsidePoint(unit.Code)
	if town {
		for k := range 4 {
			c.Villages = append(c.Villages, Village{Name: fmt.Sprintf("Tổ dân phố %d", k+1), Language: "vi", RadiusKm: 0.8,
				Centre: g.inside(unit.Code, centre, func() geo.Point { return offset(centre, g.r.Float64()*2-1, g.r.Float64()*2-1) })})
		}
		c.Branches = []string{"Chi đoàn tổ dân phố 1", "Chi đoàn trường THPT số 1", "Chi đoàn Công an phường"}
		return c
	}
	// A valley: a line of 6-12 km from a random point of the commune;
	// villages every 1-2 km along it (those that stay inside the commune),
	// lowland languages at its mouth and highland ones up it.
	start := g.inside(unit.Code, centre, func() geo.Point {
		return offset(centre, (g.r.Float64()*2-1)*8, (g.r.Float64()*2-1)*8)
	})
	angle := g.r.Float64() * 2 * math.Pi
	length := 6 + g.r.Float64()*6
	lowland := []string{"vi", "tay", "tha"}[g.r.IntN(3)]
	highland := []string{"hmn", "ium"}[g.r.IntN(2)]
	for d := 0.0; d < length; d += 1 + g.r.Float64() {
		lang := lowland
		if d > length/2 {
			lang = highland
		}
		along := offset(start, d*math.Cos(angle), d*math.Sin(angle))
		if !g.in(unit.Code, along) {
			continue
		}
		c.Villages = append(c.Villages, Village{Name: "Thôn " + g.pick(villages) + " " + g.pick(places), Language: lang,
			RadiusKm: 0.3 + g.r.Float64()*0.3,
			Centre:   g.inside(unit.Code, along, func() geo.Point { return offset(along, g.r.NormFloat64()*0.3, g.r.NormFloat64()*0.3) })})
	}
	if len(c.Villages) == 0 {
		c.Villages = []Village{{Name: "Thôn " + g.pick(villages) + " " + g.pick(places), Language: lowland, RadiusKm: 0.5, Centre: start}}
	}
	c.Branches = []string{"Chi đoàn " + c.Villages[0].Name, "Chi đoàn trường PTDTBT THCS", "Chi đoàn " + c.Villages[len(c.Villages)-1].Name}
	return c
}

func (g *gen) name(lang string, male bool) string {
	gr := groups[lang]
	if male {
		return gr.families[g.r.IntN(len(gr.families))] + " " + g.pick(gr.middleM) + " " + g.pick(givenM)
	}
	return gr.families[g.r.IntN(len(gr.families))] + " " + g.pick(gr.middleF) + " " + g.pick(givenF)
}

func (g *gen) phone(prefix string) string {
	g.phones++
	return fmt.Sprintf("%s%07d", prefix, g.phones)
}

const year = 2026

func (g *gen) household(ci, vi int, code string, v Village) Household {
	h := Household{Commune: ci, Village: vi,
		Point: g.inside(code, v.Centre, func() geo.Point {
			return offset(v.Centre, g.r.NormFloat64()*v.RadiusKm/2, g.r.NormFloat64()*v.RadiusKm/2)
		})}
	if g.r.Float64() < 0.6 {
		h.Phone = g.phone("098")
	}
	headAge := 25 + g.r.IntN(50)
	head := g.member(v.Language, headAge, g.r.IntN(2) == 0, "")
	h.Members = append(h.Members, head)
	if g.r.Float64() < 0.8 {
		h.Members = append(h.Members, g.member(v.Language, headAge-3+g.r.IntN(7), g.r.IntN(2) == 0, ""))
	}
	if headAge < 55 {
		for range g.r.IntN(4) {
			h.Members = append(h.Members, g.member(v.Language, g.r.IntN(min(18, headAge-17)), g.r.IntN(2) == 0, head.Name))
		}
		if g.r.Float64() < 0.3 {
			h.Members = append(h.Members, g.member(v.Language, 62+g.r.IntN(25), g.r.IntN(2) == 0, ""))
		}
	}
	return h
}

func (g *gen) member(lang string, age int, male bool, guardian string) people.Member {
	age = max(0, age)
	m := people.Member{Name: g.name(lang, male), BirthYear: year - age, Language: lang, SelfConsent: age >= 7}
	if age < 16 {
		m.GuardianName = guardian
		m.Language = "vi" // children learn Vietnamese at school
	}
	switch {
	case age >= 60:
		m.Accessibility = append(m.Accessibility, "elderly")
		if lang != "vi" && g.r.Float64() < 0.4 {
			m.Accessibility = append(m.Accessibility, "low_literacy")
		}
		m.HasSmartphone = g.r.Float64() < 0.2
	case age >= 15:
		m.HasSmartphone = g.r.Float64() < 0.75
	}
	if g.r.Float64() < 0.04 {
		m.Accessibility = append(m.Accessibility, []string{"low_vision", "hearing", "mobility"}[g.r.IntN(3)])
	}
	if age >= 12 {
		for _, t := range people.CoreTopics {
			if g.r.Float64() < 0.35 {
				m.Needs = append(m.Needs, t)
			}
		}
		if len(m.Needs) == 0 {
			m.Needs = []string{people.CoreTopics[g.r.IntN(len(people.CoreTopics))]}
		}
	}
	return m
}

func (g *gen) volunteer(ci, bi int, c Commune, v Village) Volunteer {
	vol := Volunteer{Commune: ci, Branch: bi, Name: g.name(v.Language, g.r.IntN(2) == 0), Phone: g.phone("086"),
		Point: g.inside(c.Code, v.Centre, func() geo.Point {
			return offset(v.Centre, g.r.NormFloat64()*v.RadiusKm/2, g.r.NormFloat64()*v.RadiusKm/2)
		}),
		Capacity: []int{5, 8, 10, 10, 10, 12, 15, 20}[g.r.IntN(8)], RadiusKm: 2, Languages: []string{"vi"}}
	if !c.Town {
		vol.RadiusKm = []float64{2, 3, 5, 5, 8}[g.r.IntN(5)]
	}
	if v.Language != "vi" && g.r.Float64() < 0.6 {
		vol.Languages = append(vol.Languages, v.Language)
	}
	for _, t := range people.Topics {
		if g.r.Float64() < 0.6 {
			vol.Topics = append(vol.Topics, t.Code)
		}
	}
	if len(vol.Topics) == 0 {
		vol.Topics = []string{"smartphone_basics"}
	}
	return vol
}

// distribute splits n into k positive-ish shares of uneven size.
func distribute(n, k int, r *rand.Rand) []int {
	w := make([]float64, k)
	sum := 0.0
	for i := range w {
		w[i] = 0.5 + r.Float64()
		sum += w[i]
	}
	out := make([]int, k)
	left := n
	for i := range out {
		out[i] = int(float64(n) * w[i] / sum)
		left -= out[i]
	}
	for i := 0; left > 0; i = (i + 1) % k {
		out[i]++
		left--
	}
	return out
}
