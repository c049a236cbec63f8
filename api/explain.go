package api

import (
	"fmt"
	"strings"

	"daisuso/matching"
)

// explainText words an explanation for the household, in its language.
func explainText(lang, first string, e matching.Explanation) string {
	var b strings.Builder
	if lang == "en" {
		fmt.Fprintf(&b, "%s lives about %.1f km away", first, e.DistanceKm)
		if e.SharedLanguage != "" {
			fmt.Fprintf(&b, " and speaks %s", e.SharedLanguage)
		}
		if len(e.TopicsCovered) > 0 {
			fmt.Fprintf(&b, "; teaches %s", strings.Join(e.TopicsCovered, ", "))
		}
		if e.MentorNeededLearners > 0 {
			fmt.Fprintf(&b, "; needs %d more learners to reach 5", e.MentorNeededLearners)
		}
		return b.String() + "."
	}
	fmt.Fprintf(&b, "%s ở cách khoảng %.1f km", first, e.DistanceKm)
	if e.SharedLanguage != "" {
		fmt.Fprintf(&b, ", nói được tiếng %s", e.SharedLanguage)
	}
	if len(e.TopicsCovered) > 0 {
		fmt.Fprintf(&b, "; hướng dẫn được: %s", strings.Join(e.TopicsCovered, ", "))
	}
	if e.MentorNeededLearners > 0 {
		fmt.Fprintf(&b, "; cần thêm %d người học để đạt \"1 kèm 5\"", e.MentorNeededLearners)
	}
	return b.String() + "."
}
