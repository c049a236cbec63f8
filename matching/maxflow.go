package matching

// edges is a list of capacitated edges as a network is put together.
type edges struct {
	eu, ev []int32
	ecap   []int32
}

func makeEdges(hint int) edges {
	return edges{eu: make([]int32, 0, hint), ev: make([]int32, 0, hint), ecap: make([]int32, 0, hint)}
}

func (es *edges) add(u, v int, capacity int32) int {
	es.eu = append(es.eu, int32(u))
	es.ev = append(es.ev, int32(v))
	es.ecap = append(es.ecap, capacity)
	return len(es.eu) - 1
}

// resNet is the residual network of edges in compressed rows: the arcs
// out of v are first[v]..first[v+1]-1, side by side, which is what keeps
// scans fast, its edges' forward arcs before fwdEnd[v] and the reverse
// arcs of edges into v after; rev is an arc's twin and fwd[e] edge e's
// forward arc.
type resNet struct {
	first, fwdEnd, to, rev, rcap []int32
	fwd                          []int32
}

// layOut builds the residual network of es, with no flow, on n nodes.
func (es *edges) layOut(n int) resNet {
	m := len(es.eu)
	r := resNet{first: make([]int32, n+1), fwdEnd: make([]int32, n)}
	out := make([]int32, n)
	for e := range m {
		r.first[es.eu[e]+1]++
		r.first[es.ev[e]+1]++
		out[es.eu[e]]++
	}
	for v := range n {
		r.first[v+1] += r.first[v]
	}
	fpos, rpos := make([]int32, n), make([]int32, n)
	for v := range n {
		fpos[v] = r.first[v]
		r.fwdEnd[v] = r.first[v] + out[v]
		rpos[v] = r.fwdEnd[v]
	}
	r.to, r.rev, r.rcap = make([]int32, 2*m), make([]int32, 2*m), make([]int32, 2*m)
	r.fwd = make([]int32, m)
	for e := range m {
		u, v := es.eu[e], es.ev[e]
		a, b := fpos[u], rpos[v]
		fpos[u]++
		rpos[v]++
		r.to[a], r.to[b] = v, u
		r.rev[a], r.rev[b] = b, a
		r.rcap[a] = es.ecap[e]
		r.fwd[e] = a
	}
	return r
}

// flow is the flow on edge e.
func (r *resNet) flow(e int) int32 { return r.rcap[r.rev[r.fwd[e]]] }

// maxFlow is Dinic's maximum flow on a residual network, from the flow it
// holds: breadth-first levels from s, then blocking flows along arcs that
// go one level up, until t is out of reach.
type maxFlow struct {
	resNet
	level, cur, queue []int32
}

func newMaxFlow(r resNet) *maxFlow {
	n := len(r.first) - 1
	return &maxFlow{resNet: r, level: make([]int32, n), cur: make([]int32, n), queue: make([]int32, 0, n)}
}

// run raises the flow from s to t to a maximum and returns what it added.
func (d *maxFlow) run(s, t int32) int64 {
	var total int64
	for d.levels(s, t) {
		copy(d.cur, d.first[:len(d.cur)])
		for {
			f := d.push(s, t, 1<<62)
			if f == 0 {
				break
			}
			total += f
		}
	}
	return total
}

func (d *maxFlow) levels(s, t int32) bool {
	for i := range d.level {
		d.level[i] = -1
	}
	d.level[s] = 0
	d.queue = append(d.queue[:0], s)
	for k := 0; k < len(d.queue); k++ {
		v := d.queue[k]
		for a := d.first[v]; a < d.first[v+1]; a++ {
			if w := d.to[a]; d.rcap[a] > 0 && d.level[w] < 0 {
				d.level[w] = d.level[v] + 1
				d.queue = append(d.queue, w)
			}
		}
	}
	return d.level[t] >= 0
}

// push sends up to limit from v to t along level arcs and returns how much
// went. A node that can send no more is taken off its level.
func (d *maxFlow) push(v, t int32, limit int64) int64 {
	if v == t {
		return limit
	}
	var sent int64
	for ; d.cur[v] < d.first[v+1]; d.cur[v]++ {
		a := d.cur[v]
		w := d.to[a]
		if d.rcap[a] <= 0 || d.level[w] != d.level[v]+1 {
			continue
		}
		got := d.push(w, t, min(limit-sent, int64(d.rcap[a])))
		if got > 0 {
			d.rcap[a] -= int32(got)
			d.rcap[d.rev[a]] += int32(got)
			sent += got
			if sent == limit {
				return sent
			}
		}
	}
	d.level[v] = -1
	return sent
}
