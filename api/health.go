package api

import (
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

type healthResponse struct {
	Status string `json:"status"`
}

func (a *API) healthz(c *fiber.Ctx) error {
	return c.JSON(healthResponse{Status: "ok"})
}

type storeState struct {
	State  string  `json:"state"` // "up" or "down"
	PingMS float64 `json:"ping_ms"`
	Error  string  `json:"error,omitempty"`
}

type readyResponse struct {
	Status string                `json:"status"` // "ready" or "unavailable"
	Stores map[string]storeState `json:"stores"`
}

// Pinger is a store that can say whether it answers.
type Pinger func(ctx context.Context) error

// readyTimeout bounds each store's ping: a readiness probe must answer fast.
const readyTimeout = 500 * time.Millisecond

func (a *API) readyz(c *fiber.Ctx) error {
	res := readyResponse{Status: "ready", Stores: map[string]storeState{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, ping := range a.deps.Stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
			defer cancel()
			start := time.Now()
			err := ping(ctx)
			st := storeState{State: "up", PingMS: float64(time.Since(start).Microseconds()) / 1000}
			if err != nil {
				st.State, st.Error = "down", "no answer"
				if ctx.Err() == nil {
					st.Error = "refused"
				}
				a.metrics.storeErrors.WithLabelValues(name).Inc()
			}
			a.metrics.storeUp.WithLabelValues(name).Set(boolGauge(err == nil))
			mu.Lock()
			res.Stores[name] = st
			if err != nil {
				res.Status = "unavailable"
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if a.draining.Load() {
		res.Status = "draining"
	}
	if res.Status != "ready" {
		c.Status(fiber.StatusServiceUnavailable)
	}
	return c.JSON(res)
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

type metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	storeErrors *prometheus.CounterVec
	storeUp     *prometheus.GaugeVec
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "daisuso_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "daisuso_http_request_duration_seconds", Help: "HTTP request latency by method, route pattern and status.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route", "status"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "daisuso_store_errors_total", Help: "Store outages seen by requests and probes, by store.",
		}, []string{"store"}),
		storeUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "daisuso_store_up", Help: "1 if the store answered the last readiness probe.",
		}, []string{"store"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.storeErrors, m.storeUp} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
