package matching

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// randomNetwork is a network of n nodes with random edges and supplies that
// some flow meets: flow is sent along random walks, and where each walk
// starts and ends gives the supplies.
func randomNetwork(r *rand.Rand, n int) (eu, ev, capacity []int32, cost []int64, supply []int64) {
	for range 2*n + r.IntN(4*n) {
		u, v := r.IntN(n), r.IntN(n)
		if u == v {
			continue
		}
		eu, ev = append(eu, int32(u)), append(ev, int32(v))
		capacity = append(capacity, int32(1+r.IntN(8)))
		cost = append(cost, int64(r.IntN(60)))
	}
	supply = make([]int64, n)
	used := make([]int32, len(eu))
	for range n {
		at := r.IntN(n)
		d := int32(1 + r.IntN(3))
		start := at
		for range 1 + r.IntN(5) {
			var next []int
			for e := range eu {
				if int(eu[e]) == at && capacity[e]-used[e] >= d {
					next = append(next, e)
				}
			}
			if len(next) == 0 {
				break
			}
			e := next[r.IntN(len(next))]
			used[e] += d
			at = int(ev[e])
		}
		supply[start] += int64(d)
		supply[at] -= int64(d)
	}
	return eu, ev, capacity, cost, supply
}

// netFlow checks that every edge's flow is within its capacity and
// returns what each node sends out in all (less what it takes in).
func netFlow(t *testing.T, k, n int, eu, ev, capacity []int32, flow func(e int) int32) []int64 {
	t.Helper()
	net := make([]int64, n)
	for e := range eu {
		f := flow(e)
		if f < 0 || f > capacity[e] {
			t.Fatalf("network %d: edge %d carries %d of %d", k, e, f, capacity[e])
		}
		net[eu[e]] += int64(f)
		net[ev[e]] -= int64(f)
	}
	return net
}

// TestCostScalingIsOptimal compares csNet with successive shortest paths
// (the reference solver's flowNet) on 500 random networks, cycles and
// arcs both ways included: the same least cost, and a flow within the
// capacities that meets every supply.
func TestCostScalingIsOptimal(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for k := range 500 {
		n := 3 + r.IntN(25)
		eu, ev, capacity, cost, supply := randomNetwork(r, n)
		cs := newCSNet(n, len(eu))
		ref := newFlowNet(n, len(eu))
		for e := range eu {
			cs.addEdge(int(eu[e]), int(ev[e]), capacity[e], cost[e])
			ref.addArc(int(eu[e]), int(ev[e]), capacity[e], cost[e])
		}
		copy(cs.supply, supply)
		copy(ref.balance, supply)
		if err := cs.solve(nil); err != nil {
			t.Fatalf("network %d: %v", k, err)
		}
		ref.build()
		for v, b := range supply {
			if b > 0 && !ref.augment(v) {
				t.Fatalf("network %d: the reference found the supplies infeasible", k)
			}
		}
		var want int64
		for e := range eu {
			want += cost[e] * int64(ref.flow(e))
		}
		net := netFlow(t, k, n, eu, ev, capacity, cs.flow)
		for v := range n {
			if net[v] != supply[v] {
				t.Fatalf("network %d: node %d sends %d, its supply is %d", k, v, net[v], supply[v])
			}
		}
		if got := cs.totalCost(); got != want {
			t.Fatalf("network %d (%d nodes, %d edges): cost scaling %d, successive shortest paths %d", k, n, len(eu), got, want)
		}
		if lb := cs.lowerBound(); lb > float64(want)+1e-9 {
			t.Fatalf("network %d: lower bound %v above the optimum %d", k, lb, want)
		}
	}
}

// TestMaxFlowIsMaximum checks Dinic's flow on 500 random networks by its
// certificate: it respects capacities and conservation, and the nodes s
// still reaches in the residual network cut off exactly as much capacity
// as the flow. Half the networks go on from a first flow after some
// capacities are raised, as Solve raises the room beyond five.
func TestMaxFlowIsMaximum(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for k := range 500 {
		n := 2 + r.IntN(30)
		eu, ev, capacity, _, _ := randomNetwork(r, n)
		es := makeEdges(len(eu))
		for e := range eu {
			es.add(int(eu[e]), int(ev[e]), capacity[e])
		}
		s, t1 := int32(0), int32(n-1)
		mf := newMaxFlow(es.layOut(n))
		total := mf.run(s, t1)
		if k%2 == 1 {
			for e := range eu {
				if r.IntN(3) == 0 {
					more := int32(r.IntN(5))
					capacity[e] += more
					mf.rcap[mf.fwd[e]] += more
				}
			}
			total += mf.run(s, t1)
		}
		net := netFlow(t, k, n, eu, ev, capacity, mf.flow)
		for v := range int32(n) {
			if v != s && v != t1 && net[v] != 0 {
				t.Fatalf("network %d: node %d does not conserve flow (%d)", k, v, net[v])
			}
		}
		if net[s] != total {
			t.Fatalf("network %d: s sends %d, the flow is %d", k, net[s], total)
		}
		mf.levels(s, t1) // marks what s reaches in the residual network
		if mf.level[t1] >= 0 {
			t.Fatalf("network %d: t still reachable after the maximum flow", k)
		}
		var cut int64
		for e := range eu {
			if mf.level[eu[e]] >= 0 && mf.level[ev[e]] < 0 {
				cut += int64(capacity[e])
			}
		}
		if cut != total {
			t.Fatalf("network %d: flow %d, cut %d", k, total, cut)
		}
	}
}

// TestCostScalingInfeasible: supplies no flow can meet are an error, not
// a crash (runs are solved in the background of a serving process).
func TestCostScalingInfeasible(t *testing.T) {
	f := newCSNet(3, 1)
	f.addEdge(0, 1, 1, 5)
	f.supply[0], f.supply[2] = 2, -2 // node 2 cannot be reached
	if err := f.solve(nil); !errors.Is(err, errInfeasible) {
		t.Fatalf("got %v, want errInfeasible", err)
	}
}
