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

		{method: fiber.MethodGet, path: "/public/units", access: public,
			summary:  "Vietnam's official provinces and centrally run cities (34 since 1 July 2025), with codes, names and kinds.",
			response: unitList{}, handler: a.listProvinces},
		{method: fiber.MethodGet, path: "/public/units/:code/communes", access: public,
			summary:  "The official communes, wards and special zones of a province.",
			response: unitList{}, handler: a.listCommunes},
		{method: fiber.MethodGet, path: "/public/units/outlines", access: public,
			summary:  "Commune outlines as GeoJSON (simplified to about 30 m), of a province or of one commune, for maps.",
			query:    []queryParam{{"province", "Official province code (2 digits)."}, {"commune", "Official commune code (5 digits)."}},
			response: outlineCollection{}, handler: a.outlines},

		{method: fiber.MethodGet, path: "/v1/units/communes/:code/union", access: signedIn,
			summary:  "The union of an official commune code (404 when none has been made): the app finds a volunteer's branches from the commune picked in the list.",
			response: branchJSON{}, handler: a.unionOfCommune},

		{method: fiber.MethodPost, path: "/v1/branches", access: roles(admin, branchAdmin), idempotent: true, status: fiber.StatusCreated,
			summary: "Create a union node: a province union (admins), or a commune union, branch or commune technology team inside the caller's subtree. A province or commune union takes its unit's official code (refused if unknown, or of another province) and is named by the official list.",
			body:    branchRequest{}, response: branchJSON{}, handler: a.createBranch},
		{method: fiber.MethodGet, path: "/v1/branches/:id", access: signedIn, summary: "A union node (the hierarchy is public to signed-in users).",
			response: branchJSON{}, handler: a.getBranch},
		{method: fiber.MethodGet, path: "/v1/branches/:id/children", access: signedIn, summary: "A node's children, by id.",
			query: pageQuery, response: branchList{}, handler: a.branchChildren},
		{method: fiber.MethodPut, path: "/v1/branches/:id/targets", access: roles(admin, branchAdmin),
			summary: "Set a commune technology team's targets (its commune or province union's admins): people supported, sessions held, problems solved, VNeID accounts activated, cashless payment set up; per month or over a campaign. The dashboard, CSV and monthly report show the progress.",
			body:    teamTargetsRequest{}, response: teamTargetsJSON{}, handler: a.putTeamTargets},
		{method: fiber.MethodPut, path: "/v1/branches/:id/population", access: roles(admin, branchAdmin),
			summary: "Set a commune's official population (residents, households, the year of the figures) as its commune or province union's admins have it; the public rankings' per-resident rates divide by it and say which communes have none.",
			body:    populationRequest{}, response: populationJSON{}, handler: a.putPopulation},

		{method: fiber.MethodPost, path: "/v1/volunteers", access: rolesOrNew(volunteer, branchAdmin, admin), idempotent: true, status: fiber.StatusCreated,
			summary: "Register a mentor: oneself (a new or volunteer user), or someone else inside a branch admin's subtree. The location becomes an H3 cell; it is not stored.",
			body:    volunteerRequest{}, response: volunteerJSON{}, handler: a.createVolunteer},
		{method: fiber.MethodGet, path: "/v1/volunteers/:id", access: roles(volunteer, branchAdmin, communeStaff, admin),
			summary: "A mentor profile; the phone is masked except for the volunteer, commune staff and admins.", response: volunteerJSON{}, handler: a.getVolunteer},
		{method: fiber.MethodPatch, path: "/v1/volunteers/:id", access: roles(volunteer, branchAdmin, admin),
			summary: "Change a mentor profile; fields left out are kept.", body: volunteerRequest{}, response: volunteerJSON{}, handler: a.patchVolunteer},
		{method: fiber.MethodDelete, path: "/v1/volunteers/:id", access: roles(volunteer, branchAdmin, admin), status: fiber.StatusNoContent,
			summary: "Erase a volunteer and everything held about them.", handler: a.deleteVolunteer},
		{method: fiber.MethodGet, path: "/v1/volunteers/:id/mentees", access: roles(volunteer, branchAdmin, communeStaff, admin),
			summary: "A mentor's matched households and learners.", response: menteeList{}, handler: a.mentees},
		{method: fiber.MethodGet, path: "/v1/volunteers/:id/export", access: roles(volunteer, admin),
			summary: "Everything the service keeps about a volunteer, for them to take away.", response: exportJSON{}, handler: a.exportVolunteer},

		{method: fiber.MethodPost, path: "/v1/households", access: rolesOrNew(household, volunteer, communeStaff, branchAdmin, admin), idempotent: true, status: fiber.StatusCreated,
			summary: "Register a household: by itself, or on its behalf by a volunteer or commune staff. Who registered it is kept.",
			body:    householdRequest{}, response: householdJSON{}, handler: a.createHousehold},
		{method: fiber.MethodGet, path: "/v1/households/:id", access: roles(household, volunteer, communeStaff, branchAdmin, admin),
			summary: "A household with its members; the phone is masked except for the household, commune staff and admins.", response: householdJSON{}, handler: a.getHousehold},
		{method: fiber.MethodPatch, path: "/v1/households/:id", access: roles(household, communeStaff, admin),
			summary: "Change a household; members, when given, replace the list.", body: householdRequest{}, response: householdJSON{}, handler: a.patchHousehold},
		{method: fiber.MethodDelete, path: "/v1/households/:id", access: roles(household, communeStaff, admin), status: fiber.StatusNoContent,
			summary: "Erase a household and everything held about it.", handler: a.deleteHousehold},
		{method: fiber.MethodGet, path: "/v1/households/:id/export", access: roles(household, communeStaff, admin),
			summary: "Everything the service keeps about a household.", response: exportJSON{}, handler: a.exportHousehold},

		{method: fiber.MethodPost, path: "/v1/help-requests", access: roles(household, volunteer, communeStaff, admin), idempotent: true, status: fiber.StatusCreated,
			summary: "Ask for help for some members of a household; matched at once: the mentor with an explanation, or why it waits and what happens next. A member is in one open request at a time: asking again for learners of an open request answers that request (200); asking for some of them with others is a 409 member_in_open_request naming it; a member with no needs is a 422.",
			body:    helpRequestBody{}, response: helpRequestJSON{}, handler: a.createHelpRequest},
		{method: fiber.MethodPost, path: "/v1/matching/runs", access: roles(branchAdmin, admin), status: fiber.StatusCreated,
			summary: "Propose the optimal matching (most learners served, then fewest mentors under five, then least travel) for the waiting requests of a commune, a branch's area or (admins) a list of H3 cells.",
			body:    runRequest{}, response: runJSON{}, handler: a.createRun},
		// 202 with status "computing" when the area takes longer than the request may.
		{method: fiber.MethodGet, path: "/v1/matching/runs/:id", access: roles(branchAdmin, admin),
			summary: "A batch proposal with its summary and status.", response: runJSON{}, handler: a.getRun},
		{method: fiber.MethodPost, path: "/v1/matching/runs/:id/apply", access: roles(branchAdmin, admin),
			summary:  "Apply a proposal (idempotent); pairs made impossible by online matches meanwhile are skipped, never over-assigned.",
			response: runJSON{}, handler: a.applyRun},
		{method: fiber.MethodPost, path: "/v1/matching/runs/:id/discard", access: roles(branchAdmin, admin),
			summary: "Discard a proposal.", response: runJSON{}, handler: a.discardRun},
		{method: fiber.MethodGet, path: "/v1/coverage", access: roles(branchAdmin, communeStaff, admin),
			summary:  "GeoJSON of the H3 cells (res 7 or 8) of an area: households, learners waiting, mentors, free capacity.",
			query:    []queryParam{{"commune_id", "A commune in your area."}, {"branch_id", "Or a branch or province node."}, {"res", "7 or 8 (default 8)."}},
			response: geoJSON{}, handler: a.getCoverage},
		{method: fiber.MethodGet, path: "/public/coverage", access: public,
			summary:  "The public coverage map: resolution-7 cells with aggregates only; cells with fewer than 5 households are left out.",
			query:    []queryParam{{"commune_id", "A commune."}, {"province_id", "Or a province."}},
			response: geoJSON{}, handler: a.publicCoverage},
		{method: fiber.MethodGet, path: "/v1/help-requests", access: roles(communeStaff, branchAdmin, admin),
			summary:  "The queue: waiting requests of a commune or a branch's area, oldest first, with why they wait.",
			query:    append([]queryParam{{"commune_id", "A commune in your area."}, {"branch_id", "Or a branch or province node."}}, pageQuery...),
			response: queueList{}, handler: a.queue},
		{method: fiber.MethodGet, path: "/v1/help-requests/:id", access: roles(household, volunteer, communeStaff, branchAdmin, admin),
			summary: "A help request with its mentor or its place in the queue.", response: helpRequestJSON{}, handler: a.getHelpRequest},

		{method: fiber.MethodPost, path: "/v1/sessions", access: roles(volunteer), idempotent: true, status: fiber.StatusCreated,
			summary: "Schedule a session with learners matched to you; the id is a UUID the phone chooses, so it can be created offline. Sending it again returns it (200).",
			body:    sessionRequest{}, response: sessionJSON{}, handler: a.createSession},
		{method: fiber.MethodPost, path: "/v1/sessions/sync", access: roles(volunteer),
			summary: "Apply up to 200 items logged offline (schedule, check_in, cancel), each exactly once however often sent; one result per item.",
			body:    syncRequest{}, response: syncResponse{}, handler: a.syncSessions},
		{method: fiber.MethodGet, path: "/v1/sessions", access: roles(volunteer, household, communeStaff),
			summary: "My sessions, newest first (up to 50): a volunteer's as mentor (with the confirmation code of those held and waiting), a household's as learners (to confirm), and for commune staff the commune's sessions held and waiting for the code at the desk. The app's home screen.",
			query:   []queryParam{{"limit", "1 to 50 (default 20)."}}, response: sessionList{}, handler: a.mySessions},
		{method: fiber.MethodGet, path: "/v1/sessions/:id", access: roles(volunteer, household, communeStaff, branchAdmin, admin),
			summary: "A session: its mentor, its households, and staff and admins over its commune see it; the mentor also sees the confirmation code.", response: sessionJSON{}, handler: a.getSession},
		{method: fiber.MethodPost, path: "/v1/sessions/:id/check-in", access: roles(volunteer), idempotent: true,
			summary: "The mentor records the session as held: topics covered and outcomes per learner. Overlapping sessions, too many in a day or impossible travel hold it for review.",
			body:    checkInRequest{}, response: sessionJSON{}, handler: a.checkInSession},
		{method: fiber.MethodPost, path: "/v1/sessions/:id/confirm", access: roles(household, volunteer, communeStaff, admin), idempotent: true,
			summary: "The other side confirms: the household in the app, or commune staff with the 6-digit code the mentor gave a learner without a phone. Only then does the session score.",
			body:    confirmRequest{}, response: sessionJSON{}, handler: a.confirmSession},
		{method: fiber.MethodPost, path: "/v1/sessions/:id/cancel", access: roles(volunteer), summary: "Cancel a scheduled session.",
			response: sessionJSON{}, handler: a.cancelSession},
		{method: fiber.MethodPost, path: "/v1/sessions/:id/review", access: roles(branchAdmin, admin),
			summary: "Approve (score) or reject a session held for review.", body: reviewRequest{}, response: sessionJSON{}, handler: a.reviewSession},
		{method: fiber.MethodGet, path: "/v1/households/:id/help-requests", access: roles(household, volunteer, communeStaff, branchAdmin, admin),
			summary:  "A household's help requests, newest first (up to 10): the mentor found (first name, masked phone, how far, why) or why it waits and what happens next.",
			response: helpRequestList{}, handler: a.householdRequests},
		{method: fiber.MethodGet, path: "/v1/households/:id/progress", access: roles(household, volunteer, communeStaff, branchAdmin, admin),
			summary: "Topics each learner of a household completed, who is certified, and whether it is a Gia đình số.", response: progressJSON{}, handler: a.householdProgress},

		{method: fiber.MethodGet, path: "/v1/campaigns", access: signedIn, summary: "The campaigns, the all-time one first, then the newest; a page at a time (limit, cursor).", query: pageQuery,
			response: campaignList{}, handler: a.listCampaigns},
		{method: fiber.MethodPost, path: "/v1/campaigns", access: roles(branchAdmin, admin), idempotent: true, status: fiber.StatusCreated,
			summary: "Launch a campaign over your unit (national ones for national admins): window, multipliers by day, targets. Campaigns do not change once made.",
			body:    campaignRequest{}, response: campaignJSON{}, handler: a.createCampaign},
		{method: fiber.MethodPost, path: "/v1/leaderboards/rebuild", access: roles(admin), status: fiber.StatusAccepted,
			summary: "Start a rebuild of every board from the ledger (it also runs at start when Redis has none); body {\"confirm\": true}. Answers 202 at once with the status; GET the same path to follow it; 409 rebuild_running while one runs.", body: rebuildRequest{}, response: rebuildJSON{}, handler: a.rebuildBoards},
		{method: fiber.MethodGet, path: "/v1/leaderboards/rebuild", access: roles(admin),
			summary: "The last rebuild started: running, done (when it finished, entries read) or failed (timeout, store_unavailable or failed).", response: rebuildJSON{}, handler: a.rebuildStatus},
		{method: fiber.MethodGet, path: "/v1/leaderboards/:campaign", access: signedIn, summary: "The top of a board, ties by id.",
			query: append(boardQuery, queryParam{"limit", "1 to 100 (default 10)."}), response: boardJSON{}, handler: a.leaderboard},
		{method: fiber.MethodGet, path: "/v1/leaderboards/:campaign/me", access: roles(volunteer),
			summary: "Your place (or your branch's or commune's) with two neighbours each side.", query: boardQuery, response: standingJSON{}, handler: a.leaderboardMe},

		{method: fiber.MethodGet, path: "/v1/volunteers/:id/badges", access: signedIn,
			summary: "A volunteer's badges with when and why, points and level.", response: badgeList{}, handler: a.volunteerBadges},
		{method: fiber.MethodPost, path: "/v1/devices", access: signedIn, status: fiber.StatusCreated,
			summary: "Register a push token (or say it was seen again; the app calls this at every start), with its platform and locale. A user keeps at most 10.",
			body:    deviceRequest{}, response: deviceJSON{}, handler: a.registerDevice},
		{method: fiber.MethodDelete, path: "/v1/devices/:token", access: signedIn, status: fiber.StatusNoContent,
			summary: "Drop one of your push tokens (sign-out).", handler: a.dropDevice},
		{method: fiber.MethodGet, path: "/v1/notifications", access: signedIn,
			summary: "Your recent notifications, newest first, in your language, with whether each was sent, digested, redirected to someone who reminds you in person, or is still due.",
			query:   pageQuery, response: notificationList{}, handler: a.listNotifications},
		{method: fiber.MethodPost, path: "/v1/notifications/broadcasts", access: roles(branchAdmin, admin), idempotent: true, status: fiber.StatusAccepted,
			summary: "Send a campaign message to the volunteers (or everyone) of your unit or a unit under it; fanned out to each person within quiet hours and the daily cap. At most 3 per unit a day.",
			body:    broadcastRequest{}, response: broadcastJSON{}, handler: a.createBroadcast},
		{method: fiber.MethodGet, path: "/v1/dashboard/indicators", access: roles(branchAdmin, communeStaff, admin),
			summary: "The dashboard's indicators of your unit (or one under it): mentors with five learners, Gia đình số, certified learners, sessions, waiting requests, per commune and per branch, with weekly trends and the campaign's targets. Aggregates only.",
			query:   indicatorsQuery, response: indicatorsJSON{}, handler: a.getIndicators},
		{method: fiber.MethodGet, path: "/v1/dashboard/indicators.csv", access: roles(branchAdmin, communeStaff, admin),
			summary: "The same indicators as CSV for Excel (UTF-8 with BOM); ?sep=semicolon for a Vietnamese Excel's list separator.",
			query:   append(indicatorsQuery, queryParam{"sep", "comma (default) or semicolon."}), handler: a.getIndicatorsCSV},
		{method: fiber.MethodGet, path: "/dashboard", access: public, summary: "The branch web dashboard (sign-in inside; every asset embedded).",
			handler: a.dashboardFile},
		{method: fiber.MethodGet, path: "/dashboard/config.json", access: public, summary: "How the dashboard signs in: dev tokens, or Firebase with this web API key.",
			response: dashboardConfigJSON{}, handler: a.dashboardConfig},
		{method: fiber.MethodGet, path: "/dashboard/:file", access: public, summary: "The dashboard's files (scripts, styles, the printable commune report).",
			handler: a.dashboardFile},
		{method: fiber.MethodGet, path: "/app", access: public, summary: "The volunteers' and families' mobile web app at /app/ (installable, offline first; every file embedded; its service worker controls /app/).",
			handler: a.appFile},
		{method: fiber.MethodGet, path: "/app/:file", access: public, summary: "The app's files (script, styles, service worker, manifest, icons).",
			handler: a.appFile},
		{method: fiber.MethodGet, path: "/public/rankings", access: public,
			summary:  "Communes or provinces ranked by indicators: share of households that are Gia đình số, certified learners per 1,000 residents (the commune's official figure; rows say when there is none), confirmed sessions in the period; with official names. Aggregates only; communes with fewer than 5 households are left out.",
			query:    []queryParam{{"level", "commune (default) or province."}, {"province", "Only this province's communes (its code)."}, {"period", "week or month (default)."}, {"by", "families (default), certified or sessions."}},
			response: rankingList{}, handler: a.publicRankings},
	}
}

// Short names for the route table.
const (
	admin        = people.RoleAdmin
	branchAdmin  = people.RoleBranchAdmin
	communeStaff = people.RoleCommuneStaff
	volunteer    = people.RoleVolunteer
	household    = people.RoleHousehold
)

var pageQuery = []queryParam{
	{"limit", "Page size, 1 to 200 (default 20)."},
	{"cursor", "The next_cursor of the previous page."},
}

// allRoles is every role a route may name; tests walk it.
var allRoles = people.Roles
