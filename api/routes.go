package api

import (
	"github.com/gofiber/fiber/v2"

	"daisuso/people"
)

// route is one entry of the API: its path, who may call it, how it is
// described in /openapi.json, and its handler. Every route of the service
// is listed in routes(); register refuses one without an access rule.
type route struct {
	method     string
	path       string
	access     access
	summary    string
	idempotent bool // accepts Idempotency-Key
	devOnly    bool // exists only in dev mode (404 otherwise)
	body       any  // the request body type, for decoding docs
	response   any  // the 2xx response type
	status     int  // the success status; 200 when 0
	query      []queryParam
	handler    fiber.Handler
}

type queryParam struct {
	name, description string
}

// The route table. Keep it in the order of API.md.
func (a *API) routes() []route {
	return []route{
		{method: fiber.MethodGet, path: "/healthz", access: public, summary: "Liveness: the process answers.",
			response: healthResponse{}, handler: a.healthz},
		{method: fiber.MethodGet, path: "/readyz", access: public, summary: "Readiness, with each store's state and ping time; 503 when one is down.",
			response: readyResponse{}, handler: a.readyz},
		{method: fiber.MethodGet, path: "/metrics", access: public, summary: "Prometheus metrics.",
			handler: a.metricsHandler()},
		{method: fiber.MethodGet, path: "/openapi.json", access: public, summary: "This OpenAPI 3.1 description.",
			handler: a.openAPIHandler},
		{method: fiber.MethodPost, path: "/v1/dev/token", access: public, devOnly: true,
			summary: "Dev mode only: a token for any user, created with the given role and branch if new.",
			body:    devTokenRequest{}, response: devTokenResponse{}, handler: a.devToken},
		{method: fiber.MethodGet, path: "/v1/me", access: signedIn, summary: "The signed-in user: role and branch as the service knows them.",
			response: meResponse{}, handler: a.me},
	}
}

// allRoles is every role a route may name; tests walk it.
var allRoles = people.Roles
