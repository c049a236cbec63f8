package matching

import (
	"container/heap"
	"math"
)

// flowNet is a min-cost flow network with integer capacities and costs.
// solve finds a maximum flow from s to t of least cost (the primal-dual
// method: Dijkstra with node potentials finds the shortest augmenting
// distances, then a blocking flow is pushed along arcs of zero reduced cost,
// until t cannot be reached). Costs may be negative on arcs out of a DAG's
// start as long as the initial potentials make reduced costs non-negative;
// initPotentials does that for the bipartite networks built here.
type flowNet struct {
	head            []int32
	to, next        []int32
	cap             []int32
	cost            []int64
	pot, dist       []int64
	level, iterator []int32
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
type pq []pqItem

func (p pq) Len() int           { return len(p) }
func (p pq) Less(i, j int) bool { return p[i].d < p[j].d }
func (p pq) Swap(i, j int)      { p[i], p[j] = p[j], p[i] }
func (p *pq) Push(x any)        { *p = append(*p, x.(pqItem)) }
func (p *pq) Pop() any          { o := *p; it := o[len(o)-1]; *p = o[:len(o)-1]; return it }

// dijkstra computes reduced shortest distances from s; false if t is not
// reachable.
func (f *flowNet) dijkstra(s, t int) bool {
	n := len(f.head)
	for i := 0; i < n; i++ {
		f.dist[i] = inf
	}
	f.dist[s] = 0
	h := &pq{{int32(s), 0}}
	for h.Len() > 0 {
		it := heap.Pop(h).(pqItem)
		u := it.node
		if it.d > f.dist[u] {
			continue
		}
		for e := f.head[u]; e >= 0; e = f.next[e] {
			if f.cap[e] <= 0 {
				continue
			}
			v := f.to[e]
			nd := it.d + f.cost[e] + f.pot[u] - f.pot[v]
			if nd < f.dist[v] {
				f.dist[v] = nd
				heap.Push(h, pqItem{v, nd})
			}
		}
	}
	return f.dist[t] < inf
}

// solve pushes a maximum flow of minimum cost from s to t and returns its
// value and cost. pot must hold feasible initial potentials.
func (f *flowNet) solve(s, t int) (int64, int64) {
	n := len(f.head)
	f.dist = make([]int64, n)
	f.level = make([]int32, n)
	f.iterator = make([]int32, n)
	var total, cost int64
	for f.dijkstra(s, t) {
		for i := 0; i < n; i++ {
			if f.dist[i] < inf {
				f.pot[i] += f.dist[i]
			}
		}
		// Blocking flow on the admissible subgraph (reduced cost 0), by BFS
		// levels and DFS with current-arc pointers, as in Dinic's algorithm.
		for f.bfsAdmissible(s, t) {
			copy(f.iterator, f.head)
			for {
				pushed := f.dfs(s, t, math.MaxInt32)
				if pushed == 0 {
					break
				}
				total += int64(pushed)
				cost += int64(pushed) * (f.pot[t] - f.pot[s])
			}
		}
	}
	return total, cost
}

func (f *flowNet) admissible(e int32, u int32) bool {
	return f.cap[e] > 0 && f.cost[e]+f.pot[u]-f.pot[f.to[e]] == 0
}

func (f *flowNet) bfsAdmissible(s, t int) bool {
	for i := range f.level {
		f.level[i] = -1
	}
	f.level[s] = 0
	queue := []int32{int32(s)}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for e := f.head[u]; e >= 0; e = f.next[e] {
			v := f.to[e]
			if f.level[v] < 0 && f.admissible(e, u) {
				f.level[v] = f.level[u] + 1
				queue = append(queue, v)
			}
		}
	}
	return f.level[t] >= 0
}

func (f *flowNet) dfs(u, t int, limit int32) int32 {
	if u == t {
		return limit
	}
	for ; f.iterator[u] >= 0; f.iterator[u] = f.next[f.iterator[u]] {
		e := f.iterator[u]
		v := int(f.to[e])
		if f.level[v] != f.level[u]+1 || !f.admissible(e, int32(u)) {
			continue
		}
		if d := f.dfs(v, t, min(limit, f.cap[e])); d > 0 {
			f.cap[e] -= d
			f.cap[e^1] += d
			return d
		}
	}
	return 0
}
