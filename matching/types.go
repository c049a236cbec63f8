package matching

import (
	"errors"
	"fmt"
	"time"

	"daisuso/geo"
)

// Quota is the "1 kèm 5" minimum of learners per mentor.
const Quota = 5

// MaxRadiusKm is the widest search; beyond it a request waits in the
// commune technology team's queue.
const MaxRadiusKm = 15.0

// WideningKm are the steps by which an unserved request's radius widens.
var WideningKm = []float64{2, 5, 10, 15}

var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid request")
	// ErrDecided: the batch run was applied or discarded already.
	ErrDecided = errors.New("run already decided")
	// ErrIDReused: a request was submitted under the id of another
	// household's.
	ErrIDReused = errors.New("request id reused for another household")
)

// Mentor is what matching knows of a volunteer: where (a cell), how far
// they go, what they speak and teach, how many they take. No name, no phone.
type Mentor struct {
	ID        string
	CommuneID string
	BranchID  string
	Cell      geo.Cell // home cell at geo.HomeResolution
	RadiusKm  float64
	Languages []string
	Topics    []string
	Capacity  int
	Paused    bool
	PausedAt  time.Time
}

// Request asks for a mentor for some learners of one household (who all go
// to one mentor).
type Request struct {
	ID          string
	HouseholdID string
	CommuneID   string
	RequestedBy string
	Cell        geo.Cell
	// Members are the learners' indexes among the household's members;
	// a member is in one open (waiting or matched) request at a time.
	// Empty: the first Learners members.
	Members  []int
	Learners int
	// Language is the learners' language; when LanguageRequired (they do
	// not speak Vietnamese), only a mentor who speaks it can serve them.
	Language         string
	LanguageRequired bool
	Topics           []string
	RadiusKm         float64
	CreatedAt        time.Time
}

// Explanation says why a mentor was chosen, in facts the app words.
type Explanation struct {
	DistanceKm       float64 // rounded to 0.1 km (100 m)
	Rings            int     // H3 rings between the two cells at resolution 8
	SearchRadiusKm   float64 // the radius the request had reached
	SharedLanguage   string  // "" if none
	LanguageRequired bool
	TopicsCovered    []string
	TopicsMissing    []string
	// MentorNeededLearners is how many learners the mentor lacked to reach
	// five before this match (0: the mentor had five already).
	MentorNeededLearners int
}

// Assignment is a request served by a mentor.
type Assignment struct {
	RequestID   string
	MentorID    string
	HouseholdID string
	CommuneID   string
	Learners    int
	DistanceKm  float64
	Slots       []int
	Explanation Explanation
	Source      string // "online" or "run:<id>"
	CreatedAt   time.Time
}

// Reasons a request is not served.
const (
	ReasonNoMentor   = "no_mentor_in_reach"
	ReasonAllFull    = "all_mentors_full"
	ReasonNoLanguage = "no_mentor_speaks_language"
	NextStepCommune  = "waiting_in_commune_queue"
	StateMatched     = "matched"
	StateWaiting     = "waiting"
)

// Unserved says why a request waits and what happens next.
type Unserved struct {
	Reason         string
	NextStep       string
	TriedRadiiKm   []float64
	MentorsInReach int // not paused, within both radii
}

// Outcome is a request with what became of it.
type Outcome struct {
	Request    Request
	State      string
	Assignment *Assignment
	Unserved   *Unserved
	// Existing: Submit found every learner already in this open request
	// of theirs, and wrote nothing.
	Existing bool
}

// OpenRequestError refuses a request for members of whom some are in
// another open request already (RequestID), and not all of them: asking
// again for the same learners answers the open request instead.
type OpenRequestError struct {
	RequestID string
	Members   []int // the members of the new request already in it
}

func (e *OpenRequestError) Error() string {
	return fmt.Sprintf("members %v are in open request %s", e.Members, e.RequestID)
}
