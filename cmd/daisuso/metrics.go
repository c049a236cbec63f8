package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"daisuso/notify"
)

// registerNotifyMetrics exposes the push worker's totals and the queue's
// length on /metrics.
func registerNotifyMetrics(reg *prometheus.Registry, s *notify.Service) error {
	counter := func(name, help string, f func(notify.Stats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "daisuso_push_" + name + "_total", Help: help},
			func() float64 { return float64(f(s.Stats())) })
	}
	cs := []prometheus.Collector{
		counter("messages", "Messages handed to FCM (one per device).", func(st notify.Stats) int64 { return st.Messages }),
		counter("retried", "Notifications put back after a 429, 500, 503 or timeout.", func(st notify.Stats) int64 { return st.Retried }),
		counter("tokens_dropped", "Dead tokens deleted on FCM's word.", func(st notify.Stats) int64 { return st.TokensDropped }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "daisuso_push_queue", Help: "Notifications waiting in the queue, due or not (-1: Redis unreachable)."},
			func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				n, err := s.Pending(ctx)
				if err != nil {
					return -1
				}
				return float64(n)
			}),
	}
	for _, st := range notify.Final {
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "daisuso_push_outcomes_total",
			Help: "Notifications by the state they ended in.", ConstLabels: prometheus.Labels{"state": string(st)}},
			func() float64 { return float64(s.Stats().Outcomes[st]) }))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
