package matching

import "math"

// flowNet is a min-cost flow network with integer capacities and costs,
// solved by successive shortest paths (augmentFrom). Reduced costs
// c(u,v) + pot(u) - pot(v) must be non-negative at the start; the caller
// sets pot so (arcs into the sink may cost less than zero).
type flowNet struct {
	head      []int32
	to, next  []int32
	cap       []int32
	cost      []int64
	pot, dist []int64
	pred      []int32 // arc by which the search reached each node
	touched   []int32
	heap      pq
}

func newFlowNet(nodes, arcsHint int) *flowNet {
	f := &flowNet{head: make([]int32, nodes)}
	for i := range f.head {
		f.head[i] = -1
	}
	f.to = make([]int32, 0, 2*arcsHint)
	f.next = make([]int32, 0, 2*arcsHint)
	f.cap = make([]int32, 0, 2*arcsHint)
	f.cost = make([]int64, 0, 2*arcsHint)
	return f
}

// addArc adds u->v and its residual twin; it returns the arc's index (the
// twin is index^1).
func (f *flowNet) addArc(u, v int, capacity int32, cost int64) int {
	id := len(f.to)
	f.to = append(f.to, int32(v), int32(u))
	f.cap = append(f.cap, capacity, 0)
	f.cost = append(f.cost, cost, -cost)
	f.next = append(f.next, f.head[u], f.head[v])
	f.head[u], f.head[v] = int32(id), int32(id+1)
	return id
}

// flow is the flow on arc id (the capacity of its twin).
func (f *flowNet) flow(id int) int32 { return f.cap[id^1] }

const inf = math.MaxInt64 / 4

type pqItem struct {
	node int32
	d    int64
}

// pq is a binary min-heap by d, typed so that pushes do not allocate (the
// container/heap interface boxes every item).
type pq []pqItem

func (p *pq) push(it pqItem) {
	h := append(*p, it)
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].d <= h[i].d {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
	*p = h
}

func (p *pq) pop() pqItem {
	h := *p
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, r, small := 2*i+1, 2*i+2, i
		if l < n && h[l].d < h[small].d {
			small = l
		}
		if r < n && h[r].d < h[small].d {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	*p = h
	return top
}

// augmentFrom sends up to supply units from node src to t, one shortest
// augmenting path at a time (successive shortest paths, processing one
// source with excess at a time, as Ahuja, Magnanti and Orlin present it).
// Each Dijkstra stops when t is settled at reduced distance D, and only
// the nodes it settled get new potentials, π(v) -= D - d(v), which keeps
// every reduced cost non-negative; so the work stays near src on a spatial
// network. It returns the units sent; fewer than supply means t cannot be
// reached any more, and then never will be from src.
func (f *flowNet) augmentFrom(src, t int, supply int32) int32 {
	sent := int32(0)
	for sent < supply {
		D, ok := f.shortest(src, t)
		if !ok {
			f.reset()
			return sent
		}
		for _, v := range f.touched {
			if d := f.dist[v]; d < D {
				f.pot[v] -= D - d
			}
		}
		// Bottleneck along the path, then push.
		push := supply - sent
		for v := int32(t); v != int32(src); v = f.to[f.pred[v]^1] {
			push = min(push, f.cap[f.pred[v]])
		}
		for v := int32(t); v != int32(src); v = f.to[f.pred[v]^1] {
			e := f.pred[v]
			f.cap[e] -= push
			f.cap[e^1] += push
		}
		sent += push
		f.reset()
	}
	return sent
}

// shortest runs Dijkstra on reduced costs from src until t is settled.
func (f *flowNet) shortest(src, t int) (int64, bool) {
	f.dist[src] = 0
	f.touched = append(f.touched, int32(src))
	f.heap = append(f.heap[:0], pqItem{int32(src), 0})
	for len(f.heap) > 0 {
		it := f.heap.pop()
		u := it.node
		if it.d > f.dist[u] {
			continue
		}
		if int(u) == t {
			return it.d, true
		}
		for e := f.head[u]; e >= 0; e = f.next[e] {
			if f.cap[e] <= 0 {
				continue
			}
			v := f.to[e]
			nd := it.d + f.cost[e] + f.pot[u] - f.pot[v]
			if nd < f.dist[v] {
				if f.dist[v] == inf {
					f.touched = append(f.touched, v)
				}
				f.dist[v] = nd
				f.pred[v] = e
				f.heap.push(pqItem{v, nd})
			}
		}
	}
	return 0, false
}

// reset forgets the distances of the last search, touching only the nodes
// it reached.
func (f *flowNet) reset() {
	for _, v := range f.touched {
		f.dist[v] = inf
	}
	f.touched = f.touched[:0]
}

// prepare allocates the search state; pot must be set before.
func (f *flowNet) prepare() {
	n := len(f.head)
	f.dist = make([]int64, n)
	for i := range f.dist {
		f.dist[i] = inf
	}
	f.pred = make([]int32, n)
}
