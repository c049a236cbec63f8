package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"daisuso/store/storetest"
)

// TestBusyEmbeddedStoreAnswersNo503: on the embedded default with its
// default timeouts, a burst of 50 help requests waits for the store within
// each request's deadline: a 503 means a store that cannot be reached, not
// one that is busy. Under the race detector the server is several times
// slower, so the request deadline (5 s by default) is stretched by as much;
// the store timeout (500 ms, which a pool checkout used to be held to) is
// not.
func TestBusyEmbeddedStoreAnswersNo503(t *testing.T) {
	storetest.Long(t)
	c := startChild(t, map[string]string{"DATA_DIR": t.TempDir(), "LOG_LEVEL": "warn", "RATE_LIMIT_USER": "0", "RATE_LIMIT_IP": "0",
		"REQUEST_TIMEOUT": fmt.Sprintf("%ds", 5*raceSlowdown)})
	admin := c.token("root", "admin", "")
	prov := c.must("/v1/branches", `{"kind":"province","name":"Tỉnh đoàn Lào Cai","province_code":"15"}`, admin)["id"].(string)
	commune := c.must("/v1/branches", fmt.Sprintf(`{"kind":"commune","name":"Đoàn xã Mường Hum","parent_id":%q,"commune_code":"02728"}`, prov), admin)["id"].(string)
	branch := c.must("/v1/branches", fmt.Sprintf(`{"kind":"branch","name":"Chi đoàn thôn Séo Pả","parent_id":%q}`, commune), admin)["id"].(string)
	staff := c.token("staff", "commune_staff", commune)
	c.must("/v1/volunteers", fmt.Sprintf(`{"name":"Lò Thị Mai","phone":"0981111111","branch_id":%q,"location":{"lat":22.5379,"lng":103.7625},
		"languages":["vi"],"topics":["vneid"],"capacity":20,"radius_km":5,"consents":["matching"]}`, branch), c.token("mai", "", ""))
	var hhs []string
	for i := range 50 {
		hhs = append(hhs, c.must("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":103.7625},"members":[{"name":"Lý Thị Hoa","birth_year":1985,"needs":["vneid"],"self_consent":true}],"consents":["matching"]}`,
			commune, 22.5379+float64(i)*0.0005), staff)["id"].(string))
	}
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for _, hh := range hhs {
		wg.Go(func() {
			st, m, err := post(c.base, "/v1/help-requests", fmt.Sprintf(`{"household_id":%q}`, hh), staff)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				statuses[-1]++
				return
			}
			statuses[st]++
			if st == http.StatusServiceUnavailable && statuses[st] == 1 {
				t.Logf("503: %v", m)
			}
		})
	}
	wg.Wait()
	if statuses[http.StatusServiceUnavailable] != 0 || statuses[http.StatusCreated] != 50 {
		t.Fatalf("50 help requests at once: %v, want 50 created and no 503", statuses)
	}
}
